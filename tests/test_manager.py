"""DialogManager: the RFC 3261 dialog rules, each driven through a UAC/UAS pair in memory."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from pair import ALICE, BOB, BOB_CONTACT, Pair, kinds, name_addrs, of, wire

from dialogfsm import (
    URI,
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogId,
    DialogManager,
    DialogTerminated,
    Extra2xx,
    LocalProtocolError,
    NoSuchDialog,
    OutOfOrderError,
    Request,
    Response,
    SendAck,
    SendBye,
    State,
    TargetRefreshed,
    build_cancel,
    build_response,
)

RR = ["<sip:p2.biloxi.example.com;lr>", "<sip:p1.atlanta.example.com;lr>"]
BOB_VIA = "SIP/2.0/UDP client.biloxi.example.com:5060;branch=z9hG4bKbob{}"


def call_id_of(p: Pair, invite: Request, tag: str = "8321234356") -> DialogId:
    return DialogId(invite.call_id, invite.from_.tag or "", tag)


def established(p: Pair, **invite: Any) -> tuple[Request, Response, Dialog, Dialog]:
    """INVITE / 180 / 200 / ACK through Record-Route proxies: a confirmed dialog."""
    inv = p.invite(record_route=invite.pop("record_route", RR), **invite)
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 180))
    ok = p.answer(inv, 200)
    p.bob_sends(ok)
    alice, bob = p.agree(call_id_of(p, inv))
    p.alice_sends(alice.ack(ok, via=p.via()))
    return inv, ok, alice, bob


def snapshot(manager: DialogManager) -> object:
    """Everything a raising call must leave as it was: every dialog's state, record,
    usages (each subscription's fields), reliable-1xx sequence and pending requests, the
    open dialog sets and the next deadline."""

    def one(d: Dialog) -> object:
        s = d.dialog_state
        return (
            d.state, d.awaiting_ack, d.pending_refresh, d.local_pending, d.remote_pending,
            s.local_seq, s.remote_seq, s.remote_target, s.route_set, s.early,
            d.invite_usage, d.refers, attrs.astuple(d.reliable) if d.reliable else None,
            [attrs.astuple(u) for u in d.subscriptions or ()],
        )  # fmt: skip

    return (
        {k: one(d) for k, d in manager.dialogs.items()},
        list(manager.dialog_sets),
        manager.get_timer(),
    )


# -- UAC: RFC 3261 12.1.2 ------------------------------------------------------------------
def test_uac_100_never_creates_a_dialog_even_with_a_to_tag() -> None:
    """RFC 3261 12.1: a 100 (Trying) does not create a dialog, To tag or not."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    trying = build_response(inv, 100, to_tag="sometag")
    assert p.uac.receive(wire(trying), now=0) == []
    assert len(p.uac) == 0


def test_uac_provisional_without_to_tag_creates_no_dialog() -> None:
    """RFC 3261 12.1: only a 101-199 response with a To tag creates an early dialog."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    assert p.uac.receive(wire(build_response(inv, 180)), now=0) == []
    assert len(p.uac) == 0


def test_uac_early_dialog_state() -> None:
    """RFC 3261 12.1.2: route set = Record-Route reversed, remote target = Contact, local
    seq = the INVITE's CSeq, remote seq empty, URIs from From/To."""
    p = Pair()
    inv = p.invite(cseq=314159, record_route=RR)
    p.alice_sends(inv)
    _, got = p.bob_sends(p.answer(inv, 180))
    assert kinds(got) == [DialogCreated]
    created = got[0]
    assert isinstance(created, DialogCreated)
    assert created.state is State.EARLY
    dialog = created.dialog
    s = dialog.dialog_state
    assert dialog.state is State.EARLY
    assert s.early
    assert s.id == DialogId(inv.call_id, "9fxced76sl", "8321234356")
    assert (s.local_seq, s.remote_seq) == (314159, None)
    assert (s.local_uri, s.remote_uri) == (URI.parse(ALICE), URI.parse(BOB))
    assert s.remote_target == URI.parse("sip:bob@client.biloxi.example.com;transport=udp")
    assert s.route_set == name_addrs(list(reversed(RR)))
    assert not s.secure
    assert created.message is not None
    assert p.uac.find(created.message, sent=False) is dialog


def test_uac_2xx_confirms_and_asks_for_ack() -> None:
    """RFC 3261 12.1.2, 13.2.2.4: a 2xx confirms the dialog; the UAC must ACK every 2xx."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    ok = p.answer(inv, 200)
    _, got = p.bob_sends(ok)
    assert kinds(got) == [DialogCreated, DialogConfirmed, SendAck]
    assert got[0].state is State.CONFIRMED  # type: ignore[union-attr]
    # a retransmitted 2xx is ACKed again and changes nothing else
    assert kinds(p.uac.receive(wire(ok), now=1)) == [SendAck]
    p.agree(call_id_of(p, inv))


@pytest.mark.parametrize(
    ("transport", "uri", "secure"),
    [
        ("TLS", "sips:bob@biloxi.example.com", True),
        ("TLS", "sip:bob@biloxi.example.com", False),
        ("UDP", "sips:bob@biloxi.example.com", False),
    ],
)
def test_secure_flag(transport: str, uri: str, secure: bool) -> None:
    """RFC 3261 12.1.1, 12.1.2: secure when the request went over TLS to a sips URI."""
    p = Pair(transport=transport)
    inv = p.invite(uri=uri)
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 200))
    alice, bob = p.agree(call_id_of(p, inv))
    assert alice.dialog_state.secure is secure
    assert bob.dialog_state.secure is secure


# -- UAS: RFC 3261 12.1.1 ------------------------------------------------------------------
def test_uas_dialog_state() -> None:
    """RFC 3261 12.1.1: route set = Record-Route of the request in order, remote target =
    its Contact, remote seq = its CSeq; sending 180 makes it early, 200 confirmed."""
    p = Pair()
    inv = p.invite(cseq=7, record_route=RR)
    assert p.alice_sends(inv) == ([], [])
    assert p.bob_sends(p.answer(inv, 100)) == ([], [])
    sent, _ = p.bob_sends(p.answer(inv, 180))
    assert kinds(sent) == [DialogCreated]
    bob = of(DialogCreated, sent[0]).dialog
    s = bob.dialog_state
    assert (s.local_seq, s.remote_seq) == (None, 7)
    assert s.route_set == name_addrs(RR)
    assert s.remote_target == URI.parse("sip:alice@client.atlanta.example.com;transport=udp")
    assert (s.local_uri, s.remote_uri) == (URI.parse(BOB), URI.parse(ALICE))
    assert not bob.caller
    sent, _ = p.bob_sends(p.answer(inv, 200))
    assert kinds(sent) == [DialogConfirmed]
    assert bob.state is State.CONFIRMED


def test_uas_dialog_creating_response_needs_a_to_tag() -> None:
    """RFC 3261 8.2.6.2, 12.1.1: a 101-299 response must carry a To tag; nothing changes."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    before = snapshot(p.uas)
    with pytest.raises(LocalProtocolError, match="To tag"):
        p.uas.send(build_response(inv, 180), now=0)
    assert snapshot(p.uas) == before


# -- forking: RFC 3261 13.2.2.4, 12.3 --------------------------------------------------------
def fork(p: Pair, inv: Request, tag: str, code: int, rr: list[str] | None = None) -> Response:
    response = p.answer(inv, code, to_tag=tag, record_route=rr)
    return wire(response)  # type: ignore[return-value]


def test_forked_early_dialogs_end_on_a_non_2xx_final() -> None:
    """RFC 3261 13.2.2.4, 12.3: one early dialog per To tag; a non-2xx final ends them all."""
    p = Pair()
    inv = p.invite()
    p.uac.send(inv, now=0)
    p.uac.receive(fork(p, inv, "a", 180), now=0)
    p.uac.receive(fork(p, inv, "b", 183), now=0)
    (dialog_set,) = p.uac.dialog_sets.values()
    assert sorted(dialog_set.dialogs) == ["a", "b"]
    assert len(p.uac) == 2
    got = p.uac.receive(fork(p, inv, "c", 486), now=1)
    assert kinds(got) == [DialogTerminated, DialogTerminated]
    assert {of(DialogTerminated, e).dialog.id.remote_tag for e in got} == {"a", "b"}
    assert all(e.trigger == "failure" for e in got)  # type: ignore[union-attr]
    assert len(p.uac) == 0
    assert not p.uac.dialog_sets


@pytest.mark.parametrize(("policy", "bye"), [(Extra2xx.ACK_AND_BYE, True), (Extra2xx.KEEP, False)])
def test_extra_2xx_from_another_fork(policy: Extra2xx, bye: bool) -> None:
    """RFC 3261 13.2.2.4: each 2xx from a new fork is a dialog to ACK; by default BYE it."""
    p = Pair(uac=DialogManager(extra_2xx=policy))
    inv = p.invite()
    p.uac.send(inv, now=0)
    first = p.uac.receive(fork(p, inv, "a", 200), now=0)
    assert kinds(first) == [DialogCreated, DialogConfirmed, SendAck]
    second = p.uac.receive(fork(p, inv, "b", 200), now=1)
    want = [DialogCreated, DialogConfirmed, SendAck] + ([SendBye] if bye else [])
    assert kinds(second) == want
    assert len(p.uac) == 2
    assert of(SendAck, second[2]).dialog.id.remote_tag == "b"
    if bye:
        assert of(SendBye, second[3]).dialog is of(DialogCreated, second[0]).dialog
        assert "fork" in second[3].reason  # type: ignore[union-attr]


def test_unanswered_forks_expire_64_t1_after_the_first_2xx() -> None:
    """RFC 3261 13.2.2.4: early dialogs that never confirm end 64*T1 after the first 2xx."""
    p = Pair()
    inv = p.invite()
    p.uac.send(inv, now=0)
    p.uac.receive(fork(p, inv, "a", 180), now=0)
    p.uac.receive(fork(p, inv, "b", 180), now=0)
    p.uac.receive(fork(p, inv, "a", 200), now=10)
    assert p.uac.get_timer() == 10 + 64 * 0.5
    assert p.uac.handle_timer(41.9) == []
    got = p.uac.handle_timer(42)
    assert kinds(got) == [DialogTerminated]
    ended = of(DialogTerminated, got[0]).dialog
    assert ended.id.remote_tag == "b"
    assert got[0].trigger == "timeout"  # type: ignore[union-attr]
    assert [d.id.remote_tag for d in p.uac.dialogs.values()] == ["a"]
    assert not p.uac.dialog_sets
    # the closed set is let go by every dialog it made, the ended one too (no cycle through
    # the set's index of ended tags keeps it alive)
    assert ended.dialog_set is None
    assert all(d.dialog_set is None for d in p.uac.dialogs.values())
    assert p.uac.get_timer() is None


def test_route_set_recomputed_from_2xx_then_frozen() -> None:
    """RFC 3261 13.2.2.4, 12.2.1.2: the 2xx's Record-Route replaces the 1xx's; later
    responses (a re-INVITE's 2xx) never change it."""
    p = Pair()
    inv = p.invite()
    p.uac.send(inv, now=0)
    p.uac.receive(fork(p, inv, "a", 180, rr=["<sip:one.example.com;lr>"]), now=0)
    (dialog,) = p.uac.dialogs.values()
    assert dialog.dialog_state.route_set == name_addrs(["<sip:one.example.com;lr>"])
    p.uac.receive(fork(p, inv, "a", 200, rr=RR), now=1)
    assert dialog.dialog_state.route_set == name_addrs(list(reversed(RR)))
    reinvite = dialog.request("INVITE", via=p.via(), contact="<sip:alice@new.example.com>")
    p.uac.send(reinvite, now=2)
    ok = build_response(reinvite, 200, contact=BOB_CONTACT, headers=[("Record-Route", "<sip:x>")])
    p.uac.receive(wire(ok), now=2)
    assert dialog.dialog_state.route_set == name_addrs(list(reversed(RR)))


# -- in-dialog requests: RFC 3261 12.2.1.1, 13.2.2.4 ---------------------------------------
def test_in_dialog_requests_carry_the_dialog() -> None:
    """RFC 3261 12.2.1.1: tags, Call-ID, CSeq = local seq + 1, loose routing to the remote
    target; ACK for a 2xx reuses the INVITE's CSeq number (13.2.2.4)."""
    p = Pair()
    inv, ok, alice, _ = established(p, cseq=100)
    ack = alice.ack(ok, via=p.via())
    assert (ack.cseq.number, ack.cseq.method) == (100, "ACK")
    assert ack.uri == URI.parse("sip:bob@client.biloxi.example.com;transport=udp")
    assert ack.route == name_addrs(list(reversed(RR)))
    info = alice.request("INFO", via=p.via())
    assert info.cseq.number == 101
    assert (info.from_.tag, info.to.tag, info.call_id) == ("9fxced76sl", "8321234356", inv.call_id)
    assert info.from_.uri == URI.parse(ALICE)
    assert info.to.uri == URI.parse(BOB)


# -- remote CSeq: RFC 3261 12.2.2 ------------------------------------------------------------
def test_lower_remote_cseq_is_refused_with_500() -> None:
    """RFC 3261 12.2.2: a request with a CSeq below the remote seq gets 500; nothing changes."""
    p = Pair()
    _, _, alice, bob = established(p, cseq=10)
    info = alice.request("INFO", via=p.via())
    p.alice_sends(info)
    assert bob.dialog_state.remote_seq == 11
    stale = alice.request("INFO", via=p.via(), cseq=5)
    before = snapshot(p.uas)
    with pytest.raises(OutOfOrderError) as info_:
        p.uas.receive(wire(stale), now=1)
    assert info_.value.status_hint == 500
    assert snapshot(p.uas) == before
    higher = alice.request("INFO", via=p.via(), cseq=40)
    p.alice_sends(higher)
    assert bob.dialog_state.remote_seq == 40


def test_ack_and_cancel_are_exempt_from_the_cseq_check() -> None:
    """RFC 3261 12.2.2: ACK and CANCEL reuse an earlier CSeq number and are not refused."""
    p = Pair()
    inv = p.invite(cseq=1)
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 180))
    alice, bob = p.agree(call_id_of(p, inv))
    p.alice_sends(alice.request("INFO", via=p.via()))  # CSeq 2 in the early dialog
    ok = p.answer(inv, 200)
    p.bob_sends(ok)
    assert p.alice_sends(alice.ack(ok, via=p.via())) == ([], [])  # CSeq 1 ACK
    assert bob.awaiting_ack is None
    assert bob.dialog_state.remote_seq == 2


def test_local_cseq_must_not_go_back() -> None:
    """RFC 3261 12.2.1.1: the local sequence number increases with every request."""
    p = Pair()
    _, _, alice, _ = established(p, cseq=10)
    p.uac.send(alice.request("INFO", via=p.via()), now=1)
    with pytest.raises(LocalProtocolError, match="below"):
        p.uac.send(alice.request("INFO", via=p.via(), cseq=3), now=1)
    assert alice.dialog_state.local_seq == 11


# -- target refresh: RFC 3261 12.2, 14; RFC 3311 -------------------------------------------
@pytest.mark.parametrize("method", ["INVITE", "UPDATE"])
def test_target_refresh_applies_only_when_accepted(method: str) -> None:
    """RFC 3261 12.2.2, 14.2; RFC 3311 5.2: a rejected refresh leaves the remote target; an
    accepted one replaces it on both sides."""
    p = Pair()
    _, _, alice, bob = established(p)
    old = bob.dialog_state.remote_target
    new_contact = "<sip:alice@moved.atlanta.example.com>"
    refresh = alice.request(method, via=p.via(), contact=new_contact)
    p.alice_sends(refresh)
    assert bob.dialog_state.remote_target == old
    p.bob_sends(build_response(refresh, 488, contact=BOB_CONTACT))
    assert bob.dialog_state.remote_target == old
    again = alice.request(method, via=p.via(), contact=new_contact)
    p.alice_sends(again)
    new_bob = "<sip:bob@moved.biloxi.example.com>"
    sent, got = p.bob_sends(build_response(again, 200, contact=new_bob))
    assert kinds(sent) == [TargetRefreshed]
    refreshed = sent[0]
    assert isinstance(refreshed, TargetRefreshed)
    assert (refreshed.old, refreshed.new) == (old, URI.parse("sip:alice@moved.atlanta.example.com"))
    assert kinds(got) == ([SendAck] if method == "INVITE" else []) + [TargetRefreshed]
    assert alice.dialog_state.remote_target == URI.parse("sip:bob@moved.biloxi.example.com")
    p.agree(alice.id)


# -- termination: RFC 3261 15, 12.2.1.2 ------------------------------------------------------
@pytest.mark.parametrize("who", ["caller", "callee"])
def test_bye_ends_the_dialog_on_both_sides(who: str) -> None:
    """RFC 3261 15: BYE in either direction terminates the dialog when sent and received."""
    p = Pair()
    _, _, alice, bob = established(p)
    if who == "caller":
        sent, got = p.alice_sends(alice.request("BYE", via=p.via()))
    else:
        sent, got = p.bob_sends(bob.request("BYE", via=BOB_VIA.format(1)))
    assert kinds(sent) == kinds(got) == [DialogTerminated]
    assert alice.state is bob.state is State.TERMINATED
    assert len(p.uac) == len(p.uas) == 0


def test_caller_may_bye_an_early_dialog() -> None:
    """RFC 3261 15: the caller may send BYE on an early dialog (it ends only that one)."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 180))
    alice, bob = p.agree(call_id_of(p, inv))
    sent, got = p.alice_sends(alice.request("BYE", via=p.via()))
    assert kinds(sent) == kinds(got) == [DialogTerminated]
    assert alice.state is bob.state is State.TERMINATED
    assert len(p.uac) == len(p.uas) == 0


def test_callee_may_not_bye_early_or_before_ack() -> None:
    """RFC 3261 15: the callee MUST NOT send BYE on an early dialog, nor on a confirmed one
    before the ACK for its 2xx arrives (or 64*T1 passes)."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 180))
    alice, bob = p.agree(call_id_of(p, inv))
    with pytest.raises(LocalProtocolError, match="early"):
        p.uas.send(bob.request("BYE", via=BOB_VIA.format(1)), now=0)
    assert bob.dialog_state.early
    ok = p.answer(inv, 200)
    p.bob_sends(ok)
    with pytest.raises(LocalProtocolError, match="ACK"):
        p.uas.send(bob.request("BYE", via=BOB_VIA.format(2)), now=1)
    assert bob.state is State.CONFIRMED
    assert bob.dialog_state.local_seq is None
    p.alice_sends(alice.ack(ok, via=p.via()))
    assert kinds(p.uas.send(bob.request("BYE", via=BOB_VIA.format(3)), now=2)) == [DialogTerminated]


def test_uas_2xx_without_ack_recommends_bye_after_64_t1() -> None:
    """RFC 3261 13.3.1.4: no ACK within 64*T1: the dialog stays confirmed, send BYE."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.now = 5
    p.bob_sends(p.answer(inv, 200))
    (bob,) = p.uas.dialogs.values()
    assert p.uas.get_timer() == 5 + 32
    got = p.uas.handle_timer(37)
    assert kinds(got) == [SendBye]
    assert of(SendBye, got[0]).dialog is bob
    assert "ACK" in got[0].reason  # type: ignore[union-attr]
    assert bob.state is State.CONFIRMED
    assert kinds(p.uas.send(bob.request("BYE", via=BOB_VIA.format(1)), now=38)) == [
        DialogTerminated
    ]


def test_acked_2xx_sets_no_bye_timer() -> None:
    """RFC 3261 13.3.1.4: once the ACK arrives the 64*T1 timer is cancelled."""
    p = Pair()
    established(p)
    assert p.uas.get_timer() is None
    assert p.uas.handle_timer(1000) == []


@pytest.mark.parametrize("code", [481, 408])
def test_481_or_408_to_a_mid_dialog_request_ends_the_dialog(code: int) -> None:
    """RFC 3261 12.2.1.2: a 481 or 408 to a request within a dialog terminates it."""
    p = Pair()
    _, _, alice, _ = established(p)
    info = alice.request("INFO", via=p.via())
    p.uac.send(info, now=1)
    got = p.uac.receive(wire(build_response(info, code)), now=1)
    assert kinds(got) == [DialogTerminated]
    assert got[0].trigger == "error"  # type: ignore[union-attr]
    assert len(p.uac) == 0


def test_481_to_cancel_leaves_the_dialog() -> None:
    """RFC 3261 12.2.1.2, 9.1: a 481 to CANCEL only says the INVITE is gone."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 180))
    cancel = build_cancel(inv)
    p.uac.send(cancel, now=1)
    answer = build_response(cancel, 481, to_tag="8321234356")
    assert p.uac.receive(wire(answer), now=1) == []
    assert len(p.uac) == 1


def test_transaction_timeout_ends_the_dialog() -> None:
    """RFC 3261 12.2.1.2: a mid-dialog request that times out ends the dialog."""
    p = Pair()
    _, _, alice, _ = established(p)
    info = alice.request("INFO", via=p.via())
    p.uac.send(info, now=1)
    got = p.uac.transaction_timeout(info, now=33)
    assert kinds(got) == [DialogTerminated]
    assert alice.state is State.TERMINATED


# -- unknown dialogs: RFC 3261 12.2.2 ---------------------------------------------------------
def test_request_for_no_dialog_gets_481_and_stray_ack_is_absorbed() -> None:
    """RFC 3261 12.2.2: a mid-dialog request of no dialog is answered 481; ACK absorbed."""
    p = Pair()
    _, ok, alice, _ = established(p)
    p.alice_sends(alice.request("BYE", via=p.via()))
    late = alice.request("INFO", via=p.via())
    with pytest.raises(NoSuchDialog) as info:
        p.uas.receive(wire(late), now=2)
    assert info.value.status_hint == 481
    assert p.uas.receive(wire(alice.ack(ok, via=p.via())), now=2) == []


# -- RFC 2543 peers: RFC 3261 12.1.1, 12.1.2 -------------------------------------------------
def test_peer_without_tags() -> None:
    """RFC 3261 12.1.2: a 2xx without To tag gives a dialog with an empty remote tag that
    still carries requests both ways."""
    p = Pair()
    inv = p.invite()
    p.uac.send(inv, now=0)
    ok = p.answer(inv, 200, to_tag=None)
    got = p.uac.receive(wire(ok), now=0)
    assert kinds(got) == [DialogCreated, DialogConfirmed, SendAck]
    alice = of(DialogCreated, got[0]).dialog
    assert alice.id.remote_tag == ""
    bye = alice.request("BYE", via=p.via())
    assert bye.to.tag is None
    assert kinds(p.uac.send(bye, now=1)) == [DialogTerminated]


# -- atomicity and lookup --------------------------------------------------------------------
def test_errors_change_nothing() -> None:
    """A message that raises leaves every dialog and index as before."""
    p = Pair()
    _, _, alice, _ = established(p)
    p.alice_sends(alice.request("INFO", via=p.via(), cseq=50))
    before = (snapshot(p.uac), snapshot(p.uas))
    with pytest.raises(OutOfOrderError):
        p.uas.receive(wire(alice.request("BYE", via=p.via(), cseq=49)), now=3)
    with pytest.raises(LocalProtocolError):
        p.uac.send(alice.request("BYE", via=p.via(), cseq=49), now=3)
    assert (snapshot(p.uac), snapshot(p.uas)) == before


def test_dialogs_view_is_read_only() -> None:
    """The manager's view of its dialogs cannot be changed from outside."""
    p = Pair()
    _, _, alice, _ = established(p)
    with pytest.raises(TypeError):
        p.uac.dialogs[alice.id] = alice  # type: ignore[index]
    assert p.uac.get(alice.id) is alice
    assert list(p.uac) == [alice]


def test_a_2xx_after_bye_is_acked_but_never_revives_the_dialog() -> None:
    """RFC 3261 13.2.2.4, 15: a 2xx retransmitted (or crossing our BYE) after the dialog
    ended is ACKed, and the dialog stays terminated."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 180))
    alice, _ = p.agree(call_id_of(p, inv))
    p.uac.send(alice.request("BYE", via=p.via()), now=1)  # the caller gives up early
    got = p.uac.receive(wire(p.answer(inv, 200)), now=1)  # ... while Bob answers
    assert kinds(got) == [SendAck]
    assert of(SendAck, got[0]).dialog is alice
    assert alice.state is State.TERMINATED
    assert len(p.uac) == 0
    assert p.uac.receive(wire(p.answer(inv, 180)), now=2) == []
    assert len(p.uac) == 0
