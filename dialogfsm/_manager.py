"""``DialogManager``: every dialog of one user agent, sans-IO.

Messages go in through ``send`` (what we are about to send) and ``receive`` (what arrived),
each with ``now``; what happened, and what the application must do next, comes back as a
list of events. Nothing here reads a clock or touches a socket: timers are pulled with
``get_timer()`` and fired with ``handle_timer(now)``, so replaying a capture is exact.

Every entry point checks everything before it changes anything: a message that raises
leaves every dialog and every index as it was.
"""

from __future__ import annotations

import enum
import random
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from ._dialog import TARGET_REFRESH, Dialog, uac_route_set, uac_state, uas_state
from ._dialogset import DialogSet, SetKey
from ._errors import GlareError, LocalProtocolError, NoSuchDialog, OutOfOrderError
from ._events import (
    DialogSetDropped,
    Event,
    RetryRequest,
    SendAck,
    SendBye,
    TargetRefreshed,
)
from ._machine import State, move
from ._matching import (
    check_bye_allowed,
    check_may_send,
    dialog_id,
    set_key,
    tag_in_set,
    tls_of,
)
from ._message import Request, Response
from ._state import DialogId, DialogState
from ._timers import TimerHeap
from ._uri import URI
from ._usages import RESPONSE_EFFECTS, Effect, response_effect

Message = Request | Response
# module constants: an Enum member read through its class costs a descriptor call
_NONE, _EARLY, _CONFIRMED = State.NONE, State.EARLY, State.CONFIRMED

#: requests that create a dialog in this layer (RFC 3261 12.1); usages extend it
DIALOG_CREATING = frozenset({"INVITE"})


class Extra2xx(enum.Enum):
    """What to do with a 2xx from a second fork once a first one confirmed a dialog."""

    ACK_AND_BYE = "ack-and-bye"
    """RFC 3261 13.2.2.4: ACK it, then BYE that dialog (one call, one answer): the default."""
    KEEP = "keep"
    """ACK it and keep the extra dialog (conferencing UAs that accept every answer)."""


class _Timer(NamedTuple):
    kind: str  # "early": no final response yet; "fork": 64*T1 after the first 2xx; "ack";
    # "retry": the wait after a 491 (RFC 3261 14.1)
    target: DialogSet | Dialog
    cseq: int
    response: Response | None = None  # "retry": the 491


class DialogManager:
    """Every dialog of one user agent: send and receive messages, read events.

    ``t1`` is RFC 3261's T1 (0.5 s). ``early_timeout`` bounds how long a dialog-creating
    request may wait for a final response before its early dialogs are dropped (Timer C's
    three minutes by default). ``max_unconfirmed`` caps the requests that have not produced
    a confirmed dialog: beyond it the oldest is evicted, with events. ``extra_2xx`` says
    what to do with a second fork's 2xx; ``response_effects`` (RFC 5057 5.1) what a failed
    mid-dialog request ends.
    """

    def __init__(
        self,
        *,
        t1: float = 0.5,
        early_timeout: float = 180.0,
        max_unconfirmed: int = 10_000,
        extra_2xx: Extra2xx = Extra2xx.ACK_AND_BYE,
        response_effects: Mapping[int, Effect] = RESPONSE_EFFECTS,
        rng: random.Random | None = None,
    ) -> None:
        if max_unconfirmed < 1:
            raise ValueError(f"max_unconfirmed must be at least 1, not {max_unconfirmed}")
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

    # -- entry points --------------------------------------------------------------------
    def send(self, message: Message, *, now: float, tls: bool | None = None) -> list[Event]:
        """Tell the manager we are sending ``message``; return what happened.

        ``tls`` says whether it goes over TLS; by default the top Via's transport says.
        Raises :class:`LocalProtocolError` (and changes nothing) for a message the RFCs
        forbid us to send in the dialog's state.
        """
        events: list[Event] = []
        if isinstance(message, Request):
            self._send_request(message, now, tls_of(message, tls), events)
        else:
            self._send_response(message, now, events)
        return events

    def receive(self, message: Message, *, now: float, tls: bool | None = None) -> list[Event]:
        """Tell the manager ``message`` arrived; return what happened.

        Raises :class:`NoSuchDialog` (status hint 481) for a mid-dialog request of no
        dialog and :class:`OutOfOrderError` (500) for one with a stale CSeq; nothing changes.
        """
        events: list[Event] = []
        if isinstance(message, Request):
            self._receive_request(message, now, tls_of(message, tls), events)
        else:
            self._receive_response(message, now, events)
        return events

    def get_timer(self) -> float | None:
        """When ``handle_timer`` should next be called, or ``None`` when nothing is due."""
        return self._timers.next_deadline()

    def handle_timer(self, now: float) -> list[Event]:
        """Fire every timer due at ``now``; return what happened."""
        events: list[Event] = []
        for timer in self._timers.pop_due(now):
            if not self._timer_live(timer):  # an earlier timer of this batch ended it
                continue
            target = timer.target
            if timer.response is not None:  # RFC 3261 14.1: the 491 wait has passed
                assert isinstance(target, Dialog)
                events.append(RetryRequest(target, timer.response))
            elif isinstance(target, Dialog):  # RFC 3261 13.3.1.4: no ACK within 64*T1
                target.awaiting_ack = None
                events.append(SendBye(target, None, "no ACK for the 2xx within 64*T1"))
            elif timer.kind == "fork":  # RFC 3261 13.2.2.4: forks that never answered
                self._close_set(target, "timeout", None, events, "no 2xx within 64*T1")
            else:
                self._drop_set(target, "timeout", events, "no final response in time")
        return events

    def transaction_timeout(self, request: Request, *, now: float) -> list[Event]:
        """The application's transaction for ``request`` (one we sent) timed out.

        RFC 3261 12.2.1.2: a mid-dialog request that times out ends the dialog; a
        dialog-creating one ends its early dialogs. CANCEL and ACK timeouts change nothing.
        """
        events: list[Event] = []
        if request.method in ("CANCEL", "ACK"):
            return events
        key = set_key(request, caller=True)
        dialog_set = self._sets.get(key)
        if dialog_set is not None:
            self._close_set(dialog_set, "error", None, events, "transaction timed out")
            if dialog_set.confirmed_at is None:
                self._forget_set(dialog_set)
            return events
        dialog = self._dialogs.get(dialog_id(request, sent=True))
        if dialog is not None:
            self._end(dialog, "error", None, events, "transaction timed out (408)")
        return events

    def terminate(self, dialog: Dialog, *, now: float, reason: str = "") -> list[Event]:
        """End ``dialog`` on the application's word (no message sent); return the events."""
        events: list[Event] = []
        if self._dialogs.get(dialog.id) is dialog:
            self._end(dialog, "abandon", None, events, reason)
        return events

    # -- requests we send ----------------------------------------------------------------
    def _send_request(self, request: Request, now: float, tls: bool, events: list[Event]) -> None:
        method = request.method
        dialog = self._dialogs.get(dialog_id(request, sent=True))
        if dialog is None:
            if request.to.tag is not None and method not in ("ACK", "CANCEL"):
                raise LocalProtocolError(
                    f"{method} with To tag {request.to.tag!r} belongs to no dialog "
                    f"(Call-ID {request.call_id!r})"
                )
            if method in DIALOG_CREATING and request.to.tag is None:
                self._open_set(request, True, tls, now, events)
            return
        if method in ("ACK", "CANCEL"):  # RFC 3261 12.2.1.1: no new CSeq number
            return
        state = dialog.dialog_state
        number = request.cseq.number
        if state.local_seq is not None and number < state.local_seq:
            raise LocalProtocolError(
                f"CSeq {number} of {method} is below the dialog's local sequence number "
                f"{state.local_seq} (RFC 3261 12.2.1.1)"
            )
        if method == "BYE":
            check_bye_allowed(dialog)
            state.local_seq = number
            self._end(dialog, "bye", request, events, "BYE sent")
            return
        if method in TARGET_REFRESH:
            check_may_send(dialog, number, method)
            dialog.local_pending = (number, method)
        state.local_seq = number

    # -- requests we receive -------------------------------------------------------------
    def _receive_request(
        self, request: Request, now: float, tls: bool, events: list[Event]
    ) -> None:
        method = request.method
        dialog = self._dialogs.get(dialog_id(request, sent=False))
        if dialog is None:
            if request.to.tag is None:
                if method in DIALOG_CREATING:
                    self._open_set(request, False, tls, now, events)
                return
            if method == "ACK":  # RFC 3261 12.2.2: an ACK that matches nothing is absorbed
                return
            # RFC 3261 12.2.2: "the UAS SHOULD reject the request with a 481"
            raise NoSuchDialog(
                f"{method} matches no dialog (Call-ID {request.call_id!r}, "
                f"To tag {request.to.tag!r}, From tag {request.from_.tag!r})"
            )
        state = dialog.dialog_state
        number = request.cseq.number
        if method == "ACK":
            if dialog.awaiting_ack == number:
                dialog.awaiting_ack = None
                self._timers.cancelled()
            return
        if method == "CANCEL":  # RFC 3261 9.2: answered by the transaction layer
            return
        # RFC 3261 12.2.2: "If the remote sequence number is not empty, but the sequence
        # number of the request is lower than the remote sequence number, the request is
        # out of order and MUST be rejected with a 500 (Server Internal Error) response."
        if state.remote_seq is not None and number < state.remote_seq:
            raise OutOfOrderError(
                f"CSeq {number} of {method} is below the remote sequence number "
                f"{state.remote_seq} of dialog {dialog.id}"
            )
        if method in TARGET_REFRESH:
            self._check_glare(dialog, number, method)
            dialog.remote_pending = (number, method)
        state.remote_seq = number
        if method == "BYE":
            self._end(dialog, "bye", request, events, "BYE received")
        elif method in TARGET_REFRESH and request.contact:
            # RFC 3261 12.2.2 replaced the remote target on receipt; RFC 6141 4 updates
            # that: only a target refresh that succeeds (we answer it 2xx) replaces it
            dialog.pending_refresh = (number, request.contact[0].uri)

    # -- responses we send (we are the UAS of the transaction) ---------------------------
    def _send_response(self, response: Response, now: float, events: list[Event]) -> None:
        code = response.status_code
        dialog_set = self._creating_set(response, caller=False)
        if dialog_set is not None:
            self._uas_creating_response(dialog_set, response, now, events)
            return
        dialog = self._dialogs.get(dialog_id(response, sent=True))
        if dialog is None:
            return
        number = response.cseq.number
        method = response.cseq.method
        if code >= 200 and dialog.remote_pending == (number, method):
            dialog.remote_pending = None
        pending = dialog.pending_refresh
        if pending is not None and pending[0] == number and code >= 200:
            dialog.pending_refresh = None
            if code < 300:
                self._refresh_target(dialog, pending[1], response, events)
        # a 2xx to a re-INVITE is ACKed like the first (RFC 3261 14.2, 13.3.1.4); a
        # retransmission of the first 2xx finds the dialog already waiting, or ACKed. The
        # peer's CSeq numbers are its own: compare with the first INVITE's only as its UAS.
        first = not dialog.caller and number == dialog.invite_cseq
        if method == "INVITE" and 200 <= code < 300 and not first and dialog.awaiting_ack != number:
            self._await_ack(dialog, number, now)

    def _uas_creating_response(
        self, dialog_set: DialogSet, response: Response, now: float, events: list[Event]
    ) -> None:
        code = response.status_code
        if code == 100:
            return
        if code >= 300:  # RFC 3261 12.3: a non-2xx final ends the early dialogs
            self._close_set(dialog_set, "failure", response, events, f"{code} sent")
            self._forget_set(dialog_set)
            return
        tag = response.to.tag
        if code == 199:  # RFC 6228: we tell the UAC this early dialog has ended
            self._end_early(dialog_set, tag, response, events)
            return
        if tag is None:  # RFC 3261 8.2.6.2, 12.1.1
            raise LocalProtocolError(
                f"a {code} response to {dialog_set.request.method} must carry a To tag "
                "(RFC 3261 8.2.6.2, 12.1.1)"
            )
        if tag in dialog_set.ended:  # a response on a dialog that ended: it stays ended
            return
        dialog = dialog_set.dialogs.get(tag)
        if dialog is None:
            state = uas_state(dialog_set.request, response, tls=dialog_set.tls)
            dialog = self._new_dialog(dialog_set, tag, state, caller=False)
            if dialog is None:  # the id is taken by a live dialog: a retransmitted request
                return
        if code < 200:
            if dialog.state is _NONE:
                move(dialog, "provisional", events, response)
            return
        if dialog.state is _CONFIRMED:  # a retransmission of our 2xx
            return
        move(dialog, "success", events, response)
        self._await_ack(dialog, response.cseq.number, now)
        self._confirm_set(dialog_set, now)
        # a UAS does not fork: its final response closes the set (other tags end now)
        self._close_set(dialog_set, "failure", response, events, "another tag answered")
        self._forget_set(dialog_set)

    # -- responses we receive (we are the UAC of the transaction) ------------------------
    def _receive_response(self, response: Response, now: float, events: list[Event]) -> None:
        dialog_set = self._creating_set(response, caller=True)
        if dialog_set is not None:
            self._uac_creating_response(dialog_set, response, now, events)
            return
        dialog = self._dialogs.get(dialog_id(response, sent=False))
        if dialog is None:
            return
        code, method = response.status_code, response.cseq.method
        request = dialog.local_pending
        if code >= 200 and request == (response.cseq.number, method):
            dialog.local_pending = None
            if code == 491:  # RFC 3261 14.1: retry after a random wait
                self._schedule_retry(dialog, response, now)
        if 200 <= code < 300:
            if method == "INVITE":  # RFC 3261 13.2.2.4: ACK every 2xx, retransmissions too
                events.append(SendAck(dialog, response))
            if method in TARGET_REFRESH and response.contact:  # RFC 3261 12.2.1.2
                self._refresh_target(dialog, response.contact[0].uri, response, events)
        elif code >= 300:
            # RFC 3261 12.2.1.2 (481, 408), refined by RFC 5057 5.1: the table says whether
            # the failure ends the transaction, the usage or the dialog. The INVITE usage is
            # the only usage here, so ending it ends the dialog.
            effect = response_effect(code, method, self.response_effects)
            if effect is not Effect.TRANSACTION:
                why = f"{code} to {method} received (RFC 5057: ends the {effect.value})"
                self._end(dialog, "error", response, events, why)

    def _uac_creating_response(
        self, dialog_set: DialogSet, response: Response, now: float, events: list[Event]
    ) -> None:
        code = response.status_code
        if code == 100:  # RFC 3261 12.1: 100 (Trying) never creates a dialog
            return
        if code >= 300:  # RFC 3261 12.3, 13.2.2.3: a non-2xx final ends every early dialog
            self._close_set(dialog_set, "failure", response, events, f"{code} received")
            if dialog_set.confirmed_at is None:
                self._forget_set(dialog_set)
            return
        tag = response.to.tag
        if code == 199:  # RFC 6228: this early dialog (and only this one) has ended
            self._end_early(dialog_set, tag, response, events)
            return
        if code < 200 and tag is None:  # RFC 3261 12.1: only a 1xx with a To tag
            return
        tag = tag or ""  # RFC 3261 12.1.2: RFC 2543 peers send a 2xx without a tag
        ended = dialog_set.ended.get(tag)
        if ended is not None:
            # the dialog of this tag ended (a BYE crossed its 2xx, or a retransmitted 2xx
            # after BYE): it is never created again, but every 2xx is ACKed (13.2.2.4)
            if code >= 200:
                events.append(SendAck(ended, response))
            return
        dialog = dialog_set.dialogs.get(tag)
        if dialog is None:
            state = uac_state(dialog_set.request, response, tls=dialog_set.tls)
            dialog = self._new_dialog(dialog_set, tag, state, caller=True)
            if dialog is None:
                return
        if code < 200:
            if dialog.state is _NONE:
                move(dialog, "provisional", events, response)
            return
        self._uac_2xx(dialog_set, dialog, response, now, events)

    def _uac_2xx(
        self,
        dialog_set: DialogSet,
        dialog: Dialog,
        response: Response,
        now: float,
        events: list[Event],
    ) -> None:
        newly_confirmed = dialog.state is not _CONFIRMED
        if newly_confirmed:
            if dialog.state is _EARLY:
                # RFC 3261 13.2.2.4: the 2xx's Record-Route and Contact, not the 1xx's,
                # give the route set and remote target; the route set is frozen after this
                state = dialog.dialog_state
                state.route_set = uac_route_set(response)
                if response.contact:
                    state.remote_target = response.contact[0].uri.compact()
            move(dialog, "success", events, response)
        events.append(SendAck(dialog, response))
        if dialog_set.confirmed_at is None:
            self._confirm_set(dialog_set, now)
            self._timers.push(now + 64 * self.t1, _Timer("fork", dialog_set, 0))
        elif newly_confirmed and self.extra_2xx is Extra2xx.ACK_AND_BYE:
            # a new dialog from a second fork's 2xx (RFC 3261 13.2.2.4)
            events.append(SendBye(dialog, response, "extra 2xx from another fork"))

    # -- dialog sets, dialogs, timers ----------------------------------------------------
    def _creating_set(self, response: Response, *, caller: bool) -> DialogSet | None:
        """The open dialog set ``response`` answers the dialog-creating request of."""
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
        self._unconfirmed += 1
        self._timers.push(now + self.early_timeout, _Timer("early", dialog_set, 0))

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
            for dialog in dialog_set.dialogs.values():
                dialog.dialog_set = None

    def _new_dialog(
        self, dialog_set: DialogSet, tag: str, state: DialogState, *, caller: bool
    ) -> Dialog | None:
        if state.id in self._dialogs:
            return None
        dialog = Dialog(_NONE, state, caller, dialog_set.request.cseq.number, dialog_set)
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
        move(dialog, trigger, events, message, reason)
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
        self._timers.push(now + 64 * self.t1, _Timer("ack", dialog, number))

    def _refresh_target(
        self, dialog: Dialog, target: URI, message: Message, events: list[Event]
    ) -> None:
        state = dialog.dialog_state
        old = state.remote_target
        if old is None or str(old) != str(target):
            state.remote_target = target = target.compact()
            events.append(TargetRefreshed(dialog, message, old, target))

    def _timer_live(self, timer: _Timer) -> bool:
        target = timer.target
        if timer.response is not None:
            return isinstance(target, Dialog) and self._dialogs.get(target.id) is target
        if isinstance(target, Dialog):
            return target.awaiting_ack == timer.cseq and self._dialogs.get(target.id) is target
        if self._sets.get(target.key) is not target:
            return False
        return timer.kind == "fork" or target.confirmed_at is None
