"""Replay benchmark: a capture of a million SIP messages through dialogfsm, against the
same pipeline built on sippy's parser.

**The capture.** The three real calls of ``tests/data/sipp/uac-uas.pcap`` (SIPp UAC and UAS:
INVITE, 180, 200, ACK, BYE, 200) are read with ``read_packets`` and ``Decoder``; the first
one becomes six templates in which the Call-ID, the From and To tags, the Via branches, the
UAC's and the UAS's addresses (headers and SDP) are placeholders and Content-Length is
computed again for each message. The generator repeats that call with fresh values: a new
Call-ID, tags and branches per call; the caller is one of 200 UAC addresses
(``10.1.x.y:5060``, each its own endpoint, so each with its own ``DialogManager``), the
callee one UAS (``10.0.0.1:5060``, a PBX). Calls start as a Poisson process of 100 calls/s;
the 180 and the ACK follow at the delays SIPp had, the 200 after 0.5-4.5 s of ringing, the
BYE after 15-80 s of talk (the 200 to it at SIPp's delay): about 5,000 calls (10,000
dialogs, both sides) are alive at once in the steady state, and the capture is time ordered
(microsecond timestamps, strictly increasing). It is written as a classic pcap (Ethernet,
IPv4 with its header checksum, UDP without checksum) with ``struct``, ``--messages``
packets exactly (the calls alive when the capture ends stay unfinished, as in any capture
cut from live traffic), and cached under ``/tmp/me6/`` by (messages, seed). The calls are
SIPp's as they were, so each still sends its ACK and BYE to the Request-URI of the INVITE
rather than to the 200's Contact: dialogfsm reports that (RFC 3261 12.2.1.1) as two findings
per call, as it does on the original capture.

**The pipelines**, each timed in a fresh interpreter (so each peak RSS is its own; garbage
collector on, as in production), over the whole file, from opening it to the last item, one
pass (wall clock; the CPU time of the process, and of its workers, is shown beside it):

- ``read_packets``: the capture reader alone (packets/s; best of 3 passes).
- ``read_packets + Decoder``: Ethernet/IPv4/UDP decoded, SIP recognised by content (best of
  3 passes).
- ``Decoder + parse_message``: the same, and each UDP payload parsed with
  ``parse_message`` (the full, validating parse a replay uses), no dialog layer.
- ``dialogfsm iter_replay``: ``iter_replay(path)`` consumed, observer mode (every endpoint
  replayed, each with its own manager): parse, dialog tracking, records and findings.
- ``run_replay jobs=1`` and ``jobs=2``: ``run_replay(path, as_endpoint=None, jobs=N,
  progress=False)``, the ``--jobs`` machinery with the merged report held in memory as JSON
  objects; the two reports' ``to_json()`` are compared (sha256 of the sorted JSON text).
- ``replay command jobs=1`` and ``jobs=2``: ``python -m dialogfsm replay PATH --jobs N
  --json`` in a process of its own, writing to a file under ``/tmp/me6/`` (the command sorts
  its report on disk and streams it); the two outputs are compared byte for byte (sha256),
  and the file is deleted. Its peak RSS is that of its largest process.
- ``sippy baseline``: ``read_packets`` + ``Decoder`` (dialogfsm's, so only the parser and the
  dialog tracking differ), then sippy 2.5.0's ``SipRequest``/``SipResponse`` of each decoded
  datagram (after ``decode()``, sippy parses ``str``) and a lean dialog tracker in plain
  Python that does the observer job: per endpoint and dialog id (Call-ID, local tag, remote
  tag) a record with early/confirmed/terminated transitions (time, packet, what moved it),
  the RFC 3261 12.1 dialog state (CSeqs, local/remote URI, remote target from Contact,
  route set from Record-Route), the pending INVITE kept until its final response, dialogs
  handed out and dropped when they end. No RFC checks, no timers, no findings: a lower bound
  for doing the job on sippy.
- ``scan floor`` (a reference, not a competitor): the sippy pipeline with sippy's parser
  swapped for a header scan that checks nothing (split the head into lines, each line at
  its first colon, compact names expanded; tags, URIs and CSeq cut out of the raw text on
  demand) behind the few sippy methods the tracker calls. It is what the baseline's job
  costs in CPython once parsing is almost free, so it bounds what any pipeline doing at
  least that job can reach here; the run prints its ratio to the baseline beside the
  targets. Its dialogs are tallied and compared with the baseline's too.

Both replays' dialogs are tallied by the states they went through; the two tallies must be
equal (same job done). Peak memory is ``ru_maxrss`` of each child (``RUSAGE_CHILDREN`` too for
the ``--jobs`` workers), and ``tracemalloc``'s peak from another fresh run of the two
dialogfsm replays (tracemalloc slows a replay 3-4x, so those runs are not timed, and the
baseline gets none; ``--no-tracemalloc`` skips them). Memory flat in file size: the
dialogfsm replay runs on a capture of ``--messages``/10 messages too (same seed, same call
rate), and both peaks are compared; below about 300,000 messages the small file is too short
to reach the 5,000-call steady state (the generator prints the peak of live calls per file).

The capture generator is ``replay_capture.py``, the sippy baseline and the scan floor
``replay_peers.py``; this script measures and reports.

Run from the repository root::

    python benchmarks/bench_replay.py --quick     # 100,000 messages: ~2.5 min
    python benchmarks/bench_replay.py             # 1,000,000 messages: ~20 min on 2 cores
    python benchmarks/bench_replay.py --no-tracemalloc  # the same without the ~9 min of
                                                        # tracemalloc runs
    python benchmarks/bench_replay.py --profile   # + cProfile of the replay of 100k messages

Captures are generated once (1M messages: 469 MB, ~7 s) and kept in ``/tmp/me6/``; delete
them there when done. On a shared machine, read the "per CPU s" column and the load
averages the run prints beside the wall-clock figures.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import importlib.metadata
import json
import os
import platform
import pstats
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Let ``python benchmarks/bench_replay.py`` find the package in the source tree.
_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from replay_capture import CACHE, Generated, capture  # noqa: E402
from replay_peers import SippyDialog, scan_replay, sippy_replay  # noqa: E402

from dialogfsm import (  # noqa: E402
    Decoder,
    DialogRecord,
    ParseError,
    iter_replay,
    parse_message,
    read_packets,
)
from dialogfsm._report import run_replay  # noqa: E402
from dialogfsm._sources import SourceCounts  # noqa: E402

# --------------------------------------------------------------------------------------
# Targets (from the issue)
# --------------------------------------------------------------------------------------

TARGET_VS_SIPPY = 3.5  # replay messages/s over the sippy-based pipeline's
TARGET_RATE = 70_000  # replay messages/s on one core
TARGET_READ = 1_000_000  # read_packets packets/s
TARGET_FLAT = 1.25  # peak memory at N over peak memory at N/10
TARGET_JOBS_SPEEDUP = 1.6  # --jobs 2 over --jobs 1, on 2 cores

# --------------------------------------------------------------------------------------
# One measurement, in a fresh interpreter
# --------------------------------------------------------------------------------------


def _max_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the --jobs workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


CHEAP_PASSES = 3  # read_packets and Decoder are fast: the best of 3 passes is kept


def _read(path: Path, jobs: int) -> dict[str, Any]:
    best, packets = float("inf"), 0
    for _ in range(CHEAP_PASSES):
        started = time.perf_counter()
        packet = None
        for packet in read_packets(path):  # noqa: B007 (the last one is numbered)
            pass
        best = min(best, time.perf_counter() - started)
        packets = packet.number if packet is not None else 0
    return {"items": packets, "seconds": best, "passes": CHEAP_PASSES}


def _decode(path: Path, jobs: int) -> dict[str, Any]:
    best, packets = float("inf"), 0
    for _ in range(CHEAP_PASSES):
        started = time.perf_counter()
        decoder = Decoder()
        for _payload in decoder.payloads(read_packets(path)):
            pass
        best = min(best, time.perf_counter() - started)
        packets = decoder.counts.packets
    return {"items": packets, "seconds": best, "passes": CHEAP_PASSES}


def _parse(path: Path, jobs: int) -> dict[str, Any]:
    messages = unparseable = 0
    for payload in Decoder().payloads(read_packets(path)):
        if payload.transport != "UDP":
            continue
        messages += 1
        try:
            parse_message(payload.data)
        except ParseError:
            unparseable += 1
    return {"items": messages, "unparseable": unparseable}


def _replay(path: Path, jobs: int) -> dict[str, Any]:
    counts = SourceCounts()
    tally: Counter[str] = Counter()
    findings = 0
    for item in iter_replay(path, counts=counts):
        if isinstance(item, DialogRecord):
            tally[" > ".join(item.states)] += 1
        else:
            findings += 1
    return {"items": counts.sip_messages, "tally": dict(tally), "findings": findings}


def _report(path: Path, jobs: int) -> dict[str, Any]:
    started = time.perf_counter()
    report = run_replay(path, as_endpoint=None, jobs=jobs, progress=False)
    seconds = time.perf_counter() - started  # the JSON text and its hash are not timed
    text = json.dumps(report.to_json(), sort_keys=True).encode()
    workers = _max_rss_mb(resource.RUSAGE_CHILDREN) if jobs > 1 else None
    return {"items": report.sip_messages, "seconds": seconds,
            "sha256": hashlib.sha256(text).hexdigest(), "dialogs": len(report.dialogs),
            "findings": len(report.findings), "children_rss_mb": workers}  # fmt: skip


def _command(path: Path, jobs: int) -> dict[str, Any]:
    """``dialogfsm replay PATH --jobs N --json`` in a process of its own, its JSON written to
    a file under /tmp/me6/ (hashed, then deleted: it holds every dialog)."""
    out = CACHE / f"report-{path.stem}-jobs{jobs}-{os.getpid()}.json"
    command = [sys.executable, "-m", "dialogfsm", "replay", str(path), "--jobs", str(jobs),
               "--json"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(_REPO_ROOT), *sys.path[1:]])}
    started = time.perf_counter()
    try:
        with out.open("wb") as file:
            done = subprocess.run(command, stdout=file, stderr=subprocess.PIPE, env=env,
                                  check=False)  # fmt: skip
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):  # 1: findings with --strict (not given here)
            raise RuntimeError(done.stderr.decode(errors="replace").strip()[-300:])
        digest = hashlib.sha256()
        with out.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
            file.seek(max(0, out.stat().st_size - 4096))
            tail = file.read().decode(errors="replace")
    finally:
        out.unlink(missing_ok=True)
    found = re.search(r'"sip_messages": (\d+)', tail)
    # the command and its workers are this process's children: their peak is the largest one's
    largest = _max_rss_mb(resource.RUSAGE_CHILDREN)
    return {"items": int(found.group(1)) if found else 0, "seconds": seconds,
            "sha256": digest.hexdigest(), "process_rss_mb": largest}  # fmt: skip


def _tracked(dialogs: Iterator[SippyDialog], counts: dict[str, int]) -> dict[str, Any]:
    tally: Counter[str] = Counter()
    for dialog in dialogs:
        tally[" > ".join(dialog.states)] += 1
    return {"items": counts["sip_messages"], "unparseable": counts["unparseable"],
            "tally": dict(tally)}  # fmt: skip


def _sippy(path: Path, jobs: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    return _tracked(sippy_replay(path, counts), counts)


def _scan(path: Path, jobs: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    return _tracked(scan_replay(path, counts), counts)


PIPELINES: dict[str, Callable[[Path, int], dict[str, Any]]] = {
    "read": _read, "decode": _decode, "parse": _parse, "replay": _replay, "report": _report,
    "sippy": _sippy, "scan": _scan, "command": _command,
}  # fmt: skip


def tree_fingerprint() -> str:
    """A hash of the dialogfsm sources: other people commit while a long run goes on, and
    every measurement must have run the same code."""
    digest = hashlib.sha256()
    for source in sorted((_REPO_ROOT / "dialogfsm").glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:12]


def _commit() -> str:
    done = subprocess.run(["git", "-C", str(_REPO_ROOT), "log", "-1", "--format=%h %cI"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(_REPO_ROOT), "status", "--porcelain", "dialogfsm"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    head = done.stdout.strip() or "unknown commit"
    return head + (" + uncommitted changes in dialogfsm/" if dirty.stdout.strip() else "")


def child(kind: str, path: Path, traced: bool, jobs: int) -> dict[str, Any]:
    """Run one pipeline over ``path`` in this (fresh) process; what it measured."""
    tree = tree_fingerprint()  # what this process imported (just now)
    if traced:
        tracemalloc.start()
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = PIPELINES[kind](path, jobs)
    result.setdefault("seconds", time.perf_counter() - started)
    result["cpu_seconds"] = _cpu_seconds() - cpu
    if traced:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    result["rss_mb"] = _max_rss_mb()
    result["tree"] = tree
    return result


@dataclass
class Measured:
    name: str
    kind: str
    unit: str  # "packets" or "messages"
    messages: int  # file size in messages
    data: dict[str, Any] = field(default_factory=dict)
    traced: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def rate(self) -> float | None:
        if self.error or not self.data:
            return None
        return float(self.data["items"]) / float(self.data["seconds"])

    @property
    def cpu_rate(self) -> float | None:
        """Items per CPU second (of the process and its workers): what a busy machine
        changes least for a one-process pipeline."""
        if self.error or not self.data:
            return None
        cpu = float(self.data["cpu_seconds"]) / float(self.data.get("passes", 1))
        return float(self.data["items"]) / cpu if cpu else None

    @property
    def rss(self) -> float | None:
        if self.error or not self.data:
            return None
        return float(self.data.get("process_rss_mb") or self.data["rss_mb"])

    @property
    def traced_peak(self) -> float | None:
        return self.traced.get("traced_peak_mb") if not self.error else None


def run_child(kind: str, path: Path, *, traced: bool = False, jobs: int = 1) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path),
               "--jobs", str(jobs)]  # fmt: skip
    command += ["--traced"] if traced else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise RuntimeError(lines[-1])
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def measure(name: str, kind: str, made: Generated, *, traced: bool, jobs: int = 1) -> Measured:
    unit = "packets" if kind in ("read", "decode") else "messages"
    m = Measured(name, kind, unit, made.messages)
    started = time.perf_counter()
    try:
        m.data = run_child(kind, made.path, jobs=jobs)
        if traced:
            m.traced = run_child(kind, made.path, traced=True, jobs=jobs)
    except RuntimeError as exc:
        m.error = str(exc)
    rate = m.rate
    shown = "failed: " + m.error if rate is None else f"{rate:,.0f} {unit}/s"
    print(f"  {name} ({made.messages:,} messages): {shown}  "
          f"[{time.perf_counter() - started:.0f} s wall; load {_load()}]", flush=True)  # fmt: skip
    return m


# --------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------


def profile_replay(path: Path, messages: int, top: int = 15) -> list[str]:
    """cProfile of ``iter_replay`` consumed: the ``top`` functions by own time, per message."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _item in iter_replay(path):
        pass
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]  # pstats keeps it, untyped
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    body = []
    for (filename, line, function), (_cc, calls, tottime, cumtime, _callers) in rows[:top]:
        where = f"{Path(filename).name}:{line}({function})" if line else function
        body.append(
            [where, f"{calls:,}", f"{calls / messages:.1f}", f"{tottime * 1e6 / messages:.2f}",
             f"{100 * tottime / total:.1f}", f"{cumtime * 1e6 / messages:.2f}"]
        )  # fmt: skip
    head = ["function", "calls", "per msg", "own us/msg", "own %", "cum us/msg"]
    out = [f"total {total:.1f} s under cProfile = {total * 1e6 / messages:.1f} us/message"]
    out += _table(head, body)
    areas: Counter[str] = Counter()
    for (filename, _line, function), (_cc, _calls, tottime, _cum, _callers) in rows:
        areas[_area(filename, function)] += tottime
    out.append("")
    out.append("own time by area (built-ins counted apart: they are called from every area):")
    body = [[area, f"{t * 1e6 / messages:.1f}", f"{100 * t / total:.1f}"]
            for area, t in areas.most_common()]  # fmt: skip
    return out + _table(["area", "us/msg", "%"], body)


_AREAS = (
    ("capture reading (_pcap, _packets, _ip, _tcp, _sources)",
     ("_pcap.py", "_packets.py", "_ip.py", "_tcp.py", "_sources.py")),
    ("SIP parsing (_parser, _message, _headers, _values, _grammar, _uri)",
     ("_parser.py", "_message.py", "_headers.py", "_values.py", "_grammar.py", "_uri.py")),
    ("replay engine (_replay, _results)", ("_replay.py", "_results.py")),
    ("transitions library (the state machine)", ("/transitions/",)),
    ("logging (transitions' logger.debug calls)", ("/logging/",)),
    ("enum (State/Extra2xx member access)", ("/enum.py",)),
)  # fmt: skip


def _area(filename: str, function: str) -> str:
    for area, parts in _AREAS:
        if any(part in filename for part in parts):
            return area
    if "/dialogfsm/" in filename:
        return "dialog layer (_manager, _dialog, _store, _timers, _matching, _machine, ...)"
    if filename == "~":
        return "built-ins and C methods (isinstance, dict.get, str methods, ...)"
    if filename.startswith("<"):
        return "generated code (attrs/NamedTuple __init__, __new__)"
    return f"other: {Path(filename).name}"


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(head), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def _fmt(value: float | None, suffix: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_table(rows: Sequence[Measured], baseline: Measured | None) -> None:
    base = baseline.rate if baseline else None
    body = []
    for m in rows:
        if m.error:
            body.append([m.name, f"{m.messages:,}", "failed", *["-"] * 8])
            continue
        rate = m.rate
        assert rate is not None
        rss = m.rss
        extra = m.data.get("children_rss_mb")
        rss_text = _fmt(rss, digits=0) + ("" if extra is None else f" (+{extra:.0f}/worker)")
        body.append(
            [m.name, f"{m.messages:,}", f"{rate:,.0f}", m.unit, f"{m.data['seconds']:.1f}",
             f"{m.data['cpu_seconds'] / m.data.get('passes', 1):.1f}",
             f"{m.cpu_rate:,.0f}" if m.cpu_rate else "-", rss_text,
             _fmt(m.traced_peak, digits=0),
             _fmt(_ratio(rate, base), "x") if m.unit == "messages" else "-"]
        )  # fmt: skip
    head = ["pipeline", "file msgs", "per second", "unit", "wall s", "CPU s", "per CPU s",
            "peak RSS MB", "tracemalloc MB", "vs sippy"]  # fmt: skip
    for line in _table(head, body):
        print(line)
    for m in rows:
        if m.error:
            print(f"  {m.name}: failed ({m.error})")


def check_same_job(replay: Measured, sippy: Measured) -> bool | None:
    if replay.error or sippy.error:
        return None
    ours, theirs = replay.data["tally"], sippy.data["tally"]
    print(f"\nDialogs by the states they went through (both sides of each call): dialogfsm "
          f"{ours}, {replay.data['findings']} findings; sippy baseline {theirs}, "
          f"{sippy.data['unparseable']} unparseable")  # fmt: skip
    same = bool(ours == theirs)
    print(f"  same dialogs in both: {same}")
    return same


@dataclass
class Options:
    messages: int
    seed: int
    traced: bool
    profile: bool
    profile_messages: int
    skip_jobs: bool


def parse_args(argv: Sequence[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, help="SIP messages in the capture (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="--messages 100000")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--no-tracemalloc", action="store_true",
                        help="skip the tracemalloc runs (peak RSS only)")  # fmt: skip
    parser.add_argument("--no-jobs", action="store_true",
                        help="skip the --jobs rows (run_replay, replay command)")  # fmt: skip
    parser.add_argument("--profile", action="store_true",
                        help="cProfile of the dialogfsm replay (top 15 by own time)")  # fmt: skip
    parser.add_argument("--profile-messages", type=int, default=100_000,
                        help="capture size for --profile (100,000)")  # fmt: skip
    # internal: one measurement in a fresh process
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    messages = args.messages or (100_000 if args.quick else 1_000_000)
    return Options(messages, args.seed, not args.no_tracemalloc, args.profile,
                   args.profile_messages, args.no_jobs), args  # fmt: skip


@dataclass
class Results:
    big: Generated
    small: Generated
    read: Measured
    decode: Measured
    parse: Measured
    replay: Measured
    replay_small: Measured
    sippy: Measured
    scan: Measured
    jobs: list[tuple[str, Measured, Measured]]  # (what, jobs=1, jobs=2)
    same: bool | None = None

    @property
    def rows(self) -> list[Measured]:
        rows = [self.read, self.decode, self.parse, self.replay, self.replay_small, self.sippy]
        rows.append(self.scan)
        return rows + [m for _, one, two in self.jobs for m in (one, two)]


def check_jobs(
    r: Results, what: str, one: Measured, two: Measured
) -> tuple[bool | None, float | None, float | None]:
    """Identical reports? and the speed-up of jobs=2 over jobs=1 and over iter_replay."""
    if one.error or two.error:
        return None, None, None
    identical = bool(one.data["sha256"] == two.data["sha256"])
    print(f"--jobs, {what}: jobs=1 report sha256 {one.data['sha256'][:16]}..., jobs=2 "
          f"{two.data['sha256'][:16]}...: identical {identical}")  # fmt: skip
    return identical, _ratio(two.rate, one.rate), _ratio(two.rate, r.replay.rate)


def print_targets(r: Results) -> None:
    checked = [(what, two, *check_jobs(r, what, one, two)) for what, one, two in r.jobs]
    print("\nTargets")
    vs = _ratio(r.replay.rate, r.sippy.rate)
    vs_cpu = _ratio(r.replay.cpu_rate, r.sippy.cpu_rate)
    differ = "" if r.same or r.same is None else " (the two found different dialogs)"
    ok = None if vs is None else vs >= TARGET_VS_SIPPY and bool(r.same)
    print(f"  replay >= {TARGET_VS_SIPPY}x the sippy-based pipeline: {_fmt(vs, 'x')} (per CPU "
          f"second: {_fmt(vs_cpu, 'x')})  {_verdict(ok)}{differ}")  # fmt: skip
    floor = _ratio(r.scan.rate, r.sippy.rate)
    scan_same = (
        None if r.scan.error or r.sippy.error else r.scan.data["tally"] == r.sippy.data["tally"]
    )
    print(f"    (reference, no target: the scan floor, the baseline's own tracker on a header "
          f"scan that checks nothing, runs at {_fmt(floor, 'x')} the sippy pipeline, per CPU "
          f"second {_fmt(_ratio(r.scan.cpu_rate, r.sippy.cpu_rate), 'x')}; same dialogs as "
          f"the baseline: {scan_same})")  # fmt: skip
    print(
        f"    (reference, no target: reading, decoding and parsing alone, no dialog layer, "
        f"run at {_fmt(_ratio(r.parse.rate, r.sippy.rate), 'x')} the sippy pipeline)"
    )
    rate = r.replay.rate
    print(f"  replay >= {TARGET_RATE:,} messages/s on one core: {_fmt(rate, digits=0)} (per "
          f"CPU second: {_fmt(r.replay.cpu_rate, digits=0)})  "
          f"{_verdict(None if rate is None else rate >= TARGET_RATE)}")  # fmt: skip
    read = r.read.rate
    print(f"  read_packets > {TARGET_READ:,} packets/s: {_fmt(read, digits=0)}  "
          f"{_verdict(None if read is None else read > TARGET_READ)}")  # fmt: skip
    big, small = r.replay, r.replay_small
    flat = _ratio(big.rss, small.rss)
    flat_traced = _ratio(big.traced_peak, small.traced_peak)
    print(f"  peak memory at {big.messages:,} within {TARGET_FLAT}x of at {small.messages:,}: "
          f"RSS {_fmt(big.rss, ' MB', 0)} / {_fmt(small.rss, ' MB', 0)} = {_fmt(flat, 'x')}; "
          f"tracemalloc {_fmt(big.traced_peak, ' MB', 0)} / "
          f"{_fmt(small.traced_peak, ' MB', 0)} = {_fmt(flat_traced, 'x')}  "
          f"{_verdict(None if flat is None else flat <= TARGET_FLAT)}")  # fmt: skip
    if r.small.peak_live_calls < 0.9 * r.big.peak_live_calls:
        print(f"    (the small capture peaks at {r.small.peak_live_calls:,} live calls, the big "
              f"one at {r.big.peak_live_calls:,}: too short to reach the steady state, so "
              "this compares unlike loads; use --messages 300000 or more)")  # fmt: skip
    for what, two, identical, speedup, speedup_vs_iter in checked:
        ok = None if identical is None or speedup is None else (
            identical and speedup >= TARGET_JOBS_SPEEDUP
        )  # fmt: skip
        print(f"  {what}: --jobs 2 identical to --jobs 1 and >= {TARGET_JOBS_SPEEDUP}x faster on "
              f"2 cores ({os.cpu_count()} here): identical {identical}, speed-up "
              f"{_fmt(speedup, 'x')} ({_fmt(speedup_vs_iter, 'x')} over iter_replay)  "
              f"{_verdict(ok)}")  # fmt: skip
        if not two.error:
            cores = float(two.data["cpu_seconds"]) / float(two.data["seconds"])
            busy = (
                "; other processes took the rest, so the verdict says more about the load "
                "than about --jobs"
                if cores < TARGET_JOBS_SPEEDUP
                else ""
            )
            print(f"    (jobs=2 kept {cores:.2f} cores busy on average, CPU s / wall s{busy})")


def measure_all(options: Options) -> Results:
    sizes = [options.messages // 10, options.messages]
    made: dict[int, Generated] = {}
    for n in sizes:
        g = made[n] = capture(n, options.seed)
        how = f"generated in {g.seconds:.1f} s" if g.seconds else "cached"
        print(f"capture {g.path}: {g.messages:,} messages, {g.calls:,} calls begun, "
              f"{g.bytes / 1e6:.0f} MB, {g.capture_seconds:,.0f} s of traffic, at most "
              f"{g.peak_live_calls:,} calls alive (180 to BYE) at once; {how}")  # fmt: skip
    big, small = made[options.messages], made[options.messages // 10]
    traced = options.traced
    print(f"\nMeasuring, each in a fresh interpreter{' (+ a tracemalloc run)' if traced else ''}:")
    return Results(
        big, small,
        measure("read_packets", "read", big, traced=False),
        measure("read_packets + Decoder", "decode", big, traced=False),
        measure("Decoder + parse_message", "parse", big, traced=False),
        measure("dialogfsm iter_replay", "replay", big, traced=traced),
        measure("dialogfsm iter_replay", "replay", small, traced=traced),
        measure("sippy baseline", "sippy", big, traced=False),
        measure("scan floor", "scan", big, traced=False),
        [] if options.skip_jobs else [
            (what, *(measure(f"{name} jobs={n}", kind, big, traced=False, jobs=n)
                     for n in (1, 2)))  # type: ignore[misc]  # a 3-tuple: mypy cannot count
            for what, name, kind in (("run_replay(...).to_json()", "run_replay", "report"),
                                     ("replay command --json", "replay command", "command"))
        ],
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    options, args = parse_args(argv)
    if args.child is not None:
        kind, path = args.child
        print(json.dumps(child(kind, Path(path), args.traced, args.jobs)))
        return 0
    began = time.perf_counter()
    try:
        sippy_version = f"sippy {importlib.metadata.version('sippy')}"
    except importlib.metadata.PackageNotFoundError:
        sippy_version = "sippy not installed"
    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.machine()}, {os.cpu_count()} cores (os.cpu_count()); dialogfsm "
          f"{importlib.metadata.version('dialogfsm')} (this tree), {sippy_version}")  # fmt: skip
    tree = tree_fingerprint()
    print(f"dialogfsm sources: commit {_commit()}, fingerprint {tree}")
    print(f"load average at start (1/5/15 min): {_load()}")
    r = measure_all(options)
    print(f"\nReplay of {r.big.messages:,} SIP messages ({r.big.calls:,} calls, about 5,000 "
          "alive at once, 200 UAC + 1 UAS endpoints), observer mode; load average now "
          f"{_load()}")  # fmt: skip
    print_table(r.rows, r.sippy)
    print("(per second: items / wall-clock seconds, what the targets use; per CPU s: items / "
          "CPU seconds of the process and its workers, steadier on a busy machine; vs sippy: "
          "wall-clock rates. peak RSS: ru_maxrss of the measuring process; '+N/worker': the "
          "largest --jobs worker's; replay command: its largest process. tracemalloc: peak "
          "traced memory in a separate, untimed run. run_replay holds the whole report in "
          "memory; the replay command sorts it on disk and streams it)")  # fmt: skip
    r.same = check_same_job(r.replay, r.sippy)
    if options.profile:
        g = capture(options.profile_messages, options.seed)
        print(f"\ncProfile, dialogfsm iter_replay of {g.messages:,} messages ({g.path.name}), "
              "top 15 by own time (profiling inflates small functions):")  # fmt: skip
        for line in profile_replay(g.path, g.messages):
            print(f"  {line}")
    print_targets(r)
    trees = {m.name + f" ({m.messages:,})": {m.data.get("tree"), m.traced.get("tree")} - {None}
             for m in r.rows}  # fmt: skip
    changed = {name: t for name, t in trees.items() if t != {tree}}
    if changed:
        print(f"\nWARNING: dialogfsm/ changed during the run (fingerprint {tree} at start): "
              f"{changed}; the rows above did not all run the same code. Run again.")  # fmt: skip
    else:
        print(f"\nEvery measurement ran the same dialogfsm sources (fingerprint {tree}).")
    print(f"load average at the end: {_load()}; whole run {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
