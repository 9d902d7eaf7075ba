"""Raw packets to SIP transport payloads: link layers, IP, UDP and TCP.

Rule 1: SIP is recognised by content, never by port. A UDP payload is SIP when it starts,
after any CRLFs, with a request line (``METHOD SP Request-URI SP SIP/2.0 CRLF``) or a status
line (``SIP/2.0 SP 3DIGIT SP``); a TCP stream is SIP when its first bytes after any CRLFs
do. A payload of CRLFs only is a keep-alive (RFC 5626 4.4.1), counted, not yielded.
Rule 2: this module does not parse SIP. It yields UDP payloads and the in-order bytes of
TCP streams; framing a stream into messages is ``StreamParser``'s job, one per stream.
Rule 3: everything skipped is counted in :class:`Counts`, and memory is bounded by
:class:`DecoderLimits` whatever the capture holds.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import attrs

from ._ip import FRAGMENT, IPV4_HEADER, IPV6_HEADER, FragmentLimits, Reassembler, walk_ipv6
from ._pcap import RawPacket
from ._tcp import NOT_SIP, SIP, Delivery, Stream, StreamLimits, Streams

__all__ = ["Counts", "Decoder", "DecoderLimits", "Payload", "is_sip_start"]

_TOKEN = rb"[-!%'*+.0-9A-Za-z_`~]+"  # RFC 3261 25.1 token: a method
_VERSION = rb"[Ss][Ii][Pp]/2\.0"  # RFC 3261 7.1: case-insensitive
_START = (
    rb"(?:" + _TOKEN + rb" [^ \r\n]+ " + _VERSION + rb"\r?\n|" + _VERSION + rb" [0-9]{3}[ \r\n])"
)
#: a SIP start line after any CRLFs (RFC 3261 7.5), at the start of a datagram or stream
_SIP = re.compile(rb"[\r\n]*" + _START)
#: a start line at the start of any line: where a stream joined mid-way may be picked up
_RESYNC = re.compile(rb"(?m)^" + _START)
#: the first line cannot become a start line: its first byte is not a token character, or it
#: holds a control character (a TLS record, any binary protocol)
_NOT_START = re.compile(
    rb"[\r\n]*(?:[^-!%'*+.0-9A-Za-z_`~]|[^\r\n]*[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f])"
)

_UDP = struct.Struct("!HHH")
_TCP = struct.Struct("!HHIIBB")
_FRAG6 = struct.Struct("!BBHI")
_ETHER_IP = (0x0800, 0x86DD)
_VLAN = (0x8100, 0x88A8, 0x9100)
#: BSD loopback (LINKTYPE_NULL, LINKTYPE_LOOP) address families: AF_INET, and AF_INET6 as
#: Linux (10), Windows (23), NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30) number it
_FAMILIES = (2, 10, 23, 24, 28, 30)
#: LINKTYPE_RAW (101), DLT_RAW as most systems (12) and OpenBSD (14) number it in files,
#: LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229)
_RAW_IP = (101, 12, 14, 228, 229)
_NON_IP, _TRUNCATED = -1, -2
_SWEEP_NS = 1_000_000_000
_new = tuple.__new__
# an IP datagram: (protocol, source, destination, bytes, where the payload starts and ends)
_Datagram = tuple[int, bytes, bytes, bytes, int, int]


def is_sip_start(data: bytes) -> bool:
    """True when ``data`` starts (after any CRLFs) with a SIP request or status line."""
    return _SIP.match(data) is not None


class Payload(NamedTuple):
    """A SIP datagram, or new in-order bytes of a SIP TCP stream."""

    number: int
    """The packet (frame number) that delivered it: for TCP, the one that filled the gap."""
    time_ns: int
    transport: str
    """``"UDP"`` or ``"TCP"``."""
    src: tuple[str, int]
    dst: tuple[str, int]
    data: bytes
    """The UDP payload (leading CRLFs included), or the stream's next bytes."""
    stream: int
    """TCP: the stream's id (one per direction; feed one ``StreamParser`` per id); UDP: 0."""
    end: bool
    """TCP: the stream ended here (FIN, RST, expiry, eviction or a gap given up); ``data``
    is empty and the stream's parser can go."""


@attrs.define
class Counts:
    """What a :class:`Decoder` saw and skipped."""

    packets: int = 0
    truncated: int = 0
    """Frames shorter than their headers say (cut by the capture's snap length), or whose
    headers are inconsistent."""
    skipped_non_ip: int = 0
    """Frames carrying no IPv4 or IPv6 (ARP, LLDP, unknown link types)."""
    skipped_not_udp_tcp: int = 0
    """IP packets that are neither UDP nor TCP (ICMP, ESP, ...)."""
    skipped_non_sip: int = 0
    """UDP datagrams that are not SIP by content, and TCP segments of non-SIP streams."""
    keepalives: int = 0
    """UDP datagrams of CRLFs only (RFC 5626 4.4.1 style keep-alives)."""
    sip_datagrams: int = 0
    """UDP payloads yielded."""
    fragments: int = 0
    """IP fragments received (IPv4, and IPv6 Fragment headers)."""
    fragments_duplicates: int = 0
    """Fragments received again (ignored), before or after their datagram completed."""
    fragments_reassembled: int = 0
    fragments_dropped: int = 0
    """Datagrams given up: incomplete after the timeout, evicted at the cap, or invalid
    (overlapping fragments, too long)."""
    fragments_pending: int = 0
    """Datagrams still incomplete (now)."""
    tcp_segments: int = 0
    tcp_streams: int = 0
    """Streams opened (each direction of a connection is one)."""
    tcp_streams_sip: int = 0
    tcp_streams_non_sip: int = 0
    """Streams dropped after the first look: their first bytes are not SIP."""
    tcp_streams_live: int = 0
    """Streams tracked now (not ended)."""
    tcp_streams_expired: int = 0
    tcp_streams_evicted: int = 0
    tcp_retransmissions: int = 0
    """Segments whose bytes had all been delivered already."""
    tcp_overlaps: int = 0
    """Segments partly delivered already (only their new bytes were used)."""
    tcp_out_of_order: int = 0
    """Segments held until the bytes before them arrived."""
    tcp_gaps_abandoned: int = 0
    """Gaps that never filled: bytes after them that were held are given up, or (over the
    caps) delivered on a new stream."""
    tcp_bytes_skipped: int = 0
    """Bytes of streams joined mid-way skipped to reach the first SIP start line."""


@attrs.frozen
class DecoderLimits:
    """Bounds on what a :class:`Decoder` keeps. At the defaults the worst case is about
    64 MiB of fragments (1024 datagrams of up to 64 KiB), 32 MiB of out-of-order TCP bytes,
    and an unfinished first line of up to 8 KiB for each of 10,000 streams."""

    fragments: FragmentLimits = attrs.field(factory=FragmentLimits)
    streams: StreamLimits = attrs.field(factory=StreamLimits)
    max_start_line: int = 8192
    """Bytes of a stream's first line looked at before deciding it is not SIP."""
    resync_window: int = 65536
    """Bytes of a stream joined mid-way searched for a start line (a SIP message is at most
    64 KiB by default, so the next one starts within that)."""


class Decoder:
    """RawPackets in, :class:`Payload` records of SIP out, with :attr:`counts` of the rest.

    ``decode(packet)`` takes packets in capture order; ``payloads(packets)`` does it for an
    iterable; :meth:`finish` ends the capture. State is kept across calls: IP fragments and
    TCP streams span packets.
    """

    def __init__(self, *, limits: DecoderLimits = DecoderLimits()) -> None:
        self.counts = Counts()
        self.limits = limits
        self.fragments = Reassembler(self.counts, limits.fragments)
        self.streams = Streams(self.counts, limits.streams, self._name)
        self._names: dict[bytes, str] = {}
        self._next_sweep = 0
        self._last: tuple[int, int] = (0, 0)  # number and time of the last packet decoded

    def payloads(self, packets: Iterable[RawPacket]) -> Iterator[Payload]:
        """Decode every packet, yielding what each delivers."""
        decode = self.decode
        for packet in packets:
            yield from decode(packet)

    def finish(self) -> list[Payload]:
        """The capture ended (call it once, after its last packet): every TCP stream still
        open ends here, with an ``end`` record (numbered and timed as the last packet), so
        that a message it stopped inside of is known; bytes it held behind a gap are given
        up (counted). ``payloads`` does not call it: more packets may follow a batch."""
        number, now = self._last
        out: list[Payload] = []
        for delivery in self.streams.flush():
            self._deliver(number, now, delivery, out)
        return out

    def decode(self, packet: RawPacket) -> list[Payload]:
        """Decode one packet: the SIP it delivers (often one record, often none)."""
        counts = self.counts
        counts.packets += 1
        number, now, linktype, data, _interface, _wire = packet
        self._last = (number, now)
        out: list[Payload] = []
        if now >= self._next_sweep:
            self._sweep(number, now, out)
        off = _link(linktype, data)
        if off >= 0:
            version = data[off] >> 4
            if version == 4:
                ip = self._ipv4(data, off, now)
            elif version == 6:
                ip = self._ipv6(data, off, now)
            else:
                counts.skipped_non_ip += 1
                return out
            if ip is None:
                return out
            proto = ip[0]
            if proto == 17:
                self._udp(number, now, ip, out)
            elif proto == 6:
                self._tcp(number, now, ip, out)
            else:
                counts.skipped_not_udp_tcp += 1
        elif off == _TRUNCATED:
            counts.truncated += 1
        else:
            counts.skipped_non_ip += 1
        return out

    def _ipv4(self, data: bytes, off: int, now: int) -> _Datagram | None:
        """RFC 791 3.1: the header and its options skipped, fragments reassembled (3.2)."""
        if len(data) < off + 20:
            self.counts.truncated += 1
            return None
        vihl, _tos, total, ident, frag, _ttl, proto, _sum, src, dst = IPV4_HEADER.unpack_from(
            data, off
        )
        start = off + (vihl & 0xF) * 4
        end = off + total if total else len(data)  # 0: segmentation offload (TSO)
        if end > len(data) or start > end or start < off + 20:
            self.counts.truncated += 1
            return None
        if frag & 0x3FFF:  # More Fragments, or a Fragment Offset
            key = (src, dst, proto, ident)
            piece = data[start:end]
            whole = self.fragments.add(
                key, (frag & 0x1FFF) * 8, frag & 0x2000 != 0, piece, proto=proto, now=now
            )
            if whole is None:
                return None
            proto, data = whole
            start, end = 0, len(data)
        return proto, src, dst, data, start, end

    def _ipv6(self, data: bytes, off: int, now: int) -> _Datagram | None:
        """RFC 8200: the header, extension headers skipped, fragments reassembled (4.5)."""
        counts = self.counts
        if len(data) < off + 40:
            counts.truncated += 1
            return None
        _word, length, next_header, _hops, src, dst = IPV6_HEADER.unpack_from(data, off)
        end = off + 40 + length if length else len(data)  # 0: a jumbogram (RFC 2675)
        if end > len(data):
            counts.truncated += 1
            return None
        proto, start = walk_ipv6(data, off + 40, end, next_header)
        if proto == FRAGMENT:
            if start + 8 > end:
                counts.truncated += 1
                return None
            inner, _reserved, word, ident = _FRAG6.unpack_from(data, start)
            if word & 0xFFF9 == 0:  # offset 0 and no more: an atomic fragment (RFC 6946)
                proto, start = walk_ipv6(data, start + 8, end, inner)
            else:
                piece = data[start + 8 : end]
                whole = self.fragments.add(
                    (src, dst, ident), word & 0xFFF8, word & 1 == 1, piece, proto=inner, now=now
                )
                if whole is None:
                    return None
                inner, data = whole
                end = len(data)
                proto, start = walk_ipv6(data, 0, end, inner)
        if proto < 0:
            counts.truncated += 1
            return None
        return proto, src, dst, data, start, end

    def _udp(self, number: int, now: int, ip: _Datagram, out: list[Payload]) -> None:
        """RFC 768; the payload is SIP by its first line, or a keep-alive, or skipped."""
        counts = self.counts
        _proto, src, dst, data, start, end = ip
        if start + 8 > end:
            counts.truncated += 1
            return
        sport, dport, length = _UDP.unpack_from(data, start)
        if length:  # 0: a jumbogram (RFC 2675)
            if length < 8 or start + length > end:
                counts.truncated += 1
                return
            end = start + length
        start += 8
        if _SIP.match(data, start, end):
            counts.sip_datagrams += 1
            names = self._names
            source = (names.get(src) or self._name(src), sport)
            target = (names.get(dst) or self._name(dst), dport)
            record = (number, now, "UDP", source, target, data[start:end], 0, False)
            out.append(_new(Payload, record))
        elif start < end and not data[start:end].strip(b"\r\n"):
            counts.keepalives += 1
        else:
            counts.skipped_non_sip += 1

    def _tcp(self, number: int, now: int, ip: _Datagram, out: list[Payload]) -> None:
        """RFC 9293 3.1: the header; the segment goes to its stream."""
        counts = self.counts
        _proto, src, dst, data, start, end = ip
        if start + 20 > end:
            counts.truncated += 1
            return
        sport, dport, seq, _ack, offset, flags = _TCP.unpack_from(data, start)
        begin = start + (offset >> 4) * 4
        if begin > end or begin < start + 20:
            counts.truncated += 1
            return
        counts.tcp_segments += 1
        key = (src, sport, dst, dport)
        for delivery in self.streams.segment(key, flags, seq, data[begin:end], now):
            self._deliver(number, now, delivery, out)

    def _deliver(self, number: int, now: int, delivery: Delivery, out: list[Payload]) -> None:
        """A stream's new bytes or its end, as the decision on its content says."""
        stream, chunk, ended = delivery
        if stream.kind == NOT_SIP:
            if chunk:
                self.counts.skipped_non_sip += 1
            return
        if stream.kind != SIP:
            if ended:
                stream.head = b""
                return
            chunk = self._decide(stream, chunk)
            if not chunk:
                return
        record = (number, now, "TCP", stream.src, stream.dst, chunk, stream.id, ended)
        out.append(_new(Payload, record))

    def _decide(self, stream: Stream, chunk: bytes) -> bytes:
        """Is this stream SIP? Return the bytes to deliver when it is; keep what is needed to
        decide (bounded) while the first line is incomplete."""
        counts = self.counts
        limits = self.limits
        head = stream.head + chunk if stream.head else chunk
        if stream.synced:  # its first byte is the connection's first: a message starts there
            if _SIP.match(head):
                return self._is_sip(stream, head)
            rest = head.lstrip(b"\r\n")
            if b"\n" in rest or len(rest) > limits.max_start_line or _NOT_START.match(rest):
                return self._not_sip(stream)
            stream.head = rest  # keep-alive CRLFs alone are not kept (they could never end)
            return b""
        found = _RESYNC.search(head)  # joined mid-way: pick up at the next start line
        if found:
            counts.tcp_bytes_skipped += found.start()
            return self._is_sip(stream, head[found.start() :])
        stream.scanned += len(chunk)
        if stream.scanned > limits.resync_window:
            return self._not_sip(stream)
        keep = len(head) - head.rfind(b"\n") - 1  # an unfinished line may become a start line
        if keep > limits.max_start_line:
            keep = 0
        counts.tcp_bytes_skipped += len(head) - keep
        stream.head = head[len(head) - keep :]
        return b""

    def _is_sip(self, stream: Stream, data: bytes) -> bytes:
        stream.kind = SIP
        stream.head = b""
        self.counts.tcp_streams_sip += 1
        return data

    def _not_sip(self, stream: Stream) -> bytes:
        stream.kind = NOT_SIP
        stream.head = b""
        self.counts.tcp_streams_non_sip += 1
        self.counts.skipped_non_sip += 1
        return b""

    def _sweep(self, number: int, now: int, out: list[Payload]) -> None:
        """Once a second of capture time: drop stale fragments, expire idle streams."""
        self._next_sweep = now + _SWEEP_NS
        self.fragments.expire(now)
        for delivery in self.streams.expire(now):
            self._deliver(number, now, delivery, out)

    def _name(self, address: bytes) -> str:
        names = self._names
        if len(names) > 65536:
            names.clear()
        name = names[address] = socket.inet_ntop(
            socket.AF_INET if len(address) == 4 else socket.AF_INET6, address
        )
        return name


def _link(linktype: int, data: bytes) -> int:
    """Where the IP header starts behind the link layer, or _NON_IP or _TRUNCATED."""
    size = len(data)
    if linktype == 1:  # Ethernet
        if size > 14 and data[12] == 8 and data[13] == 0:
            return 14  # IPv4, untagged: most frames, without a call
        return _ethertype(data, 12)
    if linktype in _RAW_IP:
        return 0 if size else _TRUNCATED
    if linktype == 113:  # Linux cooked v1: 16 bytes, protocol (an EtherType) at 14
        return _ethertype(data, 14)
    if linktype == 276:  # Linux cooked v2: 20 bytes, protocol at 0
        if size < 21:
            return _TRUNCATED
        return 20 if (data[0] << 8 | data[1]) in _ETHER_IP else _NON_IP
    if linktype in (0, 108):  # BSD loopback: a 4-byte address family
        if size < 5:
            return _TRUNCATED
        # LOOP (108) is big-endian; NULL (0) is in the capturing host's byte order, and every
        # family fits in one byte, so whichever end byte is not zero holds it
        family = data[3] if linktype == 108 or data[0] == 0 else data[0]
        return 4 if family in _FAMILIES else _NON_IP
    return _NON_IP


def _ethertype(data: bytes, at: int) -> int:
    """Skip 802.1Q/802.1ad tags from the EtherType at ``at``; the IP offset or an error."""
    if len(data) < at + 3:
        return _TRUNCATED
    ethertype = data[at] << 8 | data[at + 1]
    while ethertype in _VLAN:
        at += 4
        if len(data) < at + 3:
            return _TRUNCATED
        ethertype = data[at] << 8 | data[at + 1]
    return at + 2 if ethertype in _ETHER_IP else _NON_IP
