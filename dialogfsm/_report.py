"""What the ``replay`` command prints, and ``--jobs``: shares of the calls in processes.

A replay split by Call-ID (``--jobs N``) gives the same report as one in a single process:
each process replays the calls whose Call-ID hashes to its share (the other datagrams are
never parsed), and the parts are merged in the one order every report uses: dialogs by
creation, findings by time.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
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
    report_json,
)
from ._sources import SourceCounts

JSON = dict[str, Any]

#: the collector's thresholds in processes the ``replay`` command owns (its own while it
#: replays, and every ``--jobs`` worker). A replay keeps thousands of dialogs and the
#: parser's memos alive, and CPython's default (a young collection every 700 allocations,
#: an older one every 10 of those) walks them over and over: a quarter of a replay's time
#: on the benchmark's capture. A replay leaves no reference cycles behind per message, so
#: collecting less often costs no memory (the same peak RSS with the collector off).
REPLAY_GC_THRESHOLDS = (10_000, 10, 10)


@contextlib.contextmanager
def replay_gc() -> Iterator[None]:
    """:data:`REPLAY_GC_THRESHOLDS` while the block runs; the caller's thresholds after."""
    before = gc.get_threshold()
    gc.set_threshold(*REPLAY_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _worker_started() -> None:
    """Each ``--jobs`` worker: a process of ours, so it replays with our thresholds."""
    gc.set_threshold(*REPLAY_GC_THRESHOLDS)


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
        return report_json(self.dialogs, self.findings, self.packets, self.sip_messages,
                           self.skipped)  # fmt: skip


#: items a process sorts in memory before it spills them to a run file
_CHUNK = 50_000
Key = list[int | str]


class _Spill:
    """An external sort: items go to sorted run files of ``_CHUNK`` items each, so a replay
    of any length keeps a bounded number in memory; ``heapq.merge`` reads them back."""

    def __init__(self, directory: str, name: str) -> None:
        self._directory = directory
        self._name = name
        self._buffer: list[tuple[Key, str]] = []
        self.runs: list[str] = []

    def add(self, key: Key, item: JSON) -> None:
        self._buffer.append((key, json.dumps(item)))
        if len(self._buffer) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        self._buffer.sort(key=lambda pair: pair[0])  # stable: replay order among equals
        path = os.path.join(self._directory, f"{self._name}-{len(self.runs)}.jsonl")
        with open(path, "w", encoding="utf-8") as file:
            for key, text in self._buffer:
                file.write(f"{json.dumps(key)}\t{text}\n")
        self.runs.append(path)
        self._buffer = []


def _read_run(path: str) -> Iterator[tuple[Key, str]]:
    with open(path, encoding="utf-8") as file:
        for line in file:
            key, _, text = line.rstrip("\n").partition("\t")
            yield json.loads(key), text


def _merged(runs: list[str]) -> Iterator[str]:
    """The items of sorted runs, in key order; equal keys keep the order of the runs."""
    for _, text in heapq.merge(*(_read_run(r) for r in runs), key=lambda pair: pair[0]):
        yield text


_Part = tuple[list[str], list[str], JSON]


def replay_part(  # noqa: PLR0917 (ProcessPoolExecutor.map passes them by position)
    path: str, as_endpoint: str | None, k: int, n: int, directory: str, progress: bool = False
) -> _Part:
    """Replay share ``k`` of ``n`` of the calls in ``path`` (all of them when ``n`` is 1)
    into sorted run files in ``directory``: dialogs by creation, findings by time."""
    counts = SourceCounts()
    dialogs = _Spill(directory, f"dialogs-{k}")
    findings = _Spill(directory, f"findings-{k}")
    advance = _progress(os.path.getsize(path)) if progress else None
    shard = (k, n) if n > 1 else None
    for item in iter_replay(path, as_endpoint=as_endpoint, counts=counts, progress=advance,
                            shard=shard):  # fmt: skip
        if isinstance(item, Finding):
            findings.add([*finding_order(item), item.text], finding_json(item))
        else:
            dialogs.add(list(creation_order(item)), dialog_json(item))
    dialogs.flush()
    findings.flush()
    return dialogs.runs, findings.runs, attrs.asdict(counts)


@attrs.define
class _Merged:
    dialogs: Iterator[str]
    findings: Iterator[str]
    packets: int
    sip_messages: int
    skipped: int
    source: str


@contextlib.contextmanager
def replayed(
    path: str | os.PathLike[str], *, as_endpoint: str | None, jobs: int, progress: bool
) -> Iterator[_Merged]:
    """Replay ``path`` in ``jobs`` processes (1: in this one); the merged report streams
    its dialogs and findings as JSON texts, from sorted run files on disk."""
    name = os.fspath(path)
    with tempfile.TemporaryDirectory(prefix="dialogfsm-") as directory:
        if jobs == 1:
            parts = [replay_part(name, as_endpoint, 0, 1, directory, progress)]
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_started) as pool:
                parts = list(pool.map(replay_part, [name] * jobs, [as_endpoint] * jobs,
                                      range(jobs), [jobs] * jobs, [directory] * jobs))  # fmt: skip
        counts = parts[0][2]
        # runs in share order: equal keys only ever come from one call, so from one share
        yield _Merged(
            _merged([r for part in parts for r in part[0]]),
            _merged([r for part in parts for r in part[1]]),
            counts["packets"], sum(part[2]["sip_messages"] for part in parts),
            counts["skipped"], counts["kind"],
        )  # fmt: skip


def run_replay(
    path: str | os.PathLike[str], *, as_endpoint: str | None, jobs: int, progress: bool
) -> Report:
    """The merged report held in memory (for small captures and tests)."""
    with replayed(path, as_endpoint=as_endpoint, jobs=jobs, progress=progress) as merged:
        return Report(
            [json.loads(d) for d in merged.dialogs], [json.loads(f) for f in merged.findings],
            merged.packets, merged.sip_messages, merged.skipped, merged.source,
        )  # fmt: skip


def write_json(merged: _Merged, out: IO[str]) -> None:
    """The report in the versioned JSON layout, written as it is read (bounded memory)."""
    out.write(f'{{"version": {SCHEMA_VERSION}, "dialogs": [')
    for i, text in enumerate(merged.dialogs):
        out.write(text if i == 0 else ", " + text)
    out.write('], "findings": [')
    for i, text in enumerate(merged.findings):
        out.write(text if i == 0 else ", " + text)
    out.write(f'], "packets": {merged.packets}, "sip_messages": {merged.sip_messages}, '
              f'"skipped": {merged.skipped}}}\n')  # fmt: skip


#: rows the terminal table shows before it says how many more there are
TABLE_ROWS = 1000


def print_table(merged: _Merged, out: IO[str]) -> None:
    """The dialogs as a table (the first ``TABLE_ROWS``), the findings, the counts."""
    console = Console(file=out, highlight=False, soft_wrap=False,
                      width=None if out.isatty() else 160)  # fmt: skip
    rows: list[JSON] = []
    total = 0
    for text in merged.dialogs:
        total += 1
        if total <= TABLE_ROWS:
            rows.append(json.loads(text))
    table = Table(title=f"{total} dialogs", title_justify="left")
    for column in ("endpoint", "role", "Call-ID", "local tag", "remote tag", "states",
                   "local/remote seq"):  # fmt: skip
        table.add_column(column, overflow="fold", no_wrap=column == "states")
    for d in rows:
        seqs = "/".join("-" if v is None else str(v) for v in (d["local_seq"], d["remote_seq"]))
        table.add_row(d["endpoint"], d["role"], d["call_id"], d["local_tag"], d["remote_tag"],
                      " → ".join(d["states"]), seqs)  # fmt: skip
    console.print(table)
    if total > TABLE_ROWS:
        console.print(f"... and {total - TABLE_ROWS} more dialogs (--json lists them all)")
    findings = [json.loads(f) for f in itertools.islice(merged.findings, TABLE_ROWS)]
    more = sum(1 for _ in merged.findings)
    if findings:
        console.print(f"[bold]{len(findings) + more} findings[/bold]")
        for f in findings:
            where = f"packet {f['packet']}" if f["packet"] is not None else "timer"
            console.print(f"  {f['rfc']}  {where}  {f['time']}  {f['text']}", markup=False)
    if more:
        console.print(f"  ... and {more} more findings (--json lists them all)")
    unit = "packets" if merged.source == "capture" else "messages"
    console.print(f"{merged.packets} {unit}, {merged.sip_messages} SIP messages, "
                  f"{merged.skipped} skipped ({merged.source})")  # fmt: skip


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
