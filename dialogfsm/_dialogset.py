"""The dialogs one dialog-creating request produced: a dialog set (RFC 3261 13.2.2.4).

A forking proxy can turn one INVITE into several early dialogs (one per To tag of the 1xx
responses) and several confirmed ones (one per 2xx). The set is open while responses can
still create dialogs: for a UAC until 64*T1 after the first 2xx or until a non-2xx final
response; for a UAS until it sends a final response.
"""

from __future__ import annotations

from typing import NamedTuple

import attrs

from ._dialog import Dialog
from ._machine import State
from ._message import Request


class SetKey(NamedTuple):
    """What every response to a dialog-creating request repeats: Call-ID, From tag, CSeq."""

    call_id: str
    from_tag: str
    cseq: int
    caller: bool
    """True for a request we sent (UAC side), False for one we received (UAS side)."""


@attrs.define(eq=False, weakref_slot=False)
class DialogSet:
    """The dialogs created by one INVITE, keyed by the remote (UAC) or local (UAS) tag."""

    key: SetKey
    request: Request
    """The dialog-creating request."""
    tls: bool
    """Whether the request travelled over TLS (RFC 3261 12.1: the secure flag)."""
    created_at: float
    dialogs: dict[str, Dialog] = attrs.field(factory=dict)
    """Live dialogs of the set by tag."""
    ended: dict[str, Dialog | None] = attrs.field(factory=dict)
    """Dialogs of the set that terminated while it was open (``None``: a notifier whose
    first NOTIFY ended its subscription, so no dialog was made): a late response on their
    tag never brings them back."""
    confirmed_at: float | None = None
    """When the first 2xx was sent or received."""

    @property
    def caller(self) -> bool:
        """True when we sent the request (we are the UAC of the dialogs)."""
        return self.key.caller

    def early(self) -> list[Dialog]:
        """The dialogs of the set that are still early."""
        return [d for d in self.dialogs.values() if d.state is State.EARLY]
