"""SIP messages from text: SIPp message logs (``-trace_msg``) and plain text files.

Neither says where a message came from. A SIPp log says whether SIPp sent or received each
message, so its two endpoints are ``sipp`` and ``peer``. A plain text file says nothing: the
side that sent a Call-ID's first request is ``A``, the other ``B``, and every later message
is placed by its From tag (a request travels from the side whose tag is in From, a response
towards it). Plain text has no clock either: messages are 1 ms apart.

Text copied from logs and terminals often has bare LF line ends; they are read as CRLF.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator

from ._errors import ParseError
from ._message import Request, Response
from ._parser import parse_message
from ._replay import Wire

Message = Request | Response
#: a start line: a request line (RFC 3261 7.1) or a status line (7.2)
_START = re.compile(rb"^(?:[!%'*+\-.0-9A-Z_`a-z~]+ \S+ SIP/2\.0|SIP/2\.0 \d{3}(?: .*)?)\r?$")
#: SIPp's separator before each message: dashes, then the time
_SIPP_SEPARATOR = re.compile(rb"^-{20,} (.*)$")
_SIPP_WHAT = re.compile(rb"(UDP|TCP|TLS|SCTP|WS)?\s*message\s+(sent|received)", re.IGNORECASE)
_EPOCH = re.compile(rb"\b(\d{9,11})\.(\d{1,9})\b")
_DATETIME = re.compile(rb"(\d{4})-(\d\d)-(\d\d)\s+(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?")


def _to_message(lines: list[bytes]) -> Message:
    """One message from its lines (any line ends), as the wire would carry it."""
    while lines and not lines[-1].strip():
        lines.pop()
    try:
        blank = next(i for i, line in enumerate(lines) if not line.strip())
    except StopIteration:
        blank = len(lines)
    head = b"".join(line.rstrip(b"\r\n") + b"\r\n" for line in lines[:blank])
    body = b"".join(line.rstrip(b"\r\n") + b"\r\n" for line in lines[blank + 1 :])
    data = head + b"\r\n" + body
    try:
        return parse_message(data)
    except ParseError as err:
        if not body:
            raise
        # the body may have been written with its own line ends (a binary or LF body)
        raw = head + b"\r\n" + b"".join(lines[blank + 1 :])
        try:
            return parse_message(raw)
        except ParseError:
            raise err from None


def _chunks(lines: Iterable[bytes]) -> Iterator[tuple[int, list[bytes]]]:
    """Messages of a plain text file: each begins at a start line that follows a blank
    line (or the file's start); text before the first is ignored."""
    current: list[bytes] = []
    start = 0
    previous_blank = True
    for number, line in enumerate(lines, 1):
        if previous_blank and _START.match(line.rstrip(b"\n")):
            if current:
                yield start, current
            current, start = [], number
        if start:
            current.append(line)
        previous_blank = not line.strip()
    if current:
        yield start, current


def read_text(lines: Iterable[bytes]) -> Iterator[Wire]:
    """The SIP messages of a plain text file, each placed between endpoints ``A``/``B``."""
    first_tag: dict[str, str] = {}
    for index, (_line, chunk) in enumerate(_chunks(lines), 1):
        time_ns = index * 1_000_000
        try:
            message = _to_message(chunk)
        except ParseError as err:
            yield Wire(index, time_ns, "?", "?", "?", None, err)
            continue
        tag = message.from_.tag or ""
        if isinstance(message, Request):
            first_tag.setdefault(message.call_id, tag)
        from_a = (tag == first_tag.get(message.call_id, tag)) == isinstance(message, Request)
        src, dst = ("A", "B") if from_a else ("B", "A")
        yield Wire(index, time_ns, src, dst, "?", message)


def _sipp_time(text: bytes) -> int:
    epoch = _EPOCH.search(text)
    if epoch is not None:
        return int(epoch.group(1)) * 1_000_000_000 + int(epoch.group(2).ljust(9, b"0"))
    when = _DATETIME.search(text)
    if when is None:
        return 0
    year, month, day, hour, minute, second = (int(g) for g in when.groups()[:6])
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    fraction = when.group(7) or b"0"
    return seconds * 1_000_000_000 + int(fraction.ljust(9, b"0"))


def read_sipp_log(lines: Iterable[bytes]) -> Iterator[Wire]:
    """The messages of a SIPp ``-trace_msg`` log: ``sipp`` sent or received each one.

    Each entry is a separator line of dashes with the time, a line saying ``UDP message
    sent (N bytes):`` or ``UDP message received [N] bytes :``, a blank line, the message.
    """
    entry: list[bytes] | None = None
    header = b""
    index = 0

    def emit() -> Wire | None:
        assert entry is not None
        body = entry
        while body and not body[0].strip():
            body = body[1:]
        what_at = next((i for i, line in enumerate(body) if _SIPP_WHAT.search(line)), None)
        if what_at is None:
            return None
        what = _SIPP_WHAT.search(body[what_at])
        assert what is not None
        transport = (what.group(1) or b"?").decode().upper()
        sent = what.group(2).lower() == b"sent"
        src, dst = ("sipp", "peer") if sent else ("peer", "sipp")
        text = body[what_at + 1 :]
        while text and not text[0].strip():
            text = text[1:]
        time_ns = _sipp_time(header)
        try:
            message = _to_message(list(text))
        except ParseError as err:
            return Wire(index, time_ns, src, dst, transport, None, err)
        return Wire(index, time_ns, src, dst, transport, message)

    for line in lines:
        separator = _SIPP_SEPARATOR.match(line.rstrip(b"\r\n"))
        if separator is not None:
            if entry is not None:
                wire = emit()
                if wire is not None:
                    yield wire
            index += 1
            entry, header = [], separator.group(1)
            continue
        if entry is not None:
            entry.append(line)
    if entry is not None:
        wire = emit()
        if wire is not None:
            yield wire


def looks_like_sipp_log(head: bytes) -> bool:
    """A SIPp message log starts with a separator line and a sent/received line."""
    first = head.split(b"\n", 2)
    return (
        len(first) >= 2
        and _SIPP_SEPARATOR.match(first[0].rstrip(b"\r")) is not None
        and _SIPP_WHAT.search(first[1]) is not None
    )
