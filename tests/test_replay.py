"""Trace replay: messages in capture order, dialogs and findings out (observer and endpoint).

The flows are made with the same builders a UA uses, then replayed from text files and
from ``Wire`` records with capture times, so the timers (2xx never ACKed) run on the
capture's clock.
"""

from __future__ import annotations

import gc
import json
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pair import BOB_CONTACT, Pair
from test_manager import RR

from dialogfsm import Request, Response, _report, build_request, build_response, parse_message
from dialogfsm._replay import DialogRecord, Finding, Wire, replay_wires
from dialogfsm._report import REPLAY_GC_THRESHOLDS, run_replay
from dialogfsm._results import iter_replay, replay
from dialogfsm.cli import main

ALICE_AT, BOB_AT = "192.0.2.10:5060", "198.51.100.20:5060"
Flow = list[tuple[str, Request | Response]]  # ("A" or "B" sent it, the message)


def call(p: Pair | None = None, *, bye_from: str = "A") -> Flow:
    """INVITE / 180 / 200 / ACK / BYE / 200 through two Record-Route proxies."""
    p = p or Pair()
    inv = p.invite(record_route=RR)
    ringing = p.answer(inv, 180)
    ok = p.answer(inv, 200)
    flow: Flow = [("A", inv), ("B", ringing), ("B", ok)]
    p.alice_sends(inv)
    p.bob_sends(ringing)
    p.bob_sends(ok)
    alice = p.uac.find(ok, sent=False)
    bob = p.uas.find(ok, sent=True)
    assert alice is not None
    assert bob is not None
    ack = alice.ack(ok, via=p.via())
    p.alice_sends(ack)
    flow.append(("A", ack))
    if bye_from == "A":
        bye = alice.request("BYE", via=p.via())
    else:
        bye = bob.request("BYE", via="SIP/2.0/UDP client.biloxi.example.com;branch=z9hG4bKb1")
    flow += [(bye_from, bye), ("B" if bye_from == "A" else "A", build_response(bye, 200))]
    return flow


def wires(flow: Flow, *, step_ns: int = 10_000_000) -> list[Wire]:
    """The flow as a capture between Alice's and Bob's addresses, 10 ms apart."""
    out = []
    for n, (who, message) in enumerate(flow, 1):
        src, dst = (ALICE_AT, BOB_AT) if who == "A" else (BOB_AT, ALICE_AT)
        out.append(Wire(n, 1_700_000_000_000_000_000 + n * step_ns, src, dst, "UDP",
                        parse_message(bytes(message))))  # fmt: skip
    return out


def as_text(flow: Flow, tmp_path: Path, *, lf: bool = False) -> Path:
    """The flow as a plain text file (``lf``: bare LF line ends, as pasted from a log)."""
    text = b"\r\n".join(bytes(m) for _, m in flow)
    if lf:
        text = text.replace(b"\r\n", b"\n")
    path = tmp_path / "flow.txt"
    path.write_bytes(b"# a call, copied from a log\n\n" + text)
    return path


def run(items: list[Wire], **kw: str) -> tuple[list[object], list[Finding]]:
    out = list(replay_wires(iter(items), **kw))  # type: ignore[arg-type]
    return [o for o in out if not isinstance(o, Finding)], [
        o for o in out if isinstance(o, Finding)
    ]


# -- observer and endpoint views ------------------------------------------------------------
def test_observer_rebuilds_both_sides_of_a_call() -> None:
    """Each endpoint's dialog is rebuilt from what it sent and received: Alice's as UAC
    (route set reversed, RFC 3261 12.1.2), Bob's as UAS (12.1.1), both early, confirmed,
    terminated, with the packet that moved each."""
    result = replay_result(wires(call()))
    assert [(d.endpoint, d.role) for d in result] == [(ALICE_AT, "uac"), (BOB_AT, "uas")]
    for record in result:
        assert record.states == ["early", "confirmed", "terminated"]
        assert [t.packet for t in record.transitions] == [2, 3, 5]
        assert [t.message for t in record.transitions] == ["180 Ringing", "200 OK", "BYE"]
    alice, bob = (r.state for r in result)
    assert [str(r.uri) for r in alice.route_set] == [
        "sip:p1.atlanta.example.com;lr", "sip:p2.biloxi.example.com;lr",
    ]  # fmt: skip
    assert alice.route_set == tuple(reversed(bob.route_set))
    assert (alice.local_seq, alice.remote_seq) == (2, None)
    assert (bob.local_seq, bob.remote_seq) == (None, 2)


def replay_result(items: list[Wire], **kw: str) -> list:  # type: ignore[type-arg]
    records, findings = run(items, **kw)
    assert findings == []
    return records


def test_as_one_endpoint_only_its_dialogs() -> None:
    """``as_endpoint``: messages from that address are sent, to it received; others are
    not its business."""
    records = replay_result(wires(call()), as_endpoint=BOB_AT)
    assert [(d.endpoint, d.role) for d in records] == [(BOB_AT, "uas")]


def test_text_files_replay_like_captures(tmp_path: Path) -> None:
    """Plain text: the side that sent a Call-ID's first request is A; LF line ends (text
    pasted from a log) read as CRLF."""
    for lf in (False, True):
        result = replay(as_text(call(), tmp_path, lf=lf))
        assert result.source == "text"
        assert result.sip_messages == 6
        assert [(d.endpoint, d.role, d.states) for d in result.dialogs] == [
            ("A", "uac", ["early", "confirmed", "terminated"]),
            ("B", "uas", ["early", "confirmed", "terminated"]),
        ]
        assert result.findings == []


# -- findings -------------------------------------------------------------------------------
def test_lower_remote_cseq_is_a_finding() -> None:
    """RFC 3261 12.2.2: a request below the remote sequence number is flagged at the
    receiver (and RFC 3261 12.2.1.1 at the sender that reused an old number); the replay
    goes on, and the BYE after it still ends both dialogs."""
    flow = call()
    inv, ok = flow[0][1], flow[2][1]
    assert isinstance(inv, Request)
    stale = build_request(
        "INFO", str(BOB_CONTACT.strip("<>")), call_id=inv.call_id, from_=str(inv.from_),
        to=str(ok.to), cseq=0, via="SIP/2.0/UDP client.atlanta.example.com;branch=z9hG4bKs",
    )  # fmt: skip
    items = wires([*flow[:4], ("A", stale), *flow[4:]])
    records, findings = run(items)
    assert [(f.rfc, f.packet, f.endpoint) for f in findings] == [
        ("RFC 3261 12.2.1.1", 5, ALICE_AT), ("RFC 3261 12.2.2", 5, ALICE_AT),
    ]  # fmt: skip
    assert "lower remote CSeq" in findings[1].text
    assert len(records) == 2


def test_bye_from_the_callee_on_an_early_dialog_is_a_finding() -> None:
    """RFC 3261 15: only the caller may send BYE on an early dialog."""
    p = Pair()
    inv = p.invite()
    ringing = p.answer(inv, 180)
    p.alice_sends(inv)
    p.bob_sends(ringing)
    bob = p.uas.find(ringing, sent=True)
    assert bob is not None
    bye = bob.request("BYE", via="SIP/2.0/UDP client.biloxi.example.com;branch=z9hG4bKe")
    _, findings = run(wires([("A", inv), ("B", ringing), ("B", bye)]))
    assert [(f.rfc, f.packet, f.endpoint) for f in findings] == [("RFC 3261 15", 3, BOB_AT)]


def test_ack_to_the_wrong_target_is_a_finding() -> None:
    """RFC 3261 12.2.1.1: the ACK for a 2xx goes to the remote target through the route
    set; one sent straight to the first proxy's address without Route is flagged twice."""
    flow = call()
    ack = flow[3][1]
    assert isinstance(ack, Request)
    wrong = build_request(
        "ACK", "sip:p1.atlanta.example.com", call_id=ack.call_id, from_=str(ack.from_),
        to=str(ack.to), cseq=ack.cseq.number, via=str(ack.via[0]),
    )  # fmt: skip
    _, findings = run(wires([*flow[:3], ("A", wrong), *flow[4:]]))
    assert [f.rfc for f in findings] == ["RFC 3261 12.2.1.1", "RFC 3261 12.2.1.1"]
    assert "Request-URI" in findings[0].text
    assert "Route" in findings[1].text


def test_request_in_a_terminated_dialog_is_a_finding() -> None:
    """RFC 3261 12.2.2: a request after the dialog ended gets 481, and is flagged; one of
    a dialog that began before the capture is not."""
    flow = call()
    bye = flow[4][1]
    assert isinstance(bye, Request)
    late = build_request(
        "INFO", str(bye.uri), call_id=bye.call_id, from_=str(bye.from_), to=str(bye.to),
        cseq=bye.cseq.number + 1, via=str(bye.via[0]), route=[str(r) for r in bye.route],
    )  # fmt: skip
    _, findings = run(wires([*flow, ("A", late)]))
    assert [(f.rfc, f.packet) for f in findings] == [("RFC 3261 12.2.2", 7)]
    assert "terminated dialog" in findings[0].text
    _, findings = run(wires([("A", late)]))
    assert findings == []


def test_2xx_never_acked_is_a_finding_on_the_capture_clock() -> None:
    """RFC 3261 13.3.1.4: the UAS gives up 64*T1 after its 2xx; a capture that goes on
    past that without an ACK shows it."""
    flow = call()
    items = wires(flow[:3])
    later = wires([("A", flow[0][1])], step_ns=0)[0]  # an INVITE retransmission, 40 s on
    items.append(Wire(4, items[-1].time_ns + 40_000_000_000, ALICE_AT, BOB_AT, "UDP",
                      later.message))  # fmt: skip
    _, findings = run(items)
    assert [f.rfc for f in findings] == ["RFC 3261 13.3.1.4"]
    assert findings[0].endpoint == BOB_AT
    assert findings[0].packet is None  # a timer found it


def test_unparseable_messages_are_findings_with_the_parse_error(tmp_path: Path) -> None:
    """A message that does not parse is reported with the parser's reason and where it
    was; the messages around it replay as usual."""
    flow = call()
    text = as_text(flow, tmp_path).read_bytes()
    broken = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: nonsense\r\n\r\n"
    path = tmp_path / "broken.txt"
    path.write_bytes(broken + b"\r\n" + text)
    result = replay(path)
    assert [f.packet for f in result.findings] == [1]
    assert "Via" in result.findings[0].text
    assert len(result.dialogs) == 2


def _tcp_pcap(path: Path, segments: list[tuple[str, str, int, int, bytes]]) -> Path:
    """A classic pcap (raw IPv4, LINKTYPE_RAW) of ``(src, dst, seq, flags, data)`` TCP
    segments, ``ip:port`` each, numbered from 1 and 10 ms apart."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]
    for n, (src, dst, seq, flags, data) in enumerate(segments):
        (src_ip, sport), (dst_ip, dport) = (a.split(":") for a in (src, dst))
        tcp = struct.pack("!HHIIBBHHH", int(sport), int(dport), seq, 0, 0x50, flags, 65535,
                          0, 0) + data  # fmt: skip
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), n, 0, 64, 6, 0,
                         socket.inet_aton(src_ip), socket.inet_aton(dst_ip)) + tcp  # fmt: skip
        out.append(struct.pack("<IIII", 1_700_000_000, n * 10_000, len(ip), len(ip)) + ip)
    path.write_bytes(b"".join(out))
    return path


def test_a_tcp_stream_that_ends_inside_a_message_is_a_finding(tmp_path: Path) -> None:
    """RFC 3261 18.3: on TCP a message is whole only when its Content-Length bytes came. A
    stream cut inside one, by its FIN or by the end of the capture, is reported as an
    unparseable message at the packet where the stream ended; what came whole replays."""
    flow = call()
    invite, ringing = bytes(flow[0][1]), bytes(flow[1][1])
    syn, fin, psh = 0x02, 0x11, 0x18
    path = _tcp_pcap(tmp_path / "cut.pcap", [
        (ALICE_AT, BOB_AT, 1000, syn, b""),
        (ALICE_AT, BOB_AT, 1001, psh, invite),  # whole
        (BOB_AT, ALICE_AT, 5000, syn, b""),
        (BOB_AT, ALICE_AT, 5001, psh, ringing),  # whole
        (ALICE_AT, BOB_AT, 1001 + len(invite), psh, invite[:50]),  # a second INVITE, cut...
        (ALICE_AT, BOB_AT, 1051 + len(invite), fin, b""),  # ... by Alice's FIN
        (BOB_AT, ALICE_AT, 5001 + len(ringing), psh, ringing[:-30]),  # cut by the capture's end
    ])  # fmt: skip
    result = replay(path)
    cut = [(f.packet, f.rfc, f.endpoint) for f in result.findings if "stream ended" in f.text]
    assert cut == [(6, "RFC 3261 7", ALICE_AT), (7, "RFC 3261 7", BOB_AT)]
    assert "the stream ended 50 bytes into a message ('INVITE sip:" in result.findings[0].text
    assert [d.states for d in result.dialogs] == [["early"], ["early"]]  # the whole ones
    assert result.sip_messages == 4  # two whole, two cut


def test_proxies_are_not_endpoints() -> None:
    """A proxy forwards requests with its own Via on top (RFC 3261 16.6): it has no dialogs
    of its own, and the UAs on both legs keep theirs."""
    flow = call()
    proxy = "203.0.113.5:5060"
    items: list[Wire] = []
    n = 0
    for who, message in flow:
        hop = f"SIP/2.0/UDP p1.atlanta.example.com;branch=z9hG4bKp{n}"
        # the proxy's Via on top: a request it forwards, or a response on its way back
        on_top = f"Via: {hop}\r\nVia: ".encode()
        forwarded = parse_message(bytes(message).replace(b"Via: ", on_top, 1))
        src, dst = (ALICE_AT, BOB_AT) if who == "A" else (BOB_AT, ALICE_AT)
        t = 1_700_000_000_000_000_000 + n * 10_000_000
        if isinstance(message, Request):  # A -> P (one Via), P -> B (two Vias)
            items += [Wire(n + 1, t, src, proxy, "UDP", message),
                      Wire(n + 2, t + 1, proxy, dst, "UDP", forwarded)]  # fmt: skip
        else:  # B -> P (two Vias), P -> A (one Via)
            items += [Wire(n + 1, t, src, proxy, "UDP", forwarded),
                      Wire(n + 2, t + 1, proxy, dst, "UDP", message)]  # fmt: skip
        n += 2
    records, findings = run(items)
    assert findings == []
    assert sorted(r.endpoint for r in records) == [ALICE_AT, BOB_AT]  # type: ignore[attr-defined]


# -- outputs ----------------------------------------------------------------------------------
def test_json_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``dialogfsm replay FILE --json`` writes the documented, versioned layout."""
    path = as_text(call(), tmp_path)
    assert main(["replay", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1
    assert (data["packets"], data["sip_messages"], data["skipped"]) == (6, 6, 0)
    assert data["findings"] == []
    dialog = data["dialogs"][0]
    assert set(dialog) == {
        "call_id", "local_tag", "remote_tag", "role", "endpoint", "states", "transitions",
        "local_seq", "remote_seq", "local_uri", "remote_uri", "remote_target", "route_set",
        "secure",
    }  # fmt: skip
    assert dialog["states"] == ["early", "confirmed", "terminated"]
    assert set(dialog["transitions"][0]) == {"state", "time", "packet", "message"}
    assert dialog["transitions"][0]["time"] == "0.002000000"  # 1 ms apart, exact
    assert dialog["route_set"] == [
        "<sip:p1.atlanta.example.com;lr>",
        "<sip:p2.biloxi.example.com;lr>",
    ]


def test_collector_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ``replay`` command replays with the collector tuned for a big live heap and puts
    the caller's thresholds back; the library (``run_replay``) never touches them."""
    path = as_text(call(), tmp_path)
    seen: list[tuple[int, ...]] = []
    real = iter_replay

    def watched(*args: Any, **kwargs: Any) -> Iterator[DialogRecord | Finding]:
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(_report, "iter_replay", watched)
    before = gc.get_threshold()
    assert before != REPLAY_GC_THRESHOLDS
    assert main(["replay", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dialogs"]
    assert seen == [REPLAY_GC_THRESHOLDS]
    assert gc.get_threshold() == before
    report = run_replay(path, as_endpoint=None, jobs=1, progress=False)
    assert len(report.dialogs) == 2
    assert seen[1:] == [before]


def test_terminal_table_and_strict_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table lists each dialog's path; ``--strict`` turns findings into exit status 1."""
    flow = call(bye_from="B")  # the callee hangs up: fine
    path = as_text(flow, tmp_path)
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert "early → confirmed → terminated" in out
    assert "2 dialogs" in out
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"OPTIONS sip:x SIP/2.0\r\nVia: ?\r\n\r\n")
    assert main(["replay", str(broken)]) == 0
    assert main(["replay", str(broken), "--strict"]) == 1
