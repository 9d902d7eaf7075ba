"""SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966); other schemes kept opaque.

A URI is a text-backed value: it is validated when made, keeps its text for ``str()``, and
splits itself into user, host, parameters, ... only when one of them is read. A dialog layer
mostly carries URIs around whole (remote target, route set), so most are never split.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from ._errors import LocalProtocolError, ParseError
from ._grammar import SIP_URI, Params, find_param
from ._memo import Memo, bounded

_SIP = re.compile(SIP_URI)
_new_object = object.__new__
_OTHER = re.compile(r"([A-Za-z][A-Za-z0-9+\-.]*):([^\s<>\"]+)")
# RFC 3261 19.1.4: these parameters must match when either URI has them
_STRICT_PARAMS = ("user", "ttl", "method", "maddr", "transport")


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# RFC 3261 25.1 reserved: an escaped reserved character is NOT the character itself
_RESERVED = frozenset(";/?:@&=+$,")
# RFC 3966 5.1.1: visual separators carry no meaning in a telephone number
_VISUAL = str.maketrans("", "", "-.()")


def _unescape(m: re.Match[str]) -> str:
    char = chr(int(m.group(1), 16))
    if char.isascii() and char not in _RESERVED and char.isprintable():
        return char
    return "%" + m.group(1).upper()


def _decode(text: str) -> str:
    """Canonical form for comparison (RFC 3261 19.1.4): characters outside the reserved
    set are equivalent to their %HEX HEX escapes; other escapes stay, in upper case."""
    return _ESCAPE.sub(_unescape, text) if "%" in text else text


def _bad(text: str, where: str) -> NoReturn:
    if not _OTHER.match(text):
        raise ParseError(f"{text[:40]!r} is not a URI", where)
    raise ParseError(f"malformed URI {text[:60]!r}", where)


#: URI text -> its parts, for URIs whose parts were read. A URI object holds only its text:
#: a dialog keeps three URIs for hours at the cost of their text, and most URIs of a message
#: are carried whole, never split. The parts of one that is read wait here for the next read
#: of the same text; once forgotten, they are split again.
_SPLITS: Memo[str, tuple[Any, ...]] = bounded(Memo(4096))


class URI:
    """A URI as RFC 3261 19.1 splits it; ``==`` and ``hash`` follow the rules of 19.1.4.

    Immutable (every public attribute is a read-only property over private slots).
    ``URI("sip:bob@biloxi.com;transport=tcp")`` (or ``URI.parse``) validates;
    ``URI.build(...)`` makes one from parts; ``str(uri)`` gives back the text.
    """

    __slots__ = ("_text",)
    _text: str

    def __init__(self, text: str, where: str = "URI") -> None:
        m = _SIP.fullmatch(text)
        if m is not None:
            groups = m.groups()
            if groups[3] is not None and int(groups[3]) > 65535:
                raise ParseError(f"port {groups[3]} out of range in URI {text[:60]!r}", where)
            if groups[1] == "":
                raise ParseError(f"empty user part in URI {text[:60]!r}", where)
        else:
            m = _OTHER.fullmatch(text)
            if m is None or m.group(1).lower() in ("sip", "sips"):
                _bad(text, where)
        self._text = text

    @staticmethod
    def _trusted(text: str) -> URI:
        """Wrap text that a caller's regex (built on ``SIP_URI``) has already validated."""
        self: URI = _new_object(URI)
        self._text = text
        return self

    @classmethod
    def parse(cls, text: str, where: str = "URI") -> URI:
        """Validate ``text`` and return the URI (the same as ``URI(text)``)."""
        return cls(text, where)

    @classmethod
    def build(
        cls,
        scheme: str,
        *,
        user: str | None = None,
        password: str | None = None,
        host: str = "",
        port: int | None = None,
        params: Params = (),
        headers: tuple[tuple[str, str], ...] = (),
    ) -> URI:
        """Make a URI from its parts (no escaping is done: pass escaped text)."""
        text = f"{scheme}:"
        if user is not None:
            text += user if password is None else f"{user}:{password}"
            text += "@" if host else ""
        text += host
        if port is not None:
            text += f":{port}"
        text += "".join(f";{n}={v}" if v else f";{n}" for n, v in params)
        if headers:
            text += "?" + "&".join(f"{n}={v}" for n, v in headers)
        return cls(text)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"URI({self._text!r})"

    def __reduce__(self) -> tuple[type[URI], tuple[str]]:
        return (URI, (self._text,))

    # components, split on first use ---------------------------------------------------
    def _split(self) -> tuple[Any, ...]:
        parts = _SPLITS.get(self._text)
        if parts is not None:
            return parts
        m = _SIP.fullmatch(self._text) or _OTHER.fullmatch(self._text)  # validated: matches
        assert m is not None
        g = m.groups()
        if len(g) == 2:  # scheme:opaque
            scheme, rest = (g[0] or "").lower(), g[1] or ""
            if scheme == "tel":
                number, _, tel_params = rest.partition(";")
                parts = (scheme, number, None, "", None, _params(tel_params), (), None)
            else:
                parts = (scheme, None, None, "", None, (), (), rest)
        else:
            raw_scheme, userinfo, host, port, params, headers = g
            user: str | None = None
            password: str | None = None
            if userinfo is not None:
                user, colon, pw = userinfo.partition(":")
                password = pw if colon else None
            hdrs: tuple[tuple[str, ...], ...] = ()
            if headers:
                hdrs = tuple(tuple(h.partition("=")[::2]) for h in headers.split("&"))
            parts = (
                (raw_scheme or "").lower(), user, password, host,
                None if port is None else int(port), _params((params or "")[1:]), hdrs, None,
            )  # fmt: skip
        return _SPLITS.put(self._text, parts)

    @property
    def scheme(self) -> str:
        """``sip``, ``sips``, ``tel`` or another scheme, lower-cased."""
        return str(self._split()[0])

    @property
    def user(self) -> str | None:
        """User part as written (escapes kept); the number of a ``tel`` URI."""
        return self._split()[1]  # type: ignore[no-any-return]

    @property
    def password(self) -> str | None:
        """Password part of the userinfo, when there is one."""
        return self._split()[2]  # type: ignore[no-any-return]

    @property
    def host(self) -> str:
        """Host name, IPv4 address or bracketed IPv6 reference; empty for non-SIP schemes."""
        return str(self._split()[3])

    @property
    def port(self) -> int | None:
        """Port, when given."""
        return self._split()[4]  # type: ignore[no-any-return]

    @property
    def params(self) -> Params:
        """URI parameters in order, as written; a flag (``lr``) has value ``""``."""
        return self._split()[5]  # type: ignore[no-any-return]

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """``?name=value&...`` headers, as written."""
        return self._split()[6]  # type: ignore[no-any-return]

    @property
    def opaque(self) -> str | None:
        """Everything after ``scheme:`` for schemes other than sip, sips and tel."""
        return self._split()[7]  # type: ignore[no-any-return]

    def param(self, name: str) -> str | None:
        """Value of URI parameter ``name`` (case-insensitive); ``""`` for a flag; else ``None``.

        Escaped names and values are unescaped first (RFC 4475 3.1.1.3: ``;%6C%72`` is ``lr``).
        """
        params = self.params
        if "%" in self._text:
            params = tuple((_decode(n), _decode(v)) for n, v in params)
        return find_param(params, name)

    @property
    def lr(self) -> bool:
        """Loose-routing flag (RFC 3261 19.1.1); ``lr=on`` counts too, ``lrx`` does not."""
        return any(n.lower() == "lr" or _decode(n).lower() == "lr" for n, _ in self.params)

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter, lower-cased."""
        value = self.param("transport")
        return value.lower() if value else None

    @property
    def maddr(self) -> str | None:
        """The ``maddr`` parameter."""
        return self.param("maddr") or None

    @property
    def is_secure(self) -> bool:
        """True for a ``sips`` URI (RFC 3261 19.1)."""
        return self.scheme == "sips"

    @property
    def host_port(self) -> str:
        """``host`` or ``host:port``."""
        port = self.port
        return self.host if port is None else f"{self.host}:{port}"

    def with_params(self, params: Params) -> URI:
        """A copy with ``params`` in place of this URI's parameters."""
        if self.scheme not in ("sip", "sips"):
            raise LocalProtocolError(f"cannot set parameters on {self._text!r}")
        return URI.build(
            self.scheme, user=self.user, password=self.password, host=self.host,
            port=self.port, params=params, headers=self.headers,
        )  # fmt: skip

    # RFC 3261 19.1.4 comparison -------------------------------------------------------
    def _key(self) -> tuple[object, ...]:
        scheme, user, password, host, port, _, _, opaque = self._split()
        if opaque is not None:
            return (scheme, opaque)
        if scheme == "tel":  # RFC 3966 4: digits compared without visual separators
            return (scheme, (user or "").translate(_VISUAL).lower())
        return (
            scheme,
            None if user is None else _decode(user),
            None if password is None else _decode(password),
            host.lower(),
            port,
        )

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, URI):
            return NotImplemented
        if self._text == other._text:
            return True
        if self._key() != other._key():
            return False
        if self.opaque is not None:
            return True
        if self.scheme == "tel":  # RFC 3966 4: every parameter must be in both and match
            return _norm_params(self.params) == _norm_params(other.params)
        mine, theirs = _norm_params(self.params), _norm_params(other.params)
        for name in _STRICT_PARAMS:
            if mine.get(name) != theirs.get(name):
                return False
        for name in mine.keys() & theirs.keys():
            if mine[name] != theirs[name]:
                return False
        return _norm_headers(self.headers) == _norm_headers(other.headers)

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result


def _params(text: str) -> Params:
    if not text:
        return ()
    return tuple(
        (name, value) for name, _, value in (item.partition("=") for item in text.split(";"))
    )


def _norm_params(params: Params) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in params:
        out.setdefault(_decode(name).lower(), _decode(value).lower())
    return out


def _norm_headers(headers: tuple[tuple[str, str], ...]) -> frozenset[tuple[str, str]]:
    return frozenset((_decode(n).lower(), _decode(v)) for n, v in headers)
