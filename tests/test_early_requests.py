"""Requests inside an early dialog and crossing re-INVITEs: sequences that break stacks
which assume CSeq only ever grows, or that targets change only on a 2xx to INVITE."""

from __future__ import annotations

import random

import pytest
from pair import ALICE_CONTACT, BOB_CONTACT, Pair, kinds, of, wire
from test_manager import BOB_VIA, call_id_of, established, snapshot

from dialogfsm import (
    URI,
    DialogConfirmed,
    DialogCreated,
    DialogManager,
    GlareError,
    RetryRequest,
    SendAck,
    State,
    TargetRefreshed,
    build_response,
)

ALICE_NEW = "sip:alice@laptop.atlanta.example.com"
BOB_NEW = "sip:bob@desk.biloxi.example.com"


def test_update_in_an_early_dialog_refreshes_both_targets() -> None:
    """RFC 3311 5.1: the caller may send UPDATE in the early dialog of its pending INVITE;
    it is a target refresh, applied when answered 2xx (RFC 6141 4): the UAS takes the new
    Contact when it sends the 2xx, the UAC takes the 2xx's Contact when it receives it.
    The ACK then goes to the new target and the dialogs still agree."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    _, got = p.bob_sends(p.answer(inv, 183))
    assert kinds(got) == [DialogCreated]
    alice, bob = p.agree(call_id_of(p, inv))
    assert alice.state is State.EARLY

    update = alice.request("UPDATE", via=p.via(), contact=f"<{ALICE_NEW}>")
    assert update.cseq.number == 2
    assert p.alice_sends(update) == ([], [])
    assert bob.dialog_state.remote_target == URI.parse(ALICE_CONTACT.strip("<>"))  # not yet

    sent, got = p.bob_sends(build_response(update, 200, contact=f"<{BOB_NEW}>"))
    assert kinds(sent) == [TargetRefreshed]
    assert of(TargetRefreshed, sent[0]).new == URI.parse(ALICE_NEW)
    assert bob.dialog_state.remote_target == URI.parse(ALICE_NEW)
    assert kinds(got) == [TargetRefreshed]
    refreshed = of(TargetRefreshed, got[0])
    assert refreshed.dialog is alice
    assert refreshed.old == URI.parse(BOB_CONTACT.strip("<>"))
    assert refreshed.new == URI.parse(BOB_NEW)
    assert alice.state is bob.state is State.EARLY
    p.agree(alice.id)

    ok = p.answer(inv, 200, contact=f"<{BOB_NEW}>")
    _, got = p.bob_sends(ok)
    assert kinds(got) == [DialogConfirmed, SendAck]
    ack = alice.ack(ok, via=p.via())
    assert ack.uri == URI.parse(BOB_NEW)
    assert ack.cseq.number == 1
    assert p.alice_sends(ack) == ([], [])
    assert bob.awaiting_ack is None
    p.agree(alice.id)
    assert alice.dialog_state.remote_target == URI.parse(BOB_NEW)
    assert bob.request("INFO", via=BOB_VIA.format(1)).uri == URI.parse(ALICE_NEW)


def test_info_in_an_early_dialog_then_an_ack_with_a_lower_cseq() -> None:
    """RFC 3261 12.2.1.1, 13.2.2.4: the ACK for the 2xx reuses the INVITE's CSeq, which is
    below that of an INFO sent in the early dialog; ACK is exempt from the CSeq order
    (12.2.2), so it is taken, it ends the UAS's wait for it (no BYE 64*T1 later, 13.3.1.4),
    and the next request takes the CSeq after the INFO's."""
    p = Pair()
    inv = p.invite()
    assert inv.cseq.number == 1
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 183))
    alice, bob = p.agree(call_id_of(p, inv))

    info = alice.request("INFO", via=p.via())
    assert info.cseq.number == 2
    assert p.alice_sends(info) == ([], [])
    assert p.bob_sends(build_response(info, 200)) == ([], [])
    assert bob.dialog_state.remote_seq == 2

    ok = p.answer(inv, 200)
    _, got = p.bob_sends(ok)
    assert kinds(got) == [DialogConfirmed, SendAck]
    assert bob.awaiting_ack == 1
    ack = alice.ack(ok, via=p.via())
    assert ack.cseq.number == 1
    assert p.alice_sends(ack) == ([], [])
    assert bob.awaiting_ack is None
    assert bob.dialog_state.remote_seq == 2  # an ACK does not move the sequence
    assert p.uas.handle_timer(64 * p.uas.t1 + 1) == []  # no BYE for a missing ACK
    p.agree(alice.id)

    later = alice.request("INFO", via=p.via())
    assert later.cseq.number == 3
    assert p.alice_sends(later) == ([], [])
    assert bob.dialog_state.remote_seq == 3
    p.agree(alice.id)
    assert alice.state is bob.state is State.CONFIRMED


def test_crossing_reinvites_both_get_491_then_retry_in_turn() -> None:
    """RFC 3261 14.2: re-INVITEs that cross are each answered 491 (and change nothing);
    14.1: each side then waits at random, the owner of the Call-ID (the caller) 2.1-4 s
    and the other 0-2 s, in 10 ms units, so the callee retries first and its retry is
    accepted; the caller's retry, after that transaction is over, is accepted too."""
    p = Pair(uac=DialogManager(rng=random.Random(3262)), uas=DialogManager(rng=random.Random(3311)))
    _, _, alice, bob = established(p)
    p.now = start = 10.0
    from_alice = alice.request("INVITE", via=p.via())
    from_bob = bob.request("INVITE", via=BOB_VIA.format(7))
    p.uac.send(from_alice, now=start)
    p.uas.send(from_bob, now=start)
    for manager, request in ((p.uas, from_alice), (p.uac, from_bob)):
        before = snapshot(manager)
        with pytest.raises(GlareError) as info:
            manager.receive(wire(request), now=start)
        assert info.value.status_hint == 491
        assert snapshot(manager) == before

    refused_alice = build_response(from_alice, 491)
    refused_bob = build_response(from_bob, 491)
    assert p.bob_sends(refused_alice) == ([], [])
    assert p.alice_sends(refused_bob) == ([], [])
    alice_at, bob_at = p.uac.get_timer(), p.uas.get_timer()
    assert alice_at is not None
    assert bob_at is not None
    assert start + 2.1 <= alice_at <= start + 4.0
    assert start <= bob_at <= start + 2.0
    for at in (alice_at, bob_at):
        assert round((at - start) * 100, 6).is_integer()  # units of 10 ms

    # Bob's wait ends first; Alice's has not
    p.now = bob_at
    assert p.uac.handle_timer(bob_at) == []
    got = p.uas.handle_timer(bob_at)
    assert kinds(got) == [RetryRequest]
    retry = of(RetryRequest, got[0])
    assert (retry.dialog, retry.response.cseq.number) == (bob, from_bob.cseq.number)
    again = bob.request("INVITE", via=BOB_VIA.format(8))
    assert again.cseq.number == from_bob.cseq.number + 1
    assert p.bob_sends(again) == ([], [])
    ok = build_response(again, 200, contact=ALICE_CONTACT)
    _, got = p.alice_sends(ok)
    assert kinds(got) == [SendAck]
    assert p.bob_sends(bob.ack(ok, via=BOB_VIA.format(9))) == ([], [])
    assert alice.awaiting_ack is None

    # then Alice's
    p.now = alice_at
    assert p.uas.handle_timer(alice_at) == []
    got = p.uac.handle_timer(alice_at)
    assert kinds(got) == [RetryRequest]
    retry = of(RetryRequest, got[0])
    assert (retry.dialog, retry.response.cseq.number) == (alice, from_alice.cseq.number)
    again = alice.request("INVITE", via=p.via())
    assert again.cseq.number == from_alice.cseq.number + 1
    assert p.alice_sends(again) == ([], [])
    ok = build_response(again, 200, contact=BOB_CONTACT)
    _, got = p.bob_sends(ok)
    assert kinds(got) == [SendAck]
    assert p.alice_sends(alice.ack(ok, via=p.via())) == ([], [])
    assert bob.awaiting_ack is None
    p.agree(alice.id)
    assert alice.state is bob.state is State.CONFIRMED
    assert alice.local_pending is alice.remote_pending is None
    assert bob.local_pending is bob.remote_pending is None
