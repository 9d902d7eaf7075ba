"""References for ``bench_dialog.py``: the state machine alone. Three transitions through a
bare ``transitions`` machine configured like dialogfsm's, the same three through dialogfsm's
``move``, and what the naive design pays to give one dialog its own ``Machine``.
"""

# transitions and dialogfsm's move are imported inside the functions that time them.
# ruff: noqa: PLC0415

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialog_calls import make_call
from dialog_peers import NaiveDialog

import dialogfsm
from dialogfsm import TRANSITIONS, Dialog, DialogState, State

# --------------------------------------------------------------------------------------
# References: the state machine alone
# --------------------------------------------------------------------------------------


class _Slotted:
    """The smallest model: one slot, never registered with the machine."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = State.NONE


def bare_transitions_cycle() -> Callable[[], None]:
    """3 transitions (NONE -> EARLY -> CONFIRMED -> TERMINATED) through a shared machine
    configured like dialogfsm's (``model=None``, ``send_event``, same keyword arguments per
    trigger) but without its ``after_state_change`` callback: ``transitions`` alone."""
    from transitions import Machine

    machine = Machine(
        model=None, states=State, transitions=TRANSITIONS, initial=None,
        auto_transitions=False, send_event=True,
    )  # fmt: skip
    provisional = machine.events["provisional"].trigger
    success = machine.events["success"].trigger
    bye = machine.events["bye"].trigger
    model = _Slotted()
    sink: list[Any] = []

    def run() -> None:
        model.state = State.NONE
        provisional(model, events=sink, message=None, reason="", source=State.NONE)
        success(model, events=sink, message=None, reason="", source=State.EARLY)
        bye(model, events=sink, message=None, reason="", source=State.CONFIRMED)
        sink.clear()

    return run


def dialogfsm_move_cycle() -> Callable[[], None]:
    """The same 3 transitions through dialogfsm's ``move`` (``MACHINE`` plus its ``_report``
    callback: events, the ``early`` flag, the debug-log check)."""
    from dialogfsm._machine import move

    c = make_call(0)
    state = DialogState.create(
        call_id=c.call_id, local_tag=c.bob_tag, remote_tag=c.alice_tag, local_seq=None,
        remote_seq=c.cseq, local_uri=dialogfsm.URI(c.request_uri),
        remote_uri=dialogfsm.URI(f"sip:{c.alice}@atlanta.example.com"), remote_target=None,
        route_set=(), secure=False,
    )  # fmt: skip
    dialog = Dialog(State.NONE, state, False, c.cseq)
    sink: list[Any] = []

    def run() -> None:
        dialog.state = State.NONE
        move(dialog, "provisional", sink)
        move(dialog, "success", sink)
        move(dialog, "bye", sink)
        sink.clear()

    return run


def machine_per_dialog() -> Callable[[], None]:
    """What the naive design pays to give one dialog its machine."""
    from transitions import Machine

    def run() -> None:
        Machine(
            model=NaiveDialog(), states=State, transitions=TRANSITIONS, initial=State.NONE,
            auto_transitions=False,
        )  # fmt: skip

    return run
