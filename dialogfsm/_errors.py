"""One error tree for the whole library.

``DialogError`` is the root. ``LocalProtocolError`` means *you* asked for something the
RFCs forbid; ``RemoteProtocolError`` means the *peer* did. Each carries ``status_hint``: the
response a UAS should answer with (400, 481, 491, 500), or ``None`` where no response fits.
"""

from __future__ import annotations


class DialogError(Exception):
    """Base class of every error dialogfsm raises on purpose."""

    #: the status code a UAS should answer with, when one fits
    status_hint: int | None

    def __init__(self, message: str, *, status_hint: int | None = None) -> None:
        super().__init__(message)
        self.status_hint = status_hint


class LocalProtocolError(DialogError):
    """The application asked for something the RFCs forbid."""


class RemoteProtocolError(DialogError):
    """The peer sent something the RFCs forbid."""


class ParseError(RemoteProtocolError, ValueError):
    """Bytes that are not a well-formed SIP message (or a malformed header value).

    ``reason`` says what is wrong and ``where`` says where it was found: ``"start line"``,
    ``"header 'Via' (line 7)"``, ``"body"`` or, for a value parsed on its own, the kind of value.
    """

    reason: str
    where: str

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(f"{reason} in {where}", status_hint=400)
        self.reason = reason
        self.where = where


class IllegalTransition(LocalProtocolError):  # noqa: N818 (the name the issue promises)
    """A trigger that the dialog's current state does not allow (the dialog is unchanged)."""

    trigger: str
    state: str

    def __init__(self, trigger: str, state: str, why: str = "") -> None:
        detail = f": {why}" if why else ""
        super().__init__(f"can't handle {trigger!r} when state={state}{detail}")
        self.trigger = trigger
        self.state = state


class NoSuchDialog(RemoteProtocolError):  # noqa: N818 (reads as the 481 it is)
    """A mid-dialog request that matches no dialog (RFC 3261 12.2.2: answer 481)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_hint=481)


class NoSuchTransaction(RemoteProtocolError):  # noqa: N818 (reads as the 481 it is)
    """A PRACK that acknowledges no unacknowledged reliable 1xx (RFC 3262 3: answer 481)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_hint=481)


class NoSuchSubscription(RemoteProtocolError):  # noqa: N818 (reads as the 481 it is)
    """A NOTIFY (or refreshing SUBSCRIBE) for no subscription of its dialog, or a NOTIFY
    that matches no SUBSCRIBE we sent (RFC 6665 4.1.3, 4.2.1: answer 481)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_hint=481)


class OutOfOrderError(RemoteProtocolError):
    """A mid-dialog request whose CSeq is below the remote sequence number (RFC 3261 12.2.2:
    answer 500)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status_hint=500)


class GlareError(RemoteProtocolError):
    """A re-INVITE or UPDATE that crosses one in progress (RFC 3261 14.2, RFC 3311 5.2):
    answer ``status_hint`` (491, or 500 with a ``Retry-After`` of ``retry_after`` seconds)."""

    retry_after: int | None

    def __init__(self, message: str, status_hint: int, retry_after: int | None = None) -> None:
        super().__init__(message, status_hint=status_hint)
        self.retry_after = retry_after
