"""The peers dialogfsm is timed against: a naive manager that gives each dialog its own
``transitions.Machine``, and sippy's UA driven without a network, through a stand-in for its
transaction layer or through the real ``SipTransactionManager`` writing to a fake socket.
"""

# Baselines are imported inside their loaders so a missing one is reported, not fatal;
# sippy's interfaces (regConsumer, sendResponse, getSIPaddr, ...) are camelCase.
# ruff: noqa: PLC0415, N802

from __future__ import annotations

import gc
import importlib.metadata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dialog_calls import (
    ALICE_HOST,
    BOB_HOST,
    NEXT_HOP,
    SDP_ANSWER,
    SDP_OFFER,
    Call,
    UacCall,
    UasCall,
    fill,
)
from dialog_dialogfsm import Message

from dialogfsm import TRANSITIONS, Request, Response, State

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


def ignore_event(event: Any, ua: Any) -> None:
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
        return ua_class(config, event_cb=ignore_event, ltag=tag[0])

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
        ua = ua_class(config, event_cb=ignore_event, ltag=current["tag"])
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
            ua = ua_class(config, event_cb=ignore_event, nh_address=NEXT_HOP, ltag=c.alice_tag)
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
            ua = ua_class(config, event_cb=ignore_event, nh_address=NEXT_HOP, ltag=c.alice_tag)
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
