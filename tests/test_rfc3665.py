"""RFC 3665 section 3: the session flows, played through a UAC manager (Alice) and a UAS
manager (Bob) joined in memory.

Each test follows one flow's message details: its Call-ID, tags, Request-URIs, Contacts and
the Record-Route the proxies insert. The proxies are not managers: ``hop`` and ``back`` make
what they change on the way (Via, Max-Forwards, Route, Record-Route, Request-URI), and they
answer with their own 100 (Trying), 407 and 200 (CANCEL). Digest credentials are abridged.
After every significant message the test checks both sides: the events, in order, and every
field of each side's ``DialogState`` (``check``), and the in-dialog requests that
``dialog.request``/``dialog.ack`` build (``check_request``).

Covered: 3.1-3.4 and 3.7-3.11. Not here: 3.5 (a SIP ALG rewriting addresses) and 3.6 (a
302 redirect, then an INVITE without SDP), which add nothing new to the dialog layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from pair import SDP, Pair, branch, kinds, of, wire

from dialogfsm import (
    URI,
    CSeq,
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogEvent,
    DialogId,
    DialogManager,
    DialogSetDropped,
    DialogTerminated,
    Headers,
    Request,
    Response,
    SendAck,
    State,
    TargetRefreshed,
    build_cancel,
    build_request,
    build_response,
)

ALICE = "sip:alice@atlanta.example.com"
BOB = "sip:bob@biloxi.example.com"
ALICE_TAG = "9fxced76sl"
BOB_TAG = "314159"  # 3.2-3.11 (3.1: 8321234356)
CALL_TCP = "3848276298220188511@atlanta.example.com"  # 3.1-3.3
CALL_UDP = "2xTb9vxSit55XU7p8@atlanta.example.com"  # 3.4-3.11
ALICE_TCP = "sip:alice@client.atlanta.example.com;transport=tcp"
BOB_TCP = "sip:bob@client.biloxi.example.com;transport=tcp"
ALICE_UDP = "sip:alice@client.atlanta.example.com"
BOB_UDP = "sip:bob@client.biloxi.example.com"
BOB_MOVED = "sip:bob@client.chicago.example.com"  # 3.7: Bob's address after it changes
P1 = "ss1.atlanta.example.com"
P2 = "ss2.biloxi.example.com"
RR = [f"<sip:{P2};lr>", f"<sip:{P1};lr>"]  # as the requests and 1xx/2xx carry it: P2 on top
PROXY_AUTH = 'Digest realm="atlanta.example.com", nonce="wf84f1ceczx41ae6cbe5aea9c8e88d359"'


# -- helpers ----------------------------------------------------------------------------------
def bob_via(transport: str = "TCP", host: str = "client.biloxi.example.com") -> str:
    return f"SIP/2.0/{transport} {host}:5060;branch={branch()}"


def hop(request: Request, proxy: str, *, record_route: bool = False, uri: str = "") -> Request:
    """``request`` as a loose-routing proxy forwards it (RFC 3261 16.6): its Via on top,
    Max-Forwards less one, its own Route entry removed (16.4), its Record-Route on top when
    it record-routes (16.6 step 4), the Request-URI retargeted when ``uri`` is given (16.5)."""
    routes = list(request.route)
    if routes and routes[0].uri.host == proxy:
        routes.pop(0)
    items = [("Via", f"SIP/2.0/{request.via[0].transport} {proxy}:5060;branch={branch()}")]
    for name, value in request.headers:
        if name == "Max-Forwards":
            items.append((name, str(int(value) - 1)))
            items += [("Record-Route", f"<sip:{proxy};lr>")] if record_route else []
            items += [("Route", str(r)) for r in routes]
        elif name != "Route":
            items.append((name, value))
    target = URI.parse(uri) if uri else request.uri
    got = wire(Request(request.method, target, Headers(items), request.body))
    assert isinstance(got, Request)
    return got


def back(response: Response, hops: int) -> Response:
    """``response`` after ``hops`` proxies, each removing its own Via (RFC 3261 16.7 step 3)."""
    vias = [i for i, (name, _) in enumerate(response.headers) if name == "Via"][:hops]
    items = [item for i, item in enumerate(response.headers) if i not in vias]
    got = wire(Response(response.status_code, response.reason, Headers(items), response.body))
    assert isinstance(got, Response)
    return got


def invite(
    call_id: str,
    contact: str,
    *,
    cseq: int = 1,
    transport: str = "TCP",
    route: str = "",
    credentials: bool = False,
) -> Request:
    """Alice's INVITE to sip:bob@biloxi.example.com; with ``credentials`` after a 407."""
    return build_request(
        "INVITE", BOB, call_id=call_id, from_=f"Alice <{ALICE}>;tag={ALICE_TAG}",
        to=f"Bob <{BOB}>", cseq=cseq, contact=f"<{contact}>", route=[route] if route else (),
        via=f"SIP/2.0/{transport} client.atlanta.example.com:5060;branch={branch()}",
        headers=[("Proxy-Authorization", PROXY_AUTH)] if credentials else (),
        body=SDP, content_type="application/sdp",
    )  # fmt: skip


def ack_non_2xx(request: Request, response: Response) -> Request:
    """The ACK of a non-2xx final response, built by the transaction (RFC 3261 17.1.1.3):
    the INVITE's Request-URI, top Via, Route and CSeq number, the response's To."""
    return build_request(
        "ACK", request.uri, call_id=request.call_id, from_=request.from_, to=response.to,
        cseq=request.cseq.number, via=request.via[0], route=request.route,
    )  # fmt: skip


def check(
    p: Pair,
    did: DialogId,
    state: State,
    *,
    seqs: tuple[int | None, int | None],
    targets: tuple[str, str],
    record_route: Sequence[str] = (),
) -> tuple[Dialog, Dialog]:
    """Both sides hold dialog ``did`` (Alice's id) in ``state``; every ``DialogState`` field.

    ``seqs`` are (Alice's, Bob's) local sequence numbers, each the other's remote one;
    ``targets`` (Alice's remote target = Bob's Contact, Bob's = Alice's); ``record_route``
    as the messages carry it, which is Bob's route set (RFC 3261 12.1.1) and, reversed,
    Alice's (12.1.2).
    """
    alice, bob = p.agree(did)
    a, b = alice.dialog_state, bob.dialog_state
    assert alice.state is state
    assert (a.id, b.id) == (did, DialogId(did.call_id, did.remote_tag, did.local_tag))
    assert (a.call_id, a.local_tag, a.remote_tag) == did
    assert (str(a.local_uri), str(a.remote_uri)) == (ALICE, BOB)
    assert (str(b.local_uri), str(b.remote_uri)) == (BOB, ALICE)
    assert (a.local_seq, a.remote_seq) == seqs
    assert (b.local_seq, b.remote_seq) == seqs[::-1]
    assert (str(a.remote_target), str(b.remote_target)) == targets
    assert [str(r) for r in a.route_set] == list(reversed(record_route))
    assert [str(r) for r in b.route_set] == list(record_route)
    assert (a.secure, b.secure) == (False, False)
    assert (a.early, b.early) == (state is State.EARLY,) * 2
    return alice, bob


def check_request(
    request: Request, did: DialogId, cseq: CSeq, *, uri: str, route: Sequence[str] = (),
    caller: bool,
) -> None:  # fmt: skip
    """A request in dialog ``did`` (Alice's id), sent by Alice (``caller``) or by Bob (RFC
    3261 12.2.1.1): Request-URI, Route, CSeq, Call-ID, From and To with their tags."""
    alice, bob = (ALICE, did.local_tag), (BOB, did.remote_tag)
    assert str(request.uri) == uri
    assert [str(r) for r in request.route] == list(route)
    assert (request.method, request.cseq, request.call_id) == (cseq.method, cseq, did.call_id)
    sender = (str(request.from_.uri), request.from_.tag)
    receiver = (str(request.to.uri), request.to.tag)
    assert (sender, receiver) == ((alice, bob) if caller else (bob, alice))


def ended(event: DialogEvent, dialog: Dialog, trigger: str, reason: str) -> None:
    terminated = of(DialogTerminated, event)
    assert (terminated.dialog, terminated.trigger, terminated.reason) == (dialog, trigger, reason)
    assert dialog.state is State.TERMINATED


def nothing_left(*managers: DialogManager) -> None:
    """No dialog, no dialog set, no timer."""
    for manager in managers:
        assert len(manager) == 0
        assert dict(manager.dialog_sets) == {}
        assert manager.get_timer() is None


def after_fork_window(p: Pair) -> None:
    """After the BYE neither side holds a dialog. RFC 3261 13.2.2.4: Alice's INVITE keeps
    accepting 2xx from other forks for 64*T1 after the first one; then its dialog set
    closes quietly."""
    assert len(p.uac) == len(p.uas) == 0
    assert (len(p.uac.dialog_sets), dict(p.uas.dialog_sets)) == (1, {})
    deadline = p.uac.get_timer()
    assert deadline is not None
    assert p.uac.handle_timer(deadline) == []
    nothing_left(p.uac, p.uas)


# -- successful sessions ----------------------------------------------------------------------
def test_3_1_successful_session_establishment() -> None:
    """RFC 3665 3.1: Alice calls Bob directly; Bob hangs up.

    RFC 3261 12.1.1/12.1.2 (dialog state), 13.2.2.4 (ACK the 2xx, CSeq of the INVITE),
    12.2.1.1 (the BYE: CSeq from the callee's own empty sequence), 15 (BYE ends the dialog).
    """
    p = Pair(transport="TCP")
    did = DialogId(CALL_TCP, ALICE_TAG, "8321234356")
    targets = (BOB_TCP, ALICE_TCP)
    f1 = p.invite(call_id=CALL_TCP, contact=f"<{ALICE_TCP}>")
    assert p.alice_sends(f1) == ([], [])
    assert len(p.uac.dialog_sets) == len(p.uas.dialog_sets) == 1

    sent, got = p.bob_sends(p.answer(f1, 180, contact=f"<{BOB_TCP}>"))  # F2 180 Ringing
    assert kinds(sent) == kinds(got) == [DialogCreated]
    alice, bob = check(p, did, State.EARLY, seqs=(1, None), targets=targets)
    assert (of(DialogCreated, got[0]).dialog, of(DialogCreated, sent[0]).dialog) == (alice, bob)
    assert of(DialogCreated, got[0]).state is State.EARLY

    f3 = p.answer(f1, 200, contact=f"<{BOB_TCP}>")  # F3 200 OK
    sent, got = p.bob_sends(f3)
    assert kinds(sent) == [DialogConfirmed]
    assert kinds(got) == [DialogConfirmed, SendAck]
    assert of(SendAck, got[1]).dialog is alice
    check(p, did, State.CONFIRMED, seqs=(1, None), targets=targets)
    assert bob.awaiting_ack == 1

    f4 = alice.ack(of(SendAck, got[1]).response, via=p.via())  # F4 ACK
    check_request(f4, did, CSeq(1, "ACK"), uri=BOB_TCP, caller=True)
    assert p.alice_sends(f4) == ([], [])
    assert bob.awaiting_ack is None
    check(p, did, State.CONFIRMED, seqs=(1, None), targets=targets)

    f5 = bob.request("BYE", via=bob_via())  # F5 BYE: Bob hangs up
    check_request(f5, did, CSeq(1, "BYE"), uri=ALICE_TCP, caller=False)
    sent, got = p.bob_sends(f5)
    ended(sent[0], bob, "bye", "BYE sent")
    ended(got[0], alice, "bye", "BYE received")
    assert len(sent) == len(got) == 1
    assert (bob.dialog_state.local_seq, alice.dialog_state.remote_seq) == (1, 1)
    assert p.alice_sends(build_response(f5, 200)) == ([], [])  # F6 200 OK
    assert len(p.uac) == len(p.uas) == 0
    after_fork_window(p)


def test_3_2_session_establishment_through_two_proxies() -> None:
    """RFC 3665 3.2: Proxy 1 challenges the first INVITE (407), both proxies record-route,
    Bob hangs up.

    RFC 3261 12.1 and 12.3 (the 407, with the proxy's To tag, creates no dialog and closes
    the INVITE's dialog set), 22.2 and 8.1.3.5 (the INVITE with credentials is a new
    transaction, CSeq one higher), 12.1 (100 Trying without a tag creates nothing),
    12.1.1/12.1.2 (route set: in order at Bob, reversed at Alice), 12.2.1.1 and 13.2.2.4 (ACK
    and BYE to the remote target with the route set as Route, loose routing).
    """
    p = Pair(transport="TCP")
    did = DialogId(CALL_TCP, ALICE_TAG, BOB_TAG)
    targets = (BOB_TCP, ALICE_TCP)
    f1 = invite(CALL_TCP, ALICE_TCP)
    assert p.uac.send(f1, now=0) == []
    f2 = build_response(f1, 407, to_tag="3flal12sf", headers=[("Proxy-Authenticate", (
        'Digest realm="atlanta.example.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359"'
    ))])  # fmt: skip
    assert p.uac.receive(wire(f2), now=0) == []  # F2 407 from Proxy 1
    assert len(p.uac) == 0
    assert dict(p.uac.dialog_sets) == {}
    assert p.uac.send(ack_non_2xx(f1, f2), now=0) == []  # F3 ACK, To tag of Proxy 1

    f4 = invite(CALL_TCP, ALICE_TCP, cseq=2, credentials=True)  # F4 INVITE with credentials
    assert p.uac.send(f4, now=0) == []
    assert p.uac.receive(wire(build_response(f4, 100)), now=0) == []  # F5 100 Trying
    f8 = hop(hop(f4, P1, record_route=True), P2, record_route=True, uri=BOB_TCP)  # F6, F8
    assert ([str(r) for r in f8.record_route], f8.max_forwards) == (RR, 68)
    assert p.uas.receive(f8, now=0) == []
    assert (len(p.uac), len(p.uas)) == (0, 0)

    f9 = p.answer(f8, 180, to_tag=BOB_TAG, contact=f"<{BOB_TCP}>")  # F9, F10, F11 180
    assert kinds(p.uas.send(f9, now=0)) == [DialogCreated]
    assert kinds(p.uac.receive(back(f9, 2), now=0)) == [DialogCreated]
    check(p, did, State.EARLY, seqs=(2, None), targets=targets, record_route=RR)

    f12 = p.answer(f8, 200, to_tag=BOB_TAG, contact=f"<{BOB_TCP}>")  # F12, F13, F14 200
    assert kinds(p.uas.send(f12, now=0)) == [DialogConfirmed]
    f14 = back(f12, 2)
    got = p.uac.receive(f14, now=0)
    assert kinds(got) == [DialogConfirmed, SendAck]
    alice, bob = check(p, did, State.CONFIRMED, seqs=(2, None), targets=targets, record_route=RR)
    assert (of(SendAck, got[1]).dialog, of(SendAck, got[1]).response) == (alice, f14)
    assert bob.awaiting_ack == 2  # RFC 3261 13.3.1.4: the 2xx's ACK carries the INVITE's CSeq

    f15 = alice.ack(f14, via=p.via())  # F15 ACK to Proxy 1, F16, F17
    check_request(f15, did, CSeq(2, "ACK"), uri=BOB_TCP, route=RR[::-1], caller=True)
    assert p.uac.send(f15, now=0) == []
    f17 = hop(hop(f15, P1), P2)
    assert (str(f17.uri), f17.route) == (BOB_TCP, ())
    assert p.uas.receive(f17, now=0) == []
    assert bob.awaiting_ack is None

    f18 = bob.request("BYE", via=bob_via())  # F18 BYE to Proxy 2, F19, F20
    check_request(f18, did, CSeq(1, "BYE"), uri=ALICE_TCP, route=RR, caller=False)
    sent = p.uas.send(f18, now=0)
    ended(sent[0], bob, "bye", "BYE sent")
    f20 = hop(hop(f18, P2), P1)
    assert (str(f20.uri), f20.route) == (ALICE_TCP, ())
    got = p.uac.receive(f20, now=0)
    ended(got[0], alice, "bye", "BYE received")
    assert len(sent) == len(got) == 1
    f21 = build_response(f20, 200)  # F21, F22, F23 200 OK
    assert p.uac.send(f21, now=0) == []
    assert p.uas.receive(back(f21, 2), now=0) == []
    after_fork_window(p)


def test_3_3_session_with_multiple_proxy_authentication() -> None:
    """RFC 3665 3.3: Proxy 1, then Proxy 2, challenge; the third INVITE gets through. The
    proxies do not record-route, so ACK and BYE go end to end.

    RFC 3261 12.1 and 12.3 (each 407 closes its INVITE's dialog set; none creates a
    dialog), 22.2 and 8.1.3.5 (each retry takes a CSeq one higher), 12.1.2 and 12.2.1.1
    (empty route set: Request-URI = remote target, no Route).
    """
    p = Pair(transport="TCP")
    did = DialogId(CALL_TCP, ALICE_TAG, BOB_TAG)
    targets = (BOB_TCP, ALICE_TCP)
    f1 = invite(CALL_TCP, ALICE_TCP)
    assert p.uac.send(f1, now=0) == []
    f2 = build_response(f1, 407, to_tag="876321")  # from Proxy 1
    assert p.uac.receive(wire(f2), now=0) == []
    assert p.uac.send(ack_non_2xx(f1, f2), now=0) == []  # F3
    f4 = invite(CALL_TCP, ALICE_TCP, cseq=2, credentials=True)
    assert p.uac.send(f4, now=0) == []
    assert p.uac.receive(wire(build_response(f4, 100)), now=0) == []  # F6
    f9 = back(build_response(hop(f4, P1), 407, to_tag="838209"), 1)  # F7 from Proxy 2, F9
    assert p.uac.receive(f9, now=0) == []
    assert (len(p.uac), dict(p.uac.dialog_sets)) == (0, {})
    assert p.uac.send(ack_non_2xx(f4, f9), now=0) == []  # F10

    f11 = invite(CALL_TCP, ALICE_TCP, cseq=3, credentials=True)
    assert p.uac.send(f11, now=0) == []
    f14 = hop(hop(f11, P1), P2, uri=BOB_TCP)  # F12, F14
    assert (f14.record_route, f14.cseq) == ((), CSeq(3, "INVITE"))
    assert p.uas.receive(f14, now=0) == []

    f16 = p.answer(f14, 180, to_tag=BOB_TAG, contact=f"<{BOB_TCP}>")
    assert kinds(p.uas.send(f16, now=0)) == [DialogCreated]
    assert kinds(p.uac.receive(back(f16, 2), now=0)) == [DialogCreated]  # F18
    check(p, did, State.EARLY, seqs=(3, None), targets=targets)

    f19 = p.answer(f14, 200, to_tag=BOB_TAG, contact=f"<{BOB_TCP}>")
    assert kinds(p.uas.send(f19, now=0)) == [DialogConfirmed]
    f21 = back(f19, 2)
    assert kinds(p.uac.receive(f21, now=0)) == [DialogConfirmed, SendAck]
    alice, bob = check(p, did, State.CONFIRMED, seqs=(3, None), targets=targets)

    f22 = alice.ack(f21, via=p.via())  # straight to Bob
    check_request(f22, did, CSeq(3, "ACK"), uri=BOB_TCP, caller=True)
    assert p.alice_sends(f22) == ([], [])
    assert bob.awaiting_ack is None

    f23 = bob.request("BYE", via=bob_via())  # straight to Alice
    check_request(f23, did, CSeq(1, "BYE"), uri=ALICE_TCP, caller=False)
    sent, got = p.bob_sends(f23)
    ended(sent[0], bob, "bye", "BYE sent")
    ended(got[0], alice, "bye", "BYE received")
    assert p.alice_sends(build_response(f23, 200)) == ([], [])  # F24
    after_fork_window(p)


def test_3_4_successful_session_with_proxy_failure() -> None:
    """RFC 3665 3.4: Proxy 1 never answers; Alice's INVITE times out and she calls through
    Proxy 2, which challenges once and record-routes.

    RFC 3261 17.1.1.2 (Timer A retransmissions open nothing new; Timer B ends the
    transaction) and 8.1.3.1 (the timeout counts as a 408: ``transaction_timeout`` closes the
    INVITE's dialog set, 12.3), 12.1.2 and 12.2.1.1 (one-entry route set: ACK and BYE go to
    the remote target with Route: Proxy 2).
    """
    p = Pair()
    did = DialogId(CALL_UDP, ALICE_TAG, BOB_TAG)
    targets = (BOB_UDP, ALICE_UDP)
    rr = [f"<sip:{P2};lr>"]
    f1 = invite(CALL_UDP, ALICE_UDP, transport="UDP", route=f"<sip:{P1};lr>")
    for now in (0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5):  # F1-F7: the INVITE and retransmissions
        assert p.uac.send(f1, now=now) == []
    assert len(p.uac.dialog_sets) == 1
    p.now = 32.0  # 64*T1
    assert p.uac.transaction_timeout(f1, now=p.now) == []
    nothing_left(p.uac)

    f8 = invite(CALL_UDP, ALICE_UDP, cseq=2, transport="UDP", route=rr[0])
    assert p.uac.send(f8, now=p.now) == []
    f9 = build_response(f8, 407, to_tag="7a4e2b")  # from Proxy 2
    assert p.uac.receive(wire(f9), now=p.now) == []
    assert p.uac.send(ack_non_2xx(f8, f9), now=p.now) == []  # F10
    f11 = invite(CALL_UDP, ALICE_UDP, cseq=3, transport="UDP", route=rr[0], credentials=True)
    assert p.uac.send(f11, now=p.now) == []
    f12 = hop(f11, P2, record_route=True, uri=BOB_UDP)
    assert (f12.route, [str(r) for r in f12.record_route]) == ((), rr)
    assert p.uas.receive(f12, now=p.now) == []
    assert p.uac.receive(wire(build_response(f11, 100)), now=p.now) == []  # F13

    f14 = p.answer(f12, 180, to_tag=BOB_TAG, contact=f"<{BOB_UDP}>")  # F14, F15
    assert kinds(p.uas.send(f14, now=p.now)) == [DialogCreated]
    assert kinds(p.uac.receive(back(f14, 1), now=p.now)) == [DialogCreated]
    check(p, did, State.EARLY, seqs=(3, None), targets=targets, record_route=rr)
    f16 = p.answer(f12, 200, to_tag=BOB_TAG, contact=f"<{BOB_UDP}>")  # F16, F17
    assert kinds(p.uas.send(f16, now=p.now)) == [DialogConfirmed]
    f17 = back(f16, 1)
    assert kinds(p.uac.receive(f17, now=p.now)) == [DialogConfirmed, SendAck]
    alice, bob = check(p, did, State.CONFIRMED, seqs=(3, None), targets=targets, record_route=rr)
    assert bob.awaiting_ack == 3

    f18 = alice.ack(f17, via=p.via())  # F18 to Proxy 2, F19
    check_request(f18, did, CSeq(3, "ACK"), uri=BOB_UDP, route=rr, caller=True)
    assert p.uac.send(f18, now=p.now) == []
    assert p.uas.receive(hop(f18, P2), now=p.now) == []
    assert bob.awaiting_ack is None

    f20 = bob.request("BYE", via=bob_via("UDP"))  # F20 to Proxy 2, F21
    check_request(f20, did, CSeq(1, "BYE"), uri=ALICE_UDP, route=rr, caller=False)
    ended(p.uas.send(f20, now=p.now)[0], bob, "bye", "BYE sent")
    f21 = hop(f20, P2)
    ended(p.uac.receive(f21, now=p.now)[0], alice, "bye", "BYE received")
    f22 = build_response(f21, 200)
    assert p.uac.send(f22, now=p.now) == []
    assert p.uas.receive(back(f22, 1), now=p.now) == []
    after_fork_window(p)


@pytest.mark.parametrize(
    "bob_cseq",
    [
        pytest.param(14, id="cseq-14"),
        pytest.param(None, id="cseq-default"),
    ],
)  # fmt: skip
def test_3_7_session_with_re_invite_ip_address_change(bob_cseq: int | None) -> None:
    """RFC 3665 3.7: a call through Proxy 2 (no Record-Route); Bob's address changes and he
    re-INVITEs Alice with a new Contact; Alice's BYE then goes to the new address. Bob's
    re-INVITE takes CSeq 14, then the first number ``dialog.request`` picks (1).

    RFC 3261 12.2.1.1 (Bob's first request starts his own CSeq space; ACK reuses the
    re-INVITE's number; Alice's BYE is her local seq + 1), 12.2.2 (remote seq updated),
    12.2.2 and 14 (the re-INVITE is a target refresh: Alice's remote target becomes Bob's
    new Contact once she accepts it with a 2xx, as RFC 6141 updates 12.2.2), 13.3.1.4 (the
    UAS of a 2xx to a re-INVITE waits for its ACK).
    """
    p = Pair()
    did = DialogId(CALL_UDP, ALICE_TAG, BOB_TAG)
    f1 = invite(CALL_UDP, ALICE_UDP, transport="UDP")
    assert p.uac.send(f1, now=0) == []
    f2 = hop(f1, P2, uri=BOB_UDP)
    assert p.uas.receive(f2, now=0) == []
    assert p.uac.receive(wire(build_response(f1, 100)), now=0) == []  # F3

    f4 = p.answer(f2, 180, to_tag=BOB_TAG, contact=f"<{BOB_UDP}>")
    assert kinds(p.uas.send(f4, now=0)) == [DialogCreated]
    assert kinds(p.uac.receive(back(f4, 1), now=0)) == [DialogCreated]  # F5
    f6 = p.answer(f2, 200, to_tag=BOB_TAG, contact=f"<{BOB_UDP}>")
    assert kinds(p.uas.send(f6, now=0)) == [DialogConfirmed]
    f7 = back(f6, 1)
    assert kinds(p.uac.receive(f7, now=0)) == [DialogConfirmed, SendAck]
    alice, bob = check(p, did, State.CONFIRMED, seqs=(1, None), targets=(BOB_UDP, ALICE_UDP))
    f8 = alice.ack(f7, via=p.via())  # F8 ACK, end to end
    check_request(f8, did, CSeq(1, "ACK"), uri=BOB_UDP, caller=True)
    assert p.alice_sends(f8) == ([], [])

    # Bob changes IP address: F9 re-INVITE with his new Contact and a new offer; his first
    # request in the dialog, so its CSeq starts his own sequence anywhere (RFC 3261 8.1.1.5)
    moved = bob_via("UDP", "client.chicago.example.com")
    f9 = bob.request("INVITE", via=moved, cseq=bob_cseq, contact=f"<{BOB_MOVED}>", body=SDP,
                     content_type="application/sdp")  # fmt: skip
    n = bob_cseq or 1
    check_request(f9, did, CSeq(n, "INVITE"), uri=ALICE_UDP, caller=False)
    assert p.bob_sends(f9) == ([], [])
    # received, not yet accepted: the remote target is still Bob's old Contact
    check(p, did, State.CONFIRMED, seqs=(1, n), targets=(BOB_UDP, ALICE_UDP))

    f10 = build_response(f9, 200, contact=f"<{ALICE_UDP}>", body=SDP,
                         content_type="application/sdp")  # fmt: skip
    sent, got = p.alice_sends(f10)
    assert kinds(sent) == [TargetRefreshed]
    refreshed = of(TargetRefreshed, sent[0])
    assert (refreshed.dialog, str(refreshed.old), str(refreshed.new)) == (alice, BOB_UDP, BOB_MOVED)
    assert kinds(got) == [SendAck]  # Alice's Contact did not change: no refresh for Bob
    assert (of(SendAck, got[0]).dialog, alice.awaiting_ack) == (bob, n)
    check(p, did, State.CONFIRMED, seqs=(1, n), targets=(BOB_MOVED, ALICE_UDP))

    f11 = bob.ack(of(SendAck, got[0]).response, via=moved)  # F11 ACK
    check_request(f11, did, CSeq(n, "ACK"), uri=ALICE_UDP, caller=False)
    assert p.bob_sends(f11) == ([], [])
    assert alice.awaiting_ack is None
    check(p, did, State.CONFIRMED, seqs=(1, n), targets=(BOB_MOVED, ALICE_UDP))

    f12 = alice.request("BYE", via=p.via())  # F12 BYE, to Bob's new address
    check_request(f12, did, CSeq(2, "BYE"), uri=BOB_MOVED, caller=True)
    sent, got = p.alice_sends(f12)
    ended(sent[0], alice, "bye", "BYE sent")
    ended(got[0], bob, "bye", "BYE received")
    assert (alice.dialog_state.local_seq, bob.dialog_state.remote_seq) == (2, 2)
    assert p.bob_sends(build_response(f12, 200)) == ([], [])  # F13
    after_fork_window(p)


# -- unsuccessful sessions --------------------------------------------------------------------
def through_proxies(p: Pair) -> tuple[Request, Request]:
    """F1-F5 of 3.8-3.11: Alice's INVITE (Route: Proxy 1), 100 Trying from Proxy 1, and the
    INVITE as it reaches Bob through both record-routing proxies."""
    f1 = invite(CALL_UDP, ALICE_UDP, transport="UDP", route=f"<sip:{P1};lr>")
    assert p.uac.send(f1, now=p.now) == []
    assert p.uac.receive(wire(build_response(f1, 100)), now=p.now) == []  # F3
    f4 = hop(hop(f1, P1, record_route=True), P2, record_route=True, uri=BOB_UDP)
    assert ([str(r) for r in f4.record_route], f4.route) == (RR, ())
    assert p.uas.receive(f4, now=p.now) == []
    assert (len(p.uac), len(p.uas)) == (0, 0)
    assert len(p.uac.dialog_sets) == len(p.uas.dialog_sets) == 1
    return f1, f4


def ringing(p: Pair, f4: Request) -> tuple[Dialog, Dialog]:
    """F6-F8: Bob's 180 Ringing: an early dialog on each side, with the proxies' route set."""
    did = DialogId(CALL_UDP, ALICE_TAG, BOB_TAG)
    f6 = p.answer(f4, 180, to_tag=BOB_TAG, contact=f"<{BOB_UDP}>")
    sent = p.uas.send(f6, now=p.now)
    got = p.uac.receive(back(f6, 2), now=p.now)
    assert kinds(sent) == kinds(got) == [DialogCreated]
    alice, bob = check(
        p, did, State.EARLY, seqs=(1, None), targets=(BOB_UDP, ALICE_UDP), record_route=RR
    )
    assert (of(DialogCreated, got[0]).dialog, of(DialogCreated, sent[0]).dialog) == (alice, bob)
    return alice, bob


def rejected(
    p: Pair, f1: Request, f4: Request, code: int, early: tuple[Dialog, Dialog] | None
) -> None:
    """Bob's final ``code`` (no dialog-creating 2xx), ACKed hop by hop by Proxy 2 and by
    Alice; ``early`` = (Alice's, Bob's) early dialogs it ends (RFC 3261 12.3, 13.2.2.3)."""
    final = build_response(f4, code, to_tag=BOB_TAG)
    sent = p.uas.send(final, now=p.now)
    assert p.uas.receive(wire(ack_non_2xx(f4, final)), now=p.now) == []  # Proxy 2's ACK
    at_alice = back(final, 2)
    got = p.uac.receive(at_alice, now=p.now)
    assert p.uac.send(ack_non_2xx(f1, at_alice), now=p.now) == []
    if early:
        alice, bob = early
        assert len(sent) == len(got) == 1
        ended(got[0], alice, "failure", f"{code} received")
        ended(sent[0], bob, "failure", f"{code} sent")
    else:
        assert sent == got == []
    nothing_left(p.uac, p.uas)


def test_3_8_unsuccessful_no_answer() -> None:
    """RFC 3665 3.8: Bob's phone rings, nobody answers, Alice hangs up: CANCEL, 487.

    RFC 3261 9.1 (the CANCEL repeats the INVITE's Request-URI, Call-ID, From, To, CSeq
    number, top Via and Route), 9.2 (the 200 answers the CANCEL only: the early dialogs
    stay early until the 487 Bob then sends to the INVITE), 12.3 (the 487 ends them on both
    sides), 17.1.1.3 (the ACKs of the 487 belong to no dialog).
    """
    p = Pair()
    f1, f4 = through_proxies(p)
    alice, bob = ringing(p, f4)

    f9 = build_cancel(f1)  # F9 CANCEL to Proxy 1
    assert (f9.uri, f9.call_id, f9.from_, f9.to) == (f1.uri, f1.call_id, f1.from_, f1.to)
    assert f9.via == f1.via[:1]
    assert (f9.cseq, [str(r) for r in f9.route]) == (CSeq(1, "CANCEL"), [f"<sip:{P1};lr>"])
    assert p.uac.send(f9, now=p.now) == []
    f10 = build_response(f9, 200, to_tag=BOB_TAG)  # F10 200 (CANCEL) from Proxy 1
    assert p.uac.receive(wire(f10), now=p.now) == []
    f13 = build_cancel(f4)  # F11, F13: each proxy cancels its own branch
    assert p.uas.receive(wire(f13), now=p.now) == []
    assert p.uas.send(build_response(f13, 200, to_tag=BOB_TAG), now=p.now) == []  # F14
    check(p, DialogId(CALL_UDP, ALICE_TAG, BOB_TAG), State.EARLY, seqs=(1, None),
          targets=(BOB_UDP, ALICE_UDP), record_route=RR)  # fmt: skip

    rejected(p, f1, f4, 487, (alice, bob))  # F15-F20


def test_3_9_unsuccessful_busy() -> None:
    """RFC 3665 3.9: Bob is busy and answers 486 straight away.

    RFC 3261 12.1 (only 101-199 with a tag and 2xx create dialogs: none here), 12.3 and
    13.2.2.3 (the 486 closes the INVITE's dialog set on both sides), 17.1.1.3 (the ACKs of
    the 486 belong to no dialog).
    """
    p = Pair()
    f1, f4 = through_proxies(p)
    rejected(p, f1, f4, 486, None)  # F6-F11


def test_3_10_unsuccessful_no_response_from_user_agent() -> None:
    """RFC 3665 3.10: Bob's UA receives the INVITE and its retransmissions but never
    answers. Here Alice's INVITE transaction itself reports the timeout.

    RFC 3261 17.1.1.2 and 8.1.3.1 (Timer B; a timeout is handled as a 408: Alice's dialog
    set closes, 12.3), 17.2.3 (a retransmitted INVITE is the same request: nothing new at
    Bob), and the manager's ``early_timeout`` (three minutes, like Timer C of 16.6 step 11)
    that drops Bob's unanswered INVITE.
    """
    p = Pair()
    f1 = invite(CALL_UDP, ALICE_UDP, transport="UDP", route=f"<sip:{P1};lr>")
    assert p.uac.send(f1, now=0) == []
    f4 = hop(hop(f1, P1, record_route=True), P2, record_route=True, uri=BOB_UDP)
    for now in (0.0, 0.5, 1.5):  # F4 and Proxy 2's retransmissions
        assert p.uas.receive(f4, now=now) == []
    assert (len(p.uas), len(p.uas.dialog_sets)) == (0, 1)
    assert p.uac.get_timer() == p.uas.get_timer() == 180.0

    assert p.uac.transaction_timeout(f1, now=32.0) == []
    nothing_left(p.uac)
    assert p.uas.handle_timer(179.0) == []
    dropped = p.uas.handle_timer(180.0)
    assert kinds(dropped) == [DialogSetDropped]
    assert of(DialogSetDropped, dropped[0]).dialog_set.request.call_id == CALL_UDP
    nothing_left(p.uas)


def test_3_11_unsuccessful_temporarily_unavailable() -> None:
    """RFC 3665 3.11: Bob's phone rings, then answers 480 Temporarily Unavailable.

    RFC 3261 12.1 (the 180 creates an early dialog on each side), 12.3 and 13.2.2.3 (the
    non-2xx final ends every early dialog of the INVITE), 17.1.1.3 (the ACKs of the 480
    belong to no dialog).
    """
    p = Pair()
    f1, f4 = through_proxies(p)
    alice, bob = ringing(p, f4)
    rejected(p, f1, f4, 480, (alice, bob))  # F9-F14
