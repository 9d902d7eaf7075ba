"""The one place that says how a dialog may move.

Rule 1: every legal move is a row of ``TRANSITIONS``; nothing else assigns a dialog's state.
Rule 2: this module knows nothing of sockets, clocks, or which side of the dialog we are.

ONE ``transitions.Machine`` serves every dialog of the process: it is built with
``model=None`` and drives unregistered, slotted dialogs through ``MACHINE.events[...]``.
A machine per dialog, or ``add_model`` per dialog, would cost 100+ us and kilobytes each.
"""

from __future__ import annotations

import enum
import logging
from itertools import chain
from typing import TYPE_CHECKING, Any, Protocol

from transitions import EventData, Machine, Transition
from transitions import State as TransitionsState

from ._errors import IllegalTransition
from ._events import DialogConfirmed, DialogCreated, DialogTerminated

if TYPE_CHECKING:
    from ._dialog import Dialog
    from ._events import Event
    from ._message import Request, Response

logger = logging.getLogger("dialogfsm")


class State(enum.Enum):
    """Where a dialog stands (RFC 3261 12)."""

    NONE = "none"
    EARLY = "early"  # RFC 3261 12.1: created by a 101-199 response with a To tag
    CONFIRMED = "confirmed"  # ... or by a 2xx
    TERMINATED = "terminated"


N, E, C, T = State.NONE, State.EARLY, State.CONFIRMED, State.TERMINATED

# fmt: off
TRANSITIONS: list[dict[str, Any]] = [
    # trigger         source   dest    why (RFC 3261 unless noted)
    {"trigger": "provisional", "source": N, "dest": E},       # 12.1: 101-199 with a To tag
    {"trigger": "success", "source": [N, E], "dest": C},      # 12.1: 2xx
    {"trigger": "failure", "source": E, "dest": T},           # 12.3: non-2xx final; RFC 6228 199
    {"trigger": "bye", "source": [E, C], "dest": T},          # 15: BYE sent or received
    {"trigger": "error", "source": [E, C], "dest": T},        # 12.2.1.2: 481, 408, timeout
    {"trigger": "timeout", "source": E, "dest": T},           # 13.2.2.4: never confirmed in time
    {"trigger": "evict", "source": E, "dest": T},             # cap on unconfirmed dialogs
    {"trigger": "abandon", "source": [E, C], "dest": T},      # the application gives it up
    {"trigger": "unused", "source": [E, C], "dest": T},       # RFC 5057 4: last usage ended
]
# fmt: on

#: trigger -> why it ends a dialog, for DialogTerminated.reason when the caller gives none
TRIGGER_REASONS = {
    "failure": "non-2xx final response",
    "bye": "BYE",
    "error": "mid-dialog request failed",
    "timeout": "early dialog expired",
    "evict": "evicted: too many unconfirmed dialogs",
    "abandon": "abandoned by the application",
    "unused": "its last usage ended",
}


class Model(Protocol):
    """What the machine drives: anything with a ``state`` attribute."""

    state: State


def _report(event: EventData) -> None:
    """Log every state change and turn it into events: the one place that does so."""
    dialog: Dialog = event.model  # type: ignore[assignment]  # transitions types it object
    kwargs = event.kwargs
    source: State = kwargs["source"]
    dest = dialog.state
    sink: list[Event] = kwargs["events"]
    message: Request | Response | None = kwargs["message"]
    trigger = event.event.name if event.event is not None else "?"
    dialog.dialog_state.early = dest is E
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("dialog %s: %s -> %s on %r", dialog.dialog_state.id, source.value,
                     dest.value, trigger)  # fmt: skip
    if source is N:
        sink.append(DialogCreated(dialog, message, dest))
    if dest is C:
        sink.append(DialogConfirmed(dialog, message))
    elif dest is T:
        reason = kwargs["reason"] or TRIGGER_REASONS.get(trigger, trigger)
        sink.append(DialogTerminated(dialog, message, reason, trigger))


class _State(TransitionsState):
    """A state of the shared machine. No dialog state has enter or exit callbacks of its
    own, and ``_report`` logs every change, so :class:`_Transition` calls ``enter`` and
    ``exit`` on one only when callbacks were added (a State of another class always gets
    the call: it may do more than run callbacks)."""


class _Transition(Transition):
    """A row of the shared machine, run as transitions' own ``Transition`` runs it, in the
    same order (prepare, conditions, before, exit, state set, enter, final, after), with
    every callback added to the row or the machine honoured. What it leaves out: empty
    callback rounds, the per-step debug and info log lines (``_report`` logs each change
    once), and ``get_state``'s checks (a row's states are read from ``machine.states``).
    This is transitions' documented extension point (``Machine.transition_cls``), the one
    its own extensions use; a move costs less than half of what it did through
    ``Transition``."""

    def execute(self, event_data: EventData) -> bool:
        machine = event_data.machine
        if self.prepare:
            machine.callbacks(self.prepare, event_data)
        if self.conditions and not self._eval_conditions(event_data):
            return False
        # the lists are read as they run (itertools.chain, as transitions does), so a
        # callback that adds or removes callbacks affects this move as it would there
        if machine.before_state_change or self.before:
            machine.callbacks(chain(machine.before_state_change, self.before), event_data)
        if self.dest:  # a row without dest is an internal transition: no state change
            self._change_state(event_data)
        for func in chain(self.after, machine.after_state_change):
            machine.callback(func, event_data)  # Machine.callbacks without its info line
        return True

    def _change_state(self, event_data: EventData) -> None:
        machine = event_data.machine
        states = machine.states
        source: TransitionsState = states[self.source]
        if source.on_exit or type(source) is not _State:  # another State class: it decides
            source.exit(event_data)
        dest: TransitionsState = states[self.dest]  # type: ignore[index]  # execute: not None
        setattr(event_data.model, machine.model_attribute, dest.value)  # Machine.set_state
        event_data.state = dest  # EventData.update
        if dest.on_enter or type(dest) is not _State:
            dest.enter(event_data)
        if dest.final:
            machine.callbacks(machine.on_final, event_data)


class _Machine(Machine):
    """``transitions.Machine`` whose rows are :class:`_Transition`."""

    transition_cls = _Transition


MACHINE: Machine = _Machine(
    model=None,
    states=[_State(state) for state in State],
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
    send_event=True,
    after_state_change=[_report],
)
_TRIGGERS = MACHINE.events
_MACHINE_STATES = {state.value: MACHINE.get_state(state.name) for state in State}


def _rows(value: str, trigger: str) -> list[Transition] | None:
    """The machine's own Transition rows for ``trigger`` from the state of this value.

    ``move`` executes them itself: ``Event.trigger`` would add its queue and a model-state
    lookup by name, a third of a move's cost. They are looked up in the machine at every
    move, so rows added to or removed from ``MACHINE`` later count at once.
    """
    event = _TRIGGERS.get(trigger)
    if event is None:
        return None
    return event.transitions.get(_NAMES[value]) or None


#: state value -> state name, as the machine keys its rows (Enum.name is a descriptor call)
_NAMES = {state.value: state.name for state in State}


def move(
    dialog: Dialog,
    trigger: str,
    events: list[Event],
    message: Request | Response | None = None,
    reason: str = "",
) -> None:
    """Fire ``trigger`` on ``dialog`` through the shared machine; events go to ``events``.

    Raises :class:`IllegalTransition` (and changes nothing) when the dialog's state has no
    row for ``trigger``, or when a condition vetoes the move. The machine's
    ``prepare_event``, ``finalize_event`` and ``on_exception`` callbacks run as they would
    for ``Event.trigger``, when any are set.
    """
    state = dialog.state
    value: str = state._value_  # the plain attribute behind .value (no descriptor call)
    rows = _rows(value, trigger)
    if rows is None:
        why = "" if trigger in _TRIGGERS else "no such trigger"
        raise IllegalTransition(trigger, state.name, why)
    kwargs = {"events": events, "message": message, "reason": reason, "source": state}
    data = EventData(_MACHINE_STATES[value], _TRIGGERS[trigger], MACHINE, dialog, (), kwargs)
    machine = MACHINE
    hooks = machine.prepare_event or machine.finalize_event or machine.on_exception
    if hooks:
        _run_hooked(machine, rows, data)
    else:
        for row in rows:
            data.transition = row
            if row.execute(data):
                data.result = True
                break
    if not data.result:
        raise IllegalTransition(trigger, state.name, "vetoed by a condition")


def _run_hooked(machine: Machine, rows: list[Transition], data: EventData) -> None:
    """What ``Event._trigger`` and ``Event._process`` do around the rows (transitions 0.9),
    for a machine that someone gave machine-wide callbacks."""
    try:
        machine.callbacks(machine.prepare_event, data)
        for row in rows:
            data.transition = row
            if row.execute(data):
                data.result = True
                break
    except BaseException as err:
        data.error = err  # type: ignore[assignment]  # transitions stores any exception
        if not machine.on_exception:
            raise
        machine.callbacks(machine.on_exception, data)
    finally:
        try:
            machine.callbacks(machine.finalize_event, data)
        except Exception as err:  # transitions logs these and goes on
            logger.error("finalize_event callback failed: %r", err)


def allowed(state: State, trigger: str) -> bool:
    """Whether the table has a row for ``trigger`` from ``state``."""
    return _rows(state.value, trigger) is not None
