"""Usages of a dialog (RFC 5057), subscriptions (RFC 6665, RFC 3515) and reliable 1xx
(RFC 3262): the rules the manager's flows call once a message has found its dialog.

Each method checks before it changes anything, or is called only once the checks passed.
"""

from __future__ import annotations

from ._dialog import (
    Dialog,
)
from ._dialogset import DialogSet
from ._errors import (
    LocalProtocolError,
    NoSuchDialog,
    NoSuchSubscription,
)
from ._events import (
    Event,
    ProvisionalDiscarded,
    UsageCreated,
    UsageEnded,
)
from ._machine import move
from ._message import Message, Request, Response
from ._prack import Arrival, Reliable, classify, match_prack
from ._state import DialogState
from ._store import _CONFIRMED, DialogStore, _Timer
from ._subscriptions import (
    DEFAULT_EXPIRES,
    INVITE_USAGE,
    MAX_EXPIRES,
    SUBSCRIBING,
    Subscription,
    Usage,
    answering,
    event_of,
    expires_of,
    find,
    new_subscription,
    notify_state,
    refer_sub_false,
)
from ._usages import Effect, response_effect


class UsageRules(DialogStore):
    """Usage, subscription and PRACK rules of a :class:`DialogManager`."""

    # -- usages (RFC 5057), subscriptions (RFC 6665, RFC 3515), reliable 1xx (RFC 3262) --
    def _subscription_2xx(
        self,
        dialog_set: DialogSet,
        dialog: Dialog,
        response: Response,
        now: float,
        events: list[Event],
    ) -> None:
        """A 2xx to our SUBSCRIBE or REFER: no ACK, and every fork may keep its dialog
        (RFC 6665 4.1.2.4, 5.4.9)."""
        if dialog.state is not _CONFIRMED:
            move(dialog, "success", events, response)
        self._subscription_answered(dialog, response, now, True, events)  # by its CSeq
        if dialog_set.confirmed_at is None:
            self._confirm_set(dialog_set, now)
            self._timers.push(now + 64 * self.t1, _Timer("fork", dialog_set, 0))

    def _notify_creates(
        self, dialog_set: DialogSet, request: Request, tls: bool, now: float, events: list[Event]
    ) -> None:
        """RFC 6665 4.1.2.4: a NOTIFY for our SUBSCRIBE (or REFER) that arrives before any
        2xx, or from another fork, creates its dialog; its route set and remote target come
        from the NOTIFY (4.4.1)."""
        subscribe = dialog_set.request
        event = event_of(request, sent=False)
        wanted = new_subscription(subscribe, event_of(subscribe, sent=True), True, first=True)
        if not wanted.matches(event):
            raise NoSuchSubscription(
                f"NOTIFY for {event} does not match the {subscribe.method} for "
                f"{wanted.event} (Call-ID {request.call_id!r}; RFC 6665 8.2.1: answer 481)"
            )
        sub_state, _ = notify_state(request, sent=False)
        tag = request.from_.tag or ""
        if tag in dialog_set.ended:
            if sub_state == "terminated":
                return  # a retransmission of the NOTIFY that ended it
            raise NoSuchDialog(f"NOTIFY on dialog {tag!r} of Call-ID {request.call_id!r} "
                               "that has ended")  # fmt: skip
        if sub_state == "terminated":
            # RFC 6665 4.4.1: a NOTIFY that ends the subscription creates no usage; a late
            # 2xx from that notifier must not bring one back
            dialog_set.ended[tag] = None
            return
        if len(dialog_set.dialogs) >= self.max_forks:  # RFC 6665 5.4.9: 481 to the rest
            raise NoSuchSubscription(
                f"NOTIFY from a notifier beyond the {self.max_forks} this SUBSCRIBE may have "
                f"(Call-ID {request.call_id!r}; RFC 6665 5.4.9: answer 481)"
            )
        state = DialogState.create(
            call_id=request.call_id, local_tag=subscribe.from_.tag or "", remote_tag=tag,
            local_seq=subscribe.cseq.number, remote_seq=request.cseq.number,
            local_uri=subscribe.from_.uri, remote_uri=subscribe.to.uri,
            remote_target=request.contact[0].uri if request.contact else None,
            route_set=request.record_route,  # in order, as for a request received (12.1.1)
            secure=dialog_set.tls and subscribe.uri.scheme == "sips",
        )  # fmt: skip
        dialog = self._new_dialog(dialog_set, tag, state, caller=True)
        assert dialog is not None  # its id matched no dialog
        assert dialog.subscriptions
        move(dialog, "success", events, request)
        subscription = dialog.subscriptions[0]
        subscription.remote_cseq = request.cseq.number
        self._apply_notify(dialog, subscription, request, now, events)
        if dialog_set.confirmed_at is None:
            self._confirm_set(dialog_set, now)
            self._timers.push(now + 64 * self.t1, _Timer("fork", dialog_set, 0))

    def _subscription_request(
        self, dialog: Dialog, request: Request, now: float, sent: bool, events: list[Event]
    ) -> None:
        """SUBSCRIBE, REFER or NOTIFY inside a dialog, sent or received: find or start
        its subscription (checks first), then take its CSeq and apply it."""
        method, number = request.method, request.cseq.number
        if method == "NOTIFY":
            self._notify_request(dialog, request, now, sent, events)
            return
        event = event_of(request, sent=sent)
        subscriptions = dialog.subscriptions
        state = dialog.dialog_state
        # a SUBSCRIBE refresh names its subscription; a REFER's retransmission its own
        # (refer;id=<CSeq>, RFC 3515 2.4.6); anything else asks for a new usage
        subscription = find(subscriptions, event, subscriber=sent)
        requested = expires_of(request, sent=sent)  # a malformed Expires raises first
        if subscription is None:
            bit = 1 if sent else 2  # RFC 3515 2.4.6: the first REFER each way may go id-less
            subscription = new_subscription(
                request, event, sent, first=not dialog.refers & bit if method == "REFER" else False
            )
            if method == "REFER":
                dialog.refers |= bit
            if subscriptions is None:
                dialog.subscriptions = subscriptions = []
            subscriptions.append(subscription)
        old = subscription.deadline()
        if sent:
            state.local_seq = subscription.local_cseq = number
            subscription.requested = requested
            # RFC 6665 4.1.2.2, 4.1.2.4: Timer N runs from each SUBSCRIBE until a NOTIFY
            subscription.notify_by = now + 64 * self.t1
        else:
            state.remote_seq = subscription.remote_cseq = number
            if not subscription.accepted:  # an unanswered request holds its usage 64*T1
                subscription.notify_by = now + 64 * self.t1
        self._reschedule(dialog, subscription, old)

    def _notify_request(
        self, dialog: Dialog, request: Request, now: float, sent: bool, events: list[Event]
    ) -> None:
        """A NOTIFY in the dialog: it comes from the notifier, so we are the subscriber
        when we receive it (RFC 6665 4.1.3, 4.2.2)."""
        number = request.cseq.number
        event = event_of(request, sent=sent)
        state = dialog.dialog_state
        subscription = find(dialog.subscriptions, event, subscriber=not sent)
        sub_state, _ = notify_state(request, sent=sent)
        if subscription is None:
            # a final NOTIFY for a subscription that already ended (it expired, or
            # this is a retransmission) is absorbed either way (RFC 6665 4.2.2)
            if sub_state != "terminated":
                if sent:
                    raise LocalProtocolError(
                        f"NOTIFY for {event} matches no subscription of dialog {dialog.id}"
                    )
                raise NoSuchSubscription(
                    f"NOTIFY for {event} matches no subscription of dialog {dialog.id} "
                    "(RFC 6665 4.1.3: answer 481)"
                )
            if sent:
                state.local_seq = number
            else:
                state.remote_seq = number
            return
        if sent:
            state.local_seq = subscription.local_cseq = number
        else:
            state.remote_seq = subscription.remote_cseq = number
        self._apply_notify(dialog, subscription, request, now, events)

    def _apply_notify(
        self,
        dialog: Dialog,
        subscription: Subscription,
        request: Request,
        now: float,
        events: list[Event],
    ) -> None:
        """RFC 6665 4.1.3: ``terminated`` ends the subscription; ``pending`` and ``active``
        keep it, their ``expires`` being the authoritative duration. (The NOTIFY was
        checked by the caller.)"""
        sub_state, expires = notify_state(request, sent=False)
        if sub_state == "terminated":
            header = request.subscription_state
            reason = header.reason if header is not None else None
            why = "NOTIFY with Subscription-State: terminated" + (
                f";reason={reason}" if reason else ""
            )
            self._end_usage(dialog, subscription, request, events, trigger="unused", reason=why)
            return
        started = subscription.accepted or subscription.state is not None
        old = subscription.deadline()
        subscription.state = sub_state
        if subscription.subscriber:
            subscription.notify_by = None  # Timer N: the NOTIFY came
        self._set_expiry(subscription, expires, now)
        self._reschedule(dialog, subscription, old)
        if not started:
            events.append(UsageCreated(dialog, subscription, request))

    def _accept(
        self, dialog: Dialog, subscription: Subscription, response: Response, now: float,
        events: list[Event],
    ) -> None:  # fmt: skip
        """A 2xx to a SUBSCRIBE or REFER, sent or received: the subscription begins (or is
        refreshed) for the Expires of the 2xx (RFC 6665 4.2.1.1; 0 means until the final
        NOTIFY, bounded by 64*T1)."""
        if subscription.refer and refer_sub_false(response):  # RFC 4488 4
            why = "Refer-Sub: false: no implicit subscription (RFC 4488)"
            self._end_usage(dialog, subscription, response, events, trigger="unused", reason=why)
            return
        started = subscription.accepted or subscription.state is not None
        old = subscription.deadline()
        subscription.accepted = True
        expires = None if subscription.refer else expires_of(response, sent=False)
        if subscription.subscriber and subscription.notify_by is None and started:
            # a NOTIFY answered this request already: its expires is the newer word
            # (RFC 6665 4.1.3); a late 2xx does not override it
            expires = None
        if not subscription.subscriber:
            subscription.notify_by = None  # answered: no longer a pending request
        self._set_expiry(subscription, expires, now)
        self._reschedule(dialog, subscription, old)
        if not started:
            events.append(UsageCreated(dialog, subscription, response))

    def _set_expiry(self, subscription: Subscription, expires: int | None, now: float) -> None:
        """RFC 6665 4.2.1.1, 4.1.3: the granted duration may shorten what was asked, never
        lengthen it; 0 means until the final NOTIFY, which gets 64*T1 to come."""
        if expires is None:
            if subscription.expires_at is None:
                subscription.expires_at = now + DEFAULT_EXPIRES
            return
        limit = MAX_EXPIRES
        if subscription.requested:
            limit = min(limit, subscription.requested)
        subscription.expires_at = now + (min(expires, limit) or 64 * self.t1)

    def _fail(
        self, dialog: Dialog, usage: Usage | None, response: Response, events: list[Event],
        way: str,
    ) -> None:  # fmt: skip
        """RFC 3261 12.2.1.2 (481, 408) as refined by RFC 5057 5.1: the table says whether a
        failed mid-dialog request ends its transaction, its usage or the dialog."""
        code, method = response.status_code, response.cseq.method
        effect = response_effect(code, method, self.response_effects)
        if isinstance(usage, Subscription) and effect is Effect.TRANSACTION:
            if method in SUBSCRIBING and not (usage.accepted or usage.state is not None):
                effect = Effect.USAGE  # a refused SUBSCRIBE or REFER: its usage never began
            elif (
                method == "NOTIFY"
                and way == "received"
                and code not in (401, 407)
                and code >= 400
                and "Retry-After" not in response.headers
            ):
                # RFC 6665 4.2.2: a NOTIFY that fails with no Retry-After and nothing else
                # to try removes the subscription at the notifier
                effect = Effect.USAGE
        if way == "sent" and effect is Effect.DIALOG:
            effect = Effect.USAGE  # our own error answers for its usage, not for the dialog
        if effect is Effect.TRANSACTION or (effect is Effect.USAGE and usage is None):
            return
        why = f"{code} to {method} {way} (RFC 5057: ends the {effect.value})"
        if effect is Effect.DIALOG or usage is None:
            self._end(dialog, "error", response, events, why)
        else:
            self._end_usage(dialog, usage, response, events, trigger="error", reason=why)

    def _end_usage(
        self, dialog: Dialog, usage: Usage, message: Message | None, events: list[Event],
        *, trigger: str, reason: str,
    ) -> None:  # fmt: skip
        """RFC 5057 4: end one usage; the dialog ends with its last one."""
        if not isinstance(usage, Subscription):
            self._end_invite_usage(dialog, trigger, message, events, reason)
            return
        subscriptions = dialog.subscriptions
        if subscriptions is None or usage not in subscriptions:
            return
        if not dialog.invite_usage and len(subscriptions) == 1:
            self._end(dialog, trigger, message, events, reason)  # reports the usage too
            return
        subscriptions.remove(usage)
        if not subscriptions:
            dialog.subscriptions = None
        if usage.deadline() is not None:
            self._timers.cancelled()
        events.append(UsageEnded(dialog, usage, message, reason))

    def _end_invite_usage(
        self, dialog: Dialog, trigger: str, message: Message | None, events: list[Event],
        reason: str,
    ) -> None:  # fmt: skip
        """BYE or an INVITE-usage failure: the call ends; the dialog lives on while it
        carries subscriptions (RFC 5057 4; RFC 3261 15: BYE ends "the session")."""
        if not dialog.invite_usage:
            return  # no call left to end (a retransmitted BYE): the subscriptions stay
        if not dialog.subscriptions:
            self._end(dialog, trigger, message, events, reason)
            return
        dialog.invite_usage = False
        if dialog.awaiting_ack is not None:
            dialog.awaiting_ack = None
            self._timers.cancelled()
        events.append(UsageEnded(dialog, INVITE_USAGE, message, reason))

    def _subscription_answered(
        self, dialog: Dialog, response: Response, now: float, ours: bool, events: list[Event]
    ) -> Subscription | None:
        """A final response to a SUBSCRIBE, REFER or NOTIFY of the dialog (``ours``: one we
        sent): the subscription it answers, which a 2xx to SUBSCRIBE or REFER accepts."""
        number, method = response.cseq.number, response.cseq.method
        subscription = answering(dialog.subscriptions, number, ours=ours)
        if subscription is None:
            return None
        if ours:
            subscription.local_cseq = None
        else:
            subscription.remote_cseq = None
        started = subscription.accepted or subscription.state is not None
        if response.status_code < 300:
            if method in SUBSCRIBING:
                self._accept(dialog, subscription, response, now, events)
        elif ours and method == "SUBSCRIBE" and started and subscription.notify_by is not None:
            # RFC 6665 4.1.2.2: a refused refresh leaves the subscription as it was, to
            # its known expiry: no NOTIFY is coming, so Timer N stops
            old = subscription.deadline()
            subscription.notify_by = None
            self._reschedule(dialog, subscription, old)
        return subscription

    def _reschedule(self, dialog: Dialog, subscription: Subscription, old: float | None) -> None:
        """Arm the subscription's timer when its deadline moved from ``old`` (the entry for
        ``old`` dies); an unchanged deadline pushes nothing, so a NOTIFY flood cannot grow
        the heap."""
        deadline = subscription.deadline()
        if deadline == old:
            return
        if old is not None:
            self._timers.cancelled()
        if deadline is not None:
            self._timers.push(deadline, _Timer("sub", dialog, 0, None, subscription, deadline))

    def _reliable_arrived(self, dialog: Dialog, response: Response, events: list[Event]) -> bool:
        """RFC 3262 4: whether a received reliable 1xx is new and in order (then recorded);
        otherwise it is reported and not applied."""
        arrival = classify(dialog.reliable, response)
        if dialog.state is _CONFIRMED and dialog.local_pending != (response.cseq.number, "INVITE"):
            arrival = Arrival.STALE  # its INVITE has had its final response (RFC 3262 4)
        if arrival is not Arrival.NEW:
            events.append(ProvisionalDiscarded(dialog, response, arrival.value))
            return False
        assert response.rseq is not None
        record, cseq = dialog.reliable, response.cseq.number
        same = record is not None and not record.sent and record.cseq == cseq
        first = record.first if same and record is not None else response.rseq
        dialog.reliable = Reliable(False, cseq, response.rseq, first)
        return True


def _sub_timeout(subscription: Subscription, now: float) -> str:
    if subscription.notify_by is not None and subscription.notify_by <= now:
        if not subscription.subscriber:
            return "the SUBSCRIBE or REFER was not answered within 64*T1"
        return "no NOTIFY within 64*T1 (RFC 6665 4.1.2.4, Timer N)"
    return "subscription expired (RFC 6665 4.1.2.2)"


def _sent_reliable(dialog: Dialog, response: Response) -> None:
    """Record a reliable 1xx we send (RFC 3262 3): unacknowledged until its PRACK."""
    record, rseq, cseq = dialog.reliable, response.rseq, response.cseq.number
    assert rseq is not None
    if record is None or not record.sent or record.cseq != cseq:
        dialog.reliable = Reliable(True, cseq, rseq, rseq, unacked=True)
    elif record.rseq != rseq:
        dialog.reliable = Reliable(True, cseq, rseq, record.first, unacked=True)


def _prack_received(dialog: Dialog, prack: Request) -> None:
    """RFC 3262 3: a PRACK acknowledges the unacknowledged reliable 1xx its RAck names
    (481 when it names none); a retransmission of that PRACK changes nothing more."""
    state = dialog.dialog_state
    fresh = match_prack(dialog.reliable, prack, state.remote_seq)  # raises 481 first
    state.remote_seq = prack.cseq.number
    if fresh and dialog.reliable is not None:
        dialog.reliable.unacked = False
        dialog.reliable.prack_cseq = prack.cseq.number
