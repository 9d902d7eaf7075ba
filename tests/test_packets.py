"""Raw packets to SIP payloads: link layers, IPv4/IPv6, fragments, UDP, TCP streams.

Payloads are checked against tshark on the committed captures (its UDP payloads after
IP reassembly, its "follow tcp" streams), and against explicit expectations; bounded memory
is checked with floods of packets built here.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pcap import CAPTURES, tshark, tshark_fields

from dialogfsm import StreamParser
from dialogfsm._ip import FragmentLimits
from dialogfsm._packets import Counts, Decoder, DecoderLimits, Payload, is_sip_start
from dialogfsm._pcap import RawPacket, read_packets
from dialogfsm._tcp import StreamLimits

SECOND = 1_000_000_000
A, B = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
SIP_MESSAGE = (
    b"OPTIONS sip:b@example.net SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
    b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.net>\r\nCall-ID: c1\r\n"
    b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)
MIX = sorted(
    name
    for name in (p.name for p in CAPTURES.iterdir())
    if name.startswith("mix-") and name not in ("mix-eth-snap100.pcap", "mix-eth-cut.pcap")
)
#: the start of each SIP message in the scenarios, written out (not the decoder's pattern)
SIP_STARTS = (b"INVITE ", b"ACK ", b"BYE ", b"OPTIONS ", b"MESSAGE ", b"NOTIFY ", b"SIP/2.0 ")


def decode(name: str) -> tuple[list[Payload], Counts]:
    decoder = Decoder()
    out = list(decoder.payloads(read_packets(CAPTURES / name))) + decoder.finish()
    return out, decoder.counts


# ---- frames built here (raw IP, LINKTYPE_RAW 101) ---------------------------------------------


def ipv4(payload: bytes, proto: int = 17, ident: int = 1, frag: int = 0, src: bytes = A) -> bytes:
    return (
        struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, B)
        + payload
    )


def udp(payload: bytes, sport: int = 5060, dport: int = 5060) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(
    seq: int, data: bytes = b"", flags: int = 0x18, ports: tuple[int, int] = (40000, 5060)
) -> bytes:
    return struct.pack("!HHIIBBHHH", *ports, seq % 2**32, 0, 0x50, flags, 65535, 0, 0) + data


def raw(number: int, time_ns: int, packet: bytes) -> RawPacket:
    return RawPacket(number, time_ns, 101, packet, 0, len(packet))


def feed(decoder: Decoder, packets: list[bytes]) -> list[Payload]:
    """Decode raw IP packets numbered from 1, one microsecond apart."""
    out: list[Payload] = []
    for number, packet in enumerate(packets, 1):
        out += decoder.decode(raw(number, number * 1000, packet))
    return out


SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10


# ---- what is SIP ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "sip"),
    [
        (b"INVITE sip:b@example.net SIP/2.0\r\n", True),
        (b"\r\n\r\nBYE sip:b@h SIP/2.0\r\n", True),  # RFC 3261 7.5: CRLFs before a message
        (b"X-CUSTOM.1 sips:b@h;transport=tls SIP/2.0\r\n", True),  # a method is any token
        (b"SIP/2.0 180 Ringing\r\n", True),
        (b"sip/2.0 200 OK\r\n", True),  # RFC 3261 7.1: SIP-Version is case-insensitive
        (b"INVITE sip:b@h SIP/2.0", False),  # no line end: not a start line yet
        (b"INVITE  sip:b@h SIP/2.0\r\n", False),  # one SP exactly
        (b"GET / HTTP/1.1\r\n", False),
        (b"HTTP/1.1 200 OK\r\n", False),
        (b"SIP/2.0 20 OK\r\n", False),  # 3DIGIT
        (b"\r\n\r\n", False),
        (b"", False),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", False),  # a TLS ClientHello
    ],
)
def test_sip_start_line(data: bytes, sip: bool) -> None:
    """RFC 3261 7.1/7.2: Request-Line = Method SP Request-URI SP SIP-Version CRLF;
    Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF."""
    assert is_sip_start(data) is sip


# ---- UDP, against tshark ------------------------------------------------------------------------


def _tshark_udp(name: str) -> list[tuple[int, tuple[str, int], tuple[str, int], bytes]]:
    rows = tshark_fields(
        CAPTURES / name,
        "frame.number",
        "ip.src",
        "ipv6.src",
        "ip.dst",
        "ipv6.dst",
        "udp.srcport",
        "udp.dstport",
        "udp.payload",
    )
    found = []
    for number, src4, src6, dst4, dst6, sport, dport, payload in rows:
        data = bytes.fromhex(payload)
        if data.lstrip(b"\r\n").startswith(SIP_STARTS):
            found.append(
                (int(number), (src4 or src6, int(sport)), (dst4 or dst6, int(dport)), data)
            )
    return found


@pytest.mark.parametrize(
    "name", [*MIX, "fragments-eth.pcapng", "fragments-sll2.pcap", "dummy-udp4.pcapng"]
)
def test_udp_payloads_as_tshark_reassembles_them(name: str) -> None:
    """Every UDP datagram tshark shows (after IP reassembly) whose payload is a SIP message
    is yielded, by the packet that completed it, with the same endpoints and bytes; no other."""
    expected = _tshark_udp(name)
    ours, _counts = decode(name)
    assert [(p.number, p.src, p.dst, p.data) for p in ours] == expected
    assert {p.transport for p in ours} == {"UDP"}
    assert expected


def test_same_payloads_behind_every_link_type() -> None:
    """Ethernet (with an 802.1Q tag), Linux cooked v1 and v2, BSD null in either byte order,
    LOOP, raw IP (101, 12, 14), pcap and pcapng, merged interfaces: the same SIP."""
    reference = [(p.src, p.dst, p.data) for p in decode("mix-eth.pcap")[0]]
    assert len(reference) == 6
    copies = {"mix-merged.pcapng": 3, "mix-sections.pcapng": 2}  # files of several files
    for name in MIX:
        payloads = [(p.src, p.dst, p.data) for p in decode(name)[0]]
        assert sorted(payloads) == sorted(reference * copies.get(name, 1)), name


def test_sip_by_content_not_port() -> None:
    """SIP on 40000 and 5099 (one with CRLFs before its status line) is found; DNS, ICMP,
    ARP, a CRLF keep-alive and a non-SIP datagram on 5060 are skipped and counted."""
    ours, counts = decode("mix-eth.pcap")
    assert [(p.number, p.src[1], p.dst[1]) for p in ours] == [
        (4, 5060, 5060),
        (6, 5060, 5060),
        (7, 40000, 5099),
        (8, 5099, 40000),
        (10, 5060, 5060),
        (11, 5060, 5060),
    ]
    assert ours[3].data.startswith(b"\r\nSIP/2.0 200 OK\r\n")
    assert ours[4].src == ("2001:db8::10", 5060)
    assert (counts.packets, counts.sip_datagrams, counts.keepalives) == (11, 6, 1)
    assert (counts.skipped_non_ip, counts.skipped_not_udp_tcp, counts.skipped_non_sip) == (1, 1, 2)


def test_frames_cut_by_the_snap_length_are_counted() -> None:
    """A frame captured shorter than its IP total length is truncated: counted, not used."""
    ours, counts = decode("mix-eth-snap100.pcap")
    assert ours == []
    assert counts.truncated == 6  # the six SIP frames; DNS, STUN, keep-alive fit in 100 bytes
    assert counts.keepalives == 1


# ---- IP fragments ------------------------------------------------------------------------------


def test_fragments_out_of_order_duplicated_ipv6() -> None:
    """RFC 791: IPv4 fragments in any order, a duplicate ignored; RFC 8200 4.5: IPv6
    fragments behind hop-by-hop and destination options; 4: routing and destination
    options headers skipped; an incomplete datagram stays pending."""
    ours, counts = decode("fragments-eth.pcapng")
    assert [(p.number, p.src[0], len(p.data)) for p in ours] == [
        (3, "192.0.2.10", 2910),
        (6, "2001:db8::10", 2210),
        (7, "2001:db8::10", 232),
    ]
    assert all(p.data.endswith(b"\r\n") for p in ours)
    assert counts.fragments == 7
    assert (counts.fragments_reassembled, counts.fragments_duplicates) == (2, 1)
    assert (counts.fragments_pending, counts.fragments_dropped) == (1, 0)


def _pieces(payload: bytes, size: int = 1200) -> list[tuple[int, bytes, bool]]:
    return [
        (at, payload[at : at + size], at + size < len(payload))
        for at in range(0, len(payload), size)
    ]


def test_fragments_reassembled_whatever_the_order() -> None:
    """RFC 791 3.2: the datagram is whole when every octet from 0 to the end of the last
    fragment (MF clear) has arrived, in any order."""
    datagram = udp(SIP_MESSAGE + b"x" * 3000)
    frames = [
        ipv4(piece, frag=at // 8 | (0x2000 if more else 0)) for at, piece, more in _pieces(datagram)
    ]
    for order in itertools.permutations(frames):
        out = feed(Decoder(), list(order))
        assert [(p.number, p.data) for p in out] == [(3, datagram[8:])]


def test_duplicate_fragment_does_not_stand_in_for_a_missing_one() -> None:
    """A fragment received twice counts once: the datagram completes only when every octet
    has arrived (RFC 791 3.2), and is yielded once."""
    datagram = udp(SIP_MESSAGE + b"x" * 3000)
    pieces = _pieces(datagram)
    frames = [ipv4(piece, frag=at // 8 | (0x2000 if more else 0)) for at, piece, more in pieces]
    decoder = Decoder()
    out = feed(decoder, [frames[0], frames[0], frames[2], frames[2], frames[1], frames[1]])
    assert [(p.number, p.data) for p in out] == [(5, datagram[8:])]
    assert decoder.counts.fragments_duplicates == 3
    assert decoder.counts.fragments_pending == 0


def test_overlapping_fragments_drop_the_datagram() -> None:
    """RFC 5722: a fragment overlapping another (not an exact duplicate) makes the datagram
    invalid; it is dropped and counted."""
    datagram = udp(SIP_MESSAGE + b"x" * 3000)
    decoder = Decoder()
    out = feed(
        decoder,
        [
            ipv4(datagram[:1200], frag=0x2000),
            ipv4(datagram[800:2000], frag=100 | 0x2000),  # offset 800 overlaps 0-1200
            ipv4(datagram[1200:], frag=150),
        ],
    )
    assert out == []
    assert decoder.counts.fragments_dropped == 1


def test_stale_fragments_dropped_by_capture_time() -> None:
    """A datagram not complete 30 s (capture time) after its first fragment is dropped."""
    datagram = udp(SIP_MESSAGE + b"x" * 3000)
    decoder = Decoder()
    decoder.decode(raw(1, 0, ipv4(datagram[:1200], frag=0x2000)))
    decoder.decode(raw(2, 29 * SECOND, ipv4(udp(SIP_MESSAGE))))
    assert decoder.counts.fragments_pending == 1
    decoder.decode(raw(3, 31 * SECOND, ipv4(udp(SIP_MESSAGE))))
    assert (decoder.counts.fragments_pending, decoder.counts.fragments_dropped) == (0, 1)
    assert decoder.decode(raw(4, 32 * SECOND, ipv4(datagram[1200:], frag=150))) == []


def test_fragment_flood_bounded() -> None:
    """Never-completed fragments with distinct ids: at most ``max_pending`` datagrams are
    held at any time, the rest are dropped and counted."""
    limits = DecoderLimits(fragments=FragmentLimits(max_pending=100))
    decoder = Decoder(limits=limits)
    piece = b"y" * 1200
    for number in range(1, 20_001):
        decoder.decode(
            raw(
                number,
                number * 1000,
                ipv4(
                    piece,
                    ident=number,
                    frag=0x2000,
                    src=bytes([10, 0, number >> 8 & 255, number & 255]),
                ),
            )
        )
        assert len(decoder.fragments.pending) <= 100
    assert decoder.counts.fragments_dropped == 20_000 - 100
    assert decoder.counts.fragments_pending == 100


def test_fragment_too_many_pieces_or_too_long() -> None:
    """A datagram beyond 65535 octets, or in more pieces than ``max_pieces``, is dropped."""
    decoder = Decoder(limits=DecoderLimits(fragments=FragmentLimits(max_pieces=4)))
    feed(decoder, [ipv4(b"z" * 8, frag=i | 0x2000) for i in range(6)])
    feed(decoder, [ipv4(b"z" * 16, ident=2, frag=8190 | 0x2000)])  # 65520 + 16 > 65535
    assert decoder.counts.fragments_dropped == 2
    assert decoder.counts.fragments_pending == 1  # the rest of the first one starts anew


# ---- TCP, against tshark ----------------------------------------------------------------------


def _follow(path: Path) -> dict[tuple[tuple[str, int], tuple[str, int]], bytes]:
    """tshark's reassembled bytes of every TCP direction ("follow tcp", raw)."""
    streams = {int(row[0]) for row in tshark_fields(path, "tcp.stream") if row[0]}
    found: dict[tuple[tuple[str, int], tuple[str, int]], bytes] = {}
    for index in sorted(streams):
        text = tshark(path, "-q", "-z", f"follow,tcp,raw,{index}")
        nodes = [re.match(r"Node \d: \[?([^\]]+?)\]?:(\d+)$", line) for line in text.splitlines()]
        ends = [(m.group(1), int(m.group(2))) for m in nodes if m]
        data: dict[bool, bytes] = defaultdict(bytes)
        for line in text.split(f"Node 1: {text.split('Node 1: ')[1].splitlines()[0]}\n")[
            1
        ].splitlines():
            if line.startswith("="):
                break
            data[line.startswith("\t")] += bytes.fromhex(line.strip())
        found[ends[0], ends[1]] = data[False]
        found[ends[1], ends[0]] = data[True]
    return found


@pytest.mark.parametrize("name", ["tcp-eth.pcapng", "tcp-null.pcap", "dummy-tcp6.pcapng"])
def test_tcp_streams_as_tshark_follows_them(name: str) -> None:
    """RFC 9293 3.4/3.10.7.4: per direction, in sequence order (the client's sequence
    numbers wrap past 2**32), retransmissions and overlaps dropped, an out-of-order segment
    held until the gap fills: the bytes of each SIP stream are tshark's, and no others."""
    followed = _follow(CAPTURES / name)
    ours, _counts = decode(name)
    streams: dict[tuple[tuple[str, int], tuple[str, int]], bytes] = defaultdict(bytes)
    for payload in ours:
        streams[payload.src, payload.dst] += payload.data
    sip = {
        ends: data for ends, data in followed.items() if data.lstrip(b"\r\n").startswith(SIP_STARTS)
    }
    assert dict(streams) == sip
    assert sip


def test_tcp_scenario_counts_and_ends() -> None:
    """tcp-eth: the segments of the INVITE arrive out of order, retransmitted and
    overlapping; the HTTP stream on 5060 is dropped after its first look; FIN and RST end
    their streams with an ``end`` record, and so does the end of the capture for the stream
    still open."""
    ours, counts = decode("tcp-eth.pcapng")
    assert [(p.number, p.stream, len(p.data), p.end) for p in ours] == [
        (4, 1, 100, False),  # INVITE bytes 0-100
        (7, 1, 100, False),  # 100-200; 250-298 still held behind the gap 200-250
        (8, 1, 98, False),  # the overlap 150-270 brings 200-270, and the held 270-298
        (10, 2, 433, False),  # 100 Trying and 180 Ringing in one segment
        (11, 1, 0, True),
        (12, 2, 0, True),  # FIN, each direction
        (13, 3, 60, False),
        (14, 3, 167, False),  # joined mid-way (no SYN), port 5099
        (19, 5, 238, False),
        (20, 5, 0, True),  # IPv6, a keep-alive first; RST
        (20, 3, 0, True),  # the capture ends: the stream joined mid-way ends with it
    ]
    assert counts.tcp_streams_live == 0
    assert (counts.tcp_retransmissions, counts.tcp_overlaps, counts.tcp_out_of_order) == (2, 1, 1)
    assert (counts.tcp_streams, counts.tcp_streams_sip, counts.tcp_streams_non_sip) == (5, 4, 1)
    assert counts.skipped_non_sip == 2  # both HTTP segments


def test_tcp_streams_frame_into_messages() -> None:
    """One StreamParser per stream id frames the bytes into SIP messages: a message split
    over segments, two in one segment, CRLF keep-alives skipped (RFC 5626 4.4.1)."""
    ours, _counts = decode("tcp-eth.pcapng")
    parsers: dict[int, StreamParser] = defaultdict(StreamParser)
    messages: dict[int, list[str]] = defaultdict(list)
    for payload in ours:
        for message in parsers[payload.stream].feed(payload.data):
            messages[payload.stream].append(bytes(message).split(b"\r\n", 1)[0].decode())
        if payload.end:
            assert parsers.pop(payload.stream).buffered == 0
    assert dict(messages) == {
        1: ["INVITE sip:bob@example.net SIP/2.0"],
        2: ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"],
        3: ["BYE sip:alice@192.0.2.10 SIP/2.0"],
        5: ["OPTIONS sip:bob@example.net SIP/2.0"],
    }


# ---- TCP, built here ---------------------------------------------------------------------------


def test_midway_stream_picks_up_at_a_start_line() -> None:
    """A stream seen without its SYN may start inside a message: bytes before the first
    start line at the start of a line are skipped and counted."""
    tail = b"a=sendrecv\r\nm=audio 4000 RTP/AVP 0\r\n"
    decoder = Decoder()
    out = feed(
        decoder,
        [
            ipv4(tcp(500, tail[:20]), proto=6),
            ipv4(tcp(520, tail[20:] + SIP_MESSAGE[:10]), proto=6),
            ipv4(tcp(520 + len(tail) - 20 + 10, SIP_MESSAGE[10:]), proto=6),
        ],
    )
    assert b"".join(p.data for p in out) == SIP_MESSAGE
    assert decoder.counts.tcp_bytes_skipped == len(tail)
    assert decoder.counts.tcp_streams_sip == 1


def test_stream_with_syn_must_start_with_sip() -> None:
    """A stream whose first bytes (after its SYN) cannot start a start line is not SIP:
    dropped at that first look (a TLS record here, no need to wait for a line end), and its
    later segments are skipped without being kept, even one that looks like SIP."""
    decoder = Decoder()
    out = feed(
        decoder,
        [
            ipv4(tcp(99, flags=SYN), proto=6),
            ipv4(tcp(100, b"\x16\x03\x01\x00\x10"), proto=6),
            ipv4(tcp(105, b"\r\nmore"), proto=6),
            ipv4(tcp(111, SIP_MESSAGE), proto=6),
        ],
    )
    assert out == []
    assert decoder.counts.tcp_streams_non_sip == 1
    assert decoder.counts.skipped_non_sip == 3
    assert decoder.streams.live[A, 40000, B, 5060].head == b""


@pytest.mark.parametrize(
    ("first", "sip"),
    [
        (b"INVITE sip:b@h SI", None),  # may still become a request line: wait
        (b"SIP/2.0 1", None),
        (b"\r\n\r\n", None),  # keep-alives before the first message (not kept)
        (b"HTTP/1.1 200 OK\r\n", False),  # a whole first line that is not a start line
        (b"GET /index.html", None),  # no line end yet
        (b"\x00\x01", False),  # cannot be: decided at once
        (b"PING\x07", False),
        (b"INVITE sip:b@h SIP/2.0\r\n", True),
    ],
)
def test_stream_decided_on_its_first_line(first: bytes, sip: bool | None) -> None:
    """The first look at a stream that began with a SYN: SIP, not SIP, or not yet known."""
    decoder = Decoder()
    out = feed(decoder, [ipv4(tcp(0, flags=SYN), proto=6), ipv4(tcp(1, first), proto=6)])
    assert bool(out) is (sip is True)
    assert decoder.counts.tcp_streams_non_sip == (1 if sip is False else 0)
    head = first.lstrip(b"\r\n") if sip is None else b""
    assert decoder.streams.live[A, 40000, B, 5060].head == head


def test_keepalives_before_the_first_message_are_not_kept() -> None:
    """CRLF keep-alives (RFC 5626 4.4.1) on a stream that has not sent a message yet cost no
    memory however many there are; the message after them is SIP."""
    decoder = Decoder()
    frames = [ipv4(tcp(0, flags=SYN), proto=6)]
    frames += [ipv4(tcp(1 + 4 * i, b"\r\n\r\n"), proto=6) for i in range(1000)]
    frames.append(ipv4(tcp(4001, SIP_MESSAGE), proto=6))
    out = feed(decoder, frames[:-1])
    assert (out, decoder.streams.live[A, 40000, B, 5060].head) == ([], b"")
    out = feed(decoder, frames[-1:])
    assert [p.data for p in out] == [SIP_MESSAGE]


def test_out_of_order_segments_delivered_when_the_gap_fills() -> None:
    """RFC 9293 3.10.7.4: segments beyond the next expected byte are held, then delivered
    in order with the segment that fills the gap (attributed to that packet)."""
    one, two, three = SIP_MESSAGE[:50], SIP_MESSAGE[50:120], SIP_MESSAGE[120:]
    decoder = Decoder()
    out = feed(decoder, [
        ipv4(tcp(0, flags=SYN), proto=6),
        ipv4(tcp(1 + 120, three), proto=6),
        ipv4(tcp(1, one), proto=6),
        ipv4(tcp(1 + 50, two), proto=6),
    ])  # fmt: skip
    assert [(p.number, p.data) for p in out] == [(3, one), (4, two + three)]
    assert decoder.counts.tcp_out_of_order == 1
    assert decoder.streams.held_total == 0


def test_data_on_a_syn_follows_it() -> None:
    """RFC 9293 3.4: the SYN occupies the initial sequence number, so data carried on it
    (TCP Fast Open, RFC 7413) starts at ISN + 1."""
    decoder = Decoder()
    out = feed(decoder, [
        ipv4(tcp(41, SIP_MESSAGE[:60], flags=SYN), proto=6),
        ipv4(tcp(42 + 60, SIP_MESSAGE[60:]), proto=6),
    ])  # fmt: skip
    assert b"".join(p.data for p in out) == SIP_MESSAGE
    assert decoder.counts.tcp_overlaps == decoder.counts.tcp_out_of_order == 0


def test_new_syn_on_a_used_four_tuple_is_a_new_stream() -> None:
    """A SYN with another initial sequence number on the same 4-tuple is a new connection;
    a retransmission after FIN is ignored (RFC 9293 3.5, 3.6)."""
    decoder = Decoder()
    out = feed(
        decoder,
        [
            ipv4(tcp(99, flags=SYN), proto=6),
            ipv4(tcp(100, SIP_MESSAGE), proto=6),
            ipv4(tcp(100 + len(SIP_MESSAGE), flags=FIN | ACK), proto=6),
            ipv4(tcp(100, SIP_MESSAGE), proto=6),  # retransmitted after the FIN
            ipv4(tcp(7000, flags=SYN), proto=6),
            ipv4(tcp(7001, SIP_MESSAGE), proto=6),
        ],
    )
    assert [(p.number, p.stream, p.end) for p in out] == [
        (2, 1, False),
        (3, 1, True),
        (6, 2, False),
    ]
    assert decoder.counts.tcp_retransmissions == 1


def test_reset_ends_a_stream_and_its_gap() -> None:
    """RFC 9293 3.10.7.4: a RST ends the stream; bytes held behind a gap that never filled
    are given up and counted, and the stream's parser gets its ``end`` record."""
    decoder = Decoder()
    out = feed(decoder, [
        ipv4(tcp(0, flags=SYN), proto=6),
        ipv4(tcp(1, SIP_MESSAGE), proto=6),
        ipv4(tcp(1 + len(SIP_MESSAGE) + 10, SIP_MESSAGE), proto=6),  # 10 bytes never seen
        ipv4(tcp(1 + len(SIP_MESSAGE), flags=RST | ACK), proto=6),
    ])  # fmt: skip
    assert [(p.number, p.data, p.end) for p in out] == [(2, SIP_MESSAGE, False), (4, b"", True)]
    assert (decoder.counts.tcp_gaps_abandoned, decoder.streams.held_total) == (1, 0)
    assert decoder.counts.tcp_streams_live == 0


def test_gap_that_never_fills_is_given_up_in_bounded_memory() -> None:
    """Segments after a lost one are held up to ``max_held`` bytes; beyond it the gap is
    given up: the stream ends, and a new one picks up the held bytes at a start line."""
    limits = DecoderLimits(streams=StreamLimits(max_held=4096))
    decoder = Decoder(limits=limits)
    segments = [ipv4(tcp(99, flags=SYN), proto=6), ipv4(tcp(100, SIP_MESSAGE), proto=6)]
    seq = 100 + len(SIP_MESSAGE) + 1000  # 1000 bytes never captured
    for _ in range(30):
        segments.append(ipv4(tcp(seq, SIP_MESSAGE), proto=6))
        seq += len(SIP_MESSAGE)
    out = []
    for number, frame in enumerate(segments, 1):
        out += decoder.decode(raw(number, number, frame))
        assert all(s.held_bytes <= 4096 for s in decoder.streams.live.values())
        assert decoder.streams.held_total <= 4096
    assert decoder.counts.tcp_gaps_abandoned >= 1
    assert [p.stream for p in out if p.end] == [1]
    messages = [
        m
        for s in (1, 2)
        for m in StreamParser().feed(b"".join(p.data for p in out if p.stream == s))
    ]
    assert len(messages) > 20  # what came after the gap is not lost


def test_gap_flood_of_tiny_segments_bounded() -> None:
    """Thousands of one-byte segments, each after a gap: held bytes stay within the caps
    after every packet, and each gap given up is counted."""
    limits = DecoderLimits(streams=StreamLimits(max_held=512, max_held_total=2048))
    decoder = Decoder(limits=limits)
    frames = [ipv4(tcp(0, flags=SYN), proto=6), ipv4(tcp(1, SIP_MESSAGE), proto=6)]
    frames += [ipv4(tcp(10_000 + 2 * i, b"z"), proto=6) for i in range(5000)]
    for number, frame in enumerate(frames, 1):
        decoder.decode(raw(number, number, frame))
        assert decoder.streams.held_total <= 2048
        assert all(s.held_bytes <= 512 for s in decoder.streams.live.values())
    assert decoder.counts.tcp_gaps_abandoned >= 5000 // 512


def test_stream_flood_bounded() -> None:
    """More streams than ``max_streams``: the least recently active are evicted (counted,
    each SIP one with an ``end`` record), and the table never exceeds the cap."""
    limits = DecoderLimits(streams=StreamLimits(max_streams=500))
    decoder = Decoder(limits=limits)
    ends = 0
    for number in range(1, 5001):
        frame = ipv4(tcp(1, SIP_MESSAGE[:40], ports=(number, 5060)), proto=6)
        ends += sum(p.end for p in decoder.decode(raw(number, number, frame)))
        assert len(decoder.streams.live) <= 500
    assert decoder.counts.tcp_streams_evicted == 4500
    assert decoder.counts.tcp_streams_live == 500
    assert ends == 4500  # each evicted stream was SIP: its parser can go


def test_idle_streams_expire_by_capture_time() -> None:
    """A stream without a segment for ``idle_ns`` of capture time is expired, with an
    ``end`` record; time is the packets', not the clock's."""
    decoder = Decoder(limits=DecoderLimits(streams=StreamLimits(idle_ns=60 * SECOND)))
    out = decoder.decode(raw(1, 0, ipv4(tcp(1, SIP_MESSAGE), proto=6)))
    assert [p.stream for p in out] == [1]
    assert decoder.decode(raw(2, 59 * SECOND, ipv4(udp(b"x")))) == []
    out = decoder.decode(raw(3, 62 * SECOND, ipv4(udp(b"x"))))
    assert [(p.stream, p.end, p.number) for p in out] == [(1, True, 3)]
    assert (decoder.counts.tcp_streams_expired, decoder.counts.tcp_streams_live) == (1, 0)


def test_gap_flood_many_streams_bounded_in_total() -> None:
    """Held bytes are bounded over all streams together (``max_held_total``)."""
    limits = DecoderLimits(streams=StreamLimits(max_held=8192, max_held_total=64 * 1024))
    decoder = Decoder(limits=limits)
    for number in range(1, 3001):
        port = number % 200 + 1
        seq = 1000 * (number // 200 + 2)  # each stream: first segment at 1, then gaps
        first = number <= 200
        frame = ipv4(
            tcp(1 if first else seq, SIP_MESSAGE if first else b"g" * 500, ports=(port, 5060)),
            proto=6,
        )
        decoder.decode(raw(number, number, frame))
        assert decoder.streams.held_total <= 64 * 1024
    assert decoder.counts.tcp_gaps_abandoned > 0


# ---- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mix-eth.pcap", "fragments-eth.pcapng", "tcp-null.pcap"])
def test_frames_cut_anywhere_are_counted_never_half_used(name: str) -> None:
    """Every frame cut at every length (as a snap length would): no exception, and no SIP
    from a cut frame, only counts; a UDP datagram is all or nothing."""
    for packet in read_packets(CAPTURES / name):
        for size in range(len(packet.data)):
            decoder = Decoder()
            cut = packet._replace(data=packet.data[:size])
            assert decoder.decode(cut) == []
            counts = decoder.counts
            assert counts.packets == 1
            assert counts.sip_datagrams == counts.tcp_streams_sip == 0


def test_ipv6_atomic_fragment() -> None:
    """RFC 6946: a Fragment header with offset 0 and M clear is a whole datagram."""
    message = udp(SIP_MESSAGE)
    fragment = struct.pack("!BBHI", 17, 0, 0, 7) + message
    packet = struct.pack("!IHBB16s16s", 0x60000000, len(fragment), 44, 64, A * 4, B * 4)
    decoder = Decoder()
    out = decoder.decode(raw(1, 1, packet + fragment))
    source = ("c000:201:c000:201:c000:201:c000:201", 5060)
    assert [(p.src, p.data) for p in out] == [(source, SIP_MESSAGE)]
    assert decoder.counts.fragments == 0


@settings(max_examples=500, deadline=None)
@given(
    linktype=st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]),
    data=st.binary(max_size=120),
    proto=st.sampled_from([b"", b"\x45", b"\x60", b"\x08\x00\x45", b"\x86\xdd\x60"]),
)
def test_any_bytes_decode_or_count(linktype: int, data: bytes, proto: bytes) -> None:
    """Whatever the bytes behind whatever link type, decoding counts them: no exception."""
    decoder = Decoder()
    for number, frame in enumerate([proto + data, data, bytes(14) + proto + data], 1):
        decoder.decode(RawPacket(number, number, linktype, frame, 0, len(frame)))
    assert decoder.counts.packets == 3


def test_streams_stay_open_across_batches_until_finish() -> None:
    """``payloads`` may be called batch after batch: a stream stays open between calls (a
    message split across two batches comes whole); only ``finish`` ends the capture and
    with it every stream still open."""
    decoder = Decoder()
    packets = [
        raw(n, n * 1000, ipv4(tcp(seq, data, flags), proto=6))
        for n, (seq, data, flags) in enumerate(
            [(99, b"", SYN), (100, SIP_MESSAGE[:100], 0x18), (200, SIP_MESSAGE[100:], 0x18)], 1
        )
    ]
    first = list(decoder.payloads(packets[:2]))
    second = list(decoder.payloads(packets[2:]))
    assert [(p.number, p.end) for p in first + second] == [(2, False), (3, False)]
    assert b"".join(p.data for p in first + second) == SIP_MESSAGE
    assert decoder.counts.tcp_streams == 1
    assert [(p.number, p.data, p.end) for p in decoder.finish()] == [(3, b"", True)]
    assert decoder.counts.tcp_streams_live == 0
