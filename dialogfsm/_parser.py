"""Bytes to messages: ``parse_message`` for one datagram, ``StreamParser`` for TCP/TLS."""

from __future__ import annotations

import functools
import re
from collections import deque
from typing import NoReturn

import attrs

from ._errors import ParseError
from ._grammar import KNOWN_METHODS, is_token
from ._headers import CANONICAL, Headers
from ._memo import Memo, bounded
from ._message import (
    HANDLERS,
    SIP_VERSION,
    Request,
    Response,
    _Fields,
    _Handler,
    check_required,
    content_length,
)
from ._uri import URI

_STATUS = re.compile(r"[1-6][0-9][0-9]")
# Content-Length (or its compact form l) in a raw header block, for stream framing
# Content-Length (or its compact form l) in a raw header block, with any folded
# continuation lines (RFC 3261 7.3.1), for framing a stream before the message is parsed
_FRAMING = re.compile(
    rb"^(?:content-length|l)[ \t]*:([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.I | re.M
)


@attrs.frozen
class Limits:
    """Bounds that keep a hostile peer from costing unbounded memory or time."""

    max_size: int = 65536
    """Largest message in bytes, headers and body together."""
    max_headers: int = 256
    """Most header lines in one message."""
    max_line: int = 8192
    """Longest header line (after unfolding) in characters."""


DEFAULT_LIMITS = Limits()


def parse_message(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Request | Response:
    """Parse one SIP message from one datagram or one framed stream message.

    Octets after the body that Content-Length announces are ignored (RFC 3261 18.3,
    RFC 4475 3.1.1.8); without Content-Length the body is the rest of the datagram.
    Anything malformed raises :class:`ParseError` saying what and where.
    """
    if len(data) > limits.max_size:
        raise ParseError(f"message of {len(data)} bytes exceeds {limits.max_size}", "message")
    if type(data) is not bytes:  # bytearray, memoryview: copy once, immutable
        data = bytes(data)
    start = 0
    while data.startswith(b"\r\n", start):  # RFC 3261 7.5: ignore CRLFs before the start line
        start += 2
    end = data.find(b"\r\n\r\n", start)
    body_start = end + 4
    if end < 0:
        end = data.find(b"\n\n", start)  # bare-LF text, as found in logs and hand-written traces
        body_start = end + 2
        if end < 0:
            if not data.endswith(b"\n"):
                raise ParseError("no empty line ends the header block", "message")
            # tolerate a missing final CRLF (as in RFC 4475 baddn): no body then
            body_start = len(data)
            end = len(data.rstrip(b"\r\n"))
    lines, newline = _split_head(data[start:end], limits)
    try:
        numbers = None
        items, fields = _parse_headers(lines, None)
    except _Folded:  # rare: unfold continuation lines (RFC 3261 7.3.1) and parse again
        lines, numbers = _unfold(lines)
        items, fields = _parse_headers(lines, numbers)
    if newline == "\n":
        items = [(name, value.rstrip("\r")) for name, value in items]
    headers = Headers._trusted(tuple(items), numbers if numbers is not None else 2)
    first = lines[0]
    body = _body(data, body_start, fields.content_length)
    if first[:4].upper() == "SIP/":
        status, reason = _status_line(first)
        return Response._trusted(status, reason, headers, body, check_required(fields, None))
    method, uri = _request_line(first)
    return Request._trusted(method, uri, headers, body, check_required(fields, method))


class _Folded(Exception):  # noqa: N818 (a signal, not an error)
    """A header line starts with whitespace: the block has folded lines."""


#: header line as written -> its (canonical name, value) item and its field parser. Most
#: lines recur verbatim: Max-Forwards, Allow, Supported, User-Agent, Content-Type, the
#: Record-Route and Route of every call through the same proxies, the From, To and Contact
#: of every message of a dialog. One lookup then replaces splitting, naming and stripping.
_LINES: Memo[str, tuple[tuple[str, str], _Handler | None]] = bounded(Memo(4096))
_LINES_LIMIT = _LINES.limit
_MAX_LINE_KEY = 256


def _parse_headers(
    lines: list[str], numbers: tuple[int, ...] | None
) -> tuple[list[tuple[str, str]], _Fields]:
    """Canonical (name, value) pairs, and the dialog headers parsed into typed fields."""
    items: list[tuple[str, str]] = []
    append = items.append
    fields = _Fields()
    seen = _LINES
    try:
        for line in lines[1:]:
            hit = seen.get(line)
            if hit is None:
                name, colon, value = line.partition(":")
                known = _DISPATCH.get(name)
                if known is None:
                    known = _header_name(name, colon, line)
                hit = ((known[0], value.strip(" \t")), known[1])
                if len(line) <= _MAX_LINE_KEY:  # long lines are not kept
                    if len(seen) >= _LINES_LIMIT:  # Memo.put, without the call
                        seen.clear()
                    seen[line] = hit
            item, handler = hit
            append(item)
            if handler is not None:
                handler(fields, item[1])
    except ParseError as err:
        index = len(items) - 1 if err.where else len(items)  # "": a bad name, not yet added
        if numbers is None and any(line[:1] in (" ", "\t") for line in lines[index + 2 :]):
            raise _Folded from None  # the value may continue on the next line
        where = _line_where(numbers, index)
        if len(items) > index:  # the header's value was at fault, not its name
            where = f"header {items[index][0]!r} ({where})"
        raise ParseError(err.reason, where) from None
    return items, fields


#: header name as written -> (canonical name, parser of its typed field or None)
_DISPATCH = {written: (canon, HANDLERS.get(canon)) for written, canon in CANONICAL.items()}


def _header_name(name: str, colon: str, line: str) -> tuple[str, _Handler | None]:
    """The canonical name of a header written in an unusual case, or with LWS before ':'."""
    if name[:1] in (" ", "\t"):
        raise _Folded
    stripped = name.strip(" \t")
    if not colon:
        raise ParseError(f"header line {line[:40]!r} has no colon", "")
    if not is_token(stripped):
        raise ParseError(f"header name {stripped[:40]!r} is not a token", "")
    canon = CANONICAL.get(stripped.lower(), stripped)
    return canon, HANDLERS.get(canon)


def _split_head(raw: bytes, limits: Limits) -> tuple[list[str], str]:
    """Decode the header block and split it into lines; return them and the line end."""
    try:
        head = raw.decode("utf-8")
    except UnicodeDecodeError:
        _raise_bad_utf8(raw)
    newline = "\r\n" if "\r\n" in head else "\n"  # bare LF: text logs, hand-written traces
    lines = head.split(newline)
    if len(lines) - 1 > limits.max_headers:
        raise ParseError(f"more than {limits.max_headers} header lines", "headers")
    if len(head) > limits.max_line:
        for index, line in enumerate(lines):
            if len(line) > limits.max_line:
                where = "start line" if index == 0 else f"line {index + 1}"
                raise ParseError(f"line longer than {limits.max_line} characters", where)
    if lines[0][:1] in (" ", "\t"):
        raise ParseError("start line begins with whitespace", "start line")
    return lines, newline


def _unfold(raw_lines: list[str]) -> tuple[list[str], tuple[int, ...]]:
    """Join continuation lines to the line before (RFC 3261 7.3.1), keeping line numbers."""
    lines: list[str] = []
    numbers: list[int] = []
    for number, line in enumerate(raw_lines, 1):
        if line[:1] in (" ", "\t"):
            lines[-1] = lines[-1].rstrip(" \t\r") + " " + line.strip(" \t\r")
        else:
            lines.append(line)
            numbers.append(number)
    return lines, tuple(numbers[1:])


def _raise_bad_utf8(raw: bytes) -> NoReturn:
    for number, line in enumerate(raw.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            if number == 1:
                raise ParseError("start line is not valid UTF-8", "start line") from None
            name = line.partition(b":")[0].strip().decode("ascii", "replace")
            raise ParseError(
                f"value is not valid UTF-8 (byte {err.start})", f"header {name!r} (line {number})"
            ) from None
    raise ParseError("header block is not valid UTF-8", "headers")  # pragma: no cover


def _line_where(numbers: tuple[int, ...] | None, index: int) -> str:
    return f"line {numbers[index] if numbers is not None else index + 2}"


@bounded
@functools.lru_cache(maxsize=256)
def _status_line(line: str) -> tuple[int, str]:
    version, _, rest = line.partition(" ")
    if version.upper() != SIP_VERSION:
        raise ParseError(f"unsupported SIP version {version[:20]!r}", "start line")
    code, _, reason = rest.lstrip(" ").partition(" ")
    if not _STATUS.fullmatch(code):  # RFC 3261 25.1 Status-Code = 3DIGIT; 21.*: 1xx-6xx
        raise ParseError(f"status code {code[:20]!r} is not a number from 100 to 699", "start line")
    return int(code), reason.strip(" \t")


@bounded
@functools.lru_cache(maxsize=2048)
def _request_line(line: str) -> tuple[str, URI]:
    # RFC 3261 7.1: Method SP Request-URI SP SIP-Version. Runs of SP and trailing SP are
    # forgiven (RFC 4475 3.1.2.9, 3.1.2.10); LWS inside the Request-URI is not (3.1.2.8).
    parts = line.split()
    if len(parts) > 3 and parts[-1].upper() == SIP_VERSION and ":" in parts[1]:
        raise ParseError(
            f"whitespace inside the Request-URI {' '.join(parts[1:-1])[:60]!r}", "start line"
        )
    if len(parts) != 3:
        raise ParseError(
            f"request line {line[:60]!r} is not 'METHOD Request-URI SIP/2.0'", "start line"
        )
    method, uri, version = parts
    if method not in KNOWN_METHODS and not is_token(method):
        raise ParseError(f"method {method[:20]!r} is not a token", "start line")
    if version.upper() != SIP_VERSION:
        raise ParseError(f"unsupported SIP version {version[:20]!r}", "start line")
    if uri.startswith("<"):  # RFC 4475 3.1.2.7
        raise ParseError("Request-URI must not be enclosed in <>", "start line")
    return method, URI.parse(uri, "Request-URI in start line")


def _body(data: bytes, start: int, length: int | None) -> bytes:
    if length is None:
        return data[start:]
    if start + length > len(data):  # RFC 4475 3.1.2.2
        raise ParseError(
            f"Content-Length {length} is larger than the {len(data) - start} bytes of body",
            "header 'Content-Length'",
        )
    return data[start : start + length]


class StreamParser:
    """Frames SIP messages on a stream transport (TCP, TLS, WebSocket-less) by Content-Length.

    ``feed(data)`` returns every complete message framed so far and keeps a partial one.
    CRLF keep-alives between messages are skipped (RFC 5626 4.4.1). A message with no
    Content-Length cannot be framed on a stream (RFC 3261 18.3): that is a :class:`ParseError`
    after which the stream is unusable, and every later ``feed`` raises too. A framed
    message that is malformed inside raises :class:`ParseError` once; messages framed before
    it in the same call are kept and returned by the next ``feed`` (``feed(b"")`` will do).
    """

    def __init__(self, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._buffer = bytearray()
        self._ready: deque[Request | Response] = deque()
        self._broken: ParseError | None = None

    @property
    def buffered(self) -> int:
        """Bytes held for a message not yet complete."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Request | Response]:
        """Add bytes from the stream; return the messages they complete."""
        if self._broken is not None:
            raise ParseError(f"stream unusable after: {self._broken.reason}", "stream")
        self._buffer += data
        out = list(self._ready)
        self._ready.clear()
        while True:
            frame = self._next_frame()
            if frame is None:
                return out
            try:
                out.append(parse_message(frame, limits=self._limits))
            except ParseError:
                self._ready.extend(out)
                raise

    def end(self) -> None:
        """The stream ended (FIN, RST, the end of a capture): raise :class:`ParseError` when
        it stopped inside a message, which then never came whole (RFC 3261 18.3)."""
        rest = self._buffer.lstrip(b"\r\n")
        if rest and self._broken is None:
            start = bytes(rest[:60].split(b"\r\n", 1)[0]).decode("utf-8", "replace")
            raise ParseError(f"the stream ended {len(rest)} bytes into a message ({start!r})",
                             "stream")  # fmt: skip

    def _next_frame(self) -> bytes | None:
        buf = self._buffer
        skip = 0
        while buf.startswith(b"\r\n", skip):  # RFC 5626 4.4.1 keep-alive CRLFs
            skip += 2
        if skip:
            del buf[:skip]
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > self._limits.max_size:
                self._fail(f"header block longer than {self._limits.max_size} bytes")
            return None
        found = _FRAMING.findall(bytes(buf[:end]))
        if len(found) != 1:
            self._fail("no Content-Length on a stream" if not found else "repeated Content-Length")
        try:
            length = content_length(found[0].decode("ascii", "replace").strip())
        except ParseError as err:
            self._fail(err.reason)
        total = end + 4 + length
        if total > self._limits.max_size:
            self._fail(f"message of {total} bytes exceeds {self._limits.max_size}")
        if len(buf) < total:
            return None
        frame = bytes(buf[:total])
        del buf[:total]
        return frame

    def _fail(self, reason: str) -> NoReturn:
        self._broken = ParseError(reason, "stream")
        self._buffer.clear()
        raise ParseError(reason, "stream")
