"""Replays of the SIPp captures with their calls broken on purpose: findings, never a crash.

Each example takes one bundled capture and edits it the way real traffic goes wrong:
messages lost, repeated or reordered, methods, CSeqs, status codes and tags changed,
Contacts dropped, Record-Route, Via, 100rel or Subscription-State headers added. The replay
must run to the end in observer mode and as the capture's first sender, handing out only
dialogs and findings ("Findings never stop a replay"), and every finding must name an RFC
section and a packet of the trace.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import BASE

from dialogfsm import ParseError, parse_message
from dialogfsm._replay import DialogRecord, Finding, Wire, replay_wires
from dialogfsm._sources import SourceCounts, open_source

SIPP = Path(__file__).parent / "data" / "sipp"
TRACES = sorted(
    [p for p in SIPP.glob("*.pcap*") if p.suffix in (".pcap", ".pcapng")]
    + list(SIPP.glob("*.msg.log"))
)


def _wires(path: Path) -> list[Wire]:
    return [w for w in open_source(path, SourceCounts()) if w.message is not None]


WIRES = {path.name: _wires(path) for path in TRACES}


def _replace(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    return lambda text: text.replace(old, new, 1)


def _add(header: bytes) -> Callable[[bytes], bytes]:
    return lambda text: text.replace(b"\r\n\r\n", b"\r\n" + header + b"\r\n\r\n", 1)


EDITS: list[Callable[[bytes], bytes]] = [
    _replace(b"CSeq: 1 ", b"CSeq: 3 "),
    _replace(b"CSeq: 2 ", b"CSeq: 1 "),
    _replace(b"CSeq: 2 ", b"CSeq: 0 "),  # lower than the INVITE's
    _replace(b"INVITE\r\n", b"BYE\r\n"),
    _replace(b"BYE\r\n", b"INVITE\r\n"),
    _replace(b"ACK\r\n", b"PRACK\r\n"),
    _replace(b"SIP/2.0 200", b"SIP/2.0 180"),
    _replace(b"SIP/2.0 180", b"SIP/2.0 200"),
    _replace(b"SIP/2.0 200", b"SIP/2.0 481"),
    _replace(b"SIP/2.0 200", b"SIP/2.0 408"),
    _replace(b"SIP/2.0 200", b"SIP/2.0 199"),
    _replace(b";tag=", b";tag=x"),
    _replace(b"Contact:", b"X-Contact:"),
    _replace(b"Call-ID: ", b"Call-ID: z"),
    _replace(b"INVITE sip:", b"UPDATE sip:"),
    _replace(b"CSeq: 1 INVITE", b"CSeq: 1 SUBSCRIBE"),
    _replace(b"CSeq: 2 BYE", b"CSeq: 2 NOTIFY"),
    _add(b"Record-Route: <sip:p.example.com;lr>"),
    _add(b"Require: 100rel\r\nRSeq: 1"),
    _add(b"Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKextra"),
    _add(b"Event: refer\r\nSubscription-State: terminated"),
]


ORDER = ["early", "confirmed", "terminated"]


@st.composite
def broken_traces(draw: st.DrawFn) -> list[Wire]:
    # the choices come from one seeded Random: uniform over messages and edits, where
    # hypothesis's own integers lean to the first message and the first edit
    rnd = draw(st.randoms(use_true_random=False))
    wires = list(WIRES[rnd.choice(sorted(WIRES))])
    for _ in range(rnd.randint(1, 6)):
        i = rnd.randrange(len(wires))
        how = rnd.choice(["repeat", "lose", "swap", "edit", "edit", "edit"])
        wire = wires[i]
        if how == "repeat":
            wires.insert(i, wire)
        elif how == "lose" and len(wires) > 1:
            del wires[i]
        elif how == "swap" and i + 1 < len(wires):
            wires[i], wires[i + 1] = wires[i + 1], wires[i]
        elif how == "edit" and wire.message is not None:
            text = bytes(wire.message)
            edits = [edited for edited in (edit(text) for edit in EDITS) if edited != text]
            edited = rnd.choice(edits)  # every message has some that apply
            try:
                message = parse_message(edited)
            except ParseError as err:
                wires[i] = Wire(wire.packet, wire.time_ns, wire.src, wire.dst, "UDP", None, err)
            else:
                wires[i] = Wire(wire.packet, wire.time_ns, wire.src, wire.dst, "UDP", message)
    # renumbered, and 1 ms apart, so packets and times stay in capture order
    start = wires[0].time_ns
    return [
        Wire(n, start + n * 1_000_000, w.src, w.dst, w.transport, w.message, w.error)
        for n, w in enumerate(wires, 1)
    ]


@settings(BASE, max_examples=400)
@given(broken_traces())
def test_broken_calls_give_findings_not_crashes(wires: list[Wire]) -> None:
    """RFC-breaking traffic is reported and the replay goes on, in both replay modes."""
    for as_endpoint in (None, wires[0].src):
        items = list(replay_wires(iter(wires), as_endpoint=as_endpoint))
        assert all(isinstance(item, DialogRecord | Finding) for item in items)
        for finding in (i for i in items if isinstance(i, Finding)):
            assert finding.rfc.startswith("RFC "), finding
            assert finding.packet is None or 1 <= finding.packet <= len(wires), finding
        for record in (i for i in items if isinstance(i, DialogRecord)):
            # states only move forward: none -> early -> confirmed -> terminated
            steps = [ORDER.index(state) for state in record.states]
            assert steps, record
            assert steps == sorted(set(steps)), record.states


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_every_trace_has_messages_to_break(path: Path) -> None:
    """The mutations above start from real calls: each bundled trace has SIP messages."""
    assert len(WIRES[path.name]) >= 4
