"""How ``bench_dialog.py`` times: ``Row`` (one timed thing), ``bench`` (loop counts
calibrated, runs interleaved, the fastest kept) and ``profile`` (cProfile of one pass, per
call).
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

# Paths in the source tree are printed relative to it.
_REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One timed thing: ``make()`` returns a function doing ``per`` units of work."""

    key: str
    name: str
    make: Callable[[], Callable[[], None]]
    per: int
    unit: str = "call"
    reference: str | None = None  # key of the row its ratio is taken against
    reset: Callable[[], None] | None = None  # between timed runs, outside the timing
    unavailable: str = ""
    timer: timeit.Timer | None = None
    number: int = 0
    micros: float | None = None  # per unit, fastest run


def _calibrate(row: Row, min_time: float) -> int:
    assert row.timer is not None
    number = 1
    while True:
        if row.reset is not None:
            row.reset()
        elapsed = row.timer.timeit(number)
        if elapsed >= min(0.05, min_time):
            return max(1, round(number * min_time / elapsed))
        number *= 2


def bench(rows: Sequence[Row], *, repeat: int, min_time: float, with_gc: bool) -> None:
    """Time every row; keep its fastest run. Runs are interleaved: round 1 of every row,
    then round 2, ..., so that a burst of load on the machine hits every row alike."""
    setup: Callable[[], None] | str = gc.enable if with_gc else "pass"
    live = []
    for row in rows:
        try:
            function = row.make()
            function()  # warm-up pass, and a check that the lifecycle runs
        except Exception as exc:
            row.unavailable = f"{type(exc).__name__}: {exc}"
            continue
        row.timer = timeit.Timer(function, setup=setup)
        row.number = _calibrate(row, min_time)
        live.append(row)
    for _ in range(repeat):
        for row in live:
            assert row.timer is not None
            if row.reset is not None:
                row.reset()
            micros = row.timer.timeit(row.number) / row.number / row.per * 1e6
            row.micros = micros if row.micros is None else min(micros, row.micros)
    for row in live:
        if row.reset is not None:
            row.reset()
        row.timer = None  # drop the pass and its pre-parsed messages: only figures stay
    for row in rows:
        row.make = _spent
    gc.collect()


def _spent() -> Callable[[], None]:
    raise RuntimeError("timed already")


# --------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------


def profile(run: Callable[[], None], calls: int, limit: int = 10) -> list[str]:
    """cProfile of one pass; the top functions by own time, per call lifecycle."""
    run()
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    total = sum(v[2] for _, v in rows)
    lines = [f"{'own us':>8} {'share':>6} {'calls':>6} {'cum us':>8}  function"]
    for (filename, lineno, name), (_, ncalls, tottime, cumtime, _) in rows[:limit]:
        path = Path(filename)
        where = path.relative_to(_REPO_ROOT) if path.is_relative_to(_REPO_ROOT) else path.name
        lines.append(
            f"{tottime / calls * 1e6:8.2f} {tottime / total:6.1%} {ncalls / calls:6.1f} "
            f"{cumtime / calls * 1e6:8.2f}  {where}:{lineno}({name})"
        )
    lines.append("cumulative time by entry point (nested: move is inside send/receive, ...):")
    for label, file_suffix, names in _ENTRY_POINTS:
        cum = sum(
            value[3]
            for (filename, _, name), value in rows
            if name in names and filename.endswith(file_suffix)
        )
        if cum:
            lines.append(f"{cum / calls * 1e6:8.2f} {cum / total:6.1%}  {label}")
    return lines


_ENTRY_POINTS = [
    ("parse_message", "_parser.py", ("parse_message",)),
    ("build_response", "_build.py", ("build_response",)),
    ("build_request (INVITE; inside Dialog.ack/request too)", "_build.py", ("build_request",)),
    ("bytes(message)", "_message.py", ("__bytes__",)),
    ("DialogManager.receive", "_manager.py", ("receive",)),
    ("DialogManager.send", "_manager.py", ("send",)),
    ("DialogManager.handle_timer", "_manager.py", ("handle_timer",)),
    ("move (state machine + events)", "_machine.py", ("move",)),
    ("transitions Event.trigger", "core.py", ("trigger",)),
]
