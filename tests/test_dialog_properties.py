"""Property tests: the dialog invariants hold over random message orders.

A hypothesis state machine drives Alice's UAC manager and three forks of Bob (one UAS
manager each, every fork with its own To tag, Contact and Record-Route path) through random
sequences of: new INVITEs and retries, provisional responses with and without a To tag,
2xx and non-2xx finals from any fork, CANCEL, ACK, in-dialog INFO/UPDATE/OPTIONS/re-INVITE/
BYE from either side (built with ``dialog.request``), answers to them (200, 481, 408, 491,
500), stale CSeq numbers, requests for dialogs that do not exist, transaction timeouts, the
application giving a dialog up, and a fake clock that jumps past every timer. The network
loses, duplicates and reorders: a packet is delivered any number of times, in any order.
The peers' applications follow the RFCs where this library leaves it to them: a fork sends
one final response per INVITE (retransmitted as is) and, once its early dialog has ended,
answers the INVITE 487 (RFC 3261 15.1.2); its transaction layer absorbs INVITE
retransmissions after the final (RFC 3261 17.2.1, RFC 6026). Each fork picks a To tag of
its own per INVITE, so a dialog id can only be reused by bringing a dialog back.

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

import functools
import itertools
import random
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
    DialogSet,
    DialogSetDropped,
    DialogTerminated,
    GlareError,
    LocalProtocolError,
    NameAddr,
    NoSuchDialog,
    OutOfOrderError,
    Request,
    Response,
    RetryRequest,
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
FORK = st.integers(0, FORKS - 1)
#: what may end a dialog (RFC 3261 12.2.1.2, 12.3, 13.2.2.4, 15; the cap; the application)
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
    """The fork k whose To tags look like ``f<k>c<call>s<cseq>`` (see ``arrive``)."""
    if tag and tag[0] == "f" and tag[1:2].isdigit():
        return int(tag[1])
    return None


class DialogMachine(RuleBasedStateMachine):
    """RFC 3261 12, 13.2.2.4, 15: Alice, three forks of Bob, a lossy network, a fake clock."""

    def __init__(self) -> None:
        super().__init__()
        make = [
            # a seeded random source: the glare retry window (RFC 3261 14.1) must replay
            # identically when hypothesis shrinks a failing run
            DialogManager(
                t1=T1,
                early_timeout=EARLY_TIMEOUT,
                max_unconfirmed=cap,
                rng=random.Random(n),
            )
            for n, cap in enumerate((ALICE_CAP, BOB_CAP, BOB_CAP, BOB_CAP))
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
        base = ALICE_CONTACT if side == ALICE_SIDE else FORK_CONTACT[FORK_SIDES.index(side)]
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
        *,
        cause: str = "message",
    ) -> list[DialogEvent] | None:
        """Run ``action`` on ``side``'s manager: it must raise ``expect`` (and change
        nothing) or, when ``expect`` is None, succeed; its events are checked. ``cause``:
        what drives the call ("message", "timer" for ``handle_timer``, "application")."""
        before = self.snapshot(side)
        waiting = [s for s in self.managers[side].dialog_sets.values() if s.confirmed_at is None]
        raised: DialogError | None = None
        try:
            events = action()
        except DialogError as error:  # anything else is a bug, and fails the test
            raised = error
        if raised is not None:
            # (e) atomicity: a call that raises leaves everything as it was
            assert self.snapshot(side) == before, f"{side}: {raised!r} changed state"
            assert expect is not None, f"{side}: unexpected {raised!r}"
            assert isinstance(raised, expect), f"{side}: {raised!r}, expected {expect.__name__}"
            return None
        assert expect is None, f"{side}: expected {expect.__name__}, got {events}"
        self.absorb(side, events, waiting, cause)
        return events

    def absorb(
        self, side: str, events: list[DialogEvent], waiting: list[DialogSet], cause: str
    ) -> None:
        """Check the events of one call against the RFC rules they report; ``waiting``:
        the unconfirmed dialog sets before the call, oldest first."""
        manager = self.managers[side]
        gone: set[int] = set()
        evicted = 0
        for i, event in enumerate(events):
            if isinstance(event, DialogSetDropped):
                dropped = event.dialog_set
                assert dropped.key not in manager.dialog_sets
                assert dropped.confirmed_at is None, "a dropped set had confirmed a dialog"
                assert not dropped.early(), "a dropped set kept early dialogs"
                if cause == "timer":  # expired: never before its time
                    assert dropped.created_at + EARLY_TIMEOUT <= self.p.now, event
                elif cause == "message":  # evicted: only at the cap, oldest waiting first
                    assert len(waiting) - evicted >= manager.max_unconfirmed, event
                    assert dropped is waiting[evicted], (event, waiting)
                    evicted += 1
                continue
            dialog = event.dialog
            # (c) no event names a dialog after it terminated, in this call or before, but
            # SendAck: a 2xx that crossed our BYE is still ACKed (RFC 3261 13.2.2.4)
            late = f"{side}: {type(event).__name__} for terminated {dialog}"
            if isinstance(event, SendAck) and dialog.state is State.TERMINATED:
                assert manager.dialogs.get(dialog.id) is not dialog, late
                assert 200 <= event.response.status_code <= 299, late
                continue
            assert id(dialog) not in self.ended[side], late
            assert id(dialog) not in gone, late
            self.seen[side][id(dialog)] = dialog
            if isinstance(event, DialogCreated):
                self.check_created(side, event)
            elif isinstance(event, DialogConfirmed | SendAck):
                # RFC 3261 12.1, 13.2.2.4: a 2xx to INVITE confirms, and is ACKed
                message = event.message if isinstance(event, DialogConfirmed) else event.response
                assert isinstance(message, Response), event
                assert message.cseq.method == "INVITE", event
                assert 200 <= message.status_code <= 299, event
                if isinstance(event, DialogConfirmed) and dialog.caller:
                    # RFC 3261 13.2.2.4: route set and remote target come from the 2xx
                    state = dialog.dialog_state
                    assert state.route_set == tuple(reversed(message.record_route))
                    assert state.remote_target == message.contact[0].uri
            elif isinstance(event, DialogTerminated):
                self.check_terminated(side, event, events[i + 1 :])
                gone.add(id(dialog))
            elif isinstance(event, TargetRefreshed):
                assert event.message.cseq.method in ("INVITE", "UPDATE"), event
            elif isinstance(event, RetryRequest):
                # RFC 3261 14.1: only for a 491 to our re-INVITE or UPDATE, on a live dialog
                assert event.response.status_code == 491, event
                assert event.response.cseq.method in ("INVITE", "UPDATE"), event
                assert manager.dialogs.get(dialog.id) is dialog, event
            else:
                assert isinstance(event, SendBye), event

    def check_created(self, side: str, event: DialogCreated) -> None:
        dialog, message = event.dialog, event.message
        # (c) a dialog id, once terminated, never comes back (tags are unique per INVITE
        # and fork here, so only a resurrection can reuse one)
        assert dialog.id not in self.ended_ids[side], (
            f"{side}: terminated dialog {dialog.id} created again by {message}"
        )
        # RFC 3261 12.1: only a 101-299 response to INVITE with a To tag creates a dialog
        assert isinstance(message, Response), event
        assert message.cseq.method == "INVITE", event
        assert 101 <= message.status_code <= 299, event
        early = message.status_code < 200
        assert event.state is (State.EARLY if early else State.CONFIRMED), event
        assert dialog.caller == (side == ALICE_SIDE)
        state = dialog.dialog_state
        if dialog.caller:  # RFC 3261 12.1.2: our CSeq, theirs empty
            assert (state.local_seq, state.remote_seq) == (message.cseq.number, None)
        else:  # RFC 3261 12.1.1: the INVITE's Record-Route in order, and its CSeq
            assert state.route_set == name_addrs(FORK_RR[FORK_SIDES.index(side)])
            assert (state.local_seq, state.remote_seq) == (None, message.cseq.number)

    def check_terminated(
        self, side: str, event: DialogTerminated, after: list[DialogEvent]
    ) -> None:
        dialog, message, trigger = event.dialog, event.message, event.trigger
        assert trigger in TRIGGERS, event
        assert dialog.state is State.TERMINATED, event
        assert self.managers[side].dialogs.get(dialog.id) is not dialog, event
        if trigger == "bye":
            assert isinstance(message, Request), event
            assert message.method == "BYE", event
        elif trigger == "failure":
            assert isinstance(message, Response), event
            assert message.status_code >= 200, event
        elif trigger in ("timeout", "evict", "abandon"):
            assert message is None, event
        if trigger == "evict":  # then its set goes, in the same call
            assert any(
                isinstance(e, DialogSetDropped) and e.dialog_set.key.call_id == dialog.id.call_id
                for e in after
            ), after
        self.ended_ids[side].add(dialog.id)

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
        # RFC 3261 14.2, RFC 3311 5.2: a re-INVITE or UPDATE crossing one in progress
        method, number = message.method, message.cseq.number
        if method in ("INVITE", "UPDATE"):
            mine, theirs = dialog.local_pending, dialog.remote_pending
            first = mine == (dialog.invite_cseq, "INVITE") and dialog.caller
            if mine is not None and not (first and method == "UPDATE"):
                return GlareError
            if theirs is not None and theirs[0] != number and theirs[1] == method:
                return GlareError
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
        # the callee's BYE: never on an early dialog, nor before the ACK of its 2xx
        unacked = dialog.state is State.EARLY or dialog.awaiting_ack == dialog.invite_cseq
        if method == "BYE" and not dialog.caller and unacked:
            return LocalProtocolError
        # RFC 3261 14.1: no re-INVITE while an INVITE is in progress either way
        this = (request.cseq.number, method)
        pending = (dialog.local_pending, dialog.remote_pending)
        if method == "INVITE" and any(p and p[1] == "INVITE" and p != this for p in pending):
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

    def unanswered(self) -> list[Request]:
        """Alice's INVITEs that have had no final response (nor timed out)."""
        return [
            s.request for s in self.pending
            if s.side == ALICE_SIDE and s.request.method == "INVITE" and s.request.to.tag is None
        ]  # fmt: skip

    @precondition(lambda self: bool(self.unanswered()))
    @rule(pick=PICK)
    def cancel(self, pick: int) -> None:
        """Alice cancels an INVITE that has no final response yet (RFC 3261 9.1); every
        fork gets the CANCEL."""
        invites = self.unanswered()
        request = build_cancel(invites[pick % len(invites)])
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
        if isinstance(message, Request) and message.method == "INVITE" and message.to.tag is None:
            k = FORK_SIDES.index(side)
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
    def ack(self, pick: int, sides: tuple[str, ...] = SIDES) -> None:
        """ACK a 2xx to an INVITE (RFC 3261 13.2.2.4), retransmissions included."""
        responses = [(side, r) for side in sides for r in self.two_xx[side]]
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
        re-INVITE only once confirmed (RFC 3261 14.1), and maybe a new Contact; a proxy
        may record-route it (which must change no route set, RFC 3261 12.2)."""
        dialogs = self.live()
        side, dialog = dialogs[pick % len(dialogs)]
        self.request_in(side, dialog, method, record_route, moved)

    def request_in(
        self, side: str, dialog: Dialog, method: str, record_route: bool, moved: bool
    ) -> int | None:
        """``side`` sends ``method`` in ``dialog``; the index of its packet, if sent."""
        if method == "INVITE" and dialog.state is not State.CONFIRMED:
            method = "UPDATE"
        contact = self.contact(side, moved) if method in ("INVITE", "UPDATE") else ()
        headers = [("Record-Route", STRAY_RR)] if record_route else []
        request = dialog.request(method, via=self.via(side), contact=contact, headers=headers)
        if self.send(side, request, self.peer_of(side, request)) is None:
            return None
        return len(self.net) - 1

    def peer_dialog(self, side: str, dialog: Dialog) -> tuple[str, Dialog] | None:
        """The live mirror of ``dialog`` on the other side, if there is one."""
        mirror = DialogId(dialog.id.call_id, dialog.id.remote_tag, dialog.id.local_tag)
        if side != ALICE_SIDE:
            peer = ALICE_SIDE
        else:
            k = fork_of(dialog.id.remote_tag)
            if k is None:
                return None
            peer = FORK_SIDES[k]
        found = self.managers[peer].get(mirror)
        return None if found is None else (peer, found)

    def pairs(self) -> list[tuple[str, Dialog]]:
        """Live dialogs whose mirror is live too."""
        return [(side, d) for side, d in self.live() if self.peer_dialog(side, d) is not None]

    @precondition(lambda self: bool(self.pairs()))
    @rule(
        pick=PICK, method=st.sampled_from(["INFO", "UPDATE", "OPTIONS", "INVITE", "BYE"]),
        record_route=st.booleans(), moved=st.booleans(),
    )  # fmt: skip
    def exchange(self, pick: int, method: str, record_route: bool, moved: bool) -> None:
        """A whole transaction in a dialog both sides hold, on a quiet network: request,
        its arrival, a 2xx answer, its arrival, and the ACK of a re-INVITE's 2xx."""
        pairs = self.pairs()
        side, dialog = pairs[pick % len(pairs)]
        index = self.request_in(side, dialog, method, record_route, moved)
        if index is None:
            return
        self.arrive(index)
        peer = self.net[index].dst
        for i, (packet, _) in enumerate(self.inbox[peer]):
            if packet is self.net[index]:
                self.respond(peer, i, 200)
                self.arrive(len(self.net) - 1)
                break
        response = self.net[-1].message
        if isinstance(response, Response) and response in self.two_xx[side]:
            self.ack(self.two_xx[side].index(response), sides=(side,))
            self.arrive(len(self.net) - 1)

    @precondition(lambda self: len(self.invites) < MAX_INVITES)
    @rule(fork=FORK, ring=st.booleans())
    def call(self, fork: int, ring: bool) -> None:
        """A whole call set-up on a quiet network: INVITE, (180,) 200 from one fork, ACK,
        each delivered as sent (the other forks' copies of the INVITE stay in flight)."""
        self.invite(retry=False, pick=0)
        index = len(self.net) - FORKS + fork
        self.arrive(index)
        request = self.net[index].message
        invite = self.fork_invites[fork][(request.call_id, request.cseq.number)]
        for code in (180, 200) if ring else (200,):
            self.fork_final(fork, invite, code, alt_rr=False)
            self.arrive(len(self.net) - 1)
        response = self.net[-1].message
        if isinstance(response, Response) and response in self.two_xx[ALICE_SIDE]:
            self.ack(self.two_xx[ALICE_SIDE].index(response), sides=(ALICE_SIDE,))
            self.arrive(len(self.net) - 1)

    @precondition(lambda self: bool(self.invites))
    @rule(
        kind=st.sampled_from(["stale", "stray", "tagless"]), pick=PICK, fork=FORK,
        method=st.sampled_from(["INFO", "UPDATE", "BYE", "INVITE", "ACK"]),
        back=st.integers(1, 3), inject=st.booleans(),
    )  # fmt: skip
    def misbehave(
        self, *, kind: str, pick: int, fork: int, method: str, back: int, inject: bool
    ) -> None:
        """Messages a compliant peer would not send.

        ``stale``: a request with a CSeq below the peer's remote sequence number (so below
        our local one), which the manager refuses (RFC 3261 12.2.1.1) and a buggy peer may
        send anyway (the receiver answers 500, RFC 3261 12.2.2).
        ``stray``: a request with a To tag of no dialog, refused when sent and answered 481
        when sent anyway (RFC 3261 12.2.2; a stray ACK is absorbed).
        ``tagless``: a proxy's 1xx without To tag (RFC 3261 12.1: creates no dialog).
        """
        dialogs = self.live()
        if kind == "stale" and dialogs:
            side, dialog = dialogs[pick % len(dialogs)]
            if method in ("INVITE", "ACK"):
                method = "INFO"
            # below what the peer has seen when it holds the dialog, else below our own
            peer = self.peer_dialog(side, dialog)
            seen = None if peer is None else peer[1].dialog_state.remote_seq
            cseq = max(0, (seen or dialog.dialog_state.local_seq or 1) - back)
            request = dialog.request(method, via=self.via(side), cseq=cseq)
            self.send(side, request, self.peer_of(side, request), inject=inject)
        elif kind == "tagless" and self.invites:
            invite = self.invites[pick % len(self.invites)]
            code = 183 if inject else 180
            self.net.append(Packet("proxy", ALICE_SIDE, build_response(invite, code)))
        else:
            self.stray_request(SIDES[pick % len(SIDES)], pick, fork, method, known=inject)

    def stray_request(self, side: str, pick: int, fork: int, method: str, known: bool) -> None:
        n = next(self.moves)
        if known and self.calls:
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
        self.respond(side, i, code)

    def respond(self, side: str, i: int, code: int) -> None:
        """``side`` answers the ``i``-th request of its inbox with ``code`` (or with what the
        manager's refusal called for)."""
        packet, forced = self.inbox[side].pop(i)
        request = packet.message
        assert isinstance(request, Request)
        if request.method == "CANCEL":
            k = FORK_SIDES.index(side)
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
    @precondition(lambda self: bool(self.pending) or any(self.seen.values()))
    @rule(timeout=st.booleans(), pick=PICK)
    def give_up(self, timeout: bool, pick: int) -> None:
        """A request got no final response in time (``timeout``: RFC 3261 12.2.1.2, the
        dialog ends; for an INVITE, its early dialogs), or the application gives a dialog
        up (a dialog already ended stays ended)."""
        if timeout and self.pending:
            sent = self.pending.pop(pick % len(self.pending))
            manager, now = self.managers[sent.side], self.p.now
            timed_out = functools.partial(manager.transaction_timeout, sent.request, now=now)
            events = self.do(sent.side, timed_out, None, cause="application")
            assert events is not None
            for event in events:
                assert isinstance(event, DialogTerminated | DialogSetDropped), event
                if isinstance(event, DialogTerminated):
                    assert event.trigger == "error", event
            return
        dialogs = [(side, d) for side, seen in self.seen.items() for d in seen.values()]
        if not dialogs:
            return
        side, dialog = dialogs[pick % len(dialogs)]
        was_live = dialog.state in LIVE
        manager, now = self.managers[side], self.p.now
        abandon = functools.partial(manager.terminate, dialog, now=now)
        events = self.do(side, abandon, None, cause="application")
        assert events is not None
        if was_live:
            assert len(events) == 1, events
            assert isinstance(events[0], DialogTerminated), events
            assert events[0].trigger == "abandon", events
        else:
            assert events == [], events

    @precondition(lambda self: bool(self.invites))
    @rule(
        dt=st.sampled_from([0.0, 0.1, 0.5, 2.0, 16.0, 64 * T1, EARLY_TIMEOUT]),
        fire=st.sampled_from([*SIDES, "all"]),
    )
    def clock(self, dt: float, fire: str) -> None:
        """Time passes; one side (or all) asks for its timers: ``handle_timer(now)`` fires
        what is due, and only that, and what it leaves is later."""
        self.p.now += dt
        now = self.p.now
        for side in SIDES if fire == "all" else (fire,):
            manager = self.managers[side]
            due = manager.get_timer()
            fire_timers = functools.partial(manager.handle_timer, now)
            events = self.do(side, fire_timers, None, cause="timer")
            assert events is not None
            if due is None or due > now:
                assert events == [], events
            for event in events:
                # timers end dialogs (early timeout, no ACK) or open a glare retry window
                assert isinstance(
                    event, DialogTerminated | DialogSetDropped | SendBye | RetryRequest
                ), event
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
        for dialog_id, dialog in index.items():
            assert dialog_id == dialog.id == dialog.dialog_state.id
            assert dialog.state in LIVE, dialog
            assert dialog.caller == (side == ALICE_SIDE)
        live = {ref for ref, d in seen.items() if d.state in LIVE}
        assert live == {id(d) for d in index.values()}, f"{side}: live dialogs out of index"
        for ref, dialog in seen.items():
            state = dialog.dialog_state
            assert dialog.state is not State.NONE, dialog
            # a dialog, live or ended, holds its dialog set only while the set is open
            held = dialog.dialog_set
            assert held is None or manager.dialog_sets.get(held.key) is held, dialog
            # (f) the early flag follows the state
            assert state.early == (dialog.state is State.EARLY), dialog
            # (c) terminated is final and leaves every index
            if ref in self.ended[side]:
                assert dialog.state is State.TERMINATED, f"{dialog} came back"
            if dialog.state is State.TERMINATED:
                self.ended[side].add(ref)
                assert index.get(dialog.id) is not dialog
                assert dialog.dialog_set is None or all(
                    d is not dialog for d in dialog.dialog_set.dialogs.values()
                ), f"{dialog} left in its dialog set"
            # (a) sequence numbers never go back, nor become empty again
            now_seqs = (state.local_seq, state.remote_seq)
            for old, new in zip(self.seqs.get(ref, (None, None)), now_seqs, strict=True):
                assert old is None or (new is not None and new >= old), (dialog, old, new)
            self.seqs[ref] = now_seqs
            # (d) the route set is frozen once the dialog is confirmed
            routes = tuple(str(r) for r in state.route_set)
            if ref in self.frozen:
                assert routes == self.frozen[ref], f"{dialog}: route set changed"
            elif dialog.state is State.CONFIRMED:
                self.frozen[ref] = routes
        # dialog sets: keyed right, holding live dialogs of their own side, each with a timer
        unconfirmed = 0
        due = manager.get_timer()
        for set_key, dialog_set in manager.dialog_sets.items():
            assert set_key == dialog_set.key
            assert dialog_set.caller == (side == ALICE_SIDE)
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
            assert due is not None, (side, set_key)
            assert due <= deadline, (side, set_key, due, deadline)
        assert unconfirmed <= manager.max_unconfirmed


def wire_bytes(data: bytes) -> Request:
    """A request as a proxy forwards it (``data`` with Record-Route added)."""
    request = parse_message(data)
    assert isinstance(request, Request)
    return request


DialogMachine.TestCase.settings = settings(BASE, max_examples=300, stateful_step_count=100)
#: the test pytest runs: RFC 3261 12, 13.2.2.4, 15 invariants over random message orders
TestDialogProperties = DialogMachine.TestCase
