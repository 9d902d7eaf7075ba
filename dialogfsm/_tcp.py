"""TCP byte streams from captured segments (RFC 9293), one per direction, in bounded memory.

Each direction of a connection (keyed by its 4-tuple) is its own stream. Segments are put
in sequence-number order (RFC 9293 3.4, modulo 2**32): bytes already delivered
(retransmissions, overlaps) are dropped, segments after a gap are held until it fills. A SYN
sets the initial sequence number; a stream first seen without one starts at its first
segment with data. FIN and RST end a stream.

Rule: memory is bounded by :class:`StreamLimits`: live streams are capped (the least
recently active is evicted) and expire after ``idle_ns`` of capture time without a segment;
held bytes are capped per stream and in total, and a gap that would exceed them is given up
(the stream is ended and a new one starts at the held data). Streams ended by FIN or RST are
remembered, within the same caps, so that late retransmissions do not open new streams.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import attrs

__all__ = [
    "FIN",
    "NOT_SIP",
    "RST",
    "SIP",
    "SYN",
    "UNDECIDED",
    "Delivery",
    "Stream",
    "StreamLimits",
    "Streams",
]

FIN, SYN, RST = 0x01, 0x02, 0x04
_MOD = 1 << 32
_HALF = 1 << 31

# what the decoder decided about a stream's content (this module never looks at it)
UNDECIDED, SIP, NOT_SIP = 0, 1, 2


class _Counts(Protocol):
    tcp_streams: int
    tcp_streams_live: int
    tcp_streams_expired: int
    tcp_streams_evicted: int
    tcp_retransmissions: int
    tcp_overlaps: int
    tcp_out_of_order: int
    tcp_gaps_abandoned: int


@attrs.frozen
class StreamLimits:
    """Bounds on TCP reassembly."""

    max_streams: int = 10_000
    """Live streams (each direction counts); beyond it the least recently active goes."""
    idle_ns: int = 300 * 1_000_000_000
    """A stream without a segment for this long (capture time) is expired."""
    max_held: int = 65536
    """Out-of-order bytes held for one stream (a SIP message is at most 64 KiB by default)."""
    max_held_total: int = 32 * 1024 * 1024
    """Out-of-order bytes held for all streams together."""


@attrs.define(slots=True, eq=False)
class Stream:
    """One direction of one TCP connection."""

    id: int
    """From 1, in the order streams were first seen; a stream restarted after a SYN or a
    gap given up gets a new id."""
    key: tuple[bytes, int, bytes, int]
    src: tuple[str, int]
    dst: tuple[str, int]
    next_seq: int
    """The sequence number of the next byte to deliver."""
    last_ns: int
    synced: bool
    """Started at a SYN (so its first byte is the first byte of the connection)."""
    isn: int = -1
    closed: bool = False
    kind: int = UNDECIDED
    """The decoder's verdict on the content: UNDECIDED, SIP or NOT_SIP."""
    head: bytes = b""
    """Bytes kept while the decoder has not yet decided what the stream carries."""
    scanned: int = 0
    """Bytes looked at while deciding (bounded by the decoder)."""
    held: dict[int, bytes] = attrs.Factory(dict)
    held_bytes: int = 0
    fin_seq: int = -1


# (stream, in-order bytes, the stream ended)
Delivery = tuple[Stream, bytes, bool]


class Streams:
    """All streams of a capture; :meth:`segment` returns what each segment delivers."""

    def __init__(self, counts: _Counts, limits: StreamLimits, name: Callable[[bytes], str]) -> None:
        """``name`` turns a raw address into text for :attr:`Stream.src` and ``dst``."""
        self._counts = counts
        self._limits = limits
        self._name = name
        self.live: OrderedDict[tuple[bytes, int, bytes, int], Stream] = OrderedDict()
        """Streams by 4-tuple, least recently active first."""
        self.closed: OrderedDict[tuple[bytes, int, bytes, int], Stream] = OrderedDict()
        """Streams ended by FIN or RST (their held bytes freed), oldest first."""
        self.held_total = 0
        self._last_id = 0

    def segment(
        self,
        key: tuple[bytes, int, bytes, int],
        flags: int,
        seq: int,
        data: bytes,
        now: int,
    ) -> list[Delivery]:
        """One segment of the direction ``key`` (source address, port, destination address,
        port); returns the bytes it delivers and the streams it ends, in order."""
        out: list[Delivery] = []
        stream = self.live.get(key)
        if stream is None and key in self.closed and self._after_end(key, flags, seq, data):
            return out
        if flags & SYN:
            if stream is not None and stream.isn != seq:
                self._end(stream, out)  # the 4-tuple is reused by a new connection
                del self.live[key]
                stream = None
            if stream is None:
                stream = self._open(key, (seq + 1) % _MOD, now, True, out)
                stream.isn = seq
            seq = (seq + 1) % _MOD  # RFC 9293 3.4: the SYN occupies one sequence number
        elif stream is None:
            if not data or flags & RST:
                return out  # a bare ACK, FIN or RST of a stream we never saw: nothing to do
            stream = self._open(key, seq, now, False, out)
        else:
            self.live.move_to_end(key)
        stream.last_ns = now
        if data:
            self._order(stream, seq, data, out)
            stream = self.live.get(key, stream)  # a new one if a gap was given up
        if flags & RST:
            self._close(stream, out)
        elif flags & FIN and not stream.closed:
            stream.fin_seq = (seq + len(data)) % _MOD
            if stream.next_seq == stream.fin_seq:
                self._close(stream, out)
        return out

    def _after_end(
        self, key: tuple[bytes, int, bytes, int], flags: int, seq: int, data: bytes
    ) -> bool:
        """A segment of a stream ended by FIN or RST: True when it is old (a retransmission),
        False when a SYN with a new initial sequence number reuses the 4-tuple."""
        if flags & SYN and self.closed[key].isn != seq:
            del self.closed[key]
            return False
        if data:
            self._counts.tcp_retransmissions += 1
        return True

    def _open(
        self,
        key: tuple[bytes, int, bytes, int],
        seq: int,
        now: int,
        synced: bool,
        out: list[Delivery],
    ) -> Stream:
        live = self.live
        while len(live) >= self._limits.max_streams:
            oldest = next(iter(live.values()))
            self._counts.tcp_streams_evicted += 1
            self._end(oldest, out)
            del live[oldest.key]
        self._last_id += 1
        src, sport, dst, dport = key
        names = (self._name(src), sport), (self._name(dst), dport)
        stream = Stream(self._last_id, key, *names, seq, now, synced)
        live[key] = stream
        self._counts.tcp_streams += 1
        self._counts.tcp_streams_live = len(live)
        return stream

    def _order(self, stream: Stream, seq: int, data: bytes, out: list[Delivery]) -> None:
        """Deliver what is new and in order; hold what lies after a gap."""
        counts = self._counts
        ahead = (seq - stream.next_seq) % _MOD
        if ahead >= _HALF:  # starts before the next byte: some or all of it is old
            behind = _MOD - ahead
            if behind >= len(data):
                counts.tcp_retransmissions += 1
                return
            counts.tcp_overlaps += 1
            data = data[behind:]
        elif ahead:
            self._hold(stream, ahead, seq, data, out)
            return
        stream.next_seq = (stream.next_seq + len(data)) % _MOD
        if stream.held:
            data += self._drain(stream)
        out.append((stream, data, False))
        if stream.next_seq == stream.fin_seq:
            self._close(stream, out)

    def _hold(self, stream: Stream, ahead: int, seq: int, data: bytes, out: list[Delivery]) -> None:
        counts = self._counts
        old = stream.held.get(seq)
        if old is not None and len(old) >= len(data):
            counts.tcp_retransmissions += 1
            return
        if old is not None:
            self._release(stream, len(old))
        counts.tcp_out_of_order += 1
        stream.held[seq] = data
        stream.held_bytes += len(data)
        self.held_total += len(data)
        limits = self._limits
        if (
            stream.held_bytes > limits.max_held
            or self.held_total > limits.max_held_total
            or ahead > limits.max_held
        ):
            self._give_up_gap(stream, out)

    def _drain(self, stream: Stream) -> bytes:
        """Held segments that the new next byte reaches, in order (overlaps trimmed)."""
        parts = []
        for seq in sorted(stream.held, key=lambda s: (s - stream.next_seq) % _MOD):
            ahead = (seq - stream.next_seq) % _MOD
            if 0 < ahead < _HALF:
                break  # a gap again; in this order every later segment is past it too
            data = stream.held.pop(seq)
            self._release(stream, len(data))
            behind = (_MOD - ahead) % _MOD
            if behind < len(data):
                parts.append(data[behind:])
                stream.next_seq = (stream.next_seq + len(data) - behind) % _MOD
        return b"".join(parts)

    def _release(self, stream: Stream, size: int) -> None:
        stream.held_bytes -= size
        self.held_total -= size

    def _give_up_gap(self, stream: Stream, out: list[Delivery]) -> None:
        """The gap will not fill in bounded memory: end the stream, and start a new one (not
        synced: the decoder looks for a message start again) at the first held byte, with
        what follows it without a gap. Anything past a further gap is given up too if the
        bounds are still exceeded."""
        self._counts.tcp_gaps_abandoned += 1
        held, size = stream.held, stream.held_bytes
        stream.held = {}
        self._release(stream, size)
        self._end(stream, out)
        del self.live[stream.key]
        first = min(held, key=lambda s: (s - stream.next_seq) % _MOD)
        fresh = self._open(stream.key, first, stream.last_ns, False, out)
        fresh.fin_seq = stream.fin_seq
        fresh.held, fresh.held_bytes = held, size
        self.held_total += size
        data = self._drain(fresh)
        limits = self._limits
        if fresh.held_bytes > limits.max_held or self.held_total > limits.max_held_total:
            self._end_held(fresh)
        out.append((fresh, data, False))
        if fresh.next_seq == fresh.fin_seq:
            self._close(fresh, out)

    def _end_held(self, stream: Stream) -> None:
        """Give up the bytes held behind a gap (counted)."""
        if stream.held:
            self._counts.tcp_gaps_abandoned += 1
            self._release(stream, stream.held_bytes)
            stream.held = {}

    def _end(self, stream: Stream, out: list[Delivery]) -> None:
        """FIN, RST, eviction, expiry or a gap given up: the stream delivers nothing more."""
        self._end_held(stream)
        if not stream.closed:
            out.append((stream, b"", True))
            stream.closed = True

    def _close(self, stream: Stream, out: list[Delivery]) -> None:
        """FIN or RST: end the stream and keep it as a tombstone (bounded like live ones)."""
        if stream.closed:
            return
        self._end(stream, out)
        del self.live[stream.key]
        closed = self.closed
        closed[stream.key] = stream
        if len(closed) > self._limits.max_streams:
            closed.popitem(last=False)
        self._counts.tcp_streams_live = len(self.live)

    def flush(self) -> list[Delivery]:
        """The input ended: end every live stream (bytes held behind a gap are given up)."""
        out: list[Delivery] = []
        for stream in self.live.values():
            self._end(stream, out)
        self.live.clear()
        self._counts.tcp_streams_live = 0
        return out

    def expire(self, now: int) -> list[Delivery]:
        """End and forget streams idle for longer than ``idle_ns``."""
        out: list[Delivery] = []
        live = self.live
        limit = now - self._limits.idle_ns
        while live:
            stream = next(iter(live.values()))
            if stream.last_ns >= limit:
                break
            self._counts.tcp_streams_expired += 1
            self._end(stream, out)
            del live[stream.key]
        closed = self.closed
        while closed and next(iter(closed.values())).last_ns < limit:
            closed.popitem(last=False)
        self._counts.tcp_streams_live = len(live)
        return out
