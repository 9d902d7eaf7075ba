"""Call-lifecycle benchmark: dialogfsm's DialogManager against sippy's UA and a naive design.

One call is INVITE, 100, 180, 200, ACK, BYE, 200, between a caller (Alice, UAC) and a callee
(Bob, UAS) through two record-routing proxies. Every call has its own Call-ID, tags,
branches, CSeq and user names; only the proxies' Record-Route values repeat, as on a real
network. All wire bytes are generated before timing.

**UAS lifecycle, from bytes** (what is inside the timed region, per call):

- dialogfsm: ``parse_message`` of the INVITE, the ACK and the BYE (bytes in); the 100, 180
  (To tag, Contact), 200 (To tag, Contact, SDP answer) and the 200 to the BYE built with
  ``build_response`` and serialised with ``bytes()`` (bytes out); ``uas.receive`` of each
  message received and ``uas.send`` of each response, in wire order.
- sippy UA, stub transaction layer ("sippy UA (stub TM)"): ``SipRequest(data.decode())``
  for the INVITE, ACK and BYE; the UA is created for the INVITE (``UA.recvRequest``, which
  sends the 100 itself), answered with ``recvEvent(CCEventRing)`` and
  ``recvEvent(CCEventConnect)`` (SDP answer), the BYE goes to ``UA.recvRequest`` through the
  Call-ID consumer index and ``UA.isYours``, which answers it 200; finally the UA's
  Disconnected -> Dead step (``goDead``, normally a 32 s timer) runs by hand, because that
  is where sippy takes the call out of its index, as dialogfsm does on BYE. The stand-in
  for ``SipTransactionManager`` serialises each response with ``localStr`` and encodes it
  (as the real one does before writing to the socket), keeps the consumer index
  (``regConsumer``/``unregConsumer``), and absorbs the ACK after matching it to its UA (sippy
  answers with ``ack_wait=False``, so its UA never sees the ACK: the transaction layer
  absorbs it). No retransmission cache, no md5, no transaction timers: it does the
  dialog-layer job dialogfsm does, and this is the row the 3x target is checked against.
- sippy UA + the real ``SipTransactionManager`` ("sippy UA + TM"): the whole sippy stack;
  datagrams go in through ``SipTransactionManager.handleIncoming`` (decode, md5 of the
  datagram for the retransmission cache, parse, server transactions, dispatch, timers A/B/D/E
  registered with sippy's event dispatcher) and come out through a fake UDP server object
  that keeps the last datagram. Shown for reference: it does transaction-layer work that
  dialogfsm leaves to the application.

**UAC lifecycle, from bytes**: dialogfsm builds the INVITE (``build_request``), serialises
it and ``uac.send``s it; parses and receives the 100, 180 and 200; builds the ACK from the
``SendAck`` event (``dialog.ack``), the BYE (``dialog.request("BYE")``), serialises and sends
both; parses and receives the 200 to the BYE. sippy: ``UA.recvEvent(CCEventTry)`` (builds and
sends the INVITE), responses parsed with ``SipResponse(data.decode())`` and matched to their
client transaction by tid, the 2xx's ACK built the way ``SipTransactionManager`` builds it
(the stub copies that code), ``UA.disconnect()`` (builds and sends the BYE), the 200 to the
BYE, then ``goDead``. The responses the UAC receives are templates in which the peer fills
in the top Via branch and the CSeq number of the request it answers (sippy picks both at
random), with two ``bytes.replace`` per response, for every contestant alike.

**Pre-parsed rows**: "dialogfsm manager only" replays the very message objects of the
from-bytes lifecycle (parsed and built beforehand) through ``send``/``receive``: dialogfsm's
own cost without parsing or building. "naive: Machine per dialog" replays the same objects
through a minimal manager that gives each dialog its own ``transitions.Machine(model=...)``
with dialogfsm's states and ``TRANSITIONS`` and keeps the dialog record in a dict; it does
less checking than dialogfsm (no timers, no RFC checks), so its time is a lower bound for
that design.

**Memory**: live confirmed dialogs built through the UAS side from distinct calls (INVITE
received, 200 sent, ACK received), every message and event dropped, then
``gc.collect()``; bytes per dialog = growth of ``tracemalloc``'s traced memory over the
dialogs kept (index included: the manager, or sippy's consumer index, holds them). Each
figure comes from a fresh interpreter (no heap left over from timing or from another
measurement), and a second fresh interpreter repeats the build without tracemalloc to give
the growth of the process RSS, for comparison: that one also counts allocator slack (pools
left part-used by the freed messages) and the refill of the parser's memo caches (about
6 MB, fixed). dialogfsm's parser keeps bounded memo caches of recent header values (at most
2048 entries each, a fixed cost however many dialogs live); they are emptied before both
tracemalloc snapshots so that the figure is what the dialogs themselves retain, and their
size is printed apart.

Timing uses ``timeit`` (garbage collector off unless ``--gc``): each row is one pass over
``--calls`` distinct calls, its loop count calibrated to about ``--min-time`` seconds, rows
interleaved, minimum of ``--repeat`` runs. Figures compare within one run only. Each pass of
a dialogfsm row runs at its own clock time and ends with ``handle_timer`` (a UAC's dialog
set stays open 64*T1 after the 2xx, for other forks), so timer work is paid by the calls.
Keep ``--calls`` above about 600: below that, the four name-addr values of every call fit
in the parser's 2048-entry memo and are remembered from one pass to the next, which
flatters dialogfsm's parsing (each call's values are new on a real network).

sippy runs with a fixed listen address (``SipConf.my_address``), as configured in
production; its default looks the host name up each time a message is written.

Run from the repository root::

    python benchmarks/bench_dialog.py --quick     # rough figures, 20k dialogs: ~1.5 min
    python benchmarks/bench_dialog.py             # full run, 100k dialogs: ~6 min
    python benchmarks/bench_dialog.py --dialogs 100000,1000000 --profile   # 1M too: ~28 min
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Let ``python benchmarks/bench_dialog.py`` find the package in the source tree (the
# dialog_* modules imported below import it too, so this comes first).
_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from dialog_calls import (  # noqa: E402
    BOB_CONTACT,
    SDP,
    SDP_ANSWER,
    UacCall,
    UasCall,
    uac_calls,
    uas_calls,
)
from dialog_dialogfsm import (  # noqa: E402
    Script,
    dialogfsm_uac_pass,
    dialogfsm_uas_pass,
    replay_pass,
    uac_script,
    uas_manager,
    uas_script,
    unconfirmed_leak,
)
from dialog_machine import (  # noqa: E402
    bare_transitions_cycle,
    dialogfsm_move_cycle,
    machine_per_dialog,
)
from dialog_memory import (  # noqa: E402
    MemResult,
    build_dialogfsm,
    build_naive,
    build_sippy,
    check_dialogfsm,
    check_naive,
    check_sippy,
    dialog_breakdown,
    measure_memory,
)
from dialog_peers import (  # noqa: E402
    NaiveManager,
    Sippy,
    load_sippy,
    sippy_reset,
    sippy_uac_stub_pass,
    sippy_uac_tm_pass,
    sippy_uas_stub_pass,
    sippy_uas_tm_pass,
)
from dialog_timing import Row, bench, profile  # noqa: E402

from dialogfsm import (  # noqa: E402
    Dialog,
    DialogManager,
    DialogState,
    Request,
    build_response,
    parse_message,
)

# --------------------------------------------------------------------------------------
# Targets (from the issue)
# --------------------------------------------------------------------------------------

TARGET_SPEEDUP = 3.0  # UAS lifecycle from bytes, sippy UA (stub TM) / dialogfsm
TARGET_BYTES = 1200  # per live confirmed dialog, index included
TARGET_MEMORY_RATIO = 13.0  # sippy bytes per live call / dialogfsm's

# --------------------------------------------------------------------------------------
# The rows
# --------------------------------------------------------------------------------------


def parse_uas_pass(calls: Sequence[UasCall]) -> Callable[[], None]:
    """Part of the UAS lifecycle: parsing what it receives."""

    def run() -> None:
        for _, invite, ack, bye in calls:
            parse_message(invite)
            parse_message(ack)
            parse_message(bye)

    return run


def build_uas_pass(calls: Sequence[UasCall], scripts: Sequence[Script]) -> Callable[[], None]:
    """Part of the UAS lifecycle: building and serialising its 4 responses."""
    requests = [(c.call, s[0][1], s[5][1]) for c, s in zip(calls, scripts, strict=True)]

    def run() -> None:
        for call, invite, bye in requests:
            assert isinstance(invite, Request)
            assert isinstance(bye, Request)
            bytes(build_response(invite, 100))
            bytes(build_response(invite, 180, to_tag=call.bob_tag, contact=BOB_CONTACT))
            bytes(
                build_response(
                    invite, 200, to_tag=call.bob_tag, contact=BOB_CONTACT, body=SDP_ANSWER,
                    content_type=SDP,
                )
            )  # fmt: skip
            bytes(build_response(bye, 200))

    return run


def parse_uac_pass(scripts: Sequence[Script]) -> Callable[[], None]:
    """Part of the UAC lifecycle: parsing the 4 responses (the bytes as filled in)."""
    datagrams = [[bytes(m) for sent, m in script if not sent] for script in scripts]

    def run() -> None:
        for trying, ringing, ok, bye_ok in datagrams:
            parse_message(trying)
            parse_message(ringing)
            parse_message(ok)
            parse_message(bye_ok)

    return run


def sippy_parse_uas_pass(s: Sippy, calls: Sequence[UasCall]) -> Callable[[], None]:
    """sippy's parse of what the UAS receives (header bodies are parsed on first use)."""
    request = s.SipRequest

    def run() -> None:
        for _, invite, ack, bye in calls:
            request(invite.decode())
            request(ack.decode())
            request(bye.decode())

    return run


def make_rows(
    calls: int, sippy: Sippy | None, sippy_error: str, uas_batch: list[UasCall],
    uac_batch: list[UacCall],
) -> list[Row]:  # fmt: skip
    uas_scripts = [uas_script(c) for c in uas_batch]
    uac_scripts = [uac_script(c) for c in uac_batch]

    def with_sippy(
        make: Callable[[Sippy], Callable[[], None]],
    ) -> Callable[[], Callable[[], None]]:
        def load() -> Callable[[], None]:
            if sippy is None:
                raise RuntimeError(sippy_error)
            return make(sippy)

        return load

    reset = (lambda: sippy_reset(sippy)) if sippy is not None else None
    return [
        Row("uas", "dialogfsm, from bytes",
            lambda: dialogfsm_uas_pass(uas_manager(), uas_batch), calls, reference="uas"),
        Row("uas-sippy", "sippy UA (stub TM), from bytes",
            with_sippy(lambda s: sippy_uas_stub_pass(s, uas_batch)), calls, reference="uas",
            reset=reset),
        Row("uas-sippy-tm", "sippy UA + SipTransactionManager, from bytes",
            with_sippy(lambda s: sippy_uas_tm_pass(s, uas_batch)), calls, reference="uas",
            reset=reset),
        Row("uas-mgr", "dialogfsm manager only (pre-parsed)",
            lambda: replay_pass(uas_manager(), uas_scripts), calls, reference="uas-mgr"),
        Row("uas-naive", "naive: Machine per dialog (pre-parsed)",
            lambda: replay_pass(NaiveManager(), uas_scripts), calls, reference="uas-mgr"),
        Row("uas-parse", "  part: dialogfsm parse_message x3",
            lambda: parse_uas_pass(uas_batch), calls, reference="uas"),
        Row("uas-build", "  part: dialogfsm build_response + bytes x4",
            lambda: build_uas_pass(uas_batch, uas_scripts), calls, reference="uas"),
        Row("uas-sippy-parse", "  part: sippy SipRequest(text) x3 (lazy)",
            with_sippy(lambda s: sippy_parse_uas_pass(s, uas_batch)), calls, reference="uas"),
        Row("uac", "dialogfsm, from bytes",
            lambda: dialogfsm_uac_pass(DialogManager(), uac_batch), calls, reference="uac"),
        Row("uac-sippy", "sippy UA (stub TM), from bytes",
            with_sippy(lambda s: sippy_uac_stub_pass(s, uac_batch)), calls, reference="uac",
            reset=reset),
        Row("uac-sippy-tm", "sippy UA + SipTransactionManager, from bytes",
            with_sippy(lambda s: sippy_uac_tm_pass(s, uac_batch)), calls, reference="uac",
            reset=reset),
        Row("uac-mgr", "dialogfsm manager only (pre-parsed)",
            lambda: replay_pass(DialogManager(), uac_scripts), calls, reference="uac-mgr"),
        Row("uac-naive", "naive: Machine per dialog (pre-parsed)",
            lambda: replay_pass(NaiveManager(), uac_scripts), calls, reference="uac-mgr"),
        Row("uac-parse", "  part: dialogfsm parse_message x4",
            lambda: parse_uac_pass(uac_scripts), calls, reference="uac"),
        Row("bare", "transitions trigger, shared machine, slotted model",
            bare_transitions_cycle, 3, unit="transition"),
        Row("move", "dialogfsm move() (MACHINE + _report)", dialogfsm_move_cycle, 3,
            unit="transition"),
        Row("machine", "transitions.Machine(model=...) for one dialog", machine_per_dialog, 1,
            unit="dialog"),
    ]  # fmt: skip


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
    if value is None or reference is None:
        return None
    return value / reference


def _fmt(value: float | None, suffix: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def time_table(rows: Sequence[Row], by_key: dict[str, Row]) -> list[str]:
    body = []
    for row in rows:
        if row.micros is None:
            body.append([row.name, "unavailable" if row.unavailable else "-", "-", "-"])
            continue
        reference = by_key[row.reference] if row.reference else None
        ratio = _ratio(row.micros, reference.micros if reference else None)
        body.append([row.name, f"{row.micros:.1f}", f"{1e6 / row.micros:,.0f}", _fmt(ratio, "x")])
    out = _table(["", "us/call", "calls/s", "vs dialogfsm"], body)
    return out + [f"  {r.name}: unavailable ({r.unavailable})" for r in rows if r.unavailable]


@dataclass
class Options:
    repeat: int
    min_time: float
    calls: int
    dialog_counts: list[int]
    small: int
    gc: bool
    memory: bool
    profile: bool
    memory_child: tuple[str, int] | None = None
    top: bool = False
    rss_only: bool = False


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (min is kept)")
    parser.add_argument(
        "--min-time", type=float, default=0.5, help="seconds per repeat (loop count calibrated)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="--repeat 3 --min-time 0.1 --calls 1000 --dialogs 20000 --small-dialogs 2000",
    )
    parser.add_argument("--calls", type=int, help="distinct calls per pass (default 2000)")
    parser.add_argument(
        "--dialogs",
        help="comma-separated counts of live dialogfsm dialogs to measure (default 100000; "
        "100000,1000000 adds 1M, a few minutes more)",
    )
    parser.add_argument(
        "--small-dialogs", type=int, help="live dialogs for sippy and the naive design (10000)"
    )
    parser.add_argument("--gc", action="store_true", help="keep the garbage collector on")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory section")
    parser.add_argument("--profile", action="store_true", help="cProfile top 10 per side")
    # internal: one memory measurement in a fresh process (see measure_in_child)
    parser.add_argument(
        "--memory-child", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--top", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rss-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    dialogs = args.dialogs if args.dialogs is not None else ("20000" if quick else "100000")
    return Options(
        repeat=3 if quick else args.repeat,
        min_time=0.1 if quick else args.min_time,
        calls=args.calls if args.calls is not None else (1000 if quick else 2000),
        dialog_counts=[int(x) for x in dialogs.split(",") if x.strip()],
        small=args.small_dialogs if args.small_dialogs is not None else (2000 if quick else 10000),
        gc=args.gc,
        memory=not args.no_memory,
        profile=args.profile,
        memory_child=(
            (args.memory_child[0], int(args.memory_child[1])) if args.memory_child else None
        ),
        top=args.top,
        rss_only=args.rss_only,
    )


def print_timing(rows: Sequence[Row], by_key: dict[str, Row]) -> dict[str, float | None]:
    """The two lifecycle tables and the state machine figures; returns dialogfsm's own
    overhead per message, by side."""
    for side, title in (
        ("uas", "UAS call lifecycle: INVITE in; 100, 180, 200 out; ACK in; BYE in; 200 out"),
        ("uac", "UAC call lifecycle: INVITE out; 100, 180, 200 in; ACK out; BYE out; 200 in"),
    ):
        print(f"\n{title}")
        for line in time_table([r for r in rows if r.key.startswith(side)], by_key):
            print(line)
    print(
        "(pre-parsed rows compare with 'dialogfsm manager only'; 'part' rows with the "
        "from-bytes row they are part of)"
    )
    bare = by_key["bare"].micros
    print("\nState machine")
    for key, unit in (("bare", "per transition"), ("move", "per transition"), ("machine", "")):
        print(f"  {by_key[key].name}: {_fmt(by_key[key].micros)} us {unit}".rstrip())
    # a call's three state changes cost what move() costs (transitions running the rows,
    # and _report); the rest of the manager's time is dialogfsm's own work
    moved = by_key["move"].micros
    overhead: dict[str, float | None] = {}
    for side in ("uas", "uac"):
        manager = by_key[f"{side}-mgr"].micros
        own = None if manager is None or moved is None else (manager - 3 * moved) / 7
        overhead[side] = own
        relative = "" if own is None or bare is None else f" = {own / bare:.2f} transition"
        print(
            f"  dialogfsm's own overhead per message, {side.upper()}: (manager only - 3 "
            f"moves) / 7 messages = {_fmt(own)} us{relative}"
        )
    return overhead


MEMORY_NAMES = {
    "dialogfsm": "dialogfsm",
    "sippy": "sippy UA (stub TM)",
    "naive": "naive: Machine per dialog",
}


def memory_child(kind: str, count: int, top: bool, traced: bool) -> int:
    """Measure one kind of dialog in this (fresh) process; print the result as JSON."""
    name = MEMORY_NAMES[kind]
    build: Callable[[int, int], Any]
    check: Callable[[Any, int], list[str]]
    if kind == "dialogfsm":
        build, check = build_dialogfsm, check_dialogfsm
    elif kind == "sippy":
        loaded = load_sippy()
        build, check = (lambda n, o: build_sippy(loaded, n, o)), check_sippy
    else:
        build, check = build_naive, check_naive
    result = measure_memory(name, count, build, check, top=top, traced=traced)
    print(json.dumps(dataclasses.asdict(result)))
    return 0


def measure_in_child(kind: str, count: int, *, top: bool = False) -> MemResult:
    """Two fresh interpreters: one measures with tracemalloc, one the RSS growth without it
    (tracemalloc's own bookkeeping, freed or not, would be in the RSS). A fresh process also
    keeps a measurement from reusing the heap a previous one freed."""
    results = []
    for traced in (True, False):
        command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", kind,
                   str(count)]  # fmt: skip
        command += ["--top"] if top and traced else []
        command += [] if traced else ["--rss-only"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            return MemResult(MEMORY_NAMES[kind], count, unavailable=lines[-1])
        results.append(MemResult(**json.loads(done.stdout.strip().splitlines()[-1])))
    with_tracemalloc, with_rss = results
    with_tracemalloc.rss = with_rss.rss
    with_tracemalloc.seconds = with_rss.seconds
    return with_tracemalloc


def run_memory(options: Options) -> list[MemResult]:
    print(
        "\nMemory per live confirmed dialog, UAS side (INVITE in, 200 out, ACK in; "
        "messages dropped; index included; each line measured in fresh processes)"
    )
    memory = [
        measure_in_child("dialogfsm", n, top=i == 0) for i, n in enumerate(options.dialog_counts)
    ]
    memory.append(measure_in_child("sippy", options.small))
    memory.append(measure_in_child("naive", options.small))
    reference = memory[0].traced if memory[0].name == "dialogfsm" else None
    body = []
    for m in memory:
        if m.unavailable:
            body.append([m.name, f"{m.count:,}", "unavailable", "-", "-", "-"])
            continue
        body.append(
            [
                m.name,
                f"{m.count:,}",
                f"{m.traced:,.0f}",
                "-" if m.rss is None else f"{m.rss:,.0f}",
                _fmt(_ratio(m.traced, reference), "x", 1),
                f"{m.seconds:.1f}",
            ]
        )
    head = ["", "dialogs", "B/dialog tracemalloc", "B/dialog RSS", "vs dialogfsm", "build s"]
    for line in _table(head, body):
        print(line)
    for m in memory:
        if m.memo > 100_000:
            print(
                f"  {m.name} {m.count:,}: dialogfsm's parser memo caches (a fixed cost, left "
                f"out above): {m.memo / 1e6:.1f} MB"
            )
        for check in m.checks:
            print(f"  {m.name} {m.count:,}: {check}")
        if m.unavailable:
            print(f"  {m.name}: unavailable ({m.unavailable})")
    if memory[0].top:
        print(f"\nWhere dialogfsm's kept memory was allocated ({memory[0].count:,} dialogs):")
        for line in memory[0].top:
            print(f"  {line}")
    print(
        "\nOne dialogfsm dialog by sys.getsizeof (objects another dialog also reaches, such as "
        "the Record-Route values, left out):"
    )
    manager = build_dialogfsm(1000, 70_000_000)
    for line in dialog_breakdown(manager):
        print(f"  {line}")
    return memory


def print_profiles(uas_batch: list[UasCall], uac_batch: list[UacCall]) -> None:
    for side, run, count in (
        ("UAS", dialogfsm_uas_pass(uas_manager(), uas_batch), len(uas_batch)),
        ("UAC", dialogfsm_uac_pass(DialogManager(), uac_batch), len(uac_batch)),
    ):
        print(
            f"\ncProfile, dialogfsm {side} lifecycle from bytes, per call (top 10 by own time; "
            "profiling inflates small functions):"
        )
        for line in profile(run, count):
            print(f"  {line}")


def print_targets(
    by_key: dict[str, Row], memory: Sequence[MemResult], overhead: dict[str, float | None]
) -> None:
    print("\nTargets")
    ours = by_key["uas"].micros
    speedup = _ratio(by_key["uas-sippy"].micros, ours)
    with_tm = _ratio(by_key["uas-sippy-tm"].micros, ours)
    print(
        f"  UAS lifecycle from bytes >= {TARGET_SPEEDUP:.0f}x faster than sippy's UA: "
        f"{_fmt(speedup, 'x')}  {_verdict(None if speedup is None else speedup >= 3)}  "
        f"(sippy with its transaction layer: {_fmt(with_tm, 'x')}; UAC side: "
        f"{_fmt(_ratio(by_key['uac-sippy'].micros, by_key['uac'].micros), 'x')})"
    )
    ours_memory = [m for m in memory if m.name == "dialogfsm"]
    for m in ours_memory:
        print(
            f"  <= {TARGET_BYTES} B per live dialog at {m.count:,} dialogs: {m.traced:,.0f} B"
            f"  {_verdict(m.traced <= TARGET_BYTES)}"
        )
    theirs = [m for m in memory if m.name.startswith("sippy") and not m.unavailable]
    if ours_memory and theirs:
        less = theirs[0].traced / ours_memory[0].traced
        print(
            f"  >= {TARGET_MEMORY_RATIO:.0f}x less memory per live call than sippy: {less:.1f}x"
            f"  {_verdict(less >= TARGET_MEMORY_RATIO)}"
        )
    if ours_memory:
        models = max(m.machine_models for m in ours_memory)
        slotted = "__dict__" not in dir(Dialog) and "__dict__" not in dir(DialogState)
        print(
            f"  the state machine adds no per-dialog memory: len(MACHINE.models) = {models} "
            f"after building {ours_memory[-1].count:,} dialogs; Dialog and DialogState "
            f"slotted: {slotted}  {_verdict(models == 0 and slotted)}"
        )
    bare = by_key["bare"].micros
    for side, own in overhead.items():
        print(
            f"  dialogfsm's own overhead per message ({side.upper()}) below one transitions "
            f"trigger ({_fmt(bare)} us): {_fmt(own)} us  "
            f"{_verdict(None if own is None or bare is None else own < bare)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if options.memory_child is not None:
        return memory_child(*options.memory_child, options.top, not options.rss_only)
    try:
        sippy: Sippy | None = load_sippy()
        sippy_error = ""
    except Exception as exc:  # ImportError, or a broken install raising anything else
        sippy, sippy_error = None, f"{type(exc).__name__}: {exc}"
    versions = [
        f"dialogfsm {importlib.metadata.version('dialogfsm')} (this tree)",
        f"transitions {importlib.metadata.version('transitions')}",
        f"sippy {sippy.version}" if sippy else f"sippy unavailable ({sippy_error})",
    ]
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.machine()}; {', '.join(versions)}"
    )
    print(
        f"timeit min of {options.repeat} x ~{options.min_time}s, GC "
        f"{'on' if options.gc else 'off'}; each pass runs {options.calls} distinct calls"
    )
    uas_batch, uac_batch = uas_calls(options.calls), uac_calls(options.calls)
    u, c = uas_batch[0], uac_batch[0]
    print(
        f"UAS receives INVITE {len(u.invite)} B (3 Via, 2 Record-Route, SDP), ACK "
        f"{len(u.ack)} B, BYE {len(u.bye)} B; UAC receives 100 {len(c.trying)} B, 180 "
        f"{len(c.ringing)} B, 200 {len(c.ok)} B (SDP), 200 to BYE {len(c.bye_ok)} B"
    )
    leak = unconfirmed_leak()
    if leak:
        print(f"dialogfsm bug (worked around: UAS managers get max_unconfirmed=2**62): {leak}")

    rows = make_rows(options.calls, sippy, sippy_error, uas_batch, uac_batch)
    by_key = {row.key: row for row in rows}
    bench(rows, repeat=options.repeat, min_time=options.min_time, with_gc=options.gc)
    overhead = print_timing(rows, by_key)
    memory = run_memory(options) if options.memory else []
    if options.profile:
        print_profiles(uas_batch, uac_batch)
    print_targets(by_key, memory, overhead)
    return 0


if __name__ == "__main__":
    sys.exit(main())
