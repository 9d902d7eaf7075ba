"""Typed header values a dialog layer reads: name-addr, Via, CSeq, RAck, Event,
Subscription-State.

Each has ``X.parse(text)`` and ``str(x)``, which are inverses: ``X.parse(str(x)) == x``.
They are ``NamedTuple``s rather than attrs classes on purpose: the parser makes several per
message, and a tuple is built three times faster than a frozen attrs instance while being
just as immutable, hashable and comparable.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ._errors import ParseError
from ._grammar import (
    KNOWN_METHODS,
    PARAMS,
    QUOTED,
    SIP_URI,
    SPLIT_PARAMS,
    TOKEN_CHARS,
    Params,
    find_param,
    is_token,
    params_to_str,
    parse_params,
    parse_uint,
    quote,
    unquote,
)
from ._uri import URI

# RFC 3261 25.1 name-addr = [ display-name ] LAQUOT addr-spec RAQUOT, in the form nearly
# every peer sends (token display name or none, a sip/sips URI, parameters without LWS),
# validated in one pass; anything else takes the general path below.
_name_addr_fast = re.compile(rf'({QUOTED} *+|[^"<]*+)<({SIP_URI})>({PARAMS})').fullmatch
_uri = URI._trusted
_params_of = SPLIT_PARAMS  # (name, value) pairs of parameters a fast regex has validated
_NAME_ADDR = re.compile(rf'({QUOTED}|[^"<]*?)\s*<\s*([^<>]*?)\s*>\s*(;.*)?', re.S)
# RFC 3261 25.1 via-parm = sent-protocol LWS sent-by *( SEMI via-params )
_via_fast = re.compile(
    rf"SIP/2\.0/([A-Za-z]++) (\[[0-9A-Fa-f:.]++\]|[A-Za-z0-9\-._]++)(?::([0-9]{{1,5}}+))?({PARAMS})"
).fullmatch
_VIA = re.compile(
    rf"([{TOKEN_CHARS}]+)\s*/\s*([{TOKEN_CHARS}]+)\s*/\s*([{TOKEN_CHARS}]+)\s+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._]+)(?:\s*:\s*([0-9]{1,5}))?\s*(;.*)?",
    re.S,
)
_CSEQ = re.compile(rf"\s*([0-9]+)\s+([{TOKEN_CHARS}]+)\s*")
_RACK = re.compile(rf"\s*([0-9]+)\s+([0-9]+)\s+([{TOKEN_CHARS}]+)\s*")
_TOKEN_LIST = re.compile(rf"[{TOKEN_CHARS}]+(?:[ \t]*,[ \t]*[{TOKEN_CHARS}]+)*").fullmatch
_HEAD_PARAMS = re.compile(rf"\s*([{TOKEN_CHARS}]+)\s*(;.*)?", re.S)
_new = tuple.__new__  # builds a NamedTuple from a ready tuple, skipping __new__'s defaults
_MAX_SEQ = 2**31  # RFC 3261 8.1.1.5: CSeq "MUST be less than 2**31"
#: RFC 3262 7.1: RSeq (and the RAck response number) is 1 to 2**32 - 1
MAX_RSEQ = 2**32


class NameAddr(NamedTuple):
    """A From, To, Contact, Route or Record-Route value: URI, display name, parameters."""

    uri: URI
    display_name: str | None = None
    """The display name, unquoted; ``None`` when there is none."""
    params: Params = ()
    """Header parameters in order (``tag``, ``expires``, ``q``, ...)."""

    @classmethod
    def parse(cls, text: str, where: str = "name-addr") -> NameAddr:
        """Parse ``"Name" <uri>;params`` or the bare ``uri;params`` form (RFC 3261 20.10)."""
        parsed = fast_name_addr(text)
        return parsed if parsed is not None else cls._parse_general(text.strip(" \t"), where)

    @classmethod
    def _parse_general(cls, text: str, where: str) -> NameAddr:
        # name-addr when "<" comes before the first ";" (an addr-spec's header parameters
        # may hold "<" inside a quoted value, e.g. +sip.instance="<urn:uuid:...>")
        angle, semi = text.find("<"), text.find(";")
        if angle >= 0 and (semi < 0 or angle < semi or text.startswith('"')):
            m = _NAME_ADDR.fullmatch(text)
            if m is None:
                if text.startswith('"'):
                    raise ParseError("unterminated quoted string in display name", where)
                raise ParseError(f"malformed name-addr {text[:60]!r}", where)
            display, uri, rest = m.groups()
            display = display.strip(" \t")
            name = (unquote(display) if display[0] == '"' else display) if display else None
            uri = uri.strip(" \t")
            return cls(
                URI(uri, where), name, parse_params(rest.rstrip(" \t"), where) if rest else ()
            )
        if text.startswith('"'):
            raise ParseError("quoted display name without <addr-spec>", where)
        # RFC 3261 20.10: without <>, parameters after the URI belong to the header
        semi = text.find(";")
        if semi < 0:
            return cls(URI(text, where))
        uri = text[:semi].rstrip(" \t")
        return cls(URI(uri, where), None, parse_params(text[semi:], where))

    def __str__(self) -> str:
        name = "" if self.display_name is None else quote(self.display_name) + " "
        return f"{name}<{self.uri}>{params_to_str(self.params)}"

    def __repr__(self) -> str:
        return f"NameAddr({str(self)!r})"

    @property
    def tag(self) -> str | None:
        """The ``tag`` parameter (RFC 3261 19.3), or ``None``."""
        for name, value in self.params:
            if name == "tag" or name.lower() == "tag":
                return value
        return None

    def param(self, name: str) -> str | None:
        """Value of header parameter ``name`` (case-insensitive); ``""`` for a flag."""
        return find_param(self.params, name)

    def with_tag(self, tag: str) -> NameAddr:
        """A copy carrying ``tag`` (replacing any tag it had)."""
        params = tuple([p for p in self.params if p[0].lower() != "tag"])
        return _new(NameAddr, (self.uri, self.display_name, (*params, ("tag", tag))))


class Via(NamedTuple):
    """One Via value (RFC 3261 20.42): sent-protocol, sent-by and parameters."""

    transport: str
    host: str
    port: int | None = None
    params: Params = ()
    protocol: str = "SIP/2.0"
    """Protocol name and version, e.g. ``SIP/2.0``."""

    @classmethod
    def parse(cls, text: str, where: str = "Via") -> Via:
        """Parse ``SIP/2.0/UDP host:port;branch=...`` (LWS allowed around ``/`` and ``:``)."""
        m = _via_fast(text)
        if m is not None:
            fast = _fast_via(m)
            if fast is not None:
                return fast
            transport, host, port, params = m.groups()
            protocol = "SIP/2.0"
        else:
            m = _VIA.fullmatch(text.strip(" \t"))
            if m is None:
                raise ParseError(f"malformed Via value {text[:60]!r}", where)
            name, version, transport, host, port, params = m.groups()
            protocol = f"{name}/{version}"
        port_number: int | None = None
        if port is not None:
            port_number = int(port)
            if port_number > 65535:
                raise ParseError(f"port {port} out of range", where)
        parsed = parse_params(params.rstrip(" \t"), where) if params else ()
        return cls(transport, host, port_number, parsed, protocol)

    def __str__(self) -> str:
        return f"{self.protocol}/{self.transport} {self.sent_by}{params_to_str(self.params)}"

    def __repr__(self) -> str:
        return f"Via({str(self)!r})"

    @property
    def sent_by(self) -> str:
        """``host`` or ``host:port``."""
        return self.host if self.port is None else f"{self.host}:{self.port}"

    @property
    def branch(self) -> str | None:
        """The transaction ``branch`` (RFC 3261 8.1.1.7); ``None`` from RFC 2543 peers."""
        for name, value in self.params:
            if name == "branch" or name.lower() == "branch":
                return value
        return None

    @property
    def received(self) -> str | None:
        """The ``received`` parameter (RFC 3261 18.2.1)."""
        return find_param(self.params, "received")

    @property
    def rport(self) -> str | None:
        """The ``rport`` parameter (RFC 3581): ``""`` when present without a value."""
        return find_param(self.params, "rport")

    def param(self, name: str) -> str | None:
        """Value of parameter ``name`` (case-insensitive); ``""`` for a flag."""
        return find_param(self.params, name)


def fast_name_addr(text: str) -> NameAddr | None:
    """``text`` parsed when it is in the form nearly every peer sends (see
    ``_name_addr_fast``), else ``None``; the general grammar then decides."""
    m = _name_addr_fast(text)
    if m is None:
        return None
    display, uri, _, userinfo, _, port, _, _, params = m.groups()
    if (port is not None and len(port) >= 5 and int(port) > 65535) or userinfo == "":
        return None
    if display:
        display = display.rstrip(" \t")
        # an empty quoted display name ("") stays "", distinct from no name
        display = unquote(display) if display[:1] == '"' else display or None
    else:
        display = None
    return _new(NameAddr, (_uri(uri), display, tuple(_params_of(params)) if params else ()))


def fast_via(text: str) -> Via | None:
    """``text`` parsed when it is in the form nearly every peer sends (``SIP/2.0/UDP
    host:port;params``, no LWS, port below 10000), else ``None``."""
    m = _via_fast(text)
    return None if m is None else _fast_via(m)


def _fast_via(m: re.Match[str]) -> Via | None:
    transport, host, port, params = m.groups()
    if port is None:
        return _new(Via, (transport, host, None, tuple(_params_of(params)), "SIP/2.0"))
    if len(port) < 5:  # a 5-digit port needs the range check of the general path
        return _new(Via, (transport, host, int(port), tuple(_params_of(params)), "SIP/2.0"))
    return None


class CSeq(NamedTuple):
    """Command sequence (RFC 3261 20.16): a number below 2**31 and a method."""

    number: int
    method: str

    @classmethod
    def parse(cls, text: str, where: str = "CSeq") -> CSeq:
        """Parse ``"4711 INVITE"``."""
        number, _, method = text.partition(" ")
        if (
            number.isascii()
            and number.isdigit()
            and len(number) < 10
            and (method in KNOWN_METHODS or is_token(method))
        ):
            return _new(cls, (int(number), method))
        m = _CSEQ.fullmatch(text)
        if m is None:
            raise ParseError(f"malformed CSeq {text[:40]!r}", where)
        number = m.group(1)
        if len(number) > 10 or int(number) >= _MAX_SEQ:
            parse_uint(number, where, "CSeq number", _MAX_SEQ)  # raises with the reason
        return cls(int(number), m.group(2))

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


class RAck(NamedTuple):
    """RAck of a PRACK (RFC 3262 7.2): the RSeq, CSeq number and method it acknowledges."""

    rseq: int
    cseq: int
    method: str

    @classmethod
    def parse(cls, text: str, where: str = "RAck") -> RAck:
        """Parse ``"776656 1 INVITE"``."""
        m = _RACK.fullmatch(text)
        if m is None:
            raise ParseError(f"malformed RAck {text[:40]!r}", where)
        return cls(
            parse_uint(m.group(1), where, "RAck response number", MAX_RSEQ),
            parse_uint(m.group(2), where, "RAck CSeq number", _MAX_SEQ),
            m.group(3),
        )

    def __str__(self) -> str:
        return f"{self.rseq} {self.cseq} {self.method}"


class Event(NamedTuple):
    """Event header (RFC 6665 8.2.1): package, optional ``id``, other parameters."""

    package: str
    params: Params = ()

    @classmethod
    def parse(cls, text: str, where: str = "Event") -> Event:
        """Parse ``"refer;id=93809824"``."""
        package, params = _parse_head_params(text, where, "event package")
        return cls(package, params)

    def __str__(self) -> str:
        return f"{self.package}{params_to_str(self.params)}"

    def __repr__(self) -> str:
        return f"Event({str(self)!r})"

    @property
    def id(self) -> str | None:
        """The ``id`` parameter that tells apart subscriptions of one package in a dialog."""
        return find_param(self.params, "id")


class SubscriptionState(NamedTuple):
    """Subscription-State header (RFC 6665 8.2.3): state and its parameters."""

    state: str
    params: Params = ()

    @classmethod
    def parse(cls, text: str, where: str = "Subscription-State") -> SubscriptionState:
        """Parse ``"active;expires=600"`` or ``"terminated;reason=timeout"``."""
        state, params = _parse_head_params(text, where, "subscription state")
        for name in ("expires", "retry-after"):
            value = find_param(params, name)
            if value is not None:
                parse_uint(value, where, name, 2**32)
        return cls(state, params)

    def __str__(self) -> str:
        return f"{self.state}{params_to_str(self.params)}"

    def __repr__(self) -> str:
        return f"SubscriptionState({str(self)!r})"

    @property
    def expires(self) -> int | None:
        """Seconds until the subscription expires, when given."""
        value = find_param(self.params, "expires")
        return None if value is None else int(value)

    @property
    def retry_after(self) -> int | None:
        """Seconds after which a new subscription may be tried, when given."""
        value = find_param(self.params, "retry-after")
        return None if value is None else int(value)

    @property
    def reason(self) -> str | None:
        """Why the subscription ended (``timeout``, ``rejected``, ...), when given."""
        return find_param(self.params, "reason")

    @property
    def terminated(self) -> bool:
        """True when the state is ``terminated`` (RFC 6665 4.1.3)."""
        return self.state.lower() == "terminated"


def _parse_head_params(text: str, where: str, what: str) -> tuple[str, Params]:
    m = _HEAD_PARAMS.fullmatch(text)
    if m is None:
        raise ParseError(f"malformed {what} {text[:40]!r}", where)
    return m.group(1), parse_params((m.group(2) or "").rstrip(" \t"), where)


def parse_tokens(text: str, where: str) -> tuple[str, ...]:
    """A comma list of tokens, as in Require and Supported (RFC 3261 20.32, 20.37)."""
    if not text:
        return ()
    if _TOKEN_LIST(text):  # the usual case: one check in C, then a plain split
        return tuple(text.replace(" ", "").replace("\t", "").split(","))
    items = tuple(item.strip(" \t") for item in text.split(","))
    for item in items:
        if not is_token(item):
            raise ParseError(f"{item!r} is not an option tag", where)
    return items
