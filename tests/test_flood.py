"""Dialogs that never confirm cannot pile up.

A robustness rule of this project: a manager holds at most ``max_unconfirmed`` dialog-creating
requests that have not produced a confirmed dialog; beyond it the oldest is evicted, with
events. Early dialogs expire ``early_timeout`` after their request (``get_timer()`` says
when), and terminated dialogs leave every index. Floods of never-answered INVITEs show that
memory stays under the cap's bound, whatever the number of INVITEs.
"""

from __future__ import annotations

import gc
import tracemalloc

from pair import Pair

from dialogfsm import (
    DialogConfirmed,
    DialogCreated,
    DialogEvent,
    DialogManager,
    DialogSetDropped,
    DialogTerminated,
    Request,
    Response,
    SendAck,
    SendBye,
    State,
    clear_caches,
    parse_message,
)

T1 = 0.5
#: generous bytes per unconfirmed dialog set (its request parsed, an early dialog, indexes)
PER_SET = 16 * 1024
#: how much traced memory may differ between two points of a flood (the parser's bounded
#: caches emptied at both): dicts and heaps sized a little differently; anything kept per
#: request would cost kilobytes each, far beyond this
SLACK = 1.05
#: each flood INVITE arrives 1 ms after the one before: 100,000 of them within 100 s,
#: well inside the default early timeout, so only the cap removes anything
STEP = 0.001

#: a realistic INVITE, made distinct by branch, From tag and Call-ID
INVITE = (
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKflood%d\r\n"
    b"Max-Forwards: 70\r\n"
    b"Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=from%d\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>\r\n"
    b"Call-ID: flood%d@atlanta.example.com\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:alice@client.atlanta.example.com;transport=udp>\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)
#: the 180 (Ringing) with a To tag that makes an early dialog of INVITE number n
RINGING = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKflood%d\r\n"
    b"Record-Route: <sip:ss1.atlanta.example.com;lr>\r\n"
    b"From: Alice <sip:alice@atlanta.example.com>;tag=from%d\r\n"
    b"To: Bob <sip:bob@biloxi.example.com>;tag=to%d\r\n"
    b"Call-ID: flood%d@atlanta.example.com\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"Contact: <sip:bob@client.biloxi.example.com;transport=udp>\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def invite(n: int) -> Request:
    message = parse_message(INVITE % (n, n, n))
    assert isinstance(message, Request)
    return message


def ringing(n: int) -> Response:
    message = parse_message(RINGING % (n, n, n, n))
    assert isinstance(message, Response)
    return message


def call_id(n: int) -> str:
    return f"flood{n}@atlanta.example.com"


def traced() -> int:
    """Bytes allocated since ``tracemalloc.start()`` and still alive, the parser's bounded
    caches emptied first (they fill and empty as traffic goes by: up to their bound apart
    at two moments; test_sharing shows they stay bounded)."""
    clear_caches()
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def kinds(events: list[DialogEvent]) -> list[type]:
    return [type(e) for e in events]


def test_uas_flood_of_unanswered_invites_stays_under_the_cap() -> None:
    """Robustness rule (cap): 100,000 unanswered INVITEs evict oldest first; memory stays flat."""
    cap, flood = 1000, 100_000
    manager = DialogManager(max_unconfirmed=cap)
    clear_caches()  # no parsed value from an earlier test, allocated before tracing
    tracemalloc.start()
    try:
        for n in range(flood):
            events = manager.receive(invite(n), now=n * STEP)
            if n < cap:
                assert events == []
            else:  # the oldest request still waiting goes
                assert len(events) == 1, events
                dropped = events[0]
                assert isinstance(dropped, DialogSetDropped)
                assert dropped.dialog_set.key.call_id == call_id(n - cap)
                assert dropped.dialog_set.key not in manager.dialog_sets
            assert len(manager.dialog_sets) == min(n + 1, cap)
            if n + 1 == 10_000:
                del events, dropped
                at_10k = traced()
        del events, dropped
        at_100k = traced()
    finally:
        tracemalloc.stop()
    assert len(manager) == 0  # nothing was answered: no dialog at all
    assert [key.call_id for key in manager.dialog_sets] == [
        call_id(n) for n in range(flood - cap, flood)
    ]
    # bounded by the cap, not by the count: 10,000 requests cost no more than the 1,000 the
    # manager holds, and 90,000 more cost nothing (a leaked timer entry would hold its
    # dialog set and request: kilobytes each)
    assert at_10k < cap * PER_SET, at_10k
    assert at_100k < at_10k * SLACK, (at_10k, at_100k)
    # the timers of the evicted requests are gone: the next deadline is the oldest
    # survivor's, and when it comes only the survivors expire
    oldest = (flood - cap) * STEP
    assert manager.get_timer() == oldest + manager.early_timeout
    got = manager.handle_timer(flood * STEP + manager.early_timeout)
    assert kinds(got) == [DialogSetDropped] * cap
    assert manager.get_timer() is None
    assert not manager.dialog_sets


def test_uac_flood_of_early_dialogs_evicts_the_oldest() -> None:
    """Robustness rule (cap): early dialogs of the oldest INVITE are evicted (trigger "evict")."""
    cap, flood = 1000, 30_000
    manager = DialogManager(max_unconfirmed=cap)
    clear_caches()  # no parsed value from an earlier test, allocated before tracing
    tracemalloc.start()
    try:
        for n in range(flood):
            now = n * STEP
            events = manager.send(invite(n), now=now)
            if n < cap:
                assert events == []
            else:
                old = n - cap
                if old % 2 == 0:  # it had an early dialog: ended first, then the set goes
                    assert kinds(events) == [DialogTerminated, DialogSetDropped], events
                    ended = events[0]
                    assert isinstance(ended, DialogTerminated)
                    assert ended.trigger == "evict"
                    assert ended.message is None
                    assert ended.dialog.state is State.TERMINATED
                    assert ended.dialog.id.call_id == call_id(old)
                    assert manager.get(ended.dialog.id) is None
                else:
                    assert kinds(events) == [DialogSetDropped], events
                dropped = events[-1]
                assert isinstance(dropped, DialogSetDropped)
                assert dropped.dialog_set.key.call_id == call_id(old)
                assert not dropped.dialog_set.dialogs
            if n % 2 == 0:  # every other INVITE rings: an early dialog
                got = manager.receive(ringing(n), now=now)
                assert kinds(got) == [DialogCreated], got
                created = got[0]
                assert isinstance(created, DialogCreated)
                assert created.state is created.dialog.state is State.EARLY
            assert len(manager.dialog_sets) <= cap
            assert len(manager) <= cap
            if n + 1 == 10_000:
                del events, got, created
                at_10k = traced()
        del events, got, created
        at_30k = traced()
    finally:
        tracemalloc.stop()
    assert len(manager.dialog_sets) == cap
    assert len(manager) == cap // 2
    assert all(d.state is State.EARLY for d in manager.dialogs.values())
    assert at_10k < cap * PER_SET, at_10k
    assert at_30k < at_10k * SLACK, (at_10k, at_30k)


def test_early_dialogs_expire_after_early_timeout() -> None:
    """Robustness rule (early_timeout, Timer C of RFC 3261 16.6): unanswered INVITEs expire."""
    timeout = 60.0
    p = Pair(
        uac=DialogManager(t1=T1, early_timeout=timeout),
        uas=DialogManager(t1=T1, early_timeout=timeout),
    )
    invites = []
    for n, start in enumerate([0.0, 10.0, 20.0]):
        p.now = start
        inv = p.invite(call_id=f"early{n}@atlanta.example.com", from_tag=f"a{n}")
        p.alice_sends(inv)
        # two tags ring on each: two early dialogs per INVITE on both sides
        p.bob_sends(p.answer(inv, 180, to_tag=f"b{n}"))
        p.bob_sends(p.answer(inv, 183, to_tag=f"c{n}"))
        invites.append(inv)
    # a fourth INVITE is answered in time: it must not expire
    p.now = 25.0
    answered = p.invite(call_id="answered@atlanta.example.com", from_tag="a3")
    p.alice_sends(answered)
    p.bob_sends(p.answer(answered, 180, to_tag="b3"))
    p.now = 26.0
    ok = p.answer(answered, 200, to_tag="b3")
    _, got = p.bob_sends(ok)
    assert kinds(got) == [DialogConfirmed, SendAck]
    alice_call = p.uac.find(ok, sent=False)
    assert alice_call is not None
    p.alice_sends(alice_call.ack(ok, via=p.via()))
    assert len(p.uac) == len(p.uas) == 7
    # the UAC waits 64*T1 after the 2xx for other forks (RFC 3261 13.2.2.4), then closes
    # that set: the call stays, and so do the early dialogs of the others
    assert p.uac.get_timer() == 26.0 + 64 * T1
    assert p.uac.handle_timer(26.0 + 64 * T1) == []
    assert len(p.uac.dialog_sets) == 3

    for manager in (p.uac, p.uas):
        for n, start in enumerate([0.0, 10.0, 20.0]):
            deadline = start + timeout
            assert manager.get_timer() == deadline
            assert manager.handle_timer(deadline - 0.001) == []
            got = manager.handle_timer(deadline)
            assert kinds(got) == [DialogTerminated, DialogTerminated, DialogSetDropped]
            for event in got[:2]:
                assert isinstance(event, DialogTerminated)
                assert event.trigger == "timeout"
                assert event.message is None
                assert event.dialog.state is State.TERMINATED
                assert event.dialog.id.call_id == invites[n].call_id
                assert manager.get(event.dialog.id) is None
            dropped = got[2]
            assert isinstance(dropped, DialogSetDropped)
            assert dropped.dialog_set.key.call_id == invites[n].call_id
            assert dropped.dialog_set.key not in manager.dialog_sets
        # only the answered call is left: its early timer died with the 2xx
        assert [d.id.call_id for d in manager.dialogs.values()] == [answered.call_id]
        assert manager.handle_timer(25.0 + timeout) == []
        assert manager.get_timer() is None
        assert not manager.dialog_sets
        assert len(manager) == 1


def test_completed_calls_leave_every_index() -> None:
    """RFC 3261 13.2.2.4: after INVITE/180/200/ACK/BYE and the 64*T1 fork wait, no index is left."""
    p = Pair(uac=DialogManager(t1=T1), uas=DialogManager(t1=T1))
    answered_at = []
    for n in range(3):
        p.now = 10.0 * n
        inv = p.invite(call_id=f"done{n}@atlanta.example.com", from_tag=f"a{n}")
        p.alice_sends(inv)
        p.bob_sends(p.answer(inv, 180))
        p.now += 1
        ok = p.answer(inv, 200)
        p.bob_sends(ok)
        answered_at.append(p.now)
        found = p.uac.find(ok, sent=False)
        assert found is not None
        alice, bob = p.agree(found.id)
        p.alice_sends(alice.ack(ok, via=p.via()))
        assert p.uas.get_timer() is None  # RFC 3261 13.3.1.4: the ACK stops the 2xx timer
        p.now += 1
        sent, got = p.alice_sends(alice.request("BYE", via=p.via()))
        assert kinds(sent) == kinds(got) == [DialogTerminated]
        for dialog in (alice, bob):
            assert dialog.state is State.TERMINATED
            assert dialog.dialog_set is None or all(
                d is not dialog for d in dialog.dialog_set.dialogs.values()
            )
    assert len(p.uac) == len(p.uas) == 0
    assert not p.uac.dialogs
    assert not p.uas.dialogs
    assert not p.uas.dialog_sets  # the UAS closed each set with its final response
    assert len(p.uac.dialog_sets) == 3  # the UAC waits for other forks
    for at in answered_at:
        deadline = at + 64 * T1
        assert p.uac.get_timer() == deadline
        assert p.uac.handle_timer(deadline) == []
    assert not p.uac.dialog_sets
    assert p.uac.get_timer() is None
    assert p.uas.get_timer() is None


def test_unacked_2xx_then_bye_leaves_every_index() -> None:
    """RFC 3261 13.3.1.4: no ACK in 64*T1 gives SendBye; after that BYE nothing is left."""
    p = Pair(uac=DialogManager(t1=T1), uas=DialogManager(t1=T1))
    inv = p.invite()
    p.alice_sends(inv)
    ok = p.answer(inv, 200)
    p.bob_sends(ok)  # the ACK is lost
    (bob,) = p.uas.dialogs.values()
    assert p.uas.get_timer() == 64 * T1
    got = p.uas.handle_timer(64 * T1)
    assert kinds(got) == [SendBye]
    assert isinstance(got[0], SendBye)
    assert got[0].dialog is bob
    p.now = 64 * T1
    sent, received = p.bob_sends(bob.request("BYE", via="SIP/2.0/UDP bob.example.com"))
    assert kinds(sent) == kinds(received) == [DialogTerminated]
    assert not p.uas.dialogs
    assert not p.uas.dialog_sets
    assert p.uas.get_timer() is None
    assert not p.uac.dialogs
    assert p.uac.handle_timer(64 * T1) == []
    assert not p.uac.dialog_sets
    assert p.uac.get_timer() is None


def test_answered_calls_do_not_count_against_the_cap() -> None:
    """Robustness rule (cap): only unconfirmed requests count; answered calls never evict."""
    cap = 2
    p = Pair(uac=DialogManager(max_unconfirmed=cap), uas=DialogManager(max_unconfirmed=cap))
    for n in range(5):
        p.now = float(n)
        inv = p.invite(call_id=f"ok{n}@atlanta.example.com", from_tag=f"a{n}")
        sent, got = p.alice_sends(inv)
        assert sent == got == []
        ok = p.answer(inv, 200)
        p.bob_sends(ok)
        alice = p.uac.find(ok, sent=False)
        assert alice is not None
        p.alice_sends(alice.ack(ok, via=p.via()))
        if n % 2:
            p.alice_sends(alice.request("BYE", via=p.via()))
    # up to the cap, new INVITEs wait side by side; one more evicts the oldest waiting one
    waiting = [p.invite(call_id=f"wait{n}@atlanta.example.com", from_tag=f"w{n}") for n in range(3)]
    for inv in waiting[:cap]:
        sent, got = p.alice_sends(inv)
        assert sent == got == []
    sent, got = p.alice_sends(waiting[cap])
    for events in (sent, got):
        assert kinds(events) == [DialogSetDropped]
        dropped = events[0]
        assert isinstance(dropped, DialogSetDropped)
        assert dropped.dialog_set.key.call_id == waiting[0].call_id
    assert len(p.uac) == len(p.uas) == 3  # the calls that were not hung up
