"""``replay(path)``: a capture or log in, its dialogs and findings out, as Python or JSON.

The JSON form is versioned (``"version": 1``) and documented in the README; times are
strings of seconds with nine decimals, so no nanosecond is lost to a float.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from ._replay import DialogRecord, Finding, Transition, replay_wires
from ._sources import Shard, SourceCounts, open_source

#: the version of the JSON layout :meth:`ReplayResult.to_json` writes
SCHEMA_VERSION = 1


@attrs.define
class ReplayResult:
    """Every dialog of a replay (in the order they were created), the findings, counts."""

    dialogs: list[DialogRecord]
    findings: list[Finding]
    packets: int
    """Packets in the capture (messages in a log or text file)."""
    sip_messages: int
    skipped: int
    """Packets that carried no SIP."""
    source: str = "text"
    """``capture``, ``sipp-log`` or ``text``."""

    def to_json(self) -> dict[str, Any]:
        """The documented, versioned JSON layout (schema version 1)."""
        return report_json(
            [dialog_json(d) for d in self.dialogs], [finding_json(f) for f in self.findings],
            self.packets, self.sip_messages, self.skipped,
        )  # fmt: skip


def report_json(
    dialogs: list[dict[str, Any]], findings: list[dict[str, Any]], packets: int,
    sip_messages: int, skipped: int,
) -> dict[str, Any]:  # fmt: skip
    """The top of the JSON layout, schema version 1 (the one place that spells it)."""
    return {"version": SCHEMA_VERSION, "dialogs": dialogs, "findings": findings,
            "packets": packets, "sip_messages": sip_messages, "skipped": skipped}  # fmt: skip


def creation_order(record: DialogRecord) -> tuple[int, int]:
    """Dialogs are listed in the order they were created (a stable sort keeps the sender's
    before the receiver's when one packet creates both)."""
    first = record.transitions[0]
    return first.time_ns, first.packet or 0


def finding_order(finding: Finding) -> tuple[int, int]:
    return finding.time_ns, finding.packet or 0


def time_text(time_ns: int) -> str:
    """Integer nanoseconds as exact decimal seconds: ``"1700000000.123456789"``."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


def _transition_json(t: Transition) -> dict[str, Any]:
    return {"state": t.state, "time": time_text(t.time_ns), "packet": t.packet,
            "message": t.message}  # fmt: skip


def dialog_json(record: DialogRecord) -> dict[str, Any]:
    """One dialog in the JSON layout."""
    s = record.state
    return {
        "call_id": s.call_id,
        "local_tag": s.local_tag,
        "remote_tag": s.remote_tag,
        "role": record.role,
        "endpoint": record.endpoint,
        "states": record.states,
        "transitions": [_transition_json(t) for t in record.transitions],
        "local_seq": s.local_seq,
        "remote_seq": s.remote_seq,
        "local_uri": str(s.local_uri),
        "remote_uri": str(s.remote_uri),
        "remote_target": None if s.remote_target is None else str(s.remote_target),
        "route_set": [str(r) for r in s.route_set],
        "secure": s.secure,
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding in the JSON layout."""
    return {"rfc": finding.rfc, "packet": finding.packet, "time": time_text(finding.time_ns),
            "text": finding.text, "endpoint": finding.endpoint}  # fmt: skip


def iter_replay(
    path: str | os.PathLike[str],
    *,
    as_endpoint: str | None = None,
    t1: float = 0.5,
    counts: SourceCounts | None = None,
    progress: Callable[[int], None] | None = None,
    shard: Shard | None = None,
) -> Iterator[DialogRecord | Finding]:
    """Stream the replay of the file at ``path``: each dialog when it ends (the live ones
    when the file ends) and each finding when it is found. Memory follows the live dialogs,
    not the file. ``counts`` (a :class:`SourceCounts`) fills as the file is read."""
    counts = counts if counts is not None else SourceCounts()
    wires = open_source(path, counts, progress, shard)
    yield from replay_wires(wires, as_endpoint=as_endpoint, t1=t1)


def replay(
    path: str | os.PathLike[str], *, as_endpoint: str | None = None, t1: float = 0.5
) -> ReplayResult:
    """Replay the capture, SIPp log or text file at ``path`` through the dialog layer.

    Observer (default): every endpoint on the wire is replayed, each with its own dialog
    records. ``as_endpoint="HOST:PORT"``: only that user agent's dialogs, rebuilt from
    what it sent and received.
    """
    counts = SourceCounts()
    dialogs: list[DialogRecord] = []
    findings: list[Finding] = []
    for item in iter_replay(path, as_endpoint=as_endpoint, t1=t1, counts=counts):
        if isinstance(item, Finding):
            findings.append(item)
        else:
            dialogs.append(item)
    dialogs.sort(key=creation_order)
    findings.sort(key=finding_order)
    return ReplayResult(
        dialogs, findings, counts.packets, counts.sip_messages, counts.skipped, counts.kind
    )
