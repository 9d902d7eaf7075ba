"""What the example UA remembers: each dialog's history, how dialogs ended, what it sent.

Nothing here takes part in SIP: ``Records`` only listens to the DialogManager's events
(``DialogCreated``, ``DialogConfirmed``, ``TargetRefreshed``, ``DialogTerminated``) and to
the UA's counters, for the summary printed on exit and the JSON of ``--summary``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from transport import log

from dialogfsm import (
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogId,
    DialogTerminated,
    State,
    TargetRefreshed,
)


@dataclass(eq=False)
class History:
    """One dialog as the UA saw it: the states it went through, why it ended."""

    dialog: Dialog
    states: list[str]
    targets: list[str] = field(default_factory=list)  # each remote target it moved to
    reason: str = ""
    trigger: str = ""
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def as_json(self) -> dict[str, object]:
        state = self.dialog.dialog_state
        return {
            "call_id": state.call_id, "local_tag": state.local_tag,
            "remote_tag": state.remote_tag, "role": "uac" if self.dialog.caller else "uas",
            "states": self.states, "reason": self.reason, "trigger": self.trigger,
            "local_seq": state.local_seq, "remote_seq": state.remote_seq,
            "local_uri": str(state.local_uri), "remote_uri": str(state.remote_uri),
            "remote_target": None if state.remote_target is None else str(state.remote_target),
            "route_set": [str(route) for route in state.route_set], "targets": self.targets,
        }  # fmt: skip


@dataclass
class CallResult:
    """One call that ``call`` placed: how its INVITE and its BYE were answered."""

    number: int
    call_id: str
    answer: str = ""
    bye: str = ""
    held: float = 0.0
    completed: bool = False

    def line(self) -> str:
        held = f"held {self.held:.2f} s, " if self.answer.startswith("2") else ""
        bye = f"BYE: {self.bye}, " if self.bye else ""
        outcome = "completed" if self.completed else "FAILED"
        return f"call {self.number}: {self.answer}, {held}{bye}{outcome} ({self.call_id})"


class Records:
    """Every dialog's history (the ended ones only when ``keep``: a long-running ``serve``
    would grow without bound), and counters of what the UA did."""

    def __init__(self, *, keep: bool) -> None:
        self.keep = keep
        self.history: dict[Dialog, History] = {}
        self.by_id: dict[DialogId, History] = {}
        self.ended = Counter[str]()  # why dialogs ended: "BYE received"...
        self.confirmed = 0  # dialogs that reached the confirmed state
        self.calls: list[CallResult] = []
        self.sent = Counter[str]()  # "INVITE 180": the responses the UA sent
        self.refused = Counter[str]()  # "481 BYE": the requests the manager refused
        self.reinvites = Counter[str]()  # "491": how the UA's re-INVITEs were answered
        self.retransmitted = Counter[str]()  # "INVITE", "200 INVITE": sent again on a timer
        self.absorbed = Counter[str]()  # repeats (and ACKs of non-2xx) the transactions took

    def record(
        self,
        event: DialogCreated | DialogConfirmed | TargetRefreshed | DialogTerminated,
        *,
        verbose: bool = False,
    ) -> None:
        """Follow a dialog: its states, its targets, its end."""
        dialog = event.dialog
        match event:
            case DialogCreated(state=state):
                self.history[dialog] = self.by_id[dialog.id] = History(dialog, [state.value])
                self.confirmed += state is State.CONFIRMED
            case DialogConfirmed():
                self.history[dialog].states.append("confirmed")
                self.confirmed += 1
            case TargetRefreshed(new=new):
                self.history[dialog].targets.append(str(new))
            case DialogTerminated(reason=reason, trigger=trigger):
                record = self.history[dialog]
                record.states.append("terminated")
                record.reason, record.trigger = reason, trigger
                record.ended.set()
                self.ended[reason] += 1
                if not self.keep:
                    del self.history[dialog], self.by_id[dialog.id]
                if verbose or not dialog.caller:
                    log(f"dialog ended: {reason} ({' > '.join(record.states)}) {dialog.id}")

    def summary(self, *, still_open: int) -> str:
        """The dialogs by how they ended, and what the UA sent, refused and absorbed."""
        lines = [f"{sum(self.ended.values()) + still_open} dialogs, "
                 f"{self.confirmed} of them confirmed:"]  # fmt: skip
        ends = self.ended + Counter({"still open": still_open})
        lines += [f"  {count:6}  {reason}" for reason, count in ends.most_common()]
        for title, counts in (
            ("responses sent", self.sent),
            ("requests refused", self.refused),
            ("our re-INVITEs answered", self.reinvites),
            ("sent again on a timer", self.retransmitted),
            ("absorbed by the transactions", self.absorbed),
        ):
            if counts:
                items = ", ".join(f"{key} x{n}" for key, n in sorted(counts.items()))
                lines.append(f"{title}: {items}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {
            "dialogs": [record.as_json() for record in self.history.values()],
            "responses_sent": dict(self.sent),
            "refused": dict(self.refused),
            "reinvites": dict(self.reinvites),
            "retransmitted": dict(self.retransmitted),
            "absorbed": dict(self.absorbed),
            "calls": [vars(call) for call in self.calls],
        }
