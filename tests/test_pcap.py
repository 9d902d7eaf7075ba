"""Capture files to raw packets: pcap and pcapng as Wireshark's tools write them.

The files under tests/data/captures/ come from scripts/make_test_captures.sh (text2pcap,
editcap, mergecap). Each is also read with tshark, when it is installed, and the two readers
must agree on every packet: count, time to the nanosecond, lengths and interface. tshark is
required in CI (the tests fail there without it) and optional elsewhere (they skip).
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogfsm import DialogError
from dialogfsm._pcap import MAX_PACKET, CaptureError, RawPacket, read_packets

CAPTURES = DATA / "captures"
ALL = sorted(p.name for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng"))
#: the first frame's time in the hex dumps (scripts/make_test_frames.py), and the step
START_NS = 1_704_164_645_123_456_789
STEP_NS = 1_000_123_457


def need_tshark() -> str:
    """tshark's path; skips the test without it, except in CI where that is a failure."""
    path = shutil.which("tshark")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("tshark is required in CI: apt-get install tshark")
        pytest.skip("tshark is not installed")
    return path


def tshark(path: Path, *args: str) -> str:
    """tshark's output for ``path`` (a file cut short makes it exit 2 after its packets)."""
    run = subprocess.run(
        [need_tshark(), "-r", str(path), *args], capture_output=True, text=True, check=False
    )
    assert run.returncode in (0, 2), run.stderr
    return run.stdout


def tshark_fields(path: Path, *fields: str) -> list[list[str]]:
    """One row per frame, one column per field (empty when the frame has none)."""
    args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for field in fields:
        args += ["-e", field]
    return [line.split("\t") for line in tshark(path, *args).splitlines()]


def epoch_ns(text: str) -> int:
    """tshark's ``frame.time_epoch`` (seconds, up to 9 decimals) as integer nanoseconds."""
    seconds, _, fraction = text.partition(".")
    return int(seconds) * 1_000_000_000 + int(fraction.ljust(9, "0"))


def packets(name: str) -> list[RawPacket]:
    return list(read_packets(CAPTURES / name))


@pytest.mark.parametrize(
    ("name", "magic"),
    [
        ("mix-eth.pcap", "d4c3b2a1"),  # microseconds, little-endian
        ("mix-eth-be.pcap", "a1b2c3d4"),
        ("mix-eth-nsec.pcap", "4d3cb2a1"),  # nanoseconds
        ("mix-eth-nsec-be.pcap", "a1b23c4d"),
        ("mix-eth-modified.pcap", "34cdb2a1"),
        ("mix-eth.pcapng", "0a0d0d0a"),
    ],
)
def test_each_file_is_the_variant_it_names(name: str, magic: str) -> None:
    """The fixtures are what the tests say they are (draft-ietf-opsawg-pcap 4 magics)."""
    data = (CAPTURES / name).read_bytes()
    assert data[:4].hex() == magic
    with read_packets(CAPTURES / name) as reader:
        assert reader.format == ("pcapng" if magic == "0a0d0d0a" else "pcap")


@pytest.mark.parametrize("name", ALL)
def test_every_packet_as_tshark_reads_it(name: str) -> None:
    """Count, time (integer ns), captured and wire length, and pcapng interface id agree
    with tshark for every file; Simple Packet Blocks have no time (pcapng 4.4)."""
    rows = tshark_fields(
        CAPTURES / name,
        "frame.number",
        "frame.time_epoch",
        "frame.cap_len",
        "frame.len",
        "frame.interface_id",
    )
    reader = read_packets(CAPTURES / name)
    ours = list(reader)
    assert len(ours) == len(rows) > 0
    for packet, (number, epoch, cap_len, wire_len, interface) in zip(ours, rows, strict=True):
        assert packet.number == int(number)
        assert packet.time_ns == (epoch_ns(epoch) if epoch else 0)
        assert len(packet.data) == int(cap_len)
        assert packet.wire_len == int(wire_len)
        assert reader.interfaces[packet.interface].id == int(interface or 0)


def test_time_is_integer_nanoseconds() -> None:
    """Nanosecond files keep every digit; microsecond ones floor to the microsecond."""
    nsec = packets("mix-eth-nsec.pcap")
    usec = packets("mix-eth.pcap")
    assert [p.time_ns for p in nsec] == [START_NS + i * STEP_NS for i in range(len(nsec))]
    assert [p.time_ns for p in usec] == [p.time_ns // 1000 * 1000 for p in nsec]
    assert all(type(p.time_ns) is int for p in nsec + usec)


@pytest.mark.parametrize(
    ("little", "big"),
    [("mix-eth.pcap", "mix-eth-be.pcap"), ("mix-eth-nsec.pcap", "mix-eth-nsec-be.pcap")],
)
def test_both_byte_orders(little: str, big: str) -> None:
    """pcap magic a1b2c3d4 / a1b23c4d as written by either kind of host reads the same."""
    assert packets(big) == packets(little)


def test_modified_pcap() -> None:
    """Kuznetzov's modified pcap (magic a1b2cd34, 24-byte records) reads like pcap."""
    assert packets("mix-eth-modified.pcap") == packets("mix-eth.pcap")


@pytest.mark.parametrize(
    ("name", "linktype"),
    [
        ("mix-eth.pcap", 1),
        ("mix-sll.pcap", 113),
        ("mix-sll2.pcapng", 276),
        ("mix-null-le.pcap", 0),
        ("mix-null-be.pcap", 0),
        ("mix-loop.pcap", 108),
        ("mix-raw.pcapng", 101),
        ("mix-raw12.pcap", 12),
        ("mix-raw14.pcap", 14),
    ],
)
def test_link_type_of_each_packet(name: str, linktype: int) -> None:
    """Each packet carries its interface's LinkType (pcap header; pcapng IDB)."""
    assert {p.linktype for p in packets(name)} == {linktype}


def test_several_interfaces_of_different_link_types() -> None:
    """pcapng 4.2/4.3: each EPB uses the link type of its own interface. mergecap's file
    holds Ethernet, Linux cooked v2 and raw IP interfaces, packets interleaved by time."""
    reader = read_packets(CAPTURES / "mix-merged.pcapng")
    merged = list(reader)
    assert [i.linktype for i in reader.interfaces] == [1, 276, 101]
    assert [i.id for i in reader.interfaces] == [0, 1, 2]
    for interface, source in enumerate(["mix-eth.pcapng", "mix-sll2.pcapng", "mix-raw.pcapng"]):
        mine = [(p.time_ns, p.linktype, p.data) for p in merged if p.interface == interface]
        assert mine == [(p.time_ns, p.linktype, p.data) for p in packets(source)]
    assert {p.interface for p in merged[:3]} == {0, 1, 2}  # interleaved, not one after another
    assert [p.number for p in merged] == list(range(1, len(merged) + 1))


def test_several_sections_in_either_byte_order() -> None:
    """pcapng 4.1: a new SHB starts a section with its own byte order and interfaces (the
    second section here is big-endian, its interface is again Interface ID 0)."""
    data = (CAPTURES / "mix-sections.pcapng").read_bytes()
    at = (CAPTURES / "mix-eth.pcapng").stat().st_size  # the first section is that file
    assert data[at + 8 : at + 12] == bytes.fromhex("1a2b3c4d")  # big-endian magic
    reader = read_packets(CAPTURES / "mix-sections.pcapng")
    both = list(reader)
    first, second = packets("mix-eth.pcapng"), packets("mix-sll2.pcapng")
    assert [(i.section, i.id, i.linktype) for i in reader.interfaces] == [(0, 0, 1), (1, 0, 276)]
    assert [(p.time_ns, p.linktype, p.data) for p in both] == [
        (p.time_ns, p.linktype, p.data) for p in first + second
    ]
    assert [p.interface for p in both] == [0] * len(first) + [1] * len(second)


def test_if_tsresol_power_of_ten_and_two() -> None:
    """pcapng 4.2 if_tsresol: 10**-n (high bit clear) or 2**-n (set); 10**-6 when absent.
    A 2**-20 s tick is 953.67 ns: time is floored to the nanosecond, never a float."""
    exact = [p.time_ns for p in packets("mix-eth.pcapng")]
    assert [p.time_ns for p in packets("mix-tsresol-10-6.pcapng")] == [
        t // 1000 * 1000 for t in exact
    ]
    reader = read_packets(CAPTURES / "mix-tsresol-2-20.pcapng")
    binary = [p.time_ns for p in reader]
    assert reader.interfaces[0].units_per_second == 2**20
    # the file holds floor(t * 2**20 / 10**9) ticks, read back as floor(ticks * 10**9 / 2**20)
    assert binary == [(t * 2**20 // 10**9) * 10**9 // 2**20 for t in exact]
    assert all(0 <= t - b < 954 for t, b in zip(exact, binary, strict=True))


def test_if_tsoffset_added() -> None:
    """pcapng 4.2 if_tsoffset: seconds added to every timestamp (here -3600; the file's
    timestamps are an hour later than the packets' times)."""
    reader = read_packets(CAPTURES / "mix-tsoffset.pcapng")
    assert [p.time_ns for p in reader] == [p.time_ns for p in packets("mix-eth.pcapng")]
    assert reader.interfaces[0].offset_s == -3600


def test_simple_packet_blocks() -> None:
    """pcapng 4.4: an SPB belongs to the first interface and has no timestamp (0 here)."""
    simple = packets("mix-spb.pcapng")
    assert [(p.linktype, p.data) for p in simple] == [
        (p.linktype, p.data) for p in packets("mix-raw.pcapng")
    ]
    assert {p.time_ns for p in simple} == {0}


def test_truncated_last_packet_ends_cleanly() -> None:
    """A file cut inside its last record (capture interrupted) yields the packets before it
    and sets ``truncated``, with the offset of the cut record."""
    whole = packets("mix-eth.pcap")
    reader = read_packets(CAPTURES / "mix-eth-cut.pcap")
    assert list(reader) == whole[:-1]
    assert reader.truncated
    size = (CAPTURES / "mix-eth.pcap").stat().st_size
    assert reader.truncated_at == size - 16 - len(whole[-1].data)


@pytest.mark.parametrize("name", ["mix-eth.pcap", "mix-eth.pcapng", "mix-merged.pcapng"])
def test_cut_anywhere_never_raises(name: str) -> None:
    """Wherever the file is cut after its first block, reading yields a prefix of its packets
    and flags the cut (or not, when the cut falls between packets)."""
    data = (CAPTURES / name).read_bytes()
    whole = list(read_packets(io.BytesIO(data)))
    for size in range(len(data) - 1, 200, -7):
        reader = read_packets(io.BytesIO(data[:size]))
        got = list(reader)
        assert got == whole[: len(got)]
        assert reader.truncated == (reader.truncated_at is not None)
        assert len(got) < len(whole) or not reader.truncated


def _block_offsets(data: bytes) -> Iterator[tuple[int, int]]:
    """(offset, type) of each block of a little-endian pcapng file."""
    pos = 0
    while pos < len(data):
        btype, length = struct.unpack_from("<II", data, pos)
        yield pos, btype
        pos += length


def test_corrupt_block_says_where() -> None:
    """A block whose trailing length differs from its leading one (pcapng 3.1) is corrupt:
    CaptureError names the block type and its byte offset."""
    data = bytearray((CAPTURES / "mix-eth.pcapng").read_bytes())
    offset = [pos for pos, btype in _block_offsets(bytes(data)) if btype == 6][2]
    length = struct.unpack_from("<I", data, offset + 4)[0]
    struct.pack_into("<I", data, offset + length - 4, length + 4)
    reader = read_packets(io.BytesIO(bytes(data)))
    with pytest.raises(CaptureError, match=rf"enhanced packet block at byte {offset}\b") as err:
        list(reader)
    assert (err.value.block, err.value.offset) == ("enhanced packet block", offset)
    assert isinstance(err.value, DialogError)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("at", "value", "block"),
    [
        (4, 13, "section header block"),  # a block length that is not a multiple of 4
        (8, 0x11223344, "section header block"),  # not a byte-order magic
    ],
)
def test_corrupt_section_header(at: int, value: int, block: str) -> None:
    """pcapng 4.1: the SHB's byte-order magic and a block length that is a multiple of 4."""
    data = bytearray((CAPTURES / "mix-eth.pcapng").read_bytes())
    struct.pack_into("<I", data, at, value)
    with pytest.raises(CaptureError) as err:
        list(read_packets(io.BytesIO(bytes(data))))
    assert (err.value.block, err.value.offset) == (block, 0)


def test_corrupt_pcap_record_says_where() -> None:
    """A pcap record whose captured length is beyond any packet (256 KiB) is corrupt."""
    data = bytearray((CAPTURES / "mix-eth.pcap").read_bytes())
    first = 24 + 16 + struct.unpack_from("<I", data, 24 + 8)[0]  # the second record
    struct.pack_into("<I", data, first + 8, 0x7FFFFFFF)
    reader = read_packets(io.BytesIO(bytes(data)))
    with pytest.raises(CaptureError) as err:
        list(reader)
    assert (err.value.block, err.value.offset) == ("pcap record", first)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\xd4\xc3",
        b"GET / HTTP/1.1\r\n\r\n",
        b"\xd4\xc3\xb2\xa1\x02\x00",  # a pcap header cut short
        struct.pack("<IHHiIII", 0xA1B2C3D4, 3, 0, 0, 0, 65535, 1),  # pcap version 3
        struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x11223344, 1, 0, -1),  # no byte-order magic
    ],
)
def test_not_a_capture(head: bytes) -> None:
    """Anything else, or a header a reader must refuse, is refused at once (before any
    iteration), at offset 0."""
    with pytest.raises(CaptureError) as err:
        read_packets(io.BytesIO(head))
    assert err.value.offset == 0


@pytest.mark.parametrize(("btype", "size"), [(0x0A0D0D0A, 16), (3, 12), (1, 16), (2, 28)])
def test_blocks_too_short_for_their_type(btype: int, size: int) -> None:
    """pcapng 4.1-4.4: an SHB, SPB, IDB or Packet Block shorter than its fixed fields."""
    data = bytearray((CAPTURES / "mix-eth.pcapng").read_bytes())
    offset = next(pos for pos, kind in _block_offsets(bytes(data)) if kind == 6)
    body = struct.pack("<I", 0x1A2B3C4D) if btype == 0x0A0D0D0A else b""  # byte-order magic
    body = body.ljust(size - 12, b"\0")
    data[offset:offset] = struct.pack("<II", btype, size) + body + struct.pack("<I", size)
    with pytest.raises(CaptureError, match="too short") as err:
        list(read_packets(io.BytesIO(bytes(data))))
    assert err.value.offset == offset


def test_undefined_interface() -> None:
    """pcapng 4.3: an EPB's Interface ID must name an IDB of its section."""
    data = bytearray((CAPTURES / "mix-eth.pcapng").read_bytes())
    offset = next(pos for pos, btype in _block_offsets(bytes(data)) if btype == 6)
    struct.pack_into("<I", data, offset + 8, 1)
    with pytest.raises(CaptureError, match="interface 1") as err:
        list(read_packets(io.BytesIO(bytes(data))))
    assert err.value.offset == offset


def test_path_is_closed_file_object_is_not(tmp_path: Path) -> None:
    """A path is opened and closed by the reader; a file object stays its owner's."""
    target = tmp_path / "copy.pcap"
    shutil.copy(CAPTURES / "mix-eth.pcap", target)
    with read_packets(target) as reader:
        first = next(reader)
    assert first.number == 1
    assert reader._file.closed
    reader = read_packets(target)
    assert len(list(reader)) == 11
    assert reader._file.closed  # at the end of the iteration
    owned = io.BytesIO(target.read_bytes())
    assert len(list(read_packets(owned))) == 11
    assert not owned.closed


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """The file is streamed in chunks: reading 40 MB holds a few MB at most."""
    frame = bytes(range(256)) * 2
    record = struct.pack("<IIII", 1_700_000_000, 0, len(frame), len(frame)) + frame
    path = tmp_path / "big.pcap"
    with path.open("wb") as file:
        file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for _ in range(80):
            file.write(record * 1000)
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_packets(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 80_000
    assert path.stat().st_size > 40_000_000
    assert peak < 5 * 1024 * 1024


def _block(btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def test_obsolete_packet_block() -> None:
    """pcapng Appendix A: the Packet Block (type 2) that the EPB replaced, with a 16-bit
    interface id, is read like an EPB; if_name is kept."""
    frame = packets("mix-eth.pcapng")[3]
    shb = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = _block(1, struct.pack("<HHIHH4sHH", 1, 0, 0, 2, 4, b"eth0", 0, 0))
    ticks = frame.time_ns // 1000  # the default resolution: microseconds
    opb = struct.pack("<HHIIII", 0, 0, ticks >> 32, ticks & 0xFFFFFFFF, 60, frame.wire_len)
    reader = read_packets(io.BytesIO(shb + idb + _block(2, opb + frame.data[:60])))
    assert list(reader) == [RawPacket(1, ticks * 1000, 1, frame.data[:60], 0, frame.wire_len)]
    assert reader.interfaces[0].name == "eth0"


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(
        ["mix-merged.pcapng", "mix-sections.pcapng", "mix-spb.pcapng", "mix-eth-modified.pcap"]
    ),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.integers(0, 10**6),
)
def test_mutated_files_raise_capture_error_or_read(
    name: str, edits: list[tuple[int, int]], cut: int
) -> None:
    """Whatever the bytes, reading gives packets or a CaptureError: never a struct.error,
    IndexError or hang (byte flips anywhere, and a cut anywhere)."""
    data = bytearray((CAPTURES / name).read_bytes())
    for at, value in edits:
        data[at % len(data)] = value
    data = data[: max(cut % (len(data) + 1), 1)]
    error: CaptureError | None = None
    got: list[RawPacket] = []
    try:
        got.extend(read_packets(io.BytesIO(bytes(data))))
    except CaptureError as err:
        error = err
    assert error is None or 0 <= error.offset < len(data)
    assert all(len(p.data) <= MAX_PACKET for p in got)
