"""RFC 5057 5.1: what a failed mid-dialog request ends; RFC 6228: 199 Early Dialog Terminated."""

from __future__ import annotations

import pytest
from pair import Pair, kinds, of, wire
from test_manager import RR, established

from dialogfsm import (
    RESPONSE_EFFECTS,
    DialogConfirmed,
    DialogManager,
    DialogTerminated,
    Effect,
    SendAck,
    State,
    build_response,
    response_effect,
)


@pytest.mark.parametrize(
    ("code", "method", "effect"),
    [
        (481, "INFO", Effect.DIALOG),  # RFC 3261 12.2.1.2; RFC 5057 5.1
        (481, "CANCEL", Effect.TRANSACTION),  # the INVITE is gone, not the dialog (9.2)
        (408, "INVITE", Effect.USAGE),  # RFC 5057 5.2
        (489, "NOTIFY", Effect.USAGE),  # Bad Event ends the subscription
        (489, "INFO", Effect.TRANSACTION),  # ... and means nothing to other methods
        (404, "INVITE", Effect.DIALOG),  # the remote target is gone
        (486, "INVITE", Effect.TRANSACTION),  # a busy answer to a re-INVITE: call goes on
        (491, "UPDATE", Effect.TRANSACTION),  # glare is about this request only
        (503, "INFO", Effect.TRANSACTION),
        (599, "INFO", Effect.TRANSACTION),  # unknown codes fall back to their class
        (302, "INVITE", Effect.TRANSACTION),
        (200, "INFO", Effect.TRANSACTION),
    ],
)
def test_response_effects(code: int, method: str, effect: Effect) -> None:
    """RFC 5057 5.1: each final response to a mid-dialog request ends the transaction, the
    usage or the dialog."""
    assert response_effect(code, method) is effect


def test_the_table_is_read_only_data() -> None:
    """The table is exported for reading; a manager takes a changed copy."""
    with pytest.raises(TypeError):
        RESPONSE_EFFECTS[404] = Effect.TRANSACTION  # type: ignore[index]
    assert RESPONSE_EFFECTS[481] is Effect.DIALOG


@pytest.mark.parametrize("code", [481, 408, 404])
def test_a_dialog_ending_failure_ends_the_call(code: int) -> None:
    """RFC 5057 5.1, RFC 3261 12.2.1.2: a 481, 408 or 404 to a re-INVITE ends the dialog
    (the INVITE usage is the dialog's only usage)."""
    p = Pair()
    _, _, alice, _ = established(p)
    reinvite = alice.request("INVITE", via=p.via())
    p.uac.send(reinvite, now=1)
    got = p.uac.receive(wire(build_response(reinvite, code)), now=1)
    assert kinds(got) == [DialogTerminated]
    ended = of(DialogTerminated, got[0])
    assert ended.trigger == "error"
    assert f"{code} to INVITE" in ended.reason
    assert alice.state is State.TERMINATED


@pytest.mark.parametrize("code", [486, 488, 491, 500, 603])
def test_a_transaction_failure_leaves_the_call_up(code: int) -> None:
    """RFC 5057 5.1: a rejected re-INVITE (busy, glare, not acceptable...) changes nothing."""
    p = Pair()
    _, _, alice, _ = established(p)
    reinvite = alice.request("INVITE", via=p.via())
    p.uac.send(reinvite, now=1)
    assert p.uac.receive(wire(build_response(reinvite, code)), now=1) == []
    assert alice.state is State.CONFIRMED


def test_the_table_can_be_overridden() -> None:
    """A user's table decides: here a 404 to a mid-dialog request ends nothing."""
    table = {**RESPONSE_EFFECTS, 404: Effect.TRANSACTION}
    p = Pair(uac=DialogManager(response_effects=table))
    _, _, alice, _ = established(p)
    info = alice.request("INFO", via=p.via())
    p.uac.send(info, now=1)
    assert p.uac.receive(wire(build_response(info, 404)), now=1) == []
    assert alice.state is State.CONFIRMED


def test_199_ends_one_early_dialog_only() -> None:
    """RFC 6228: a 199 ends the early dialog of its To tag and creates none; other forks
    carry on and can still answer."""
    p = Pair()
    inv = p.invite()
    p.uac.send(inv, now=0)
    for tag in ("a", "b"):
        p.uac.receive(wire(p.answer(inv, 180, to_tag=tag, record_route=RR)), now=0)
    got = p.uac.receive(wire(p.answer(inv, 199, to_tag="a")), now=1)
    assert kinds(got) == [DialogTerminated]
    assert of(DialogTerminated, got[0]).dialog.id.remote_tag == "a"
    assert [d.id.remote_tag for d in p.uac.dialogs.values()] == ["b"]
    assert p.uac.receive(wire(p.answer(inv, 199, to_tag="c")), now=1) == []  # creates none
    assert p.uac.receive(wire(p.answer(inv, 180, to_tag="a")), now=1) == []  # stays ended
    got = p.uac.receive(wire(p.answer(inv, 200, to_tag="b")), now=2)
    assert kinds(got) == [DialogConfirmed, SendAck]
    assert of(DialogConfirmed, got[0]).dialog.id.remote_tag == "b"


def test_uas_sending_199_ends_its_early_dialog() -> None:
    """RFC 6228: the UAS that sends a 199 has ended that early dialog on its side too."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    p.bob_sends(p.answer(inv, 183))
    sent, got = p.bob_sends(p.answer(inv, 199))
    assert kinds(sent) == kinds(got) == [DialogTerminated]
    assert len(p.uas) == len(p.uac) == 0
