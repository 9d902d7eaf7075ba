"""The peers ``bench_replay.py`` compares with: the same reader and decoder, then sippy's
parser and a minimal dialog tracker (the baseline), or that tracker on a header scan that
checks nothing (the scan floor)."""

# sippy is imported inside its loader so a missing baseline is reported, not fatal; sippy's
# interfaces are camelCase.
# ruff: noqa: PLC0415

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dialogfsm import Decoder, Payload, read_packets

# --------------------------------------------------------------------------------------
# The sippy-based pipeline
# --------------------------------------------------------------------------------------


class SippyDialog:
    """One endpoint's dialog, as the lean tracker keeps it."""

    __slots__ = ("call_id", "endpoint", "local_seq", "local_tag", "local_uri", "remote_seq",
                 "remote_tag", "remote_target", "remote_uri", "role", "route_set",
                 "transitions")  # fmt: skip

    def __init__(
        self, endpoint: tuple[str, int], role: str, call_id: str, local_tag: str, remote_tag: str
    ) -> None:
        self.endpoint = endpoint
        self.role = role
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.local_seq: int | None = None
        self.remote_seq: int | None = None
        self.local_uri: Any = None
        self.remote_uri: Any = None
        self.remote_target: Any = None
        self.route_set: list[Any] = []
        self.transitions: list[tuple[str, int, int, str]] = []

    @property
    def states(self) -> list[str]:
        return [t[0] for t in self.transitions]


_Key = tuple[tuple[str, int], str, str, str]  # endpoint, Call-ID, local tag, remote tag
_Ids = tuple[str, str, str | None, int]  # Call-ID, From tag, To tag, CSeq number


class SippyTracker:
    """Dialogs of every endpoint from sippy-parsed messages: early on a 101-199 with a To
    tag, confirmed on a 2xx, terminated on BYE or on a non-2xx final (early dialogs)."""

    def __init__(self) -> None:
        self.dialogs: dict[_Key, SippyDialog] = {}
        # INVITEs waiting for their final response: (Call-ID, From tag) -> the INVITE
        self.pending: dict[tuple[str, str], Any] = {}
        self.by_call: dict[tuple[str, str], list[_Key]] = {}  # early dialogs per INVITE

    def feed(self, payload: Payload, msg: Any, response: bool) -> list[SippyDialog]:
        """One parsed message (``payload`` says when, where from and to); the dialogs
        that ended."""
        call_id = str(msg.getHFBody("call-id"))
        from_tag = msg.getHFBody("from").getTag()
        to_tag = msg.getHFBody("to").getTag()
        cseq, method = msg.getHFBody("cseq").getCSeq()
        ids = (call_id, from_tag, to_tag, cseq)
        if response:
            return self._response(payload, msg, ids) if method == "INVITE" else []
        return self._request(payload, msg, ids)

    def _response(self, payload: Payload, msg: Any, ids: _Ids) -> list[SippyDialog]:
        call_id, from_tag, to_tag, cseq = ids
        code, reason = msg.getSCode()
        if code < 101:
            return []
        label = f"{code} {reason}"
        invite = self.pending.get((call_id, from_tag))
        dialogs = self.dialogs
        if code < 300 and to_tag is not None and invite is not None:
            state = "early" if code < 200 else "confirmed"
            uac_key = (payload.dst, call_id, from_tag, to_tag)
            uas_key = (payload.src, call_id, to_tag, from_tag)
            for key, role in ((uac_key, "uac"), (uas_key, "uas")):
                dialog = dialogs.get(key)
                if dialog is None:
                    dialog = dialogs[key] = self._create(key, role, invite, msg, cseq)
                    self.by_call.setdefault((call_id, from_tag), []).append(key)
                elif role == "uac" and code >= 200:
                    # the route set and remote target are taken again from the 2xx
                    dialog.remote_target = _contact(msg)
                    dialog.route_set = _record_route(msg)[::-1]
                if not dialog.transitions or dialog.transitions[-1][0] != state:
                    dialog.transitions.append((state, payload.time_ns, payload.number, label))
        done: list[SippyDialog] = []
        if code >= 200:
            self.pending.pop((call_id, from_tag), None)
            keys = self.by_call.pop((call_id, from_tag), [])
            if code >= 300:  # every early dialog of the INVITE ends
                for key in keys:
                    dialog = dialogs.pop(key)
                    dialog.transitions.append(("terminated", payload.time_ns, payload.number,
                                               label))  # fmt: skip
                    done.append(dialog)
        return done

    def _request(self, payload: Payload, msg: Any, ids: _Ids) -> list[SippyDialog]:
        call_id, from_tag, to_tag, cseq = ids
        method = msg.getMethod()
        if to_tag is None:
            if method == "INVITE":
                self.pending[(call_id, from_tag)] = msg
            return []
        dialogs = self.dialogs
        sender = dialogs.get((payload.src, call_id, from_tag, to_tag))
        receiver = dialogs.get((payload.dst, call_id, to_tag, from_tag))
        if method != "ACK":
            if sender is not None:
                sender.local_seq = cseq
            if receiver is not None:
                receiver.remote_seq = cseq
        done: list[SippyDialog] = []
        if method == "BYE":
            for dialog in (sender, receiver):
                if dialog is not None:
                    del dialogs[(dialog.endpoint, call_id, dialog.local_tag, dialog.remote_tag)]
                    dialog.transitions.append(("terminated", payload.time_ns, payload.number,
                                               "BYE"))  # fmt: skip
                    done.append(dialog)
        return done

    def _create(self, key: _Key, role: str, invite: Any, msg: Any, cseq: int) -> SippyDialog:
        endpoint, call_id, local_tag, remote_tag = key
        dialog = SippyDialog(endpoint, role, call_id, local_tag, remote_tag)
        from_uri = invite.getHFBody("from").getUrl()
        to_uri = invite.getHFBody("to").getUrl()
        if role == "uac":  # RFC 3261 12.1.2: from the response
            dialog.local_seq, dialog.local_uri, dialog.remote_uri = cseq, from_uri, to_uri
            dialog.remote_target = _contact(msg)
            dialog.route_set = _record_route(msg)[::-1]
        else:  # 12.1.1: from the request
            dialog.remote_seq, dialog.local_uri, dialog.remote_uri = cseq, to_uri, from_uri
            dialog.remote_target = _contact(invite)
            dialog.route_set = _record_route(invite)
        return dialog

    def finish(self) -> list[SippyDialog]:
        live = list(self.dialogs.values())
        self.dialogs.clear()
        return live


def _contact(msg: Any) -> Any:
    contacts = msg.getHFBodys("contact")
    return contacts[0].getUrl() if contacts else None


def _record_route(msg: Any) -> list[Any]:
    return [r.getUrl() for r in msg.getHFBodys("record-route")]


def sippy_replay(path: Path, counts: dict[str, int]) -> Iterator[SippyDialog]:
    """read_packets + Decoder, sippy's parser, the lean tracker: finished dialogs out."""
    from sippy.SipRequest import SipRequest
    from sippy.SipResponse import SipResponse

    tracker = SippyTracker()
    feed = tracker.feed
    messages = unparseable = 0
    for payload in Decoder().payloads(read_packets(path)):
        if payload.transport != "UDP":
            continue
        messages += 1
        text = payload.data.decode()  # sippy parses str, not bytes
        response = text.startswith("SIP/2.0 ")
        try:
            msg = SipResponse(buf=text) if response else SipRequest(buf=text)
        except Exception:  # sippy raises plain Exception on bad input
            unparseable += 1
            continue
        yield from feed(payload, msg, response)
    yield from tracker.finish()
    counts["sip_messages"], counts["unparseable"] = messages, unparseable


_FULL_NAMES = {"i": "call-id", "f": "from", "t": "to", "m": "contact", "v": "via"}


class _Scanned:
    """A message as the header scan leaves it, behind the few sippy methods the tracker
    calls: the start line, and each header's raw values by lower-case full name. Nothing
    is checked: a floor, not a parser."""

    __slots__ = ("first", "headers")

    def __init__(self, data: bytes) -> None:
        head = data[: data.find(b"\r\n\r\n")].decode()
        self.first, _, rest = head.partition("\r\n")
        headers: dict[str, list[str]] = {}
        for line in rest.split("\r\n"):
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers.setdefault(_FULL_NAMES.get(name, name), []).append(value.strip())
        self.headers = headers

    def getHFBody(self, name: str) -> _ScannedValue:  # noqa: N802
        return _ScannedValue(self.headers[name][0])

    def getHFBodys(self, name: str) -> list[_ScannedValue]:  # noqa: N802
        return [_ScannedValue(v) for v in self.headers.get(name, ())]

    def getSCode(self) -> tuple[int, str]:  # noqa: N802
        _, code, reason = self.first.split(" ", 2)
        return int(code), reason

    def getMethod(self) -> str:  # noqa: N802
        return self.first.split(" ", 1)[0]


_TAG = re.compile(r";\s*tag=([^;>\s]+)", re.IGNORECASE)


class _ScannedValue:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def getTag(self) -> str | None:  # noqa: N802
        found = _TAG.search(self.text)
        return found.group(1) if found else None

    def getUrl(self) -> str:  # noqa: N802
        text = self.text
        start = text.find("<")
        return text[start + 1 : text.index(">", start)] if start >= 0 else text.split(";")[0]

    def getCSeq(self) -> tuple[int, str]:  # noqa: N802
        number, method = self.text.split()
        return int(number), method


def scan_replay(path: Path, counts: dict[str, int]) -> Iterator[SippyDialog]:
    """The sippy pipeline with sippy's parser swapped for a header scan that checks
    nothing: what the baseline's job costs in CPython once parsing is (almost) free."""
    tracker = SippyTracker()
    feed = tracker.feed
    messages = 0
    for payload in Decoder().payloads(read_packets(path)):
        if payload.transport != "UDP":
            continue
        messages += 1
        scanned = _Scanned(payload.data)
        yield from feed(payload, scanned, scanned.first.startswith("SIP/2.0 "))
    yield from tracker.finish()
    counts["sip_messages"], counts["unparseable"] = messages, 0
