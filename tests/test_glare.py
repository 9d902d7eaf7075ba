"""Glare: re-INVITEs and UPDATEs that cross (RFC 3261 14.1, 14.2; RFC 3311 5.2)."""

from __future__ import annotations

import random

import pytest
from pair import BOB_CONTACT, Pair, kinds, of, wire
from test_manager import BOB_VIA, call_id_of, established, snapshot

from dialogfsm import (
    DialogManager,
    GlareError,
    LocalProtocolError,
    NoSuchDialog,
    RetryRequest,
    State,
    TargetRefreshed,
    build_request,
    build_response,
)


class Fixed(random.Random):
    """A random source that always draws ``pick`` ("low" or "high") of the range."""

    def __init__(self, pick: str) -> None:
        super().__init__(0)
        self.pick = pick
        self.draws: list[tuple[int, int]] = []

    def randint(self, a: int, b: int) -> int:
        self.draws.append((a, b))
        return a if self.pick == "low" else b


def test_crossing_reinvites_get_491_on_both_sides() -> None:
    """RFC 3261 14.2: a re-INVITE received while ours is in progress is answered 491."""
    p = Pair()
    _, _, alice, bob = established(p)
    from_alice = alice.request("INVITE", via=p.via())
    from_bob = bob.request("INVITE", via=BOB_VIA.format(7))
    p.uac.send(from_alice, now=1)
    p.uas.send(from_bob, now=1)
    for manager, request in ((p.uas, from_alice), (p.uac, from_bob)):
        before = snapshot(manager)
        with pytest.raises(GlareError) as info:
            manager.receive(wire(request), now=1)
        assert info.value.status_hint == 491
        assert info.value.retry_after is None
        assert snapshot(manager) == before


def test_second_reinvite_before_the_first_is_answered_gets_500_retry_after() -> None:
    """RFC 3261 14.2: a second INVITE before our final response to the first gets 500 with
    a Retry-After between 0 and 10 seconds."""
    rng = Fixed("high")
    p = Pair(uas=DialogManager(rng=rng))
    _, _, alice, bob = established(p)
    first = alice.request("INVITE", via=p.via())
    p.alice_sends(first)
    second = alice.request("INVITE", via=p.via(), cseq=first.cseq.number + 1)
    with pytest.raises(GlareError) as info:
        p.uas.receive(wire(second), now=1)
    assert (info.value.status_hint, info.value.retry_after) == (500, 10)
    assert rng.draws == [(0, 10)]
    assert bob.dialog_state.remote_seq == first.cseq.number
    p.bob_sends(build_response(first, 200, contact=BOB_CONTACT))  # answered: the next is fine
    p.alice_sends(alice.ack(build_response(first, 200), via=p.via()))
    p.alice_sends(alice.request("INVITE", via=p.via()))


@pytest.mark.parametrize(
    ("caller", "pick", "delay"),
    [(True, "low", 2.1), (True, "high", 4.0), (False, "low", 0.0), (False, "high", 2.0)],
)
def test_491_retry_window(caller: bool, pick: str, delay: float) -> None:
    """RFC 3261 14.1: after a 491 the UAC waits 2.1-4 s if it owns the Call-ID (it sent the
    dialog-creating INVITE), 0-2 s otherwise, in 10 ms units; then it is told to retry."""
    rng = Fixed(pick)
    p = Pair(uac=DialogManager(rng=rng), uas=DialogManager(rng=rng))
    _, _, alice, bob = established(p)
    if caller:
        manager, dialog, request = p.uac, alice, alice.request("INVITE", via=p.via())
    else:
        manager, dialog, request = p.uas, bob, bob.request("INVITE", via=BOB_VIA.format(9))
    manager.send(request, now=10)
    assert manager.receive(wire(build_response(request, 491)), now=10) == []
    assert rng.draws == [(210, 400) if caller else (0, 200)]
    assert manager.get_timer() == pytest.approx(10 + delay)
    got = manager.handle_timer(10 + delay)
    assert kinds(got) == [RetryRequest]
    retry = of(RetryRequest, got[0])
    assert retry.dialog is dialog
    assert retry.response.cseq.number == request.cseq.number
    # the retry is a new request and no longer crosses anything
    assert manager.send(dialog.request("INVITE", via=p.via()), now=11) == []


def test_retry_timer_dies_with_its_dialog() -> None:
    """RFC 3261 14.1: no retry is suggested for a dialog that ended meanwhile."""
    p = Pair()
    _, _, alice, _ = established(p)
    reinvite = alice.request("INVITE", via=p.via())
    p.uac.send(reinvite, now=1)
    p.uac.receive(wire(build_response(reinvite, 491)), now=1)
    p.uac.send(alice.request("BYE", via=p.via()), now=2)
    assert p.uac.handle_timer(10) == []
    assert p.uac.get_timer() is None or p.uac.get_timer() > 10  # type: ignore[operator]


def test_we_may_not_start_a_reinvite_while_one_is_in_progress() -> None:
    """RFC 3261 14.1: no new INVITE while an INVITE transaction is in progress either way."""
    p = Pair()
    _, _, alice, _ = established(p)
    first = alice.request("INVITE", via=p.via())
    p.alice_sends(first)
    assert p.uac.send(first, now=1) == []  # a retransmission is not a new INVITE
    with pytest.raises(LocalProtocolError, match="in progress"):
        p.uac.send(alice.request("INVITE", via=p.via(), cseq=first.cseq.number + 1), now=1)
    p.bob_sends(build_response(first, 200, contact=BOB_CONTACT))
    p.uac.send(alice.request("INVITE", via=p.via(), cseq=first.cseq.number + 1), now=2)


def test_update_in_an_early_dialog_while_the_invite_is_pending() -> None:
    """RFC 3311 5.1: UPDATE works inside the early dialog of a pending INVITE, both ways,
    and its 2xx refreshes the target."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 183))
    alice, bob = p.agree(p.uac.find(wire(p.answer(inv, 183)), sent=False).id)  # type: ignore[union-attr]
    update = bob.request("UPDATE", via=BOB_VIA.format(3), contact="<sip:bob@new.example.com>")
    p.bob_sends(update)
    sent, _ = p.alice_sends(build_response(update, 200, contact="<sip:alice@pc.example.com>"))
    assert kinds(sent) == [TargetRefreshed]
    from_alice = alice.request("UPDATE", via=p.via())
    p.alice_sends(from_alice)
    p.bob_sends(build_response(from_alice, 200, contact=BOB_CONTACT))
    assert alice.state is bob.state is State.EARLY


def test_crossing_updates_get_491() -> None:
    """RFC 3311 5.2: an UPDATE that crosses our own pending UPDATE is answered 491."""
    p = Pair()
    _, _, alice, bob = established(p)
    p.uac.send(alice.request("UPDATE", via=p.via()), now=1)
    from_bob = bob.request("UPDATE", via=BOB_VIA.format(5))
    p.uas.send(from_bob, now=1)
    with pytest.raises(GlareError) as info:
        p.uac.receive(wire(from_bob), now=1)
    assert info.value.status_hint == 491


def test_no_reinvite_may_cross_the_initial_invite() -> None:
    """RFC 3261 14.1, 14.2: the INVITE that created an early dialog is in progress until its
    final response: the UAC may not send a re-INVITE in the early dialog, and the UAS
    answers one with 500 and Retry-After; an UPDATE is allowed (RFC 3311 5.1); after the
    2xx a re-INVITE is fine."""
    p = Pair(uas=DialogManager(rng=random.Random(3)))
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 183))
    alice, bob = p.dialogs(call_id_of(p, inv))
    early = alice.request("INVITE", via=p.via())
    with pytest.raises(LocalProtocolError, match=r"14\.1"):
        p.uac.send(early, now=0)
    before = snapshot(p.uas)
    with pytest.raises(GlareError) as caught:
        p.uas.receive(wire(early), now=0)
    assert (caught.value.status_hint, caught.value.retry_after is not None) == (500, True)
    assert snapshot(p.uas) == before
    update = alice.request("UPDATE", via=p.via())
    p.alice_sends(update)
    p.bob_sends(build_response(update, 200))
    ok = p.answer(inv, 200)
    p.bob_sends(ok)
    p.alice_sends(alice.ack(ok, via=p.via()))
    p.alice_sends(alice.request("INVITE", via=p.via()))  # no error now
    assert bob.remote_pending is not None


def test_bye_without_a_to_tag_matches_no_dialog() -> None:
    """RFC 3261 15.1.2: a BYE that matches no dialog gets 481, also one without a To tag."""
    p = Pair()
    stray = build_request(
        "BYE", "sip:bob@biloxi.example.com", call_id="stray@x", from_="<sip:a@x>;tag=1",
        to="<sip:bob@biloxi.example.com>", cseq=2, via=p.via(),
    )  # fmt: skip
    with pytest.raises(NoSuchDialog):
        p.uas.receive(wire(stray), now=0)
    assert not p.uas.dialog_sets
