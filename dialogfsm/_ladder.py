"""Ladder (sequence) diagrams of a trace: who sent what to whom, and when dialogs moved.

``ladder(path)`` reads a capture, SIPp log or text file and builds a neutral model:
one :class:`Lane` per endpoint, one :class:`Arrow` per SIP message, and one :class:`Note`
per dialog state change the replay reports, placed right after the arrow of the packet that
caused it (a timer's change at its time). ``_ladder_draw`` renders the model.

Colours: the From and To tags of a Call-ID make one dialog (RFC 3261 12), drawn in its own
colour and marked ``[tag]`` with the To tag of its first message that carried both: the
answering side's tag, so the forks of one INVITE read ``[forkA]`` and ``[forkB]``. A message
with no To tag yet (an INVITE, a 100 Trying, a CANCEL) belongs to no dialog: grey, unmarked.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import os
from collections.abc import Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import cast

import attrs

from ._message import Request, Response
from ._replay import DialogRecord, Transition, Wire, replay_wires
from ._results import creation_order
from ._sources import SourceCounts, open_source
from ._state import DialogId

Message = Request | Response
#: a dialog marker longer than this is cut (random 32-hex tags would crowd every label)
_MARK_CHARS = 20


@attrs.frozen
class Lane:
    """One endpoint: a vertical line of the diagram."""

    endpoint: str
    """``ip:port`` (``[v6]:port``), or ``sipp``/``peer``, ``A``/``B`` for logs and text."""
    name: str
    """What the diagram shows: the name given for the endpoint, else the endpoint."""


@attrs.frozen
class Arrow:
    """One SIP message, from one lane to another (or to itself)."""

    packet: int
    """Packet number in the capture (message number in a log or text file)."""
    time_ns: int
    src: int
    """Index of the sending lane in :attr:`Ladder.lanes`."""
    dst: int
    message: str
    """What was sent: ``INVITE`` or ``180 Ringing`` (as :class:`Transition` names it)."""
    label: str
    """What the arrow says: ``180 Ringing (1 INVITE) [forkA]``."""
    request: bool
    key: str | None
    """The dialog's marker (the colour key), ``None`` for a message of no dialog yet."""
    call_id: str


@attrs.frozen
class Note:
    """A dialog state change, over the lane of the endpoint whose dialog it is."""

    time_ns: int
    lane: int
    state: str
    """``early``, ``confirmed`` or ``terminated``."""
    text: str
    """``early [forkA]``; a timer's reason follows in parentheses."""
    key: str | None
    after: int
    """Index of the arrow it follows in :attr:`Ladder.arrows` (``-1``: before the first)."""
    packet: int | None
    """The packet that caused it, ``None`` when a timer did."""


@attrs.frozen
class DialogMark:
    """A dialog's marker and what it stands for (a line of the legend)."""

    key: str
    call_id: str
    tags: tuple[str, str]
    """From and To tag of the first message of the dialog seen."""


@attrs.frozen
class Ladder:
    """The neutral model of a ladder diagram: what both renderers draw."""

    title: str
    lanes: tuple[Lane, ...]
    arrows: tuple[Arrow, ...]
    notes: tuple[Note, ...]
    """In drawing order: by the arrow they follow, then by time."""
    dialogs: tuple[DialogMark, ...]
    """Every colour key, in order of first appearance (its palette index)."""
    truncated: bool = False
    """``max_messages`` stopped the reading: more messages followed."""

    def items(self) -> Iterator[Arrow | Note]:
        """Arrows and notes in drawing order, top to bottom."""
        after: dict[int, list[Note]] = {}
        for note in self.notes:
            after.setdefault(note.after, []).append(note)
        yield from after.get(-1, ())
        for index, arrow in enumerate(self.arrows):
            yield arrow
            yield from after.get(index, ())


# -- the model ------------------------------------------------------------------------------
@attrs.frozen
class _Filter:
    """Which messages and dialogs a ladder keeps."""

    call_id: str | None = None
    dialog: DialogId | None = None

    def message(self, message: Message | None) -> bool:
        if self.call_id is None and self.dialog is None:
            return True
        if message is None or self.call_id not in (None, message.call_id):
            return False
        d = self.dialog
        if d is None:
            return True
        tags = {d.local_tag, d.remote_tag}
        to_tag = message.to.tag
        return (
            message.call_id == d.call_id
            and message.from_.tag in tags
            and (to_tag is None or to_tag in tags)
        )

    def record(self, record: DialogRecord) -> bool:
        s = record.state
        if self.call_id not in (None, s.call_id):
            return False
        d = self.dialog
        if d is None:
            return True
        return d.call_id == s.call_id and {d.local_tag, d.remote_tag} == {s.local_tag, s.remote_tag}


def _what(message: Message) -> str:
    if isinstance(message, Request):
        return message.method
    return f"{message.status_code} {message.reason}".rstrip()


def clean(text: str) -> str:
    """No control characters (XML 1.0 forbids most; a diagram line has no line breaks)."""
    return "".join(c if c >= " " and c != "\x7f" else "?" for c in text)


class _Builder:
    """Arrows as the messages stream by; then the replay's transitions as notes."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names
        self.lanes: list[Lane] = []
        self.lane_of: dict[str, int] = {}
        self.arrows: list[Arrow] = []
        self.by_packet: dict[int, list[int]] = {}
        self.marks: dict[tuple[str, frozenset[str]], DialogMark] = {}
        self.keys: set[str] = set()
        self.truncated = False

    def lane(self, endpoint: str) -> int:
        found = self.lane_of.get(endpoint)
        if found is None:
            found = self.lane_of[endpoint] = len(self.lanes)
            self.lanes.append(Lane(endpoint, clean(self.names.get(endpoint, endpoint))))
        return found

    def mark(self, call_id: str, tag: str, other: str) -> str:
        """The marker of the dialog of ``call_id`` with these tags (``tag`` shown)."""
        pair = (call_id, frozenset((tag, other)))
        found = self.marks.get(pair)
        if found is None:
            base = clean(tag if len(tag) <= _MARK_CHARS else tag[: _MARK_CHARS - 1] + "…")
            key, n = base, 1
            while key in self.keys:  # two dialogs, one tag (or one cut short): -2, -3, ...
                n += 1
                key = f"{base}-{n}"
            self.keys.add(key)
            found = self.marks[pair] = DialogMark(key, call_id, (other, tag))
        return found.key

    def take(self, wires: Iterable[Wire], keep: _Filter, limit: int | None) -> Iterator[Wire]:
        """Pass every wire on to the replay; draw those ``keep`` wants, ``limit`` at most."""
        for wire in wires:
            if keep.message(wire.message):
                if limit is not None and len(self.arrows) >= limit:
                    self.truncated = True
                    return
                self.add(wire)
            yield wire

    def add(self, wire: Wire) -> None:
        src, dst, m = self.lane(wire.src), self.lane(wire.dst), wire.message
        if m is None:
            what = "unparseable message"
            arrow = Arrow(wire.packet, wire.time_ns, src, dst, what, f"({what})", True, None, "")
        else:
            what, request = clean(_what(m)), isinstance(m, Request)
            cseq = f"{m.cseq.number} {m.cseq.method}"
            label = f"{what} (CSeq {cseq})" if request else f"{what} ({cseq})"
            key = None
            if m.to.tag is not None and m.from_.tag is not None:
                key = self.mark(m.call_id, m.to.tag, m.from_.tag)
                label += f" [{key}]"
            arrow = Arrow(wire.packet, wire.time_ns, src, dst, what, label, request, key, m.call_id)
        self.by_packet.setdefault(wire.packet, []).append(len(self.arrows))
        self.arrows.append(arrow)

    def after(self, t: Transition, times: list[int]) -> int:
        """The arrow a transition follows: its packet's (the one that says what moved it),
        else the last one sent by its time (a timer, or a packet not drawn)."""
        shown = self.by_packet.get(t.packet) if t.packet is not None else None
        if shown:
            return next((i for i in shown if self.arrows[i].message == t.message), shown[-1])
        return bisect.bisect_right(times, t.time_ns) - 1

    def notes(self, records: list[DialogRecord]) -> list[Note]:
        times = list(itertools.accumulate((a.time_ns for a in self.arrows), max))
        notes: list[tuple[int, int, int, int, Note]] = []
        for record in sorted(records, key=creation_order):
            s = record.state
            answerer = s.local_tag if record.role == "uas" or not s.remote_tag else s.remote_tag
            other = s.remote_tag if answerer == s.local_tag else s.local_tag
            key = self.mark(s.call_id, answerer, other)
            lane = self.lane(record.endpoint)
            for t in record.transitions:
                text = f"{t.state} [{key}]"
                if t.packet is None:
                    text += f" ({clean(t.message)})"
                after = self.after(t, times)
                note = Note(t.time_ns, lane, t.state, text, key, after, t.packet)
                notes.append((after, t.time_ns, lane, len(notes), note))
        return [n for *_, n in sorted(notes, key=lambda x: x[:4])]


def _open(path: str | os.PathLike[str]) -> Generator[Wire, None, None]:
    """The messages of a file, closed when the caller stops early."""
    return cast("Generator[Wire, None, None]", open_source(path, SourceCounts()))


def _find_dialog(path: str | os.PathLike[str], tag: str) -> DialogId:
    """The first dialog (Call-ID and both tags) whose messages carry ``tag``."""
    with contextlib.closing(_open(path)) as wires:
        for wire in wires:
            m = wire.message
            if m is not None and m.to.tag is not None and m.from_.tag is not None:
                if tag == m.to.tag:
                    return DialogId(m.call_id, tag, m.from_.tag)
                if tag == m.from_.tag:
                    return DialogId(m.call_id, tag, m.to.tag)
    raise ValueError(f"no dialog has the tag {tag!r}")


def ladder(
    path: str | os.PathLike[str],
    *,
    call_id: str | None = None,
    dialog: DialogId | str | None = None,
    names: Mapping[str, str] | None = None,
    as_endpoint: str | None = None,
    max_messages: int | None = None,
    t1: float = 0.5,
) -> Ladder:
    """The ladder diagram of the capture, SIPp log or text file at ``path``.

    ``call_id`` keeps one call's messages; ``dialog`` one dialog's (a :class:`DialogId`, or
    a tag: the first dialog that carries it), with the dialog-creating request before its
    To tag. ``names`` shows endpoints by name (``{"127.0.0.1:5071": "Alice"}``).
    ``as_endpoint`` replays one UA only (its state changes alone are drawn).
    ``max_messages`` stops reading after that many messages are drawn. Every message read
    is replayed, drawn or not: the states are those of the whole trace (up to there).
    """
    if isinstance(dialog, str):
        dialog = _find_dialog(path, dialog)
    keep = _Filter(call_id, dialog)
    builder = _Builder(names or {})
    with contextlib.closing(_open(path)) as wires:
        taken = builder.take(wires, keep, max_messages)
        replayed = replay_wires(taken, as_endpoint=as_endpoint, t1=t1)
        records = [r for r in replayed if isinstance(r, DialogRecord) and keep.record(r)]
    notes = builder.notes(records)
    title = Path(path).name
    if dialog is not None:
        title += f", dialog {dialog.call_id} {dialog.local_tag}/{dialog.remote_tag}"
    elif call_id is not None:
        title += f", Call-ID {call_id}"
    return Ladder(
        clean(title),
        tuple(builder.lanes),
        tuple(builder.arrows),
        tuple(notes),
        tuple(builder.marks.values()),
        builder.truncated,
    )
