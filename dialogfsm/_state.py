"""What RFC 3261 12 says a dialog holds: its id and its state record.

The fields follow SIP.js's ``DialogState`` interface, in Python names. The record is
slotted (no per-dialog ``__dict__``); strings and URIs are shared with the messages they
came from, never copied.
"""

from __future__ import annotations

from typing import NamedTuple

import attrs

from ._memo import Memo, bounded
from ._uri import URI
from ._values import NameAddr

#: route sets in use, by the identity of their entries (see ``shared_route_set``)
_ROUTE_SETS: Memo[tuple[int, ...], tuple[NameAddr, ...]] = bounded(Memo(4096))


def shared_route_set(routes: tuple[NameAddr, ...]) -> tuple[NameAddr, ...]:
    """An equal route set that other dialogs may already hold.

    Every dialog through the same proxies has the same route set, and keeps it for life.
    The parser hands out one ``NameAddr`` per Record-Route text (its memo), so equal route
    sets are found by the identity of their entries: a hit is the very same objects, as
    the stored tuple keeps them alive. Saves a tuple per dialog; the table is bounded.
    """
    if len(routes) < 2:
        return routes
    key = tuple(map(id, routes))
    found = _ROUTE_SETS.get(key)
    if found is not None:
        return found
    return _ROUTE_SETS.put(key, routes)


class DialogId(NamedTuple):
    """RFC 3261 12: Call-ID plus local and remote tags; a frozen, hashable value.

    ``remote_tag`` is ``""`` for RFC 2543 peers that send no tag.
    """

    call_id: str
    local_tag: str
    remote_tag: str

    def __str__(self) -> str:
        return f"{self.call_id};local={self.local_tag};remote={self.remote_tag}"


@attrs.define(eq=False, weakref_slot=False)
class DialogState:
    """The state of one dialog (RFC 3261 12.1.1, 12.1.2), as SIP.js's ``DialogState``."""

    id: DialogId
    """Call-ID, local tag, remote tag."""
    call_id: str
    local_tag: str
    remote_tag: str
    local_seq: int | None
    """CSeq number of the last request we sent in the dialog; ``None`` until we send one."""
    remote_seq: int | None
    """CSeq number of the last request the peer sent in the dialog; ``None`` until then."""
    local_uri: URI
    """Our address of record: the From URI of our requests."""
    remote_uri: URI
    """The peer's address of record: the To URI of our requests."""
    remote_target: URI | None
    """Where our requests go: the peer's Contact (RFC 3261 12.1.1, 12.1.2)."""
    route_set: tuple[NameAddr, ...]
    """Record-Route entries in the order our requests carry them as Route (display names
    and parameters kept)."""
    secure: bool
    """RFC 3261 12.1: TLS to (or from) a sips Request-URI."""
    early: bool
    """True while the dialog is early (kept by the state machine, never set elsewhere)."""

    @classmethod
    def create(
        cls,
        *,
        call_id: str,
        local_tag: str,
        remote_tag: str,
        local_seq: int | None,
        remote_seq: int | None,
        local_uri: URI,
        remote_uri: URI,
        remote_target: URI | None,
        route_set: tuple[NameAddr, ...],
        secure: bool,
    ) -> DialogState:
        """A record whose ``id`` agrees with its Call-ID and tags (not early until the
        machine says so)."""
        return cls(
            DialogId(call_id, local_tag, remote_tag), call_id, local_tag, remote_tag,
            local_seq, remote_seq, local_uri, remote_uri, remote_target,
            shared_route_set(route_set),
            secure, False,
        )  # fmt: skip
