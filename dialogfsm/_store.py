"""What a dialog manager holds, and the one place that creates and ends dialogs.

``DialogStore`` keeps the indexes (live dialogs by id, open dialog sets oldest first) and
the deadline heap, and does the bookkeeping every flow shares: open, confirm, close and
forget a dialog set; create a dialog; end one (it leaves every index at once). The message
flows live in ``_manager.py``, the usage rules in ``_usage_rules.py``.
"""

from __future__ import annotations

import enum
import random
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from ._dialog import (
    Dialog,
)
from ._dialogset import DialogSet, SetKey
from ._errors import (
    GlareError,
)
from ._events import (
    DialogSetDropped,
    Event,
    TargetRefreshed,
    UsageEnded,
)
from ._machine import State, move
from ._matching import (
    dialog_id,
    set_key,
    tag_in_set,
)
from ._message import Message, Request, Response
from ._state import DialogId, DialogState
from ._subscriptions import (
    SUBSCRIBING,
    Subscription,
    event_of,
    expires_of,
    new_subscription,
)
from ._timers import TimerHeap
from ._uri import URI
from ._usages import RESPONSE_EFFECTS, Effect

# module constants: an Enum member read through its class costs a descriptor call
_NONE, _EARLY, _CONFIRMED = State.NONE, State.EARLY, State.CONFIRMED

#: requests that create a dialog (RFC 3261 12.1; RFC 6665 4.1.2.4; RFC 3515 2.4.4)
DIALOG_CREATING = frozenset({"INVITE", "SUBSCRIBE", "REFER"})


_new = tuple.__new__  # a NamedTuple from a ready tuple (hot timers skip its Python __new__)
_NO_MORE = (None, None, 0.0)  # _Timer's defaults after cseq


class Extra2xx(enum.Enum):
    """What to do with a 2xx from a second fork once a first one confirmed a dialog."""

    ACK_AND_BYE = "ack-and-bye"
    """RFC 3261 13.2.2.4: ACK it, then BYE that dialog (one call, one answer): the default."""
    KEEP = "keep"
    """ACK it and keep the extra dialog (conferencing UAs that accept every answer)."""


class _Timer(NamedTuple):
    kind: str  # "early": no final response yet; "fork": 64*T1 after the first 2xx; "ack";
    # "retry": the wait after a 491 (RFC 3261 14.1); "sub": a subscription's Timer N/expiry
    target: DialogSet | Dialog
    cseq: int
    response: Response | None = None  # "retry": the 491
    subscription: Subscription | None = None  # "sub"
    at: float = 0.0  # "sub": the deadline it was set for (a later one replaces it)


class DialogStore:
    """The indexes, timers and settings of a :class:`DialogManager` (see there)."""

    def __init__(
        self,
        *,
        t1: float = 0.5,
        early_timeout: float = 180.0,
        max_unconfirmed: int = 10_000,
        extra_2xx: Extra2xx = Extra2xx.ACK_AND_BYE,
        response_effects: Mapping[int, Effect] = RESPONSE_EFFECTS,
        rng: random.Random | None = None,
        max_forks: int = 32,
    ) -> None:
        if max_unconfirmed < 1:
            raise ValueError(f"max_unconfirmed must be at least 1, not {max_unconfirmed}")
        if max_forks < 1:
            raise ValueError(f"max_forks must be at least 1, not {max_forks}")
        self.max_forks = max_forks
        """Early dialogs (1xx) or NOTIFY-made dialogs one request may have at once."""
        self.t1 = t1
        self.early_timeout = early_timeout
        self.max_unconfirmed = max_unconfirmed
        self.extra_2xx = extra_2xx
        self.response_effects = response_effects
        """RFC 5057 5.1: what a failed mid-dialog request ends (see ``RESPONSE_EFFECTS``)."""
        # glare waits need no cryptographic randomness, only independence between UAs
        self.random = rng if rng is not None else random.Random()  # noqa: S311
        """Draws glare waits and Retry-After values; give a seeded one for tests."""
        self._dialogs: dict[DialogId, Dialog] = {}
        # open dialog sets, oldest first; those not yet confirmed count against the cap
        self._sets: OrderedDict[SetKey, DialogSet] = OrderedDict()
        # our open SUBSCRIBE and REFER sets by (Call-ID, From tag): a NOTIFY may come first
        self._notify_sets: dict[tuple[str, str], DialogSet] = {}
        self._unconfirmed = 0
        self._timers: TimerHeap[_Timer] = TimerHeap(self._timer_live)

    # -- views -------------------------------------------------------------------------
    @property
    def dialogs(self) -> Mapping[DialogId, Dialog]:
        """Every live dialog (early or confirmed) by id, read-only."""
        return MappingProxyType(self._dialogs)

    @property
    def dialog_sets(self) -> Mapping[SetKey, DialogSet]:
        """Open dialog sets (requests that may still create dialogs), read-only."""
        return MappingProxyType(self._sets)

    def __len__(self) -> int:
        return len(self._dialogs)

    def __iter__(self) -> Iterator[Dialog]:
        return iter(list(self._dialogs.values()))

    def get(self, dialog_id: DialogId) -> Dialog | None:
        """The live dialog with this id, or ``None``."""
        return self._dialogs.get(dialog_id)

    def find(self, message: Message, *, sent: bool) -> Dialog | None:
        """The live dialog ``message`` belongs to, seen as sent by us (``sent=True``) or
        received; ``None`` when there is none."""
        return self._dialogs.get(dialog_id(message, sent))

    def _earliest_timer(self) -> float | None:
        """No timer is due before this (a cancelled one may be the one at this time)."""
        return self._timers.earliest()

    def get_timer(self) -> float | None:
        """When ``handle_timer`` should next be called, or ``None`` when nothing is due."""
        return self._timers.next_deadline()

    # -- dialog sets, dialogs, timers ----------------------------------------------------
    def _creating_set(self, response: Response, *, caller: bool) -> DialogSet | None:
        """The open dialog set ``response`` answers the dialog-creating request of."""
        if response.cseq.method not in DIALOG_CREATING:
            return None
        dialog_set = self._sets.get(set_key(response, caller=caller))
        # the CANCEL of an INVITE shares its CSeq number; only the INVITE's responses count
        if dialog_set is not None and response.cseq.method == dialog_set.request.method:
            return dialog_set
        return None

    def _open_set(
        self, request: Request, caller: bool, tls: bool, now: float, events: list[Event]
    ) -> None:
        key = set_key(request, caller=caller)
        if key in self._sets:  # a retransmission, or the same request seen twice
            return
        while self._unconfirmed >= self.max_unconfirmed:
            self._evict_oldest(events)
        dialog_set = DialogSet(key, request, tls, now)
        self._sets[key] = dialog_set
        if caller and request.method in SUBSCRIBING:
            self._notify_sets[key.call_id, key.from_tag] = dialog_set
        self._unconfirmed += 1
        self._timers.push(
            now + self.early_timeout, _new(_Timer, ("early", dialog_set, 0, *_NO_MORE))
        )

    def _end_early(
        self, dialog_set: DialogSet, tag: str | None, response: Response, events: list[Event]
    ) -> None:
        """RFC 6228 3: a 199 (Early Dialog Terminated) ends the early dialog of its To tag
        and creates none; the other forks of the set carry on."""
        dialog = dialog_set.dialogs.get(tag or "")
        if dialog is not None and dialog.state is _EARLY:
            self._end(dialog, "failure", response, events, "199 Early Dialog Terminated")

    def _check_glare(self, dialog: Dialog, number: int, method: str) -> None:
        """RFC 3261 14.2, RFC 3311 5.2: refuse a re-INVITE or UPDATE that crosses one in
        progress (a retransmission of the one in progress is not a new one)."""
        mine, theirs = dialog.local_pending, dialog.remote_pending
        first_invite = mine is not None and mine == (dialog.invite_cseq, "INVITE")
        # an UPDATE inside the early dialog of our pending INVITE is what UPDATE is for
        if mine is not None and not (first_invite and dialog.caller and method == "UPDATE"):
            raise GlareError(
                f"{method} {number} crosses our {mine[1]} {mine[0]} in dialog {dialog.id} "
                "(RFC 3261 14.2, RFC 3311 5.2: 491)",
                491,
            )
        if theirs is not None and theirs[0] != number and theirs[1] == method:
            retry_after = self.random.randint(0, 10)
            raise GlareError(
                f"{method} {number} arrived before we answered {method} {theirs[0]} in dialog "
                f"{dialog.id} (RFC 3261 14.2, RFC 3311 5.2: 500 with Retry-After)",
                500,
                retry_after,
            )

    def _schedule_retry(self, dialog: Dialog, response: Response, now: float) -> None:
        """RFC 3261 14.1: after a 491, wait 2.1 to 4 s if we own the Call-ID (we sent the
        request that made the dialog), else 0 to 2 s, in units of 10 ms."""
        centis = self.random.randint(210, 400) if dialog.caller else self.random.randint(0, 200)
        self._timers.push(now + centis / 100, _Timer("retry", dialog, 0, response))

    def _confirm_set(self, dialog_set: DialogSet, now: float) -> None:
        """The first 2xx: the set no longer counts against ``max_unconfirmed``."""
        if dialog_set.confirmed_at is None:
            dialog_set.confirmed_at = now
            if self._sets.get(dialog_set.key) is dialog_set:
                self._unconfirmed -= 1

    def _evict_oldest(self, events: list[Event]) -> None:
        for dialog_set in self._sets.values():
            if dialog_set.confirmed_at is None:
                self._drop_set(dialog_set, "evict", events, "too many unconfirmed dialogs")
                return
        raise AssertionError("unconfirmed count out of step")  # pragma: no cover

    def _drop_set(
        self, dialog_set: DialogSet, trigger: str, events: list[Event], reason: str
    ) -> None:
        self._close_set(dialog_set, trigger, None, events, reason)
        self._forget_set(dialog_set)
        events.append(DialogSetDropped(dialog_set, reason))

    def _close_set(
        self,
        dialog_set: DialogSet,
        trigger: str,
        message: Message | None,
        events: list[Event],
        reason: str,
    ) -> None:
        """End the early dialogs of the set; it will create no more dialogs."""
        for dialog in dialog_set.early():
            self._end(dialog, trigger, message, events, reason)
        if dialog_set.confirmed_at is not None:
            self._forget_set(dialog_set)

    def _forget_set(self, dialog_set: DialogSet) -> None:
        if self._sets.get(dialog_set.key) is dialog_set:
            del self._sets[dialog_set.key]
            if dialog_set.confirmed_at is None:
                self._unconfirmed -= 1
            self._timers.cancelled()
            # live and ended dialogs alike let go of it (no cycle left through "ended")
            for dialog in (*dialog_set.dialogs.values(), *dialog_set.ended.values()):
                if dialog is not None:
                    dialog.dialog_set = None
            index = (dialog_set.key.call_id, dialog_set.key.from_tag)
            if self._notify_sets.get(index) is dialog_set:
                del self._notify_sets[index]

    def _new_dialog(
        self, dialog_set: DialogSet, tag: str, state: DialogState, *, caller: bool
    ) -> Dialog | None:
        if state.id in self._dialogs:
            return None
        request = dialog_set.request
        dialog = Dialog(_NONE, state, caller, request.cseq.number, dialog_set)
        if request.method == "INVITE":
            # RFC 3261 14.1, 14.2: the INVITE that made the dialog is in progress until
            # its final response: no re-INVITE may cross it, either way
            pending = (request.cseq.number, "INVITE")
            if caller:
                dialog.local_pending = pending
            else:
                dialog.remote_pending = pending
        else:  # RFC 6665, RFC 3515: a subscription-only dialog
            event = event_of(request, sent=caller)
            subscription = new_subscription(request, event, caller, first=True)
            dialog.refers = (1 if caller else 2) if request.method == "REFER" else 0
            if caller:  # RFC 6665 4.1.2.4: Timer N runs from the SUBSCRIBE
                subscription.notify_by = dialog_set.created_at + 64 * self.t1
                subscription.local_cseq = request.cseq.number  # its 2xx is still to come
                subscription.requested = expires_of(request, sent=True)
            dialog.invite_usage = False
            dialog.subscriptions = [subscription]
            deadline = subscription.notify_by
            if deadline is not None:
                self._timers.push(deadline, _Timer("sub", dialog, 0, None, subscription, deadline))
        dialog_set.dialogs[tag] = dialog
        self._dialogs[state.id] = dialog
        return dialog

    def _end(
        self,
        dialog: Dialog,
        trigger: str,
        message: Message | None,
        events: list[Event],
        reason: str,
    ) -> None:
        mark = len(events)
        move(dialog, trigger, events, message, reason)
        subscriptions = dialog.subscriptions
        if subscriptions:  # every usage ends with the dialog (RFC 5057 5.1)
            dialog.subscriptions = None
            events[mark:mark] = [UsageEnded(dialog, s, message, reason) for s in subscriptions]
            self._timers.cancelled()
        # terminated dialogs leave every index
        del self._dialogs[dialog.id]
        if dialog.awaiting_ack is not None:
            dialog.awaiting_ack = None
            self._timers.cancelled()
        dialog_set = dialog.dialog_set
        if dialog_set is not None:
            tag = tag_in_set(dialog)
            dialog_set.dialogs.pop(tag, None)
            dialog_set.ended[tag] = dialog

    def _await_ack(self, dialog: Dialog, number: int, now: float) -> None:
        dialog.awaiting_ack = number
        self._timers.push(now + 64 * self.t1, _new(_Timer, ("ack", dialog, number, *_NO_MORE)))

    def _refresh_target(
        self, dialog: Dialog, target: URI, message: Message, events: list[Event]
    ) -> None:
        state = dialog.dialog_state
        old = state.remote_target
        if old is None or str(old) != str(target):
            state.remote_target = target
            events.append(TargetRefreshed(dialog, message, old, target))

    def _timer_live(self, timer: _Timer) -> bool:
        target = timer.target
        subscription = timer.subscription
        if subscription is not None:
            assert isinstance(target, Dialog)
            return (
                self._dialogs.get(target.id) is target
                and subscription in (target.subscriptions or ())
                and subscription.deadline() == timer.at
            )
        if timer.response is not None:
            return isinstance(target, Dialog) and self._dialogs.get(target.id) is target
        if isinstance(target, Dialog):
            return target.awaiting_ack == timer.cseq and self._dialogs.get(target.id) is target
        if self._sets.get(target.key) is not target:
            return False
        return timer.kind == "fork" or target.confirmed_at is None
