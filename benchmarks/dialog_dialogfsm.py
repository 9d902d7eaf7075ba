"""How ``bench_dialog.py`` drives dialogfsm: the clock of each pass, the UAS managers (and the
workaround for an old counting bug), one pass of UAS and UAC lifecycles from bytes, and the
pre-parsed scripts of one call's messages replayed through a manager.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dialog_calls import (
    ALICE_CONTACT,
    BOB_CONTACT,
    SDP,
    SDP_ANSWER,
    SDP_OFFER,
    UAC_HEADERS,
    Call,
    UacCall,
    UasCall,
    fill,
    make_call,
    uas_invite,
)

from dialogfsm import (
    DialogManager,
    Request,
    Response,
    SendAck,
    build_request,
    build_response,
    parse_message,
)

Message = Request | Response

# --------------------------------------------------------------------------------------
# dialogfsm
# --------------------------------------------------------------------------------------

NOW = 0.0


class Clock:
    """Each pass over the calls happens at its own time, far from the last one's, and ends
    with ``handle_timer`` late enough to fire everything the pass scheduled (a UAC's dialog
    set stays open 64*T1 after the 2xx for other forks; an unanswered INVITE 180 s): what
    an application's timer loop does, paid by the calls that caused it."""

    STEP = 10_000.0
    LATER = 1_000.0

    def __init__(self) -> None:
        self.now = 0.0

    def tick(self) -> float:
        self.now += self.STEP
        return self.now


# Up to commit 2bf14ec, dialogfsm had a UAS bug: a 2xx never decremented the manager's
# count of unconfirmed dialog sets (``_uas_creating_response`` set ``confirmed_at`` before
# ``_forget_set``, which only decrements for unconfirmed sets), so after
# ``max_unconfirmed`` answered INVITEs (10_000 by default) every new INVITE raised
# AssertionError("unconfirmed count out of step"); b20e639 fixed it. ``unconfirmed_leak``
# detects it, and a cap no run reaches keeps the UAS managers of such a tree working (the
# count is only compared with the cap, so timing is unchanged).
UAS_MAX_UNCONFIRMED = 2**62


def uas_manager() -> DialogManager:
    """A UAS DialogManager (see UAS_MAX_UNCONFIRMED)."""
    return DialogManager(max_unconfirmed=UAS_MAX_UNCONFIRMED)


def unconfirmed_leak() -> str | None:
    """Whether this dialogfsm still has the UAS counting bug: a description, or None."""
    uas = DialogManager(max_unconfirmed=2)
    for i in range(3):
        c = make_call(90_000_000 + i)
        invite = parse_message(uas_invite(c))
        assert isinstance(invite, Request)
        try:
            uas.receive(invite, now=NOW)
        except AssertionError as exc:
            return (
                f"DialogManager(max_unconfirmed=2) as UAS: INVITE #{i + 1} raised "
                f"AssertionError({exc}) after {i} calls answered 200 and none pending"
            )
        uas.send(build_response(invite, 200, to_tag=c.bob_tag), now=NOW)
    return None


def dialogfsm_uas_pass(uas: DialogManager, calls: Sequence[UasCall]) -> Callable[[], None]:
    """One pass of UAS lifecycles from bytes (see bench_dialog.py's docstring)."""
    receive, send, clock = uas.receive, uas.send, Clock()

    def run() -> None:
        now = clock.tick()
        for c, invite_data, ack_data, bye_data in calls:
            invite = parse_message(invite_data)
            receive(invite, now=now)
            assert isinstance(invite, Request)
            trying = build_response(invite, 100)
            bytes(trying)
            send(trying, now=now)
            ringing = build_response(invite, 180, to_tag=c.bob_tag, contact=BOB_CONTACT)
            bytes(ringing)
            send(ringing, now=now)
            ok = build_response(
                invite, 200, to_tag=c.bob_tag, contact=BOB_CONTACT, body=SDP_ANSWER,
                content_type=SDP,
            )  # fmt: skip
            bytes(ok)
            send(ok, now=now)
            receive(parse_message(ack_data), now=now)
            bye = parse_message(bye_data)
            receive(bye, now=now)
            assert isinstance(bye, Request)
            bye_ok = build_response(bye, 200)
            bytes(bye_ok)
            send(bye_ok, now=now)
        uas.handle_timer(now + Clock.LATER)  # what is left of the pass's timers

    return run


def _uac_invite(c: Call) -> Request:
    return build_request(
        "INVITE", c.request_uri, call_id=c.call_id, from_=c.alice_from, to=c.bob_to,
        cseq=c.cseq, via=c.invite_via, contact=ALICE_CONTACT, headers=UAC_HEADERS,
        body=SDP_OFFER, content_type=SDP,
    )  # fmt: skip


def dialogfsm_uac_pass(uac: DialogManager, calls: Sequence[UacCall]) -> Callable[[], None]:
    """One pass of UAC lifecycles from bytes (see bench_dialog.py's docstring)."""
    receive, send, clock = uac.receive, uac.send, Clock()

    def run() -> None:
        now = clock.tick()
        for c, trying, ringing, ok, bye_ok in calls:
            invite = _uac_invite(c)
            bytes(invite)
            send(invite, now=now)
            branch = invite.via[0].branch.encode()  # type: ignore[union-attr]
            cseq = str(invite.cseq.number).encode()
            receive(parse_message(fill(trying, branch, cseq)), now=now)
            receive(parse_message(fill(ringing, branch, cseq)), now=now)
            for event in receive(parse_message(fill(ok, branch, cseq)), now=now):
                if isinstance(event, SendAck):
                    dialog = event.dialog
                    ack = dialog.ack(event.response, via=c.ack_via)
                    bytes(ack)
                    send(ack, now=now)
            bye = dialog.request("BYE", via=c.bye_via)
            bytes(bye)
            send(bye, now=now)
            branch = bye.via[0].branch.encode()  # type: ignore[union-attr]
            cseq = str(bye.cseq.number).encode()
            receive(parse_message(fill(bye_ok, branch, cseq)), now=now)
        uac.handle_timer(now + Clock.LATER)  # closes the dialog sets (64*T1 after the 2xx)

    return run


# A script is one call's messages in wire order, each with True when we send it.
Script = list[tuple[bool, Message]]


def uas_script(c: UasCall) -> Script:
    """The message objects of one UAS lifecycle, parsed and built beforehand."""
    invite = parse_message(c.invite)
    bye = parse_message(c.bye)
    assert isinstance(invite, Request)
    assert isinstance(bye, Request)
    call = c.call
    return [
        (False, invite),
        (True, build_response(invite, 100)),
        (True, build_response(invite, 180, to_tag=call.bob_tag, contact=BOB_CONTACT)),
        (True, build_response(invite, 200, to_tag=call.bob_tag, contact=BOB_CONTACT,
                              body=SDP_ANSWER, content_type=SDP)),
        (False, parse_message(c.ack)),
        (False, bye),
        (True, build_response(bye, 200)),
    ]  # fmt: skip


def uac_script(c: UacCall) -> Script:
    """The message objects of one UAC lifecycle (a scratch manager supplies the dialog)."""
    call = c.call
    scratch = DialogManager()
    invite = _uac_invite(call)
    scratch.send(invite, now=NOW)
    branch = invite.via[0].branch.encode()  # type: ignore[union-attr]
    cseq = str(call.cseq).encode()
    responses = [parse_message(fill(t, branch, cseq)) for t in (c.trying, c.ringing, c.ok)]
    for response in responses:
        scratch.receive(response, now=NOW)
    dialog = next(iter(scratch.dialogs.values()))
    ok = responses[-1]
    assert isinstance(ok, Response)
    ack = dialog.ack(ok, via=call.ack_via)
    bye = dialog.request("BYE", via=call.bye_via)
    bye_branch = bye.via[0].branch.encode()  # type: ignore[union-attr]
    bye_ok = parse_message(fill(c.bye_ok, bye_branch, str(bye.cseq.number).encode()))
    return [
        (True, invite),
        *((False, r) for r in responses),
        (True, ack),
        (True, bye),
        (False, bye_ok),
    ]


def replay_pass(manager: Any, scripts: Sequence[Script]) -> Callable[[], None]:
    """One pass replaying pre-parsed messages through ``manager`` (no parsing, no building)."""
    send, receive, clock = manager.send, manager.receive, Clock()
    handle_timer = getattr(manager, "handle_timer", None)

    def run() -> None:
        now = clock.tick()
        for script in scripts:
            for sent, message in script:
                if sent:
                    send(message, now=now)
                else:
                    receive(message, now=now)
        if handle_timer is not None:
            handle_timer(now + Clock.LATER)

    return run
