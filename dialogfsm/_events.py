"""What happened, and what the application must do next: frozen records a manager returns.

Facts are past tense (``DialogCreated``); what the application must do is imperative
(``SendAck``). Each carries the dialog and the message that caused it (``None`` for a
timer), so a caller can log, assert or act on a list of them without asking the manager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ._message import Request, Response
from ._uri import URI

if TYPE_CHECKING:
    from ._dialog import Dialog
    from ._dialogset import DialogSet
    from ._machine import State
    from ._subscriptions import Usage

Message = Request | Response


@attrs.frozen
class DialogCreated:
    """A dialog came into existence (RFC 3261 12.1), early or confirmed."""

    dialog: Dialog
    message: Message | None
    state: State
    """The state it was created in (``EARLY`` or ``CONFIRMED``)."""


@attrs.frozen
class DialogConfirmed:
    """A dialog entered the confirmed state: a 2xx was sent or received (RFC 3261 12.1)."""

    dialog: Dialog
    message: Message | None


@attrs.frozen
class DialogTerminated:
    """A dialog ended; ``reason`` says why in words (``"BYE received"``, ``"481"``, ...)."""

    dialog: Dialog
    message: Message | None
    reason: str
    trigger: str
    """The state machine trigger that ended it (``bye``, ``failure``, ``error``, ...)."""


@attrs.frozen
class TargetRefreshed:
    """The remote target changed (RFC 3261 12.2: re-INVITE, UPDATE and their 2xx)."""

    dialog: Dialog
    message: Message
    old: URI | None
    new: URI


@attrs.frozen
class SendAck:
    """ACK this 2xx (RFC 3261 13.2.2.4): once per 2xx received, retransmissions included.

    ``dialog.ack(response, via=...)`` builds it.
    """

    dialog: Dialog
    response: Response


@attrs.frozen
class SendBye:
    """Send BYE on this dialog: ``reason`` says why (no ACK came, an extra 2xx of a fork)."""

    dialog: Dialog
    message: Message | None
    reason: str


@attrs.frozen
class RetryRequest:
    """Send again (with a new CSeq) the re-INVITE or UPDATE that ``response``, a 491
    (Request Pending), refused: the random wait after it has passed (RFC 3261 14.1)."""

    dialog: Dialog
    response: Response


@attrs.frozen
class UsageCreated:
    """A subscription usage began in ``dialog`` (RFC 5057 4): a SUBSCRIBE or REFER was
    accepted (2xx) or answered by its first NOTIFY (RFC 6665 4.1.2.4, RFC 3515 2.4.4)."""

    dialog: Dialog
    usage: Usage
    message: Message


@attrs.frozen
class UsageEnded:
    """A usage of ``dialog`` ended (RFC 5057 4); the dialog lives on while others remain.

    Reported for a subscription however it ends (a NOTIFY with ``Subscription-State:
    terminated``, expiry, an error, the end of its dialog), and for the INVITE usage when
    it ends before the dialog does (a BYE while subscriptions remain). ``usage`` is the
    :class:`Subscription` or ``"invite"``.
    """

    dialog: Dialog
    usage: Usage
    message: Message | None
    reason: str


@attrs.frozen
class SendPrack:
    """PRACK this reliable provisional response (RFC 3262 4): it is new and in order.

    ``dialog.prack(response, via=...)`` builds it, RAck included.
    """

    dialog: Dialog
    response: Response


@attrs.frozen
class ProvisionalDiscarded:
    """A reliable provisional response that is not PRACKed and not applied (RFC 3262 4):
    ``reason`` is ``"retransmission"`` (RSeq seen already) or ``"out of order"`` (a
    reliable 1xx before it is missing)."""

    dialog: Dialog
    response: Response
    reason: str


@attrs.frozen
class DialogSetDropped:
    """A dialog-creating request was forgotten before it produced a confirmed dialog: no
    final response came in time, or the cap on unconfirmed dialogs evicted it. Its early
    dialogs are reported terminated (``DialogTerminated``) just before this event."""

    dialog_set: DialogSet
    reason: str


Event = (
    DialogCreated
    | DialogConfirmed
    | DialogTerminated
    | TargetRefreshed
    | SendAck
    | SendBye
    | RetryRequest
    | UsageCreated
    | UsageEnded
    | SendPrack
    | ProvisionalDiscarded
    | DialogSetDropped
)
