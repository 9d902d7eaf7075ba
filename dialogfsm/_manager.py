"""``DialogManager``: every dialog of one user agent, sans-IO.

Messages go in through ``send`` (what we are about to send) and ``receive`` (what arrived),
each with ``now``; what happened, and what the application must do next, comes back as a
list of events. Nothing here reads a clock or touches a socket: timers are pulled with
``get_timer()`` and fired with ``handle_timer(now)``, so replaying a capture is exact.

Every entry point checks everything before it changes anything: a message that raises
leaves every dialog and every index as it was.
"""

from __future__ import annotations

from ._dialog import (
    SESSION_MODIFYING,
    TARGET_REFRESH,
    Dialog,
    uac_route_set,
    uac_state,
    uas_state,
)
from ._dialogset import DialogSet
from ._errors import (
    LocalProtocolError,
    NoSuchDialog,
    OutOfOrderError,
)
from ._events import (
    Event,
    RetryRequest,
    SendAck,
    SendBye,
    SendPrack,
)
from ._machine import move
from ._matching import (
    check_bye_allowed,
    check_may_send,
    dialog_id,
    set_key,
    tls_of,
)
from ._message import Message, Request, Response
from ._prack import check_send, is_reliable, next_rseq
from ._state import DialogId, shared_route_set
from ._store import _CONFIRMED, _EARLY, _NONE, DIALOG_CREATING, Extra2xx, _Timer
from ._subscriptions import (
    INVITE_USAGE,
    SUBSCRIBING,
    Usage,
    answering,
    event_of,
    expires_of,
    is_final_notify,
    refer_sub_false,
)
from ._usage_rules import UsageRules, _prack_received, _sent_reliable, _sub_timeout
from ._usages import SUBSCRIPTION_METHODS, Effect, response_effect

__all__ = ["DIALOG_CREATING", "DialogManager", "Extra2xx"]


class DialogManager(UsageRules):
    """Every dialog of one user agent: send and receive messages, read events.

    ``t1`` is RFC 3261's T1 (0.5 s). ``early_timeout`` bounds how long a dialog-creating
    request may wait for a final response before its early dialogs are dropped (Timer C's
    three minutes by default). ``max_unconfirmed`` caps the requests that have not produced
    a confirmed dialog: beyond it the oldest is evicted, with events. ``extra_2xx`` says
    what to do with a second fork's 2xx; ``response_effects`` (RFC 5057 5.1) what a failed
    mid-dialog request ends.
    """

    def next_rseq(self, request: Request, to_tag: str) -> int:
        """The RSeq for our next reliable 1xx to INVITE ``request`` with our ``to_tag``:
        a random start for the first of the transaction, then one more each time
        (RFC 3262 3)."""
        key = DialogId(request.call_id, to_tag, request.from_.tag or "")
        dialog = self._dialogs.get(key)
        record = dialog.reliable if dialog is not None else None
        return next_rseq(record, request.cseq.number, self.random)

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

    def handle_timer(self, now: float) -> list[Event]:
        """Fire every timer due at ``now``; return what happened."""
        events: list[Event] = []
        for timer in self._timers.pop_due(now):
            if not self._timer_live(timer):  # an earlier timer of this batch ended it
                continue
            target = timer.target
            if timer.subscription is not None:  # RFC 6665 4.1.2.4 Timer N, or expiry
                assert isinstance(target, Dialog)
                why = _sub_timeout(timer.subscription, now)
                self._end_usage(target, timer.subscription, None, events, trigger="unused",
                                reason=why)  # fmt: skip
            elif timer.response is not None:  # RFC 3261 14.1: the 491 wait has passed
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

        RFC 3261 12.2.1.2, RFC 5057 5.2: a mid-dialog request that times out ends its usage
        (the dialog, when that was its last); a dialog-creating one ends its early dialogs.
        CANCEL and ACK timeouts change nothing.
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
        if dialog is None:
            return events
        if dialog.local_pending == (request.cseq.number, request.method):
            dialog.local_pending = None  # it is no longer in progress (RFC 3261 14.1)
        # RFC 5057 5.2: a timeout ends the usage the request belongs to, like a 408
        usage: Usage | None = INVITE_USAGE
        if request.method in SUBSCRIPTION_METHODS:
            usage = answering(dialog.subscriptions, request.cseq.number, ours=True)
        effect = response_effect(408, request.method, self.response_effects)
        why = "transaction timed out (408; RFC 5057 5.2)"
        if effect is Effect.DIALOG:
            self._end(dialog, "error", None, events, why)
        elif effect is Effect.USAGE and usage is not None:
            self._end_usage(dialog, usage, None, events, trigger="error", reason=why)
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
            if method == "NOTIFY" and request.to.tag is not None and is_final_notify(request):
                return  # RFC 6665 4.2.2: the final NOTIFY after the subscription expired
            if request.to.tag is not None and method not in ("ACK", "CANCEL"):
                raise LocalProtocolError(
                    f"{method} with To tag {request.to.tag!r} belongs to no dialog "
                    f"(Call-ID {request.call_id!r})"
                )
            if method in DIALOG_CREATING and request.to.tag is None:
                if method in SUBSCRIBING:
                    event_of(request, sent=True)  # RFC 6665 8.2.1, RFC 3515 2.4.1
                    expires_of(request, sent=True)
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
            self._end_invite_usage(dialog, "bye", request, events, "BYE sent")
            return
        if method in SUBSCRIPTION_METHODS:
            self._subscription_request(dialog, request, now, True, events)
            return
        if method in SESSION_MODIFYING:
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
            self._receive_unmatched(request, now, tls, events)
            return
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
        if method in SUBSCRIPTION_METHODS:
            self._subscription_request(dialog, request, now, False, events)
        elif method == "PRACK":
            _prack_received(dialog, request)
            return
        if method in SESSION_MODIFYING:
            self._check_glare(dialog, number, method)
            dialog.remote_pending = (number, method)
        state.remote_seq = number
        if method == "BYE":
            self._end_invite_usage(dialog, "bye", request, events, "BYE received")
        elif (
            method in TARGET_REFRESH and request.contact and self._dialogs.get(dialog.id) is dialog
        ):
            # RFC 3261 12.2.2 replaced the remote target on receipt; RFC 6141 4 updates
            # that: only a target refresh that succeeds (we answer it 2xx) replaces it
            dialog.pending_refresh = (number, request.contact[0].uri)

    def _receive_unmatched(
        self, request: Request, now: float, tls: bool, events: list[Event]
    ) -> None:
        """A request of no live dialog: a dialog-creating one, or a NOTIFY that overtook
        the 2xx to our SUBSCRIBE; anything else with a To tag gets 481, and so does a BYE
        without one (RFC 3261 15.1.2: a BYE that matches no dialog)."""
        method = request.method
        if request.to.tag is None and method != "BYE":
            if method in DIALOG_CREATING:
                if method in SUBSCRIBING:
                    event_of(request, sent=False)  # 400 without Event or Refer-To
                    expires_of(request, sent=False)  # 400 for a malformed Expires
                self._open_set(request, False, tls, now, events)
            return
        if method == "ACK":  # RFC 3261 12.2.2: an ACK that matches nothing is absorbed
            return
        if method == "NOTIFY":  # RFC 6665 4.1.2.4: a NOTIFY may come before the 2xx
            creating = self._notify_sets.get((request.call_id, request.to.tag or ""))
            if creating is not None:
                self._notify_creates(creating, request, tls, now, events)
                return
        # RFC 3261 12.2.2: "the UAS SHOULD reject the request with a 481"
        raise NoSuchDialog(
            f"{method} matches no dialog (Call-ID {request.call_id!r}, "
            f"To tag {request.to.tag!r}, From tag {request.from_.tag!r})"
        )

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
        if code < 200:
            if method == "INVITE" and is_reliable(response):  # a re-INVITE's reliable 1xx
                check_send(dialog.reliable, response)
                _sent_reliable(dialog, response)
            return
        if dialog.remote_pending == (number, method):
            dialog.remote_pending = None
        pending = dialog.pending_refresh
        if pending is not None and pending[0] == number:
            dialog.pending_refresh = None
            if code < 300:
                self._refresh_target(dialog, pending[1], response, events)
        if method in SUBSCRIPTION_METHODS:
            subscription = self._subscription_answered(dialog, response, now, False, events)
            if code >= 300:
                # RFC 5057 5.1 applies to the usage we answer for, too: an error we send
                # to a NOTIFY ends that subscription here as it will at the notifier
                self._fail(dialog, subscription, response, events, "sent")
            return
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
        request = dialog_set.request
        invite = request.method == "INVITE"
        if code < 200 and not invite:  # RFC 3261 12.1: only an INVITE's 1xx make a dialog
            return
        tag = response.to.tag
        if code == 199:  # RFC 6228: we tell the UAC this early dialog has ended
            self._end_early(dialog_set, tag, response, events)
            return
        if tag is None:  # RFC 3261 8.2.6.2, 12.1.1
            raise LocalProtocolError(
                f"a {code} response to {request.method} must carry a To tag "
                "(RFC 3261 8.2.6.2, 12.1.1)"
            )
        if tag in dialog_set.ended:  # a response on a dialog that ended: it stays ended
            return
        self._uas_answer(dialog_set, tag, response, now, events)

    def _uas_answer(
        self, dialog_set: DialogSet, tag: str, response: Response, now: float,
        events: list[Event],
    ) -> None:  # fmt: skip
        """Our 101-299 to a dialog-creating request: create, move and record its dialog."""
        code, request = response.status_code, dialog_set.request
        dialog = dialog_set.dialogs.get(tag)
        reliable = code < 200 and is_reliable(response)
        if reliable:
            check_send(dialog.reliable if dialog is not None else None, response)
        if request.method == "REFER" and refer_sub_false(response):
            self._forget_set(dialog_set)  # RFC 4488 4: no subscription, so no dialog
            return
        if dialog is None:
            state = uas_state(request, response, tls=dialog_set.tls)
            dialog = self._new_dialog(dialog_set, tag, state, caller=False)
            if dialog is None:  # the id is taken by a live dialog: a retransmitted request
                return
        if code < 200:
            if reliable:
                _sent_reliable(dialog, response)
            if dialog.state is _NONE:
                move(dialog, "provisional", events, response)
            return
        if dialog.state is _CONFIRMED:  # a retransmission of our 2xx
            return
        move(dialog, "success", events, response)
        if request.method == "INVITE":
            dialog.remote_pending = None  # RFC 3261 14.2: the INVITE is answered
            self._await_ack(dialog, response.cseq.number, now)
        elif dialog.subscriptions:  # RFC 6665 4.2.1: the notifier's subscription begins
            self._accept(dialog, dialog.subscriptions[0], response, now, events)
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
        number = response.cseq.number
        if code < 200:
            reliable = method == "INVITE" and is_reliable(response)
            if reliable and self._reliable_arrived(dialog, response, events):
                events.append(SendPrack(dialog, response))  # a re-INVITE's reliable 1xx
            return
        if dialog.local_pending == (number, method):
            dialog.local_pending = None
            if code == 491:  # RFC 3261 14.1: retry after a random wait
                self._schedule_retry(dialog, response, now)
        failed: Usage | None = INVITE_USAGE
        if method in SUBSCRIPTION_METHODS:
            failed = self._subscription_answered(dialog, response, now, True, events)
        if code < 300:
            if method == "INVITE":  # RFC 3261 13.2.2.4: ACK every 2xx, retransmissions too
                events.append(SendAck(dialog, response))
            if method in TARGET_REFRESH and response.contact:  # RFC 3261 12.2.1.2
                self._refresh_target(dialog, response.contact[0].uri, response, events)
        else:
            self._fail(dialog, failed, response, events, "received")

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
        request = dialog_set.request
        invite = request.method == "INVITE"
        tag = response.to.tag
        if code < 200 and (tag is None or not invite):
            return  # RFC 3261 12.1: only an INVITE's 101-199 with a To tag make a dialog
        if code == 199:  # RFC 6228: this early dialog (and only this one) has ended
            self._end_early(dialog_set, tag, response, events)
            return
        self._uac_answer(dialog_set, tag or "", response, now, events)

    def _uac_answer(
        self, dialog_set: DialogSet, tag: str, response: Response, now: float,
        events: list[Event],
    ) -> None:  # fmt: skip
        """A 101-299 to our dialog-creating request (``tag`` is ``""`` for an RFC 2543 peer
        that sends a 2xx without one, RFC 3261 12.1.2): create or move its dialog."""
        code, request = response.status_code, dialog_set.request
        invite = request.method == "INVITE"
        if tag in dialog_set.ended:
            # the dialog of this tag ended (a BYE crossed its 2xx, or a retransmitted 2xx
            # after BYE): it is never created again, but every 2xx is ACKed (13.2.2.4)
            ended = dialog_set.ended[tag]
            if code >= 200 and invite and ended is not None:
                events.append(SendAck(ended, response))
            return
        dialog = dialog_set.dialogs.get(tag)
        if dialog is None:
            if request.method == "REFER" and refer_sub_false(response):
                self._forget_set(dialog_set)  # RFC 4488 4: no subscription, so no dialog
                return
            if code < 200 and len(dialog_set.dialogs) >= self.max_forks:
                return  # a flood of forks: later 1xx make no early dialog (2xx still do)
            state = uac_state(request, response, tls=dialog_set.tls)
            dialog = self._new_dialog(dialog_set, tag, state, caller=True)
            if dialog is None:
                return
        if code < 200:
            self._uac_provisional(dialog, response, events)
        elif not invite:
            self._subscription_2xx(dialog_set, dialog, response, now, events)
        else:
            self._uac_2xx(dialog_set, dialog, response, now, events)

    def _uac_provisional(self, dialog: Dialog, response: Response, events: list[Event]) -> None:
        """RFC 3261 12.1.2: a 101-199 with a To tag makes its dialog early; RFC 3262 4: a
        reliable one is applied and PRACKed only when new and in order."""
        reliable = is_reliable(response)
        if reliable and not self._reliable_arrived(dialog, response, events):
            return  # a retransmission, or out of order: reported, not applied
        if dialog.state is _NONE:
            move(dialog, "provisional", events, response)
        if reliable:
            events.append(SendPrack(dialog, response))

    def _uac_2xx(
        self,
        dialog_set: DialogSet,
        dialog: Dialog,
        response: Response,
        now: float,
        events: list[Event],
    ) -> None:
        if dialog.local_pending == (response.cseq.number, "INVITE"):
            dialog.local_pending = None  # RFC 3261 14.1: the INVITE has its final response
        newly_confirmed = dialog.state is not _CONFIRMED
        if newly_confirmed:
            if dialog.state is _EARLY:
                # RFC 3261 13.2.2.4: the 2xx's Record-Route and Contact, not the 1xx's,
                # give the route set and remote target; the route set is frozen after this
                state = dialog.dialog_state
                state.route_set = shared_route_set(uac_route_set(response))
                if response.contact:
                    state.remote_target = response.contact[0].uri
            move(dialog, "success", events, response)
        events.append(SendAck(dialog, response))
        if dialog_set.confirmed_at is None:
            self._confirm_set(dialog_set, now)
            self._timers.push(now + 64 * self.t1, _Timer("fork", dialog_set, 0))
        elif newly_confirmed and self.extra_2xx is Extra2xx.ACK_AND_BYE:
            # a new dialog from a second fork's 2xx (RFC 3261 13.2.2.4)
            events.append(SendBye(dialog, response, "extra 2xx from another fork"))
