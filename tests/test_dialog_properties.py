"""Property tests: the dialog invariants hold over random message orders.

A hypothesis state machine drives Alice's UAC manager and three forks of Bob (one UAS
manager each, every fork with its own To tag, Contact and Record-Route path) through random
sequences of: new INVITEs and retries, provisional responses with and without a To tag,
2xx and non-2xx finals from any fork, CANCEL, ACK, in-dialog INFO/UPDATE/OPTIONS/re-INVITE/
BYE from either side (built with ``dialog.request``), answers to them (200, 481, 408, 491,
500), stale CSeq numbers, requests for dialogs that do not exist, transaction timeouts, the
application giving a dialog up, and a fake clock that jumps past every timer. The network
loses, duplicates and reorders: a packet is delivered any number of times, in any order.

Every call either succeeds or raises the ``DialogError`` the RFC predicts; any other
exception is a bug. After every step, on every manager (RFC 3261 12, 12.2.1.1, 12.2.2,
13.2.2.4):

(a) the local and remote sequence numbers of a dialog never decrease;
(b) at most one live dialog per ``DialogId``: ``manager.dialogs`` is keyed by ``dialog.id``
    and holds every live dialog the manager reported, and only those;
(c) terminated is final: a terminated dialog never changes state, leaves every index, is
    named by no later event, and its id is never created again;
(d) the route set of a dialog never changes once it is confirmed;
(e) a call that raises changes nothing (dialogs, their records, indexes, timers);
(f) ``dialog_state.early`` is true exactly while the dialog is early.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pair import ALICE, ALICE_CONTACT, BOB, Pair, branch, name_addrs, wire
from strategies import BASE

from dialogfsm import (
    URI,
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogError,
    DialogEvent,
    DialogId,
    DialogManager,
    DialogSetDropped,
    DialogTerminated,
    LocalProtocolError,
    NameAddr,
    NoSuchDialog,
    OutOfOrderError,
    Request,
    Response,
    SendAck,
    SendBye,
    State,
    TargetRefreshed,
    build_cancel,
    build_request,
    build_response,
    parse_message,
)

T1 = 0.5
EARLY_TIMEOUT = 40.0
#: small caps, so that eviction happens in most runs
ALICE_CAP = 3
BOB_CAP = 2
FORKS = 3
#: INVITEs per run: enough to overflow the caps, few enough for calls to get somewhere
MAX_INVITES = 6

ALICE_SIDE = "alice"
FORK_SIDES = tuple(f"bob{k}" for k in range(FORKS))
SIDES = (ALICE_SIDE, *FORK_SIDES)

#: the Record-Route each proxy path adds to the INVITE reaching fork k (nearest Bob first)
FORK_RR = tuple(
    (f"<sip:edge{k}.biloxi.example.com;lr>", "<sip:core.atlanta.example.com;lr>")
    for k in range(FORKS)
)
#: what a different proxy path on the way back writes into a response of fork k
ALT_RR = tuple((f"<sip:alt{k}.biloxi.example.com;lr>",) for k in range(FORKS))
#: a proxy that record-routes a request within the dialog (it must change nothing)
STRAY_RR = "<sip:late-proxy.example.com;lr>"
FORK_CONTACT = tuple(f"<sip:bob@fork{k}.biloxi.example.com;transport=udp>" for k in range(FORKS))

LIVE = (State.EARLY, State.CONFIRMED)
PICK = st.integers(0, 2**16)
SIDE = st.sampled_from(SIDES)
FORK = st.integers(0, FORKS - 1)
#: trigger -> what may carry it (RFC 3261 12.2.1.2, 12.3, 13.2.2.4, 15; cap/expiry: no message)
TRIGGERS = frozenset({"failure", "bye", "error", "timeout", "evict", "abandon"})


@dataclass
class Packet:
    """A message on the wire from ``src`` to ``dst``; it may arrive any number of times."""

    src: str
    dst: str
    message: Request | Response


@dataclass
class ForkInvite:
    """An INVITE as fork k received it, the To tag the fork answers it with, its final."""

    request: Request
    tag: str
    final: Response | None = None


@dataclass
class Sent:
    """A request a side sent that is still waiting for its final response."""

    side: str
    request: Request


def facts(dialog: Dialog) -> tuple[object, ...]:
    """Everything a dialog holds, as plain values (URIs and route entries as text)."""

    def plain(value: object) -> object:
        if isinstance(value, URI | NameAddr):
            return str(value)
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        return value

    state = tuple(plain(v) for v in attrs.astuple(dialog.dialog_state, recurse=False))
    return (
        dialog.state, state, dialog.awaiting_ack, plain(dialog.pending_refresh),
        id(dialog.dialog_set), dialog.caller, dialog.invite_cseq,
    )  # fmt: skip


def fork_of(tag: str | None) -> int | None:
    """The fork whose To tags look like ``f<k>c...`` (see ``fork_tag``)."""
    if tag and tag[0] == "f" and tag[1:2].isdigit():
        return int(tag[1])
    return None


class DialogMachine(RuleBasedStateMachine):
    """Alice and three forks of Bob, a lossy reordering network and a fake clock."""

    def __init__(self) -> None:
        super().__init__()
        make = [
            DialogManager(t1=T1, early_timeout=EARLY_TIMEOUT, max_unconfirmed=cap)
            for cap in (ALICE_CAP, BOB_CAP, BOB_CAP, BOB_CAP)
        ]
        self.p = Pair(uac=make[0], uas=make[1])
        self.managers: dict[str, DialogManager] = dict(zip(SIDES, make, strict=True))
        self.net: list[Packet] = []
        self.delivered: set[int] = set()
        self.calls: list[tuple[str, str]] = []  # (Call-ID, Alice's From tag)
        self.cseq_hi: dict[str, int] = {}  # highest CSeq Alice used in each call
        self.invites: list[Request] = []  # every INVITE Alice sent outside a dialog
        self.fork_invites: list[dict[tuple[str, int], ForkInvite]] = [{} for _ in FORK_SIDES]
        self.inbox: dict[str, list[tuple[Packet, int | None]]] = {s: [] for s in SIDES}
        self.two_xx: dict[str, list[Response]] = {s: [] for s in SIDES}
        self.pending: list[Sent] = []
        self.moves = itertools.count()
        # what the invariants remember, per side
        self.seen: dict[str, dict[int, Dialog]] = {s: {} for s in SIDES}
        self.ended: dict[str, set[int]] = {s: set() for s in SIDES}
        self.ended_ids: dict[str, set[DialogId]] = {s: set() for s in SIDES}
        self.seqs: dict[int, tuple[int | None, int | None]] = {}
        self.frozen: dict[int, tuple[str, ...]] = {}

    # -- helpers -------------------------------------------------------------------------
    def via(self, side: str) -> str:
        if side == ALICE_SIDE:
            return self.p.via()
        return f"SIP/2.0/UDP {side}.biloxi.example.com:5060;branch={branch()}"

    def contact(self, side: str, moved: bool) -> str:
        base = ALICE_CONTACT if side == ALICE_SIDE else FORK_CONTACT[int(side[3:])]
        if not moved:
            return base
        return base.replace("@", f"@moved{next(self.moves)}.")

    def peer_of(self, side: str, message: Request | Response, fork: int = 0) -> str:
        """Where a request ``side`` sends goes: Alice's go to the fork named by the To tag."""
        if side != ALICE_SIDE:
            return ALICE_SIDE
        k = fork_of(message.to.tag)
        return FORK_SIDES[fork if k is None else k]

    def snapshot(self, side: str) -> object:
        manager = self.managers[side]
        return (
            [(key, id(d), facts(d)) for key, d in manager.dialogs.items()],
            [
                (key, id(s), s.confirmed_at, [(t, id(d)) for t, d in s.dialogs.items()])
                for key, s in manager.dialog_sets.items()
            ],
            [facts(d) for d in self.seen[side].values()],
            len(manager),
            manager.get_timer(),
        )

    def do(
        self,
        side: str,
        action: Callable[[], list[DialogEvent]],
        expect: type[DialogError] | None,
    ) -> list[DialogEvent] | None:
        """Run ``action`` on ``side``'s manager: it must raise ``expect`` (and change
        nothing) or, when ``expect`` is None, succeed; its events are checked."""
        before = self.snapshot(side)
        try:
            events = action()
        except DialogError as error:
            # (e) atomicity: a call that raises leaves everything as it was
            assert self.snapshot(side) == before, f"{side}: {error!r} changed state"
            assert expect is not None, f"{side}: unexpected {error!r}"
            assert isinstance(error, expect), f"{side}: {error!r}, expected {expect.__name__}"
            return None
        assert expect is None, f"{side}: expected {expect.__name__}, got {events}"
        self.absorb(side, events)
        return events

    def absorb(self, side: str, events: list[DialogEvent]) -> None:
        """Check the events of one call against the RFC rules they report."""
        manager = self.managers[side]
        gone: set[int] = set()
        for event in events:
            if isinstance(event, DialogSetDropped):
                dropped = event.dialog_set
                assert dropped.key not in manager.dialog_sets
                assert dropped.confirmed_at is None, "a dropped set had confirmed a dialog"
                assert not dropped.early(), "a dropped set kept early dialogs"
                continue
            dialog = event.dialog
            key = id(dialog)
            # (c) no event names a dialog after it terminated, in this call or before
            assert key not in self.ended[side] and key not in gone, (
                f"{side}: {type(event).__name__} for terminated {dialog}"
            )
            self.seen[side][key] = dialog
            message = event.message if not isinstance(event, SendAck) else event.response
            if isinstance(event, DialogCreated):
                # (c) a dialog id, once terminated, never comes back (tags are unique per
                # INVITE and fork here, so only a resurrection can reuse one)
                assert dialog.id not in self.ended_ids[side], (
                    f"{side}: terminated dialog {dialog.id} created again by {message}"
                )
                # RFC 3261 12.1: only a 101-299 response to INVITE with a To tag creates one
                assert isinstance(message, Response), event
                assert message.cseq.method == "INVITE", event
                assert 101 <= message.status_code <= 299, event
                assert event.state is (State.EARLY if message.status_code < 200 else State.CONFIRMED)
                assert dialog.caller == (side == ALICE_SIDE)
                if not dialog.caller:  # RFC 3261 12.1.1: the INVITE's Record-Route, in order
                    k = int(side[3:])
                    assert dialog.dialog_state.route_set == name_addrs(FORK_RR[k])
            elif isinstance(event, DialogConfirmed | SendAck):
                # RFC 3261 12.1, 13.2.2.4: a 2xx to INVITE confirms, and is ACKed
                assert isinstance(message, Response), event
                assert message.cseq.method == "INVITE", event
                assert 200 <= message.status_code <= 299, event
                if isinstance(event, DialogConfirmed) and dialog.caller:
                    # RFC 3261 13.2.2.4: the route set comes from the 2xx, reversed
                    state = dialog.dialog_state
                    assert state.route_set == tuple(reversed(message.record_route))
            elif isinstance(event, DialogTerminated):
                assert event.trigger in TRIGGERS, event
                assert dialog.state is State.TERMINATED, event
                assert manager.dialogs.get(dialog.id) is not dialog, event
                if event.trigger == "bye":
                    assert isinstance(message, Request) and message.method == "BYE", event
                elif event.trigger in ("timeout", "evict", "abandon"):
                    assert message is None, event
                elif event.trigger == "failure":
                    assert isinstance(message, Response) and message.status_code >= 200, event
                gone.add(key)
                self.ended_ids[side].add(dialog.id)
            elif isinstance(event, TargetRefreshed):
                assert message is not None
                assert message.cseq.method in ("INVITE", "UPDATE"), event
            else:
                assert isinstance(event, SendBye), event

    def expect_receive(self, side: str, message: Request | Response) -> type[DialogError] | None:
        """RFC 3261 12.2.2: 481 for a mid-dialog request of no dialog, 500 for a stale one."""
        if isinstance(message, Response) or message.to.tag is None or message.method == "ACK":
            return None
        dialog = self.managers[side].find(message, sent=False)
        if dialog is None:
            return NoSuchDialog
        remote = dialog.dialog_state.remote_seq
        if message.method != "CANCEL" and remote is not None and message.cseq.number < remote:
            return OutOfOrderError
        return None

    def expect_send(self, side: str, request: Request) -> type[DialogError] | None:
        """RFC 3261 12.2.1.1, 15: what a manager must refuse to send."""
        method = request.method
        dialog = self.managers[side].find(request, sent=True)
        if dialog is None:
            tagged = request.to.tag is not None and method not in ("ACK", "CANCEL")
            return LocalProtocolError if tagged else None
        if method in ("ACK", "CANCEL"):
            return None
        local = dialog.dialog_state.local_seq
        if local is not None and request.cseq.number < local:
            return LocalProtocolError
        if method == "BYE" and not dialog.caller:
            # the callee: never on an early dialog, nor before the ACK of its 2xx
            if dialog.state is State.EARLY or dialog.awaiting_ack == dialog.invite_cseq:
                return LocalProtocolError
        return None

    def send(
        self, side: str, message: Request | Response, dst: str, *, inject: bool = False
    ) -> list[DialogEvent] | None:
        """``side`` sends ``message`` to ``dst``; a refused message stays off the wire unless
        ``inject`` (a peer that does not use this library, or a buggy one)."""
        manager, now = self.managers[side], self.p.now
        expect = self.expect_send(side, message) if isinstance(message, Request) else None
        events = self.do(side, lambda: manager.send(message, now=now), expect)
        if events is not None or inject:
            self.net.append(Packet(side, dst, message))
        if events is not None and isinstance(message, Request):
            if message.method not in ("ACK", "CANCEL"):
                self.pending.append(Sent(side, message))
            if side == ALICE_SIDE and message.call_id in self.cseq_hi:
                hi = self.cseq_hi[message.call_id]
                self.cseq_hi[message.call_id] = max(hi, message.cseq.number)
        return events

    def live(self) -> list[tuple[str, Dialog]]:
        """Every live dialog of every side."""
        return [(side, d) for side, m in self.managers.items() for d in m.dialogs.values()]

    def fork_final(self, k: int, invite: ForkInvite, code: int, alt_rr: bool) -> None:
        """Fork k answers (or re-sends its final answer to) an INVITE it received."""
        side = FORK_SIDES[k]
        if invite.final is not None:  # one final per INVITE: later ones are retransmissions
            response = invite.final
        else:
            request = invite.request
            mine = DialogId(request.call_id, invite.tag, request.from_.tag or "")
            if 100 < code < 300 and mine in self.ended_ids[side]:
                # RFC 3261 15.1.2: a UAS whose early dialog ended (BYE, timeout, eviction,
                # the application) answers the INVITE with a non-2xx final
                code = 487
            rr = list(ALT_RR[k]) if alt_rr and code != 100 else None
            response = self.p.answer(
                request, code, to_tag=invite.tag, contact=FORK_CONTACT[k], record_route=rr
            )
            if code >= 200:
                invite.final = response
        self.send(side, response, ALICE_SIDE)

    # -- rules: the dialog-creating request --------------------------------------------
    @precondition(lambda self: len(self.invites) < MAX_INVITES)
    @rule(retry=st.booleans(), pick=PICK)
    def invite(self, retry: bool, pick: int) -> None:
        """Alice sends an INVITE: a new call, or a retry in a call with nothing left alive
        (RFC 3261 8.1.3.5: same Call-ID and From tag, higher CSeq)."""
        uac = self.managers[ALICE_SIDE]
        busy = {d.id.call_id for d in uac.dialogs.values()}
        busy |= {key.call_id for key in uac.dialog_sets}
        idle = [c for c in self.calls if c[0] not in busy]
        if retry and idle:
            call_id, from_tag = idle[pick % len(idle)]
            cseq = self.cseq_hi[call_id] + 1
        else:
            n = len(self.calls)
            call_id, from_tag, cseq = f"call{n}@atlanta.example.com", f"a{n}", 1
            self.calls.append((call_id, from_tag))
        self.cseq_hi[call_id] = cseq
        invite = self.p.invite(call_id=call_id, from_tag=from_tag, cseq=cseq)
        events = self.send(ALICE_SIDE, invite, ALICE_SIDE)
        assert events is not None
        self.net.pop()  # each fork receives its own copy, through its own proxies
        self.invites.append(invite)
        head, rest = bytes(invite).split(b"\r\n", 1)
        for k, side in enumerate(FORK_SIDES):
            rr = b"".join(b"Record-Route: %s\r\n" % r.encode() for r in FORK_RR[k])
            self.net.append(Packet(ALICE_SIDE, side, wire_bytes(head + b"\r\n" + rr + rest)))

    @precondition(lambda self: any(self.fork_invites))
    @rule(
        pick=PICK, again=st.booleans(),
        code=st.sampled_from([100, 180, 180, 183, 200, 200, 486, 603, 408]),
        alt_rr=st.booleans(),
    )  # fmt: skip
    def fork_responds(self, pick: int, again: bool, code: int, alt_rr: bool) -> None:
        """A fork answers an INVITE it received: 100, a 1xx or 2xx with its To tag (and a
        Record-Route that may differ on the way back), or a non-2xx final; ``again``: one
        it already answered with a final (a retransmission)."""
        invites = [
            (k, fi) for k, invites in enumerate(self.fork_invites) for fi in invites.values()
        ]
        open_ = [(k, fi) for k, fi in invites if fi.final is None]
        choice = open_ if open_ and not again else invites
        fork, invite = choice[pick % len(choice)]
        self.fork_final(fork, invite, code, alt_rr)

    @precondition(lambda self: bool(self.invites))
    @rule(pick=PICK, code=st.sampled_from([180, 183]))
    def proxy_provisional(self, pick: int, code: int) -> None:
        """A proxy answers Alice's INVITE with a 1xx without To tag (RFC 3261 12.1: no
        dialog)."""
        invite = self.invites[pick % len(self.invites)]
        self.net.append(Packet("proxy", ALICE_SIDE, build_response(invite, code)))

    @precondition(lambda self: bool(self.invites))
    @rule(pick=PICK)
    def cancel(self, pick: int) -> None:
        """Alice cancels one of her INVITEs (RFC 3261 9.1); every fork gets the CANCEL."""
        invite = self.invites[pick % len(self.invites)]
        request = build_cancel(invite)
        events = self.send(ALICE_SIDE, request, FORK_SIDES[0])
        assert events in (None, [])
        self.net += [Packet(ALICE_SIDE, side, request) for side in FORK_SIDES[1:]]

    # -- rules: the network --------------------------------------------------------------
    def fresh(self) -> list[int]:
        return [i for i in range(len(self.net)) if i not in self.delivered]

    @precondition(lambda self: len(self.delivered) < len(self.net))
    @rule(skip=st.integers(0, 3))
    def deliver(self, skip: int) -> None:
        """One of the oldest packets not yet delivered arrives (``skip`` > 0: it overtakes
        those before it)."""
        fresh = self.fresh()
        self.arrive(fresh[min(skip, len(fresh) - 1)])

    @precondition(lambda self: len(self.delivered) < len(self.net))
    @rule()
    def flush(self) -> None:
        """Every packet not yet delivered arrives, in order."""
        for index in self.fresh():
            self.arrive(index)

    @precondition(lambda self: bool(self.net))
    @rule(pick=PICK)
    def redeliver(self, pick: int) -> None:
        """Any packet arrives (again): duplication, and reordering of late copies."""
        self.arrive(pick % len(self.net))

    def arrive(self, index: int) -> None:
        self.delivered.add(index)
        packet = self.net[index]
        side, message = packet.dst, wire(packet.message)
        manager, now = self.managers[side], self.p.now
        k = fork_of("f" + side[3:]) if side != ALICE_SIDE else None
        if isinstance(message, Request) and message.method == "INVITE" and message.to.tag is None:
            assert k is not None
            key = (message.call_id, message.cseq.number)
            known = self.fork_invites[k].get(key)
            # the server transaction absorbs the INVITE's retransmissions once it has
            # answered with a final response (RFC 3261 17.2.1; RFC 6026 7.1)
            if known is not None and known.final is not None:
                return
            if known is None:
                calls = [c for c, _ in self.calls]
                tag = f"f{k}c{calls.index(message.call_id)}s{message.cseq.number}"
                self.fork_invites[k][key] = ForkInvite(message, tag)
        expect = self.expect_receive(side, message)
        events = self.do(side, lambda: manager.receive(message, now=now), expect)
        if isinstance(message, Response):
            self.got_response(side, message)
            return
        if message.method == "CANCEL":
            self.inbox[side].append((packet, None))
        elif message.method not in ("ACK", "INVITE") or message.to.tag is not None:
            if message.method == "ACK":
                assert events == [], events
            elif expect is NoSuchDialog:
                self.inbox[side].append((packet, 481))
            elif expect is OutOfOrderError:
                self.inbox[side].append((packet, 500))
            else:
                self.inbox[side].append((packet, None))

    def got_response(self, side: str, response: Response) -> None:
        if response.status_code >= 200:
            method = response.cseq.method
            self.pending = [
                s for s in self.pending
                if not (s.side == side and s.request.call_id == response.call_id
                        and s.request.cseq == response.cseq
                        and s.request.from_.tag == response.from_.tag)
            ]  # fmt: skip
            if method == "INVITE" and response.status_code < 300:
                self.two_xx[side].append(response)

    # -- rules: within the dialog --------------------------------------------------------
    @precondition(lambda self: any(self.two_xx.values()))
    @rule(pick=PICK)
    def ack(self, pick: int) -> None:
        """ACK a 2xx to an INVITE (RFC 3261 13.2.2.4), retransmissions included."""
        responses = [(side, r) for side, rs in self.two_xx.items() for r in rs]
        side, response = responses[pick % len(responses)]
        dialog = self.managers[side].find(response, sent=False)
        if dialog is None:
            return
        request = dialog.ack(response, via=self.via(side))
        events = self.send(side, request, self.peer_of(side, request))
        assert events == [], events

    @precondition(lambda self: bool(self.live()))
    @rule(
        pick=PICK, method=st.sampled_from(["INFO", "UPDATE", "OPTIONS", "INVITE", "BYE"]),
        record_route=st.booleans(), moved=st.booleans(),
    )  # fmt: skip
    def in_dialog(self, pick: int, method: str, record_route: bool, moved: bool) -> None:
        """A request within a live dialog, with the next CSeq (RFC 3261 12.2.1.1); a
        re-INVITE only once confirmed (RFC 3261 14.1), and maybe a new Contact."""
        dialogs = self.live()
        side, dialog = dialogs[pick % len(dialogs)]
        if method == "INVITE" and dialog.state is not State.CONFIRMED:
            method = "UPDATE"
        contact = self.contact(side, moved) if method in ("INVITE", "UPDATE") else ()
        headers = [("Record-Route", STRAY_RR)] if record_route else []
        request = dialog.request(method, via=self.via(side), contact=contact, headers=headers)
        self.send(side, request, self.peer_of(side, request))

    @precondition(lambda self: bool(self.live()))
    @rule(
        pick=PICK, method=st.sampled_from(["INFO", "UPDATE", "BYE"]),
        back=st.integers(1, 3), inject=st.booleans(),
    )  # fmt: skip
    def stale_request(self, pick: int, method: str, back: int, inject: bool) -> None:
        """A request with a CSeq below the dialog's local sequence number: the manager
        refuses to send it (RFC 3261 12.2.1.1); a buggy peer may send it anyway."""
        dialogs = self.live()
        side, dialog = dialogs[pick % len(dialogs)]
        local = dialog.dialog_state.local_seq
        cseq = max(1, (local or 1) - back)
        request = dialog.request(method, via=self.via(side), cseq=cseq)
        self.send(side, request, self.peer_of(side, request), inject=inject)

    @rule(
        side=SIDE, pick=PICK, fork=FORK, known_call=st.booleans(),
        method=st.sampled_from(["INFO", "BYE", "INVITE", "UPDATE", "ACK"]),
    )  # fmt: skip
    def stray_request(
        self, side: str, pick: int, fork: int, known_call: bool, method: str
    ) -> None:
        """A request with a To tag of no dialog: refused when sent (it belongs to no
        dialog) and, sent anyway, answered 481 (RFC 3261 12.2.2); a stray ACK is absorbed."""
        n = next(self.moves)
        if known_call and self.calls:
            call_id, alice_tag = self.calls[pick % len(self.calls)]
        else:
            call_id, alice_tag = f"stray{n}@example.com", f"a-stray{n}"
        bob_tag = f"nosuch{n}"
        if side == ALICE_SIDE:
            from_, to = f"<{ALICE}>;tag={alice_tag}", f"<{BOB}>;tag={bob_tag}"
        else:
            from_, to = f"<{BOB}>;tag={bob_tag}", f"<{ALICE}>;tag={alice_tag}"
        request = build_request(
            method, BOB if side == ALICE_SIDE else ALICE, call_id=call_id, from_=from_,
            to=to, cseq=1000 + n, via=self.via(side), contact=self.contact(side, False),
        )  # fmt: skip
        self.send(side, request, self.peer_of(side, request, fork), inject=True)

    @precondition(lambda self: any(self.inbox.values()))
    @rule(pick=PICK, code=st.sampled_from([200, 200, 481, 408, 491, 500]))
    def answer(self, pick: int, code: int) -> None:
        """Answer a request received within a dialog (481/500 for those the manager
        refused, RFC 3261 12.2.2); a fork answers a CANCEL with 200 and 487 (RFC 3261 9.2)."""
        waiting = [(side, i) for side, inbox in self.inbox.items() for i in range(len(inbox))]
        side, i = waiting[pick % len(waiting)]
        packet, forced = self.inbox[side].pop(i)
        request = packet.message
        assert isinstance(request, Request)
        if request.method == "CANCEL":
            k = int(side[3:])
            invite = self.fork_invites[k].get((request.call_id, request.cseq.number))
            if invite is None:  # RFC 3261 9.2: no transaction to cancel
                self.send(side, build_response(request, 481), packet.src)
                return
            self.send(side, build_response(request, 200, to_tag=invite.tag), packet.src)
            self.fork_final(k, invite, 487, alt_rr=False)
            return
        code = forced or code
        refresh = 200 <= code < 300 and request.method in ("INVITE", "UPDATE")
        contact = self.contact(side, moved=code == 200) if refresh else ()
        self.send(side, build_response(request, code, contact=contact), packet.src)

    # -- rules: the application and the clock --------------------------------------------
    @precondition(lambda self: bool(self.pending))
    @rule(pick=PICK)
    def transaction_timeout(self, pick: int) -> None:
        """A request got no final response in time (RFC 3261 12.2.1.2: the dialog ends;
        for an INVITE, its early dialogs)."""
        sent = self.pending.pop(pick % len(self.pending))
        manager, now = self.managers[sent.side], self.p.now
        events = self.do(
            sent.side, lambda: manager.transaction_timeout(sent.request, now=now), None
        )
        assert events is not None
        for event in events:
            assert isinstance(event, DialogTerminated | DialogSetDropped), event
            if isinstance(event, DialogTerminated):
                assert event.trigger == "error", event

    @precondition(lambda self: any(self.seen.values()))
    @rule(pick=PICK)
    def terminate(self, pick: int) -> None:
        """The application gives a dialog up; a dialog already ended stays ended."""
        dialogs = [(side, d) for side, seen in self.seen.items() for d in seen.values()]
        side, dialog = dialogs[pick % len(dialogs)]
        was_live = dialog.state in LIVE
        manager, now = self.managers[side], self.p.now
        events = self.do(side, lambda: manager.terminate(dialog, now=now), None)
        assert events is not None
        if was_live:
            assert len(events) == 1, events
            assert isinstance(events[0], DialogTerminated), events
            assert events[0].trigger == "abandon", events
        else:
            assert events == [], events

    @rule(dt=st.sampled_from([0.1, 0.5, 2.0, 16.0, 64 * T1, EARLY_TIMEOUT]))
    def advance(self, dt: float) -> None:
        """Time passes (the timers fire only when the application asks)."""
        self.p.now += dt

    @rule(side=SIDE)
    def fire(self, side: str) -> None:
        """``handle_timer(now)`` fires what is due, and only that; what it leaves is later."""
        manager, now = self.managers[side], self.p.now
        due = manager.get_timer()
        events = self.do(side, lambda: manager.handle_timer(now), None)
        assert events is not None
        if due is None or due > now:
            assert events == [], events
        for event in events:
            assert isinstance(event, DialogTerminated | DialogSetDropped | SendBye), event
            if isinstance(event, DialogTerminated):
                assert event.trigger == "timeout", event
        later = manager.get_timer()
        assert later is None or later > now, (later, now)

    # -- invariants ----------------------------------------------------------------------
    @invariant()
    def dialogs_hold_their_rules(self) -> None:
        for side in SIDES:
            self.check_side(side)

    def check_side(self, side: str) -> None:
        manager = self.managers[side]
        seen = self.seen[side]
        index = manager.dialogs
        for dialog in index.values():  # every indexed dialog was reported created
            assert id(dialog) in seen, f"{side}: {dialog} indexed but never reported"
        # (b) one live dialog per id: the index holds every live dialog, keyed by its id
        assert len(manager) == len(index)
        for key, dialog in index.items():
            assert key == dialog.id == dialog.dialog_state.id
            assert dialog.state in LIVE, dialog
            assert dialog.caller == (side == ALICE_SIDE)
        live = {key for key, d in seen.items() if d.state in LIVE}
        assert live == {id(d) for d in index.values()}, f"{side}: live dialogs out of index"
        for key, dialog in seen.items():
            state = dialog.dialog_state
            assert dialog.state is not State.NONE, dialog
            # (f) the early flag follows the state
            assert state.early == (dialog.state is State.EARLY), dialog
            # (c) terminated is final and leaves every index
            if key in self.ended[side]:
                assert dialog.state is State.TERMINATED, f"{dialog} came back"
            if dialog.state is State.TERMINATED:
                self.ended[side].add(key)
                assert index.get(dialog.id) is not dialog
                assert dialog.dialog_set is None or all(
                    d is not dialog for d in dialog.dialog_set.dialogs.values()
                ), f"{dialog} left in its dialog set"
            # (a) sequence numbers never go back, nor become empty again
            now_seqs = (state.local_seq, state.remote_seq)
            for old, new in zip(self.seqs.get(key, (None, None)), now_seqs, strict=True):
                assert old is None or (new is not None and new >= old), (dialog, old, new)
            self.seqs[key] = now_seqs
            # (d) the route set is frozen once the dialog is confirmed
            routes = tuple(str(r) for r in state.route_set)
            if key in self.frozen:
                assert routes == self.frozen[key], f"{dialog}: route set changed"
            elif dialog.state is State.CONFIRMED:
                self.frozen[key] = routes
        # dialog sets: keyed right, holding live dialogs of their own side, each with a timer
        unconfirmed = 0
        due = manager.get_timer()
        for key, dialog_set in manager.dialog_sets.items():
            assert key == dialog_set.key and dialog_set.caller == (side == ALICE_SIDE)
            for tag, dialog in dialog_set.dialogs.items():
                assert index.get(dialog.id) is dialog, f"{dialog} in a set, not in the index"
                assert dialog.dialog_set is dialog_set
                state = dialog.dialog_state
                assert tag == (state.remote_tag if dialog.caller else state.local_tag)
            if dialog_set.confirmed_at is None:
                unconfirmed += 1
                deadline = dialog_set.created_at + EARLY_TIMEOUT
            else:
                deadline = dialog_set.confirmed_at + 64 * T1
            # an open set always has a timer that will close it (nothing waits forever)
            assert due is not None and due <= deadline, (side, key, due, deadline)
        assert unconfirmed <= manager.max_unconfirmed


def wire_bytes(data: bytes) -> Request:
    """A request as a proxy forwards it (``data`` with Record-Route added)."""
    request = parse_message(data)
    assert isinstance(request, Request)
    return request


DialogMachine.TestCase.settings = settings(BASE, max_examples=200, stateful_step_count=100)
TestDialogProperties = DialogMachine.TestCase
