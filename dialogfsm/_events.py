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
    | DialogSetDropped
)
