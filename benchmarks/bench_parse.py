"""Parse-and-read benchmark: dialogfsm against sippy, sipmessage, pyVoIP and a floor.

Each contestant gets the same three datagrams (an INVITE, the 200 OK to it, and a BYE
in the same dialog) as ``bytes`` and must, inside the timed call, parse the message AND
read every field a dialog layer needs: Call-ID, From URI + tag + display name, To URI +
tag, CSeq number + method, top Via branch + sent-by, first Contact URI, the Record-Route
URIs, the Route URIs and Max-Forwards.

Before timing, every contestant's answers are checked against the known values once; a
contestant that gets a field wrong is still timed, but flagged. A second section
("correctness notes") feeds each contestant RFC 3261-valid rewrites of the INVITE
(compact header names, folded lines, comma-joined lists, ...) and reports what breaks.

Timing uses ``timeit`` with the garbage collector off (timeit's default): the loop count
is calibrated so one run lasts about ``--min-time`` seconds, runs of all contestants are
interleaved, and each cell reports the minimum over ``--repeat`` runs, as microseconds
per message.

Run from the repository root::

    python benchmarks/bench_parse.py            # full run (about a minute)
    python benchmarks/bench_parse.py --quick    # rough figures in a few seconds

A baseline that is not installed is reported as "unavailable"; nothing else changes.
"""

# Each library is imported inside its loader so a missing baseline is reported, not fatal.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.metadata
import platform
import sys
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

# Let ``python benchmarks/bench_parse.py`` find the package in the source tree.
_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

# --------------------------------------------------------------------------------------
# The messages (RFC 3665 3.2-style call through two record-routing proxies)
# --------------------------------------------------------------------------------------


def _message(head: str, body: str = "") -> bytes:
    """Join header lines with CRLF, add Content-Length and the body."""
    lines = [*head.strip("\n").split("\n"), f"Content-Length: {len(body.encode())}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def _sdp(lines: str) -> str:
    return "\r\n".join(lines.strip("\n").split("\n")) + "\r\n"


SDP_OFFER = _sdp(
    """
v=0
o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""
)

SDP_ANSWER = _sdp(
    """
v=0
o=bob 2808844564 2808844564 IN IP4 client.biloxi.example.com
s=-
c=IN IP4 192.0.2.201
t=0 0
m=audio 3456 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
"""
)

# The INVITE as Bob's UA receives it: two Vias, two Record-Routes, 16 header lines.
INVITE = _message(
    """
INVITE sip:bob@client.biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK721e418c4.1
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101;branch=z9hG4bKnashds8
Max-Forwards: 68
Record-Route: <sip:ss2.biloxi.example.com;lr>
Record-Route: <sip:ss1.atlanta.example.com;lr>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE
Supported: replaces, timer, 100rel
User-Agent: ExamplePhone/4.2.1 (build 1877)
Subject: Lunch?
Content-Type: application/sdp
""",
    SDP_OFFER,
)

# Bob's 200 OK: same Vias and Record-Routes, To now tagged, Bob's Contact, SDP answer.
OK_200 = _message(
    """
SIP/2.0 200 OK
Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK721e418c4.1
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101;branch=z9hG4bKnashds8
Record-Route: <sip:ss2.biloxi.example.com;lr>
Record-Route: <sip:ss1.atlanta.example.com;lr>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@client.biloxi.example.com:5060;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE
Supported: replaces, timer
Server: ExampleUA/1.9.0
Content-Type: application/sdp
""",
    SDP_ANSWER,
)

# Alice hangs up: the route set is the Record-Route list reversed, no body, no Contact.
BYE = _message(
    """
BYE sip:bob@client.biloxi.example.com:5060;transport=udp SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bKnashds10
Max-Forwards: 70
Route: <sip:ss1.atlanta.example.com;lr>
Route: <sip:ss2.biloxi.example.com;lr>
From: "Alice Liddell" <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=314159
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 314160 BYE
User-Agent: ExamplePhone/4.2.1 (build 1877)
"""
)


class Fields(NamedTuple):
    """What a dialog layer reads from a message.

    Adapters fill it with the library's own objects (URI objects, ints, ...); ``normalise``
    turns those into plain strings and ints outside the timed region for comparison.
    """

    call_id: Any
    from_uri: Any
    from_tag: Any
    from_display: Any
    to_uri: Any
    to_tag: Any
    cseq_number: Any
    cseq_method: Any
    via_branch: Any
    via_sent_by: Any
    contact_uri: Any
    record_route: Sequence[Any]
    route: Sequence[Any]
    max_forwards: Any


_ALICE = "sip:alice@atlanta.example.com"
_BOB = "sip:bob@biloxi.example.com"
_CALL_ID = "3848276298220188511@atlanta.example.com"
_RR = ("sip:ss2.biloxi.example.com;lr", "sip:ss1.atlanta.example.com;lr")

EXPECTED: dict[str, Fields] = {
    "INVITE": Fields(
        _CALL_ID, _ALICE, "9fxced76sl", "Alice Liddell", _BOB, None, 314159, "INVITE",
        "z9hG4bK721e418c4.1", "ss2.biloxi.example.com:5060",
        "sip:alice@pc33.atlanta.example.com:5060;transport=udp", _RR, (), 68,
    ),
    "200": Fields(
        _CALL_ID, _ALICE, "9fxced76sl", "Alice Liddell", _BOB, "314159", 314159, "INVITE",
        "z9hG4bK721e418c4.1", "ss2.biloxi.example.com:5060",
        "sip:bob@client.biloxi.example.com:5060;transport=udp", _RR, (), None,
    ),
    "BYE": Fields(
        _CALL_ID, _ALICE, "9fxced76sl", "Alice Liddell", _BOB, "314159", 314160, "BYE",
        "z9hG4bKnashds10", "pc33.atlanta.example.com:5060", None, (), _RR[::-1], 70,
    ),
}  # fmt: skip

MESSAGES: dict[str, bytes] = {"INVITE": INVITE, "200": OK_200, "BYE": BYE}


def distinct_calls(data: bytes, calls: int) -> list[bytes]:
    """``calls`` copies of one message, each from a different call.

    Every per-call value is fresh (Call-ID, tags, branches, CSeq number) and callers and
    callees rotate through 100 users each, so no library gains from meeting the very same
    header text again, as it would when one message is parsed in a loop. The proxies'
    Record-Route and Route entries stay the same, as they do on a real network.
    """
    out = []
    for i in range(calls):
        text = data.decode()
        for old, new in (
            ("3848276298220188511", f"{i:019d}"),
            ("9fxced76sl", f"f{i:09x}"),
            ("tag=314159", f"tag={i:06d}"),
            ("z9hG4bK721e418c4.1", f"z9hG4bK{i:010x}.1"),
            ("z9hG4bKnashds8", f"z9hG4bKa{i:06x}"),
            ("z9hG4bKnashds10", f"z9hG4bKb{i:07x}"),
            ("314159 INVITE", f"{100000 + i * 7} INVITE"),
            ("314160 BYE", f"{100001 + i * 7} BYE"),
            ("sip:bob@", f"sip:bob{i % 100}@"),
            ("sip:alice@", f"sip:alice{i % 100}@"),
        ):
            text = text.replace(old, new)
        out.append(text.encode())
    return out


def _text(value: Any) -> str | None:
    """A field as text: None and "" both mean absent."""
    if value is None:
        return None
    text = str(value)
    return text or None


def normalise(fields: Fields) -> Fields:
    """Library objects -> plain values, so answers from every library compare equal."""
    return Fields(
        _text(fields.call_id),
        _text(fields.from_uri),
        _text(fields.from_tag),
        _text(fields.from_display),
        _text(fields.to_uri),
        _text(fields.to_tag),
        None if fields.cseq_number is None else int(fields.cseq_number),
        _text(fields.cseq_method),
        _text(fields.via_branch),
        _text(fields.via_sent_by),
        _text(fields.contact_uri),
        tuple(str(u) for u in fields.record_route),
        tuple(str(u) for u in fields.route),
        None if fields.max_forwards is None else int(fields.max_forwards),
    )


def mismatches(got: Fields, want: Fields) -> list[str]:
    """Names of the fields that differ, each with the value the library gave."""
    return [
        f"{name}={g!r} (want {w!r})"
        for name, g, w in zip(Fields._fields, got, want, strict=True)
        if g != w
    ]


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


def _describe(exc: BaseException) -> str:
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
            contestant.errors[label] = _describe(exc)
            continue
        bad = mismatches(got, EXPECTED[label])
        if bad:
            contestant.wrong[label] = bad


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


def _loops_for(timer: timeit.Timer, min_time: float) -> int:
    """Loop count that makes one ``timer.timeit`` run last about ``min_time`` seconds."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= min(0.05, min_time):
            return max(1, round(number * min_time / elapsed))
        number *= 2


def _each(extract: Extract, datas: Sequence[bytes]) -> None:
    for data in datas:
        extract(data)


def bench(contestants: Sequence[Contestant], *, repeat: int, min_time: float, calls: int) -> None:
    """Time every (contestant, message) cell; keep each cell's fastest run.

    A cell parses the message of ``calls`` distinct calls (see ``distinct_calls``), or
    the one message over and over when ``calls`` is 0. The repeats are interleaved (round
    1 of every cell, then round 2, ...) so that a burst of load on the machine slows all
    contestants alike instead of one of them.
    """
    batches = {
        label: distinct_calls(data, calls) if calls else [data] for label, data in MESSAGES.items()
    }
    cells: list[tuple[Contestant, str, timeit.Timer, int]] = []
    for contestant in contestants:
        extract = contestant.extract
        if extract is None:
            continue
        for label, datas in batches.items():
            if label not in contestant.errors:
                timer = timeit.Timer(functools.partial(_each, extract, datas))
                cells.append((contestant, label, timer, _loops_for(timer, min_time)))
    for _ in range(repeat):
        for contestant, label, timer, number in cells:
            micros = timer.timeit(number) / number / len(batches[label]) * 1e6
            contestant.micros[label] = min(micros, contestant.micros.get(label, micros))


# --------------------------------------------------------------------------------------
# Correctness notes: RFC 3261-valid rewrites of the INVITE (same meaning, same answers)
# --------------------------------------------------------------------------------------


def _rewrite(data: bytes, *pairs: tuple[str, str]) -> bytes:
    text = data.decode()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


_VIA1 = "Via: SIP/2.0/UDP ss2.biloxi.example.com:5060;branch=z9hG4bK721e418c4.1\r\n"
_VIA2 = "Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;received=192.0.2.101;branch=z9hG4bKnashds8"
_RR1 = "Record-Route: <sip:ss2.biloxi.example.com;lr>\r\n"
_RR2 = "Record-Route: <sip:ss1.atlanta.example.com;lr>"


@dataclass(frozen=True)
class Variant:
    name: str
    data: bytes
    changes: dict[str, Any] = field(default_factory=dict)  # expected fields that differ

    @property
    def expected(self) -> Fields:
        return EXPECTED["INVITE"]._replace(**self.changes)


VARIANTS: list[Variant] = [
    Variant(
        "compact header names (v f t i m k c)",
        _rewrite(
            INVITE,
            ("Via: ", "v: "),
            ("From: ", "f: "),
            ("To: ", "t: "),
            ("Call-ID: ", "i: "),
            ("Contact: ", "m: "),
            ("Supported: ", "k: "),
            ("Content-Type: ", "c: "),
        ),
    ),
    Variant(
        "lower-case header names",
        _rewrite(
            INVITE,
            ("Via: ", "via: "),
            ("From: ", "from: "),
            ("To: ", "to: "),
            ("Call-ID: ", "call-id: "),
            ("CSeq: ", "cseq: "),
            ("Record-Route: ", "record-route: "),
        ),
    ),
    Variant(
        "Via and Record-Route comma-joined on one line each",
        _rewrite(
            INVITE,
            (_VIA1 + _VIA2, _VIA1.rstrip("\r\n") + ", " + _VIA2.removeprefix("Via: ")),
            (_RR1 + _RR2, _RR1.rstrip("\r\n") + ", " + _RR2.removeprefix("Record-Route: ")),
        ),
    ),
    Variant(
        "folded header lines (From, Via, Record-Route)",
        _rewrite(
            INVITE,
            ('"Alice Liddell" <', '"Alice Liddell"\r\n <'),
            (":5060;branch=z9hG4bK721e418c4.1", ":5060\r\n\t;branch=z9hG4bK721e418c4.1"),
            (_RR1 + _RR2, _RR1.rstrip("\r\n") + ",\r\n " + _RR2.removeprefix("Record-Route: ")),
        ),
    ),
    Variant(
        "whitespace around ':' (HCOLON), none after it",
        _rewrite(
            INVITE,
            ("Call-ID: ", "Call-ID :"),
            ("CSeq: 314159", "CSeq\t:  314159"),
            ("To: Bob", "To:Bob"),
        ),
    ),
    Variant(
        "quoted display name with ',' and ';'",
        _rewrite(INVITE, ('"Alice Liddell"', '"Liddell, Alice; PhD"')),
        {"from_display": "Liddell, Alice; PhD"},
    ),
    Variant(
        "From tag followed by another parameter",
        _rewrite(INVITE, (";tag=9fxced76sl", ";tag=9fxced76sl;x-pop=7")),
    ),
    Variant(
        "2 Contacts in one header (first one wins)",
        _rewrite(
            INVITE,
            (
                "Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>",
                "Contact: <sip:alice@pc33.atlanta.example.com:5060;transport=udp>;q=0.9, "
                "<sip:alice@198.51.100.7>;q=0.1",
            ),
        ),
    ),
]


def check_variants(contestants: Sequence[Contestant]) -> list[str]:
    """Feed each variant to each contestant; report exceptions and newly wrong fields.

    Fields a contestant already gets wrong on the plain INVITE are left out here (they
    are listed once above), so each line shows only what the rewrite itself breaks.
    """
    lines: list[str] = []
    for variant in VARIANTS:
        lines.append(f"- {variant.name}")
        for contestant in contestants:
            if contestant.extract is None:
                continue
            known = {bad.partition("=")[0] for bad in contestant.wrong.get("INVITE", [])}
            try:
                got = normalise(contestant.extract(variant.data))
            except Exception as exc:
                verdict = f"raises {_describe(exc)}"
            else:
                bad = [
                    b for b in mismatches(got, variant.expected) if b.partition("=")[0] not in known
                ]
                verdict = "WRONG " + "; ".join(bad) if bad else "ok"
                if known:
                    verdict += f" (not counting {', '.join(sorted(known))}: wrong on plain INVITE)"
            lines.append(f"    {contestant.name:<20} {verdict}")
    return lines


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _cell(contestant: Contestant, label: str) -> str:
    if label in contestant.errors:
        return "error"
    value = contestant.micros.get(label)
    if value is None:
        return "-"
    return f"{value:.2f}" + ("*" if label in contestant.wrong else "")


def _mean(contestant: Contestant) -> float | None:
    if len(contestant.micros) != len(MESSAGES):
        return None
    return sum(contestant.micros.values()) / len(MESSAGES)


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def report(contestants: Sequence[Contestant], reference: Contestant) -> list[str]:
    labels = list(MESSAGES)
    head = ["library", "version", *(f"{x} us" for x in labels), "mean us", "vs dialogfsm"]
    rows: list[list[str]] = []
    ref_mean = _mean(reference)
    for c in contestants:
        if c.extract is None:
            rows.append([c.name, "unavailable", *["-"] * len(labels), "-", "n/a"])
            continue
        mean = _mean(c)
        rows.append(
            [
                c.name,
                c.version,
                *(_cell(c, x) for x in labels),
                "-" if mean is None else f"{mean:.2f}" + ("*" if c.wrong else ""),
                _ratio(mean, ref_mean),
            ]
        )
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        # text columns left-aligned, figures right-aligned
        return "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(head), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]
    if any(c.wrong for c in contestants):
        out.append("(* = timed, but some fields read wrong; see below)")
    out.append("")
    by_name = {c.name: c for c in contestants}
    for name in ("sippy", "pyVoIP"):
        other = by_name[name]
        per_msg = ", ".join(
            f"{x} {_ratio(other.micros.get(x), reference.micros.get(x))}" for x in labels
        )
        out.append(f"{name}/dialogfsm: mean {_ratio(_mean(other), ref_mean)}  ({per_msg})")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7, help="timing repeats (min is kept)")
    parser.add_argument(
        "--min-time", type=float, default=0.5, help="seconds per repeat (loop count calibrated)"
    )
    parser.add_argument("--quick", action="store_true", help="--repeat 3 --min-time 0.1")
    parser.add_argument("--no-notes", action="store_true", help="skip the correctness notes")
    parser.add_argument(
        "--calls",
        type=int,
        default=2000,
        help="distinct calls per message type (0: parse the one message over and over, which "
        "flatters any parser that remembers what it parsed)",
    )
    args = parser.parse_args(argv)
    repeat, min_time = (3, 0.1) if args.quick else (args.repeat, args.min_time)

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.machine()}; timeit min of {repeat} x ~{min_time}s, GC off"
    )
    sizes = ", ".join(f"{k} {len(v)} B" for k, v in MESSAGES.items())
    print(f"messages: {sizes}")
    mode = f"{args.calls} distinct calls each" if args.calls else "the same bytes each time"
    print(f"each message type parsed from {mode}")

    for contestant in CONTESTANTS:
        load(contestant)
        if contestant.extract is None:
            print(f"{contestant.name}: unavailable ({contestant.unavailable})")
            continue
        verify(contestant)
    bench(CONTESTANTS, repeat=repeat, min_time=min_time, calls=args.calls)
    print()
    for line in report(CONTESTANTS, CONTESTANTS[0]):
        print(line)

    print("\nAnswers on the benchmark messages (checked once before timing):")
    for c in CONTESTANTS:
        if c.extract is None:
            continue
        if not c.wrong and not c.errors:
            print(f"  {c.name:<20} all fields correct on {', '.join(MESSAGES)}")
        for label, text in c.errors.items():
            print(f"  {c.name:<20} {label}: raises {text}")
        for label, bad in c.wrong.items():
            print(f"  {c.name:<20} {label}: WRONG {'; '.join(bad)}")

    if not args.no_notes:
        print("\nCorrectness notes (RFC 3261-valid rewrites of the INVITE, same answers expected):")
        for line in check_variants(CONTESTANTS):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
