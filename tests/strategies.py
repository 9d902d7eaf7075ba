"""Hypothesis strategies for SIP text, following the RFC 3261 section 25 grammar.

Every strategy draws a *model*: the wire text together with the typed fields a parser must
recover from it (``GenURI``, ``GenNameAddr``, ``GenVia``, ``GenCSeq``, ``GenMessage``). Text
is kept as a tuple of pieces in which :class:`Ws` marks each place where the grammar allows
linear white space (RFC 3261 7.3.1, 25.1 SWS/LWS/SEMI/COMMA/SLASH/COLON/LAQUOT/RAQUOT), so the
same value can be written plainly or with extra white space and line folding while the typed
fields stay the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

#: ``(name, value)`` pairs in wire order; ``None`` for a flag such as ``lr``.
Params = tuple[tuple[str, str | None], ...]


def parsed_params(params: Params) -> tuple[tuple[str, str], ...]:
    """What the parser returns for generated ``params``: a flag's value is ``""``."""
    return tuple((name, "" if value is None else value) for name, value in params)


#: shared settings: no example database (keeps the work tree clean), no deadline
BASE = settings(
    deadline=None,
    # no "explain" phase: its line tracer makes shrinking a large message take minutes
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------------------------
# character classes (RFC 3261 25.1)
ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DIGIT = "0123456789"
ALPHANUM = ALPHA + DIGIT
HEX = "0123456789ABCDEFabcdef"
MARK = "-_.!~*'()"
UNRESERVED = ALPHANUM + MARK
TOKEN_CHARS = ALPHANUM + "-.!%*_+`'~"
USER_UNRESERVED = "&=+$,;?/"
PASSWORD_EXTRA = "&=+$,"
PARAM_UNRESERVED = "[]/:&+$"
HNV_UNRESERVED = "[]/?:+$"
#: Call-ID ``word`` characters (RFC 3261 25.1)
WORD_CHARS = ALPHANUM + "-.!%*_+`'~()<>:\\\"/[]?{}"
#: Reason-Phrase: reserved / unreserved (``escaped`` is added separately)
REASON_CHARS = ";/?:@&=+$," + UNRESERVED
#: TEXT-UTF8char in the ASCII range: %x21-7E
VISIBLE_ASCII = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass(frozen=True)
class Ws:
    """A place where the grammar allows white space; ``plain`` is what the plain form writes."""

    plain: str = ""
    required: bool = False
    """LWS (at least one SP/HTAB) rather than SWS."""


Piece = str | Ws
Text = tuple[Piece, ...]

SWS = Ws()
LWS = Ws(" ", required=True)

_SWS_CHOICES = ("", " ", "\t", "  ", " \t")
_LWS_CHOICES = (" ", "\t", "  ", " \t ")
_FOLDS = ("\r\n ", "\r\n\t", " \r\n ", "\t\r\n \t")


def plain(text: Text) -> str:
    """The text with every white-space slot written in its plain form."""
    return "".join(p if isinstance(p, str) else p.plain for p in text)


def ws_strategy(ws: Ws, *, fold: bool) -> st.SearchStrategy[str]:
    """White space allowed at ``ws``; ``fold`` allows line folding (CRLF followed by WSP)."""
    choices: tuple[str, ...] = _LWS_CHOICES if ws.required else _SWS_CHOICES
    if fold:
        choices += _FOLDS
    return st.sampled_from(choices)


def fancy(draw: st.DrawFn, text: Text, *, fold: bool) -> str:
    """The text with each white-space slot drawn from what the grammar allows."""
    return "".join(p if isinstance(p, str) else draw(ws_strategy(p, fold=fold)) for p in text)


@st.composite
def fancy_text(draw: st.DrawFn, text: Text, fold: bool = False) -> str:
    """:func:`fancy` as a strategy."""
    return fancy(draw, text, fold=fold)


def _chars(alphabet: str, min_size: int = 1, max_size: int = 10) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)


def escaped() -> st.SearchStrategy[str]:
    """``escaped = "%" HEXDIG HEXDIG``."""
    return st.tuples(st.sampled_from(HEX), st.sampled_from(HEX)).map(lambda t: "%" + "".join(t))


def _with_escapes(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    # one character in five is an escape: enough to exercise %HH without drowning the text
    char = st.sampled_from(alphabet)
    unit = st.one_of(char, char, char, char, escaped())
    return st.lists(unit, min_size=min_size, max_size=max_size).map("".join)


def tokens(max_size: int = 10) -> st.SearchStrategy[str]:
    """``token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")``."""
    return _chars(TOKEN_CHARS, 1, max_size)


def methods() -> st.SearchStrategy[str]:
    """``Method``: the RFC 3261 methods, common extensions, or any ``extension-method`` token."""
    known = st.sampled_from(
        ["INVITE", "ACK", "OPTIONS", "BYE", "CANCEL", "REGISTER", "PRACK", "SUBSCRIBE",
         "NOTIFY", "REFER", "INFO", "UPDATE", "MESSAGE"]
    )  # fmt: skip
    return st.one_of(known, tokens())


# ---------------------------------------------------------------------------------------------
# hosts and ports (RFC 3261 25.1 hostport)
def _label(first: str) -> st.SearchStrategy[str]:
    # domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum (toplabel starts with ALPHA)
    middle = _chars(ALPHANUM + "-", 0, 6)
    return st.one_of(
        st.sampled_from(first),
        st.tuples(st.sampled_from(first), middle, st.sampled_from(ALPHANUM)).map("".join),
    )


def hostnames() -> st.SearchStrategy[str]:
    """``hostname = *( domainlabel "." ) toplabel [ "." ]``."""
    return st.tuples(
        st.lists(_label(ALPHANUM), max_size=3), _label(ALPHA), st.sampled_from(["", "", "", "."])
    ).map(lambda t: ".".join([*t[0], t[1]]) + t[2])


def ipv4_addresses() -> st.SearchStrategy[str]:
    """``IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT`` (no leading zeros)."""
    return st.lists(st.integers(0, 255), min_size=4, max_size=4).map(
        lambda parts: ".".join(map(str, parts))
    )


def ipv6_addresses() -> st.SearchStrategy[str]:
    """``IPv6address``, compressed or exploded, in lower or upper case."""

    def spell(t: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, bool, bool]) -> str:
        text = t[0].exploded if t[1] else t[0].compressed
        return text.upper() if t[2] else text

    return st.tuples(st.ip_addresses(v=6), st.booleans(), st.booleans()).map(spell)


def ipv6_references() -> st.SearchStrategy[str]:
    """``IPv6reference = "[" IPv6address "]"``."""
    return ipv6_addresses().map(lambda a: f"[{a}]")


def hosts() -> st.SearchStrategy[str]:
    """``host = hostname / IPv4address / IPv6reference``."""
    return st.one_of(hostnames(), ipv4_addresses(), ipv6_references())


def ports() -> st.SearchStrategy[int]:
    """``port = 1*DIGIT``, within 0..65535, with common values favoured."""
    return st.one_of(st.sampled_from([5060, 5061, 5080]), st.integers(0, 65535))


# ---------------------------------------------------------------------------------------------
# URIs (RFC 3261 19.1, 25.1 SIP-URI / SIPS-URI; RFC 3966 tel)
@dataclass(frozen=True)
class GenURI:
    """A generated URI: its text and the fields ``URI.parse`` must return."""

    text: str
    scheme: str
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()

    def fields(self) -> tuple[object, ...]:
        """The fields in the order of :func:`uri_fields` in the tests."""
        return (
            self.scheme, self.user, self.password, self.host, self.port, parsed_params(self.params),
            self.headers,
        )  # fmt: skip


def _scheme_spelling(scheme: str) -> st.SearchStrategy[str]:
    # RFC 3261 19.1.4: scheme names are case-insensitive
    return st.sampled_from([scheme, scheme, scheme, scheme.upper(), scheme.capitalize()])


def users() -> st.SearchStrategy[str]:
    """``user = 1*( unreserved / escaped / user-unreserved )``."""
    return _with_escapes(UNRESERVED + USER_UNRESERVED, 1, 10)


def passwords() -> st.SearchStrategy[str]:
    """``password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )``."""
    return _with_escapes(UNRESERVED + PASSWORD_EXTRA, 0, 8)


def _paramchars(min_size: int = 1) -> st.SearchStrategy[str]:
    # RFC 3261 25.1: a paramchar is a param-unreserved, an unreserved or an escaped char
    return _with_escapes(PARAM_UNRESERVED + UNRESERVED, min_size, 8)


def uri_params() -> st.SearchStrategy[Params]:
    """``uri-parameters``: transport, user, method, ttl, maddr, lr and other-param."""
    param: st.SearchStrategy[tuple[str, str | None]] = st.one_of(
        st.tuples(st.just("transport"), st.sampled_from(["udp", "tcp", "TLS", "sctp", "ws"])),
        st.tuples(st.just("user"), st.sampled_from(["phone", "ip", "dialstring"])),
        st.tuples(st.just("method"), methods()),
        st.tuples(st.just("ttl"), st.integers(0, 255).map(str)),
        st.tuples(st.just("maddr"), hosts()),
        st.tuples(st.sampled_from(["lr", "LR"]), st.sampled_from([None, None, "on", "true"])),
        st.tuples(_paramchars(), st.one_of(st.none(), _paramchars())),
    )
    return st.lists(param, max_size=4).map(tuple)


def uri_headers() -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """``headers = "?" header *( "&" header )``, ``header = hname "=" hvalue``."""
    hname = _with_escapes(HNV_UNRESERVED + UNRESERVED, 1, 8)
    hvalue = _with_escapes(HNV_UNRESERVED + UNRESERVED, 0, 8)
    return st.lists(st.tuples(hname, hvalue), max_size=3).map(tuple)


def _uri_params_text(params: Params) -> str:
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


@st.composite
def sip_uris(draw: st.DrawFn, with_headers: bool = True) -> GenURI:
    """``SIP-URI`` / ``SIPS-URI``: userinfo, hostport, uri-parameters and headers."""
    scheme = draw(st.sampled_from(["sip", "sip", "sips"]))
    user = draw(st.one_of(st.none(), users()))
    password = None if user is None else draw(st.one_of(st.none(), st.none(), passwords()))
    host = draw(hosts())
    port = draw(st.one_of(st.none(), ports()))
    params = draw(uri_params())
    headers = draw(uri_headers()) if with_headers else ()
    userinfo = "" if user is None else (user if password is None else f"{user}:{password}") + "@"
    text = draw(_scheme_spelling(scheme)) + ":" + userinfo + host
    text += "" if port is None else f":{port}"
    text += _uri_params_text(params)
    text += "?" + "&".join(f"{n}={v}" for n, v in headers) if headers else ""
    return GenURI(text, scheme, user, password, host, port, params, headers)


@st.composite
def tel_uris(draw: st.DrawFn) -> GenURI:
    """RFC 3966 ``telephone-uri``: global or local number and parameters."""
    digits = st.lists(st.sampled_from(DIGIT + DIGIT + "-.()"), max_size=10).map("".join)
    body = draw(digits) + draw(st.sampled_from(DIGIT))
    is_global = draw(st.booleans())
    number = "+" + body if is_global else body
    params: list[tuple[str, str | None]] = []
    if not is_global:
        # RFC 3966 5.1.5: a local number MUST carry phone-context
        context = draw(st.one_of(hostnames(), st.integers(1, 999).map(lambda n: f"+{n}")))
        params.append(("phone-context", context))
    params += draw(
        st.lists(
            st.one_of(
                st.tuples(st.just("ext"), st.integers(0, 99999).map(str)),
                st.tuples(st.just("isub"), _paramchars()),
                st.tuples(_chars(ALPHANUM + "-", 1, 8), st.one_of(st.none(), _paramchars())),
            ),
            max_size=2,
        )
    )
    text = draw(_scheme_spelling("tel")) + ":" + number + _uri_params_text(tuple(params))
    return GenURI(text, "tel", number, params=tuple(params))


def uris(with_headers: bool = True) -> st.SearchStrategy[GenURI]:
    """A SIP, SIPS or tel URI (``with_headers`` allows ``?headers`` in SIP URIs)."""
    return st.one_of(sip_uris(with_headers), sip_uris(with_headers), tel_uris())


def request_uris() -> st.SearchStrategy[GenURI]:
    """``Request-URI``: a SIP/SIPS URI without headers, or a tel URI."""
    return st.one_of(sip_uris(False), sip_uris(False), tel_uris())


# ---------------------------------------------------------------------------------------------
# header parameters, quoted strings, name-addr (RFC 3261 20.10, 25.1)
@st.composite
def quoted_strings(draw: st.DrawFn) -> tuple[str, str]:
    """``quoted-string``: ``(wire text with quotes, content with escapes resolved)``.

    ``qdtext`` is SP, ``%x21 / %x23-5B / %x5D-7E`` or UTF8-NONASCII; ``quoted-pair`` escapes
    any character, and ``"`` and ``\\`` must be escaped.
    """
    char = st.one_of(
        st.sampled_from(" " + VISIBLE_ASCII),
        st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
    )
    chars = draw(st.lists(st.tuples(char, st.integers(0, 9)), max_size=12))
    out = []
    for c, roll in chars:
        must = c in '"\\'
        out.append("\\" + c if must or (roll == 0 and c.isascii()) else c)
    return '"' + "".join(out) + '"', "".join(c for c, _ in chars)


def gen_values() -> st.SearchStrategy[str]:
    """``gen-value = token / host / quoted-string``."""
    return st.one_of(tokens(), hosts(), quoted_strings().map(lambda q: q[0]))


def generic_params(exclude: Sequence[str] = ("tag",)) -> st.SearchStrategy[Params]:
    """``*( SEMI generic-param )`` whose names avoid ``exclude`` (case-insensitive)."""
    lowered = {e.lower() for e in exclude}
    name = tokens(8).filter(lambda n: n.lower() not in lowered)
    return st.lists(st.tuples(name, st.one_of(st.none(), gen_values())), max_size=3).map(tuple)


def params_text(params: Params) -> Text:
    """``*( SEMI name [ EQUAL value ] )`` with SWS around ``;`` and ``=``."""
    out: list[Piece] = []
    for name, value in params:
        out += [SWS, ";", SWS, name]
        if value is not None:
            out += [SWS, "=", SWS, value]
    return tuple(out)


@dataclass(frozen=True)
class GenNameAddr:
    """A generated From/To/Contact/Route value and the fields ``NameAddr.parse`` must return."""

    pieces: Text
    display_name: str | None
    uri: GenURI
    params: Params

    def __repr__(self) -> str:
        return f"GenNameAddr({self.text!r})"

    @property
    def text(self) -> str:
        """The plain form."""
        return plain(self.pieces)

    @property
    def tag(self) -> str | None:
        """The ``tag`` parameter the generator put in."""
        return next((v or "" for n, v in self.params if n.lower() == "tag"), None)


@st.composite
def display_names(draw: st.DrawFn) -> tuple[Text, str | None]:
    """``[ display-name ]`` before ``LAQUOT``: quoted-string, ``*(token LWS)`` or none."""
    kind = draw(st.sampled_from(["none", "quoted", "quoted", "tokens"]))
    if kind == "quoted":
        wire, content = draw(quoted_strings())
        return (wire, SWS), content
    if kind == "tokens":
        words = " ".join(draw(st.lists(tokens(8), min_size=1, max_size=3)))
        return (words, LWS), words
    return (), None


@st.composite
def name_addrs(
    draw: st.DrawFn,
    uri_strategy: st.SearchStrategy[GenURI] | None = None,
    tag: bool | None = None,
    extra: st.SearchStrategy[Params] | None = None,
    bare: bool = True,
) -> GenNameAddr:
    """``( name-addr / addr-spec ) *( SEMI param )``.

    ``tag``: True adds a ``tag``, False leaves it out, None chooses. ``bare`` allows the
    ``addr-spec`` form, used only where RFC 3261 20.10 allows it (no ``,``, ``;`` or ``?``).
    """
    uri = draw(uri_strategy if uri_strategy is not None else uris())
    params = list(draw(extra if extra is not None else generic_params()))
    if tag is None:
        tag = draw(st.booleans())
    if tag:
        where = draw(st.integers(0, len(params)))
        params.insert(where, (draw(st.sampled_from(["tag", "tag", "TAG"])), draw(tokens())))
    display, name = draw(display_names())
    can_be_bare = bare and name is None and not any(c in uri.text for c in ",;?")
    if can_be_bare and draw(st.booleans()):
        pieces: Text = (uri.text,)
    else:
        pieces = (*display, "<", uri.text, ">")
    return GenNameAddr((*pieces, *params_text(tuple(params))), name, uri, tuple(params))


def contact_params() -> st.SearchStrategy[Params]:
    """``contact-params``: ``q``, ``expires`` and generic parameters."""
    known = st.one_of(
        st.tuples(st.just("q"), st.sampled_from(["0", "0.5", "1", "1.0", "0.001"])),
        st.tuples(st.just("expires"), st.integers(0, 2**32 - 1).map(str)),
        st.tuples(st.just("+sip.instance"), st.just('"<urn:uuid:f81d4fae-7dec-11d0>"')),
    )
    return st.tuples(st.lists(known, max_size=2), generic_params()).map(lambda t: (*t[0], *t[1]))


# ---------------------------------------------------------------------------------------------
# Via and CSeq (RFC 3261 20.42, 20.16)
@dataclass(frozen=True)
class GenVia:
    """A generated Via value and the fields ``Via.parse`` must return."""

    pieces: Text
    protocol: str
    transport: str
    host: str
    port: int | None
    params: Params

    def __repr__(self) -> str:
        return f"GenVia({self.text!r})"

    @property
    def text(self) -> str:
        """The plain form."""
        return plain(self.pieces)

    @property
    def branch(self) -> str | None:
        """The ``branch`` parameter the generator put in."""
        return next((v or "" for n, v in self.params if n.lower() == "branch"), None)


def branches() -> st.SearchStrategy[str]:
    """An RFC 3261 8.1.1.7 branch: the magic cookie and a token."""
    return tokens().map(lambda t: "z9hG4bK" + t)


@st.composite
def vias(draw: st.DrawFn, branch: bool = True) -> GenVia:
    """``via-parm = sent-protocol LWS sent-by *( SEMI via-params )``."""
    transport = draw(st.sampled_from(["UDP", "TCP", "TLS", "SCTP", "WS", "udp"]))
    host = draw(hosts())
    port = draw(st.one_of(st.none(), ports()))
    params: list[tuple[str, str | None]] = list(
        draw(
            st.lists(
                st.one_of(
                    st.tuples(st.just("received"), st.one_of(ipv4_addresses(), ipv6_addresses())),
                    st.tuples(st.just("rport"), st.one_of(st.none(), ports().map(str))),
                    st.tuples(st.just("ttl"), st.integers(0, 255).map(str)),
                    st.tuples(st.just("maddr"), hosts()),
                ),
                max_size=3,
            )
        )
    )
    params += draw(generic_params(exclude=("branch", "received", "rport", "ttl", "maddr")))
    if branch:
        params.insert(draw(st.integers(0, len(params))), ("branch", draw(branches())))
    sent_by: list[Piece] = [host]
    if port is not None:
        sent_by += [SWS, ":", SWS, str(port)]
    pieces: Text = (
        "SIP", SWS, "/", SWS, "2.0", SWS, "/", SWS, transport, LWS, *sent_by,
        *params_text(tuple(params)),
    )  # fmt: skip
    return GenVia(pieces, "SIP/2.0", transport, host, port, tuple(params))


@dataclass(frozen=True)
class GenCSeq:
    """A generated CSeq value."""

    pieces: Text
    number: int
    method: str

    def __repr__(self) -> str:
        return f"GenCSeq({self.text!r})"

    @property
    def text(self) -> str:
        """The plain form."""
        return plain(self.pieces)


def cseqs(method: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[GenCSeq]:
    """``CSeq = 1*DIGIT LWS Method`` with the number below 2**31 (RFC 3261 8.1.1.5)."""
    number = st.one_of(st.integers(0, 2**31 - 1), st.sampled_from([0, 1, 2**31 - 1]))
    return st.tuples(number, method if method is not None else methods()).map(
        lambda t: GenCSeq((str(t[0]), LWS, t[1]), t[0], t[1])
    )


# ---------------------------------------------------------------------------------------------
# whole messages (RFC 3261 7)
COMPACT = {
    "Call-ID": "i", "From": "f", "To": "t", "Via": "v", "Contact": "m",
    "Content-Length": "l", "Content-Type": "c", "Supported": "k",
}  # fmt: skip


@dataclass(frozen=True)
class HeaderLine:
    """One header line: canonical name and the value as pieces."""

    name: str
    value: Text


@dataclass(frozen=True)
class GenMessage:
    """A generated request or response and the typed fields its parse must have."""

    start_line: str
    method: str | None
    request_uri: GenURI | None
    status_code: int | None
    reason: str | None
    call_id: str
    from_: GenNameAddr
    to: GenNameAddr
    cseq: GenCSeq
    via_lines: tuple[tuple[GenVia, ...], ...]
    contact_lines: tuple[tuple[GenNameAddr, ...], ...]
    rr_lines: tuple[tuple[GenNameAddr, ...], ...]
    max_forwards: int | None
    supported: tuple[str, ...] | None
    extras: tuple[tuple[str, str], ...]
    body: bytes
    lines: tuple[HeaderLine, ...]

    def __repr__(self) -> str:
        return f"GenMessage({self.plain_bytes()!r})"

    @property
    def is_request(self) -> bool:
        """True for a request."""
        return self.method is not None

    @property
    def vias(self) -> tuple[GenVia, ...]:
        """Every Via value, top first."""
        return tuple(v for line in self.via_lines for v in line)

    @property
    def contacts(self) -> tuple[GenNameAddr, ...]:
        """Every Contact value in order."""
        return tuple(c for line in self.contact_lines for c in line)

    @property
    def record_route(self) -> tuple[GenNameAddr, ...]:
        """Every Record-Route value in order."""
        return tuple(r for line in self.rr_lines for r in line)

    @property
    def has_content_length(self) -> bool:
        """True when a Content-Length line was written."""
        return any(line.name == "Content-Length" for line in self.lines)

    def plain_bytes(self) -> bytes:
        """The message in its plain form: ``Name: value`` lines, no folding."""
        head = self.start_line + "\r\n"
        head += "".join(f"{line.name}: {plain(line.value)}\r\n" for line in self.lines)
        return (head + "\r\n").encode() + self.body


def _comma_list(values: Sequence[Text]) -> Text:
    out: list[Piece] = []
    for i, value in enumerate(values):
        if i:
            out += [SWS, ",", Ws(" ")]
        out += value
    return tuple(out)


@st.composite
def _grouped(draw: st.DrawFn, items: Sequence[GenVia | GenNameAddr]) -> list[list[int]]:
    # split the values over header lines: RFC 3261 7.3.1 allows one line per value or a
    # comma-separated list, with the same meaning
    groups: list[list[int]] = []
    for i in range(len(items)):
        if not groups or draw(st.booleans()):
            groups.append([])
        groups[-1].append(i)
    return groups


def reason_phrases() -> st.SearchStrategy[str]:
    """``Reason-Phrase``: words of reserved/unreserved/escaped/UTF8-NONASCII, single spaces."""
    unit = st.one_of(
        st.sampled_from(REASON_CHARS),
        escaped(),
        st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
    )
    word = st.lists(unit, min_size=1, max_size=8).map("".join)
    common = st.sampled_from(["OK", "Ringing", "Not Found", "Session Progress", "Trying"])
    return st.one_of(common, st.lists(word, max_size=3).map(" ".join))


def call_ids() -> st.SearchStrategy[str]:
    """``callid = word [ "@" word ]``."""
    word = _chars(WORD_CHARS, 1, 12)
    return st.tuples(word, st.one_of(st.none(), word)).map(
        lambda t: t[0] if t[1] is None else f"{t[0]}@{t[1]}"
    )


def extension_headers() -> st.SearchStrategy[tuple[str, str]]:
    """``extension-header = header-name HCOLON header-value`` under an ``X-`` name."""
    char = st.one_of(
        st.sampled_from(VISIBLE_ASCII),
        st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
    )
    word = st.lists(char, min_size=1, max_size=10).map("".join)
    return st.tuples(tokens(8).map(lambda t: "X-" + t), st.lists(word, max_size=4).map(" ".join))


def bodies() -> st.SearchStrategy[bytes]:
    """No body, an SDP body, or arbitrary octets (including CRLFCRLF and NULs)."""
    sdp = st.tuples(ipv4_addresses(), st.integers(1024, 65535)).map(
        lambda t: (
            f"v=0\r\no=- 1 1 IN IP4 {t[0]}\r\ns=-\r\nc=IN IP4 {t[0]}\r\nt=0 0\r\n"
            f"m=audio {t[1]} RTP/AVP 0\r\n"
        ).encode()
    )
    return st.one_of(st.just(b""), st.just(b""), sdp, st.binary(min_size=1, max_size=200))


@st.composite
def _order(draw: st.DrawFn, lines: list[HeaderLine]) -> tuple[HeaderLine, ...]:
    # RFC 3261 7.3.1: "The relative order of header fields with different field names is not
    # significant"; lines of one name keep their relative order.
    if not draw(st.booleans()):
        return tuple(lines)
    perm = draw(st.permutations(range(len(lines))))
    queues: dict[str, list[HeaderLine]] = {}
    for line in lines:
        queues.setdefault(line.name.lower(), []).append(line)
    return tuple(queues[lines[i].name.lower()].pop(0) for i in perm)


@st.composite
def messages(
    draw: st.DrawFn, kind: str | None = None, content_length: bool | None = None
) -> GenMessage:
    """A request or response (``kind``: "request", "response" or None for either).

    It has 1-3 Via, From with a tag, To with or without one, Call-ID, CSeq (whose method is
    the request's), Max-Forwards in requests, Contact, 0-3 Record-Route, unknown extension
    headers and an optional body; Content-Length is right when present (``content_length``
    None: usually present).
    """
    if kind is None:
        kind = draw(st.sampled_from(["request", "response"]))
    is_request = kind == "request"
    method: str | None = None
    uri: GenURI | None = None
    status: int | None = None
    reason: str | None = None
    if is_request:
        method = draw(methods())
        uri = draw(request_uris())
        start = f"{method} {uri.text} SIP/2.0"
        cseq = draw(cseqs(st.just(method)))
    else:
        status = draw(st.one_of(st.sampled_from([100, 180, 183, 200, 487]), st.integers(100, 699)))
        reason = draw(reason_phrases())
        start = f"SIP/2.0 {status} {reason}"
        cseq = draw(cseqs())

    via_list = draw(st.lists(vias(), min_size=1, max_size=3))
    from_ = draw(name_addrs(tag=True))
    to = draw(name_addrs(tag=None if is_request else draw(st.booleans())))
    call_id = draw(call_ids())
    max_forwards = (
        draw(st.integers(0, 255))
        if is_request
        else draw(st.one_of(st.none(), st.none(), st.integers(0, 255)))
    )
    contact_list = draw(
        st.lists(
            name_addrs(tag=False, extra=contact_params()),
            min_size=1 if is_request else 0,
            max_size=2,
        )
    )
    rr_list = draw(
        st.lists(name_addrs(sip_uris(with_headers=False), tag=False, bare=False), max_size=3)
    )
    supported = draw(st.one_of(st.none(), st.lists(tokens(8), min_size=1, max_size=3).map(tuple)))
    extras = tuple(draw(st.lists(extension_headers(), max_size=3)))
    body = draw(bodies())
    if content_length is None:
        content_length = draw(st.integers(0, 9)) > 0

    lines: list[HeaderLine] = []
    via_groups = draw(_grouped(via_list))
    via_lines = tuple(tuple(via_list[i] for i in g) for g in via_groups)
    lines += [HeaderLine("Via", _comma_list([v.pieces for v in g])) for g in via_lines]
    lines += [
        HeaderLine("From", from_.pieces),
        HeaderLine("To", to.pieces),
        HeaderLine("Call-ID", (call_id,)),
        HeaderLine("CSeq", cseq.pieces),
    ]
    if max_forwards is not None:
        lines.append(HeaderLine("Max-Forwards", (str(max_forwards),)))
    contact_lines = tuple(tuple(contact_list[i] for i in g) for g in draw(_grouped(contact_list)))
    lines += [HeaderLine("Contact", _comma_list([c.pieces for c in g])) for g in contact_lines]
    rr_lines = tuple(tuple(rr_list[i] for i in g) for g in draw(_grouped(rr_list)))
    lines += [HeaderLine("Record-Route", _comma_list([r.pieces for r in g])) for g in rr_lines]
    if supported is not None:
        lines.append(HeaderLine("Supported", _comma_list([(t,) for t in supported])))
    lines += [HeaderLine(name, (value,)) for name, value in extras]
    if body:
        ctype = draw(st.sampled_from(["application/sdp", "application/octet-stream"]))
        lines.append(HeaderLine("Content-Type", (ctype,)))
    if content_length:
        lines.append(HeaderLine("Content-Length", (str(len(body)),)))
    return GenMessage(
        start, method, uri, status, reason, call_id, from_, to, cseq, via_lines,
        contact_lines, rr_lines, max_forwards, supported, extras, body, draw(_order(lines)),
    )  # fmt: skip


def _identity(text: str) -> str:
    return text


_CASES: list[Callable[[str], str]] = [_identity, _identity, str.lower, str.upper, str.swapcase]


@st.composite
def fancy_bytes(draw: st.DrawFn, msg: GenMessage) -> bytes:
    """``msg`` written another legal way (RFC 3261 7.3.1, 7.3.3).

    Compact names, any case of names, white space before and after ``HCOLON``, extra LWS/SWS
    and line folding, leading zeros in Content-Length.
    """
    out = [msg.start_line, "\r\n"]
    for line in msg.lines:
        name = line.name
        compact = COMPACT.get(name)
        if compact is not None and draw(st.booleans()):
            name = compact
        name = draw(st.sampled_from(_CASES))(name)
        value = fancy(draw, line.value, fold=True)
        if name.lower() in ("content-length", "l"):
            value = "0" * draw(st.integers(0, 3)) + value
        # HCOLON = *( SP / HTAB ) ":" SWS; no folding over an empty value
        before = draw(st.sampled_from(["", "", " ", "\t", " \t"]))
        after = draw(ws_strategy(Ws(" "), fold=bool(value)))
        out += [name, before, ":", after, value, "\r\n"]
    return ("".join(out) + "\r\n").encode() + msg.body


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut into consecutive pieces of drawn sizes (1 octet up to all of it)."""
    sizes = draw(
        st.lists(
            st.one_of(st.integers(1, 8), st.integers(1, max(1, len(data)))),
            min_size=1,
            max_size=16,
        )
    )
    out, pos, i = [], 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        out.append(data[pos : pos + size])
        pos, i = pos + size, i + 1
    return out
