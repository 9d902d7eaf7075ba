"""RFC 3261 section 25 pieces shared by the header parsers.

Every function here takes the text of one value and ``where`` (for error messages) and
either returns plain Python data or raises :class:`ParseError`.
"""

from __future__ import annotations

import re
from typing import TypeAlias

from ._errors import ParseError

#: ``(name, value)`` pairs in wire order; ``value`` is ``""`` for a flag such as ``lr``
#: (a parameter is never ``name=`` with nothing after it).
Params: TypeAlias = tuple[tuple[str, str], ...]

# RFC 3261 25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_CHARS = r"A-Za-z0-9\-.!%*_+`'~"  # noqa: S105 (not a password)
TOKEN = re.compile(f"[{TOKEN_CHARS}]+")
QUOTED = r'"(?:[^"\\]++|\\.)*+"'
# RFC 3261 25.1 SIP-URI / SIPS-URI as one regex (groups: scheme, userinfo, host, port,
# uri-parameters, headers). userinfo may hold ; ? , (RFC 4475 3.1.1.2, 3.1.1.9).
# Possessive quantifiers (*+, ++): each part's extent is fixed by the characters after it,
# so the engine need not keep backtracking points (a fifth faster on long values).
SIP_URI = (
    r"([sS][iI][pP][sS]?):(?:([^@\s<>\"]*+)@)?(\[[0-9A-Fa-f:.]++\]|[A-Za-z0-9\-._]++)"
    r"(?::([0-9]{1,5}+))?((?:;[^;?\s<>\"]++)*+)(?:\?([^\s<>\"]++))?"
)
# header parameters without LWS, as nearly every peer sends them
PARAMS = f'(?:;[{TOKEN_CHARS}]++(?:=[^;\\s",=<>]++)?)*+'

# header parameters: ;name[=value] with LWS allowed around ";" and "=" (RFC 3261 25.1 SEMI, EQUAL)
_FAST_PARAMS = re.compile(PARAMS)
#: the (name, value) pairs of ``;a=1;b`` that a regex has already validated
SPLIT_PARAMS = re.compile(r";([^;=]+)=?([^;]*)").findall
_PARAM = re.compile(rf"\s*;\s*([{TOKEN_CHARS}]+)(?:\s*=\s*({QUOTED}|[^;\s\",=]+))?\s*", re.S)
# one element of a comma-separated header value: quoted strings and <...> may hold commas
_ELEMENT = re.compile(rf'(?:[^,"<]+|{QUOTED}|<[^<>]*>)+', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_MAX_DIGITS = 10


def parse_params(text: str, where: str) -> Params:
    """Parse ``;a=1;b;c="x y"`` into ordered pairs; an empty parameter is an error."""
    if not text:
        return ()
    if _FAST_PARAMS.fullmatch(text):
        return split_params(text)
    pos, end, params = 0, len(text), []
    while pos < end:
        m = _PARAM.match(text, pos)
        if m is None or m.end() == pos:
            raise ParseError(f"malformed parameter near {text[pos : pos + 20]!r}", where)
        params.append((m.group(1), m.group(2) or ""))
        pos = m.end()
    return tuple(params)


def split_params(text: str) -> Params:
    """Split ``;a=1;b`` that a regex has already validated (no LWS, no quotes)."""
    return tuple(SPLIT_PARAMS(text))


def params_to_str(params: Params) -> str:
    """Inverse of :func:`parse_params`."""
    return "".join(f";{n}={v}" if v else f";{n}" for n, v in params)


def find_param(params: Params, name: str) -> str | None:
    """The value of the first parameter called ``name`` (case-insensitive); ``""`` for a flag."""
    lname = name.lower()
    for n, v in params:
        if n == lname or n.lower() == lname:
            return v
    return None


def split_commas(value: str, where: str) -> list[str]:
    """Split a comma list around quoted strings and ``<...>`` (RFC 3261 7.3.1).

    Empty elements (``a,,b``), unterminated quotes and unbalanced ``<`` are errors.
    """
    if "," not in value:
        if not value:
            raise ParseError("empty value", where)
        return [value]
    if '"' not in value and "<" not in value:
        parts = value.split(",")
    else:
        parts, pos, end = [], 0, len(value)
        while True:
            m = _ELEMENT.match(value, pos)
            if m is not None:
                parts.append(m.group())
                pos = m.end()
            if pos >= end:
                break
            char = value[pos]
            if char == '"':
                raise ParseError("unterminated quoted string", where)
            if char == "<":
                raise ParseError("unbalanced '<' in value", where)
            if m is None or pos + 1 >= end:
                raise ParseError("empty element in comma-separated list", where)
            pos += 1
    out = [p.strip(" \t") for p in parts]
    if "" in out:
        raise ParseError("empty element in comma-separated list", where)
    return out


def unquote(quoted: str) -> str:
    """``"a \\"b\\""`` (with its quotes) to ``a "b"`` (RFC 3261 25.1 quoted-pair)."""
    inner = quoted[1:-1]
    return _ESCAPE.sub(r"\1", inner) if "\\" in inner else inner


def quote(text: str) -> str:
    """Inverse of :func:`unquote`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_uint(text: str, where: str, what: str, limit: int) -> int:
    """A decimal number below ``limit``; never builds a huge int from hostile input."""
    if text.isascii() and text.isdigit() and len(text) < 10 and int(text) < limit:
        return int(text)
    text = text.strip(" \t")
    if not text.isdigit() or not text.isascii():
        raise ParseError(f"{what} {text!r} is not a number", where)
    if len(text.lstrip("0")) > _MAX_DIGITS or int(text) >= limit:
        raise ParseError(f"{what} {text[:24]!r} is too large (limit {limit - 1})", where)
    return int(text)


#: methods of RFC 3261 and the extensions a dialog layer meets: tokens, no check needed
KNOWN_METHODS = frozenset({
    "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "UPDATE", "SUBSCRIBE",
    "NOTIFY", "REFER", "INFO", "MESSAGE", "PUBLISH",
})  # fmt: skip

_token = TOKEN.fullmatch


def is_token(text: str) -> bool:
    """RFC 3261 25.1 token."""
    return _token(text) is not None
