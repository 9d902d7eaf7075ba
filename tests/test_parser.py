"""parse_message: framing of one datagram, start lines, header block, limits, bad input."""

from __future__ import annotations

import pytest
from samples import OPTIONS, RINGING

from dialogfsm import Limits, ParseError, Request, Response, parse_message


def replace(message: bytes, old: bytes, new: bytes) -> bytes:
    assert old in message
    return message.replace(old, new, 1)


def test_request_fields(invite_bytes: bytes) -> None:
    """RFC 3261 7.1: a request's start line and the dialog headers come out typed."""
    msg = parse_message(invite_bytes)
    assert isinstance(msg, Request)
    assert msg.method == "INVITE"
    assert str(msg.uri) == "sip:bob@biloxi.example.com"
    assert msg.call_id == "3848276298220188511@atlanta.example.com"
    assert msg.from_.tag == "9fxced76sl"
    assert msg.from_.display_name == "Alice"
    assert msg.to.tag is None
    assert (msg.cseq.number, msg.cseq.method) == (1, "INVITE")
    assert [str(r.uri) for r in msg.record_route] == [
        "sip:ss2.biloxi.example.com;lr",
        "sip:ss1.atlanta.example.com;lr",
    ]
    assert all(r.uri.lr for r in msg.record_route)
    assert msg.contact[0].uri.transport == "tcp"
    assert msg.max_forwards == 70
    assert len(msg.body) == msg.content_length == 151


def test_response_fields() -> None:
    """RFC 3261 7.2: a response's status line; comma lists split (7.3.1)."""
    msg = parse_message(RINGING)
    assert isinstance(msg, Response)
    assert (msg.status_code, msg.reason, msg.method) == (180, "Ringing", "INVITE")
    assert msg.to.tag == "a6c85cf"
    assert [r.uri.host for r in msg.record_route] == ["p1.example.com", "p2.example.com"]
    assert msg.via[0].received == "192.0.2.1"
    assert msg.body == b""


def test_extra_octets_after_body_are_ignored() -> None:
    """RFC 3261 18.3, RFC 4475 3.1.1.8: octets past Content-Length in a datagram are dropped."""
    msg = parse_message(OPTIONS + b"garbage that is not SIP")
    assert msg.body == b""
    assert bytes(msg) == OPTIONS


def test_without_content_length_body_is_rest_of_datagram() -> None:
    """RFC 3261 18.3: on UDP, a missing Content-Length means the body runs to the end."""
    data = replace(OPTIONS, b"Content-Length: 0\r\n", b"") + b"hello"
    msg = parse_message(data)
    assert msg.body == b"hello"
    assert msg.content_length is None


@pytest.mark.parametrize(
    ("old", "new", "fault", "where"),
    [
        (b"Content-Length: 0", b"Content-Length: 10", "Content-Length", "Content-Length"),
        (b"Content-Length: 0", b"Content-Length: -1", "Content-Length", "line 8"),
        (b"Content-Length: 0", b"Content-Length: 99999999999999999999", "too large", "line 8"),
        (b"CSeq: 63104 OPTIONS", b"CSeq: 63104 INVITE", "does not match", "CSeq"),
        (b"CSeq: 63104 OPTIONS", b"CSeq: 2147483648 OPTIONS", "too large", "CSeq"),
        (b"CSeq: 63104 OPTIONS", b"CSeq: OPTIONS", "malformed CSeq", "line 7"),
        (b"Max-Forwards: 70", b"Max-Forwards: 256", "too large", "Max-Forwards"),
        (b"Call-ID: a84b4c76e66710", b"Call-ID: a84b 4c76", "Call-ID", "line 6"),
        (b"Call-ID: a84b4c76e66710\r\n", b"", "missing required header Call-ID", "headers"),
        (b"Via: SIP/2.0/UDP pc33", b"Via: SIP/2.0/UDP", "Via", "line 2"),
        (b"To: <sip:carol", b'To: "Carol <sip:carol', "unterminated quoted", "To"),
        (b"To: <sip:carol@chicago.example.com>", b"To: <sip:carol@chi cago>", "To", "To"),
        (b"To: <sip:carol@chicago.example.com>", b"To: <>", "not a URI", "line 4"),
        (b"SIP/2.0\r\n", b"SIP/3.0\r\n", "version", "start line"),
        (b"OPTIONS sip:carol@chicago.example.com", b"OPTIONS <sip:c@d>", "<>", "start line"),
        (b"OPTIONS sip:carol@", b"OPT IONS sip:carol@", "request line", "start line"),
        (b"OPTIONS sip:carol@", b"OPTI\xc3ONS sip:carol@", "UTF-8", "start line"),
        (b"OPTIONS sip:carol@", b"OPT(ONS sip:carol@", "not a token", "start line"),
        (b"Max-Forwards: 70\r\n", b"Max-Forwards 70\r\n", "no colon", "line 3"),
        (b"Max-Forwards: 70\r\n", b"Max Forwards: 70\r\n", "not a token", "line 3"),
        (b"From: Alice", b"From: Al\xffice", "UTF-8", "header 'From' (line 5)"),
        (b"\r\n\r\n", b"\r\nTo: <sip:x@y>\r\n\r\n", "more than once", "header 'To' (line 9)"),
    ],
)
def test_malformed_requests_raise_parse_error(
    old: bytes, new: bytes, fault: str, where: str
) -> None:
    """RFC 3261 7, 8.1.1, 25: malformed input is a ParseError saying what and where."""
    with pytest.raises(ParseError) as info:
        parse_message(replace(OPTIONS, old, new))
    err = info.value
    assert isinstance(err, ValueError)
    assert err.status_hint == 400
    assert fault.lower() in str(err).lower()
    assert where in err.where


@pytest.mark.parametrize(
    ("old", "new", "fault"),
    [
        (b"180 Ringing", b"1800 Ringing", "status code"),
        (b"180 Ringing", b"099 Ringing", "status code"),
        (b"180 Ringing", b"700 Ringing", "status code"),
        (b"180 Ringing", b"18O Ringing", "status code"),
        (b"SIP/2.0 180", b"SIP/2.1 180", "version"),
        (b"<sip:p1.example.com;lr>, <sip", b"<sip:p1.example.com;lr>,, <sip", "empty element"),
        (b"<sip:p1.example.com;lr>,", b"<sip:p1.example.com;lr", "malformed name-addr"),
    ],
)
def test_malformed_responses_raise_parse_error(old: bytes, new: bytes, fault: str) -> None:
    """RFC 3261 7.2, 21: status codes are three digits from 100 to 699."""
    with pytest.raises(ParseError, match=fault):
        parse_message(replace(RINGING, old, new))


def test_line_folding_and_compact_forms() -> None:
    """RFC 3261 7.3.1 folding and 7.3.3 compact forms give the same typed fields."""
    folded = (
        b"OPTIONS sip:carol@chicago.example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP pc33.atlanta.example.com\r\n ;branch=z9hG4bKhjhs8ass877\r\n"
        b"Max-Forwards: 70\r\n"
        b"t: <sip:carol@chicago.example.com>\r\n"
        b"f: Alice\r\n\t<sip:alice@atlanta.example.com>;tag=1928301774\r\n"
        b"i: a84b4c76e66710\r\n"
        b"CSEQ  :  63104\r\n   OPTIONS\r\n"
        b"l: 0\r\n"
        b"\r\n"
    )
    plain, compact = parse_message(OPTIONS), parse_message(folded)
    assert compact.call_id == plain.call_id
    assert compact.from_ == plain.from_
    assert compact.to == plain.to
    assert compact.cseq == plain.cseq
    assert compact.via == plain.via
    assert [name for name, _ in compact.headers] == [name for name, _ in plain.headers]
    assert compact.headers.get("i") == compact.headers.get("CALL-id") == "a84b4c76e66710"


def test_folded_header_error_reports_original_line() -> None:
    """Line numbers in errors count the lines as sent, folding included."""
    data = replace(OPTIONS, b"Max-Forwards: 70\r\n", b"Max-Forwards:\r\n 70\r\nX-A: 1\r\n")
    data = replace(data, b"CSeq: 63104 OPTIONS", b"CSeq: x OPTIONS")
    with pytest.raises(ParseError) as info:
        parse_message(data)
    assert info.value.where == "header 'CSeq' (line 9)"


def test_bare_lf_and_leading_crlf_are_tolerated() -> None:
    """RFC 3261 7.5: CRLFs before the start line are ignored; bare-LF text logs parse too."""
    assert parse_message(b"\r\n\r\n" + OPTIONS) == parse_message(OPTIONS)
    assert parse_message(OPTIONS.replace(b"\r\n", b"\n")) == parse_message(OPTIONS)


def test_missing_end_of_headers() -> None:
    """A datagram cut inside its header block is refused, not half-parsed."""
    with pytest.raises(ParseError, match="empty line"):
        parse_message(OPTIONS[:60])


@pytest.mark.parametrize(
    ("limits", "data", "fault"),
    [
        (Limits(max_size=100), OPTIONS, "exceeds 100"),
        (Limits(max_headers=5), OPTIONS, "more than 5 header lines"),
        (Limits(max_line=60), OPTIONS, "longer than 60"),
    ],
)
def test_limits(limits: Limits, data: bytes, fault: str) -> None:
    """Size, header count and line length are bounded, with a clear error."""
    with pytest.raises(ParseError, match=fault):
        parse_message(data, limits=limits)


def test_default_size_limit_is_64_kib() -> None:
    """A 64 KiB message is refused by default before any parsing is done."""
    huge = replace(OPTIONS, b"\r\n\r\n", b"\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    with pytest.raises(ParseError, match="exceeds 65536"):
        parse_message(huge)


def test_unknown_headers_stay_text_and_keep_order() -> None:
    """Headers the dialog layer never reads are kept as text, in order, multi-valued."""
    data = replace(
        OPTIONS, b"Content-Length: 0\r\n", b"X-A: 1\r\nx-a: 2 , 3\r\nContent-Length: 0\r\n"
    )
    msg = parse_message(data)
    assert msg.headers.get_all("X-A") == ["1", "2 , 3"]
    assert "x-A" in msg.headers
    assert "X-B" not in msg.headers


def test_contact_wildcard() -> None:
    """RFC 3261 10.2.2: Contact '*' is flagged, and cannot be mixed with addresses."""
    data = replace(OPTIONS, b"Content-Length: 0\r\n", b"Contact: *\r\nContent-Length: 0\r\n")
    msg = parse_message(data)
    assert msg.contact_wildcard
    assert msg.contact == ()
    with pytest.raises(ParseError, match="mixed"):
        parse_message(replace(data, b"Contact: *\r\n", b"Contact: *\r\nContact: <sip:a@b>\r\n"))


def test_addr_spec_contact_with_angle_brackets_in_a_quoted_parameter() -> None:
    """RFC 3261 20.10, RFC 5626 4.1: without <>, the parameters after the URI are header
    parameters, and a quoted value such as +sip.instance="<urn:...>" may hold '<' and '>'."""
    contact = b'Contact: sip:alice@192.0.2.4;+sip.instance="<urn:uuid:f81d4fae>";q=0.5\r\n'
    msg = parse_message(
        replace(OPTIONS, b"Content-Length: 0\r\n", contact + b"Content-Length: 0\r\n")
    )
    (value,) = msg.contact
    assert str(value.uri) == "sip:alice@192.0.2.4"
    assert value.display_name is None
    assert value.param("+sip.instance") == '"<urn:uuid:f81d4fae>"'
    assert value.param("q") == "0.5"
    assert parse_message(bytes(msg)) == msg


def test_typed_headers_of_extensions() -> None:
    """RFC 3262 RSeq/RAck, RFC 6665 Event and Subscription-State, Require/Supported."""
    extra = (
        b"Require: 100rel\r\nSupported: timer, replaces\r\nk: norefersub\r\nRSeq: 988789\r\n"
        b"RAck: 776656 1 INVITE\r\nEvent: refer;id=93809824\r\n"
        b"Subscription-State: terminated;reason=noresource;retry-after=30\r\n"
    )
    msg = parse_message(
        replace(OPTIONS, b"Content-Length: 0\r\n", extra + b"Content-Length: 0\r\n")
    )
    assert msg.require == ("100rel",)
    assert msg.supported == ("timer", "replaces", "norefersub")
    assert msg.rseq == 988789
    assert msg.rack is not None
    assert (msg.rack.rseq, msg.rack.cseq, msg.rack.method) == (776656, 1, "INVITE")
    assert msg.event is not None
    assert (msg.event.package, msg.event.id) == ("refer", "93809824")
    state = msg.subscription_state
    assert state is not None
    assert state.terminated
    assert (state.reason, state.retry_after, state.expires) == ("noresource", 30, None)


@pytest.mark.parametrize(
    ("header", "fault"),
    [
        (b"RSeq: 0x10", "RSeq"),
        (b"RAck: 1 INVITE", "RAck"),
        (b"Event: ;id=1", "Event"),
        (b"Subscription-State: active;expires=forever", "expires"),
        (b"Require: 100rel, , timer", "Require"),
    ],
)
def test_malformed_extension_headers(header: bytes, fault: str) -> None:
    """Headers the dialog layer reads are validated with the rest of the message."""
    with pytest.raises(ParseError, match=fault):
        parse_message(
            replace(OPTIONS, b"Content-Length: 0\r\n", header + b"\r\nContent-Length: 0\r\n")
        )


def test_messages_are_immutable_values() -> None:
    """Messages are frozen, hashable and compare by content."""
    a, b = parse_message(OPTIONS), parse_message(OPTIONS)
    assert a == b
    assert hash(a) == hash(b)
    assert a != parse_message(RINGING)
    with pytest.raises(AttributeError):
        a.method = "BYE"  # type: ignore[misc]
