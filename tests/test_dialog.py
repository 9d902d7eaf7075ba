"""Pure functions of one dialog: its state from a request and response, and its requests."""

from __future__ import annotations

import pytest
from pair import Pair

from dialogfsm import (
    URI,
    DialogState,
    LocalProtocolError,
    NameAddr,
    build_cancel,
    build_in_dialog,
    build_response,
    parse_message,
    request_target,
)
from dialogfsm._dialog import next_cseq, uac_state, uas_state

VIA = "SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bKnew"


def state(route_set: list[str], target: str | None = "sip:bob@192.0.2.4") -> DialogState:
    return DialogState.create(
        call_id="c1@atlanta", local_tag="aaa", remote_tag="bbb", local_seq=7, remote_seq=3,
        local_uri=URI.parse("sip:alice@atlanta.example.com"),
        remote_uri=URI.parse("sip:bob@biloxi.example.com"),
        remote_target=URI.parse(target) if target else None,
        route_set=tuple(NameAddr.parse(r) for r in route_set), secure=False,
    )  # fmt: skip


def test_loose_routing() -> None:
    """RFC 3261 12.2.1.1: first route has lr: Request-URI = remote target, Route = set."""
    s = state(["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
    uri, route = request_target(s)
    assert uri == URI.parse("sip:bob@192.0.2.4")
    assert route == s.route_set


def test_strict_routing() -> None:
    """RFC 3261 12.2.1.1: first route without lr becomes the Request-URI (stripped of the
    parameters a Request-URI may not carry); Route = the rest plus the remote target."""
    s = state(['"Proxy" <sip:p1.example.com;method=INVITE;transport=tcp>', "<sip:p2.example.com>"])
    uri, route = request_target(s)
    assert str(uri) == "sip:p1.example.com;transport=tcp"
    assert route == (
        NameAddr.parse("<sip:p2.example.com>"),
        NameAddr(URI.parse("sip:bob@192.0.2.4")),
    )
    request = build_in_dialog(s, "BYE", via=VIA)
    assert request.uri == uri
    assert [str(r.uri) for r in request.route] == ["sip:p2.example.com", "sip:bob@192.0.2.4"]


def test_no_route_set_and_no_target_falls_back_to_remote_uri() -> None:
    """RFC 3261 12.2.1.1: with an empty route set the request goes to the remote target."""
    uri, route = request_target(state([]))
    assert (uri, route) == (URI.parse("sip:bob@192.0.2.4"), ())
    uri, _ = request_target(state([], target=None))
    assert uri == URI.parse("sip:bob@biloxi.example.com")


def test_in_dialog_request_fields() -> None:
    """RFC 3261 12.2.1.1: To = remote URI + remote tag, From = local URI + local tag,
    Call-ID of the dialog, CSeq = local seq + 1; the request is valid on the wire."""
    s = state(["<sip:p1.example.com;lr>"])
    request = build_in_dialog(s, "INFO", via=VIA)
    assert (request.to.uri, request.to.tag) == (s.remote_uri, "bbb")
    assert (request.from_.uri, request.from_.tag) == (s.local_uri, "aaa")
    assert request.call_id == "c1@atlanta"
    assert (request.cseq.number, request.cseq.method) == (8, "INFO")
    assert parse_message(bytes(request)) == request
    assert s.local_seq == 7  # pure: building does not change the dialog


def test_ack_and_cancel_take_no_new_cseq() -> None:
    """RFC 3261 12.2.1.1: ACK and CANCEL reuse the CSeq number of the request they follow."""
    s = state([])
    for method in ("ACK", "CANCEL"):
        with pytest.raises(LocalProtocolError, match="reuses"):
            next_cseq(s, method)
    assert next_cseq(s, "BYE") == 8
    s.local_seq = None
    assert next_cseq(s, "BYE") == 1


def test_cancel_copies_the_invite() -> None:
    """RFC 3261 9.1: CANCEL has the INVITE's Request-URI, Call-ID, From, To, CSeq number,
    Route and top Via only."""
    p = Pair()
    invite = p.invite(route=["<sip:p1.example.com;lr>"], cseq=42)
    cancel = build_cancel(invite)
    assert cancel.uri == invite.uri
    assert (cancel.call_id, cancel.from_, cancel.to) == (invite.call_id, invite.from_, invite.to)
    assert (cancel.cseq.number, cancel.cseq.method) == (42, "CANCEL")
    assert cancel.via == invite.via[:1]
    assert cancel.route == invite.route
    with pytest.raises(LocalProtocolError, match="only an INVITE"):
        build_cancel(cancel)


def test_uac_and_uas_states_mirror() -> None:
    """RFC 3261 12.1.1, 12.1.2: both ends derive mirror-image state from the same pair."""
    p = Pair()
    invite = p.invite(record_route=["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
    response = build_response(invite, 180, to_tag="t", contact="<sip:bob@192.0.2.4>")
    uac, uas = uac_state(invite, response, tls=False), uas_state(invite, response, tls=False)
    assert uac.id == ("3848276298220188511@atlanta.example.com", "9fxced76sl", "t")
    assert uas.id == (uac.call_id, uac.remote_tag, uac.local_tag)
    assert uac.route_set == tuple(reversed(uas.route_set))
    assert uac.route_set[0].uri == URI.parse("sip:p1.example.com;lr")
    assert (uac.local_seq, uac.remote_seq) == (uas.remote_seq, uas.local_seq) == (1, None)
    assert uac.remote_target == URI.parse("sip:bob@192.0.2.4")
    assert uas.remote_target == invite.contact[0].uri


def test_route_set_keeps_full_record_route_entries() -> None:
    """RFC 3261 12.1.1, 12.1.2: the route set is the Record-Route values themselves, with
    display names, URI parameters and header parameters intact."""
    p = Pair()
    rr = '"Edge Proxy" <sip:edge.example.com;lr;transport=tcp;ftag=a1>;x-info="p q"'
    invite = p.invite(record_route=[rr])
    response = build_response(invite, 200, to_tag="t", contact="<sip:bob@192.0.2.4>")
    for s in (uac_state(invite, response, tls=False), uas_state(invite, response, tls=False)):
        (entry,) = s.route_set
        assert entry.display_name == "Edge Proxy"
        assert entry.uri.param("ftag") == "a1"
        assert entry.param("x-info") == '"p q"'
        assert str(entry) == rr
    request = build_in_dialog(uac_state(invite, response, tls=False), "BYE", via=VIA)
    assert [str(r) for r in request.route] == [rr]
