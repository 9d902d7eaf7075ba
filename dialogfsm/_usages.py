"""What a failed mid-dialog request ends: the transaction, its usage, or the dialog.

RFC 5057 5.1 surveys every final response to a request inside a dialog and says, for each,
whether it ends only that transaction, the usage the request belongs to (the INVITE usage,
or one subscription), or the dialog with all its usages. The table is data, exported as
``RESPONSE_EFFECTS``: read it, and give ``DialogManager(response_effects=...)`` a copy with
the entries your peers need changed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class Effect(enum.Enum):
    """How far the failure of a mid-dialog request reaches (RFC 5057 5.1)."""

    TRANSACTION = "transaction"
    """Only this request failed; the usage and the dialog carry on."""
    USAGE = "usage"
    """The usage the request belongs to ends; the dialog ends with its last usage."""
    DIALOG = "dialog"
    """The dialog ends, with every usage it carries."""


T, U, D = Effect.TRANSACTION, Effect.USAGE, Effect.DIALOG

# fmt: off
#: RFC 5057 5.1: final response code -> what it ends. Codes not listed fall back to their
#: class (400, 500, 600: transaction only; 300: transaction only, redirection inside a dialog
#: being left to the application).
RESPONSE_EFFECTS: Mapping[int, Effect] = MappingProxyType({
    300: T, 400: T, 500: T, 600: T,
    403: U,  # the peer refuses this usage (a re-INVITE's 403 ends the INVITE usage)
    404: D, 410: D, 416: D,  # the remote target itself is gone or unusable
    405: U,  # the usage's method is not allowed
    408: U,  # RFC 5057 5.2: a timeout ends the usage it happened in
    480: U,  # the usage is unavailable (for Retry-After, if given)
    481: D,  # the peer has no such dialog (RFC 3261 12.2.1.2)
    482: D, 483: D, 484: D, 485: D,  # routing is broken: every later request fails too
    489: U,  # Bad Event: the subscription ends (only for SUBSCRIBE and NOTIFY)
    502: D,  # a proxy on the route set cannot reach the target
    604: D,  # the target does not exist anywhere
})
# fmt: on

#: requests that belong to a subscription usage rather than the INVITE usage
SUBSCRIPTION_METHODS = frozenset({"SUBSCRIBE", "NOTIFY", "REFER"})


def response_effect(
    code: int, method: str, table: Mapping[int, Effect] = RESPONSE_EFFECTS
) -> Effect:
    """What a ``code`` final response to a mid-dialog ``method`` request ends."""
    if code < 300 or method in ("CANCEL", "ACK"):
        # a 481 to CANCEL says only that the INVITE transaction is gone (RFC 3261 9.2)
        return T
    if code == 489 and method not in ("SUBSCRIBE", "NOTIFY"):
        return T  # RFC 5057 5.1: 489 means something only to the event framework
    effect = table.get(code)
    if effect is None:
        effect = table.get(code // 100 * 100, T)
    return effect
