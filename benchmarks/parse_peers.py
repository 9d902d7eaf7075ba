"""The contestants of ``bench_parse.py``: dialogfsm, sippy, sipmessage, pyVoIP and a
floor, each a loader that returns a parse-and-read function or raises ImportError."""

# Each library is imported inside its loader so a missing baseline is reported, not fatal.
# ruff: noqa: PLC0415

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parse_messages import EXPECTED, MESSAGES, Fields, mismatches, normalise

_REPO_ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------
# Contestants: each returns a parse-and-read function, or raises ImportError
# --------------------------------------------------------------------------------------

Extract = Callable[[bytes], Fields]


def load_dialogfsm() -> Extract:
    import dialogfsm

    parse_message = dialogfsm.parse_message

    def extract(data: bytes) -> Fields:
        msg = parse_message(data)
        from_ = msg.from_
        to = msg.to
        cseq = msg.cseq
        top_via = msg.via[0]
        contact = msg.contact
        return Fields(
            msg.call_id,
            from_.uri,
            from_.tag,
            from_.display_name,
            to.uri,
            to.tag,
            cseq.number,
            cseq.method,
            top_via.branch,
            top_via.sent_by,
            contact[0].uri if contact else None,
            [r.uri for r in msg.record_route],
            [r.uri for r in msg.route],
            msg.max_forwards,
        )

    return extract


def load_sippy() -> Extract:
    from sippy.SipRequest import SipRequest
    from sippy.SipResponse import SipResponse

    def extract(data: bytes) -> Fields:
        text = data.decode()  # sippy parses str, not bytes
        msg = SipResponse(buf=text) if text.startswith("SIP/") else SipRequest(buf=text)
        from_ = msg.getHFBody("from")
        to = msg.getHFBody("to")
        number, method = msg.getHFBody("cseq").getCSeq()
        via = msg.getHFBody("via")
        sent_by = via.hostname if via.port is None else f"{via.hostname}:{via.port}"
        contacts = msg.getHFBodys("contact")
        max_forwards = msg.getHFBodys("max-forwards")
        return Fields(
            str(msg.getHFBody("call-id")),
            from_.getUrl(),
            from_.getTag(),
            from_.getUri().name,
            to.getUrl(),
            to.getTag(),
            number,
            method,
            via.getBranch(),
            sent_by,
            contacts[0].getUrl() if contacts else None,
            [r.getUrl() for r in msg.getHFBodys("record-route")],
            [r.getUrl() for r in msg.getHFBodys("route")],
            max_forwards[0].getNum() if max_forwards else None,
        )

    return extract


def load_sipmessage() -> Extract:
    from sipmessage import Message

    def extract(data: bytes) -> Fields:
        msg = Message.parse(data)
        from_ = msg.from_address
        to = msg.to_address
        cseq = msg.cseq
        top_via = msg.via[0]
        sent_by = top_via.host if top_via.port is None else f"{top_via.host}:{top_via.port}"
        contact = msg.contact
        return Fields(
            msg.call_id,
            from_.uri,
            from_.parameters.get("tag"),
            from_.name,
            to.uri,
            to.parameters.get("tag"),
            cseq.sequence,
            cseq.method,
            top_via.parameters.get("branch"),
            sent_by,
            contact[0].uri if contact else None,
            [r.uri for r in msg.record_route],
            [r.uri for r in msg.route],
            msg.max_forwards,
        )

    return extract


def _bracketed(value: str) -> str:
    """The URI of a name-addr (between < and >), or the addr-spec before any ';'."""
    start = value.find("<")
    if start >= 0:
        return value[start + 1 : value.index(">", start)]
    return value.partition(";")[0].strip()


def load_pyvoip() -> Extract:
    # pyVoIP 1.6.8 has an import cycle: importing pyVoIP.SIP first fails with
    # "partially initialized module 'pyVoIP.SIP' has no attribute 'SIPMessage'";
    # importing pyVoIP.VoIP first (which imports SIP itself) works.
    importlib.import_module("pyVoIP.VoIP")
    from pyVoIP.SIP import SIPMessage

    # pyVoIP's headers dict holds From/To/Via/CSeq pre-split; Contact, Record-Route, Route
    # and Max-Forwards are left as raw text (only the FIRST line of a repeated header is
    # kept), so this adapter finishes the job with the same cheap string work as the floor.
    def extract(data: bytes) -> Fields:
        headers = SIPMessage(data).headers
        from_ = headers["From"]
        to = headers["To"]
        cseq = headers["CSeq"]
        top_via = headers["Via"][0]
        host, port = top_via["address"]
        contact = headers.get("Contact")
        record_route = headers.get("Record-Route")
        route = headers.get("Route")
        max_forwards = headers.get("Max-Forwards")
        return Fields(
            headers["Call-ID"],
            "sip:" + from_["address"],
            from_["tag"],
            from_["caller"],
            "sip:" + to["address"],
            to["tag"],
            cseq["check"],
            cseq["method"],
            top_via.get("branch"),
            f"{host}:{port}",
            _bracketed(contact) if contact else None,
            [_bracketed(r) for r in record_route.split(",")] if record_route else [],
            [_bracketed(r) for r in route.split(",")] if route else [],
            max_forwards,
        )

    return extract


def _param(value: str, name: str) -> str | None:
    """Naive ';name=value' lookup in header text."""
    start = value.find(f";{name}=")
    if start < 0:
        return None
    rest = value[start + len(name) + 2 :]
    return rest.partition(";")[0].partition(">")[0].strip()


def load_floor() -> Extract:
    """Cheapest plausible pure-Python reading: split the head on CRLF, partition on ':'.

    No folding, no compact forms, no comma lists, no quoting rules, no validation: a lower
    bound on what Python code doing this job can cost, not a usable parser.
    """

    def extract(data: bytes) -> Fields:
        head, _, _body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        from_ = headers["from"][0]
        to = headers["to"][0]
        number, _, method = headers["cseq"][0].partition(" ")
        top_via = headers["via"][0]
        sent_by = top_via.partition(" ")[2].partition(";")[0]
        display = from_.partition("<")[0].strip().strip('"') if "<" in from_ else None
        contact = headers.get("contact")
        max_forwards = headers.get("max-forwards")
        return Fields(
            headers["call-id"][0],
            _bracketed(from_),
            _param(from_, "tag"),
            display,
            _bracketed(to),
            _param(to, "tag"),
            int(number),
            method,
            _param(top_via, "branch"),
            sent_by,
            _bracketed(contact[0]) if contact else None,
            [_bracketed(r) for r in headers.get("record-route", ())],
            [_bracketed(r) for r in headers.get("route", ())],
            int(max_forwards[0]) if max_forwards else None,
        )

    return extract


@dataclass
class Contestant:
    name: str
    distribution: str | None  # PyPI distribution whose version to report
    loader: Callable[[], Extract]
    extract: Extract | None = None
    version: str = ""
    unavailable: str = ""  # why it could not be loaded
    wrong: dict[str, list[str]] = field(default_factory=dict)  # message -> bad fields
    errors: dict[str, str] = field(default_factory=dict)  # message -> exception text
    micros: dict[str, float] = field(default_factory=dict)  # message -> us per message


CONTESTANTS: list[Contestant] = [
    Contestant("dialogfsm", "dialogfsm", load_dialogfsm),
    Contestant("sippy", "sippy", load_sippy),
    Contestant("sipmessage", "sipmessage", load_sipmessage),
    Contestant("pyVoIP", "pyVoIP", load_pyvoip),
    Contestant("floor (split+dict)", None, load_floor),
]


def _version(distribution: str | None) -> str:
    if distribution is None:
        return "-"
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    module = sys.modules.get(distribution)
    source = getattr(module, "__file__", None) or ""
    if Path(source).resolve().is_relative_to(_REPO_ROOT):
        version += " (this tree)"
    return version


def load(contestant: Contestant) -> None:
    try:
        contestant.extract = contestant.loader()
    except Exception as exc:  # ImportError, or a broken install raising anything else
        contestant.unavailable = f"{type(exc).__name__}: {exc}"
        return
    contestant.version = _version(contestant.distribution)


def describe(exc: BaseException) -> str:
    """Exception type, first line of its text, and the innermost frame that raised it."""
    text = str(exc).splitlines()[0] if str(exc) else "(no message)"
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = ""
    if tb is not None:
        code = tb.tb_frame.f_code
        where = f" in {Path(code.co_filename).name}:{tb.tb_lineno} {code.co_name}()"
    return f"{type(exc).__name__}: {text[:80]}{where}"


def verify(contestant: Contestant) -> None:
    """Check each answer once before timing; record wrong fields and exceptions."""
    assert contestant.extract is not None
    for label, data in MESSAGES.items():
        try:
            got = normalise(contestant.extract(data))
        except Exception as exc:
            contestant.errors[label] = describe(exc)
            continue
        bad = mismatches(got, EXPECTED[label])
        if bad:
            contestant.wrong[label] = bad
