"""A minimal SIP transaction layer (RFC 3261 17) for the example UA, sans-IO like dialogfsm.

dialogfsm tracks dialogs; it does not retransmit. Over UDP somebody must send a request
again until its response comes, send a final response again when the request comes again,
ACK a non-2xx final response to an INVITE, and repeat a 2xx to an INVITE until its ACK
comes. This module does those things and nothing else: no sockets, no clock (``now`` is an
argument and timers are pulled with ``get_timer()`` / ``handle_timer(now)``, the way
``DialogManager`` works), so the UA runs both from one timer.

What it covers, with the RFC 3261 timer names:

- client INVITE: retransmit at T1, 2*T1, 4*T1... until any response (Timer A, UDP only);
  no response within 64*T1 is a timeout (Timer B); ACK every non-2xx final,
  retransmissions included, for 32 s (Timer D); a 2xx ends the transaction at once (its
  ACK is the core's, built by ``Dialog.ack``).
- client non-INVITE: retransmit at T1 doubling up to T2, at T2 after a 1xx (Timer E);
  timeout at 64*T1 (Timer F); a final response retransmitted within T4 is absorbed (K).
- server: a retransmitted request gets our last response again and goes no further; a
  non-2xx final to an INVITE is repeated until its ACK (Timers G and H), and that ACK is
  absorbed; a 2xx to an INVITE is repeated until the ACK (RFC 3261 13.3.1.4: the core's
  job, kept here so the UA has one place for retransmissions) for at most 64*T1.
- over TCP nothing is retransmitted but the 2xx to an INVITE; the timeouts still apply.
- a request we leave unanswered for ``RING_LIMIT`` (3 minutes) is forgotten, and so is an
  INVITE of ours that rings that long without a final response (a timeout, like Timer C).

What it leaves out: RFC 2543 transactions without the ``z9hG4bK`` branch, DNS failover
(RFC 3263), and the 503 and transport-error handling of RFC 3261 17.1.4.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

from dialogfsm import Request, Response, build_request

T1, T2, T4 = 0.5, 4.0, 5.0  # RFC 3261 17.1.1.1 and table 4
RING_LIMIT = 180.0  # how long an INVITE may ring before we call it timed out (Timer C's 3 min)
Message = Request | Response
Address = tuple[str, str, int]
"""Where a message goes: transport (``"UDP"`` or ``"TCP"``), host, port."""


@dataclass(frozen=True)
class Transmit:
    """Send ``message`` to ``dest``: a retransmission, or an ACK the layer built itself."""

    message: Message
    dest: Address


@dataclass(frozen=True)
class TimedOut:
    """No final response came for ``request`` (Timer B or F): tell the dialog layer."""

    request: Request


@dataclass(frozen=True)
class Received:
    """What the layer decided about a message that arrived."""

    deliver: bool
    """Pass it on to the core (the UA and its DialogManager); ``False``: absorbed here."""
    replies: tuple[Transmit, ...] = ()
    """What to send at once: our last response again, or the ACK of a non-2xx final."""
    request: Request | None = None
    """For a response: the request of the client transaction it answers, if any."""


@dataclass(eq=False)
class _Transaction:
    """One transaction, client or server, with its two timers."""

    key: tuple[str, ...]
    message: Message  # what we retransmit: the request (client) or last response (server)
    dest: Address
    reliable: bool
    request: Request | None = None  # client: our request; server: the peer's
    state: str = "trying"  # "trying", "proceeding", "completed", "answered" (2xx sent)
    interval: float = T1
    resend_at: float | None = None  # Timers A, E, G and the 2xx repeat
    expire_at: float | None = None  # Timers B, D, F, H, J, K and the 2xx give-up
    token: int = 0  # the heap entry that is current (older ones are stale)
    ack: Request | None = None  # client INVITE: the ACK of its non-2xx final


class Transactions:
    """Every transaction of one UA (see the module docstring for what it does)."""

    def __init__(self, t1: float = T1) -> None:
        self.t1 = t1
        self._client: dict[tuple[str, ...], _Transaction] = {}  # by branch and method
        self._server: dict[tuple[str, ...], _Transaction] = {}  # by branch, sent-by, method
        self._awaiting_ack: dict[tuple[str, ...], _Transaction] = {}  # 2xx sent, by dialog
        self._heap: list[tuple[float, int, _Transaction]] = []  # (due, token, transaction)
        self._tokens = itertools.count(1)

    # -- what we send -------------------------------------------------------------------
    def request_sent(self, request: Request, dest: Address, now: float) -> None:
        """We sent ``request`` (not an ACK) to ``dest``: start its client transaction."""
        assert request.method != "ACK", "an ACK has no transaction of its own"
        reliable = dest[0] != "UDP"
        txn = _Transaction(_client_key(request), request, dest, reliable, request=request)
        txn.interval = self.t1
        txn.resend_at = None if reliable else now + self.t1
        txn.expire_at = now + 64 * self.t1  # Timer B or F
        self._client[txn.key] = txn
        self._schedule(txn)

    def response_sent(self, response: Response, request: Request, now: float) -> None:
        """We sent ``response`` to ``request`` (to where the request came from)."""
        txn = self._server.get(_server_key(request))
        if txn is None:
            return  # an answer to a request the layer never saw (a stray one): fire and forget
        txn.message = response
        code = response.status_code
        if code < 200:
            return
        invite = request.method == "INVITE"
        if invite and code < 300:
            # RFC 3261 13.3.1.4: repeat the 2xx until its ACK (which has its own branch:
            # matched by Call-ID, To tag and CSeq number), over TCP too: the ACK is end to
            # end and may cross UDP hops. RFC 6026 7.1: the server transaction stays
            # "accepted" for 64*T1 to absorb the INVITE's retransmissions.
            txn.state = "answered"
            self._awaiting_ack[_ack_key(response)] = txn
            txn.resend_at = now + self.t1
            txn.interval = self.t1
        elif invite:  # RFC 3261 17.2.1: Timer G repeats the non-2xx until the ACK
            txn.state = "completed"
            txn.resend_at = None if txn.reliable else now + self.t1
            txn.interval = self.t1
        else:  # RFC 3261 17.2.2: Timer J keeps the answer for retransmitted requests
            txn.state = "completed"
            txn.resend_at = None
        txn.expire_at = now + (0 if txn.reliable and not invite else 64 * self.t1)
        self._schedule(txn)

    # -- what arrives -------------------------------------------------------------------
    def request_received(self, request: Request, source: Address, now: float) -> Received:
        """A request arrived from ``source``: new, a retransmission, or an ACK."""
        if request.method == "ACK":
            return self._ack_received(request, now)
        key = _server_key(request)
        txn = self._server.get(key)
        if txn is not None:  # RFC 3261 17.2.1, 17.2.2: a retransmission
            if txn.state == "answered" or txn.message is txn.request:
                return Received(deliver=False)  # not answered yet, or 2xx repeats on its own
            return Received(deliver=False, replies=(Transmit(txn.message, txn.dest),))
        txn = _Transaction(key, request, source, source[0] != "UDP", request=request)
        txn.state = "proceeding"
        txn.expire_at = now + RING_LIMIT  # a request the core leaves unanswered is forgotten
        self._server[key] = txn
        self._schedule(txn)
        return Received(deliver=True)

    def _ack_received(self, ack: Request, now: float) -> Received:
        invite = self._server.get(_server_key(ack))
        if invite is not None and invite.state == "completed":
            # RFC 3261 17.2.1: the ACK of our non-2xx final; Timer I absorbs its repeats
            invite.state, invite.resend_at, invite.expire_at = "confirmed", None, now + T4
            self._schedule(invite)
            return Received(deliver=False)
        if invite is not None and invite.state == "confirmed":
            return Received(deliver=False)
        answered = self._awaiting_ack.pop(_ack_key(ack), None)
        if answered is not None:  # RFC 3261 13.3.1.4: the 2xx repeats stop
            answered.resend_at = None
            self._schedule(answered)
        return Received(deliver=True)  # every ACK of a 2xx goes to the dialog layer

    def response_received(self, response: Response, now: float) -> Received:
        """A response arrived: match it to our request by branch and method (17.1.3)."""
        txn = self._client.get(_client_key(response))
        if txn is None:
            # RFC 3261 18.1.2: no transaction (a repeated 2xx to an INVITE, whose
            # transaction ended with the first): the core decides (it ACKs it again)
            return Received(deliver=True)
        assert txn.request is not None
        code, invite = response.status_code, txn.request.method == "INVITE"
        if txn.state == "completed":  # a retransmitted final: absorbed (17.1.1.2, 17.1.2.2)
            again = (Transmit(txn.ack, txn.dest),) if txn.ack is not None else ()
            return Received(deliver=False, replies=again, request=txn.request)
        if code < 200:
            txn.state = "proceeding"
            if invite:  # RFC 3261 17.1.1.2: a 1xx stops Timers A and B; we give up
                txn.resend_at, txn.expire_at = None, now + RING_LIMIT  # after 3 minutes
            elif not txn.reliable:  # 17.1.2.2: Timer E continues at T2
                txn.interval = T2
            self._schedule(txn)
            return Received(deliver=True, request=txn.request)
        if invite and code < 300:  # RFC 3261 17.1.1.2: a 2xx ends the transaction
            self._end(txn)
            return Received(deliver=True, request=txn.request)
        txn.state, txn.resend_at = "completed", None
        replies: tuple[Transmit, ...] = ()
        if invite:  # RFC 3261 17.1.1.3: the transaction ACKs a non-2xx final itself
            txn.ack = _ack_for(txn.request, response)
            replies = (Transmit(txn.ack, txn.dest),)
            txn.expire_at = now + (0 if txn.reliable else 32)  # Timer D
        else:
            txn.expire_at = now + (0 if txn.reliable else T4)  # Timer K
        self._schedule(txn)
        return Received(deliver=True, replies=replies, request=txn.request)

    def server_invite(self, cancel: Request) -> Request | None:
        """The INVITE a CANCEL names (same branch, RFC 3261 9.2), if we still have it."""
        txn = self._server.get(_server_key(cancel, method="INVITE"))
        return txn.request if txn is not None else None

    # -- timers -------------------------------------------------------------------------
    def get_timer(self) -> float | None:
        """When ``handle_timer`` must next be called, or ``None``."""
        while self._heap and self._heap[0][1] != self._heap[0][2].token:
            heapq.heappop(self._heap)  # stale: the transaction was rescheduled or ended
        return self._heap[0][0] if self._heap else None

    def handle_timer(self, now: float) -> list[Transmit | TimedOut]:
        """Fire what is due at ``now``: retransmissions, timeouts, forgetting."""
        out: list[Transmit | TimedOut] = []
        while (when := self.get_timer()) is not None and when <= now:
            _, _, txn = heapq.heappop(self._heap)
            if txn.expire_at is not None and txn.expire_at <= now:
                self._expire(txn, out)
                continue
            out.append(Transmit(txn.message, txn.dest))
            timer_a = txn.state == "trying" and txn.message.cseq.method == "INVITE"
            # each interval doubles; only Timer A (an INVITE we send) is not capped at T2
            txn.interval = txn.interval * 2 if timer_a else min(txn.interval * 2, T2)
            txn.resend_at = now + txn.interval
            self._schedule(txn)
        return out

    def _expire(self, txn: _Transaction, out: list[Transmit | TimedOut]) -> None:
        if txn.state in ("trying", "proceeding") and self._client.get(txn.key) is txn:
            assert txn.request is not None  # Timer B or F: no final response
            out.append(TimedOut(txn.request))
        self._end(txn)

    def _end(self, txn: _Transaction) -> None:
        """Forget ``txn``: out of its table, and its heap entries stale."""
        txn.token = -1
        if self._client.get(txn.key) is txn:
            del self._client[txn.key]
        elif self._server.get(txn.key) is txn:
            del self._server[txn.key]
            if txn.state == "answered" and isinstance(txn.message, Response):
                self._awaiting_ack.pop(_ack_key(txn.message), None)

    def _schedule(self, txn: _Transaction) -> None:
        due = [t for t in (txn.resend_at, txn.expire_at) if t is not None]
        txn.token = next(self._tokens)
        if due:
            heapq.heappush(self._heap, (min(due), txn.token, txn))


def _client_key(message: Message) -> tuple[str, ...]:
    """RFC 3261 17.1.3: the top Via's branch and the CSeq method."""
    return (message.via[0].branch or "", message.cseq.method)


def _server_key(request: Request, method: str | None = None) -> tuple[str, ...]:
    """RFC 3261 17.2.3: branch, sent-by and method (an ACK belongs to its INVITE)."""
    top = request.via[0]
    name = method or ("INVITE" if request.method == "ACK" else request.method)
    return (top.branch or "", top.sent_by, name)


def _ack_key(message: Message) -> tuple[str, ...]:
    """The ACK of a 2xx has a branch of its own: it matches by dialog and CSeq number."""
    return (message.call_id, message.to.tag or "", str(message.cseq.number))


def _ack_for(invite: Request, response: Response) -> Request:
    """RFC 3261 17.1.1.3: the ACK of a non-2xx final, built by the transaction: the
    INVITE's Request-URI, Call-ID, From, CSeq number, top Via and Route; the response's To."""
    return build_request(
        "ACK", invite.uri, call_id=invite.call_id, from_=invite.from_, to=response.to,
        cseq=invite.cseq.number, via=invite.via[0], route=invite.route,
    )  # fmt: skip
