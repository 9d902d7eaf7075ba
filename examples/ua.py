"""An example SIP user agent: asyncio owns the sockets and the clock, dialogfsm decides.

    python examples/ua.py serve --listen 127.0.0.1:5060
    python examples/ua.py call --listen 127.0.0.1:5070 --to sip:service@127.0.0.1:5060 \\
        --calls 10 --rate 5 --hold 2

``serve`` answers every INVITE with 180 then 200 (``--ring`` seconds apart), and
re-INVITE, BYE and OPTIONS with 200, until SIGINT or SIGTERM; then it prints a summary of
its dialogs. ``call`` places ``--calls`` calls at ``--rate`` calls per second, holds each
``--hold`` seconds (``--reinvite S``: refreshes the session S seconds in), hangs up with
BYE, prints one line per call, and exits 0 only if every call completed. Both listen on
UDP and TCP at ``--listen`` (a ``;transport=tcp`` target is called over TCP); both answer
what comes in; ``--summary FILE`` writes every dialog they saw as JSON on exit.

The layers, from the wire up, one file each:

- ``Transport`` (transport.py): UDP datagrams and TCP streams in, messages out.
- ``Transactions`` (transactions.py): retransmissions, the ACK of a non-2xx, repeats
  absorbed (RFC 3261 17). Sans-IO, like dialogfsm.
- ``DialogManager`` (dialogfsm): every dialog decision. Each message we send goes through
  ``manager.send`` and each we receive through ``manager.receive``; the events it returns
  say what happened and what to do (``SendAck``, ``SendBye``, ``RetryRequest``...); a
  request it refuses raises an error whose ``status_hint`` is our answer (481, 500, 491).
- ``UserAgent`` (here): what this UA wants: answer calls, place calls. The manager's and
  the transactions' timers run from one asyncio timer (``get_timer``/``handle_timer``).
- ``Records`` (records.py): each dialog's history, from the manager's events, and
  counters, for the summary.

No media flows: the SDP is there for the peer's sake.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from records import CallResult, Records
from transactions import TimedOut, Transactions, Transmit
from transport import Address, Message, Transport, log, next_hop

import dialogfsm
from dialogfsm import (
    URI,
    Dialog,
    DialogConfirmed,
    DialogCreated,
    DialogError,
    DialogEvent,
    DialogId,
    DialogSetDropped,
    DialogTerminated,
    GlareError,
    Request,
    Response,
    RetryRequest,
    SendAck,
    SendBye,
    SendPrack,
    State,
    TargetRefreshed,
    build_request,
    build_response,
    request_target,
)

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS"


class Ringing(NamedTuple):
    """An INVITE we answered 180 and will answer 200 when ``answer`` fires."""

    answer: asyncio.TimerHandle
    invite: Request
    source: Address
    to_tag: str


class UserAgent:
    """One UA: answers calls, places calls, and asks its DialogManager about each message."""

    def __init__(
        self, host: str, port: int, *, ring: float = 0.0, keep: bool = True, verbose: bool = False
    ) -> None:
        self.host, self.port, self.ring, self.verbose = host, port, ring, verbose
        self.loop = asyncio.get_running_loop()
        self.manager = dialogfsm.DialogManager()
        self.transactions = Transactions()
        self.transport = Transport(host, port, self.on_message)
        self.records = Records(keep=keep)  # what happened, for the summary and --summary
        self._waiting: dict[tuple[str, str], asyncio.Future[Response | None]] = {}
        self._ringing: dict[tuple[str, int], Ringing] = {}  # by Call-ID and CSeq
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- what we send ------------------------------------------------------------------
    def via(self, transport: str) -> str:
        return f"SIP/2.0/{transport} {self.host}:{self.port};branch=z9hG4bK{secrets.token_hex(8)}"

    def contact(self, transport: str) -> str:
        param = ";transport=tcp" if transport == "TCP" else ""
        return f"<sip:ua@{self.host}:{self.port}{param}>"

    def sdp(self) -> bytes:
        return (
            f"v=0\r\no=ua 1 1 IN IP4 {self.host}\r\ns=-\r\nc=IN IP4 {self.host}\r\nt=0 0\r\n"
            "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        ).encode()

    def send_request(self, request: Request) -> asyncio.Future[Response | None]:
        """Send ``request``; the future is its final response (``None``: it timed out)."""
        dest = next_hop(request.uri, request.route)
        now = self.loop.time()
        self.handle_events(self.manager.send(request, now=now))  # may raise: nothing sent
        future: asyncio.Future[Response | None] = self.loop.create_future()
        if request.method == "ACK":  # the ACK of a 2xx: no transaction, no answer
            future.set_result(None)
        else:
            self.transactions.request_sent(request, dest, now)
            self._waiting[request.via[0].branch or "", request.method] = future
        self.wire_out(request, dest)
        return future

    def in_dialog(self, dialog: Dialog, method: str, *, sdp: bool = False) -> Request:
        """A new request in ``dialog``; dialogfsm fills in the rest (RFC 3261 12.2.1.1)."""
        transport = next_hop(*request_target(dialog.dialog_state))[0]
        body = self.sdp() if sdp else b""
        return dialog.request(
            method, via=self.via(transport), contact=self.contact(transport), body=body,
            content_type="application/sdp" if body else None,
        )  # fmt: skip

    def respond(
        self, request: Request, source: Address, code: int, *, to_tag: str | None = None,
        headers: Sequence[tuple[str, str]] = (), sdp: bool = False,
    ) -> None:  # fmt: skip
        """Answer ``request``, which came from ``source``, with ``code``."""
        dialog_forming = 100 < code < 300 and request.method == "INVITE"
        body = self.sdp() if sdp else b""
        response = build_response(
            request, code, to_tag=to_tag, headers=headers, body=body,
            contact=self.contact(source[0]) if dialog_forming else (),
            content_type="application/sdp" if body else None,
        )  # fmt: skip
        now = self.loop.time()
        try:
            self.handle_events(self.manager.send(response, now=now))
        except dialogfsm.LocalProtocolError as err:  # the RFCs forbid it: say so, send nothing
            log(f"not sending {code} to {request.method}: {err}")
            return
        self.transactions.response_sent(response, request, now)
        self.records.sent[f"{request.method} {code}"] += 1
        self.wire_out(response, source)

    def wire_out(self, message: Message, dest: Address) -> None:
        if self.verbose:
            log(f"-> {dest[0]} {dest[1]}:{dest[2]}  {message.start_line}  [{message.cseq}]")
        self.transport.send(message, dest)
        self._arm()

    # -- what arrives ------------------------------------------------------------------
    def on_message(self, message: Message, source: Address) -> None:
        if self.verbose:
            log(f"<- {source[0]} {source[1]}:{source[2]}  {message.start_line}  [{message.cseq}]")
        if isinstance(message, Request):
            self.on_request(message, source)
        else:
            self.on_response(message)
        self._arm()

    def on_request(self, request: Request, source: Address) -> None:
        got = self.transactions.request_received(request, source, self.loop.time())
        for out in got.replies:
            self.wire_out(out.message, out.dest)
        if not got.deliver:  # a retransmission, or the ACK of a non-2xx final
            self.records.absorbed[request.method] += 1
            return
        try:
            if request.method == "BYE" and request.to.tag is None:
                # the manager lets a request without a To tag through (it may be outside
                # any dialog, like OPTIONS); a BYE without one names no dialog (15.1.2)
                raise dialogfsm.NoSuchDialog(f"BYE without a To tag (Call-ID {request.call_id!r})")
            events = self.manager.receive(request, now=self.loop.time())
        except DialogError as err:
            # the manager refused it and changed nothing: NoSuchDialog 481 (RFC 3261
            # 12.2.2), OutOfOrderError 500 (12.2.2), GlareError 491, or 500 with
            # Retry-After (14.2). An ACK is never answered.
            if request.method != "ACK":
                code = err.status_hint or 500
                retry = err.retry_after if isinstance(err, GlareError) else None
                headers = [("Retry-After", str(retry))] if retry is not None else []
                self.records.refused[f"{code} {request.method}"] += 1
                log(f"refused {request.method} with {code}: {err}")
                self.respond(request, source, code, headers=headers)
            return
        self.handle_events(events)
        if request.method == "INVITE":
            self.on_invite(request, source)
        elif request.method == "CANCEL":
            self.on_cancel(request, source)
        elif request.method == "BYE":
            self.respond(request, source, 200)
        elif request.method == "OPTIONS":  # RFC 3261 11.2
            self.respond(
                request, source, 200, headers=[("Allow", ALLOW), ("Accept", "application/sdp")]
            )
        elif request.method != "ACK":  # RFC 3261 8.2.1
            self.respond(request, source, 405, headers=[("Allow", ALLOW)])

    def on_invite(self, invite: Request, source: Address) -> None:
        if invite.to.tag is not None:  # a re-INVITE, in a dialog the manager found
            self.respond(invite, source, 200, sdp=True)
            return
        to_tag = secrets.token_hex(4)
        self.respond(invite, source, 180, to_tag=to_tag)
        key = (invite.call_id, invite.cseq.number)
        answer = self.loop.call_later(self.ring, self._answer, key)
        self._ringing[key] = Ringing(answer, invite, source, to_tag)

    def _answer(self, key: tuple[str, int]) -> None:
        ringing = self._ringing.pop(key)
        invite = ringing.invite
        # the caller may have ended the early dialog with BYE (RFC 3261 15.1.2: the
        # INVITE still gets a final response, 487)
        alive = self.manager.get(DialogId(invite.call_id, ringing.to_tag, invite.from_.tag or ""))
        code = 200 if alive is not None else 487
        self.respond(invite, ringing.source, code, to_tag=ringing.to_tag, sdp=code == 200)

    def on_cancel(self, cancel: Request, source: Address) -> None:
        """RFC 3261 9.2: 200 to the CANCEL, then 487 to the INVITE if still unanswered."""
        invite = self.transactions.server_invite(cancel)
        if invite is None:
            self.respond(cancel, source, 481)
            return
        ringing = self._ringing.pop((invite.call_id, invite.cseq.number), None)
        self.respond(cancel, source, 200, to_tag=ringing.to_tag if ringing else None)
        if ringing is not None:
            ringing.answer.cancel()
            self.respond(invite, source, 487, to_tag=ringing.to_tag)

    def on_response(self, response: Response) -> None:
        got = self.transactions.response_received(response, self.loop.time())
        for out in got.replies:  # the ACK of a non-2xx final
            self.wire_out(out.message, out.dest)
        if not got.deliver:  # a repeated final response
            self.records.absorbed[f"{response.status_code} {response.cseq.method}"] += 1
            return
        self.handle_events(self.manager.receive(response, now=self.loop.time()))
        if got.request is not None and response.status_code >= 200:
            future = self._waiting.pop((response.via[0].branch or "", response.cseq.method), None)
            if future is not None and not future.done():
                future.set_result(response)

    # -- what the manager says ---------------------------------------------------------
    def handle_events(self, events: Sequence[DialogEvent]) -> None:
        """Record the facts; do what the manager says must be done."""
        for event in events:
            if self.verbose:
                log(f"   {type(event).__name__} {getattr(event, 'dialog', '')}")
            match event:
                case DialogCreated() | DialogConfirmed() | TargetRefreshed() | DialogTerminated():
                    self.records.record(event, verbose=self.verbose)
                case SendAck(dialog=dialog, response=response):  # every 2xx, repeats too
                    transport = next_hop(*request_target(dialog.dialog_state))[0]
                    self.send_request(dialog.ack(response, via=self.via(transport)))
                case SendBye(dialog=dialog, reason=reason):  # no ACK came, or a 2nd fork's 2xx
                    log(f"hanging up {dialog.id}: {reason}")
                    self.spawn(self.hang_up(dialog))
                case SendPrack(dialog=dialog, response=response):  # a reliable 1xx (RFC 3262)
                    transport = next_hop(*request_target(dialog.dialog_state))[0]
                    self.send_request(dialog.prack(response, via=self.via(transport)))
                case RetryRequest(dialog=dialog):  # the wait after a 491 is over (RFC 3261 14.1)
                    self.spawn(self.reinvite(dialog))
                case DialogSetDropped(reason=reason):
                    log(f"call attempt dropped: {reason}")

    async def hang_up(self, dialog: Dialog) -> str:
        """Send BYE in ``dialog``; return how it was answered."""
        try:
            answer = await self.send_request(self.in_dialog(dialog, "BYE"))
        except dialogfsm.LocalProtocolError as err:
            return f"not sent ({err})"
        return "timed out" if answer is None else f"{answer.status_code} {answer.reason}"

    async def reinvite(self, dialog: Dialog) -> None:
        """Refresh the session (RFC 3261 14.1). After a 491 the manager returns
        ``RetryRequest`` once its random wait is over, and we come back here."""
        if dialog.state is not State.CONFIRMED:
            return
        try:
            answer = await self.send_request(self.in_dialog(dialog, "INVITE", sdp=True))
        except dialogfsm.LocalProtocolError as err:  # an INVITE is in progress either way
            log(f"no re-INVITE now: {err}")
            return
        self.records.reinvites["timed out" if answer is None else str(answer.status_code)] += 1

    # -- one asyncio timer for the manager's and the transactions' deadlines -----------
    def _arm(self) -> None:
        deadlines = [self.manager.get_timer(), self.transactions.get_timer()]
        when = min((d for d in deadlines if d is not None), default=None)
        if when == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None if when is None else self.loop.call_at(when, self._on_timer)
        self._timer_at = when

    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        now = self.loop.time()
        for out in self.transactions.handle_timer(now):
            if isinstance(out, Transmit):
                self.records.retransmitted[_what(out.message)] += 1
                self.wire_out(out.message, out.dest)
            else:
                self._timed_out(out, now)
        self.handle_events(self.manager.handle_timer(now))
        self._arm()

    def _timed_out(self, out: TimedOut, now: float) -> None:
        request = out.request
        log(f"{request.method} timed out ({request.call_id})")
        self.handle_events(self.manager.transaction_timeout(request, now=now))
        future = self._waiting.pop((request.via[0].branch or "", request.method), None)
        if future is not None and not future.done():
            future.set_result(None)

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- placing a call ----------------------------------------------------------------
    async def call(
        self, number: int, target: URI, hold: float, reinvite: float | None = None
    ) -> CallResult:
        """One call: INVITE, wait for the answer, hold (re-INVITE on the way), BYE."""
        transport = (target.transport or "udp").upper()
        invite = build_request(
            "INVITE", target, call_id=f"{secrets.token_hex(8)}@{self.host}",
            from_=f"<sip:ua@{self.host}:{self.port}>;tag={secrets.token_hex(4)}",
            to=f"<{target}>", cseq=1, via=self.via(transport), contact=self.contact(transport),
            headers=[("Allow", ALLOW)], body=self.sdp(), content_type="application/sdp",
        )  # fmt: skip
        result = CallResult(number, invite.call_id)
        answer = await self.send_request(invite)
        if answer is None:
            result.answer = "no final response (timed out)"
            return result
        result.answer = f"{answer.status_code} {answer.reason}"
        if answer.status_code >= 300:
            return result
        # the dialog the 2xx confirmed, by its id (Call-ID, our tag, theirs)
        record = self.records.by_id.get(
            DialogId(answer.call_id, answer.from_.tag or "", answer.to.tag or "")
        )
        if record is None:  # already ended: the callee's BYE came right after its 200
            result.bye, result.completed = "the callee hung up", True
            return result
        refresh = None
        if reinvite is not None:
            refresh = self.loop.call_later(
                reinvite, lambda: self.spawn(self.reinvite(record.dialog))
            )
        started = self.loop.time()
        try:  # hold the call, unless the callee hangs up first
            await asyncio.wait_for(record.ended.wait(), timeout=hold)
            result.bye = "the callee hung up"
        except TimeoutError:
            result.bye = await self.hang_up(record.dialog)
        if refresh is not None:
            refresh.cancel()
        result.held = self.loop.time() - started
        result.completed = result.bye == "the callee hung up" or result.bye.startswith("2")
        return result

    # -- reports -------------------------------------------------------------------------
    def summary(self) -> str:
        return self.records.summary(still_open=len(self.manager.dialogs))

    async def wind_down(self, timeout: float = 2.0) -> None:
        """Before we stop: 480 to the INVITEs still ringing, BYE to the confirmed dialogs,
        and a moment for their answers."""
        for key in list(self._ringing):
            ringing = self._ringing.pop(key)
            ringing.answer.cancel()
            self.respond(ringing.invite, ringing.source, 480, to_tag=ringing.to_tag)
        live = [d for d in self.manager.dialogs.values() if d.state is State.CONFIRMED]
        if live:
            log(f"hanging up {len(live)} calls")
            byes = [asyncio.ensure_future(self.hang_up(dialog)) for dialog in live]
            await asyncio.wait(byes, timeout=timeout)

    def as_json(self) -> dict[str, object]:
        return {"listen": f"{self.host}:{self.port}", "open": len(self.manager.dialogs),
                **self.records.as_json()}  # fmt: skip

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for ringing in self._ringing.values():
            ringing.answer.cancel()
        for task in self._tasks:
            task.cancel()
        self.transport.close()


def _what(message: Message) -> str:
    """``"INVITE"`` for a request, ``"200 INVITE"`` for a response."""
    if isinstance(message, Request):
        return message.method
    return f"{message.status_code} {message.method}"


# -- the command line ----------------------------------------------------------------------
def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number above 0, not {text!r}")
    return value


def count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")
    return int(text)


def sip_uri(text: str) -> URI:
    try:
        uri = URI.parse(text)
    except dialogfsm.ParseError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if uri.scheme != "sip":
        raise argparse.ArgumentTypeError(f"expected a sip: URI, not {text!r}")
    return uri


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ua.py", description="An example SIP user agent.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="answer calls until SIGINT or SIGTERM")
    call = commands.add_parser("call", help="place calls, hold them, hang up")
    for sub in (serve, call):
        sub.add_argument("--listen", type=host_port, required=True, metavar="HOST:PORT")
        sub.add_argument("--summary", type=Path, metavar="FILE", help="write the dialogs as JSON")
        sub.add_argument("-v", "--verbose", action="store_true", help="every message and event")
    serve.add_argument("--ring", type=float, default=0.0, metavar="SECONDS",
                       help="time from 180 to 200 (default 0)")  # fmt: skip
    call.add_argument("--to", type=sip_uri, required=True, metavar="sip:USER@HOST:PORT")
    call.add_argument("--calls", type=count, default=1, metavar="N")
    call.add_argument("--rate", type=positive, default=1.0, metavar="R", help="calls per second")
    call.add_argument("--hold", type=float, default=1.0, metavar="SECONDS")
    call.add_argument("--reinvite", type=float, metavar="SECONDS",
                      help="re-INVITE this long into each call")  # fmt: skip
    return parser.parse_args(argv)


async def serve(ua: UserAgent, stop: asyncio.Event) -> int:
    log(f"serving on UDP and TCP {ua.host}:{ua.port}; SIGINT or SIGTERM stops")
    await stop.wait()
    await ua.wind_down()
    log(f"stopped. {ua.summary()}")
    return 0


async def place_calls(ua: UserAgent, args: argparse.Namespace, stop: asyncio.Event) -> int:
    log(f"calling {args.to} {args.calls} times, {args.rate} per second, {args.hold} s each")
    start = ua.loop.time()

    async def one(number: int) -> None:
        await asyncio.sleep(max(0.0, start + (number - 1) / args.rate - ua.loop.time()))
        result = await ua.call(number, args.to, args.hold, args.reinvite)
        ua.records.calls.append(result)
        log(result.line())

    calls = asyncio.gather(*(one(n) for n in range(1, args.calls + 1)))
    stopped = asyncio.ensure_future(stop.wait())
    waiters: list[asyncio.Future[Any]] = [calls, stopped]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if calls.done():
        calls.result()  # a call that raised is a bug: let it show
    else:
        log("interrupted")
        calls.cancel()
        await ua.wind_down()
    ua.records.calls.sort(key=lambda result: result.number)
    done = sum(result.completed for result in ua.records.calls)
    log(f"{done} of {args.calls} calls completed in {ua.loop.time() - start:.1f} s. {ua.summary()}")
    return 0 if done == args.calls else 1


async def run(args: argparse.Namespace) -> int:
    host, port = args.listen
    # a serving UA forgets ended dialogs, unless they are wanted for --summary
    keep = args.command == "call" or args.summary is not None
    ua = UserAgent(host, port, ring=getattr(args, "ring", 0.0), keep=keep, verbose=args.verbose)
    try:
        await ua.transport.start()
    except OSError as err:
        log(f"cannot listen on {host}:{port}: {err}")
        return 2
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        ua.loop.add_signal_handler(signum, stop.set)
    try:
        if args.command == "serve":
            code = await serve(ua, stop)
        else:
            code = await place_calls(ua, args, stop)
    finally:
        ua.close()
    if args.summary is not None:
        report = {"command": args.command, **ua.as_json()}
        args.summary.write_text(json.dumps(report, indent=1) + "\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
