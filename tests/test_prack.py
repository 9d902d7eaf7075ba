"""Reliable provisional responses and PRACK (RFC 3262), per early dialog and so per fork."""

from __future__ import annotations

import pytest
from pair import BOB_CONTACT, Pair, kinds, of, wire
from test_glare import Fixed
from test_manager import call_id_of, established, snapshot

from dialogfsm import (
    URI,
    DialogConfirmed,
    DialogCreated,
    DialogEvent,
    DialogManager,
    LocalProtocolError,
    NoSuchTransaction,
    ProvisionalDiscarded,
    RAck,
    RemoteProtocolError,
    Request,
    Response,
    SendAck,
    SendPrack,
    State,
    build_response,
)

TAG = "8321234356"  # Bob's To tag, as Pair.answer writes it
RSEQ_MAX = 2**31 - 1


def reliable(
    request: Request,
    code: int,
    rseq: int,
    *,
    to_tag: str = TAG,
    contact: str = BOB_CONTACT,
) -> Response:
    """A reliable provisional response to ``request`` (RFC 3262 7.1: Require and RSeq)."""
    return build_response(
        request, code, to_tag=to_tag, contact=contact,
        headers=[("Require", "100rel"), ("RSeq", str(rseq))],
    )  # fmt: skip


def prack_for(p: Pair, events: list[DialogEvent]) -> Request:
    """The PRACK the last event of ``events`` (a ``SendPrack``) asks for."""
    ask = of(SendPrack, events[-1])
    return ask.dialog.prack(ask.response, via=p.via())


def test_reliable_provisionals_are_pracked_in_order_then_the_call_completes() -> None:
    """RFC 3262 3, 4, 7.2: each new reliable 1xx asks the UAC for a PRACK whose RAck names
    its RSeq and the INVITE's CSeq; the UAS numbers the next one RSeq + 1 once the first is
    acknowledged; the PRACKs take the dialog's next CSeq numbers, and the ACK for the 2xx
    still carries the INVITE's (RFC 3261 13.2.2.4)."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    first = p.uas.next_rseq(inv, TAG)
    assert 1 <= first <= RSEQ_MAX
    sent, got = p.bob_sends(reliable(inv, 183, first))
    assert kinds(sent) == [DialogCreated]
    assert kinds(got) == [DialogCreated, SendPrack]
    alice, bob = p.agree(call_id_of(p, inv))
    ask = of(SendPrack, got[1])
    assert ask.dialog is alice
    assert ask.response.rseq == first
    assert alice.state is State.EARLY

    prack = prack_for(p, got)
    assert prack.headers.get("RAck") == f"{first} 1 INVITE"
    assert prack.rack == RAck(first, 1, "INVITE")
    assert (prack.cseq.number, prack.cseq.method) == (2, "PRACK")
    assert prack.to.tag == TAG
    assert p.alice_sends(prack) == ([], [])
    assert p.bob_sends(build_response(prack, 200)) == ([], [])
    p.agree(alice.id)

    second = p.uas.next_rseq(inv, TAG)
    assert second == first + 1
    _, got = p.bob_sends(reliable(inv, 180, second))
    assert kinds(got) == [SendPrack]
    assert of(SendPrack, got[0]).dialog is alice
    prack = prack_for(p, got)
    assert prack.headers.get("RAck") == f"{second} 1 INVITE"
    assert prack.cseq.number == 3
    assert p.alice_sends(prack) == ([], [])
    p.bob_sends(build_response(prack, 200))

    ok = p.answer(inv, 200)
    _, got = p.bob_sends(ok)
    assert kinds(got) == [DialogConfirmed, SendAck]
    ack = alice.ack(ok, via=p.via())
    assert ack.cseq.number == 1
    assert p.alice_sends(ack) == ([], [])
    assert bob.awaiting_ack is None
    p.agree(alice.id)
    assert alice.state is bob.state is State.CONFIRMED
    assert alice.dialog_state.local_seq == bob.dialog_state.remote_seq == 3


def test_a_retransmitted_reliable_provisional_is_not_pracked_again() -> None:
    """RFC 3262 4: a reliable 1xx whose RSeq was already seen is a retransmission: it is
    reported, neither PRACKed again nor applied; the UAS may retransmit it freely until
    its PRACK comes (RFC 3262 3)."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    rseq = p.uas.next_rseq(inv, TAG)
    ringing = reliable(inv, 183, rseq)
    _, got = p.bob_sends(ringing)
    assert kinds(got) == [DialogCreated, SendPrack]
    alice = of(SendPrack, got[1]).dialog
    before = snapshot(p.uac)

    def resent() -> None:
        sent, got = p.bob_sends(ringing)
        assert sent == []
        assert kinds(got) == [ProvisionalDiscarded]
        discarded = of(ProvisionalDiscarded, got[0])
        assert (discarded.dialog, discarded.reason) == (alice, "retransmission")
        assert discarded.response.rseq == rseq
        assert snapshot(p.uac) == before

    resent()  # before the PRACK
    p.alice_sends(alice.prack(ringing, via=p.via()))
    before = snapshot(p.uac)
    resent()  # crossing the PRACK
    # and it still takes the next one
    _, got = p.bob_sends(reliable(inv, 180, rseq + 1))
    assert kinds(got) == [SendPrack]


def test_an_out_of_order_reliable_provisional_waits_for_the_missing_one() -> None:
    """RFC 3262 4: a reliable 1xx whose RSeq is beyond the next is neither PRACKed nor
    processed; when the missing one arrives it is PRACKed, and the UAS's retransmission of
    the later one is then new and in order, and PRACKed too."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    rseq = p.uas.next_rseq(inv, TAG)
    _, got = p.bob_sends(reliable(inv, 183, rseq))
    alice = of(SendPrack, got[1]).dialog
    prack = prack_for(p, got)
    p.alice_sends(prack)
    p.bob_sends(build_response(prack, 200))

    # the network delivers RSeq + 2 before RSeq + 1
    late = reliable(inv, 183, rseq + 2)
    before = snapshot(p.uac)
    got = p.uac.receive(wire(late), now=0)
    assert kinds(got) == [ProvisionalDiscarded]
    discarded = of(ProvisionalDiscarded, got[0])
    assert (discarded.dialog, discarded.reason) == (alice, "out of order")
    assert snapshot(p.uac) == before

    # not applied: RSeq + 1 is still the next one
    _, got = p.bob_sends(reliable(inv, 180, rseq + 1))
    assert kinds(got) == [SendPrack]
    prack = prack_for(p, got)
    assert prack.rack == RAck(rseq + 1, 1, "INVITE")
    p.alice_sends(prack)
    p.bob_sends(build_response(prack, 200))

    # the UAS sends RSeq + 2 again (it was never PRACKed): now it is in order
    _, got = p.bob_sends(late)
    assert kinds(got) == [SendPrack]
    prack = prack_for(p, got)
    assert prack.rack == RAck(rseq + 2, 1, "INVITE")
    assert p.alice_sends(prack) == ([], [])


def test_each_fork_has_its_own_rseq_space_and_its_own_prack_target() -> None:
    """RFC 3262 4: the UAC keeps the RSeq sequence per early dialog, so per To tag: two
    forks of one INVITE each start where they like and are PRACKed on their own; RFC 3261
    12.2.1.1: each PRACK goes to its fork's remote target, with its fork's To tag."""
    a_contact, b_contact = "<sip:bob@a.biloxi.example.com>", "<sip:bob@b.biloxi.example.com>"
    p = Pair()  # Alice and the UA that answers as fork A
    fork_b = Pair(uac=p.uac)  # the same Alice and a second UA
    inv = p.invite()
    p.alice_sends(inv)
    fork_b.uas.receive(wire(inv), now=0)

    def on(fork: Pair, tag: str, contact: str, code: int, rseq: int) -> Request:
        _, got = fork.bob_sends(reliable(inv, code, rseq, to_tag=tag, contact=contact))
        assert kinds(got)[-1] is SendPrack
        ask = of(SendPrack, got[-1])
        assert ask.dialog.id.remote_tag == tag
        prack = ask.dialog.prack(ask.response, via=p.via())
        assert prack.to.tag == tag
        assert prack.uri == URI.parse(contact.strip("<>"))
        assert prack.rack == RAck(rseq, 1, "INVITE")
        assert fork.alice_sends(prack) == ([], [])
        fork.bob_sends(build_response(prack, 200))
        return prack

    on(p, "forka", a_contact, 183, 1)
    on(fork_b, "forkb", b_contact, 183, 500)
    alice_a = p.uac.get(call_id_of(p, inv, "forka"))
    alice_b = p.uac.get(call_id_of(p, inv, "forkb"))
    assert alice_a is not None
    assert alice_b is not None

    # what comes next on one fork is no use on the other
    crossed = reliable(inv, 180, 501, to_tag="forka", contact=a_contact)
    got = p.uac.receive(wire(crossed), now=0)
    assert kinds(got) == [ProvisionalDiscarded]
    discarded = of(ProvisionalDiscarded, got[0])
    assert (discarded.dialog, discarded.reason) == (alice_a, "out of order")
    crossed = reliable(inv, 180, 2, to_tag="forkb", contact=b_contact)
    got = p.uac.receive(wire(crossed), now=0)
    assert kinds(got) == [ProvisionalDiscarded]  # below fork B's first RSeq: never seen
    discarded = of(ProvisionalDiscarded, got[0])
    assert (discarded.dialog, discarded.reason) == (alice_b, "out of order")

    # each fork goes on from its own last RSeq
    on(p, "forka", a_contact, 180, 2)
    on(fork_b, "forkb", b_contact, 180, 501)
    assert alice_a.dialog_state.local_seq == alice_b.dialog_state.local_seq == 3
    p.agree(alice_a.id)
    fork_b.agree(alice_b.id)


def test_the_uas_sends_one_unacknowledged_reliable_provisional_at_a_time() -> None:
    """RFC 3262 3: the UAS "MUST NOT send a second reliable provisional response until the
    first is acknowledged", numbers each one after the first exactly one higher, and starts
    between 1 and 2**31-1; a refused send changes nothing, a retransmission is allowed."""
    rng = Fixed("high")
    p = Pair(uas=DialogManager(rng=rng))
    inv = p.invite()
    p.alice_sends(inv)
    first = p.uas.next_rseq(inv, TAG)
    assert len(rng.draws) == 1
    low, high = rng.draws[0]
    assert 1 <= low <= high <= RSEQ_MAX
    assert first == high
    with pytest.raises(LocalProtocolError, match="RSeq 0"):
        p.uas.send(reliable(inv, 183, 0), now=0)
    assert len(p.uas) == 0
    _, got = p.bob_sends(reliable(inv, 183, first))
    ask = of(SendPrack, got[-1])
    assert p.uas.next_rseq(inv, TAG) == first + 1
    assert len(rng.draws) == 1  # the rest of the transaction counts up

    before = snapshot(p.uas)
    with pytest.raises(LocalProtocolError, match="RFC 3262"):
        p.uas.send(reliable(inv, 180, first + 1), now=0)
    assert snapshot(p.uas) == before
    assert p.uas.next_rseq(inv, TAG) == first + 1
    assert p.uas.send(reliable(inv, 183, first), now=0) == []  # a retransmission

    # the refused 180 did not replace the 183: the PRACK for the 183 still matches
    prack = ask.dialog.prack(ask.response, via=p.via())
    assert p.alice_sends(prack) == ([], [])
    p.bob_sends(build_response(prack, 200))

    before = snapshot(p.uas)
    for skipped in (first + 2, first + 100):
        with pytest.raises(LocalProtocolError, match="RFC 3262"):
            p.uas.send(reliable(inv, 180, skipped), now=0)
    assert snapshot(p.uas) == before
    _, got = p.bob_sends(reliable(inv, 180, first + 1))
    assert kinds(got) == [SendPrack]
    assert p.uas.next_rseq(inv, TAG) == first + 2


def test_rseq_counts_up_past_2_31_within_a_transaction() -> None:
    """RFC 3262 7.1: RSeq runs from 1 to 2**32-1 and never wraps; the first is below 2**31
    so that every later one (first + 1, + 2 ...) still fits. A UAS that starts at
    2**31-1 sends its second reliable 1xx with RSeq 2**31, which the UAC PRACKs."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    _, got = p.bob_sends(reliable(inv, 183, RSEQ_MAX))
    prack = prack_for(p, got)
    p.alice_sends(prack)
    p.bob_sends(build_response(prack, 200))
    _, got = p.bob_sends(reliable(inv, 180, RSEQ_MAX + 1))
    assert kinds(got) == [SendPrack]
    prack = prack_for(p, got)
    assert prack.headers.get("RAck") == f"{2**31} 1 INVITE"
    assert p.alice_sends(prack) == ([], [])


def test_a_prack_that_matches_nothing_gets_481_and_a_retransmitted_one_is_absorbed() -> None:
    """RFC 3262 3: a PRACK that matches no unacknowledged reliable 1xx is answered 481 (and
    changes nothing, so the right PRACK still works); RFC 3262 7.2: a PRACK without RAck is
    malformed (400); a retransmission of the PRACK that matched is not an error."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    rseq = p.uas.next_rseq(inv, TAG)
    _, got = p.bob_sends(reliable(inv, 183, rseq))
    ask = of(SendPrack, got[-1])
    alice, bob = p.agree(call_id_of(p, inv))
    before = snapshot(p.uas)

    for rack in (f"{rseq + 1} 1 INVITE", f"{rseq} 2 INVITE", f"{rseq} 1 UPDATE"):
        wrong = alice.request("PRACK", via=p.via(), headers=[("RAck", rack)])
        with pytest.raises(NoSuchTransaction) as info:
            p.uas.receive(wire(wrong), now=0)
        assert info.value.status_hint == 481
        assert isinstance(info.value, RemoteProtocolError)
        assert bob.dialog_state.remote_seq == 1
        assert snapshot(p.uas) == before

    bare = alice.request("PRACK", via=p.via())
    with pytest.raises(RemoteProtocolError, match="RAck") as bad:
        p.uas.receive(wire(bare), now=0)
    assert bad.value.status_hint == 400
    assert snapshot(p.uas) == before

    prack = alice.prack(ask.response, via=p.via())
    assert p.alice_sends(prack) == ([], [])
    assert bob.dialog_state.remote_seq == prack.cseq.number
    after = snapshot(p.uas)
    assert p.uas.receive(wire(prack), now=1) == []  # its retransmission
    assert snapshot(p.uas) == after

    # a new PRACK for the 1xx already acknowledged acknowledges nothing
    again = alice.prack(ask.response, via=p.via())
    assert again.cseq.number == prack.cseq.number + 1
    with pytest.raises(NoSuchTransaction) as info:
        p.uas.receive(wire(again), now=1)
    assert info.value.status_hint == 481
    assert snapshot(p.uas) == after


def test_a_reliable_provisional_to_a_reinvite_is_pracked_in_a_new_rseq_space() -> None:
    """RFC 3262 3, 4: the RSeq sequence belongs to one INVITE transaction: a re-INVITE's
    first reliable 1xx starts afresh (here at the same number as the first INVITE's) and is
    PRACKed in the confirmed dialog; its RAck names the re-INVITE's CSeq."""
    rng = Fixed("low")  # every transaction starts at RSeq 1
    p = Pair(uas=DialogManager(rng=rng))
    inv = p.invite()
    p.alice_sends(inv)
    rseq = p.uas.next_rseq(inv, TAG)
    assert rseq == 1
    _, got = p.bob_sends(reliable(inv, 183, rseq))
    prack = prack_for(p, got)
    p.alice_sends(prack)
    p.bob_sends(build_response(prack, 200))
    ok = p.answer(inv, 200)
    p.bob_sends(ok)
    alice, bob = p.agree(call_id_of(p, inv))
    p.alice_sends(alice.ack(ok, via=p.via()))

    reinvite = alice.request("INVITE", via=p.via())
    assert reinvite.cseq.number == 3
    p.alice_sends(reinvite)
    again = p.uas.next_rseq(reinvite, TAG)
    assert again == rseq  # a fresh draw, not rseq + 1
    assert len(rng.draws) == 2
    _, got = p.bob_sends(reliable(reinvite, 183, again))
    assert kinds(got) == [SendPrack]
    assert of(SendPrack, got[0]).dialog is alice
    prack = prack_for(p, got)
    assert prack.headers.get("RAck") == f"{again} 3 INVITE"
    assert p.alice_sends(prack) == ([], [])
    p.bob_sends(build_response(prack, 200))
    assert p.uas.next_rseq(reinvite, TAG) == again + 1

    ok = build_response(reinvite, 200, contact=BOB_CONTACT)
    _, got = p.bob_sends(ok)
    assert kinds(got) == [SendAck]
    p.alice_sends(alice.ack(ok, via=p.via()))
    assert bob.awaiting_ack is None
    p.agree(alice.id)
    assert alice.state is State.CONFIRMED


def test_a_reinvites_reliable_provisionals_follow_the_same_rules() -> None:
    """RFC 3262 3, 4 inside a confirmed dialog: a second unacknowledged reliable 1xx to a
    re-INVITE is refused to the UAS, and the UAC discards its retransmission."""
    p = Pair()
    _, _, alice, _ = established(p)
    reinvite = alice.request("INVITE", via=p.via())
    p.alice_sends(reinvite)
    rseq = p.uas.next_rseq(reinvite, TAG)
    first = reliable(reinvite, 183, rseq)
    _, got = p.bob_sends(first)
    assert kinds(got) == [SendPrack]
    with pytest.raises(LocalProtocolError, match="RFC 3262"):
        p.uas.send(reliable(reinvite, 180, rseq + 1), now=0)
    _, got = p.bob_sends(first)
    assert kinds(got) == [ProvisionalDiscarded]
    assert of(ProvisionalDiscarded, got[0]).reason == "retransmission"


def completed_with_100rel(p: Pair) -> tuple[Request, Response]:
    """INVITE (CSeq 1) / reliable 183 (RSeq 100) / PRACK / 200 / ACK: returns the INVITE
    and that 183."""
    inv = p.invite()
    p.alice_sends(inv)
    early = reliable(inv, 183, 100)
    _, got = p.bob_sends(early)
    prack = prack_for(p, got)
    p.alice_sends(prack)
    p.bob_sends(build_response(prack, 200))
    ok = p.answer(inv, 200)
    p.bob_sends(ok)
    alice, _ = p.agree(call_id_of(p, inv))
    p.alice_sends(alice.ack(ok, via=p.via()))
    return inv, early


def test_each_direction_has_its_own_rseq_space() -> None:
    """RFC 3262 3 (erratum 4600): an RSeq space belongs to one transaction of one side.
    Bob's re-INVITE may carry CSeq 1 like Alice's INVITE (each side numbers its own), and
    Alice's reliable 1xx to it start a fresh sequence that Bob PRACKs."""
    p = Pair()
    inv, _ = completed_with_100rel(p)
    _alice, bob = p.dialogs(call_id_of(p, inv))
    reinvite = bob.request("INVITE", via="SIP/2.0/UDP client.biloxi.example.com;branch=z9hG4bKr1")
    assert reinvite.cseq.number == inv.cseq.number == 1
    p.bob_sends(reinvite)
    answer = build_response(reinvite, 183, contact="<sip:alice@client.atlanta.example.com>",
                            headers=[("Require", "100rel"), ("RSeq", "1000")])  # fmt: skip
    sent, got = p.alice_sends(answer)  # no "RSeq 1000 after 100"
    assert sent == []
    assert kinds(got) == [SendPrack]
    prack = prack_for(p, got)
    assert prack.headers.get("RAck") == "1000 1 INVITE"
    assert p.bob_sends(prack) == ([], [])


def test_a_stale_reliable_provisional_is_not_pracked() -> None:
    """RFC 3262 4: RSeq state lasts until the INVITE's final response: a delayed copy of a
    reliable 1xx to an INVITE already answered is neither applied nor PRACKed."""
    p = Pair()
    inv, early = completed_with_100rel(p)
    got = p.uac.receive(wire(early), now=1)
    assert kinds(got) == [ProvisionalDiscarded]
    assert of(ProvisionalDiscarded, got[0]).reason == "stale"
    late = reliable(inv, 180, 101)  # even one that would have been next in order
    got = p.uac.receive(wire(late), now=1)
    assert kinds(got) == [ProvisionalDiscarded]


def test_prack_for_an_unreliable_provisional_is_our_error() -> None:
    """RFC 3262 4: only a reliable 1xx (Require: 100rel and RSeq) is PRACKed."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    ringing = p.answer(inv, 180)
    p.bob_sends(ringing)
    alice, _ = p.dialogs(call_id_of(p, inv))
    with pytest.raises(LocalProtocolError, match="100rel"):
        alice.prack(ringing, via=p.via())
