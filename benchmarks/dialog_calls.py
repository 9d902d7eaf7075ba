"""The calls of ``bench_dialog.py``, as bytes: each call's Call-ID, tags, CSeq and user names,
the messages the UAS receives (INVITE, ACK, BYE through two record-routing proxies) and the
response templates the UAC receives, in which the peer fills in the branch and CSeq.

All of it is generated before timing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

# --------------------------------------------------------------------------------------
# The calls, as bytes
# --------------------------------------------------------------------------------------

SDP_OFFER = (
    b"v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\n"
    b"c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
)
SDP_ANSWER = (
    b"v=0\r\no=bob 2808844564 2808844564 IN IP4 client.biloxi.example.com\r\ns=-\r\n"
    b"c=IN IP4 192.0.2.201\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\na=sendrecv\r\n"
)
SDP = "application/sdp"
ALLOW = "INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE"
RECORD_ROUTE = (
    "Record-Route: <sip:ss2.biloxi.example.com;lr>",
    "Record-Route: <sip:ss1.atlanta.example.com;lr>",
)
BOB_HOST = "192.0.2.201"  # the UAS (both libraries' own address when acting as UAS)
ALICE_HOST = "192.0.2.101"  # the UAC
NEXT_HOP = ("192.0.2.2", 5060)  # the outbound proxy the UAC sends to
BOB_CONTACT = f"<sip:bob@{BOB_HOST}:5060;transport=udp>"
ALICE_CONTACT = f"<sip:alice@{ALICE_HOST}:5060;transport=udp>"
UAC_HEADERS = (("Allow", ALLOW), ("User-Agent", "bench-uac/1.0"))
BRANCH = b"@BRANCH@"  # placeholders the peer fills in the UAC's responses
CSEQ = b"@CSEQ@"


class Call(NamedTuple):
    """Everything that is new in each call: ids, tags, users, and the UAC's own strings."""

    number: int
    call_id: str
    alice: str
    bob: str
    alice_tag: str
    bob_tag: str
    cseq: int
    key: str
    # what the UAC builds its requests from (prepared here, as an application would hold
    # them; the requests themselves are built inside the timed region)
    alice_from: str
    bob_to: str
    request_uri: str
    invite_via: str
    ack_via: str
    bye_via: str


def make_call(index: int) -> Call:
    key = f"{index:08x}"
    alice, bob = f"alice{index}", f"bob{index}"
    alice_tag = f"a{key}{index % 97:02d}x"
    via = f"SIP/2.0/UDP {ALICE_HOST}:5060;rport;branch=z9hG4bK"
    return Call(
        number=index,
        call_id=f"{index:016x}f5e8d2c1@pc33.atlanta.example.com",
        alice=alice,
        bob=bob,
        alice_tag=alice_tag,
        bob_tag=f"b{key}{index % 89:02d}y",
        cseq=100 + index % 9000,
        key=key,
        alice_from=f'"Alice Liddell" <sip:{alice}@atlanta.example.com>;tag={alice_tag}',
        bob_to=f"Bob <sip:{bob}@biloxi.example.com>",
        request_uri=f"sip:{bob}@biloxi.example.com",
        invite_via=f"{via}i{key}",
        ack_via=f"{via}k{key}",
        bye_via=f"{via}e{key}",
    )


def _wire(lines: Iterable[str], body: bytes = b"") -> bytes:
    head = [*lines]
    if body:
        head.append(f"Content-Type: {SDP}")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _proxy_vias(c: Call, kind: str) -> list[str]:
    """The Via stack a request from Alice carries when it reaches Bob (2 proxies)."""
    return [
        f"Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK2{kind}{c.key}.1",
        f"Via: SIP/2.0/UDP ss1.atlanta.example.com:5060;branch=z9hG4bK1{kind}{c.key}.1",
        f"Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received={ALICE_HOST};"
        f"branch=z9hG4bK{kind}{c.key}",
    ]


def uas_invite(c: Call) -> bytes:
    """The INVITE as Bob receives it: 3 Vias, 2 Record-Routes, Contact, SDP offer."""
    return _wire(
        [
            f"INVITE sip:{c.bob}@{BOB_HOST}:5060 SIP/2.0",
            *_proxy_vias(c, "i"),
            "Max-Forwards: 68",
            *RECORD_ROUTE,
            f"From: {c.alice_from}",
            f"To: {c.bob_to}",
            f"Call-ID: {c.call_id}",
            f"CSeq: {c.cseq} INVITE",
            f"Contact: <sip:{c.alice}@pc33.atlanta.example.com:5060;transport=udp>",
            f"Allow: {ALLOW}",
            "Supported: replaces, timer",
            "User-Agent: ExamplePhone/4.2.1 (build 1877)",
        ],
        SDP_OFFER,
    )


def _uas_in_dialog(c: Call, method: str, cseq: int, kind: str) -> bytes:
    return _wire(
        [
            f"{method} sip:{c.bob}@{BOB_HOST}:5060;transport=udp SIP/2.0",
            *_proxy_vias(c, kind),
            "Max-Forwards: 68",
            f"From: {c.alice_from}",
            f"To: {c.bob_to};tag={c.bob_tag}",
            f"Call-ID: {c.call_id}",
            f"CSeq: {cseq} {method}",
            "User-Agent: ExamplePhone/4.2.1 (build 1877)",
        ]
    )


def uas_ack(c: Call) -> bytes:
    return _uas_in_dialog(c, "ACK", c.cseq, "a")


def uas_bye(c: Call) -> bytes:
    return _uas_in_dialog(c, "BYE", c.cseq + 1, "b")


def uac_templates(c: Call) -> tuple[bytes, bytes, bytes, bytes]:
    """100, 180, 200 (SDP answer) and the 200 to the BYE as Alice receives them, with
    ``@BRANCH@`` and ``@CSEQ@`` for the peer to fill in."""
    via = f"Via: SIP/2.0/UDP {ALICE_HOST}:5060;rport=5060;branch=@BRANCH@"
    to_tagged = f"To: {c.bob_to};tag={c.bob_tag}"
    common = [f"From: {c.alice_from}", f"Call-ID: {c.call_id}"]
    contact = f"Contact: <sip:{c.bob}@client.biloxi.example.com:5060;transport=udp>"
    trying = _wire(["SIP/2.0 100 Trying", via, *common, f"To: {c.bob_to}", "CSeq: @CSEQ@ INVITE"])
    ringing = _wire(
        ["SIP/2.0 180 Ringing", via, *RECORD_ROUTE, *common, to_tagged, "CSeq: @CSEQ@ INVITE",
         contact]
    )  # fmt: skip
    ok = _wire(
        ["SIP/2.0 200 OK", via, *RECORD_ROUTE, *common, to_tagged, "CSeq: @CSEQ@ INVITE",
         contact, f"Allow: {ALLOW}", "Supported: replaces, timer", "Server: ExampleUA/1.9.0"],
        SDP_ANSWER,
    )  # fmt: skip
    bye_ok = _wire(
        ["SIP/2.0 200 OK", via, *common, to_tagged, "CSeq: @CSEQ@ BYE", "Server: ExampleUA/1.9.0"]
    )
    return trying, ringing, ok, bye_ok


class UasCall(NamedTuple):
    call: Call
    invite: bytes
    ack: bytes
    bye: bytes


class UacCall(NamedTuple):
    call: Call
    trying: bytes
    ringing: bytes
    ok: bytes
    bye_ok: bytes


def uas_calls(count: int, offset: int = 0) -> list[UasCall]:
    out = []
    for i in range(offset, offset + count):
        c = make_call(i)
        out.append(UasCall(c, uas_invite(c), uas_ack(c), uas_bye(c)))
    return out


def uac_calls(count: int, offset: int = 0) -> list[UacCall]:
    return [UacCall(c, *uac_templates(c)) for c in map(make_call, range(offset, offset + count))]


def fill(template: bytes, branch: bytes, cseq: bytes) -> bytes:
    """The peer's work: answer the request whose top Via branch and CSeq are given."""
    return template.replace(BRANCH, branch).replace(CSEQ, cseq)
