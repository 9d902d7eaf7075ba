"""The state machine: one table, one shared Machine, typed errors for illegal moves."""

from __future__ import annotations

import logging

import pytest
import transitions

from dialogfsm import (
    MACHINE,
    TRANSITIONS,
    URI,
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogEvent,
    DialogState,
    DialogTerminated,
    IllegalTransition,
    LocalProtocolError,
    State,
)
from dialogfsm._machine import allowed, move

ALL = list(State)


def new_dialog(state: State = State.NONE) -> Dialog:
    record = DialogState.create(
        call_id="c@h", local_tag="l", remote_tag="r", local_seq=1, remote_seq=None,
        local_uri=URI.parse("sip:a@h"), remote_uri=URI.parse("sip:b@h"),
        remote_target=None, route_set=(), secure=False,
    )  # fmt: skip
    return Dialog(state, record, True, 1)


def test_states_are_the_four_rfc_words() -> None:
    """RFC 3261 12: a dialog is early, confirmed or terminated (none before it exists)."""
    assert [s.value for s in State] == ["none", "early", "confirmed", "terminated"]


def test_the_table_is_the_machine() -> None:
    """Every row of TRANSITIONS is a move of the one shared Machine, and nothing more."""
    rows = set()
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        rows |= {(row["trigger"], s, row["dest"]) for s in sources}
    built = {
        (name, State[source], State[str(t.dest)])
        for name, event in MACHINE.events.items()
        for source, moves in event.transitions.items()
        for t in moves
    }
    assert built == rows
    assert MACHINE.models == []  # model=None: no dialog is ever registered


@pytest.mark.parametrize("source", ALL)
@pytest.mark.parametrize("trigger", sorted({r["trigger"] for r in TRANSITIONS}))
def test_every_trigger_from_every_state(source: State, trigger: str) -> None:
    """A move in the table happens; any other raises IllegalTransition and changes nothing."""
    dialog = new_dialog(source)
    events: list[DialogEvent] = []
    dests = [
        r["dest"]
        for r in TRANSITIONS
        if r["trigger"] == trigger
        and source in (r["source"] if isinstance(r["source"], list) else [r["source"]])
    ]
    if dests:
        move(dialog, trigger, events)
        assert dialog.state is dests[0]
        assert dialog.dialog_state.early is (dests[0] is State.EARLY)
        assert events
        return
    with pytest.raises(IllegalTransition) as info:
        move(dialog, trigger, events)
    assert isinstance(info.value, LocalProtocolError)
    assert info.value.trigger == trigger
    assert info.value.state == source.name
    assert str(info.value).startswith(f"can't handle {trigger!r} when state={source.name}")
    assert dialog.state is source
    assert events == []


def test_terminated_is_final() -> None:
    """RFC 3261 12.3: once terminated, no trigger moves a dialog again."""
    assert not any(allowed(State.TERMINATED, r["trigger"]) for r in TRANSITIONS)


def test_unknown_trigger_is_a_typed_error() -> None:
    """A trigger the table does not know is an IllegalTransition, not transitions' error."""
    dialog = new_dialog(State.EARLY)
    with pytest.raises(IllegalTransition, match="no such trigger"):
        move(dialog, "explode", [])
    assert dialog.state is State.EARLY


def test_moves_are_reported_as_events_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """State changes are logged in one place and reported as events, in order."""
    dialog = new_dialog()
    events: list[DialogEvent] = []
    with caplog.at_level(logging.DEBUG, logger="dialogfsm"):
        move(dialog, "provisional", events)
        move(dialog, "success", events)
        move(dialog, "bye", events, reason="BYE received")
    assert [type(e) for e in events] == [DialogCreated, DialogConfirmed, DialogTerminated]
    created, _, ended = events
    assert isinstance(created, DialogCreated)
    assert created.state is State.EARLY
    assert isinstance(ended, DialogTerminated)
    assert (ended.trigger, ended.reason) == ("bye", "BYE received")
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "none -> early on 'provisional'",
        "early -> confirmed on 'success'",
        "confirmed -> terminated on 'bye'",
    ]


def test_confirmed_directly_reports_created_and_confirmed() -> None:
    """RFC 3261 12.1: a 2xx creates a dialog straight in the confirmed state."""
    dialog = new_dialog()
    events: list[DialogEvent] = []
    move(dialog, "success", events)
    assert [type(e) for e in events] == [DialogCreated, DialogConfirmed]
    assert dialog.state is State.CONFIRMED
    assert not dialog.dialog_state.early


def test_default_termination_reason_names_the_trigger() -> None:
    """A DialogTerminated always says why, even when the caller gives no reason."""
    dialog = new_dialog(State.EARLY)
    events: list[DialogEvent] = []
    move(dialog, "timeout", events)
    (ended,) = events
    assert isinstance(ended, DialogTerminated)
    assert ended.reason == "early dialog expired"


def test_dialogs_are_slotted_and_unregistered() -> None:
    """The shared machine adds nothing per dialog: no __dict__, no bound trigger methods."""
    dialog = new_dialog()
    move(dialog, "provisional", [])
    assert not hasattr(dialog, "__dict__")
    assert not hasattr(dialog.dialog_state, "__dict__")
    assert not hasattr(dialog, "provisional")
    assert MACHINE.models == []


def test_rows_and_hooks_added_to_the_machine_later_are_honoured() -> None:
    """``move`` runs the machine's own Transition rows: a row added to ``MACHINE`` after
    import is found, and machine-wide prepare/finalize callbacks run around each move, as
    ``Event.trigger`` would run them."""
    calls: list[str] = []
    MACHINE.add_transition("failure", State.CONFIRMED, State.TERMINATED)
    MACHINE.prepare_event = [lambda event: calls.append(f"prepare {event.event.name}")]
    MACHINE.finalize_event = [lambda event: calls.append(f"finalize {event.result}")]
    try:
        dialog, events = new_dialog(State.CONFIRMED), list[DialogEvent]()
        assert allowed(State.CONFIRMED, "failure")
        move(dialog, "failure", events)
        assert dialog.state is State.TERMINATED
        assert [type(e) for e in events] == [DialogTerminated]
        assert calls == ["prepare failure", "finalize True"]
    finally:
        MACHINE.prepare_event = []
        MACHINE.finalize_event = []
        MACHINE.remove_transition("failure", "CONFIRMED", "TERMINATED")
    assert not allowed(State.CONFIRMED, "failure")
    with pytest.raises(IllegalTransition):
        move(new_dialog(State.CONFIRMED), "failure", [])


def _plain_machine() -> transitions.Machine:
    """A plain ``transitions.Machine`` built from the same table, to compare ``move`` with."""
    return transitions.Machine(
        model=None, states=list(State), transitions=TRANSITIONS, initial=None,
        auto_transitions=False, send_event=True,
    )  # fmt: skip


def _hook_everything(machine: transitions.Machine, calls: list[str], veto: bool) -> None:
    """Every kind of callback transitions knows, on ``machine``'s provisional row and states."""
    row = machine.events["provisional"].transitions["NONE"][0]
    row.prepare.append(lambda _e: calls.append("prepare"))

    def check(_event: object) -> bool:
        calls.append("check")
        return not veto

    row.conditions.append(transitions.core.Condition(check))
    row.before.append(lambda _e: calls.append("before"))
    row.after.append(lambda _e: calls.append("after"))
    machine.before_state_change.append(lambda _e: calls.append("machine before"))
    machine.after_state_change.insert(0, lambda e: calls.append(f"machine after {e.state.name}"))
    machine.get_state("NONE").on_exit.append(lambda _e: calls.append("exit NONE"))
    machine.get_state("EARLY").on_enter.append(lambda e: calls.append(f"enter {e.model.state}"))


@pytest.mark.parametrize("veto", [False, True])
def test_a_move_runs_every_callback_as_transitions_itself_would(veto: bool) -> None:
    """``move`` runs rows the way transitions' own ``Transition`` does: a plain
    ``transitions.Machine`` with the same table and callbacks calls them in the same order,
    and a condition's veto stops both before anything changes."""
    plain = _plain_machine()
    ours: list[str] = []
    theirs: list[str] = []
    model = new_dialog()
    saved = (MACHINE.before_state_change[:], MACHINE.after_state_change[:])
    row = MACHINE.events["provisional"].transitions["NONE"][0]
    states = (MACHINE.get_state("NONE"), MACHINE.get_state("EARLY"))
    try:
        _hook_everything(MACHINE, ours, veto)
        _hook_everything(plain, theirs, veto)
        dialog, events = new_dialog(), list[DialogEvent]()
        if veto:
            with pytest.raises(IllegalTransition, match="vetoed by a condition"):
                move(dialog, "provisional", events)
            assert (dialog.state, events) == (State.NONE, [])
        else:
            move(dialog, "provisional", events)
            assert dialog.state is State.EARLY
            assert [type(e) for e in events] == [DialogCreated]
        plain.events["provisional"].trigger(model)
        assert model.state is dialog.state
        assert ours == theirs
        assert ours[:2] == ["prepare", "check"]
    finally:
        MACHINE.before_state_change[:], MACHINE.after_state_change[:] = saved
        for hooks in (row.prepare, row.conditions, row.before, row.after):
            hooks.clear()
        states[0].on_exit.clear()
        states[1].on_enter.clear()


def test_callbacks_that_change_the_callback_lists_during_a_move_count_at_once() -> None:
    """As in transitions, the callback lists are read as they run: a callback added during a
    move (after the running one) runs in that move, and one that removes itself shifts the
    list under it exactly as it does on a plain ``transitions.Machine``."""

    def hook(machine: transitions.Machine, calls: list[str]) -> list[object]:
        row = machine.events["provisional"].transitions["NONE"][0]

        def once(_event: object) -> None:
            calls.append("once")
            machine.after_state_change.remove(once)

        def adder(_event: object) -> None:
            calls.append("adder")
            machine.after_state_change.append(lambda _e: calls.append("late"))

        def before_adder(_event: object) -> None:
            calls.append("before")
            row.before.append(lambda _e: calls.append("added before"))

        machine.before_state_change.append(before_adder)
        row.after.append(adder)
        machine.after_state_change[:0] = [once, lambda _e: calls.append("second")]
        return [row]

    plain = _plain_machine()
    ours: list[str] = []
    theirs: list[str] = []
    saved = (MACHINE.before_state_change[:], MACHINE.after_state_change[:])
    try:
        (row,) = hook(MACHINE, ours)
        hook(plain, theirs)
        move(new_dialog(), "provisional", [])
        plain.events["provisional"].trigger(new_dialog())
        assert ours == theirs
        assert "late" in ours
        assert "added before" in ours
    finally:
        MACHINE.before_state_change[:], MACHINE.after_state_change[:] = saved
        row.before.clear()  # type: ignore[attr-defined]
        row.after.clear()  # type: ignore[attr-defined]
