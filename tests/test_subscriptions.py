"""Subscription usages (RFC 6665, RFC 3515 REFER, RFC 4488) and RFC 5057 usage lifetimes.

Alice subscribes (or is referred); Bob notifies. Every message crosses as bytes through
``Pair``; a NOTIFY that "overtakes" a 2xx is delivered before it, as UDP may do.
"""

from __future__ import annotations

import itertools

import pytest
from pair import ALICE, ALICE_CONTACT, BOB, BOB_CONTACT, Pair, kinds, of, wire
from test_manager import BOB_VIA, RR, established, snapshot

from dialogfsm import (
    RESPONSE_EFFECTS,
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogId,
    DialogManager,
    DialogTerminated,
    Effect,
    LocalProtocolError,
    NoSuchDialog,
    NoSuchSubscription,
    RemoteProtocolError,
    Request,
    Response,
    SendAck,
    State,
    Subscription,
    TargetRefreshed,
    UsageCreated,
    UsageEnded,
    build_request,
    build_response,
)

CALL = "sub-7777@atlanta.example.com"
ALICE_TAG = "a-sub"
BOB_TAG = "b-notifier"
T1 = 0.5
_bob_branches = itertools.count(1)


def bob_via() -> str:
    return BOB_VIA.format(next(_bob_branches))


def subscribe(
    p: Pair, *, event: str = "presence", expires: int = 600, record_route: tuple[str, ...] = ()
) -> Request:
    """Alice's SUBSCRIBE outside any dialog, as it reaches Bob."""
    return build_request(
        "SUBSCRIBE", BOB, call_id=CALL, from_=f"Alice <{ALICE}>;tag={ALICE_TAG}",
        to=f"Bob <{BOB}>", cseq=1, via=p.via(), contact=ALICE_CONTACT,
        headers=[("Event", event), ("Expires", str(expires)),
                 *(("Record-Route", r) for r in record_route)],
    )  # fmt: skip


def accept(request: Request, code: int = 200, *, expires: int | None = 600) -> Response:
    """Bob's 2xx (or failure) to a SUBSCRIBE or REFER, with the Expires he grants."""
    headers = [("Expires", str(expires))] if expires is not None and code < 300 else []
    contact = BOB_CONTACT if code < 300 else ()
    return build_response(request, code, to_tag=BOB_TAG, contact=contact, headers=headers)


def notify(
    dialog: Dialog,
    state: str = "active;expires=600",
    *,
    event: str = "presence",
    contact: str = BOB_CONTACT,
) -> Request:
    """A NOTIFY sent in ``dialog`` (by whichever side holds it)."""
    return dialog.request(
        "NOTIFY", via=bob_via(), contact=contact,
        headers=[("Event", event), ("Subscription-State", state)],
    )  # fmt: skip


def alice_id() -> DialogId:
    return DialogId(CALL, ALICE_TAG, BOB_TAG)


def subscribed(p: Pair) -> tuple[Dialog, Dialog]:
    """SUBSCRIBE / 200 / NOTIFY active / 200: an active presence subscription."""
    sub = subscribe(p)
    p.alice_sends(sub)
    p.bob_sends(accept(sub))
    alice, bob = p.agree(alice_id())
    n = notify(bob)
    p.bob_sends(n)
    p.alice_sends(build_response(n, 200))
    return alice, bob


def only_subscription(dialog: Dialog) -> Subscription:
    assert dialog.subscriptions is not None
    assert len(dialog.subscriptions) == 1, dialog.subscriptions
    return dialog.subscriptions[0]


# -- SUBSCRIBE creates a dialog (RFC 6665 4.1.2.1, 4.2.1) -----------------------------------
def test_subscribe_2xx_creates_a_subscription_only_dialog() -> None:
    """RFC 6665 4.1.2.1, RFC 5057 4.2: the 2xx to SUBSCRIBE creates a confirmed dialog that
    carries one subscription usage and no INVITE usage; no ACK is asked for."""
    p = Pair()
    sub = subscribe(p, record_route=tuple(RR))
    p.alice_sends(sub)
    bob_events, alice_events = p.bob_sends(accept(sub))
    for events in (alice_events, bob_events):
        assert kinds(events) == [DialogCreated, DialogConfirmed, UsageCreated]
    assert SendAck not in kinds(alice_events)
    alice, bob = p.agree(alice_id())
    assert alice.state is State.CONFIRMED
    assert not alice.invite_usage
    mine, theirs = only_subscription(alice), only_subscription(bob)
    assert (mine.package, mine.id, mine.subscriber) == ("presence", None, True)
    assert (theirs.package, theirs.subscriber) == ("presence", False)
    assert alice.usages == (mine,)
    assert mine.state is None  # no NOTIFY yet


def test_notify_before_the_2xx_creates_the_dialog() -> None:
    """RFC 6665 4.1.2.4: a NOTIFY that overtakes the 2xx creates the dialog, with the route
    set and remote target of the NOTIFY (4.4.1); the late 2xx then changes no dialog
    state and creates nothing more."""
    p = Pair()
    sub = subscribe(p)
    p.alice_sends(sub)
    ok = accept(sub)
    p.uas.send(ok, now=p.now)  # Bob sent the 200 ... but the NOTIFY arrives first
    bob = p.uas.get(DialogId(CALL, BOB_TAG, ALICE_TAG))
    assert bob is not None
    n = notify(bob, "active;expires=300")
    routed = wire(n)
    # the proxy on the way record-routes the NOTIFY
    items = [(k, v) for k, v in routed.headers if k.lower() != "record-route"]
    items.insert(1, ("Record-Route", "<sip:proxy.example.com;lr>"))
    routed_notify = build_request(
        "NOTIFY", str(n.uri), call_id=CALL, from_=str(n.from_), to=str(n.to),
        cseq=n.cseq.number, via=str(n.via[0]), contact=BOB_CONTACT,
        headers=[("Event", "presence"), ("Subscription-State", "active;expires=300"),
                 ("Record-Route", "<sip:proxy.example.com;lr>")],
    )  # fmt: skip
    p.now = 1.0
    got = p.uac.receive(wire(routed_notify), now=p.now)
    assert kinds(got) == [DialogCreated, DialogConfirmed, UsageCreated]
    assert of(DialogCreated, got[0]).state is State.CONFIRMED
    alice = p.uac.get(alice_id())
    assert alice is not None
    state = alice.dialog_state
    assert [str(r.uri) for r in state.route_set] == ["sip:proxy.example.com;lr"]
    assert str(state.remote_target) == "sip:bob@client.biloxi.example.com;transport=udp"
    assert (state.local_seq, state.remote_seq) == (1, n.cseq.number)
    mine = only_subscription(alice)
    assert mine.state == "active"
    assert mine.expires_at == pytest.approx(301.0)
    p.alice_sends(build_response(routed_notify, 200))
    # the delayed 2xx: same dialog, nothing created, route set kept from the NOTIFY
    late = p.uac.receive(wire(ok), now=2.0)
    assert late == []
    assert p.uac.get(alice_id()) is alice
    assert len(p.uac) == 1
    assert [str(r.uri) for r in state.route_set] == ["sip:proxy.example.com;lr"]
    assert mine.accepted


def test_forked_subscribe_creates_a_dialog_per_notifier() -> None:
    """RFC 6665 4.1.2.4, 5.4.9: NOTIFYs from several notifiers (From tags) for one forked
    SUBSCRIBE each create their own dialog and subscription."""
    manager = DialogManager()
    p = Pair(uac=manager)
    sub = subscribe(p)
    manager.send(sub, now=0)
    for n, tag in enumerate(["fork-a", "fork-b"], start=1):
        note = build_request(
            "NOTIFY", "sip:alice@client.atlanta.example.com", call_id=CALL,
            from_=f"<{BOB}>;tag={tag}", to=f"<{ALICE}>;tag={ALICE_TAG}", cseq=n,
            via=bob_via(), contact=f"<sip:bob@{tag}.biloxi.example.com>",
            headers=[("Event", "presence"), ("Subscription-State", "pending")],
        )  # fmt: skip
        got = manager.receive(wire(note), now=n)
        assert kinds(got) == [DialogCreated, DialogConfirmed, UsageCreated]
    assert sorted(d.id.remote_tag for d in manager) == ["fork-a", "fork-b"]
    targets = {d.id.remote_tag: str(d.dialog_state.remote_target) for d in manager}
    assert targets == {
        "fork-a": "sip:bob@fork-a.biloxi.example.com",
        "fork-b": "sip:bob@fork-b.biloxi.example.com",
    }


def test_notify_for_another_event_creates_nothing() -> None:
    """RFC 6665 8.2.1: a NOTIFY whose Event does not match the SUBSCRIBE matches nothing
    (481), and leaves no trace."""
    manager = DialogManager()
    p = Pair(uac=manager)
    manager.send(subscribe(p), now=0)
    before = snapshot(manager)
    stray = build_request(
        "NOTIFY", "sip:alice@client.atlanta.example.com", call_id=CALL,
        from_=f"<{BOB}>;tag=x", to=f"<{ALICE}>;tag={ALICE_TAG}", cseq=1, via=bob_via(),
        headers=[("Event", "dialog"), ("Subscription-State", "active")],
    )  # fmt: skip
    with pytest.raises(NoSuchSubscription) as caught:
        manager.receive(wire(stray), now=1)
    assert caught.value.status_hint == 481
    assert snapshot(manager) == before


def test_refused_subscribe_leaves_nothing() -> None:
    """RFC 3261 12.1, RFC 6665 4.1.2.1: a non-2xx final creates no dialog, and a NOTIFY
    after it matches nothing (481)."""
    p = Pair()
    sub = subscribe(p)
    p.alice_sends(sub)
    bob_events, alice_events = p.bob_sends(accept(sub, 489))
    assert bob_events == alice_events == []
    assert len(p.uac) == len(p.uas) == 0
    assert not p.uac.dialog_sets
    late = build_request(
        "NOTIFY", "sip:alice@client.atlanta.example.com", call_id=CALL,
        from_=f"<{BOB}>;tag={BOB_TAG}", to=f"<{ALICE}>;tag={ALICE_TAG}", cseq=1,
        via=bob_via(), headers=[("Event", "presence"), ("Subscription-State", "active")],
    )  # fmt: skip
    with pytest.raises(NoSuchDialog):
        p.uac.receive(wire(late), now=1)


def test_subscribe_without_event_is_refused() -> None:
    """RFC 6665 8.2.1: SUBSCRIBE and NOTIFY must carry Event: ours is our error, the
    peer's gets a 400 hint; nothing is recorded either way."""
    p = Pair()
    bare = build_request(
        "SUBSCRIBE", BOB, call_id=CALL, from_=f"<{ALICE}>;tag={ALICE_TAG}", to=f"<{BOB}>",
        cseq=1, via=p.via(),
    )  # fmt: skip
    with pytest.raises(LocalProtocolError, match="Event"):
        p.uac.send(bare, now=0)
    with pytest.raises(RemoteProtocolError, match="Event") as caught:
        p.uas.receive(wire(bare), now=0)
    assert caught.value.status_hint == 400
    assert not p.uac.dialog_sets
    assert not p.uas.dialog_sets


# -- NOTIFY: state, termination, expiry (RFC 6665 4.1.3, 4.1.2.2) ----------------------------
def test_notify_terminated_ends_the_subscription_and_its_dialog() -> None:
    """RFC 6665 4.1.3, RFC 5057 4: Subscription-State terminated ends the usage; a dialog
    whose last usage ended terminates, on the notifier's side when it sends the NOTIFY and
    on the subscriber's when it arrives."""
    p = Pair()
    alice, bob = subscribed(p)
    final = notify(bob, "terminated;reason=noresource")
    bob_events, alice_events = p.bob_sends(final)
    for events, dialog in ((alice_events, alice), (bob_events, bob)):
        assert kinds(events) == [UsageEnded, DialogTerminated]
        ended = of(DialogTerminated, events[1])
        assert ended.trigger == "unused"
        assert "reason=noresource" in ended.reason
        assert of(UsageEnded, events[0]).usage.package == "presence"  # type: ignore[union-attr]
        assert dialog.state is State.TERMINATED
    assert len(p.uac) == len(p.uas) == 0
    # the 200 to the final NOTIFY finds no dialog and changes nothing
    assert p.alice_sends(build_response(final, 200)) == ([], [])


def test_notify_without_subscription_state_is_refused() -> None:
    """RFC 6665 8.2.3: Subscription-State is mandatory in NOTIFY; the subscriber answers
    400 and changes nothing."""
    p = Pair()
    _alice, bob = subscribed(p)
    bare = bob.request("NOTIFY", via=bob_via(), headers=[("Event", "presence")])
    before = snapshot(p.uac)
    with pytest.raises(RemoteProtocolError, match="Subscription-State") as caught:
        p.uac.receive(wire(bare), now=1)
    assert caught.value.status_hint == 400
    assert snapshot(p.uac) == before


def test_notify_for_an_unknown_subscription_gets_481() -> None:
    """RFC 6665 4.1.3: a NOTIFY in the dialog for an event nobody subscribed to gets 481
    and changes nothing (remote CSeq included)."""
    p = Pair()
    _alice, bob = subscribed(p)
    stray = notify(bob, event="dialog")
    before = snapshot(p.uac)
    with pytest.raises(NoSuchSubscription):
        p.uac.receive(wire(stray), now=1)
    assert snapshot(p.uac) == before


def test_expiry_is_a_timer() -> None:
    """RFC 6665 4.1.2.2, 4.1.3: the NOTIFY's expires is the authoritative duration; when
    it passes without a refresh, the subscription (and its only dialog) ends."""
    p = Pair()
    subscribed(p)  # at now = 0, active;expires=600
    # first the forks' window closes (RFC 3261 13.2.2.4: 64*T1 after the 2xx), quietly
    assert p.uac.handle_timer(64 * T1) == []
    assert p.uac.get_timer() == pytest.approx(600.0)
    assert p.uac.handle_timer(599.0) == []
    got = p.uac.handle_timer(600.0)
    assert kinds(got) == [UsageEnded, DialogTerminated]
    assert "expired" in of(DialogTerminated, got[1]).reason
    assert p.uac.get_timer() is None
    assert len(p.uac) == 0


def test_refresh_moves_the_expiry() -> None:
    """RFC 6665 4.1.2.2: a refreshing SUBSCRIBE in the dialog, accepted, replaces the
    expiry (the old deadline no longer fires); SUBSCRIBE is a target refresh (4.1.2.3)."""
    p = Pair()
    alice, bob = subscribed(p)
    p.now = 500.0
    refresh = alice.request(
        "SUBSCRIBE", via=p.via(), contact="<sip:alice@new.atlanta.example.com>",
        headers=[("Event", "presence"), ("Expires", "600")],
    )  # fmt: skip
    p.alice_sends(refresh)
    ok = build_response(refresh, 200, contact=BOB_CONTACT, headers=[("Expires", "300")])
    bob_events, _ = p.bob_sends(ok)
    assert kinds(bob_events) == [TargetRefreshed]  # Bob now notifies Alice's new contact
    assert str(bob.dialog_state.remote_target) == "sip:alice@new.atlanta.example.com"
    n = notify(bob, "active;expires=300")
    p.bob_sends(n)
    p.alice_sends(build_response(n, 200))
    assert only_subscription(alice) is alice.subscriptions[0]  # type: ignore[index]
    assert len(alice.subscriptions or ()) == 1  # the refresh made no second usage
    assert p.uac.handle_timer(600.0) == []  # the first expiry is gone
    assert p.uac.get_timer() == pytest.approx(800.0)


def test_notify_is_a_target_refresh() -> None:
    """RFC 6665 4.4.1 (NOTIFY), RFC 6141: the remote target changes when the subscriber
    accepts a NOTIFY carrying a new Contact."""
    p = Pair()
    alice, bob = subscribed(p)
    moved = notify(bob, contact="<sip:bob@moved.biloxi.example.com>")
    _, received = p.bob_sends(moved)
    assert received == []  # not before we accept it
    sent, _ = p.alice_sends(build_response(moved, 200))
    assert kinds(sent) == [TargetRefreshed]
    assert str(alice.dialog_state.remote_target) == "sip:bob@moved.biloxi.example.com"


def test_no_notify_within_timer_n_ends_the_subscription() -> None:
    """RFC 6665 4.1.2.4: after the 2xx, no NOTIFY within 64*T1 of the SUBSCRIBE means the
    subscription failed."""
    p = Pair()
    sub = subscribe(p)
    p.alice_sends(sub)
    p.bob_sends(accept(sub))
    assert p.uac.get_timer() == pytest.approx(64 * T1)
    got = p.uac.handle_timer(64 * T1)
    assert kinds(got) == [UsageEnded, DialogTerminated]
    assert "Timer N" in of(DialogTerminated, got[1]).reason


def test_unsubscribe_waits_for_the_final_notify() -> None:
    """RFC 6665 4.1.2.3: SUBSCRIBE with Expires 0 ends with the NOTIFY that says
    terminated, not at once."""
    p = Pair()
    alice, bob = subscribed(p)
    p.now = 10.0
    bye = alice.request("SUBSCRIBE", via=p.via(), headers=[("Event", "presence"),
                                                          ("Expires", "0")])  # fmt: skip
    p.alice_sends(bye)
    assert p.bob_sends(build_response(bye, 200, headers=[("Expires", "0")])) == ([], [])
    assert alice.state is bob.state is State.CONFIRMED
    assert p.uac.handle_timer(10.0) == []
    bob_events, alice_events = p.bob_sends(notify(bob, "terminated;reason=timeout"))
    assert kinds(alice_events) == kinds(bob_events) == [UsageEnded, DialogTerminated]


# -- usages sharing an INVITE dialog (RFC 5057, RFC 3515) -----------------------------------
def refer(p: Pair, alice: Dialog, target: str = "sip:carol@chicago.example.com") -> Request:
    return alice.request("REFER", via=p.via(), headers=[("Refer-To", f"<{target}>")])


def referred(p: Pair) -> tuple[Dialog, Dialog, Request]:
    """A call, then Alice's REFER accepted with 202 and its first NOTIFY."""
    _, _, alice, bob = established(p)
    ref = refer(p, alice)
    p.alice_sends(ref)
    bob_events, alice_events = p.bob_sends(build_response(ref, 202))
    assert kinds(alice_events) == kinds(bob_events) == [UsageCreated]
    n = notify(bob, "active;expires=60", event="refer")
    p.bob_sends(n)
    p.alice_sends(build_response(n, 200))
    return alice, bob, ref


def test_refer_creates_an_implicit_subscription_in_the_call() -> None:
    """RFC 3515 2.4.4: an accepted REFER adds a ``refer`` subscription to the dialog; the
    first REFER's NOTIFYs may omit the id (2.4.6)."""
    p = Pair()
    alice, _bob, ref = referred(p)
    mine = only_subscription(alice)
    assert (mine.package, mine.id, mine.refer, mine.state) == (
        "refer", str(ref.cseq.number), True, "active",
    )  # fmt: skip
    assert alice.usages == ("invite", mine)


def test_several_refers_are_told_apart_by_id() -> None:
    """RFC 3515 2.4.6: NOTIFYs for a second REFER carry Event: refer;id=<its CSeq>, and
    one without an id (or with another id) does not reach the second subscription."""
    p = Pair()
    alice, bob, first = referred(p)
    second = refer(p, alice, "sip:dave@denver.example.com")
    p.alice_sends(second)
    p.bob_sends(build_response(second, 202))
    assert len(alice.subscriptions or ()) == 2
    n = notify(bob, "terminated;reason=noresource", event=f"refer;id={second.cseq.number}")
    _bob_events, alice_events = p.bob_sends(n)
    ended = of(UsageEnded, alice_events[0]).usage
    assert isinstance(ended, Subscription)
    assert ended.id == str(second.cseq.number)
    assert only_subscription(alice).id == str(first.cseq.number)
    wrong = notify(bob, event="refer;id=999")
    with pytest.raises(LocalProtocolError):  # Bob has no such subscription either
        p.uas.send(wrong, now=1)
    with pytest.raises(NoSuchSubscription):
        p.uac.receive(wire(wrong), now=1)


def test_refer_subscription_ending_leaves_the_call_up() -> None:
    """RFC 3515 2.4.7, RFC 5057 4: the final NOTIFY of a REFER ends its subscription only;
    the INVITE usage and the dialog live on."""
    p = Pair()
    alice, bob, _ = referred(p)
    bob_events, alice_events = p.bob_sends(notify(bob, "terminated;reason=noresource",
                                                  event="refer"))  # fmt: skip
    assert kinds(alice_events) == kinds(bob_events) == [UsageEnded]
    assert alice.state is bob.state is State.CONFIRMED
    assert alice.usages == bob.usages == ("invite",)


def test_bye_ends_the_call_but_not_a_live_subscription() -> None:
    """RFC 5057 4, RFC 3261 15: BYE ends the INVITE usage; the dialog lasts until its
    subscription ends too (the refer NOTIFY that follows still finds it)."""
    p = Pair()
    alice, bob, _ = referred(p)
    bye = alice.request("BYE", via=p.via())
    alice_events, bob_events = p.alice_sends(bye)
    for events in (alice_events, bob_events):
        assert kinds(events) == [UsageEnded]
        assert of(UsageEnded, events[0]).usage == "invite"
    assert alice.state is bob.state is State.CONFIRMED
    final = notify(bob, "terminated;reason=noresource", event="refer")
    bob_events, alice_events = p.bob_sends(final)
    assert kinds(alice_events) == kinds(bob_events) == [UsageEnded, DialogTerminated]
    assert (alice.state, bob.state) == (State.TERMINATED, State.TERMINATED)


@pytest.mark.parametrize("code", [489, 408, 405])
def test_an_error_to_a_notify_ends_that_subscription_only(code: int) -> None:
    """RFC 5057 5.1: a 489, 408 or 405 to an in-dialog NOTIFY ends that subscription, on
    both sides, and leaves the call up."""
    p = Pair()
    alice, bob, _ = referred(p)
    n = notify(bob, event="refer")
    p.bob_sends(n)
    alice_events, bob_events = p.alice_sends(build_response(n, code))
    for events in (alice_events, bob_events):
        assert kinds(events) == [UsageEnded]
        assert f"{code} to NOTIFY" in of(UsageEnded, events[0]).reason
    assert alice.state is bob.state is State.CONFIRMED
    assert alice.usages == bob.usages == ("invite",)


def test_481_to_a_reinvite_ends_the_dialog_with_every_usage() -> None:
    """RFC 5057 5.1, RFC 3261 12.2.1.2: a 481 ends the whole dialog; each subscription is
    reported ended before the dialog."""
    p = Pair()
    alice, _bob, _ = referred(p)
    reinvite = alice.request("INVITE", via=p.via())
    p.uac.send(reinvite, now=1)
    got = p.uac.receive(wire(build_response(reinvite, 481)), now=1)
    assert kinds(got) == [UsageEnded, DialogTerminated]
    assert of(UsageEnded, got[0]).usage.package == "refer"  # type: ignore[union-attr]
    assert alice.state is State.TERMINATED
    assert alice.subscriptions is None
    assert p.uac.handle_timer(64 * T1) == []  # the INVITE's fork window closes quietly
    assert p.uac.get_timer() is None  # and the subscription's timer died with it


def test_408_to_a_reinvite_ends_the_call_but_keeps_the_subscription() -> None:
    """RFC 5057 5.2: a timeout ends the usage it happened in: the INVITE usage goes, the
    subscription and so the dialog stay."""
    p = Pair()
    alice, _bob, _ = referred(p)
    reinvite = alice.request("INVITE", via=p.via())
    p.uac.send(reinvite, now=1)
    got = p.uac.receive(wire(build_response(reinvite, 408)), now=1)
    assert kinds(got) == [UsageEnded]
    assert of(UsageEnded, got[0]).usage == "invite"
    assert alice.state is State.CONFIRMED
    assert alice.usages == (only_subscription(alice),)


def test_refer_sub_false_makes_no_subscription() -> None:
    """RFC 4488 4: a 2xx carrying Refer-Sub: false means the REFER made no subscription."""
    p = Pair()
    _, _, alice, bob = established(p)
    ref = alice.request("REFER", via=p.via(), headers=[
        ("Refer-To", "<sip:carol@chicago.example.com>"), ("Refer-Sub", "false")])  # fmt: skip
    p.alice_sends(ref)
    bob_events, alice_events = p.bob_sends(
        build_response(ref, 202, headers=[("Refer-Sub", "false")])
    )
    assert UsageCreated not in kinds(alice_events) + kinds(bob_events)
    assert alice.usages == bob.usages == ("invite",)


def test_refused_refer_ends_only_its_would_be_subscription() -> None:
    """RFC 5057 5.1: a REFER refused with 603 or 403 creates nothing and leaves the call."""
    p = Pair()
    _, _, alice, bob = established(p)
    for code in (603, 403):
        ref = refer(p, alice)
        p.alice_sends(ref)
        p.bob_sends(build_response(ref, code))
        assert alice.usages == bob.usages == ("invite",)
        assert alice.state is bob.state is State.CONFIRMED


def test_a_notify_timeout_ends_its_subscription_and_not_the_call() -> None:
    """RFC 5057 5.2: a transaction timeout ends the usage the request belongs to: the
    notifier's NOTIFY timing out ends the refer subscription; the call goes on."""
    p = Pair()
    _alice, bob, _ = referred(p)
    lost = notify(bob, event="refer")
    p.uas.send(lost, now=1)
    got = p.uas.transaction_timeout(lost, now=33)
    assert kinds(got) == [UsageEnded]
    assert "timed out" in of(UsageEnded, got[0]).reason
    assert bob.usages == ("invite",)
    assert bob.state is State.CONFIRMED
    # a re-INVITE timing out then ends the INVITE usage, the dialog's last
    reinvite = bob.request("INVITE", via=bob_via())
    p.uas.send(reinvite, now=40)
    got = p.uas.transaction_timeout(reinvite, now=72)
    assert kinds(got) == [DialogTerminated]
    assert bob.state.value == "terminated"


# -- races, retransmissions and floods ----------------------------------------------------
def test_a_final_notify_after_our_own_expiry_is_absorbed() -> None:
    """RFC 6665 4.2.2: the notifier's final NOTIFY may come after the subscriber's copy
    expired; it is absorbed, not refused, and the call goes on."""
    p = Pair()
    alice, bob, _ = referred(p)  # refer subscription, expires=60
    assert kinds(p.uac.handle_timer(60.0)) == [UsageEnded]
    final = notify(bob, "terminated;reason=timeout", event="refer")
    bob_events, alice_events = p.bob_sends(final)
    assert kinds(bob_events) == [UsageEnded]
    assert alice_events == []
    assert alice.state is bob.state is State.CONFIRMED
    assert alice.usages == bob.usages == ("invite",)


def test_our_481_to_a_stray_notify_does_not_end_the_call() -> None:
    """RFC 6665 4.1.3: a NOTIFY for an event nobody subscribed to gets 481; that 481 is
    about the subscription, so sending it ends nothing (RFC 5057 5.1)."""
    p = Pair()
    alice, bob, _ = referred(p)
    stray = notify(bob, event="dialog")  # built by hand: Bob's manager never sees it
    with pytest.raises(NoSuchSubscription):
        p.uac.receive(wire(stray), now=1)
    assert p.uac.send(build_response(stray, 481), now=1) == []
    assert alice.state is State.CONFIRMED
    assert len(alice.usages) == 2


def test_a_refused_refresh_keeps_the_subscription_to_its_expiry() -> None:
    """RFC 6665 4.1.2.2: a refresh refused with 423 (or 500) leaves the subscription as it
    was: no NOTIFY is coming, so Timer N does not end it; its old expiry still does."""
    p = Pair()
    alice, _bob = subscribed(p)
    p.now = 100.0
    refresh = alice.request(
        "SUBSCRIBE", via=p.via(), headers=[("Event", "presence"), ("Expires", "60")]
    )
    p.alice_sends(refresh)
    p.bob_sends(build_response(refresh, 423, headers=[("Min-Expires", "3600")]))
    assert p.uac.handle_timer(140.0) == []  # 64*T1 after the refresh: nothing
    assert alice.state is State.CONFIRMED
    assert p.uac.get_timer() == pytest.approx(600.0)


def test_a_retransmitted_bye_leaves_live_subscriptions() -> None:
    """RFC 5057 4: BYE ends the INVITE usage; once it is gone, the same BYE again (a
    retransmission, either side) does not end the subscriptions."""
    p = Pair()
    alice, bob, _ = referred(p)
    bye = alice.request("BYE", via=p.via())
    p.alice_sends(bye)
    assert p.uas.receive(wire(bye), now=0.5) == []
    assert p.uac.send(bye, now=0.5) == []
    assert alice.state is bob.state is State.CONFIRMED
    assert len(alice.usages) == len(bob.usages) == 1


def test_a_retransmitted_refer_is_the_same_subscription() -> None:
    """RFC 3515 2.4.6: a subscription is named refer;id=<CSeq>, so the same REFER twice
    makes one subscription, which its final NOTIFY ends."""
    p = Pair()
    _, _, alice, bob = established(p)
    ref = refer(p, alice)
    p.alice_sends(ref)
    assert p.uas.receive(wire(ref), now=0.1) == []
    p.bob_sends(build_response(ref, 202))
    assert len(bob.subscriptions or ()) == len(alice.subscriptions or ()) == 1
    p.bob_sends(notify(bob, "terminated;reason=noresource", event="refer"))
    p.alice_sends(alice.request("BYE", via=p.via()))
    assert alice.state is bob.state is State.TERMINATED


def test_the_first_refer_each_way_may_be_notified_without_an_id() -> None:
    """RFC 3515 2.4.6: "for the second and subsequent REFER requests a UA receives in a
    given dialog" NOTIFYs carry the id: Bob's first REFER to Alice is such a first one
    even after Alice referred Bob; a later REFER needs the id even once the first ended,
    and an old final NOTIFY without one does not end it."""
    p = Pair()
    alice, bob, _ = referred(p)
    theirs = bob.request("REFER", via=bob_via(), headers=[("Refer-To", "<sip:carol@c.example>")])
    p.bob_sends(theirs)
    p.alice_sends(build_response(theirs, 202))
    idless = alice.request(
        "NOTIFY", via=p.via(), headers=[("Event", "refer"), ("Subscription-State", "active")]
    )
    p.alice_sends(idless)  # accepted on both sides: Bob's first REFER
    assert [s.state for s in bob.subscriptions or () if s.subscriber] == ["active"]
    final = notify(bob, "terminated;reason=noresource", event="refer")
    p.bob_sends(final)
    second = refer(p, alice, "sip:dave@denver.example.com")
    p.alice_sends(second)
    p.bob_sends(build_response(second, 202))
    assert p.uac.receive(wire(final), now=3) == []  # the old final NOTIFY, again
    ids = [s.id for s in alice.subscriptions or () if s.subscriber]
    assert ids == [str(second.cseq.number)]
    with pytest.raises(LocalProtocolError):
        p.uas.send(notify(bob, event="refer"), now=4)  # the second needs its id


def test_a_notify_flood_does_not_grow_the_timer_heap() -> None:
    """Memory stays bounded: NOTIFYs that leave the deadline where it was push no timer."""
    p = Pair()
    _alice, bob = subscribed(p)
    for _ in range(2000):
        n = notify(bob, "active")
        p.bob_sends(n)
        p.alice_sends(build_response(n, 200))
    assert len(p.uac._timers) < 10
    assert len(p.uas._timers) < 10


def test_notifiers_of_one_subscribe_are_capped_and_cannot_lengthen_it() -> None:
    """RFC 6665 5.4.9: NOTIFYs from more notifiers than ``max_forks`` get 481; RFC 6665
    4.2.1.1: a notifier may shorten the duration asked for, never lengthen it."""
    manager = DialogManager(max_forks=3)
    p = Pair(uac=manager)
    manager.send(subscribe(p, expires=600), now=0)
    for n in range(5):
        note = build_request(
            "NOTIFY", "sip:alice@client.atlanta.example.com", call_id=CALL,
            from_=f"<{BOB}>;tag=fork{n}", to=f"<{ALICE}>;tag={ALICE_TAG}", cseq=1,
            via=bob_via(), headers=[("Event", "presence"),
                                    ("Subscription-State", "active;expires=4294967295")],
        )  # fmt: skip
        if n < 3:
            manager.receive(wire(note), now=1)
        else:
            with pytest.raises(NoSuchSubscription, match=r"5\.4\.9"):
                manager.receive(wire(note), now=1)
    assert len(manager) == 3
    assert all(only_subscription(d).expires_at == pytest.approx(601.0) for d in manager)


def test_a_late_2xx_does_not_override_the_notify() -> None:
    """RFC 6665 4.1.3: a NOTIFY's expires is authoritative; the 2xx to the same SUBSCRIBE
    arriving after it does not change it."""
    p = Pair()
    sub = subscribe(p)
    p.alice_sends(sub)
    ok = accept(sub, expires=600)
    p.uas.send(ok, now=0)
    bob = p.uas.get(DialogId(CALL, BOB_TAG, ALICE_TAG))
    assert bob is not None
    p.bob_sends(notify(bob, "active;expires=300"))
    p.uac.receive(wire(ok), now=1)
    alice = p.uac.get(alice_id())
    assert alice is not None
    assert only_subscription(alice).expires_at == pytest.approx(300.0)
    assert only_subscription(alice).accepted


def test_a_terminated_notify_before_the_2xx_leaves_no_subscription() -> None:
    """RFC 6665 4.4.1: a first NOTIFY that says terminated creates no usage, and the 2xx
    from the same notifier, arriving after it, does not create one either."""
    p = Pair()
    sub = subscribe(p)
    p.alice_sends(sub)
    ok = accept(sub)
    p.uas.send(ok, now=0)
    bob = p.uas.get(DialogId(CALL, BOB_TAG, ALICE_TAG))
    assert bob is not None
    p.bob_sends(notify(bob, "terminated;reason=rejected"))
    assert p.uac.receive(wire(ok), now=1) == []
    assert len(p.uac) == 0


def test_an_out_of_dialog_refer_with_refer_sub_false_closes_its_set() -> None:
    """RFC 4488 4: a REFER whose 2xx says Refer-Sub: false made no subscription and no
    dialog: nothing stays open on either side."""
    p = Pair()
    ref = build_request(
        "REFER", BOB, call_id=CALL, from_=f"<{ALICE}>;tag={ALICE_TAG}", to=f"<{BOB}>",
        cseq=1, via=p.via(), contact=ALICE_CONTACT,
        headers=[("Refer-To", "<sip:carol@chicago.example.com>"), ("Refer-Sub", "false")],
    )  # fmt: skip
    p.alice_sends(ref)
    answer = build_response(ref, 202, to_tag=BOB_TAG, contact=BOB_CONTACT,
                            headers=[("Refer-Sub", "false")])  # fmt: skip
    assert p.bob_sends(answer) == ([], [])
    assert len(p.uac) == len(p.uas) == 0
    assert not p.uac.dialog_sets
    assert not p.uas.dialog_sets


def test_an_out_of_dialog_refer_creates_a_dialog_with_its_subscription() -> None:
    """RFC 3515 2.4.4: a REFER outside a dialog, accepted, creates a dialog whose only
    usage is the refer subscription; its final NOTIFY ends both."""
    p = Pair()
    ref = build_request(
        "REFER", BOB, call_id=CALL, from_=f"<{ALICE}>;tag={ALICE_TAG}", to=f"<{BOB}>",
        cseq=7, via=p.via(), contact=ALICE_CONTACT,
        headers=[("Refer-To", "<sip:carol@chicago.example.com>")],
    )  # fmt: skip
    p.alice_sends(ref)
    bob_events, alice_events = p.bob_sends(accept(ref, 202, expires=None))
    assert kinds(alice_events) == kinds(bob_events) == [
        DialogCreated, DialogConfirmed, UsageCreated,
    ]  # fmt: skip
    alice, bob = p.agree(alice_id())
    assert only_subscription(alice).event == "refer;id=7"
    done = notify(bob, "terminated;reason=noresource", event="refer")  # first REFER: no id
    bob_events, alice_events = p.bob_sends(done)
    assert kinds(alice_events) == kinds(bob_events) == [UsageEnded, DialogTerminated]


def test_an_unanswered_subscribe_does_not_hold_a_usage_forever() -> None:
    """Memory stays bounded: a SUBSCRIBE in the dialog that the application never answers
    holds its would-be usage for 64*T1 only."""
    p = Pair()
    _, _, alice, bob = established(p)
    for n in range(50):
        sub = alice.request("SUBSCRIBE", via=p.via(), headers=[("Event", f"presence;id={n}")])
        p.uas.receive(wire(sub), now=1)
    assert len(bob.usages) == 51
    p.uas.handle_timer(1 + 64 * T1)
    assert bob.usages == ("invite",)
    assert bob.state is State.CONFIRMED


def test_a_reinvite_timeout_frees_the_next_one() -> None:
    """RFC 3261 14.1: an INVITE whose transaction timed out is no longer in progress, so a
    later re-INVITE may be sent (here with timeouts set to end only the transaction)."""
    effects = {**RESPONSE_EFFECTS, 408: Effect.TRANSACTION}
    p = Pair(uac=DialogManager(response_effects=effects))
    _, _, alice, _bob = established(p)
    first = alice.request("INVITE", via=p.via())
    p.uac.send(first, now=1)
    assert p.uac.transaction_timeout(first, now=33) == []
    p.uac.send(alice.request("INVITE", via=p.via()), now=34)  # no LocalProtocolError
    assert alice.state is State.CONFIRMED
