"""Files in, :class:`Wire` messages out: captures (pcap, pcapng), SIPp logs, plain text.

``open_source(path)`` looks at the first bytes: a pcap or pcapng magic number is a
capture (decoded by ``_pcap`` and ``_packets``; TCP streams framed by one
:class:`StreamParser` each), a SIPp separator line is a ``-trace_msg`` log, anything else
is plain text. Every reader streams: memory does not grow with the file.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import attrs

from ._errors import ParseError
from ._logs import looks_like_sipp_log, read_sipp_log, read_text
from ._packets import Decoder, Payload
from ._parser import StreamParser, parse_message
from ._pcap import read_packets
from ._replay import Wire

#: two copies of a datagram this close together are one frame seen twice
_SAME_FRAME_NS = 2_000_000
#: pcap (both byte orders, micro- and nanosecond) and pcapng section header magic numbers
_CAPTURE_MAGIC = (
    b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
)  # fmt: skip


@attrs.define
class SourceCounts:
    """What a source held besides SIP messages."""

    kind: str = "text"
    """``capture``, ``sipp-log`` or ``text``."""
    packets: int = 0
    """Packets in a capture; messages in a log or text file."""
    skipped: int = 0
    """Packets that carried no SIP (not IP, not UDP or TCP, not SIP, truncated)."""
    sip_messages: int = 0
    """SIP messages read (unparseable ones included)."""
    duplicates: int = 0
    """Datagrams seen twice within 2 ms (one frame captured on two interfaces): the copy
    is dropped."""


class _Progress:
    """A binary file that reports how far it has been read."""

    def __init__(self, file: BinaryIO, report: Callable[[int], None]) -> None:
        self._file = file
        self._report = report

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._report(len(data))
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._file.readline(size)
        self._report(len(data))
        return data

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        self._file.close()


Shard = tuple[int, int]
"""``(k, n)``: only the calls whose Call-ID hashes to ``k`` modulo ``n``."""
_CALL_ID = re.compile(rb"\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)


def shard_of(call_id: bytes, n: int) -> int:
    """The shard of a Call-ID: the same in every process (CRC-32, not ``hash``)."""
    return zlib.crc32(call_id.strip()) % n


def _raw_shard(data: bytes, n: int) -> int:
    found = _CALL_ID.search(data)
    return shard_of(found.group(1), n) if found is not None else 0


def _in_shard(wire: Wire, shard: Shard | None) -> bool:
    if shard is None:
        return True
    message = wire.message
    call_id = message.call_id.encode() if message is not None else b""
    return shard_of(call_id, shard[1]) == shard[0] if call_id else shard[0] == 0


def open_source(
    path: str | os.PathLike[str],
    counts: SourceCounts,
    progress: Callable[[int], None] | None = None,
    shard: Shard | None = None,
) -> Iterator[Wire]:
    """The SIP messages of the file at ``path``, in order; ``counts`` fills as it goes.

    ``progress``, when given, is called with the number of bytes read each time. ``shard``
    keeps one share of the calls (``--jobs``): a datagram's Call-ID is found in its bytes,
    so the other shares are never parsed.
    """
    file: BinaryIO = Path(path).open("rb")  # noqa: SIM115 (closed by the generator)
    try:
        head = file.peek(4096)[:4096]  # type: ignore[attr-defined]  # a BufferedReader
        source = _Progress(file, progress) if progress is not None else file
        if head[:4] in _CAPTURE_MAGIC:
            counts.kind = "capture"
            for wire in _capture(source, counts, shard):  # type: ignore[arg-type]
                if wire.transport == "UDP" or _in_shard(wire, shard):
                    counts.sip_messages += 1
                    yield wire
            return
        if looks_like_sipp_log(head):
            counts.kind = "sipp-log"
            wires = read_sipp_log(source)
        else:
            counts.kind = "text"
            wires = read_text(source)
        for wire in wires:
            counts.packets += 1
            if _in_shard(wire, shard):
                counts.sip_messages += 1
                yield wire
    finally:
        file.close()


def _address(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _capture(file: BinaryIO, counts: SourceCounts, shard: Shard | None) -> Iterator[Wire]:
    decoder = Decoder()
    parsers: dict[int, StreamParser | None] = {}  # None: a stream that cannot be framed
    # the same datagram seen twice within a moment: one frame captured on two interfaces
    # (``lo`` and ``any``), not a retransmission, which comes T1 (500 ms) later
    recent: OrderedDict[tuple[tuple[str, int], tuple[str, int], bytes], int] = OrderedDict()
    reader = read_packets(file)
    try:
        for payload in decoder.payloads(reader):
            if payload.transport == "UDP":
                now = payload.time_ns
                while recent and next(iter(recent.values())) < now - _SAME_FRAME_NS:
                    recent.popitem(last=False)
                key = (payload.src, payload.dst, payload.data)
                if key in recent:
                    counts.duplicates += 1
                    continue
                recent[key] = now
                if shard is not None and _raw_shard(payload.data, shard[1]) != shard[0]:
                    continue
            yield from _wires(payload, parsers)
            counts.packets = decoder.counts.packets
        for payload in decoder.finish():  # streams still open when the capture ends
            yield from _wires(payload, parsers)
    finally:
        reader.close()
        c = decoder.counts
        counts.packets = c.packets
        counts.skipped = c.skipped_non_ip + c.skipped_not_udp_tcp + c.skipped_non_sip + c.truncated


def _wires(payload: Payload, parsers: dict[int, StreamParser | None]) -> Iterator[Wire]:
    number, time_ns, transport = payload.number, payload.time_ns, payload.transport
    src, dst = _address(payload.src), _address(payload.dst)
    if transport == "UDP":
        try:
            message = parse_message(payload.data.lstrip(b"\r\n"))
        except ParseError as err:
            yield Wire(number, time_ns, src, dst, transport, None, err)
            return
        yield Wire(number, time_ns, src, dst, transport, message)
        return
    stream = payload.stream
    if payload.end:
        ended = parsers.pop(stream, None)
        if ended is not None:
            try:
                ended.end()
            except ParseError as err:  # a message cut off by FIN, RST or the capture's end
                yield Wire(number, time_ns, src, dst, transport, None, err)
        return
    if stream not in parsers:
        parsers[stream] = StreamParser()
    parser = parsers[stream]
    if parser is None:
        return
    try:
        messages = parser.feed(payload.data)
    except ParseError as err:
        yield Wire(number, time_ns, src, dst, transport, None, err)
        try:
            messages = parser.feed(b"")  # what was framed before the bad one
        except ParseError:
            parsers[stream] = None  # the stream lost its framing: nothing more from it
            return
    for message in messages:
        yield Wire(number, time_ns, src, dst, transport, message)
