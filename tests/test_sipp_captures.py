"""Replays of real SIPp runs (tests/data/sipp, made by scripts/make_sipp_captures.sh): the
dialogs and states each flow implies, seen by an observer and by each endpoint, and one
fresh SIPp call captured and replayed on the spot.

Tags, Call-IDs and times change when the captures are regenerated; the flows do not, so the
tests assert roles, states, sequence numbers, targets and route sets.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import jsonschema
import pytest
from tools import need, stop

import dialogfsm
import dialogfsm._report as report_module
from dialogfsm import DialogRecord, ReplayResult, replay
from dialogfsm.cli import main
from dialogfsm.pytest_plugin import assert_dialogs, assert_no_findings, dialog_lines

SIPP = Path(__file__).parent / "data" / "sipp"
CALL = "early > confirmed > terminated"


def endpoints(result: ReplayResult, endpoint: str) -> list[DialogRecord]:
    return [d for d in result.dialogs if d.endpoint == endpoint]


def test_uac_uas_observer() -> None:
    """SIPp's built-in uac and uas, three calls on odd ports (SIP recognised by content):
    each call is a dialog at both ends, early on 180, confirmed on 200, ended by BYE."""
    result = replay(SIPP / "uac-uas.pcap")
    assert (result.source, result.packets, result.sip_messages, result.skipped) == (
        "capture", 18, 18, 0,
    )  # fmt: skip
    assert_dialogs(result, [f"127.0.0.1:5071 uac: {CALL}", f"127.0.0.1:5072 uas: {CALL}"] * 3,
                   fields=("endpoint", "role"))  # fmt: skip
    for record in result.dialogs:
        assert [t.message for t in record.transitions] == ["180 Ringing", "200 OK", "BYE"]
    # the built-in UAC sends ACK and BYE to the INVITE's Request-URI, not to the 200's
    # Contact: a real RFC 3261 12.2.1.1 violation, found on each of them
    assert {f.rfc for f in result.findings} == {"RFC 3261 12.2.1.1"}
    assert [f.packet for f in result.findings] == [4, 5, 10, 11, 16, 17]
    assert all("sip:service@127.0.0.1:5072" in f.text for f in result.findings)


def test_uac_uas_as_each_endpoint() -> None:
    """As one endpoint, only that UA's dialogs, rebuilt from its own sends and receives."""
    uac = replay(SIPP / "uac-uas.pcap", as_endpoint="127.0.0.1:5071")
    assert_dialogs(uac, [f"uac: {CALL}"] * 3)
    for record in uac.dialogs:
        state = record.state
        assert (state.local_seq, state.remote_seq) == (2, None)  # INVITE 1, BYE 2
        assert str(state.remote_target) == "sip:127.0.0.1:5072;transport=UDP"
        assert state.route_set == ()
        assert str(state.local_uri) == "sip:sipp@127.0.0.1:5071"
    uas = replay(SIPP / "uac-uas.pcap", as_endpoint="127.0.0.1:5072")
    assert_dialogs(uas, [f"uas: {CALL}"] * 3)
    for record in uas.dialogs:
        state = record.state
        assert (state.local_seq, state.remote_seq) == (None, 2)
        assert str(state.remote_target) == "sip:sipp@127.0.0.1:5071"
    assert uas.findings == []  # the UAC's mistakes are not the UAS's


def test_busy_makes_no_dialog() -> None:
    """RFC 3261 12.1: a 486 is a failure: no dialog; the ACK of the non-2xx is hop by hop."""
    result = replay(SIPP / "busy.pcap")
    assert_dialogs(result, [])
    assert_no_findings(result)
    assert result.sip_messages == 8


def test_cancel_ends_the_early_dialogs() -> None:
    """RFC 3261 9, 12.3: CANCEL, then 487 ends the early dialog at both ends."""
    result = replay(SIPP / "cancel.pcap")
    assert_dialogs(result, ["uas: early > terminated", "uac: early > terminated"] * 2)
    assert_no_findings(result)
    for record in result.dialogs:
        assert record.transitions[-1].message == "487 Request Terminated"


def test_forking() -> None:
    """RFC 3261 13.2.2.4: two early dialogs (To tags forkA, forkB) for one INVITE; the 2xx
    confirms forkA, forkB stays early at the UAC (the capture ends before 64*T1), while
    the UAS, whose final response closes its set, ends forkB."""
    result = replay(SIPP / "forking.pcap")
    assert_no_findings(result)
    uac = endpoints(result, "127.0.0.1:5077")
    assert sorted((d.state.remote_tag, d.states[-1]) for d in uac) == [
        ("forkA", "terminated"), ("forkB", "early"),
    ]  # fmt: skip
    by_tag = {d.state.remote_tag: d for d in uac}
    assert by_tag["forkA"].states == ["early", "confirmed", "terminated"]
    assert str(by_tag["forkA"].state.remote_target) == "sip:fork-a@127.0.0.1:5078;transport=UDP"
    assert str(by_tag["forkB"].state.remote_target) == "sip:fork-b@127.0.0.1:5078;transport=UDP"
    uas = endpoints(result, "127.0.0.1:5078")
    assert sorted((d.state.local_tag, d.states) for d in uas) == [
        ("forkA", ["early", "confirmed", "terminated"]), ("forkB", ["early", "terminated"]),
    ]  # fmt: skip


def test_reinvite_with_route_set_and_new_contact() -> None:
    """RFC 3261 12.1.1, 12.1.2, 12.2: the route set from Record-Route (reversed at the
    UAC), the UAS's re-INVITE with a new Contact refreshes the UAC's remote target, and the
    BYE goes there through the route set."""
    result = replay(SIPP / "reinvite.pcap")
    assert_no_findings(result)
    assert_dialogs(result, [f"uac: {CALL}", f"uas: {CALL}"])
    uac, uas = (d.state for d in result.dialogs)
    assert [str(r.uri) for r in uac.route_set] == ["sip:127.0.0.1:5080;lr", "sip:127.0.0.1:5079;lr"]
    assert uac.route_set == tuple(reversed(uas.route_set))
    assert str(uac.remote_target) == "sip:uas-moved@127.0.0.1:5080"
    assert (uac.local_seq, uac.remote_seq) == (2, 1)
    assert (uas.local_seq, uas.remote_seq) == (1, 2)


def test_tcp_stream_reassembled_and_framed() -> None:
    """Two calls over one TCP connection; each INVITE spans three segments (RFC 3261 18.3:
    framed by Content-Length)."""
    result = replay(SIPP / "tcp.pcap")
    assert result.sip_messages == 12
    assert_dialogs(result, [f"uac: {CALL}", f"uas: {CALL}"] * 2)
    assert all(str(d.state.remote_target).endswith("transport=TCP")
               for d in result.dialogs if d.role == "uac")  # fmt: skip


def test_pcapng_two_interfaces_each_frame_once() -> None:
    """A pcapng with lo (Ethernet) and any (Linux cooked v2) and nanosecond times: each
    frame is on both interfaces; the copy is dropped, the calls replay once."""
    result = replay(SIPP / "uac-uas.pcapng")
    assert (result.packets, result.sip_messages) == (24, 12)
    assert_dialogs(result, [f"uac: {CALL}", f"uas: {CALL}"] * 2)
    times = [t.time_ns for d in result.dialogs for t in d.transitions]
    assert any(t % 1000 for t in times)  # nanoseconds kept, not rounded to microseconds


@pytest.mark.parametrize(
    ("log", "lines"),
    [
        ("uac-uas.uac.msg.log", [f"sipp uac: {CALL}", f"peer uas: {CALL}"] * 3),
        ("uac-uas.uas.msg.log", [f"peer uac: {CALL}", f"sipp uas: {CALL}"] * 3),
    ],
)
def test_sipp_message_logs(log: str, lines: list[str]) -> None:
    """SIPp's -trace_msg logs: no addresses, two header formats (sent, received); the side
    that wrote the log is ``sipp``."""
    result = replay(SIPP / log)
    assert result.source == "sipp-log"
    assert result.sip_messages == 18
    assert dialog_lines(result, ("endpoint", "role")) == lines
    as_sipp = replay(SIPP / log, as_endpoint="sipp")
    assert len(as_sipp.dialogs) == 3


def test_sipp_log_and_capture_agree() -> None:
    """The UAC's log and the capture of the same run give the UAC the same dialogs."""
    from_log = replay(SIPP / "uac-uas.uac.msg.log", as_endpoint="sipp")
    from_capture = replay(SIPP / "uac-uas.pcap", as_endpoint="127.0.0.1:5071")
    for a, b in zip(from_log.dialogs, from_capture.dialogs, strict=True):
        assert a.id == b.id
        assert a.states == b.states
        assert (a.state.local_seq, a.state.remote_target) == (b.state.local_seq,
                                                               b.state.remote_target)  # fmt: skip


# -- a fresh call ---------------------------------------------------------------------------
def test_a_fresh_sipp_call_captured_and_replayed(tmp_path: Path) -> None:
    """SIPp uas and uac on loopback now, captured with dumpcap, replayed: one dialog at
    each end, early, confirmed, terminated. Every process started here is stopped here."""
    sipp, dumpcap = need("sipp"), need("dumpcap")
    pcap = tmp_path / "fresh.pcap"
    ports = (5191, 5192)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        capture = subprocess.Popen(
            [dumpcap, "-q", "-i", "lo", "-P", "-w", str(pcap), "-f", f"udp port {ports[1]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        procs.append(capture)
        deadline = time.monotonic() + 10
        while not pcap.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        common = ["-i", "127.0.0.1", "-nostdin", "-timeout", "15s", "-timeout_error",
                  "-m", "1", "-ci", "127.0.0.1"]  # fmt: skip
        uas = subprocess.Popen(
            [sipp, "-sn", "uas", "-p", str(ports[1]), "-cp", "8937", *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
        )  # fmt: skip
        procs.append(uas)
        time.sleep(0.3)
        uac = subprocess.run(
            [sipp, "-sn", "uac", "-p", str(ports[0]), "-cp", "8938", *common,
             f"127.0.0.1:{ports[1]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, timeout=30,
            check=False,
        )  # fmt: skip
        assert uac.returncode == 0, "SIPp's uac reported a failed call"
        assert uas.wait(timeout=20) == 0
        time.sleep(0.3)
    finally:
        for proc in procs:
            stop(proc)
    result = replay(pcap)
    assert_dialogs(result, [f"127.0.0.1:{ports[0]} uac: {CALL}",
                            f"127.0.0.1:{ports[1]} uas: {CALL}"],
                   fields=("endpoint", "role"))  # fmt: skip


@pytest.mark.parametrize(
    "name", ["uac-uas.pcap", "forking.pcap", "tcp.pcap", "uac-uas.uac.msg.log"]
)
def test_jobs_give_identical_results(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``--jobs N`` shares the calls out by Call-ID across processes: the report is the
    same, byte for byte, as in one process."""
    assert main(["replay", str(SIPP / name), "--json"]) == 0
    alone = capsys.readouterr().out
    assert main(["replay", str(SIPP / name), "--json", "--jobs", "3"]) == 0
    shared = capsys.readouterr().out
    assert shared == alone
    assert '"dialogs": [{' in alone


ENDPOINTS = {
    "uac-uas.pcap": ("127.0.0.1:5071", "127.0.0.1:5072", [CALL] * 3, [CALL] * 3),
    "busy.pcap": ("127.0.0.1:5073", "127.0.0.1:5074", [], []),
    "cancel.pcap": ("127.0.0.1:5075", "127.0.0.1:5076", ["early > terminated"] * 2,
                    ["early > terminated"] * 2),
    "forking.pcap": ("127.0.0.1:5077", "127.0.0.1:5078", [CALL, "early"],
                     [CALL, "early > terminated"]),
    "reinvite.pcap": ("127.0.0.1:5079", "127.0.0.1:5080", [CALL], [CALL]),
    "tcp.pcap": ("127.0.0.1:5081", "127.0.0.1:5082", [CALL] * 2, [CALL] * 2),
    "uac-uas.pcapng": ("127.0.0.1:5071", "127.0.0.1:5072", [CALL] * 2, [CALL] * 2),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_each_endpoint_alone_matches_the_observer(name: str) -> None:
    """As each endpoint in turn (``--as``), a capture gives that UA the dialogs the flow
    implies, with the same records the observer built for it."""
    uac_at, uas_at, uac_paths, uas_paths = ENDPOINTS[name]
    observed = replay(SIPP / name)
    for at, role, paths in ((uac_at, "uac", uac_paths), (uas_at, "uas", uas_paths)):
        alone = replay(SIPP / name, as_endpoint=at)
        assert sorted(dialog_lines(alone)) == sorted(f"{role}: {p}" for p in paths)
        mine = endpoints(observed, at)
        assert [d.id for d in alone.dialogs] == [d.id for d in mine]
        for a, b in zip(alone.dialogs, mine, strict=True):
            assert a.states == b.states
            sa, sb = a.state, b.state
            assert (sa.local_seq, sa.remote_seq, sa.remote_target, sa.route_set) == (
                sb.local_seq, sb.remote_seq, sb.remote_target, sb.route_set,
            )  # fmt: skip


SCHEMA = json.loads((Path(dialogfsm.__file__).parent / "schema" / "replay-v1.json").read_text())


@pytest.mark.parametrize("name", [*sorted(ENDPOINTS), "forking.uac.msg.log"])
def test_json_report_matches_the_published_schema(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--json`` output validates against dialogfsm/schema/replay-v1.json (shipped with the
    package), findings and timer-moved transitions included."""
    main(["replay", str(SIPP / name), "--json"])
    report = json.loads(capsys.readouterr().out)
    jsonschema.validate(report, SCHEMA)
    assert report["version"] == SCHEMA["properties"]["version"]["const"]


def test_reports_spill_to_disk_in_the_same_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The replay command sorts its report on disk in runs of bounded size (so a long
    capture's report does not sit in memory): runs of 2 items give the same report."""
    assert main(["replay", str(SIPP / "uac-uas.pcap"), "--json"]) == 0
    whole = capsys.readouterr().out
    monkeypatch.setattr(report_module, "_CHUNK", 2)
    for jobs in ("1", "2"):
        assert main(["replay", str(SIPP / "uac-uas.pcap"), "--json", "--jobs", jobs]) == 0
        assert capsys.readouterr().out == whole
