"""Capture files to raw packets: pcap and pcapng, streamed, time in integer nanoseconds.

Formats: pcap (draft-ietf-opsawg-pcap) with microsecond (magic ``a1b2c3d4``) or nanosecond
(``a1b23c4d``) timestamps and Kuznetzov's modified pcap (``a1b2cd34``), either byte order;
pcapng (draft-ietf-opsawg-pcapng) with any number of sections, each in its own byte order,
each with its own interfaces, and Enhanced, Simple and obsolete Packet Blocks.

Rule 1: the file is read in chunks, never whole: memory does not grow with the file.
Rule 2: time is an ``int`` of nanoseconds since the epoch, never a float, so a replay is exact.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Generator, Iterator
from types import TracebackType
from typing import Any, BinaryIO, NamedTuple

import attrs

from ._errors import DialogError

__all__ = ["CaptureError", "CaptureReader", "Interface", "RawPacket", "read_packets"]

#: bytes read at a time
CHUNK = 1 << 20
#: largest packet accepted, as Wireshark does (WTAP_MAX_PACKET_SIZE_STANDARD); a larger
#: captured length means a corrupt file, not a packet
MAX_PACKET = 262144
#: largest pcapng block accepted: a packet at the limit plus room for options
MAX_BLOCK = MAX_PACKET + 65536

_NS = 1_000_000_000
_PCAP_MAGIC = {
    # magic as read little-endian: (byte order, nanoseconds per fraction unit, record size)
    0xA1B2C3D4: ("<", 1000, 16),
    0xD4C3B2A1: (">", 1000, 16),
    0xA1B23C4D: ("<", 1, 16),
    0x4D3CB2A1: (">", 1, 16),
    0xA1B2CD34: ("<", 1000, 24),  # modified pcap: 8 more bytes per record, ignored
    0x34CDB2A1: (">", 1000, 24),
}
_SHB = 0x0A0D0D0A
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_IDB, _OPB, _SPB, _EPB = 1, 2, 3, 6
_OPT_IF_NAME, _OPT_IF_TSRESOL, _OPT_IF_TSOFFSET = 2, 9, 14
_BLOCK_NAMES = {
    _SHB: "section header block",
    _IDB: "interface description block",
    _OPB: "packet block",
    _SPB: "simple packet block",
    _EPB: "enhanced packet block",
}
_U32LE = struct.Struct("<I")


class CaptureError(DialogError, ValueError):
    """A file that is not a capture, or a capture that is corrupt.

    ``reason`` says what is wrong, ``block`` what was being read (``"pcap file header"``,
    ``"pcap record"``, ``"enhanced packet block"``, ...) and ``offset`` the byte offset of
    that block or record in the file.
    """

    reason: str
    block: str
    offset: int

    def __init__(self, reason: str, block: str, offset: int) -> None:
        super().__init__(f"{reason} in {block} at byte {offset}")
        self.reason = reason
        self.block = block
        self.offset = offset


class RawPacket(NamedTuple):
    """One captured frame, as the file holds it."""

    number: int
    """Position in the file, from 1 (Wireshark's frame number)."""
    time_ns: int
    """Capture time in nanoseconds since 1970-01-01 UTC."""
    linktype: int
    """LINKTYPE_ value of the frame's interface (1 Ethernet, 113/276 Linux cooked, ...)."""
    data: bytes
    """The captured bytes (shorter than ``wire_len`` when the capture cut the frame)."""
    interface: int
    """Interface index in the file (pcapng: counted across sections; pcap: 0)."""
    wire_len: int
    """The frame's length on the wire."""


@attrs.frozen
class Interface:
    """A pcapng interface (pcapng draft section 4.2), or the one interface of a pcap file."""

    linktype: int
    snaplen: int
    units_per_second: int
    """Timestamp resolution: 10**6 unless if_tsresol says otherwise (10**-n or 2**-n)."""
    offset_s: int = 0
    """if_tsoffset: seconds added to every timestamp."""
    name: str | None = None
    section: int = 0
    """Which section (from 0) of the file described it."""
    id: int = 0
    """Its Interface ID inside its section (pcapng 4.2: the order of the IDBs), as tshark's
    ``frame.interface_id`` shows it."""


# per interface, what the hot loop needs: (linktype, multiplier, divisor, offset ns, index)
_Clock = tuple[int, int, int, int, int]
_Unpack = Callable[[bytes, int], tuple[Any, ...]]


def read_packets(source: str | os.PathLike[str] | BinaryIO) -> CaptureReader:
    """Open a pcap or pcapng file (a path or a binary file object) and iterate its packets.

    Raises :class:`CaptureError` at once when the file is not a capture. A file cut in the
    middle of its last packet (as when a capture is interrupted) ends the iteration cleanly
    with ``reader.truncated`` set; a corrupt block raises :class:`CaptureError` with its offset.
    """
    return CaptureReader(source)


class CaptureReader:
    """Iterator over the :class:`RawPacket` of one capture file; also a context manager.

    A path is opened here and closed when the iteration ends or at :meth:`close`; a file
    object passed in is left open for its owner.
    """

    format: str
    """``"pcap"`` or ``"pcapng"``."""
    interfaces: list[Interface]
    """Interfaces described so far (pcapng: as their blocks are read)."""
    truncated: bool
    """The file ended in the middle of a packet (the rest of that packet is lost)."""
    truncated_at: int | None
    """Byte offset of the cut record or block, when ``truncated``."""

    def __init__(self, source: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(source, str | os.PathLike):
            self._file: BinaryIO = open(source, "rb")  # noqa: SIM115 (closed by close())
            self._owned = True
        else:
            self._file = source
            self._owned = False
        self.interfaces = []
        self.truncated = False
        self.truncated_at = None
        try:
            self._packets = self._start()
        except BaseException:
            self.close()
            raise

    def __iter__(self) -> Iterator[RawPacket]:
        return self._packets  # the generator itself: a for loop runs at C speed

    def __next__(self) -> RawPacket:
        return next(self._packets)

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file if this reader opened it."""
        if self._owned:
            self._file.close()

    def _start(self) -> Generator[RawPacket, None, None]:
        head = _read_exact(self._file, 24)
        if len(head) < 4:
            raise CaptureError("file too short for a capture", "file header", 0)
        (magic,) = _U32LE.unpack_from(head)
        if magic == _SHB:
            self.format = "pcapng"
            _section_order(head, 0, 0)  # a bad byte-order magic is refused at once too
            return self._pcapng(head)
        if magic not in _PCAP_MAGIC:
            raise CaptureError(f"not a pcap or pcapng file (magic 0x{magic:08x})", "file header", 0)
        self.format = "pcap"
        if len(head) < 24:
            raise CaptureError("file ends inside the header", "pcap file header", 0)
        order, frac_ns, record = _PCAP_MAGIC[magic]
        major, _minor, _zone, _sigfigs, snaplen, network = struct.unpack_from(
            order + "HHiIII", head, 4
        )
        if major != 2:
            raise CaptureError(f"unsupported version {major}", "pcap file header", 0)
        # draft-ietf-opsawg-pcap 4: LinkType is the low 16 bits; FCS flags live above them
        self.interfaces.append(Interface(network & 0xFFFF, snaplen, _NS // frac_ns))
        return self._pcap(order, frac_ns, record)

    def _pcap(self, order: str, frac_ns: int, record: int) -> Generator[RawPacket, None, None]:
        """pcap: after the 24-byte file header, records of a header and the captured bytes
        (``frac_ns``: nanoseconds per unit of the fraction field; ``record``: header size)."""
        linktype = self.interfaces[0].linktype
        unpack = struct.Struct(order + "IIII").unpack_from
        new, cls, ns = tuple.__new__, RawPacket, _NS
        number = pos = 0
        base = 24  # file offset of buf[0]
        buf = b""
        missing = record
        try:
            while True:
                more = self._more(buf, pos, base, missing)
                if more is None:
                    return
                buf, base = more
                pos = 0
                end = len(buf)
                missing = record
                while pos + record <= end:
                    sec, frac, incl, orig = unpack(buf, pos)
                    start = pos + record
                    stop = start + incl
                    if stop > end:
                        if incl > MAX_PACKET:
                            raise CaptureError(
                                f"captured length {incl} exceeds {MAX_PACKET}",
                                "pcap record",
                                base + pos,
                            )
                        missing = stop - end
                        break
                    number += 1
                    yield new(
                        cls, (number, sec * ns + frac * frac_ns, linktype, buf[start:stop], 0, orig)
                    )
                    pos = stop
        finally:
            self.close()

    def _pcapng(self, head: bytes) -> Generator[RawPacket, None, None]:  # noqa: PLR0912, PLR0915
        """pcapng: blocks of type, length, body, length; sections start at an SHB (4.1).

        One long loop on purpose (hence the noqa): a call per block would cost ~10% of the
        reading speed, and EPBs are nearly every block."""
        new, cls = tuple.__new__, RawPacket
        number = base = pos = 0
        buf = head
        section = _Section("<", -1)
        clocks = section.clocks
        head8, epb, tail = _unpackers("<")
        try:
            while True:
                end = len(buf)
                missing = 12
                while pos + 12 <= end:
                    if pos + 28 <= end:  # one unpack reads an EPB's fields (most blocks are EPBs)
                        btype, blen, ifid, high, low, caplen, orig = epb(buf, pos)
                    else:
                        btype, blen = head8(buf, pos)
                        ifid = high = low = caplen = orig = 0
                    if btype == _SHB:
                        # the block length is in the new section's byte order: read its magic first
                        order = _section_order(buf, pos, base)
                        head8, epb, tail = _unpackers(order)
                        blen = head8(buf, pos)[1]
                    if blen & 3 or not 12 <= blen <= MAX_BLOCK:
                        raise _block_error(f"bad block length {blen}", btype, base + pos)
                    stop = pos + blen
                    if stop > end:
                        missing = stop - end
                        break
                    if tail(buf, stop - 4)[0] != blen:
                        raise _block_error(
                            f"trailing length {tail(buf, stop - 4)[0]} != {blen}", btype, base + pos
                        )
                    if btype == _EPB:
                        if caplen > blen - 32 or ifid >= len(clocks):
                            raise _block_error(
                                f"captured length {caplen} or interface {ifid} out of range",
                                btype,
                                base + pos,
                            )
                        linktype, mul, div, off, index = clocks[ifid]
                        ts = (high << 32 | low) * mul
                        number += 1
                        yield new(
                            cls,
                            (
                                number,
                                (ts if div == 1 else ts // div) + off,
                                linktype,
                                buf[pos + 28 : pos + 28 + caplen],
                                index,
                                orig,
                            ),
                        )
                    elif btype == _SHB:
                        section = _new_section(buf[pos:stop], order, section.index + 1, base + pos)
                        clocks = section.clocks
                    else:
                        packet = self._block(btype, buf[pos:stop], section, base + pos)
                        if packet is not None:
                            number += 1
                            yield new(cls, (number, *packet))
                    pos = stop
                more = self._more(buf, pos, base, missing)
                if more is None:
                    return
                buf, base = more
                pos = 0
        finally:
            self.close()

    def _more(self, buf: bytes, pos: int, base: int, missing: int) -> tuple[bytes, int] | None:
        """The unread rest of ``buf`` (from ``pos``) and the next chunk, with the new buffer's
        file offset; at the end of the file, None (and a cut record is flagged)."""
        chunk = self._file.read(max(CHUNK, missing))
        if not chunk:
            if pos < len(buf):
                self.truncated = True
                self.truncated_at = base + pos
            return None
        return (buf[pos:] + chunk if pos < len(buf) else chunk), base + pos

    def _block(
        self, btype: int, block: bytes, section: _Section, offset: int
    ) -> tuple[int, int, bytes, int, int] | None:
        """A block other than an EPB or SHB: an IDB (4.2) adds an interface; a Simple Packet
        Block (4.4) or an obsolete Packet Block (Appendix A) is a packet; anything else
        (statistics, name resolution, custom blocks...) is skipped."""
        if btype == _IDB:
            iface = _interface(block, section.order, (section.index, len(section.clocks)), offset)
            section.clocks.append(_clock(iface, len(self.interfaces)))
            self.interfaces.append(iface)
            return None
        if btype not in (_SPB, _OPB):
            return None
        if not section.clocks:
            raise _block_error("packet before any interface", btype, offset)
        if btype == _OPB:
            return _obsolete_packet(block, section, offset)
        # 4.4: no interface id (it is the section's first interface) and no timestamp; the
        # captured length is the smallest of the original length, the first interface's
        # SnapLen (when not 0) and the room in the block
        if len(block) < 16:
            raise _block_error("block too short", btype, offset)
        linktype, _mul, _div, _off, index = section.clocks[0]
        (orig,) = struct.unpack_from(section.order + "I", block, 8)
        caplen = min(orig, len(block) - 16)
        snaplen = self.interfaces[index].snaplen
        if snaplen:
            caplen = min(caplen, snaplen)
        return (0, linktype, block[12 : 12 + caplen], index, orig)


@attrs.define
class _Section:
    """The byte order and interfaces of the current pcapng section."""

    order: str
    index: int
    clocks: list[_Clock] = attrs.Factory(list)


def _unpackers(order: str) -> tuple[_Unpack, _Unpack, _Unpack]:
    """Block type and length; an EPB's first seven fields; a block's trailing length."""
    return (
        struct.Struct(order + "II").unpack_from,
        struct.Struct(order + "IIIIIII").unpack_from,
        struct.Struct(order + "I").unpack_from,
    )


def _new_section(block: bytes, order: str, index: int, offset: int) -> _Section:
    """pcapng 4.1: a reader must refuse a Major Version other than 1."""
    if len(block) < 28:
        raise _block_error("block too short", _SHB, offset)
    major = struct.unpack_from(order + "H", block, 12)[0]
    if major != 1:
        raise _block_error(f"unsupported version {major}", _SHB, offset)
    return _Section(order, index)


def _read_exact(file: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = file.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _block_error(reason: str, btype: int, offset: int) -> CaptureError:
    name = _BLOCK_NAMES.get(btype, f"block of type 0x{btype:08x}")
    return CaptureError(reason, name, offset)


def _section_order(buf: bytes, pos: int, base: int) -> str:
    """pcapng 4.1: the Byte-Order Magic 0x1A2B3C4D, as written, gives the section's order."""
    if len(buf) < pos + 12:
        raise CaptureError("file ends inside the header", "section header block", base + pos)
    (magic,) = _U32LE.unpack_from(buf, pos + 8)
    if magic == _BYTE_ORDER_MAGIC:
        return "<"
    if magic == 0x4D3C2B1A:
        return ">"
    raise CaptureError(f"bad byte-order magic 0x{magic:08x}", "section header block", base + pos)


def _options(
    block: bytes, start: int, order: str, offset: int, name: str
) -> Iterator[tuple[int, bytes]]:
    """pcapng 3.5: options are code, length, value padded to 32 bits; code 0 ends them."""
    end = len(block) - 4
    opt = struct.Struct(order + "HH").unpack_from
    pos = start
    while pos + 4 <= end:
        code, length = opt(block, pos)
        if code == 0:
            return
        if pos + 4 + length > end:
            raise CaptureError(f"option {code} overruns the block", name, offset)
        yield code, block[pos + 4 : pos + 4 + length]
        pos += 4 + (length + 3) // 4 * 4


def _interface(block: bytes, order: str, where: tuple[int, int], offset: int) -> Interface:
    """pcapng 4.2: LinkType, SnapLen, then options such as if_tsresol and if_tsoffset."""
    name = "interface description block"
    if len(block) < 20:
        raise CaptureError("block too short", name, offset)
    linktype, _reserved, snaplen = struct.unpack_from(order + "HHI", block, 8)
    units = 1_000_000
    offset_s = 0
    if_name = None
    for code, value in _options(block, 16, order, offset, name):
        if code == _OPT_IF_TSRESOL and len(value) == 1:
            # high bit clear: 10**-n seconds; set: 2**-n seconds
            exponent = value[0] & 0x7F
            units = 2**exponent if value[0] & 0x80 else 10**exponent
        elif code == _OPT_IF_TSOFFSET and len(value) == 8:
            offset_s = struct.unpack(order + "q", value)[0]
        elif code == _OPT_IF_NAME:
            if_name = value.decode("utf-8", "replace")
    return Interface(linktype, snaplen, units, offset_s, if_name, *where)


def _clock(iface: Interface, index: int) -> _Clock:
    """Integer conversion of a timestamp to nanoseconds: ts * mul // div + offset."""
    units = iface.units_per_second
    if _NS % units == 0:
        mul, div = _NS // units, 1
    else:  # finer than 1 ns, or a power of 2: floor to the nanosecond, as Wireshark does
        mul, div = _NS, units
    return (iface.linktype, mul, div, iface.offset_s * _NS, index)


def _obsolete_packet(
    block: bytes, section: _Section, offset: int
) -> tuple[int, int, bytes, int, int]:
    """pcapng Appendix A: the Packet Block that EPBs replaced (16-bit interface id)."""
    if len(block) < 32:
        raise _block_error("block too short", _OPB, offset)
    ifid, _drops, high, low, caplen, orig = struct.unpack_from(section.order + "HHIIII", block, 8)
    if ifid >= len(section.clocks) or caplen > len(block) - 32:
        raise _block_error(f"bad interface {ifid} or length {caplen}", _OPB, offset)
    linktype, mul, div, off, index = section.clocks[ifid]
    return ((high << 32 | low) * mul // div + off, linktype, block[28 : 28 + caplen], index, orig)
