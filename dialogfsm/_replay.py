"""Replay captured SIP messages through the dialog layer: dialogs, their paths, findings.

Each endpoint on the wire (``ip:port``, or a name where a log has no addresses) gets its
own :class:`DialogManager`: a message is *sent* by its source's manager and *received* by
its destination's, so both sides' dialog records are rebuilt, and each side's mistakes
raise where the RFCs put them. In observer mode (the default) every endpoint is replayed,
except proxies: an address that forwards a request (more than one Via) or is sent a
response to pass on (more than one Via) is a proxy, not a user agent, and has no dialogs.
As one endpoint (``as_endpoint``) only that address is replayed.

A finished dialog is handed out as a :class:`DialogRecord` and forgotten, so memory follows
the live dialogs, never the length of the capture.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING

import attrs

from ._dialog import Dialog, request_target
from ._errors import (
    DialogError,
    GlareError,
    LocalProtocolError,
    NoSuchDialog,
    OutOfOrderError,
    ParseError,
)
from ._events import (
    DialogConfirmed,
    DialogCreated,
    DialogTerminated,
    SendBye,
)
from ._manager import DialogManager
from ._message import Request, Response
from ._state import DialogId, DialogState

if TYPE_CHECKING:
    from ._events import Event

Message = Request | Response
_RFC = re.compile(r"RFC \d{4}(?: \d+(?:\.\d+)*)?")
#: how many ended dialogs a replay remembers (all endpoints together), to tell a request in
#: a terminated dialog from one of a dialog that began before the capture
_REMEMBERED = 8192
#: capture seconds between sweeps that fire every endpoint's timers
_SWEEP_S = 1.0


@attrs.frozen
class Wire:
    """One SIP message as a capture or log holds it (the input of a replay)."""

    packet: int
    """Packet number in the capture (1-based), or message number in a log."""
    time_ns: int
    """When it was captured, in integer nanoseconds since the epoch."""
    src: str
    """Who sent it: ``ip:port`` (``[v6]:port``), or a name where the log has no address."""
    dst: str
    transport: str
    """``UDP``, ``TCP``, ... or ``?`` when the source does not say."""
    message: Message | None
    """The parsed message, or ``None`` when it could not be parsed (see ``error``)."""
    error: ParseError | None = None


@attrs.frozen
class Transition:
    """A state a dialog entered: when, on which packet, and what moved it."""

    state: str
    """``early``, ``confirmed`` or ``terminated``."""
    time_ns: int
    packet: int | None
    """``None`` when a timer moved it."""
    message: str
    """What moved it: ``180 Ringing``, ``BYE``, or the timer's reason."""


@attrs.define(eq=False)
class DialogRecord:
    """One dialog as one endpoint held it, and the path it took."""

    endpoint: str
    """The endpoint whose dialog this is (``ip:port`` or a name)."""
    role: str
    """``uac`` (it sent the dialog-creating request) or ``uas``."""
    dialog: Dialog = attrs.field(repr=False)
    transitions: list[Transition] = attrs.field(factory=list)

    @property
    def id(self) -> DialogId:
        return self.dialog.id

    @property
    def state(self) -> DialogState:
        """The final (or, while live, current) RFC 3261 state record."""
        return self.dialog.dialog_state

    @property
    def states(self) -> list[str]:
        """The states it passed through, in order (``["early", "confirmed", ...]``)."""
        return [t.state for t in self.transitions]


@attrs.frozen
class Finding:
    """Something on the wire that breaks an RFC."""

    rfc: str
    """The section broken, e.g. ``RFC 3261 12.2.2``."""
    packet: int | None
    time_ns: int
    text: str
    endpoint: str = ""
    """The endpoint whose message broke it (or whose dialog it concerns)."""


def _label(message: Message | None, reason: str = "") -> str:
    if isinstance(message, Request):
        return message.method
    if isinstance(message, Response):
        return f"{message.status_code} {message.reason}".rstrip()
    return reason or "timer"


class _Endpoint:
    """One endpoint's manager."""

    __slots__ = ("manager", "name")

    def __init__(self, name: str, t1: float) -> None:
        self.name = name
        self.manager = DialogManager(t1=t1)


class Replayer:
    """Feed :class:`Wire` messages in capture order; finished dialogs come back.

    ``feed`` returns the dialogs that ended on that message (or on timers due before it);
    ``finish`` returns the rest. ``findings`` collects what broke the RFCs, in order.
    """

    def __init__(self, *, as_endpoint: str | None = None, t1: float = 0.5) -> None:
        self.as_endpoint = as_endpoint
        self.t1 = t1
        self.findings: list[Finding] = []
        self.sip_messages = 0
        self._endpoints: dict[str, _Endpoint] = {}
        self._proxies: set[str] = set()
        self._live: dict[int, DialogRecord] = {}  # id(dialog) -> its record
        self._ended: OrderedDict[tuple[str, DialogId], None] = OrderedDict()
        self._last_sweep = 0.0
        self._now_ns = 0

    # -- input ---------------------------------------------------------------------------
    def feed(self, wire: Wire) -> list[DialogRecord]:
        """Replay one message; return the dialogs that ended."""
        done: list[DialogRecord] = []
        self.sip_messages += 1
        self._now_ns = max(self._now_ns, wire.time_ns)
        now = wire.time_ns / 1e9
        message = wire.message
        if message is None:
            why = str(wire.error) if wire.error is not None else "unparseable"
            self._find("RFC 3261 7", wire, f"unparseable SIP message: {why}", wire.src)
            return done
        sender, receiver = self._sides(wire, message)
        if now - self._last_sweep >= _SWEEP_S:
            self._last_sweep = now
            for each in list(self._endpoints.values()):
                self._timers(each, now, done)
        else:
            for side in (sender, receiver):
                if side is not None:
                    self._timers(side, now, done)
        if sender is not None:
            self._send(sender, wire, message, now, done)
        if receiver is not None:
            self._receive(receiver, wire, message, now, done)
        return done

    def finish(self) -> list[DialogRecord]:
        """Fire the timers due by the last message, then hand out every dialog still live
        (early or confirmed when the capture ended)."""
        done: list[DialogRecord] = []
        now = self._now_ns / 1e9
        for each in list(self._endpoints.values()):
            self._timers(each, now, done)
        live = [r for r in self._live.values() if r.endpoint not in self._proxies]
        self._live.clear()
        return done + live

    # -- sides ---------------------------------------------------------------------------
    def _sides(self, wire: Wire, message: Message) -> tuple[_Endpoint | None, _Endpoint | None]:
        src, dst = wire.src, wire.dst
        # a proxy forwards requests it did not originate and relays responses it did not
        # answer: both show more than one Via (RFC 3261 16.6 step 8, 16.7 step 3)
        if len(message.via) > 1:
            self._proxies.add(src if isinstance(message, Request) else dst)
        if self.as_endpoint is not None:
            sender = self._endpoint(src) if src == self.as_endpoint else None
            receiver = self._endpoint(dst) if dst == self.as_endpoint else None
        else:
            sender = None if src in self._proxies else self._endpoint(src)
            receiver = None if dst in self._proxies else self._endpoint(dst)
        return sender, receiver

    def _endpoint(self, name: str) -> _Endpoint:
        found = self._endpoints.get(name)
        if found is None:
            found = self._endpoints[name] = _Endpoint(name, self.t1)
        return found

    # -- one side ------------------------------------------------------------------------
    def _send(
        self, side: _Endpoint, wire: Wire, message: Message, now: float, done: list[DialogRecord]
    ) -> None:
        if isinstance(message, Request) and message.to.tag is not None:
            dialog = side.manager.find(message, sent=True)
            if dialog is None:
                # a request of a dialog the sender no longer (or never) had: the receiver
                # reports it; as one endpoint, the sender does
                key = DialogId(message.call_id, message.from_.tag or "", message.to.tag)
                ended = (side.name, key) in self._ended
                if self.as_endpoint is not None and ended and message.method != "ACK":
                    text = f"{message.method} sent in a terminated dialog {key}"
                    self._find("RFC 3261 12.2.2", wire, text, side.name)
                return
            if message.method in ("ACK", "BYE"):
                self._check_target(side, wire, message, dialog)
        try:
            events = side.manager.send(message, now=now)
        except LocalProtocolError as err:
            self._find(_rfc_of(err), wire, f"{side.name} sent {_label(message)}: {err}", side.name)
            return
        self._events(side, events, wire, done)

    def _receive(
        self, side: _Endpoint, wire: Wire, message: Message, now: float, done: list[DialogRecord]
    ) -> None:
        try:
            events = side.manager.receive(message, now=now)
        except GlareError:
            return  # crossing requests are allowed; the 491 or 500 answers them
        except NoSuchDialog as err:
            assert isinstance(message, Request)
            key = DialogId(message.call_id, message.to.tag or "", message.from_.tag or "")
            if (side.name, key) in self._ended:
                text = f"{message.method} in a terminated dialog {key} (at {side.name})"
                self._find("RFC 3261 12.2.2", wire, text, wire.src)
            del err  # a dialog that began before the capture is no finding
            return
        except OutOfOrderError as err:
            self._find("RFC 3261 12.2.2", wire, f"lower remote CSeq: {err}", wire.src)
            return
        except DialogError as err:
            self._find(_rfc_of(err), wire, f"{side.name} received {_label(message)}: {err}",
                       wire.src)  # fmt: skip
            return
        self._events(side, events, wire, done)

    def _timers(self, side: _Endpoint, now: float, done: list[DialogRecord]) -> None:
        # one deadline at a time: each event keeps the time its own timer was due, so the
        # moment a replay happens to look at the clock changes nothing
        manager = side.manager
        earliest = manager._earliest_timer()  # cheap: most messages find nothing due
        if earliest is None or earliest > now:
            return
        due = manager.get_timer()
        while due is not None and due <= now:
            self._events(side, manager.handle_timer(due), None, done, at=due)
            due = manager.get_timer()

    def _check_target(self, side: _Endpoint, wire: Wire, request: Request, dialog: Dialog) -> None:
        """RFC 3261 12.2.1.1: an ACK for a 2xx, and a BYE, go to the remote target of their
        dialog through its route set (loose or strict routing)."""
        uri, route = request_target(dialog.dialog_state)
        if request.uri != uri:
            self._find("RFC 3261 12.2.1.1", wire, f"{request.method} Request-URI "
                       f"{request.uri} is not the remote target {uri} of dialog {dialog.id}",
                       side.name)  # fmt: skip
        sent = [r.uri for r in request.route]
        if sent != [r.uri for r in route]:
            want = ", ".join(str(r.uri) for r in route) or "none"
            have = ", ".join(str(u) for u in sent) or "none"
            self._find("RFC 3261 12.2.1.1", wire, f"{request.method} Route ({have}) is not "
                       f"the route set ({want}) of dialog {dialog.id}", side.name)  # fmt: skip

    def _events(
        self,
        side: _Endpoint,
        events: list[Event],
        wire: Wire | None,
        done: list[DialogRecord],
        *,
        at: float | None = None,
    ) -> None:
        time_ns = wire.time_ns if wire is not None else int((at or 0.0) * 1e9)
        packet = wire.packet if wire is not None else None
        for event in events:
            if isinstance(event, DialogCreated):
                dialog = event.dialog
                role = "uac" if dialog.caller else "uas"
                record = DialogRecord(side.name, role, dialog)
                self._live[id(dialog)] = record
                record.transitions.append(
                    Transition(event.state.value, time_ns, packet, _label(event.message))
                )
            elif isinstance(event, DialogConfirmed):
                record = self._live[id(event.dialog)]
                if record.states[-1:] != ["confirmed"]:
                    record.transitions.append(
                        Transition("confirmed", time_ns, packet, _label(event.message))
                    )
            elif isinstance(event, DialogTerminated):
                found = self._live.pop(id(event.dialog), None)
                if found is None:
                    continue
                label = _label(event.message, event.reason)
                found.transitions.append(Transition("terminated", time_ns, packet, label))
                ended = self._ended
                ended[side.name, event.dialog.id] = None
                if len(ended) > _REMEMBERED:
                    ended.popitem(last=False)
                if side.name not in self._proxies:
                    done.append(found)
            elif isinstance(event, SendBye) and event.message is None:
                # RFC 3261 13.3.1.4: the UAS's 2xx was never ACKed within 64*T1
                text = f"2xx never ACKed in dialog {event.dialog.id} ({event.reason})"
                self.findings.append(Finding("RFC 3261 13.3.1.4", None, time_ns, text, side.name))

    def _find(self, rfc: str, wire: Wire, text: str, endpoint: str) -> None:
        self.findings.append(Finding(rfc, wire.packet, wire.time_ns, text, endpoint))


def _rfc_of(err: DialogError) -> str:
    """The RFC section an error names (our messages cite them), else RFC 3261."""
    found = _RFC.findall(str(err))
    return found[-1] if found else "RFC 3261"


def replay_wires(
    wires: Iterator[Wire], *, as_endpoint: str | None = None, t1: float = 0.5
) -> Iterator[DialogRecord | Finding]:
    """Stream a replay: each finished dialog, and each finding, as soon as it is known."""
    replayer = Replayer(as_endpoint=as_endpoint, t1=t1)
    reported = 0
    for wire in wires:
        done = replayer.feed(wire)
        findings = replayer.findings
        if len(findings) > reported:
            yield from findings[reported:]
            reported = len(findings)
        yield from done
        if reported > 1024:  # findings were handed out: do not keep them
            findings.clear()
            reported = 0
    done = replayer.finish()
    yield from replayer.findings[reported:]
    yield from done
