"""The IP layer of captured frames: IPv4 (RFC 791), IPv6 (RFC 8200) and its extension
headers, and the reassembly of fragmented datagrams in bounded memory.

Rule: nothing here grows without a bound set by :class:`FragmentLimits`; a datagram whose
fragments do not all arrive within ``timeout_ns`` of capture time is dropped and counted.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from typing import Protocol

import attrs

__all__ = [
    "FRAGMENT",
    "IPV4_HEADER",
    "IPV6_HEADER",
    "IPV6_SKIPPABLE",
    "FragmentLimits",
    "Reassembler",
    "walk_ipv6",
]

IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
IPV6_HEADER = struct.Struct("!IHBB16s16s")
FRAGMENT = 44
#: RFC 8200 4 (and the IANA list of IPv6 extension headers): headers walked over to reach
#: the transport; value: how their length octet counts (8-octet or, for AH, 4-octet units)
IPV6_SKIPPABLE = {0: 8, 43: 8, 60: 8, 135: 8, 139: 8, 140: 8, 51: 4}


class _Counts(Protocol):
    fragments: int
    fragments_duplicates: int
    fragments_reassembled: int
    fragments_dropped: int
    fragments_pending: int


def walk_ipv6(data: bytes, pos: int, end: int, next_header: int) -> tuple[int, int]:
    """Skip IPv6 extension headers (hop-by-hop, routing, destination options, AH, ...) from
    ``pos``; return the next header and where it starts, or ``(-1, pos)`` when the chain is
    cut short. The Fragment header (44) is not skipped: the caller reassembles there."""
    while next_header in IPV6_SKIPPABLE:
        if pos + 8 > end:
            return -1, pos
        unit = IPV6_SKIPPABLE[next_header]
        length = (data[pos + 1] + (1 if unit == 8 else 2)) * unit  # RFC 8200 4.3; RFC 4302 2.2
        next_header = data[pos]
        pos += length
    if pos > end:
        return -1, pos
    return next_header, pos


@attrs.frozen
class FragmentLimits:
    """Bounds on IP reassembly."""

    max_pending: int = 1024
    """Datagrams being reassembled at once; a new one beyond it evicts the oldest."""
    timeout_ns: int = 30 * 1_000_000_000
    """A datagram not complete this long (capture time) after its first fragment is dropped
    (RFC 791 3.2 starts its timer at 15 s, RFC 8200 4.5 waits 60 s; Linux waits 30 s)."""
    max_pieces: int = 256
    """Fragments per datagram (64 KiB in 576-byte fragments is 120)."""


@attrs.define(slots=True)
class _Datagram:
    first_ns: int
    pieces: dict[int, bytes]
    size: int = 0
    total: int = -1  # the fragmentable part's length, once the last fragment is seen
    proto: int = -1  # the protocol (IPv4) or next header (IPv6) of the first fragment


# IPv4 key: (source, destination, protocol, identification) (RFC 791 3.2);
# IPv6 key: (source, destination, identification) (RFC 8200 4.5)
_Key = tuple[bytes, bytes, int] | tuple[bytes, bytes, int, int]


class Reassembler:
    """Fragments in, whole datagrams out; memory bounded by :class:`FragmentLimits`.

    Duplicates (same offset and length) are ignored, even after their datagram is complete
    (a capture on two interfaces sees each fragment twice); fragments that overlap otherwise
    make the whole datagram invalid (RFC 5722 for IPv6; Linux treats IPv4 the same way since
    4.19), so it is dropped.
    """

    def __init__(self, counts: _Counts, limits: FragmentLimits) -> None:
        self._counts = counts
        self._limits = limits
        self.pending: dict[_Key, _Datagram] = {}
        """Datagrams in progress, oldest first."""
        self.done: OrderedDict[_Key, tuple[int, frozenset[tuple[int, int]]]] = OrderedDict()
        """Datagrams completed lately: when, and the offset and hash of each fragment, to
        recognise late duplicates (bounded like ``pending``)."""

    def add(
        self, key: _Key, offset: int, more: bool, piece: bytes, *, proto: int, now: int
    ) -> tuple[int, bytes] | None:
        """Add one fragment (``offset`` in octets); return ``(proto, payload)`` when its
        datagram is complete, else ``None``."""
        counts = self._counts
        counts.fragments += 1
        pending = self.pending
        gram = pending.get(key)
        if gram is None:
            self.expire(now)
            seen = self.done.get(key)
            if seen is not None and (offset, hash(piece)) in seen[1]:
                counts.fragments_duplicates += 1
                return None
            if len(pending) >= self._limits.max_pending:
                self._drop(next(iter(pending)))
            gram = pending[key] = _Datagram(now, {})
            counts.fragments_pending = len(pending)
        end = offset + len(piece)
        if (more and len(piece) % 8) or end > 65535 or not self._fits(gram, offset, end, more):
            self._drop(key)  # RFC 8200 4.5: such a fragment invalidates its datagram
            return None
        if offset in gram.pieces and len(gram.pieces[offset]) == len(piece):
            counts.fragments_duplicates += 1
            return None
        gram.pieces[offset] = piece
        gram.size += len(piece)
        if offset == 0:
            gram.proto = proto
        if not more:
            gram.total = end
        if gram.total < 0 or gram.size < gram.total:
            return None
        del pending[key]
        counts.fragments_pending = len(pending)
        counts.fragments_reassembled += 1
        done = self.done
        done.pop(key, None)
        done[key] = (gram.first_ns, frozenset((at, hash(p)) for at, p in gram.pieces.items()))
        if len(done) > self._limits.max_pending:
            done.popitem(last=False)
        return gram.proto, b"".join(gram.pieces[at] for at in sorted(gram.pieces))

    def _fits(self, gram: _Datagram, offset: int, end: int, more: bool) -> bool:
        """False when the fragment overlaps another (other than as an exact duplicate), goes
        past a known end, or would exceed ``max_pieces``."""
        if gram.total >= 0 and (end > gram.total or (not more and end != gram.total)):
            return False
        if not more and any(at + len(p) > end for at, p in gram.pieces.items()):
            return False
        for at, piece in gram.pieces.items():
            if (
                at < end
                and offset < at + len(piece)
                and not (at == offset and len(piece) == end - offset)
            ):
                return False
        return len(gram.pieces) < self._limits.max_pieces or offset in gram.pieces

    def expire(self, now: int) -> None:
        """Drop datagrams whose first fragment is older than the timeout."""
        pending = self.pending
        limit = now - self._limits.timeout_ns
        while pending:
            key, gram = next(iter(pending.items()))
            if gram.first_ns >= limit:
                break
            self._drop(key)
        done = self.done
        while done and next(iter(done.values()))[0] < limit:
            done.popitem(last=False)

    def _drop(self, key: _Key) -> None:
        del self.pending[key]
        self._counts.fragments_dropped += 1
        self._counts.fragments_pending = len(self.pending)
