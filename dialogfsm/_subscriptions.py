"""Subscription usages of a dialog (RFC 6665, RFC 3515), and how messages find them.

A dialog carries usages (RFC 5057): the INVITE usage of a call, and any number of
subscriptions: one per SUBSCRIBE that was accepted (or answered by a NOTIFY), one per REFER
(its implicit subscription to the ``refer`` event). A subscription is named by its Event
header: the event package and the ``id`` parameter, compared byte by byte (RFC 6665 8.2.1).
Everything here is a pure function of a message or a record: the manager applies them.
"""

from __future__ import annotations

from typing import Literal

import attrs

from ._errors import DialogError, LocalProtocolError, ParseError, RemoteProtocolError
from ._message import Request, Response
from ._values import Event

#: seconds a subscription lasts when no Expires and no Subscription-State ``expires`` says
#: (RFC 6665 leaves the default to the event package; 3600 keeps memory bounded)
DEFAULT_EXPIRES = 3600
#: the longest subscription kept (seconds): a notifier's huge ``expires`` cannot pin memory
MAX_EXPIRES = 86_400
#: requests that create a subscription usage
SUBSCRIBING = frozenset({"SUBSCRIBE", "REFER"})

#: the usage a call's INVITE made (re-INVITE, UPDATE, PRACK, INFO and BYE belong to it)
INVITE_USAGE: Literal["invite"] = "invite"


@attrs.define(eq=False, weakref_slot=False)
class Subscription:
    """One subscription usage of a dialog (RFC 6665 4; RFC 3515 2.4.4 for REFER)."""

    package: str
    """The event package (``presence``, ``dialog``, ``refer``, ...)."""
    id: str | None
    """The Event ``id`` parameter (a REFER's CSeq number for its subscription)."""
    subscriber: bool
    """True when we subscribed (we sent the SUBSCRIBE or REFER and receive the NOTIFYs)."""
    refer: bool = False
    """The implicit subscription of a REFER (RFC 3515 2.4.4)."""
    idless: bool = False
    """NOTIFYs may leave the id out: the first REFER of a dialog (RFC 3515 2.4.6)."""
    accepted: bool = False
    """A 2xx to the SUBSCRIBE or REFER was sent or received."""
    state: str | None = None
    """The last Subscription-State (``pending``, ``active``); ``None`` before a NOTIFY."""
    expires_at: float | None = None
    """When it ends unless refreshed: from Expires of the 2xx or the NOTIFY's ``expires``."""
    notify_by: float | None = None
    """The subscriber's Timer N (RFC 6665 4.1.2.4): no NOTIFY by then means it failed; the
    notifier's bound on a request it has not answered."""
    requested: int | None = attrs.field(default=None, repr=False)
    """The Expires our last SUBSCRIBE asked for: what is granted may not be longer."""
    local_cseq: int | None = attrs.field(default=None, repr=False)
    """CSeq of our SUBSCRIBE, REFER or NOTIFY in it still awaiting a final response."""
    remote_cseq: int | None = attrs.field(default=None, repr=False)
    """CSeq of the peer's SUBSCRIBE, REFER or NOTIFY in it we have not answered."""

    @property
    def event(self) -> str:
        """The Event header value that names it (``presence;id=7``)."""
        return self.package if self.id is None else f"{self.package};id={self.id}"

    def __repr__(self) -> str:
        role = "subscriber" if self.subscriber else "notifier"
        return f"<Subscription {self.event} {role} {self.state or 'unconfirmed'}>"

    def matches(self, event: Event) -> bool:
        """RFC 6665 8.2.1: package and ``id`` match byte by byte (no id matches no id);
        RFC 3515 2.4.6: the first REFER's NOTIFYs may leave the id out."""
        if event.package != self.package:
            return False
        other = event.id
        return other == self.id or (other is None and self.idless)

    def deadline(self) -> float | None:
        """When its timer fires: Timer N while no NOTIFY came, else the expiry."""
        times = [t for t in (self.notify_by, self.expires_at) if t is not None]
        return min(times) if times else None


Usage = Subscription | Literal["invite"]
"""A usage of a dialog: ``INVITE_USAGE`` or a :class:`Subscription`."""


def _error(sent: bool, message: str) -> DialogError:
    """Our mistake when we send it, the peer's (answer 400) when we receive it."""
    if sent:
        return LocalProtocolError(message)
    return RemoteProtocolError(message, status_hint=400)


def event_of(request: Request, *, sent: bool) -> Event:
    """The Event that names the subscription ``request`` belongs to.

    A REFER is named by its CSeq number (RFC 3515 2.4.6) and must carry exactly one
    Refer-To (RFC 3515 2.4.1); SUBSCRIBE and NOTIFY must carry Event (RFC 6665 8.2.1).
    """
    if request.method == "REFER":
        if len(request.headers.get_all("Refer-To")) != 1:
            raise _error(sent, "REFER must carry exactly one Refer-To (RFC 3515 2.4.1)")
        return Event("refer", (("id", str(request.cseq.number)),))
    event = request.event
    if event is None:
        raise _error(sent, f"{request.method} without an Event header (RFC 6665 8.2.1)")
    return event


def find(
    subscriptions: list[Subscription] | None, event: Event, *, subscriber: bool
) -> Subscription | None:
    """The subscription of a dialog that ``event`` names, with us in the given role."""
    for subscription in subscriptions or ():
        if subscription.subscriber is subscriber and subscription.matches(event):
            return subscription
    return None


def answering(
    subscriptions: list[Subscription] | None, cseq: int, *, ours: bool
) -> Subscription | None:
    """The subscription whose request with CSeq ``cseq`` (ours, or the peer's) a final
    response answers."""
    for subscription in subscriptions or ():
        if (subscription.local_cseq if ours else subscription.remote_cseq) == cseq:
            return subscription
    return None


def new_subscription(
    request: Request, event: Event, subscriber: bool, *, first: bool
) -> Subscription:
    """The usage a SUBSCRIBE or REFER asks for (not yet accepted); ``first``: the first
    REFER sent this way in the dialog, whose NOTIFYs may omit the id (RFC 3515 2.4.6)."""
    if request.method == "REFER":
        return Subscription("refer", event.id, subscriber, refer=True, idless=first)
    return Subscription(event.package, event.id, subscriber)


def refer_sub_false(message: Request | Response) -> bool:
    """RFC 4488 4: ``Refer-Sub: false`` (in a REFER's 2xx) means no implicit subscription."""
    value = message.headers.get("Refer-Sub")
    return value is not None and value.strip().lower() == "false"


def is_final_notify(request: Request) -> bool:
    """A NOTIFY that says ``Subscription-State: terminated`` (RFC 6665 4.2.2)."""
    header = request.subscription_state
    return header is not None and header.state.lower() == "terminated"


def expires_of(message: Request | Response, *, sent: bool) -> int | None:
    """The Expires header in seconds (RFC 3261 20.19), or ``None`` when absent.

    A malformed value in a request is our error when we send it and the peer's (400) when
    we receive it; in a response it is treated as absent, since a response cannot be
    refused.
    """
    value = message.headers.get("Expires")
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or not value.isascii() or len(value) > 10:
        if not isinstance(message, Request):
            return None
        if sent:
            raise LocalProtocolError(f"malformed Expires {value[:40]!r} in {message.method}")
        raise ParseError(f"malformed Expires {value[:40]!r}", "header 'Expires'")
    return int(value)


def notify_state(request: Request, *, sent: bool) -> tuple[str, int | None]:
    """The NOTIFY's Subscription-State and its ``expires`` (RFC 6665 4.1.3, 8.2.3)."""
    header = request.subscription_state
    if header is None:
        raise _error(sent, "NOTIFY without a Subscription-State header (RFC 6665 8.2.3)")
    state = header.state.lower()
    # RFC 6665 4.1.3: a terminated subscription ignores any expires parameter
    return state, None if state == "terminated" else header.expires
