"""Memory per live confirmed dialog, for ``bench_dialog.py``: the dialogs built through the
UAS side of dialogfsm, sippy's UA and the naive design; ``measure_memory`` (tracemalloc, or
the growth of the RSS); where the kept memory was allocated; checks of what is alive; and
one dialogfsm dialog taken apart by ``sys.getsizeof``.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dialog_calls import BOB_CONTACT, BOB_HOST, SDP, SDP_ANSWER, make_call, uas_ack, uas_invite
from dialog_dialogfsm import NOW, uas_manager
from dialog_peers import NaiveManager, Sippy, SippyStubTM, ignore_event

from dialogfsm import (
    MACHINE,
    DialogManager,
    Request,
    Response,
    State,
    build_response,
    clear_caches,
    parse_message,
)

# Paths in the source tree are printed relative to it.
_REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------
# Memory: live confirmed dialogs on the UAS side
# --------------------------------------------------------------------------------------


def rss() -> int | None:
    """Resident set size of this process (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


M = TypeVar("M", DialogManager, "NaiveManager")


def _confirm_calls(uas: M, count: int, offset: int) -> M:
    """``count`` confirmed UAS dialogs through ``uas``: INVITE received, 200 sent, ACK
    received."""
    for i in range(offset, offset + count):
        c = make_call(i)
        invite = parse_message(uas_invite(c))
        uas.receive(invite, now=NOW)
        assert isinstance(invite, Request)
        ok = build_response(
            invite, 200, to_tag=c.bob_tag, contact=BOB_CONTACT, body=SDP_ANSWER,
            content_type=SDP,
        )  # fmt: skip
        uas.send(ok, now=NOW)
        uas.receive(parse_message(uas_ack(c)), now=NOW)
    return uas


def build_dialogfsm(count: int, offset: int) -> DialogManager:
    """``count`` confirmed UAS dialogs in a DialogManager."""
    return _confirm_calls(uas_manager(), count, offset)


def build_naive(count: int, offset: int) -> NaiveManager:
    """The same, through the naive design."""
    return _confirm_calls(NaiveManager(), count, offset)


def build_sippy(s: Sippy, count: int, offset: int) -> SippyStubTM:
    """The same, through sippy's UA (stub transaction layer: the consumer index only)."""
    tm = SippyStubTM(s, BOB_HOST)
    config = {"_sip_tm": tm}
    answer = SDP_ANSWER.decode()
    tag = [""]

    def new_ua() -> Any:
        return s.UA(config, event_cb=ignore_event, ltag=tag[0])

    for i in range(offset, offset + count):
        c = make_call(i)
        tag[0] = c.bob_tag
        ua = tm.request_in(uas_invite(c), new_ua)
        ua.recvEvent(s.CCEventConnect((200, "OK", s.MsgBody(answer))))
        tm.request_in(uas_ack(c), new_ua)
    tm.last_sent = b""
    return tm


@dataclass
class MemResult:
    name: str
    count: int
    traced: float = 0.0  # bytes per dialog (tracemalloc)
    rss: float | None = None  # bytes per dialog (RSS growth, in a run without tracemalloc)
    seconds: float = 0.0  # to build the dialogs (without tracemalloc when rss is set)
    memo: int = 0  # bytes in dialogfsm's memo caches at the end (a fixed cost)
    machine_models: int = -1  # len(dialogfsm.MACHINE.models) with the dialogs alive
    checks: list[str] = field(default_factory=list)
    top: list[str] = field(default_factory=list)
    unavailable: str = ""


def measure_memory(
    name: str,
    count: int,
    build: Callable[[int, int], Any],
    check: Callable[[Any, int], list[str]] | None = None,
    *,
    top: bool = False,
    traced: bool = True,
) -> MemResult:
    """Bytes per dialog kept by ``build(count, offset)``, its messages and events dropped:
    by tracemalloc (``traced``), else by the growth of the process RSS."""
    result = MemResult(name, count)
    gc.collect()
    if traced:
        tracemalloc.start()
    try:
        # warm-up (lazily built tables, allocator state); kept small, as the memory it frees
        # is reused by the build and would hide that much RSS growth
        build(min(count // 20, 200), 50_000_000)
        clear_caches()
        gc.collect()
        base, base_rss = tracemalloc.get_traced_memory()[0], rss()
        started = time.perf_counter()
        kept = build(count, 0)
        result.seconds = time.perf_counter() - started
        gc.collect()
        with_memo = tracemalloc.get_traced_memory()[0]
        now_rss = rss()
        clear_caches()
        gc.collect()
        if traced:
            end = tracemalloc.get_traced_memory()[0]
            result.traced = (end - base) / count
            result.memo = with_memo - end
        elif base_rss is not None and now_rss is not None:
            result.rss = (now_rss - base_rss) / count
        if top and traced:
            result.top = _top_allocations(tracemalloc.take_snapshot(), count)
    finally:
        if traced:
            tracemalloc.stop()
    result.machine_models = len(MACHINE.models)
    if check is not None:
        result.checks = check(kept, count)
    del kept
    gc.collect()
    return result


def _top_allocations(snapshot: tracemalloc.Snapshot, count: int, limit: int = 8) -> list[str]:
    """Where the kept memory was allocated: source lines, bytes and blocks per dialog."""
    stats = snapshot.filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<*>")]
    ).statistics("lineno")
    lines = []
    for stat in stats[:limit]:
        frame = stat.traceback[0]
        path = Path(frame.filename)
        where = path.relative_to(_REPO_ROOT) if path.is_relative_to(_REPO_ROOT) else path.name
        source = _source_line(frame.filename, frame.lineno)
        lines.append(
            f"{stat.size / count:7.1f} B  {stat.count / count:5.2f} blocks  "
            f"{where}:{frame.lineno}  {source}"
        )
    return lines


def _source_line(filename: str, lineno: int) -> str:
    try:
        text = Path(filename).read_text().splitlines()[lineno - 1].strip()
    except (OSError, IndexError):
        return ""
    return text[:60]


def check_dialogfsm(manager: DialogManager, count: int) -> list[str]:
    dialogs = list(manager.dialogs.values())
    confirmed = sum(d.state is State.CONFIRMED for d in dialogs)
    sample = dialogs[0]
    alive = {Request: 0, Response: 0}
    for obj in gc.get_objects():
        kind = type(obj)
        if kind in alive:
            alive[kind] += 1
    timers = len(manager._timers)  # lazily cancelled entries may still hold a dialog set
    return [
        f"{confirmed} of {count} dialogs confirmed, {len(manager.dialog_sets)} dialog sets open",
        f"len(MACHINE.models) = {len(MACHINE.models)} (the shared machine registers no model)",
        f"Dialog has __dict__: {hasattr(sample, '__dict__')}; DialogState has __dict__: "
        f"{hasattr(sample.dialog_state, '__dict__')}",
        f"messages alive in the process: {alive[Request]} Request, {alive[Response]} Response; "
        f"the timer heap has {timers} entries (cancelled ones are dropped lazily; an 'early' "
        "entry keeps its dialog set, and so its INVITE, until the heap compacts)",
    ]


def check_sippy(tm: SippyStubTM, count: int) -> list[str]:
    connected = sum(ua.isConnected() for consumers in tm.req_consumers.values() for ua in consumers)
    msg_class = tm.s.SipMsg
    messages = sum(isinstance(obj, msg_class) for obj in gc.get_objects())
    return [
        f"{connected} of {count} UAs connected; {messages} sippy messages alive "
        f"({messages / count:.1f} per call: each UA keeps its uasResp)",
    ]


def check_naive(manager: NaiveManager, count: int) -> list[str]:
    return [f"{len(manager.dialogs)} of {count} dialogs, each with its own Machine"]


def _reachable(root: object, seen: dict[int, object], stop: Any = ()) -> None:
    """Every object reachable from ``root`` (not types, modules, functions or enums)."""
    stack = [root]
    while stack:
        obj = stack.pop()
        if obj is None or isinstance(obj, _OPAQUE) or id(obj) in seen or id(obj) in stop:
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))


_OPAQUE = (type, type(sys), type(len), type(clear_caches), State, bool)


def dialog_breakdown(manager: DialogManager) -> list[str]:
    """What one live confirmed dialog is made of, by sys.getsizeof; objects that another
    dialog reaches too (enum members, Record-Route values shared through the parser) are
    left out, and the index's share is added."""
    first, second = list(manager.dialogs.values())[:2]
    shared: dict[int, object] = {}
    _reachable(second, shared)
    state = first.dialog_state
    parts: list[tuple[str, list[object], bool]] = [
        ("Dialog (attrs, slots)", [first], False),
        ("DialogState (attrs, slots)", [state], False),
        ("call_id str", [state.call_id], True),
        ("local_tag + remote_tag str", [state.local_tag, state.remote_tag], True),
        ("id: DialogId tuple", [state.id], True),
        ("remote_seq, invite_cseq int", [state.remote_seq, first.invite_cseq], True),
        ("local_uri URI (To of the INVITE)", [state.local_uri], True),
        ("remote_uri URI (From)", [state.remote_uri], True),
        ("remote_target URI (Contact)", [state.remote_target], True),
        ("route_set tuple", [state.route_set], True),
    ]
    counted: dict[int, object] = dict(shared)
    lines = []
    total = 0
    for label, roots, deep in parts:
        found: dict[int, object] = {}
        for root in roots:
            if deep:
                _reachable(root, found, counted)
            elif root is not None and id(root) not in counted:
                found[id(root)] = root
        size = sum(sys.getsizeof(obj) for obj in found.values())
        counted.update(found)
        total += size
        detail = _sizes(found.values())
        lines.append(f"{label:<34} {size:5d} B  {detail}")
    index = sys.getsizeof(manager._dialogs) / len(manager._dialogs)
    lines.append(f"{'index share (dict of dialogs)':<34} {index:5.0f} B")
    lines.append(f"{'total by sys.getsizeof':<34} {total + index:5.0f} B")
    return lines


def _sizes(objects: Iterable[object]) -> str:
    by_type: dict[str, list[int]] = {}
    for obj in objects:
        by_type.setdefault(type(obj).__name__, []).append(sys.getsizeof(obj))
    return ", ".join(f"{len(sizes)} {name} {sum(sizes)}" for name, sizes in sorted(by_type.items()))
