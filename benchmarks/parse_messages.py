"""The datagrams ``bench_parse.py`` parses (an RFC 3665 3.2-style call through two
record-routing proxies) and the fields every contestant must read from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

# --------------------------------------------------------------------------------------
# The messages (RFC 3665 3.2-style call through two record-routing proxies)
# --------------------------------------------------------------------------------------


def _message(head: str, body: str = "") -> bytes:
    """Join header lines with CRLF, add Content-Length and the body."""
    lines = [*head.strip("\n").split("\n"), f"Content-Length: {len(body.encode())}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _sdp(lines: str) -> str:
    return "\r\n".join(lines.strip("\n").split("\n")) + "\r\n"


SDP_OFFER = _sdp(
    """
v=0
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""
)

SDP_ANSWER = _sdp(
    """
v=0
o=bob 2808844564 2808844564 IN IP4 client.biloxi.example.com
s=-
c=IN IP4 192.0.2.201
t=0 0
m=audio 3456 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""
)

# The INVITE as Bob's UA receives it: two Vias, two Record-Routes, 16 header lines.
INVITE = _message(
    """
INVITE sip:bob@client.biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK721e418c4.1
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101;branch=z9hG4bKnashds8
Max-Forwards: 68
Record-Route: <sip:ss2.biloxi.example.com;lr>
Record-Route: <sip:ss1.atlanta.example.com;lr>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE
Supported: replaces, timer, 100rel
User-Agent: ExamplePhone/4.2.1 (build 1877)
Subject: Lunch?
Content-Type: application/sdp
""",
    SDP_OFFER,
)

# Bob's 200 OK: same Vias and Record-Routes, To now tagged, Bob's Contact, SDP answer.
OK_200 = _message(
    """
SIP/2.0 200 OK
Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK721e418c4.1
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101;branch=z9hG4bKnashds8
Record-Route: <sip:ss2.biloxi.example.com;lr>
Record-Route: <sip:ss1.atlanta.example.com;lr>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@client.biloxi.example.com:5060;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE
Supported: replaces, timer
Server: ExampleUA/1.9.0
Content-Type: application/sdp
""",
    SDP_ANSWER,
)

# Alice hangs up: the route set is the Record-Route list reversed, no body, no Contact.
BYE = _message(
    """
BYE sip:bob@client.biloxi.example.com:5060;transport=udp SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKnashds10
Max-Forwards: 70
Route: <sip:ss1.atlanta.example.com;lr>
Route: <sip:ss2.biloxi.example.com;lr>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 314160 BYE
User-Agent: ExamplePhone/4.2.1 (build 1877)
"""
)


class Fields(NamedTuple):
    """What a dialog layer reads from a message.

    Adapters fill it with the library's own objects (URI objects, ints, ...); ``normalise``
    turns those into plain strings and ints outside the timed region for comparison.
    """

    call_id: Any
    from_uri: Any
    from_tag: Any
    from_display: Any
    to_uri: Any
    to_tag: Any
    cseq_number: Any
    cseq_method: Any
    via_branch: Any
    via_sent_by: Any
    contact_uri: Any
    record_route: Sequence[Any]
    route: Sequence[Any]
    max_forwards: Any


_ALICE = "sip:alice@atlanta.example.com"
_BOB = "sip:bob@biloxi.example.com"
_CALL_ID = "3848276298220188511@atlanta.example.com"
_RR = ("sip:ss2.biloxi.example.com;lr", "sip:ss1.atlanta.example.com;lr")

EXPECTED: dict[str, Fields] = {
    "INVITE": Fields(
        _CALL_ID, _ALICE, "9fxced76sl", "Alice Liddell", _BOB, None, 314159, "INVITE",
        "z9hG4bK721e418c4.1", "ss2.biloxi.example.com:5060",
        "sip:alice@pc33.atlanta.example.com:5060;transport=udp", _RR, (), 68,
    ),
    "200": Fields(
        _CALL_ID, _ALICE, "9fxced76sl", "Alice Liddell", _BOB, "314159", 314159, "INVITE",
        "z9hG4bK721e418c4.1", "ss2.biloxi.example.com:5060",
        "sip:bob@client.biloxi.example.com:5060;transport=udp", _RR, (), None,
    ),
    "BYE": Fields(
        _CALL_ID, _ALICE, "9fxced76sl", "Alice Liddell", _BOB, "314159", 314160, "BYE",
        "z9hG4bKnashds10", "pc33.atlanta.example.com:5060", None, (), _RR[::-1], 70,
    ),
}  # fmt: skip

MESSAGES: dict[str, bytes] = {"INVITE": INVITE, "200": OK_200, "BYE": BYE}


def distinct_calls(data: bytes, calls: int) -> list[bytes]:
    """``calls`` copies of one message, each from a different call.

    Every per-call value is fresh (Call-ID, tags, branches, CSeq number) and callers and
    callees rotate through 100 users each, so no library gains from meeting the very same
    header text again, as it would when one message is parsed in a loop. The proxies'
    Record-Route and Route entries stay the same, as they do on a real network.
    """
    out = []
    for i in range(calls):
        text = data.decode()
        for old, new in (
            ("3848276298220188511", f"{i:019d}"),
            ("9fxced76sl", f"f{i:09x}"),
            ("tag=314159", f"tag={i:06d}"),
            ("z9hG4bK721e418c4.1", f"z9hG4bK{i:010x}.1"),
            ("z9hG4bKnashds8", f"z9hG4bKa{i:06x}"),
            ("z9hG4bKnashds10", f"z9hG4bKb{i:07x}"),
            ("314159 INVITE", f"{100000 + i * 7} INVITE"),
            ("314160 BYE", f"{100001 + i * 7} BYE"),
            ("sip:bob@", f"sip:bob{i % 100}@"),
            ("sip:alice@", f"sip:alice{i % 100}@"),
        ):
            text = text.replace(old, new)
        out.append(text.encode())
    return out


def _text(value: Any) -> str | None:
    """A field as text: None and "" both mean absent."""
    if value is None:
        return None
    text = str(value)
    return text or None


def normalise(fields: Fields) -> Fields:
    """Library objects -> plain values, so answers from every library compare equal."""
    return Fields(
        _text(fields.call_id),
        _text(fields.from_uri),
        _text(fields.from_tag),
        _text(fields.from_display),
        _text(fields.to_uri),
        _text(fields.to_tag),
        None if fields.cseq_number is None else int(fields.cseq_number),
        _text(fields.cseq_method),
        _text(fields.via_branch),
        _text(fields.via_sent_by),
        _text(fields.contact_uri),
        tuple(str(u) for u in fields.record_route),
        tuple(str(u) for u in fields.route),
        None if fields.max_forwards is None else int(fields.max_forwards),
    )


def mismatches(got: Fields, want: Fields) -> list[str]:
    """Names of the fields that differ, each with the value the library gave."""
    return [
        f"{name}={g!r} (want {w!r})"
        for name, g, w in zip(Fields._fields, got, want, strict=True)
        if g != w
    ]
