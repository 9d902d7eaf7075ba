"""Call-lifecycle benchmark: dialogfsm's DialogManager against sippy's UA and a naive design.

One call is INVITE, 100, 180, 200, ACK, BYE, 200, between a caller (Alice, UAC) and a callee
(Bob, UAS) through two record-routing proxies. Every call has its own Call-ID, tags,
branches, CSeq and user names; only the proxies' Record-Route values repeat, as on a real
network. All wire bytes are generated before timing.

**UAS lifecycle, from bytes** (what is inside the timed region, per call):

- dialogfsm: ``parse_message`` of the INVITE, the ACK and the BYE (bytes in); the 100, 180
  (To tag, Contact), 200 (To tag, Contact, SDP answer) and the 200 to the BYE built with
  ``build_response`` and serialised with ``bytes()`` (bytes out); ``uas.receive`` of each
  message received and ``uas.send`` of each response, in wire order.
- sippy UA, stub transaction layer ("sippy UA (stub TM)"): ``SipRequest(data.decode())``
  for the INVITE, ACK and BYE; the UA is created for the INVITE (``UA.recvRequest``, which
  sends the 100 itself), answered with ``recvEvent(CCEventRing)`` and
  ``recvEvent(CCEventConnect)`` (SDP answer), the BYE goes to ``UA.recvRequest`` through the
  Call-ID consumer index and ``UA.isYours``, which answers it 200; finally the UA's
  Disconnected -> Dead step (``goDead``, normally a 32 s timer) runs by hand, because that
  is where sippy takes the call out of its index, as dialogfsm does on BYE. The stand-in
  for ``SipTransactionManager`` serialises each response with ``localStr`` and encodes it
  (as the real one does before writing to the socket), keeps the consumer index
  (``regConsumer``/``unregConsumer``), and absorbs the ACK after matching it to its UA (sippy
  answers with ``ack_wait=False``, so its UA never sees the ACK: the transaction layer
  absorbs it). No retransmission cache, no md5, no transaction timers: it does the
  dialog-layer job dialogfsm does, and this is the row the 3x target is checked against.
- sippy UA + the real ``SipTransactionManager`` ("sippy UA + TM"): the whole sippy stack;
  datagrams go in through ``SipTransactionManager.handleIncoming`` (decode, md5 of the
  datagram for the retransmission cache, parse, server transactions, dispatch, timers A/B/D/E
  registered with sippy's event dispatcher) and come out through a fake UDP server object
  that keeps the last datagram. Shown for reference: it does transaction-layer work that
  dialogfsm leaves to the application.

**UAC lifecycle, from bytes**: dialogfsm builds the INVITE (``build_request``), serialises
it and ``uac.send``s it; parses and receives the 100, 180 and 200; builds the ACK from the
``SendAck`` event (``dialog.ack``), the BYE (``dialog.request("BYE")``), serialises and sends
both; parses and receives the 200 to the BYE. sippy: ``UA.recvEvent(CCEventTry)`` (builds and
sends the INVITE), responses parsed with ``SipResponse(data.decode())`` and matched to their
client transaction by tid, the 2xx's ACK built the way ``SipTransactionManager`` builds it
(the stub copies that code), ``UA.disconnect()`` (builds and sends the BYE), the 200 to the
BYE, then ``goDead``. The responses the UAC receives are templates in which the peer fills
in the top Via branch and the CSeq number of the request it answers (sippy picks both at
random), with two ``bytes.replace`` per response, for every contestant alike.

**Pre-parsed rows**: "dialogfsm manager only" replays the very message objects of the
from-bytes lifecycle (parsed and built beforehand) through ``send``/``receive``: dialogfsm's
own cost without parsing or building. "naive: Machine per dialog" replays the same objects
through a minimal manager that gives each dialog its own ``transitions.Machine(model=...)``
with dialogfsm's states and ``TRANSITIONS`` and keeps the dialog record in a dict; it does
less checking than dialogfsm (no timers, no RFC checks), so its time is a lower bound for
that design.

**Memory**: live confirmed dialogs built through the UAS side from distinct calls (INVITE
received, 200 sent, ACK received), every message and event dropped, then
``gc.collect()``; bytes per dialog = growth of ``tracemalloc``'s traced memory over the
dialogs kept (index included: the manager, or sippy's consumer index, holds them). Each
figure comes from a fresh interpreter (no heap left over from timing or from another
measurement), and a second fresh interpreter repeats the build without tracemalloc to give
the growth of the process RSS, for comparison: that one also counts allocator slack (pools
left part-used by the freed messages) and the refill of the parser's memo caches (about
6 MB, fixed). dialogfsm's parser keeps bounded memo caches of recent header values (at most
2048 entries each, a fixed cost however many dialogs live); they are emptied before both
tracemalloc snapshots so that the figure is what the dialogs themselves retain, and their
size is printed apart.

Timing uses ``timeit`` (garbage collector off unless ``--gc``): each row is one pass over
``--calls`` distinct calls, its loop count calibrated to about ``--min-time`` seconds, rows
interleaved, minimum of ``--repeat`` runs. Figures compare within one run only. Each pass of
a dialogfsm row runs at its own clock time and ends with ``handle_timer`` (a UAC's dialog
set stays open 64*T1 after the 2xx, for other forks), so timer work is paid by the calls.
Keep ``--calls`` above about 600: below that, the four name-addr values of every call fit
in the parser's 2048-entry memo and are remembered from one pass to the next, which
flatters dialogfsm's parsing (each call's values are new on a real network).

sippy runs with a fixed listen address (``SipConf.my_address``), as configured in
production; its default looks the host name up each time a message is written.

Run from the repository root::

    python benchmarks/bench_dialog.py --quick     # rough figures, 20k dialogs: ~1.5 min
    python benchmarks/bench_dialog.py             # full run, 100k dialogs: ~6 min
    python benchmarks/bench_dialog.py --dialogs 100000,1000000 --profile   # 1M too: ~28 min
"""

# Baselines are imported inside their loaders so a missing one is reported, not fatal;
# sippy's interfaces (regConsumer, sendResponse, getSIPaddr, ...) are camelCase.
# ruff: noqa: PLC0415, N802

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import importlib.metadata
import json
import os
import platform
import pstats
import subprocess
import sys
import time
import timeit
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

# Let ``python benchmarks/bench_dialog.py`` find the package in the source tree.
_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

import dialogfsm  # noqa: E402
from dialogfsm import (  # noqa: E402
    MACHINE,
    TRANSITIONS,
    Dialog,
    DialogManager,
    DialogState,
    Request,
    Response,
    SendAck,
    State,
    build_request,
    build_response,
    clear_caches,
    parse_message,
)

Message = Request | Response

# --------------------------------------------------------------------------------------
# Targets (from the issue)
# --------------------------------------------------------------------------------------

TARGET_SPEEDUP = 3.0  # UAS lifecycle from bytes, sippy UA (stub TM) / dialogfsm
TARGET_BYTES = 1200  # per live confirmed dialog, index included
TARGET_MEMORY_RATIO = 13.0  # sippy bytes per live call / dialogfsm's

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


# --------------------------------------------------------------------------------------
# dialogfsm
# --------------------------------------------------------------------------------------

_NOW = 0.0


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
            uas.receive(invite, now=_NOW)
        except AssertionError as exc:
            return (
                f"DialogManager(max_unconfirmed=2) as UAS: INVITE #{i + 1} raised "
                f"AssertionError({exc}) after {i} calls answered 200 and none pending"
            )
        uas.send(build_response(invite, 200, to_tag=c.bob_tag), now=_NOW)
    return None


def dialogfsm_uas_pass(uas: DialogManager, calls: Sequence[UasCall]) -> Callable[[], None]:
    """One pass of UAS lifecycles from bytes (see the module docstring)."""
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
    """One pass of UAC lifecycles from bytes (see the module docstring)."""
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
    scratch.send(invite, now=_NOW)
    branch = invite.via[0].branch.encode()  # type: ignore[union-attr]
    cseq = str(call.cseq).encode()
    responses = [parse_message(fill(t, branch, cseq)) for t in (c.trying, c.ringing, c.ok)]
    for response in responses:
        scratch.receive(response, now=_NOW)
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


# --------------------------------------------------------------------------------------
# The naive design: one transitions.Machine per dialog, the record in a dict
# --------------------------------------------------------------------------------------


class NaiveDialog:
    """A plain model: ``transitions`` binds ``state``, triggers and ``is_*`` helpers on it."""

    record: dict[str, Any]


class NaiveManager:
    """The straightforward design: ``Machine(model=dialog, ...)`` for every new dialog.

    States and rows are dialogfsm's own (``State``, ``TRANSITIONS``); the dialog record is a
    dict with DialogState's fields; dialogs are indexed by (Call-ID, local tag, remote tag)
    and pending INVITEs by (Call-ID, From tag, CSeq). It checks much less than dialogfsm
    (no timers, no CSeq or RFC 3261 15 checks), so it is a lower bound for the design.
    """

    def __init__(self) -> None:
        self.dialogs: dict[tuple[str, str, str], NaiveDialog] = {}
        self.pending: dict[tuple[str, str, int], Request] = {}
        self._machine: Callable[..., Any] = _transitions_machine()

    def send(self, message: Message, *, now: float) -> list[tuple[str, Any]]:
        events: list[tuple[str, Any]] = []
        if isinstance(message, Request):
            self._request(message, True, events)
        else:
            self._response(message, False, events)
        return events

    def receive(self, message: Message, *, now: float) -> list[tuple[str, Any]]:
        events: list[tuple[str, Any]] = []
        if isinstance(message, Request):
            self._request(message, False, events)
        else:
            self._response(message, True, events)
        return events

    def _request(self, request: Request, sent: bool, events: list[tuple[str, Any]]) -> None:
        to_tag = request.to.tag
        from_tag = request.from_.tag or ""
        if to_tag is None:
            if request.method == "INVITE":
                self.pending[(request.call_id, from_tag, request.cseq.number)] = request
            return
        key = (request.call_id, from_tag, to_tag) if sent else (request.call_id, to_tag, from_tag)
        dialog = self.dialogs.get(key)
        if dialog is None:
            return
        record = dialog.record
        if request.method == "ACK":
            if not sent:
                record["awaiting_ack"] = None
            return
        record["local_seq" if sent else "remote_seq"] = request.cseq.number
        if request.method == "BYE":
            dialog.bye()  # type: ignore[attr-defined]
            del self.dialogs[key]
            events.append(("terminated", dialog))

    def _response(self, response: Response, received: bool, events: list[tuple[str, Any]]) -> None:
        code = response.status_code
        from_tag = response.from_.tag or ""
        pending_key = (response.call_id, from_tag, response.cseq.number)
        request = self.pending.get(pending_key)
        if request is None or code == 100:
            return
        if code >= 300:
            del self.pending[pending_key]
            return
        to_tag = response.to.tag or ""
        key = (
            (response.call_id, from_tag, to_tag)
            if received
            else (response.call_id, to_tag, from_tag)
        )
        dialog = self.dialogs.get(key)
        if dialog is None:
            dialog = NaiveDialog()
            self._machine(
                model=dialog, states=State, transitions=TRANSITIONS, initial=State.NONE,
                auto_transitions=False,
            )  # fmt: skip
            contact = (response if received else request).contact
            dialog.record = {
                "call_id": response.call_id,
                "local_tag": key[1],
                "remote_tag": key[2],
                "local_seq": request.cseq.number if received else None,
                "remote_seq": None if received else request.cseq.number,
                "local_uri": request.from_.uri if received else request.to.uri,
                "remote_uri": request.to.uri if received else request.from_.uri,
                "remote_target": contact[0].uri if contact else None,
                "route_set": (
                    tuple(reversed(response.record_route)) if received else request.record_route
                ),
                "secure": False,
                "caller": received,
                "invite_cseq": request.cseq.number,
                "awaiting_ack": None,
            }
            self.dialogs[key] = dialog
            events.append(("created", dialog))
        if code < 200:
            if dialog.state is State.NONE:  # type: ignore[attr-defined]
                dialog.provisional()  # type: ignore[attr-defined]
            return
        if dialog.state is not State.CONFIRMED:  # type: ignore[attr-defined]
            dialog.success()  # type: ignore[attr-defined]
            events.append(("confirmed", dialog))
        del self.pending[pending_key]
        if received:
            events.append(("send_ack", response))
        else:
            dialog.record["awaiting_ack"] = response.cseq.number


def _transitions_machine() -> Callable[..., Any]:
    from transitions import Machine

    return Machine


# --------------------------------------------------------------------------------------
# sippy, driven without a network
# --------------------------------------------------------------------------------------


@dataclass
class Sippy:
    """sippy's classes, and the process-wide setup a sippy application does."""

    version: str
    UA: Any
    SipRequest: Any
    SipResponse: Any
    SipMsg: Any
    SipHeader: Any
    SipRoute: Any
    SipAddress: Any
    SipCallId: Any
    MsgBody: Any
    CCEventTry: Any
    CCEventRing: Any
    CCEventConnect: Any
    MonoTime: Any
    ED2: Any
    SipTransactionManager: Any
    Udp_server_opts: Any
    Remote_address: Any


def load_sippy() -> Sippy:
    from sippy.SipConf import SipConf

    # A fixed listen address, as production configurations give (the default looks the
    # host name up every time a message is written).
    SipConf.my_address = BOB_HOST
    SipConf.my_port = 5060
    from sippy.CCEvents import CCEventConnect, CCEventRing, CCEventTry
    from sippy.Core.EventDispatcher import ED2
    from sippy.MsgBody import MsgBody
    from sippy.Network_server import Remote_address
    from sippy.SipAddress import SipAddress
    from sippy.SipCallId import SipCallId
    from sippy.SipHeader import SipHeader
    from sippy.SipMsg import SipMsg
    from sippy.SipRequest import SipRequest
    from sippy.SipResponse import SipResponse
    from sippy.SipRoute import SipRoute
    from sippy.SipTransactionManager import SipTransactionManager
    from sippy.Time.MonoTime import MonoTime
    from sippy.UA import UA
    from sippy.Udp_server import Udp_server_opts

    return Sippy(
        importlib.metadata.version("sippy"), UA, SipRequest, SipResponse, SipMsg, SipHeader,
        SipRoute, SipAddress, SipCallId, MsgBody, CCEventTry, CCEventRing, CCEventConnect,
        MonoTime, ED2, SipTransactionManager, Udp_server_opts, Remote_address,
    )  # fmt: skip


def _ignore_event(event: Any, ua: Any) -> None:
    """The application's event callback (the events are built either way)."""


def sippy_reset(s: Sippy) -> None:
    """Between timed runs: drop the timers sippy registered (nothing runs its event loop)."""
    s.ED2.tlisteners.clear()
    s.ED2.twasted = 0
    gc.collect()


class _Transaction:
    """The attributes sippy's UA reads or sets on a transaction."""

    def __init__(self) -> None:
        self.compact = False
        self.tid: Any = None
        self.method = ""
        self.resp_cb: Any = None
        self.cb_ifver = 1
        self.ack: Any = None
        self.req_extra_headers: Any = None
        self.uack = False


class SippyStubTM:
    """Stands in for ``SipTransactionManager``: the dialog-layer part of its job.

    Serialises what the UA sends (``localStr``, then UTF-8, as the real one does before the
    socket), keeps the Call-ID consumer index, matches ACK and in-dialog requests to their UA
    with ``UA.isYours``, routes responses to client transactions by tid, and builds the ACK
    of a 2xx with the code of ``SipTransactionManager.incomingResponse``. No retransmission
    cache, no md5, no transaction timers.
    """

    def __init__(self, s: Sippy, host: str) -> None:
        self.s = s
        self.laddr = ((host, 5060), "udp")
        self.req_consumers: dict[str, list[Any]] = {}
        self.tclient: dict[Any, _Transaction] = {}
        self.last_sent = b""
        self.last_tid: Any = None

    # -- what the UA calls --------------------------------------------------------------
    def regConsumer(self, consumer: Any, call_id: str, compact: bool = False) -> None:
        self.req_consumers.setdefault(call_id, []).append(consumer)

    def unregConsumer(self, consumer: Any, call_id: str) -> None:
        consumers = self.req_consumers.pop(call_id)
        consumers.remove(consumer)
        if consumers:
            self.req_consumers[call_id] = consumers

    def sendResponse(
        self, resp: Any, t: Any = None, retrans: bool = False, ack_cb: Any = None,
        lossemul: int = 0,
    ) -> None:  # fmt: skip
        to = resp.getHFBody("to")
        if resp.getSCode()[0] > 100 and to.getTag() is None:
            to.genTag()
        self.last_sent = resp.localStr(self.laddr).encode()

    def newTransaction(  # noqa: PLR0917 (sippy's signature)
        self, msg: Any, resp_cb: Any = None, laddress: Any = None, userv: Any = None,
        cb_ifver: int = 1, compact: bool = False, t: Any = None,
    ) -> _Transaction:  # fmt: skip
        tr = _Transaction()
        tr.method = msg.getMethod()
        tr.cb_ifver = cb_ifver
        tr.resp_cb = resp_cb
        tr.tid = msg.getTId(True, True)
        if tr.method == "INVITE":
            tr.ack = msg.genACK()
        self.tclient[tr.tid] = tr
        self.last_tid = tr.tid
        self.last_sent = msg.localStr(self.laddr).encode()
        return tr

    def cancelTransaction(self, t: Any, extra_headers: Any = None) -> None:
        raise AssertionError("no call is cancelled in this benchmark")

    # -- what the network delivers ------------------------------------------------------
    def request_in(self, data: bytes, new_ua: Callable[[], Any]) -> Any:
        req = self.s.SipRequest(data.decode())
        req.rtime = self.s.MonoTime()
        ua = None
        for consumer in self.req_consumers.get(str(req.getHFBody("call-id")), ()):
            if consumer.isYours(req) is not None:
                ua = consumer
                break
        if req.getMethod() == "ACK":  # matched, and absorbed by the transaction layer
            return ua
        if ua is None:
            ua = new_ua()
        rval = ua.recvRequest(req, _Transaction())
        if rval is not None and rval[0] is not None:
            self.sendResponse(rval[0])
        return ua

    def response_in(self, data: bytes) -> None:
        resp = self.s.SipResponse(data.decode())
        resp.rtime = self.s.MonoTime()
        tr = self.tclient.get(resp.getTId(True, True))
        if tr is None:
            return
        code = resp.getSCode()[0]
        if tr.resp_cb is not None:
            if tr.cb_ifver == 1:
                tr.resp_cb(resp)
            else:
                tr.resp_cb(resp, tr)
        if code < 200:
            return
        del self.tclient[tr.tid]
        if tr.ack is not None:
            self._send_ack(tr.ack, resp, code)

    def _send_ack(self, ack: Any, resp: Any, code: int) -> None:
        # SipTransactionManager.incomingResponse, minus the socket address bookkeeping
        tag = resp.getHFBody("to").getTag()
        if tag is not None:
            ack.getHFBody("to").setTag(tag)
        target = None
        if resp.countHFs("contact") > 0:
            target = resp.getHFBody("contact").getUrl().getCopy()
        routes = [x.getCopy() for x in resp.getHFBodys("record-route")]
        routes.reverse()
        if routes:
            if not routes[0].getUrl().lr:
                if target is not None:
                    routes.append(self.s.SipRoute(address=self.s.SipAddress(url=target)))
                target = routes.pop(0).getUrl()
                ack.setTarget(target.getTAddr())
            else:
                ack.setTarget(routes[0].getTAddr())
        if target is not None:
            ack.setRURI(target)
        ack.delHFs("route")
        ack.appendHeaders([self.s.SipHeader(name="route", body=x) for x in routes])
        if code < 300:
            ack.getHFBody("via").genBranch()
        self.last_sent = ack.localStr(self.laddr).encode()


class _FakeUdpServer:
    """What ``SipTransactionManager`` writes to instead of a socket: keeps the last datagram."""

    transport = "udp"

    def __init__(self, global_config: Any, uopts: Any) -> None:
        self.uopts = uopts
        self.last_sent = b""

    def getSIPaddr(self) -> tuple[Any, str]:
        return (self.uopts.laddress, self.transport)

    def addr2str(self, address: Any) -> str:
        return f"udp:{address[0]}:{address[1]}"

    def send_to(self, data: bytes | str, address: Any, delayed: bool = False) -> None:
        self.last_sent = data if isinstance(data, bytes) else data.encode("utf-8")

    def shutdown(self) -> None:
        pass


class _NullLogger:
    def write(self, *args: Any, **kwargs: Any) -> None:
        pass


def sippy_real_tm(s: Sippy, host: str, req_cb: Any) -> tuple[Any, Any, dict[str, Any]]:
    """A real ``SipTransactionManager`` whose UDP servers are fakes; its global config."""
    tm_class = type(
        "SipTransactionManagerNoNet",
        (s.SipTransactionManager,),
        {"model_udp_server": (_FakeUdpServer, s.Udp_server_opts)},
    )
    config: dict[str, Any] = {"_sip_address": host, "_sip_port": 5060, "_sip_logger": _NullLogger()}
    tm = tm_class(config, req_cb)
    config["_sip_tm"] = tm
    server = next(iter(tm.l4r.cache_l2s.values()))
    return tm, server, config


def sippy_uas_stub_pass(s: Sippy, calls: Sequence[UasCall]) -> Callable[[], None]:
    tm = SippyStubTM(s, BOB_HOST)
    config = {"_sip_tm": tm}
    ua_class, ring, connect, body = s.UA, s.CCEventRing, s.CCEventConnect, s.MsgBody
    answer = SDP_ANSWER.decode()
    tag = [""]

    def new_ua() -> Any:
        return ua_class(config, event_cb=_ignore_event, ltag=tag[0])

    def run() -> None:
        for c, invite, ack, bye in calls:
            tag[0] = c.bob_tag
            ua = tm.request_in(invite, new_ua)  # the UA sends 100 Trying itself
            ua.recvEvent(ring((180, "Ringing", None)))
            ua.recvEvent(connect((200, "OK", body(answer))))
            tm.request_in(ack, new_ua)
            tm.request_in(bye, new_ua)  # answered 200 by the UA
            ua.state.goDead()  # the 32 s Disconnected timer: leaves the consumer index

    return run


def sippy_uas_tm_pass(s: Sippy, calls: Sequence[UasCall]) -> Callable[[], None]:
    ua_class, ring, connect, body = s.UA, s.CCEventRing, s.CCEventConnect, s.MsgBody
    answer = SDP_ANSWER.decode()
    current: dict[str, Any] = {"tag": "", "ua": None}

    def req_cb(req: Any, t: Any) -> Any:  # the application's handler for new requests
        ua = ua_class(config, event_cb=_ignore_event, ltag=current["tag"])
        current["ua"] = ua
        return ua.recvRequest(req, t)

    tm, server, config = sippy_real_tm(s, BOB_HOST, req_cb)
    incoming, mono = tm.handleIncoming, s.MonoTime
    peer = s.Remote_address(NEXT_HOP, "udp")

    def run() -> None:
        # the retransmission caches would take a second pass over the same datagrams for
        # retransmissions; sippy itself rotates them every 32 s
        tm.l1rcache.clear()
        tm.l2rcache.clear()
        for c, invite, ack, bye in calls:
            current["tag"] = c.bob_tag
            incoming(invite, peer, server, mono())
            ua = current["ua"]
            ua.recvEvent(ring((180, "Ringing", None)))
            ua.recvEvent(connect((200, "OK", body(answer))))
            incoming(ack, peer, server, mono())
            incoming(bye, peer, server, mono())
            ua.state.goDead()

    return run


def _sippy_try(s: Sippy, c: Call) -> Any:
    return s.CCEventTry(
        (s.SipCallId(c.call_id), c.alice, c.bob, s.MsgBody(SDP_OFFER.decode()), None,
         "Alice Liddell")
    )  # fmt: skip


def sippy_uac_stub_pass(s: Sippy, calls: Sequence[UacCall]) -> Callable[[], None]:
    tm = SippyStubTM(s, ALICE_HOST)
    config = {"_sip_tm": tm}
    ua_class = s.UA

    def run() -> None:
        for c, trying, ringing, ok, bye_ok in calls:
            ua = ua_class(config, event_cb=_ignore_event, nh_address=NEXT_HOP, ltag=c.alice_tag)
            ua.recvEvent(_sippy_try(s, c))  # builds and sends the INVITE
            _, _, cseq, _, branch = tm.last_tid  # the peer reads what the INVITE carried
            b, q = branch.encode(), str(cseq).encode()
            tm.response_in(fill(trying, b, q))
            tm.response_in(fill(ringing, b, q))
            tm.response_in(fill(ok, b, q))  # the transaction layer ACKs the 2xx
            ua.disconnect()  # builds and sends the BYE
            _, _, cseq, _, branch = tm.last_tid
            tm.response_in(fill(bye_ok, branch.encode(), str(cseq).encode()))
            ua.state.goDead()

    return run


def sippy_uac_tm_pass(s: Sippy, calls: Sequence[UacCall]) -> Callable[[], None]:
    tm, server, config = sippy_real_tm(s, ALICE_HOST, None)
    incoming, mono, ua_class = tm.handleIncoming, s.MonoTime, s.UA
    peer = s.Remote_address(NEXT_HOP, "udp")

    def run() -> None:
        tm.l1rcache.clear()
        tm.l2rcache.clear()
        for c, trying, ringing, ok, bye_ok in calls:
            ua = ua_class(config, event_cb=_ignore_event, nh_address=NEXT_HOP, ltag=c.alice_tag)
            ua.recvEvent(_sippy_try(s, c))
            _, _, cseq, _, branch = ua.tr.tid
            b, q = branch.encode(), str(cseq).encode()
            incoming(fill(trying, b, q), peer, server, mono())
            incoming(fill(ringing, b, q), peer, server, mono())
            incoming(fill(ok, b, q), peer, server, mono())
            ua.disconnect()
            _, _, cseq, _, branch = next(reversed(tm.tclient))  # the BYE's transaction
            incoming(fill(bye_ok, branch.encode(), str(cseq).encode()), peer, server, mono())
            ua.state.goDead()

    return run


# --------------------------------------------------------------------------------------
# References: the state machine alone
# --------------------------------------------------------------------------------------


class _Slotted:
    """The smallest model: one slot, never registered with the machine."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = State.NONE


def bare_transitions_cycle() -> Callable[[], None]:
    """3 transitions (NONE -> EARLY -> CONFIRMED -> TERMINATED) through a shared machine
    configured like dialogfsm's (``model=None``, ``send_event``, same keyword arguments per
    trigger) but without its ``after_state_change`` callback: ``transitions`` alone."""
    from transitions import Machine

    machine = Machine(
        model=None, states=State, transitions=TRANSITIONS, initial=None,
        auto_transitions=False, send_event=True,
    )  # fmt: skip
    provisional = machine.events["provisional"].trigger
    success = machine.events["success"].trigger
    bye = machine.events["bye"].trigger
    model = _Slotted()
    sink: list[Any] = []

    def run() -> None:
        model.state = State.NONE
        provisional(model, events=sink, message=None, reason="", source=State.NONE)
        success(model, events=sink, message=None, reason="", source=State.EARLY)
        bye(model, events=sink, message=None, reason="", source=State.CONFIRMED)
        sink.clear()

    return run


def dialogfsm_move_cycle() -> Callable[[], None]:
    """The same 3 transitions through dialogfsm's ``move`` (``MACHINE`` plus its ``_report``
    callback: events, the ``early`` flag, the debug-log check)."""
    from dialogfsm._machine import move

    c = make_call(0)
    state = DialogState.create(
        call_id=c.call_id, local_tag=c.bob_tag, remote_tag=c.alice_tag, local_seq=None,
        remote_seq=c.cseq, local_uri=dialogfsm.URI(c.request_uri),
        remote_uri=dialogfsm.URI(f"sip:{c.alice}@atlanta.example.com"), remote_target=None,
        route_set=(), secure=False,
    )  # fmt: skip
    dialog = Dialog(State.NONE, state, False, c.cseq)
    sink: list[Any] = []

    def run() -> None:
        dialog.state = State.NONE
        move(dialog, "provisional", sink)
        move(dialog, "success", sink)
        move(dialog, "bye", sink)
        sink.clear()

    return run


def machine_per_dialog() -> Callable[[], None]:
    """What the naive design pays to give one dialog its machine."""
    from transitions import Machine

    def run() -> None:
        Machine(
            model=NaiveDialog(), states=State, transitions=TRANSITIONS, initial=State.NONE,
            auto_transitions=False,
        )  # fmt: skip

    return run


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One timed thing: ``make()`` returns a function doing ``per`` units of work."""

    key: str
    name: str
    make: Callable[[], Callable[[], None]]
    per: int
    unit: str = "call"
    reference: str | None = None  # key of the row its ratio is taken against
    reset: Callable[[], None] | None = None  # between timed runs, outside the timing
    unavailable: str = ""
    timer: timeit.Timer | None = None
    number: int = 0
    micros: float | None = None  # per unit, fastest run


def _calibrate(row: Row, min_time: float) -> int:
    assert row.timer is not None
    number = 1
    while True:
        if row.reset is not None:
            row.reset()
        elapsed = row.timer.timeit(number)
        if elapsed >= min(0.05, min_time):
            return max(1, round(number * min_time / elapsed))
        number *= 2


def bench(rows: Sequence[Row], *, repeat: int, min_time: float, with_gc: bool) -> None:
    """Time every row; keep its fastest run. Runs are interleaved: round 1 of every row,
    then round 2, ..., so that a burst of load on the machine hits every row alike."""
    setup: Callable[[], None] | str = gc.enable if with_gc else "pass"
    live = []
    for row in rows:
        try:
            function = row.make()
            function()  # warm-up pass, and a check that the lifecycle runs
        except Exception as exc:
            row.unavailable = f"{type(exc).__name__}: {exc}"
            continue
        row.timer = timeit.Timer(function, setup=setup)
        row.number = _calibrate(row, min_time)
        live.append(row)
    for _ in range(repeat):
        for row in live:
            assert row.timer is not None
            if row.reset is not None:
                row.reset()
            micros = row.timer.timeit(row.number) / row.number / row.per * 1e6
            row.micros = micros if row.micros is None else min(micros, row.micros)
    for row in live:
        if row.reset is not None:
            row.reset()
        row.timer = None  # drop the pass and its pre-parsed messages: only figures stay
    for row in rows:
        row.make = _spent
    gc.collect()


def _spent() -> Callable[[], None]:
    raise RuntimeError("timed already")


# --------------------------------------------------------------------------------------
# Memory: live confirmed dialogs on the UAS side
# --------------------------------------------------------------------------------------


def rss() -> int | None:
    """Resident set size of this process (Linux), or None."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


M = TypeVar("M", DialogManager, "NaiveManager")


def _confirm_calls(uas: M, count: int, offset: int) -> M:
    """``count`` confirmed UAS dialogs through ``uas``: INVITE received, 200 sent, ACK
    received."""
    for i in range(offset, offset + count):
        c = make_call(i)
        invite = parse_message(uas_invite(c))
        uas.receive(invite, now=_NOW)
        assert isinstance(invite, Request)
        ok = build_response(
            invite, 200, to_tag=c.bob_tag, contact=BOB_CONTACT, body=SDP_ANSWER,
            content_type=SDP,
        )  # fmt: skip
        uas.send(ok, now=_NOW)
        uas.receive(parse_message(uas_ack(c)), now=_NOW)
    return uas


def build_dialogfsm(count: int, offset: int) -> DialogManager:
    """``count`` confirmed UAS dialogs in a DialogManager."""
    return _confirm_calls(uas_manager(), count, offset)


def build_naive(count: int, offset: int) -> NaiveManager:
    """The same, through the naive design."""
    return _confirm_calls(NaiveManager(), count, offset)


def build_sippy(s: Sippy, count: int, offset: int) -> SippyStubTM:
    """The same, through sippy's UA (stub transaction layer: the consumer index only)."""
    tm = SippyStubTM(s, BOB_HOST)
    config = {"_sip_tm": tm}
    answer = SDP_ANSWER.decode()
    tag = [""]

    def new_ua() -> Any:
        return s.UA(config, event_cb=_ignore_event, ltag=tag[0])

    for i in range(offset, offset + count):
        c = make_call(i)
        tag[0] = c.bob_tag
        ua = tm.request_in(uas_invite(c), new_ua)
        ua.recvEvent(s.CCEventConnect((200, "OK", s.MsgBody(answer))))
        tm.request_in(uas_ack(c), new_ua)
    tm.last_sent = b""
    return tm


@dataclass
class MemResult:
    name: str
    count: int
    traced: float = 0.0  # bytes per dialog (tracemalloc)
    rss: float | None = None  # bytes per dialog (RSS growth, in a run without tracemalloc)
    seconds: float = 0.0  # to build the dialogs (without tracemalloc when rss is set)
    memo: int = 0  # bytes in dialogfsm's memo caches at the end (a fixed cost)
    machine_models: int = -1  # len(dialogfsm.MACHINE.models) with the dialogs alive
    checks: list[str] = field(default_factory=list)
    top: list[str] = field(default_factory=list)
    unavailable: str = ""


def measure_memory(
    name: str,
    count: int,
    build: Callable[[int, int], Any],
    check: Callable[[Any, int], list[str]] | None = None,
    *,
    top: bool = False,
    traced: bool = True,
) -> MemResult:
    """Bytes per dialog kept by ``build(count, offset)``, its messages and events dropped:
    by tracemalloc (``traced``), else by the growth of the process RSS."""
    result = MemResult(name, count)
    gc.collect()
    if traced:
        tracemalloc.start()
    try:
        # warm-up (lazily built tables, allocator state); kept small, as the memory it frees
        # is reused by the build and would hide that much RSS growth
        build(min(count // 20, 200), 50_000_000)
        clear_caches()
        gc.collect()
        base, base_rss = tracemalloc.get_traced_memory()[0], rss()
        started = time.perf_counter()
        kept = build(count, 0)
        result.seconds = time.perf_counter() - started
        gc.collect()
        with_memo = tracemalloc.get_traced_memory()[0]
        now_rss = rss()
        clear_caches()
        gc.collect()
        if traced:
            end = tracemalloc.get_traced_memory()[0]
            result.traced = (end - base) / count
            result.memo = with_memo - end
        elif base_rss is not None and now_rss is not None:
            result.rss = (now_rss - base_rss) / count
        if top and traced:
            result.top = _top_allocations(tracemalloc.take_snapshot(), count)
    finally:
        if traced:
            tracemalloc.stop()
    result.machine_models = len(MACHINE.models)
    if check is not None:
        result.checks = check(kept, count)
    del kept
    gc.collect()
    return result


def _top_allocations(snapshot: tracemalloc.Snapshot, count: int, limit: int = 8) -> list[str]:
    """Where the kept memory was allocated: source lines, bytes and blocks per dialog."""
    stats = snapshot.filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<*>")]
    ).statistics("lineno")
    lines = []
    for stat in stats[:limit]:
        frame = stat.traceback[0]
        path = Path(frame.filename)
        where = path.relative_to(_REPO_ROOT) if path.is_relative_to(_REPO_ROOT) else path.name
        source = _source_line(frame.filename, frame.lineno)
        lines.append(
            f"{stat.size / count:7.1f} B  {stat.count / count:5.2f} blocks  "
            f"{where}:{frame.lineno}  {source}"
        )
    return lines


def _source_line(filename: str, lineno: int) -> str:
    try:
        text = Path(filename).read_text().splitlines()[lineno - 1].strip()
    except (OSError, IndexError):
        return ""
    return text[:60]


def check_dialogfsm(manager: DialogManager, count: int) -> list[str]:
    dialogs = list(manager.dialogs.values())
    confirmed = sum(d.state is State.CONFIRMED for d in dialogs)
    sample = dialogs[0]
    alive = {Request: 0, Response: 0}
    for obj in gc.get_objects():
        kind = type(obj)
        if kind in alive:
            alive[kind] += 1
    timers = len(manager._timers)  # lazily cancelled entries may still hold a dialog set
    return [
        f"{confirmed} of {count} dialogs confirmed, {len(manager.dialog_sets)} dialog sets open",
        f"len(MACHINE.models) = {len(MACHINE.models)} (the shared machine registers no model)",
        f"Dialog has __dict__: {hasattr(sample, '__dict__')}; DialogState has __dict__: "
        f"{hasattr(sample.dialog_state, '__dict__')}",
        f"messages alive in the process: {alive[Request]} Request, {alive[Response]} Response; "
        f"the timer heap has {timers} entries (cancelled ones are dropped lazily; an 'early' "
        "entry keeps its dialog set, and so its INVITE, until the heap compacts)",
    ]


def check_sippy(tm: SippyStubTM, count: int) -> list[str]:
    connected = sum(ua.isConnected() for consumers in tm.req_consumers.values() for ua in consumers)
    msg_class = tm.s.SipMsg
    messages = sum(isinstance(obj, msg_class) for obj in gc.get_objects())
    return [
        f"{connected} of {count} UAs connected; {messages} sippy messages alive "
        f"({messages / count:.1f} per call: each UA keeps its uasResp)",
    ]


def check_naive(manager: NaiveManager, count: int) -> list[str]:
    return [f"{len(manager.dialogs)} of {count} dialogs, each with its own Machine"]


def _reachable(root: object, seen: dict[int, object], stop: Any = ()) -> None:
    """Every object reachable from ``root`` (not types, modules, functions or enums)."""
    stack = [root]
    while stack:
        obj = stack.pop()
        if obj is None or isinstance(obj, _OPAQUE) or id(obj) in seen or id(obj) in stop:
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))


_OPAQUE = (type, type(sys), type(len), type(clear_caches), State, bool)


def dialog_breakdown(manager: DialogManager) -> list[str]:
    """What one live confirmed dialog is made of, by sys.getsizeof; objects that another
    dialog reaches too (enum members, Record-Route values shared through the parser) are
    left out, and the index's share is added."""
    first, second = list(manager.dialogs.values())[:2]
    shared: dict[int, object] = {}
    _reachable(second, shared)
    state = first.dialog_state
    parts: list[tuple[str, list[object], bool]] = [
        ("Dialog (attrs, slots)", [first], False),
        ("DialogState (attrs, slots)", [state], False),
        ("call_id str", [state.call_id], True),
        ("local_tag + remote_tag str", [state.local_tag, state.remote_tag], True),
        ("id: DialogId tuple", [state.id], True),
        ("remote_seq, invite_cseq int", [state.remote_seq, first.invite_cseq], True),
        ("local_uri URI (To of the INVITE)", [state.local_uri], True),
        ("remote_uri URI (From)", [state.remote_uri], True),
        ("remote_target URI (Contact)", [state.remote_target], True),
        ("route_set tuple", [state.route_set], True),
    ]
    counted: dict[int, object] = dict(shared)
    lines = []
    total = 0
    for label, roots, deep in parts:
        found: dict[int, object] = {}
        for root in roots:
            if deep:
                _reachable(root, found, counted)
            elif root is not None and id(root) not in counted:
                found[id(root)] = root
        size = sum(sys.getsizeof(obj) for obj in found.values())
        counted.update(found)
        total += size
        detail = _sizes(found.values())
        lines.append(f"{label:<34} {size:5d} B  {detail}")
    index = sys.getsizeof(manager._dialogs) / len(manager._dialogs)
    lines.append(f"{'index share (dict of dialogs)':<34} {index:5.0f} B")
    lines.append(f"{'total by sys.getsizeof':<34} {total + index:5.0f} B")
    return lines


def _sizes(objects: Iterable[object]) -> str:
    by_type: dict[str, list[int]] = {}
    for obj in objects:
        by_type.setdefault(type(obj).__name__, []).append(sys.getsizeof(obj))
    return ", ".join(f"{len(sizes)} {name} {sum(sizes)}" for name, sizes in sorted(by_type.items()))


# --------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------


def profile(run: Callable[[], None], calls: int, limit: int = 10) -> list[str]:
    """cProfile of one pass; the top functions by own time, per call lifecycle."""
    run()
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    total = sum(v[2] for _, v in rows)
    lines = [f"{'own us':>8} {'share':>6} {'calls':>6} {'cum us':>8}  function"]
    for (filename, lineno, name), (_, ncalls, tottime, cumtime, _) in rows[:limit]:
        path = Path(filename)
        where = path.relative_to(_REPO_ROOT) if path.is_relative_to(_REPO_ROOT) else path.name
        lines.append(
            f"{tottime / calls * 1e6:8.2f} {tottime / total:6.1%} {ncalls / calls:6.1f} "
            f"{cumtime / calls * 1e6:8.2f}  {where}:{lineno}({name})"
        )
    lines.append("cumulative time by entry point (nested: move is inside send/receive, ...):")
    for label, file_suffix, names in _ENTRY_POINTS:
        cum = sum(
            value[3]
            for (filename, _, name), value in rows
            if name in names and filename.endswith(file_suffix)
        )
        if cum:
            lines.append(f"{cum / calls * 1e6:8.2f} {cum / total:6.1%}  {label}")
    return lines


_ENTRY_POINTS = [
    ("parse_message", "_parser.py", ("parse_message",)),
    ("build_response", "_build.py", ("build_response",)),
    ("build_request (INVITE; inside Dialog.ack/request too)", "_build.py", ("build_request",)),
    ("bytes(message)", "_message.py", ("__bytes__",)),
    ("DialogManager.receive", "_manager.py", ("receive",)),
    ("DialogManager.send", "_manager.py", ("send",)),
    ("DialogManager.handle_timer", "_manager.py", ("handle_timer",)),
    ("move (state machine + events)", "_machine.py", ("move",)),
    ("transitions Event.trigger", "core.py", ("trigger",)),
]


# --------------------------------------------------------------------------------------
# The rows
# --------------------------------------------------------------------------------------


def parse_uas_pass(calls: Sequence[UasCall]) -> Callable[[], None]:
    """Part of the UAS lifecycle: parsing what it receives."""

    def run() -> None:
        for _, invite, ack, bye in calls:
            parse_message(invite)
            parse_message(ack)
            parse_message(bye)

    return run


def build_uas_pass(calls: Sequence[UasCall], scripts: Sequence[Script]) -> Callable[[], None]:
    """Part of the UAS lifecycle: building and serialising its 4 responses."""
    requests = [(c.call, s[0][1], s[5][1]) for c, s in zip(calls, scripts, strict=True)]

    def run() -> None:
        for call, invite, bye in requests:
            assert isinstance(invite, Request)
            assert isinstance(bye, Request)
            bytes(build_response(invite, 100))
            bytes(build_response(invite, 180, to_tag=call.bob_tag, contact=BOB_CONTACT))
            bytes(
                build_response(
                    invite, 200, to_tag=call.bob_tag, contact=BOB_CONTACT, body=SDP_ANSWER,
                    content_type=SDP,
                )
            )  # fmt: skip
            bytes(build_response(bye, 200))

    return run


def parse_uac_pass(scripts: Sequence[Script]) -> Callable[[], None]:
    """Part of the UAC lifecycle: parsing the 4 responses (the bytes as filled in)."""
    datagrams = [[bytes(m) for sent, m in script if not sent] for script in scripts]

    def run() -> None:
        for trying, ringing, ok, bye_ok in datagrams:
            parse_message(trying)
            parse_message(ringing)
            parse_message(ok)
            parse_message(bye_ok)

    return run


def sippy_parse_uas_pass(s: Sippy, calls: Sequence[UasCall]) -> Callable[[], None]:
    """sippy's parse of what the UAS receives (header bodies are parsed on first use)."""
    request = s.SipRequest

    def run() -> None:
        for _, invite, ack, bye in calls:
            request(invite.decode())
            request(ack.decode())
            request(bye.decode())

    return run


def make_rows(
    calls: int, sippy: Sippy | None, sippy_error: str, uas_batch: list[UasCall],
    uac_batch: list[UacCall],
) -> list[Row]:  # fmt: skip
    uas_scripts = [uas_script(c) for c in uas_batch]
    uac_scripts = [uac_script(c) for c in uac_batch]

    def with_sippy(
        make: Callable[[Sippy], Callable[[], None]],
    ) -> Callable[[], Callable[[], None]]:
        def load() -> Callable[[], None]:
            if sippy is None:
                raise RuntimeError(sippy_error)
            return make(sippy)

        return load

    reset = (lambda: sippy_reset(sippy)) if sippy is not None else None
    return [
        Row("uas", "dialogfsm, from bytes",
            lambda: dialogfsm_uas_pass(uas_manager(), uas_batch), calls, reference="uas"),
        Row("uas-sippy", "sippy UA (stub TM), from bytes",
            with_sippy(lambda s: sippy_uas_stub_pass(s, uas_batch)), calls, reference="uas",
            reset=reset),
        Row("uas-sippy-tm", "sippy UA + SipTransactionManager, from bytes",
            with_sippy(lambda s: sippy_uas_tm_pass(s, uas_batch)), calls, reference="uas",
            reset=reset),
        Row("uas-mgr", "dialogfsm manager only (pre-parsed)",
            lambda: replay_pass(uas_manager(), uas_scripts), calls, reference="uas-mgr"),
        Row("uas-naive", "naive: Machine per dialog (pre-parsed)",
            lambda: replay_pass(NaiveManager(), uas_scripts), calls, reference="uas-mgr"),
        Row("uas-parse", "  part: dialogfsm parse_message x3",
            lambda: parse_uas_pass(uas_batch), calls, reference="uas"),
        Row("uas-build", "  part: dialogfsm build_response + bytes x4",
            lambda: build_uas_pass(uas_batch, uas_scripts), calls, reference="uas"),
        Row("uas-sippy-parse", "  part: sippy SipRequest(text) x3 (lazy)",
            with_sippy(lambda s: sippy_parse_uas_pass(s, uas_batch)), calls, reference="uas"),
        Row("uac", "dialogfsm, from bytes",
            lambda: dialogfsm_uac_pass(DialogManager(), uac_batch), calls, reference="uac"),
        Row("uac-sippy", "sippy UA (stub TM), from bytes",
            with_sippy(lambda s: sippy_uac_stub_pass(s, uac_batch)), calls, reference="uac",
            reset=reset),
        Row("uac-sippy-tm", "sippy UA + SipTransactionManager, from bytes",
            with_sippy(lambda s: sippy_uac_tm_pass(s, uac_batch)), calls, reference="uac",
            reset=reset),
        Row("uac-mgr", "dialogfsm manager only (pre-parsed)",
            lambda: replay_pass(DialogManager(), uac_scripts), calls, reference="uac-mgr"),
        Row("uac-naive", "naive: Machine per dialog (pre-parsed)",
            lambda: replay_pass(NaiveManager(), uac_scripts), calls, reference="uac-mgr"),
        Row("uac-parse", "  part: dialogfsm parse_message x4",
            lambda: parse_uac_pass(uac_scripts), calls, reference="uac"),
        Row("bare", "transitions trigger, shared machine, slotted model",
            bare_transitions_cycle, 3, unit="transition"),
        Row("move", "dialogfsm move() (MACHINE + _report)", dialogfsm_move_cycle, 3,
            unit="transition"),
        Row("machine", "transitions.Machine(model=...) for one dialog", machine_per_dialog, 1,
            unit="dialog"),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(head), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None:
        return None
    return value / reference


def _fmt(value: float | None, suffix: str = "", digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def time_table(rows: Sequence[Row], by_key: dict[str, Row]) -> list[str]:
    body = []
    for row in rows:
        if row.micros is None:
            body.append([row.name, "unavailable" if row.unavailable else "-", "-", "-"])
            continue
        reference = by_key[row.reference] if row.reference else None
        ratio = _ratio(row.micros, reference.micros if reference else None)
        body.append([row.name, f"{row.micros:.1f}", f"{1e6 / row.micros:,.0f}", _fmt(ratio, "x")])
    out = _table(["", "us/call", "calls/s", "vs dialogfsm"], body)
    return out + [f"  {r.name}: unavailable ({r.unavailable})" for r in rows if r.unavailable]


@dataclass
class Options:
    repeat: int
    min_time: float
    calls: int
    dialog_counts: list[int]
    small: int
    gc: bool
    memory: bool
    profile: bool
    memory_child: tuple[str, int] | None = None
    top: bool = False
    rss_only: bool = False


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (min is kept)")
    parser.add_argument(
        "--min-time", type=float, default=0.5, help="seconds per repeat (loop count calibrated)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="--repeat 3 --min-time 0.1 --calls 1000 --dialogs 20000 --small-dialogs 2000",
    )
    parser.add_argument("--calls", type=int, help="distinct calls per pass (default 2000)")
    parser.add_argument(
        "--dialogs",
        help="comma-separated counts of live dialogfsm dialogs to measure (default 100000; "
        "100000,1000000 adds 1M, a few minutes more)",
    )
    parser.add_argument(
        "--small-dialogs", type=int, help="live dialogs for sippy and the naive design (10000)"
    )
    parser.add_argument("--gc", action="store_true", help="keep the garbage collector on")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory section")
    parser.add_argument("--profile", action="store_true", help="cProfile top 10 per side")
    # internal: one memory measurement in a fresh process (see measure_in_child)
    parser.add_argument(
        "--memory-child", nargs=2, metavar=("KIND", "COUNT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--top", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rss-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    dialogs = args.dialogs if args.dialogs is not None else ("20000" if quick else "100000")
    return Options(
        repeat=3 if quick else args.repeat,
        min_time=0.1 if quick else args.min_time,
        calls=args.calls if args.calls is not None else (1000 if quick else 2000),
        dialog_counts=[int(x) for x in dialogs.split(",") if x.strip()],
        small=args.small_dialogs if args.small_dialogs is not None else (2000 if quick else 10000),
        gc=args.gc,
        memory=not args.no_memory,
        profile=args.profile,
        memory_child=(
            (args.memory_child[0], int(args.memory_child[1])) if args.memory_child else None
        ),
        top=args.top,
        rss_only=args.rss_only,
    )


def print_timing(rows: Sequence[Row], by_key: dict[str, Row]) -> dict[str, float | None]:
    """The two lifecycle tables and the state machine figures; returns dialogfsm's own
    overhead per message, by side."""
    for side, title in (
        ("uas", "UAS call lifecycle: INVITE in; 100, 180, 200 out; ACK in; BYE in; 200 out"),
        ("uac", "UAC call lifecycle: INVITE out; 100, 180, 200 in; ACK out; BYE out; 200 in"),
    ):
        print(f"\n{title}")
        for line in time_table([r for r in rows if r.key.startswith(side)], by_key):
            print(line)
    print(
        "(pre-parsed rows compare with 'dialogfsm manager only'; 'part' rows with the "
        "from-bytes row they are part of)"
    )
    bare = by_key["bare"].micros
    print("\nState machine")
    for key, unit in (("bare", "per transition"), ("move", "per transition"), ("machine", "")):
        print(f"  {by_key[key].name}: {_fmt(by_key[key].micros)} us {unit}".rstrip())
    # a call's three state changes cost what move() costs (transitions running the rows,
    # and _report); the rest of the manager's time is dialogfsm's own work
    moved = by_key["move"].micros
    overhead: dict[str, float | None] = {}
    for side in ("uas", "uac"):
        manager = by_key[f"{side}-mgr"].micros
        own = None if manager is None or moved is None else (manager - 3 * moved) / 7
        overhead[side] = own
        relative = "" if own is None or bare is None else f" = {own / bare:.2f} transition"
        print(
            f"  dialogfsm's own overhead per message, {side.upper()}: (manager only - 3 "
            f"moves) / 7 messages = {_fmt(own)} us{relative}"
        )
    return overhead


MEMORY_NAMES = {
    "dialogfsm": "dialogfsm",
    "sippy": "sippy UA (stub TM)",
    "naive": "naive: Machine per dialog",
}


def memory_child(kind: str, count: int, top: bool, traced: bool) -> int:
    """Measure one kind of dialog in this (fresh) process; print the result as JSON."""
    name = MEMORY_NAMES[kind]
    build: Callable[[int, int], Any]
    check: Callable[[Any, int], list[str]]
    if kind == "dialogfsm":
        build, check = build_dialogfsm, check_dialogfsm
    elif kind == "sippy":
        loaded = load_sippy()
        build, check = (lambda n, o: build_sippy(loaded, n, o)), check_sippy
    else:
        build, check = build_naive, check_naive
    result = measure_memory(name, count, build, check, top=top, traced=traced)
    print(json.dumps(dataclasses.asdict(result)))
    return 0


def measure_in_child(kind: str, count: int, *, top: bool = False) -> MemResult:
    """Two fresh interpreters: one measures with tracemalloc, one the RSS growth without it
    (tracemalloc's own bookkeeping, freed or not, would be in the RSS). A fresh process also
    keeps a measurement from reusing the heap a previous one freed."""
    results = []
    for traced in (True, False):
        command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", kind,
                   str(count)]  # fmt: skip
        command += ["--top"] if top and traced else []
        command += [] if traced else ["--rss-only"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            return MemResult(MEMORY_NAMES[kind], count, unavailable=lines[-1])
        results.append(MemResult(**json.loads(done.stdout.strip().splitlines()[-1])))
    with_tracemalloc, with_rss = results
    with_tracemalloc.rss = with_rss.rss
    with_tracemalloc.seconds = with_rss.seconds
    return with_tracemalloc


def run_memory(options: Options) -> list[MemResult]:
    print(
        "\nMemory per live confirmed dialog, UAS side (INVITE in, 200 out, ACK in; "
        "messages dropped; index included; each line measured in fresh processes)"
    )
    memory = [
        measure_in_child("dialogfsm", n, top=i == 0) for i, n in enumerate(options.dialog_counts)
    ]
    memory.append(measure_in_child("sippy", options.small))
    memory.append(measure_in_child("naive", options.small))
    reference = memory[0].traced if memory[0].name == "dialogfsm" else None
    body = []
    for m in memory:
        if m.unavailable:
            body.append([m.name, f"{m.count:,}", "unavailable", "-", "-", "-"])
            continue
        body.append(
            [
                m.name,
                f"{m.count:,}",
                f"{m.traced:,.0f}",
                "-" if m.rss is None else f"{m.rss:,.0f}",
                _fmt(_ratio(m.traced, reference), "x", 1),
                f"{m.seconds:.1f}",
            ]
        )
    head = ["", "dialogs", "B/dialog tracemalloc", "B/dialog RSS", "vs dialogfsm", "build s"]
    for line in _table(head, body):
        print(line)
    for m in memory:
        if m.memo > 100_000:
            print(
                f"  {m.name} {m.count:,}: dialogfsm's parser memo caches (a fixed cost, left "
                f"out above): {m.memo / 1e6:.1f} MB"
            )
        for check in m.checks:
            print(f"  {m.name} {m.count:,}: {check}")
        if m.unavailable:
            print(f"  {m.name}: unavailable ({m.unavailable})")
    if memory[0].top:
        print(f"\nWhere dialogfsm's kept memory was allocated ({memory[0].count:,} dialogs):")
        for line in memory[0].top:
            print(f"  {line}")
    print(
        "\nOne dialogfsm dialog by sys.getsizeof (objects another dialog also reaches, such as "
        "the Record-Route values, left out):"
    )
    manager = build_dialogfsm(1000, 70_000_000)
    for line in dialog_breakdown(manager):
        print(f"  {line}")
    return memory


def print_profiles(uas_batch: list[UasCall], uac_batch: list[UacCall]) -> None:
    for side, run, count in (
        ("UAS", dialogfsm_uas_pass(uas_manager(), uas_batch), len(uas_batch)),
        ("UAC", dialogfsm_uac_pass(DialogManager(), uac_batch), len(uac_batch)),
    ):
        print(
            f"\ncProfile, dialogfsm {side} lifecycle from bytes, per call (top 10 by own time; "
            "profiling inflates small functions):"
        )
        for line in profile(run, count):
            print(f"  {line}")


def print_targets(
    by_key: dict[str, Row], memory: Sequence[MemResult], overhead: dict[str, float | None]
) -> None:
    print("\nTargets")
    ours = by_key["uas"].micros
    speedup = _ratio(by_key["uas-sippy"].micros, ours)
    with_tm = _ratio(by_key["uas-sippy-tm"].micros, ours)
    print(
        f"  UAS lifecycle from bytes >= {TARGET_SPEEDUP:.0f}x faster than sippy's UA: "
        f"{_fmt(speedup, 'x')}  {_verdict(None if speedup is None else speedup >= 3)}  "
        f"(sippy with its transaction layer: {_fmt(with_tm, 'x')}; UAC side: "
        f"{_fmt(_ratio(by_key['uac-sippy'].micros, by_key['uac'].micros), 'x')})"
    )
    ours_memory = [m for m in memory if m.name == "dialogfsm"]
    for m in ours_memory:
        print(
            f"  <= {TARGET_BYTES} B per live dialog at {m.count:,} dialogs: {m.traced:,.0f} B"
            f"  {_verdict(m.traced <= TARGET_BYTES)}"
        )
    theirs = [m for m in memory if m.name.startswith("sippy") and not m.unavailable]
    if ours_memory and theirs:
        less = theirs[0].traced / ours_memory[0].traced
        print(
            f"  >= {TARGET_MEMORY_RATIO:.0f}x less memory per live call than sippy: {less:.1f}x"
            f"  {_verdict(less >= TARGET_MEMORY_RATIO)}"
        )
    if ours_memory:
        models = max(m.machine_models for m in ours_memory)
        slotted = "__dict__" not in dir(Dialog) and "__dict__" not in dir(DialogState)
        print(
            f"  the state machine adds no per-dialog memory: len(MACHINE.models) = {models} "
            f"after building {ours_memory[-1].count:,} dialogs; Dialog and DialogState "
            f"slotted: {slotted}  {_verdict(models == 0 and slotted)}"
        )
    bare = by_key["bare"].micros
    for side, own in overhead.items():
        print(
            f"  dialogfsm's own overhead per message ({side.upper()}) below one transitions "
            f"trigger ({_fmt(bare)} us): {_fmt(own)} us  "
            f"{_verdict(None if own is None or bare is None else own < bare)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if options.memory_child is not None:
        return memory_child(*options.memory_child, options.top, not options.rss_only)
    try:
        sippy: Sippy | None = load_sippy()
        sippy_error = ""
    except Exception as exc:  # ImportError, or a broken install raising anything else
        sippy, sippy_error = None, f"{type(exc).__name__}: {exc}"
    versions = [
        f"dialogfsm {importlib.metadata.version('dialogfsm')} (this tree)",
        f"transitions {importlib.metadata.version('transitions')}",
        f"sippy {sippy.version}" if sippy else f"sippy unavailable ({sippy_error})",
    ]
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.machine()}; {', '.join(versions)}"
    )
    print(
        f"timeit min of {options.repeat} x ~{options.min_time}s, GC "
        f"{'on' if options.gc else 'off'}; each pass runs {options.calls} distinct calls"
    )
    uas_batch, uac_batch = uas_calls(options.calls), uac_calls(options.calls)
    u, c = uas_batch[0], uac_batch[0]
    print(
        f"UAS receives INVITE {len(u.invite)} B (3 Via, 2 Record-Route, SDP), ACK "
        f"{len(u.ack)} B, BYE {len(u.bye)} B; UAC receives 100 {len(c.trying)} B, 180 "
        f"{len(c.ringing)} B, 200 {len(c.ok)} B (SDP), 200 to BYE {len(c.bye_ok)} B"
    )
    leak = unconfirmed_leak()
    if leak:
        print(f"dialogfsm bug (worked around: UAS managers get max_unconfirmed=2**62): {leak}")

    rows = make_rows(options.calls, sippy, sippy_error, uas_batch, uac_batch)
    by_key = {row.key: row for row in rows}
    bench(rows, repeat=options.repeat, min_time=options.min_time, with_gc=options.gc)
    overhead = print_timing(rows, by_key)
    memory = run_memory(options) if options.memory else []
    if options.profile:
        print_profiles(uas_batch, uac_batch)
    print_targets(by_key, memory, overhead)
    return 0


if __name__ == "__main__":
    sys.exit(main())
