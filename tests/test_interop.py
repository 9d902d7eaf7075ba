"""The example UA (examples/ua.py) against SIPp on loopback: SIPp's built-in ``uac`` and
``uas`` scenarios, and scenarios of our own (tests/sipp/*.xml), each checked from both
ends: SIPp's exit code says every call went as its scenario wants, and the UA's dialog
records (``--summary FILE``: ids, states, route set, remote target, sequence numbers,
what it sent, refused, repeated and absorbed) say what dialogfsm made of it.

The UA runs as a user runs it, ``python examples/ua.py serve|call ...``. Every process
started here is stopped here (SIGTERM, then kill). Everything stays on 127.0.0.1, on
ports 5200-5299, SIPp's control socket included (``-ci``/``-cp``). Without SIPp the tests
skip, except in CI (env CI set), where they fail.

The last tests drive the example's transaction layer (examples/transactions.py) alone,
with a fake clock.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tools import need, stop

from dialogfsm import Request, Response, build_request, build_response, parse_message

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
UA = EXAMPLES / "ua.py"
SCENARIOS = Path(__file__).parent / "sipp"
HOST = "127.0.0.1"
CALL = ["early", "confirmed", "terminated"]

sys.path.insert(0, str(EXAMPLES))
from transactions import T1, T2, TimedOut, Transactions, Transmit  # noqa: E402

_ports = itertools.count(5200)


def free_port() -> int:
    """The next port of 5200-5299 free for UDP and TCP on loopback."""
    for port in _ports:
        if port > 5299:
            break
        if bindable(port):
            return port
    raise RuntimeError("no free port left in 5200-5299")


def bindable(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                return False
    return True


def wait_bound(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until SIPp (``proc``) listens on UDP ``port``."""
    wait_until(lambda: not bindable(port), proc, log)


def wait_serving(proc: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the UA says it listens (on UDP and TCP both)."""
    wait_until(lambda: "serving on" in log.read_text(errors="replace"), proc, log)


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{proc.args!r} did not start:\n{tail(log)}")
        time.sleep(0.05)


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path.name}: none)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path.name}\n" + "\n".join(text)


@contextlib.contextmanager
def started(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` with its output in ``log``; stop it on the way out, whatever happens."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
        try:
            yield proc
        finally:
            stop(proc)


def finished(proc: subprocess.Popen[bytes], timeout: float = 45) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{proc.args!r} still running after {timeout} s")


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[str]:
    """SIPp's path: the test skips without it, or fails in CI. Afterwards the tail of every
    log the test wrote is printed: pytest shows it when the test fails."""
    yield need("sipp")
    for log in sorted(tmp_path.glob("*.log")):
        print(tail(log))


def sipp_args(sipp: str, tmp: Path, name: str, port: int, *args: str) -> list[str]:
    """SIPp on loopback at ``port``, its control socket on a free port, bounded in time,
    unexpected messages written to NAME.errors.log."""
    return [
        sipp, *args, "-i", HOST, "-p", str(port), "-ci", HOST, "-cp", str(free_port()),
        "-nostdin", "-timeout", "30s", "-timeout_error",
        "-trace_err", "-error_file", str(tmp / f"{name}.errors.log"),
    ]  # fmt: skip


def ua_args(command: str, port: int, summary: Path, *args: str) -> list[str]:
    return [sys.executable, str(UA), command, "--listen", f"{HOST}:{port}",
            "--summary", str(summary), *args]  # fmt: skip


def calls_counted(log: Path) -> tuple[int, int]:
    """(successful, failed) calls from SIPp's final statistics screen."""
    text = log.read_text(errors="replace")
    counts = [re.findall(rf"{what} call\s*\|\s*\d+\s*\|\s*(\d+)", text) for what in
              ("Successful", "Failed")]  # fmt: skip
    assert all(counts), f"no call counts in SIPp's output\n{tail(log)}"
    return int(counts[0][-1]), int(counts[1][-1])


def summary_of(path: Path, *logs: Path) -> dict[str, Any]:
    assert path.exists(), "the UA wrote no summary\n" + "\n".join(tail(log) for log in logs)
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def serve(tmp: Path, *extra: str) -> tuple[list[str], int, Path, Path]:
    """The command line of a serving UA, its port, its summary file and its log."""
    port = free_port()
    summary, log = tmp / "serve.json", tmp / "serve.log"
    return ua_args("serve", port, summary, *extra), port, summary, log


# -- SIPp calls the example UA --------------------------------------------------------------
def test_sipp_builtin_uac_against_serve(tmp_path: Path, sipp: str) -> None:
    """SIPp's built-in uac, 200 calls at 50 calls/s: every call succeeds, and the UA holds
    200 dialogs, each early (180), confirmed (200), terminated (BYE). The built-in uac
    sends ACK and BYE to the INVITE's Request-URI, not the 200's Contact: the manager
    matches them by Call-ID and tags all the same."""
    args, port, summary, ua_log = serve(tmp_path)
    sipp_log, sipp_port = tmp_path / "sipp.log", free_port()
    with started(args, ua_log) as ua:
        wait_serving(ua, ua_log)
        command = sipp_args(sipp, tmp_path, "uac", sipp_port, "-sn", "uac", "-m", "200", "-r", "50")
        with started([*command, f"{HOST}:{port}"], sipp_log) as uac:
            code = finished(uac)
        assert code == 0, f"SIPp failed calls\n{tail(sipp_log)}\n{tail(ua_log)}"
        assert calls_counted(sipp_log) == (200, 0)
        ua.send_signal(signal.SIGTERM)
        assert finished(ua, 10) == 0, tail(ua_log)
    report = summary_of(summary, ua_log)
    dialogs = report["dialogs"]
    assert len(dialogs) == 200
    assert len({d["call_id"] for d in dialogs}) == 200
    for dialog in dialogs:
        assert (dialog["role"], dialog["states"], dialog["reason"]) == ("uas", CALL, "BYE received")
        assert (dialog["local_seq"], dialog["remote_seq"]) == (None, 2)
        assert dialog["remote_target"] == f"sip:sipp@{HOST}:{sipp_port}"
        assert dialog["route_set"] == []
    assert report["open"] == 0
    assert report["responses_sent"] == {"INVITE 180": 200, "INVITE 200": 200, "BYE 200": 200}
    assert report["refused"] == {}
    assert "200 dialogs, 200 of them confirmed" in ua_log.read_text()


def test_sipp_builtin_uac_over_tcp_against_serve(tmp_path: Path, sipp: str) -> None:
    """The same over TCP (SIPp -t t1: one connection for every call): requests framed by
    Content-Length, responses on the connection the request came on, no request sent twice
    (only a 2xx is repeated over TCP, until its ACK: RFC 3261 13.3.1.4)."""
    args, port, summary, ua_log = serve(tmp_path)
    sipp_log = tmp_path / "sipp.log"
    with started(args, ua_log) as ua:
        wait_serving(ua, ua_log)
        builtin = ["-sn", "uac", "-t", "t1", "-m", "20", "-r", "20"]
        command = sipp_args(sipp, tmp_path, "uac", free_port(), *builtin)
        with started([*command, f"{HOST}:{port}"], sipp_log) as uac:
            code = finished(uac)
        assert code == 0, f"SIPp failed calls\n{tail(sipp_log)}\n{tail(ua_log)}"
        ua.send_signal(signal.SIGTERM)
        assert finished(ua, 10) == 0, tail(ua_log)
    report = summary_of(summary, ua_log)
    assert [d["states"] for d in report["dialogs"]] == [CALL] * 20
    assert set(report["retransmitted"]) <= {"200 INVITE"}


def test_cancel_before_the_answer(tmp_path: Path, sipp: str) -> None:
    """tests/sipp/uac-cancel.xml against ``serve --ring 10``: the CANCEL gets 200, the
    INVITE 487, which ends the early dialog (RFC 3261 9.2, 12.3); the 487's ACK stays in
    the transaction layer; a CANCEL that matches no transaction gets 481."""
    args, port, summary, ua_log = serve(tmp_path, "--ring", "10")
    sipp_log = tmp_path / "sipp.log"
    with started(args, ua_log) as ua:
        wait_serving(ua, ua_log)
        scenario = ["-sf", str(SCENARIOS / "uac-cancel.xml"), "-m", "1"]
        command = sipp_args(sipp, tmp_path, "cancel", free_port(), *scenario)
        with started([*command, f"{HOST}:{port}"], sipp_log) as uac:
            code = finished(uac)
        assert code == 0, f"{tail(sipp_log)}\n{tail(tmp_path / 'cancel.errors.log')}"
    report = summary_of(summary, ua_log)
    [dialog] = report["dialogs"]
    assert (dialog["role"], dialog["states"]) == ("uas", ["early", "terminated"])
    assert (dialog["reason"], dialog["trigger"]) == ("487 sent", "failure")
    assert report["responses_sent"] == {
        "INVITE 180": 1, "CANCEL 200": 1, "INVITE 487": 1, "CANCEL 481": 1,
    }  # fmt: skip
    assert report["absorbed"] == {"ACK": 1}  # the ACK of the 487 (RFC 3261 17.2.1)


def test_requests_in_a_dialog(tmp_path: Path, sipp: str) -> None:
    """tests/sipp/uac-in-dialog.xml: the route set from the INVITE's Record-Route, in order
    (RFC 3261 12.1.1); the 200 repeated until the late ACK (13.3.1.4); OPTIONS in the
    dialog; a re-INVITE with a new Contact refreshes the remote target (12.2.2); a lower
    CSeq gets 500 and a BYE of no dialog 481, as the manager's errors direct; the BYE
    ends the dialog; an OPTIONS outside any dialog gets 200 with Allow."""
    args, port, summary, ua_log = serve(tmp_path)
    sipp_log, sipp_port = tmp_path / "sipp.log", free_port()
    with started(args, ua_log) as ua:
        wait_serving(ua, ua_log)
        scenario = str(SCENARIOS / "uac-in-dialog.xml")
        command = sipp_args(sipp, tmp_path, "in-dialog", sipp_port, "-sf", scenario, "-m", "1")
        with started([*command, f"{HOST}:{port}"], sipp_log) as uac:
            code = finished(uac)
        assert code == 0, f"{tail(sipp_log)}\n{tail(tmp_path / 'in-dialog.errors.log')}"
    report = summary_of(summary, ua_log)
    [dialog] = report["dialogs"]
    at = f"{HOST}:{sipp_port}"
    assert (dialog["role"], dialog["states"], dialog["reason"]) == ("uas", CALL, "BYE received")
    assert dialog["route_set"] == [f"<sip:proxy2@{at};lr>", f"<sip:proxy1@{at};lr>"]
    assert dialog["remote_target"] == f"sip:sipp-moved@{at}"
    assert dialog["targets"] == [f"sip:sipp-moved@{at}"]
    assert (dialog["local_seq"], dialog["remote_seq"]) == (None, 5)
    assert report["refused"] == {"500 OPTIONS": 1, "481 BYE": 1}
    assert report["responses_sent"] == {
        "INVITE 180": 1, "INVITE 200": 2, "OPTIONS 200": 2, "OPTIONS 500": 1, "BYE 481": 1,
        "BYE 200": 1,
    }  # fmt: skip
    assert report["retransmitted"].get("200 INVITE", 0) >= 1  # the ACK came 1 s late


# -- the example UA calls SIPp ----------------------------------------------------------------
def call_sipp(
    sipp: str, tmp: Path, scenario: list[str], ua_extra: list[str]
) -> tuple[int, int, dict[str, Any], int]:
    """SIPp as callee (``scenario``), the UA's ``call`` against it: (UA exit code, SIPp exit
    code, the UA's summary, SIPp's port)."""
    sipp_port, port = free_port(), free_port()
    summary, ua_log, sipp_log = tmp / "call.json", tmp / "call.log", tmp / "sipp.log"
    with started(sipp_args(sipp, tmp, "uas", sipp_port, *scenario), sipp_log) as uas:
        wait_bound(sipp_port, uas, sipp_log)
        to = f"sip:service@{HOST}:{sipp_port}"
        with started(ua_args("call", port, summary, "--to", to, *ua_extra), ua_log) as ua:
            ua_code = finished(ua)
        sipp_code = finished(uas)
    return ua_code, sipp_code, summary_of(summary, ua_log), sipp_port


def test_call_sipp_builtin_uas(tmp_path: Path, sipp: str) -> None:
    """The UA's ``call`` against SIPp's built-in uas: 10 calls, each held, then BYE; every
    call completes (exit 0) and each dialog is the caller's: local_seq 2 (INVITE 1, BYE
    2), remote target the 200's Contact."""
    ua_code, sipp_code, report, sipp_port = call_sipp(
        sipp, tmp_path, ["-sn", "uas", "-m", "10"],
        ["--calls", "10", "--rate", "20", "--hold", "0.2"],
    )  # fmt: skip
    assert (ua_code, sipp_code) == (0, 0)
    assert [c["completed"] for c in report["calls"]] == [True] * 10
    assert {(c["answer"], c["bye"]) for c in report["calls"]} == {("200 OK", "200 OK")}
    for dialog in report["dialogs"]:
        assert (dialog["role"], dialog["states"], dialog["reason"]) == ("uac", CALL, "BYE sent")
        assert (dialog["local_seq"], dialog["remote_seq"]) == (2, None)
        assert dialog["remote_target"] == f"sip:{HOST}:{sipp_port};transport=UDP"
    assert len(report["dialogs"]) == 10


def test_callee_behind_two_proxies_moves(tmp_path: Path, sipp: str) -> None:
    """tests/sipp/uas-record-route-reinvite.xml: the route set is taken again from the 200
    (two proxies, where the 180 had one: RFC 3261 13.2.2.4), reversed (12.1.2); the
    callee's re-INVITE with a new Contact refreshes the remote target; SIPp checks that
    the ACK and the BYE carry the right Request-URI and Route headers."""
    scenario = ["-sf", str(SCENARIOS / "uas-record-route-reinvite.xml"), "-m", "1"]
    ua_code, sipp_code, report, sipp_port = call_sipp(sipp, tmp_path, scenario, ["--hold", "1"])
    assert (ua_code, sipp_code) == (0, 0)
    [dialog] = report["dialogs"]
    at = f"{HOST}:{sipp_port}"
    assert (dialog["role"], dialog["states"], dialog["reason"]) == ("uac", CALL, "BYE sent")
    assert dialog["route_set"] == [f"<sip:proxy1@{at};lr>", f"<sip:proxy2@{at};lr>"]
    assert dialog["remote_target"] == f"sip:uas-moved@{at}"
    assert dialog["targets"] == [f"sip:uas-moved@{at}"]
    assert (dialog["local_seq"], dialog["remote_seq"]) == (2, 1)
    assert report["responses_sent"] == {"INVITE 200": 1}


def test_busy_callee(tmp_path: Path, sipp: str) -> None:
    """tests/sipp/uas-busy.xml: the INVITE is retransmitted until the 180 (Timer A); the
    486 ends the early dialog (RFC 3261 12.3) and is ACKed by the transaction layer with
    the INVITE's branch (SIPp checks); the call fails, so ``call`` exits 1."""
    scenario = ["-sf", str(SCENARIOS / "uas-busy.xml"), "-m", "1"]
    ua_code, sipp_code, report, sipp_port = call_sipp(sipp, tmp_path, scenario, [])
    assert (ua_code, sipp_code) == (1, 0)
    [call] = report["calls"]
    assert (call["answer"], call["completed"]) == ("486 Busy Here", False)
    [dialog] = report["dialogs"]
    assert (dialog["role"], dialog["states"]) == ("uac", ["early", "terminated"])
    assert (dialog["reason"], dialog["trigger"]) == ("486 received", "failure")
    assert dialog["remote_target"] == f"sip:busy@{HOST}:{sipp_port}"
    assert report["retransmitted"].get("INVITE", 0) >= 1  # 1.2 s of silence: at 0.5 s


def test_reinvite_glare(tmp_path: Path, sipp: str) -> None:
    """tests/sipp/uas-glare.xml with ``call --reinvite 0.3``: the callee's re-INVITE
    crosses ours: the manager refuses it (GlareError, 491); ours gets 491 too, and the
    manager's RetryRequest, 2.1-4 s later (we own the Call-ID: RFC 3261 14.1), sends it
    again with a new CSeq; 200; the call ends with BYE, CSeq 4."""
    scenario = ["-sf", str(SCENARIOS / "uas-glare.xml"), "-m", "1"]
    ua_code, sipp_code, report, _ = call_sipp(
        sipp, tmp_path, scenario, ["--hold", "5.5", "--reinvite", "0.3"]
    )
    assert (ua_code, sipp_code) == (0, 0)
    [dialog] = report["dialogs"]
    assert (dialog["states"], dialog["reason"], dialog["local_seq"]) == (CALL, "BYE sent", 4)
    assert report["refused"] == {"491 INVITE": 1}
    assert report["responses_sent"] == {"INVITE 491": 1}
    assert report["reinvites"] == {"491": 1, "200": 1}
    assert report["absorbed"] == {"ACK": 1}  # the callee's ACK of our 491


def test_serve_ends_cleanly_on_sigint(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) ends ``serve`` with exit 0, a summary printed and written."""
    args, _, summary, log = serve(tmp_path)
    with started(args, log) as ua:
        wait_serving(ua, log)
        ua.send_signal(signal.SIGINT)
        assert finished(ua, 10) == 0, tail(log)
    assert "stopped. 0 dialogs" in log.read_text()
    assert summary_of(summary, log)["dialogs"] == []


# -- the transaction layer alone, on a fake clock ------------------------------------------
DEST = ("UDP", HOST, 5299)


def request(method: str, branch: str = "z9hG4bKtest1") -> Request:
    return build_request(
        method, "sip:bob@127.0.0.1:5299", call_id="txn-test", from_="<sip:a@x>;tag=a",
        to="<sip:bob@127.0.0.1:5299>", cseq=1, via=f"SIP/2.0/UDP 127.0.0.1:5298;branch={branch}",
    )  # fmt: skip


def fire(layer: Transactions, until: float) -> list[tuple[float, str]]:
    """Run the layer's timers up to ``until``: (time, what) for each output."""
    fired = []
    while (when := layer.get_timer()) is not None and when <= until:
        for out in layer.handle_timer(when):
            what = "timeout" if isinstance(out, TimedOut) else out.message.start_line
            fired.append((round(when, 3), what))
    return fired


def test_transactions_retransmit_invite_until_a_response() -> None:
    """Timer A doubles without a cap until any response; a 1xx stops it (RFC 3261
    17.1.1.2); with no response at all, Timer B times out at 64*T1."""
    layer = Transactions()
    invite = request("INVITE")
    layer.request_sent(invite, DEST, 0.0)
    assert [t for t, _ in fire(layer, 8.0)] == [0.5, 1.5, 3.5, 7.5]
    got = layer.response_received(parse_response(build_response(invite, 180, to_tag="b")), 8.0)
    assert got.deliver
    assert got.request is invite
    assert fire(layer, 60.0) == []
    silent = Transactions()
    silent.request_sent(invite, DEST, 0.0)
    assert fire(silent, 40.0)[-1] == (32.0, "timeout")


def test_transactions_non_invite_interval_capped_at_t2() -> None:
    """Timer E doubles up to T2 (17.1.2.2); Timer F times out at 64*T1."""
    layer = Transactions()
    layer.request_sent(request("OPTIONS"), DEST, 0.0)
    fired = fire(layer, 40.0)
    times = [t for t, what in fired if what != "timeout"]
    assert times[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert {b - a for a, b in itertools.pairwise(times[3:])} == {T2}
    assert fired[-1] == (64 * T1, "timeout")


def test_transactions_ack_a_non_2xx_final_and_its_repeats() -> None:
    """The ACK of a 486 is the transaction's: the INVITE's Request-URI, branch and CSeq
    number, the 486's To tag (17.1.1.3); a repeated 486 is absorbed and ACKed again."""
    layer = Transactions()
    invite = request("INVITE")
    layer.request_sent(invite, DEST, 0.0)
    busy = parse_response(build_response(invite, 486, to_tag="busy"))
    got = layer.response_received(busy, 0.1)
    assert got.deliver
    [ack] = got.replies
    assert isinstance(ack, Transmit)
    assert isinstance(ack.message, Request)
    assert ack.message.start_line == "ACK sip:bob@127.0.0.1:5299 SIP/2.0"
    assert ack.message.via[0].branch == "z9hG4bKtest1"
    assert (str(ack.message.cseq), ack.message.to.tag) == ("1 ACK", "busy")
    again = layer.response_received(busy, 0.2)
    assert not again.deliver
    assert again.replies == got.replies


def test_transactions_answer_a_repeated_request_with_the_last_response() -> None:
    """A retransmitted request goes no further; it gets our last response again (17.2)."""
    layer = Transactions()
    options = request("OPTIONS")
    assert layer.request_received(options, DEST, 0.0).deliver
    ok = build_response(options, 200)
    layer.response_sent(ok, options, 0.0)
    again = layer.request_received(options, DEST, 0.5)
    assert not again.deliver
    assert again.replies == (Transmit(ok, DEST),)


def test_transactions_repeat_a_2xx_until_its_ack() -> None:
    """A 2xx to an INVITE is repeated at T1, 2*T1... up to T2 until the ACK (13.3.1.4),
    which goes on to the dialog layer; a retransmitted INVITE meanwhile is absorbed."""
    layer = Transactions()
    invite = request("INVITE")
    assert layer.request_received(invite, DEST, 0.0).deliver
    ok = build_response(invite, 200, to_tag="callee")
    layer.response_sent(ok, invite, 0.0)
    assert fire(layer, 2.0) == [(0.5, "SIP/2.0 200 OK"), (1.5, "SIP/2.0 200 OK")]
    assert not layer.request_received(invite, DEST, 2.0).deliver
    ack = build_request("ACK", "sip:a@x", call_id="txn-test", from_="<sip:a@x>;tag=a",
                        to="<sip:bob@127.0.0.1:5299>;tag=callee", cseq=1,
                        via="SIP/2.0/UDP 127.0.0.1:5298;branch=z9hG4bKack")  # fmt: skip
    assert layer.request_received(ack, DEST, 2.1).deliver
    assert fire(layer, 60.0) == []


def parse_response(response: Response) -> Response:
    """``response`` as it arrives from the wire."""
    message = parse_message(bytes(response))
    assert isinstance(message, Response)
    return message
