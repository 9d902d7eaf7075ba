"""One dialog, and the pure functions that make its state and its requests.

``Dialog`` is what the shared state machine drives: a slotted record with a ``state`` and
the RFC 3261 ``DialogState``. Creating a state from a request and a response (12.1.1,
12.1.2) and building the requests a dialog sends (12.2.1.1, 13.2.2.4, 9.1) are pure
functions of their inputs: no manager, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from ._build import HeaderItems, build_request
from ._errors import LocalProtocolError
from ._machine import State
from ._message import Request, Response
from ._prack import Reliable, rack_for
from ._state import DialogId, DialogState
from ._subscriptions import INVITE_USAGE, Subscription, Usage
from ._uri import URI
from ._values import NameAddr, Via

if TYPE_CHECKING:
    from ._dialogset import DialogSet

#: RFC 3261 19.1.1 table 1: parameters a Request-URI may not carry
_NOT_IN_REQUEST_URI = frozenset({"method"})
#: methods whose request and 2xx replace the remote target (RFC 3261 12.2; RFC 3311 5.1;
#: RFC 6665 4.1.2.3 and 4.4.1 for SUBSCRIBE and NOTIFY)
TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY"})
#: requests that change the session and so may cross each other (RFC 3261 14, RFC 3311 5)
SESSION_MODIFYING = frozenset({"INVITE", "UPDATE"})
#: methods that do not take a new CSeq number (RFC 3261 12.2.1.1, 12.2.2)
SEQUENCE_EXEMPT = frozenset({"ACK", "CANCEL"})


_CALLER, _INVITE_USAGE, _REFER_SHIFT = 1, 2, 2  # bits of Dialog._marks
_NOT_REFERS = _CALLER | _INVITE_USAGE


@attrs.define(eq=False, weakref_slot=False, init=False)
class Dialog:
    """One dialog: its ``state`` (moved only by the shared machine) and its record."""

    state: State
    """``EARLY``, ``CONFIRMED`` or ``TERMINATED`` (``NONE`` only while being created)."""
    dialog_state: DialogState
    """Call-ID, tags, sequence numbers, URIs, remote target, route set, secure, early."""
    invite_cseq: int
    """CSeq number of the request that created the dialog (its 2xx is ACKed with it)."""
    dialog_set: DialogSet | None = attrs.field(default=None, repr=False)
    """The dialog set (forking group) while it is still open, else ``None``."""
    awaiting_ack: int | None = None
    """UAS: the CSeq number of an INVITE we answered 2xx whose ACK has not come."""
    pending_refresh: tuple[int, URI] | None = attrs.field(default=None, repr=False)
    """UAS: a target refresh request received but not yet accepted: (CSeq, new target)."""
    local_pending: tuple[int, str] | None = attrs.field(default=None, repr=False)
    """Our INVITE or UPDATE in progress (no final response yet): (CSeq, method)."""
    remote_pending: tuple[int, str] | None = attrs.field(default=None, repr=False)
    """The peer's INVITE or UPDATE we have not answered finally: (CSeq, method)."""
    subscriptions: list[Subscription] | None = attrs.field(default=None, repr=False)
    """Its subscription usages (RFC 5057 4.2), ``None`` while it has none."""
    reliable: Reliable | None = attrs.field(default=None, repr=False)
    """The reliable-1xx sequence of its latest INVITE transaction (RFC 3262)."""
    _marks: int = attrs.field(default=_INVITE_USAGE, repr=False)
    """``caller``, ``invite_usage`` and ``refers`` as bits of one int: a slot each would
    cost 16 bytes more per live dialog (the constructor takes them one by one)."""

    def __init__(  # noqa: PLR0917 (one parameter per field, in the order attrs gave them)
        self,
        state: State,
        dialog_state: DialogState,
        caller: bool,
        invite_cseq: int,
        dialog_set: DialogSet | None = None,
        awaiting_ack: int | None = None,
        pending_refresh: tuple[int, URI] | None = None,
        local_pending: tuple[int, str] | None = None,
        remote_pending: tuple[int, str] | None = None,
        invite_usage: bool = True,
        subscriptions: list[Subscription] | None = None,
        refers: int = 0,
        reliable: Reliable | None = None,
    ) -> None:
        self.state = state
        self.dialog_state = dialog_state
        self.invite_cseq = invite_cseq
        self.dialog_set = dialog_set
        self.awaiting_ack = awaiting_ack
        self.pending_refresh = pending_refresh
        self.local_pending = local_pending
        self.remote_pending = remote_pending
        self.subscriptions = subscriptions
        self.reliable = reliable
        self._marks = (_CALLER if caller else 0) | (_INVITE_USAGE if invite_usage else 0)
        self._marks |= refers << _REFER_SHIFT

    @property
    def caller(self) -> bool:
        """True when we sent the request that created the dialog (RFC 3261 15: only the
        caller may send BYE on an early dialog)."""
        return bool(self._marks & _CALLER)

    @property
    def invite_usage(self) -> bool:
        """The dialog carries the INVITE usage of a call (RFC 5057 4.1) until BYE or
        failure."""
        return bool(self._marks & _INVITE_USAGE)

    @invite_usage.setter
    def invite_usage(self, value: bool) -> None:
        self._marks = self._marks | _INVITE_USAGE if value else self._marks & ~_INVITE_USAGE

    @property
    def refers(self) -> int:
        """REFERs seen in the dialog: bit 1 we sent one, bit 2 we received one (RFC 3515
        2.4.6: only the first each way may be notified without an id)."""
        return self._marks >> _REFER_SHIFT

    @refers.setter
    def refers(self, value: int) -> None:
        self._marks = self._marks & _NOT_REFERS | value << _REFER_SHIFT

    @property
    def usages(self) -> tuple[Usage, ...]:
        """Its live usages: ``"invite"`` for a call, then each :class:`Subscription`."""
        head: tuple[Usage, ...] = (INVITE_USAGE,) if self.invite_usage else ()
        return head + tuple(self.subscriptions or ())

    @property
    def id(self) -> DialogId:
        """Call-ID, local tag, remote tag."""
        return self.dialog_state.id

    def __repr__(self) -> str:
        role = "uac" if self.caller else "uas"
        return f"<Dialog {self.state.value} {role} {self.dialog_state.id}>"

    def request(
        self,
        method: str,
        *,
        via: Via | str | Sequence[Via | str],
        cseq: int | None = None,
        contact: NameAddr | str | Sequence[NameAddr | str] = (),
        headers: HeaderItems = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Request:
        """A new request in this dialog (RFC 3261 12.2.1.1); see :func:`build_in_dialog`."""
        return build_in_dialog(
            self.dialog_state, method, via=via, cseq=cseq, contact=contact,
            headers=headers, body=body, content_type=content_type,
        )  # fmt: skip

    def prack(
        self,
        response: Response,
        *,
        via: Via | str | Sequence[Via | str],
        headers: HeaderItems = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Request:
        """The PRACK for a reliable 1xx of this dialog, RAck included (RFC 3262 7.2)."""
        return build_in_dialog(
            self.dialog_state, "PRACK", via=via, headers=(("RAck", rack_for(response)),
            *headers), body=body, content_type=content_type,
        )  # fmt: skip

    def ack(
        self,
        response: Response,
        *,
        via: Via | str | Sequence[Via | str],
        headers: HeaderItems = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Request:
        """The ACK for a 2xx to an INVITE of this dialog (RFC 3261 13.2.2.4)."""
        return build_in_dialog(
            self.dialog_state, "ACK", via=via, cseq=response.cseq.number,
            headers=headers, body=body, content_type=content_type,
        )  # fmt: skip


# -- dialog state from the dialog-creating request and response (RFC 3261 12.1) ----------
def _remote_target(message: Request | Response) -> URI | None:
    contact = message.contact
    return contact[0].uri if contact else None


def is_secure(request: Request, tls: bool) -> bool:
    """RFC 3261 12.1.1, 12.1.2: sent or received over TLS, to a sips Request-URI."""
    return tls and request.uri.scheme == "sips"


def uac_state(request: Request, response: Response, *, tls: bool) -> DialogState:
    """The state a UAC keeps for the dialog ``response`` creates (RFC 3261 12.1.2)."""
    return DialogState.create(
        call_id=request.call_id,
        local_tag=request.from_.tag or "",
        remote_tag=response.to.tag or "",  # RFC 2543 peers send no tag
        local_seq=request.cseq.number,
        remote_seq=None,
        local_uri=request.from_.uri,
        remote_uri=request.to.uri,
        remote_target=_remote_target(response),
        route_set=uac_route_set(response),
        secure=is_secure(request, tls),
    )


def uac_route_set(response: Response) -> tuple[NameAddr, ...]:
    """RFC 3261 12.1.2: the Record-Route of the response, in reverse order."""
    return tuple(reversed(response.record_route))


def uas_state(request: Request, response: Response, *, tls: bool) -> DialogState:
    """The state a UAS keeps for the dialog ``response`` creates (RFC 3261 12.1.1)."""
    return DialogState.create(
        call_id=request.call_id,
        local_tag=response.to.tag or "",
        remote_tag=request.from_.tag or "",
        local_seq=None,
        remote_seq=request.cseq.number,
        local_uri=request.to.uri,
        remote_uri=request.from_.uri,
        remote_target=_remote_target(request),
        route_set=request.record_route,  # RFC 3261 12.1.1: in order
        secure=is_secure(request, tls),
    )


# -- requests within a dialog (RFC 3261 12.2.1.1) -----------------------------------------
def request_target(state: DialogState) -> tuple[URI, tuple[NameAddr, ...]]:
    """The Request-URI and Route values of a request in the dialog (RFC 3261 12.2.1.1).

    Loose routing (first route has ``lr``): Request-URI = remote target, Route = route set.
    Strict routing: Request-URI = first route without the parameters a Request-URI may not
    carry, Route = the rest of the route set followed by the remote target.
    """
    target = state.remote_target if state.remote_target is not None else state.remote_uri
    routes = state.route_set
    if not routes or routes[0].uri.lr:
        return target, routes
    first = routes[0].uri
    # RFC 3261 12.2.1.1: "stripping any parameters that are not allowed in a Request-URI"
    kept = tuple(p for p in first.params if p[0].lower() not in _NOT_IN_REQUEST_URI)
    request_uri = first
    if first.scheme in ("sip", "sips") and (kept != first.params or first.headers):
        request_uri = URI.build(
            first.scheme, user=first.user, password=first.password, host=first.host,
            port=first.port, params=kept,
        )  # fmt: skip
    return request_uri, (*routes[1:], NameAddr(target))


def next_cseq(state: DialogState, method: str, initial: int = 1) -> int:
    """RFC 3261 12.2.1.1: local seq + 1 (``initial`` when empty); ACK/CANCEL take none."""
    if method in SEQUENCE_EXEMPT:
        raise LocalProtocolError(f"{method} reuses the CSeq number of the request it follows")
    return initial if state.local_seq is None else state.local_seq + 1


def build_in_dialog(
    state: DialogState,
    method: str,
    *,
    via: Via | str | Sequence[Via | str],
    cseq: int | None = None,
    contact: NameAddr | str | Sequence[NameAddr | str] = (),
    headers: HeaderItems = (),
    body: bytes = b"",
    content_type: str | None = None,
) -> Request:
    """A request in the dialog described by ``state`` (RFC 3261 12.2.1.1), as a pure function.

    To = remote URI with the remote tag; From = local URI with the local tag; Call-ID of the
    dialog; CSeq = local seq + 1 unless ``cseq`` is given (ACK must be given the INVITE's,
    RFC 3261 13.2.2.4); Request-URI and Route by :func:`request_target`.
    """
    number = cseq if cseq is not None else next_cseq(state, method)
    request_uri, route = request_target(state)
    to = NameAddr(state.remote_uri, None, (("tag", state.remote_tag),) if state.remote_tag else ())
    return build_request(
        method, request_uri, call_id=state.call_id,
        from_=NameAddr(state.local_uri, None, (("tag", state.local_tag),)), to=to,
        cseq=number, via=via, contact=contact, route=route, headers=headers, body=body,
        content_type=content_type,
    )  # fmt: skip


def build_cancel(invite: Request) -> Request:
    """CANCEL for a pending INVITE (RFC 3261 9.1): same Request-URI, Call-ID, To, From, CSeq
    number and Route, and only the INVITE's top Via."""
    if invite.method != "INVITE":
        raise LocalProtocolError(f"only an INVITE can be cancelled, not {invite.method}")
    return build_request(
        "CANCEL", invite.uri, call_id=invite.call_id, from_=invite.from_, to=invite.to,
        cseq=invite.cseq.number, via=invite.via[0], route=invite.route,
    )  # fmt: skip
