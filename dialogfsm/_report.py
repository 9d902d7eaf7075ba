"""What the ``replay`` command prints, and ``--jobs``: shares of the calls in processes.

A replay split by Call-ID (``--jobs N``) gives the same report as one in a single process:
each process replays the calls whose Call-ID hashes to its share (the other datagrams are
never parsed), and the parts are merged in the one order every report uses: dialogs by
creation, findings by time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import IO, Any

import attrs
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ._replay import Finding
from ._results import (
    SCHEMA_VERSION,
    creation_order,
    dialog_json,
    finding_json,
    finding_order,
    iter_replay,
)
from ._sources import SourceCounts

JSON = dict[str, Any]


@attrs.define
class Report:
    """A replay's dialogs and findings as JSON objects, and its counts."""

    dialogs: list[JSON]
    findings: list[JSON]
    packets: int
    sip_messages: int
    skipped: int
    source: str

    def to_json(self) -> JSON:
        """The versioned layout the README documents."""
        return {"version": SCHEMA_VERSION, "dialogs": self.dialogs, "findings": self.findings,
                "packets": self.packets, "sip_messages": self.sip_messages,
                "skipped": self.skipped}  # fmt: skip


_Part = tuple[list[tuple[tuple[int, int], JSON]], list[tuple[tuple[int, int, str], JSON]], JSON]


def replay_part(
    path: str, as_endpoint: str | None, k: int, n: int, progress: bool = False
) -> _Part:
    """Replay share ``k`` of ``n`` of the calls in ``path`` (all of them when ``n`` is 1)."""
    counts = SourceCounts()
    dialogs: list[tuple[tuple[int, int], JSON]] = []
    findings: list[tuple[tuple[int, int, str], JSON]] = []
    advance = _progress(os.path.getsize(path)) if progress else None
    shard = (k, n) if n > 1 else None
    for item in iter_replay(path, as_endpoint=as_endpoint, counts=counts, progress=advance,
                            shard=shard):  # fmt: skip
        if isinstance(item, Finding):
            findings.append(((*finding_order(item), item.text), finding_json(item)))
        else:
            dialogs.append((creation_order(item), dialog_json(item)))
    dialogs.sort(key=lambda pair: pair[0])
    findings.sort(key=lambda pair: pair[0])
    return dialogs, findings, attrs.asdict(counts)


def run_replay(
    path: str | os.PathLike[str], *, as_endpoint: str | None, jobs: int, progress: bool
) -> Report:
    """Replay ``path`` in ``jobs`` processes (1: in this one) and merge the parts."""
    name = os.fspath(path)
    if jobs == 1:
        parts = [replay_part(name, as_endpoint, 0, 1, progress)]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(replay_part, [name] * jobs, [as_endpoint] * jobs,
                                  range(jobs), [jobs] * jobs))  # fmt: skip
    # a stable sort of the parts in share order: equal keys only ever come from one call,
    # so from one share, where they are already in replay order
    dialogs = sorted((d for part in parts for d in part[0]), key=lambda pair: pair[0])
    findings = sorted((f for part in parts for f in part[1]), key=lambda pair: pair[0])
    counts = parts[0][2]
    return Report(
        [d for _, d in dialogs], [f for _, f in findings], counts["packets"],
        sum(part[2]["sip_messages"] for part in parts), counts["skipped"], counts["kind"],
    )  # fmt: skip


def print_table(report: Report, out: IO[str]) -> None:
    """The dialogs as a table, then the findings, then the counts."""
    console = Console(file=out, highlight=False, soft_wrap=False,
                      width=None if out.isatty() else 160)  # fmt: skip
    table = Table(title=f"{len(report.dialogs)} dialogs", title_justify="left")
    for column in ("endpoint", "role", "Call-ID", "local tag", "remote tag", "states",
                   "local/remote seq"):  # fmt: skip
        table.add_column(column, overflow="fold", no_wrap=column == "states")
    for d in report.dialogs:
        seqs = "/".join("-" if v is None else str(v) for v in (d["local_seq"], d["remote_seq"]))
        table.add_row(d["endpoint"], d["role"], d["call_id"], d["local_tag"], d["remote_tag"],
                      " → ".join(d["states"]), seqs)  # fmt: skip
    console.print(table)
    if report.findings:
        console.print(f"[bold]{len(report.findings)} findings[/bold]")
        for f in report.findings:
            where = f"packet {f['packet']}" if f["packet"] is not None else "timer"
            console.print(f"  {f['rfc']}  {where}  {f['time']}  {f['text']}", markup=False)
    unit = "packets" if report.source == "capture" else "messages"
    console.print(f"{report.packets} {unit}, {report.sip_messages} SIP messages, "
                  f"{report.skipped} skipped ({report.source})")  # fmt: skip


def _progress(total: int) -> Callable[[int], None]:
    bar = Progress(transient=True)
    task = bar.add_task("replaying", total=total)
    bar.start()
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return advance
