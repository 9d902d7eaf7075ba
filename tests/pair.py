"""A UAC manager and a UAS manager joined in memory: what one sends, the other receives.

Every message crosses as bytes (``bytes(msg)`` then ``parse_message``), the way it would on
a wire, optionally through proxies that add Record-Route. ``agree()`` asserts that both
sides hold mirror images of the same dialog.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TypeVar

import attrs

from dialogfsm import (
    Dialog,
    DialogEvent,
    DialogId,
    DialogManager,
    NameAddr,
    Request,
    Response,
    State,
    build_request,
    build_response,
    parse_message,
)

ALICE = "sip:alice@atlanta.example.com"
BOB = "sip:bob@biloxi.example.com"
ALICE_CONTACT = "<sip:alice@client.atlanta.example.com;transport=udp>"
BOB_CONTACT = "<sip:bob@client.biloxi.example.com;transport=udp>"
SDP = b"v=0\r\no=- 1 1 IN IP4 192.0.2.101\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\n"

_branches = itertools.count(1)


def branch() -> str:
    """A fresh RFC 3261 branch (magic cookie first)."""
    return f"z9hG4bK{next(_branches):08x}"


def wire(message: Request | Response) -> Request | Response:
    """``message`` as the peer parses it from the wire."""
    return parse_message(bytes(message))


@attrs.define
class Pair:
    """Alice's UAC manager and Bob's UAS manager, and a shared fake clock."""

    uac: DialogManager = attrs.field(factory=DialogManager)
    uas: DialogManager = attrs.field(factory=DialogManager)
    now: float = 0.0
    transport: str = "UDP"
    alice_via: str = "client.atlanta.example.com:5060"

    def via(self) -> str:
        return f"SIP/2.0/{self.transport} {self.alice_via};branch={branch()}"

    def invite(
        self,
        *,
        call_id: str = "3848276298220188511@atlanta.example.com",
        from_tag: str = "9fxced76sl",
        uri: str = BOB,
        cseq: int = 1,
        route: Sequence[str] = (),
        record_route: Sequence[str] = (),
        contact: str = ALICE_CONTACT,
    ) -> Request:
        """Alice's INVITE as it reaches Bob: ``record_route`` is what proxies on the way
        added (nearest to Bob first)."""
        return build_request(
            "INVITE", uri, call_id=call_id, from_=f"Alice <{ALICE}>;tag={from_tag}",
            to=f"Bob <{BOB}>", cseq=cseq, via=self.via(), contact=contact, route=route,
            headers=[("Record-Route", r) for r in record_route],
            body=SDP, content_type="application/sdp",
        )  # fmt: skip

    def answer(
        self,
        request: Request,
        code: int,
        *,
        to_tag: str | None = "8321234356",
        contact: str | None = BOB_CONTACT,
        record_route: Sequence[str] | None = None,
    ) -> Response:
        """Bob's response to ``request``; ``record_route`` overrides the copied one (what a
        proxy path changed between forks)."""
        response = build_response(
            request, code, to_tag=to_tag if code != 100 else None,
            contact=contact if contact is not None and code != 100 else (),
        )  # fmt: skip
        if record_route is not None:
            items = [(n, v) for n, v in response.headers if n != "Record-Route"]
            items[1:1] = [("Record-Route", r) for r in record_route]
            response = parse_message(_with_headers(response, items))  # type: ignore[assignment]
        return response

    # -- moving messages between the two sides -------------------------------------------
    def alice_sends(self, message: Request | Response) -> tuple[list[DialogEvent], ...]:
        """Alice's manager sends ``message``; Bob's receives what the wire carries."""
        sent = self.uac.send(message, now=self.now)
        return sent, self.uas.receive(wire(message), now=self.now)

    def bob_sends(self, message: Request | Response) -> tuple[list[DialogEvent], ...]:
        """Bob's manager sends ``message``; Alice's receives what the wire carries."""
        sent = self.uas.send(message, now=self.now)
        return sent, self.uac.receive(wire(message), now=self.now)

    def dialogs(self, uac_id: DialogId) -> tuple[Dialog, Dialog]:
        """The dialog ``uac_id`` names on Alice's side and its mirror on Bob's."""
        alice = self.uac.get(uac_id)
        bob = self.uas.get(DialogId(uac_id.call_id, uac_id.remote_tag, uac_id.local_tag))
        assert alice is not None, f"Alice has no dialog {uac_id}"
        assert bob is not None, f"Bob has no dialog mirroring {uac_id}"
        return alice, bob

    def agree(self, uac_id: DialogId) -> tuple[Dialog, Dialog]:
        """Assert that both sides hold the same dialog, seen from either end."""
        alice, bob = self.dialogs(uac_id)
        a, b = alice.dialog_state, bob.dialog_state
        assert alice.state is bob.state
        assert alice.caller
        assert not bob.caller
        assert (a.call_id, a.local_tag, a.remote_tag) == (b.call_id, b.remote_tag, b.local_tag)
        assert a.id == (a.call_id, a.local_tag, a.remote_tag)
        assert b.id == (b.call_id, b.local_tag, b.remote_tag)
        assert (a.local_uri, a.remote_uri) == (b.remote_uri, b.local_uri)
        assert a.local_seq == b.remote_seq
        assert a.remote_seq == b.local_seq
        assert a.route_set == tuple(reversed(b.route_set))
        assert a.secure == b.secure
        assert a.early == b.early == (alice.state is State.EARLY)
        return alice, bob


def _with_headers(response: Response, items: list[tuple[str, str]]) -> bytes:
    head = "".join(f"{n}: {v}\r\n" for n, v in items)
    return f"SIP/2.0 {response.status_code} {response.reason}\r\n{head}\r\n".encode() + (
        response.body
    )


def name_addrs(values: Sequence[str]) -> tuple[NameAddr, ...]:
    """Parse Record-Route/Route values as a test writes them."""
    return tuple(NameAddr.parse(v) for v in values)


E = TypeVar("E")


def kinds(events: Sequence[DialogEvent]) -> list[type]:
    """The types of ``events``, in order."""
    return [type(e) for e in events]


def of(kind: type[E], event: DialogEvent) -> E:
    """``event``, checked to be a ``kind``."""
    assert isinstance(event, kind), event
    return event
