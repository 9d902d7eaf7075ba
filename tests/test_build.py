"""Builders: requests and responses from their parts, in RFC-correct wire format."""

from __future__ import annotations

import pytest

from dialogfsm import (
    URI,
    LocalProtocolError,
    NameAddr,
    ParseError,
    Request,
    build_request,
    build_response,
    parse_message,
)


def make_invite() -> Request:
    return build_request(
        "INVITE",
        "sip:bob@biloxi.example.com",
        call_id="a84b4c76e66710",
        from_=NameAddr.parse("Alice <sip:alice@atlanta.example.com>;tag=1928301774"),
        to="Bob <sip:bob@biloxi.example.com>",
        cseq=314159,
        via="SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds",
        contact="<sip:alice@pc33.atlanta.example.com>",
        route=["<sip:p1.example.com;lr>"],
        headers=[("Record-Route", "<sip:p1.example.com;lr>")],
        body=b"v=0\r\n",
        content_type="application/sdp",
    )


def test_request_wire_format() -> None:
    """RFC 3261 7: CRLF line ends, an empty line, Content-Length equal to the body."""
    invite = make_invite()
    wire = bytes(invite)
    head, _, body = wire.partition(b"\r\n\r\n")
    assert body == b"v=0\r\n"
    assert b"\nContent-Length: 5" in head
    assert all(line.endswith(b"\r") for line in wire.split(b"\n")[:-1] if line)
    assert wire.startswith(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n")
    assert parse_message(wire) == invite
    assert invite.cseq.method == "INVITE"
    assert invite.max_forwards == 70


def test_response_copies_dialog_headers() -> None:
    """RFC 3261 8.2.6.2 and 12.1.1: Via, From, Call-ID, CSeq, Record-Route copied; To tagged."""
    invite = make_invite()
    ringing = build_response(invite, 180, to_tag="a6c85cf", contact="<sip:bob@192.0.2.4>")
    assert (ringing.status_code, ringing.reason) == (180, "Ringing")
    assert ringing.via == invite.via
    assert ringing.from_ == invite.from_
    assert ringing.call_id == invite.call_id
    assert ringing.cseq == invite.cseq
    assert ringing.record_route == invite.record_route
    assert ringing.to.tag == "a6c85cf"
    assert ringing.to.uri == invite.to.uri
    assert parse_message(bytes(ringing)) == ringing


def test_final_failure_does_not_copy_record_route() -> None:
    """RFC 3261 12.1.1: only responses that can create a dialog carry Record-Route."""
    busy = build_response(make_invite(), 486, to_tag="x")
    assert busy.reason == "Busy Here"
    assert busy.record_route == ()
    trying = build_response(make_invite(), 100)
    assert trying.to.tag is None
    assert trying.record_route == ()


def test_response_keeps_existing_to_tag() -> None:
    """RFC 3261 12.2.1.1: in a dialog the To tag is already set and must not change."""
    ok = build_response(make_invite(), 200, to_tag="a6c85cf")
    bye = build_request(
        "BYE", "sip:alice@pc33.atlanta.example.com", call_id=ok.call_id, from_=ok.to,
        to=ok.from_, cseq=1, via="SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10",
    )  # fmt: skip
    assert build_response(bye, 200, to_tag=bye.to.tag).to == bye.to
    with pytest.raises(LocalProtocolError, match="already has To tag"):
        build_response(bye, 200, to_tag="other")


def test_builders_refuse_bad_parts() -> None:
    """A builder never returns a half-valid message: bad parts raise."""
    with pytest.raises(ParseError, match="not a URI"):
        build_request("OPTIONS", "not a uri", call_id="c", from_="<sip:a@b>;tag=1",
                      to="<sip:c@d>", cseq=1, via="SIP/2.0/UDP h;branch=z9hG4bK1")  # fmt: skip
    with pytest.raises(LocalProtocolError, match="CR or LF"):
        build_request("OPTIONS", URI("sip:c@d"), call_id="c\r\nX: injected", from_="<sip:a@b>",
                      to="<sip:c@d>", cseq=1, via="SIP/2.0/UDP h;branch=z9hG4bK1")  # fmt: skip
    with pytest.raises(LocalProtocolError, match="Content-Type"):
        build_request("OPTIONS", "sip:c@d", call_id="c", from_="<sip:a@b>", to="<sip:c@d>",
                      cseq=1, via="SIP/2.0/UDP h;branch=z9hG4bK1", body=b"x")  # fmt: skip
    with pytest.raises(ParseError, match="too large"):
        build_request("OPTIONS", "sip:c@d", call_id="c", from_="<sip:a@b>", to="<sip:c@d>",
                      cseq=2**31, via="SIP/2.0/UDP h;branch=z9hG4bK1")  # fmt: skip


def test_direct_construction_validates_content_length() -> None:
    """Building a Request by hand checks Content-Length against the body."""
    invite = make_invite()
    with pytest.raises(ParseError, match="does not match"):
        Request(invite.method, invite.uri, invite.headers, b"longer body")


@pytest.mark.parametrize("code", [100, 180, 200, 486])
def test_built_response_is_what_its_wire_parses_to(code: int) -> None:
    """RFC 3261 8.2.6.2: a built response equals the parse of its own octets, typed fields
    (Via, From, To with tag, Call-ID, CSeq, Record-Route, Contact) included."""
    invite = make_invite()
    response = build_response(
        invite, code, to_tag=None if code == 100 else "a6c85cf",
        contact=() if code == 100 else "<sip:bob@192.0.2.4>",
        headers=[("Require", "100rel"), ("RSeq", "1")] if code == 180 else (),
    )  # fmt: skip
    again = parse_message(bytes(response))
    assert again == response
    for field in ("via", "from_", "to", "call_id", "cseq", "record_route", "contact",
                  "content_length", "require", "rseq"):  # fmt: skip
        assert getattr(again, field) == getattr(response, field), field


def test_built_response_validates_what_the_caller_adds() -> None:
    """A response's added parts are validated like a parsed message's; tags are tokens."""
    invite = make_invite()
    with pytest.raises(ParseError, match="Contact"):
        build_response(invite, 200, to_tag="x", contact="<sip:bob@192.0.2.4:99999>")
    with pytest.raises(ParseError, match="RSeq"):
        build_response(invite, 180, to_tag="x", headers=[("RSeq", "abc")])
    with pytest.raises(ParseError, match="Call-ID"):
        build_response(invite, 180, to_tag="x", headers=[("Call-ID", "again")])
    with pytest.raises(LocalProtocolError, match="not a token"):
        build_response(invite, 180, to_tag="bad tag")
    with pytest.raises(LocalProtocolError, match="outside"):
        build_response(invite, 99)
