"""Ladder diagrams: one lane per endpoint, one arrow per SIP message, the replay's dialog
state changes as notes right after the packet that caused them, one colour per dialog.

The SVG is read back as XML and checked against the replay of the same file; text boxes are
the layout's own estimates (``text_width``), so "no overlap" is what the layout promises.
The Mermaid text is compared with golden files under ``tests/data/golden/``; the bundled
SIPp captures get new Call-IDs and tags when they are regenerated, so both sides are
compared with the SIPp process ids replaced. ``UPDATE_GOLDEN=1`` rewrites them (as in
test_diagram).
"""

from __future__ import annotations

import os
import re
import socket
import struct
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from dialogfsm import DialogId, replay
from dialogfsm._ladder import Arrow, Ladder, Note, ladder
from dialogfsm._ladder_draw import PALETTE, ladder_html, ladder_mermaid, ladder_svg, text_width
from dialogfsm._sources import SourceCounts, open_source
from dialogfsm.cli import build_parser, main

DATA = Path(__file__).parent / "data"
SIPP = DATA / "sipp"
GOLDEN = DATA / "golden"
TIMER_LOG = GOLDEN / "forking-timer.msg.log"
SVG = "{http://www.w3.org/2000/svg}"
BUNDLED = ["uac-uas.pcap", "forking.pcap", "reinvite.pcap", "cancel.pcap", "tcp.pcap", "busy.pcap"]
Box = tuple[float, float, float, float]


# -- reading the SVG back ---------------------------------------------------------------------
def svg_of(path: Path | str, **kwargs: object) -> ET.Element:
    return ET.fromstring(ladder_svg(ladder(path, **kwargs)))  # type: ignore[arg-type]


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


def attr(element: ET.Element, name: str) -> str:
    value = element.get(name)
    assert value is not None, f"{element.tag} has no {name}"
    return value


def stroke_of(arrow: ET.Element) -> ET.Element:
    """The line (or, to itself, the path) of an arrow group."""
    found = [e for e in arrow if e.tag in (f"{SVG}line", f"{SVG}path")]
    assert len(found) == 1
    return found[0]


def arrow_y(arrow: ET.Element) -> float:
    line = stroke_of(arrow)
    if line.tag == f"{SVG}line":
        return float(attr(line, "y1"))
    found = re.match(r"M[-\d.]+,([-\d.]+)", attr(line, "d"))
    assert found is not None
    return float(found.group(1))


def label_of(group: ET.Element) -> str:
    """The first text of a group: an arrow's label, a note's text, a lane's name."""
    text = group.find(f"{SVG}text")
    assert text is not None
    return text.text or ""


def text_box(text: ET.Element) -> Box:
    x, y, size = float(attr(text, "x")), float(attr(text, "y")), float(attr(text, "font-size"))
    width = text_width(text.text or "", size)
    anchor = text.get("text-anchor", "start")
    left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    return left, y - 0.8 * size, left + width, y + 0.25 * size


def rect_box(rect: ET.Element) -> Box:
    x, y = float(attr(rect, "x")), float(attr(rect, "y"))
    return x, y, x + float(attr(rect, "width")), y + float(attr(rect, "height"))


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def lane_names(root: ET.Element) -> list[str]:
    return [label_of(g) for g in groups(root, "lane")]


# -- a capture made here: raw IPv4/UDP in a classic pcap (LINKTYPE_RAW 101) --------------------
def write_pcap(path: Path, packets: list[tuple[str, str, bytes]]) -> Path:
    """``(src, dst, payload)`` datagrams, ``ip:port`` each, 100 ms apart."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]
    for n, (src, dst, data) in enumerate(packets):
        (src_ip, sport), (dst_ip, dport) = (a.split(":") for a in (src, dst))
        udp = struct.pack("!HHHH", int(sport), int(dport), 8 + len(data), 0) + data
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n, 0, 64, 17, 0,
                         socket.inet_aton(src_ip), socket.inet_aton(dst_ip)) + udp  # fmt: skip
        out.append(struct.pack("<IIII", 1_700_000_000 + n // 10, n % 10 * 100_000, len(ip),
                               len(ip)) + ip)  # fmt: skip
    path.write_bytes(b"".join(out))
    return path


A, P, B = "192.0.2.1:5060", "192.0.2.2:5060", "192.0.2.3:5060"


def sip(start: str, vias: list[str], cseq: str, to_tag: str | None = None) -> bytes:
    """One message of the call ``c1`` from Alice (tag ``a1``) to Bob."""
    to = "<sip:bob@example.com>" + (f";tag={to_tag}" if to_tag else "")
    via = [f"Via: SIP/2.0/UDP {v};branch=z9hG4bK-{v.split(':')[0]}-{cseq[0]}" for v in vias]
    lines = [start, *via,
             "From: <sip:alice@example.com>;tag=a1", f"To: {to}", "Call-ID: c1",
             f"CSeq: {cseq}", "Contact: <sip:x@192.0.2.9>", "Max-Forwards: 70",
             "Content-Length: 0"]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def proxied_call(tmp_path: Path) -> Path:
    """Alice calls Bob through a proxy; the ACK and BYE go straight (across the proxy's
    lane); the proxy sends itself an OPTIONS (an arrow to its own lane)."""
    inv, ok = "INVITE sip:bob@example.com SIP/2.0", "SIP/2.0 200 OK"
    return write_pcap(tmp_path / "proxied.pcap", [
        (A, P, sip(inv, [A], "1 INVITE")),
        (P, B, sip(inv, [P, A], "1 INVITE")),
        (B, P, sip("SIP/2.0 180 Ringing", [P, A], "1 INVITE", "b1")),
        (P, A, sip("SIP/2.0 180 Ringing", [A], "1 INVITE", "b1")),
        (B, P, sip(ok, [P, A], "1 INVITE", "b1")),
        (P, A, sip(ok, [A], "1 INVITE", "b1")),
        (A, B, sip("ACK sip:x@192.0.2.9 SIP/2.0", [A], "1 ACK", "b1")),
        (P, P, sip("OPTIONS sip:192.0.2.2 SIP/2.0", [P], "7 OPTIONS")),
        (A, B, sip("BYE sip:x@192.0.2.9 SIP/2.0", [A], "2 BYE", "b1")),
        (B, A, sip(ok, [A], "2 BYE", "b1")),
    ])  # fmt: skip


# -- lanes, arrows, labels ----------------------------------------------------------------------
@pytest.mark.parametrize("name", BUNDLED)
def test_one_arrow_per_sip_message(name: str) -> None:
    """Every SIP message the replay reads is one arrow, with a marker at its end, between
    two lanes whose headers name the endpoints."""
    root = svg_of(SIPP / name)
    arrows = groups(root, "arrow")
    assert len(arrows) == replay(SIPP / name).sip_messages
    markers = {f"url(#{attr(m, 'id')})" for m in root.iter(f"{SVG}marker")}
    assert all(attr(stroke_of(a), "marker-end") in markers for a in arrows)
    seen = [e for w in open_source(SIPP / name, SourceCounts()) for e in (w.src, w.dst)]
    assert lane_names(root) == list(dict.fromkeys(seen))
    assert len(lane_names(root)) == 2  # the SIPp UAC and UAS


def test_uac_uas_labels_in_capture_order() -> None:
    """RFC 3261 7: requests by method and CSeq, responses by status and the CSeq they
    answer; each message of a dialog carries its marker (the To tag)."""
    root = svg_of(SIPP / "uac-uas.pcap")
    labels = [label_of(a) for a in groups(root, "arrow")]
    assert len(labels) == 18
    shapes = [re.sub(r" \[\d+SIPpTag01\d\]$", " [tag]", label) for label in labels[:6]]
    assert shapes == ["INVITE (CSeq 1 INVITE)", "180 Ringing (1 INVITE) [tag]",
                      "200 OK (1 INVITE) [tag]", "ACK (CSeq 1 ACK) [tag]",
                      "BYE (CSeq 2 BYE) [tag]", "200 OK (2 BYE) [tag]"]  # fmt: skip
    assert [int(attr(a, "data-packet")) for a in groups(root, "arrow")] == list(range(1, 19))


def test_call_id_keeps_one_call() -> None:
    """``call_id=`` draws one call's 6 messages and its dialogs' notes only."""
    call_id = replay(SIPP / "uac-uas.pcap").dialogs[2].state.call_id
    model = ladder(SIPP / "uac-uas.pcap", call_id=call_id)
    assert len(model.arrows) == 6
    assert {a.call_id for a in model.arrows} == {call_id}
    assert [a.packet for a in model.arrows] == list(range(7, 13))
    assert len(model.notes) == 6  # early, confirmed, terminated on each side
    assert len(groups(ET.fromstring(ladder_svg(model)), "arrow")) == 6
    assert call_id in model.title


def test_names_replace_addresses() -> None:
    """A lane shows the name it is given, with its address under it."""
    names = {"127.0.0.1:5071": "Alice", "127.0.0.1:5072": "Bob"}
    model = ladder(SIPP / "uac-uas.pcap", names=names)
    assert [lane.name for lane in model.lanes] == ["Alice", "Bob"]
    root = ET.fromstring(ladder_svg(model))
    lanes = groups(root, "lane")
    assert [[t.text for t in g.iter(f"{SVG}text")] for g in lanes] == [
        ["Alice", "127.0.0.1:5071"], ["Bob", "127.0.0.1:5072"]]  # fmt: skip
    assert "participant L1 as Alice" in ladder_mermaid(model)


# -- notes ------------------------------------------------------------------------------------
def notes_of(root: ET.Element) -> list[tuple[str, str, int | None]]:
    """(endpoint, state, packet) of every note."""
    lanes = lane_names(root)
    out = []
    for g in groups(root, "note"):
        packet = g.get("data-packet")
        out.append((lanes[int(attr(g, "data-lane"))], attr(g, "data-state"),
                    int(packet) if packet is not None else None))  # fmt: skip
    return out


@pytest.mark.parametrize("path", [*(SIPP / n for n in BUNDLED), TIMER_LOG])
def test_notes_are_the_replays_state_changes(path: Path) -> None:
    """RFC 3261 12: each state a dialog enters (early, confirmed, terminated) is one note
    over the lane of the endpoint whose dialog it is, after the packet that moved it."""
    root = svg_of(path)
    want = Counter((d.endpoint, t.state, t.packet) for d in replay(path).dialogs
                   for t in d.transitions)  # fmt: skip
    assert Counter(notes_of(root)) == want
    for g in groups(root, "note"):
        assert label_of(g).startswith(attr(g, "data-state") + " [")


@pytest.mark.parametrize("path", [*(SIPP / n for n in BUNDLED), TIMER_LOG])
def test_a_note_sits_between_its_arrow_and_the_next(path: Path) -> None:
    """A note caused by a packet is drawn below that packet's arrow and above the next
    one; a timer's note between the arrows around its time."""
    model = ladder(path)
    root = ET.fromstring(ladder_svg(model))
    arrows = [(int(attr(a, "data-packet")), arrow_y(a)) for a in groups(root, "arrow")]
    for g, note in zip(groups(root, "note"), model.notes, strict=True):
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        top, bottom = rect_box(rect)[1], rect_box(rect)[3]
        before = [i for i, (_, y) in enumerate(arrows) if y < top]
        assert before, "a note above every arrow"
        i = before[-1]
        if note.packet is not None:
            assert arrows[i][0] == note.packet
        else:
            assert model.arrows[i].time_ns <= note.time_ns
        if i + 1 < len(arrows):
            assert bottom < arrows[i + 1][1] - 12  # under the next arrow's label too
            if note.packet is None:
                assert note.time_ns < model.arrows[i + 1].time_ns


def test_timer_note_at_its_time() -> None:
    """RFC 3261 13.2.2.4: the fork never confirmed ends 64*T1 after the 2xx, by a timer:
    that note follows the last message before then, not any packet."""
    model = ladder(TIMER_LOG)
    (timer,) = [n for n in model.notes if n.packet is None]
    assert timer.text == "terminated [forkB] (no 2xx within 64*T1)"
    assert model.arrows[timer.after].packet == 8  # the 200 to the BYE
    assert model.arrows[timer.after + 1].message == "OPTIONS"
    assert model.lanes[timer.lane].endpoint == "sipp"


# -- forks and colours ------------------------------------------------------------------------
def test_forks_are_told_apart() -> None:
    """RFC 3261 12.1.2 / 13.2.2.4: the 180 (To tag forkA) and the 183 (forkB) are two
    dialogs: each label says its tag, each dialog has its own colour, arrows and notes."""
    root = svg_of(SIPP / "forking.pcap")
    arrows = {int(attr(a, "data-packet")): a for a in groups(root, "arrow")}
    ringing, progress = arrows[3], arrows[4]
    assert label_of(ringing) == "180 Ringing (1 INVITE) [forkA]"
    assert label_of(progress) == "183 Session Progress (1 INVITE) [forkB]"
    a_colour, b_colour = attr(stroke_of(ringing), "stroke"), attr(stroke_of(progress), "stroke")
    assert a_colour != b_colour
    assert {a_colour, b_colour} <= set(PALETTE)
    for packet in (5, 6, 7, 8):  # 200, ACK, BYE, 200: forkA's
        assert attr(stroke_of(arrows[packet]), "stroke") == a_colour
    assert attr(stroke_of(arrows[1]), "stroke") not in PALETTE  # the INVITE: no To tag yet
    for g in groups(root, "note"):
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        want = {"forkA": a_colour, "forkB": b_colour}[attr(g, "data-key")]
        assert attr(rect, "stroke") == want
    legend = [t.text or "" for t in root.iter(f"{SVG}text") if (t.text or "").startswith("[")]
    assert [line.split("]")[0] for line in legend] == ["[forkA", "[forkB"]


def test_mermaid_forks_in_their_own_rects() -> None:
    """Mermaid colours no single arrow: each dialog's run of messages and notes is a
    ``rect`` of its colour, and the labels carry the tag."""
    text = ladder_mermaid(ladder(SIPP / "forking.pcap"))
    blocks = re.findall(r"rect (rgb\([^)]*\))\n((?:        .*\n)+)    end", text)
    colours = {c for c, body in blocks if "[forkA]" in body and "[forkB]" not in body}
    colours_b = {c for c, body in blocks if "[forkB]" in body and "[forkA]" not in body}
    assert len(colours) == 1
    assert len(colours_b) == 1
    assert colours != colours_b
    assert len(re.findall(r"^ +L\d+-{1,2}>>L\d+: ", text, re.MULTILINE)) == 8


# -- filters ----------------------------------------------------------------------------------
def test_dialog_by_tag_keeps_that_fork() -> None:
    """A tag names the first dialog that carries it: forkB's ladder holds the INVITE and
    the 100 (before any To tag) and the 183, not forkA's messages."""
    model = ladder(SIPP / "forking.pcap", dialog="forkB")
    assert [a.packet for a in model.arrows] == [1, 2, 4]
    assert {n.key for n in model.notes} == {"forkB"}
    assert [n.state for n in model.notes] == ["early", "early", "terminated"]
    # the UAS's forkB ends with forkA's 200, which is not drawn: at its time, after the 183
    assert model.notes[-1].after == 2


def test_dialog_by_id_and_unknown_tag() -> None:
    """A :class:`DialogId` (either side's) selects the same dialog; an unknown tag is an
    error that names it."""
    uac = next(d for d in replay(SIPP / "forking.pcap").dialogs if d.role == "uac")
    by_id = ladder(SIPP / "forking.pcap", dialog=uac.id)
    assert [a.packet for a in by_id.arrows] == [1, 2, 3, 5, 6, 7, 8]
    s = uac.state
    flipped = DialogId(s.call_id, s.remote_tag, s.local_tag)
    assert ladder(SIPP / "forking.pcap", dialog=flipped).arrows == by_id.arrows
    with pytest.raises(ValueError, match="no dialog has the tag 'nope'"):
        ladder(SIPP / "forking.pcap", dialog="nope")


def test_max_messages_stops_and_says_so() -> None:
    """``max_messages`` draws the first messages only and says the trace goes on."""
    model = ladder(SIPP / "uac-uas.pcap", max_messages=4)
    assert [a.packet for a in model.arrows] == [1, 2, 3, 4]
    assert model.truncated
    assert all(n.after < 4 for n in model.notes)
    assert "stopped after 4 messages" in ladder_svg(model)
    assert "stopped after 4 messages" in ladder_mermaid(model)
    assert not ladder(SIPP / "uac-uas.pcap", max_messages=18).truncated


def test_as_endpoint_draws_every_message_and_one_sides_notes() -> None:
    """As one endpoint, every message is still an arrow; the notes are that UA's."""
    model = ladder(SIPP / "forking.pcap", as_endpoint="127.0.0.1:5077")
    assert len(model.arrows) == 8
    assert {model.lanes[n.lane].endpoint for n in model.notes} == {"127.0.0.1:5077"}


# -- layout -----------------------------------------------------------------------------------
def layout_cases(tmp_path: Path) -> list[Ladder]:
    broken = tmp_path / "broken.txt"
    broken.write_text("INVITE sip:b@example.com SIP/2.0\nVia: SIP/2.0/UDP h\n\n")
    long_names = {"127.0.0.1:5077": "Alice <the caller> & friends", "127.0.0.1:5078": "B"}
    return [
        *(ladder(SIPP / n) for n in BUNDLED),
        ladder(SIPP / "forking.pcap", names=long_names),
        ladder(TIMER_LOG, names={"sipp": "a UA called sipp", "peer": "x"}),
        ladder(SIPP / "uac-uas.pcap", max_messages=3),
        ladder(proxied_call(tmp_path)),
        ladder(broken),
    ]


def test_no_text_overlaps(tmp_path: Path) -> None:
    """No two texts overlap, no two notes overlap, and everything is inside the picture."""
    for model in layout_cases(tmp_path):
        root = ET.fromstring(ladder_svg(model))
        width, height = float(attr(root, "width")), float(attr(root, "height"))
        texts = [text_box(t) for t in root.iter(f"{SVG}text") if t.text]
        rects = [rect_box(r) for g in groups(root, "note") for r in g.iter(f"{SVG}rect")]
        for boxes in (texts, rects):
            for i, a in enumerate(boxes):
                assert 0 <= a[0] < a[2] <= width, a
                assert 0 <= a[1] < a[3] <= height, a
                clash = [b for b in boxes[i + 1 :] if overlap(a, b)]
                assert not clash, (model.title, a, clash)


def test_labels_fit_between_their_lanes(tmp_path: Path) -> None:
    """An arrow's label lies between the two lanes it joins (a self-arrow's right of its
    lane, short of the next): a long span widens the gaps it crosses."""
    for model in layout_cases(tmp_path):
        root = ET.fromstring(ladder_svg(model))
        lines = [g.find(f"{SVG}line") for g in groups(root, "lane")]
        xs = [float(attr(line, "x1")) for line in lines if line is not None]
        for g, arrow in zip(groups(root, "arrow"), model.arrows, strict=True):
            text = g.find(f"{SVG}text")
            assert text is not None
            left, _, right, _ = text_box(text)
            lo, hi = sorted((xs[arrow.src], xs[arrow.dst]))
            if arrow.src == arrow.dst:
                hi = xs[arrow.src + 1] if arrow.src + 1 < len(xs) else float("inf")
            assert lo < left, arrow
            assert right < hi, arrow


def test_proxy_in_the_middle(tmp_path: Path) -> None:
    """Three lanes in first-appearance order; the proxy (two Vias) has no dialogs; the
    ACK and BYE cross its lane; its OPTIONS to itself is an arrow that comes back."""
    model = ladder(proxied_call(tmp_path))
    assert [lane.endpoint for lane in model.lanes] == [A, P, B]
    assert {model.lanes[n.lane].endpoint for n in model.notes} == {A, B}
    root = ET.fromstring(ladder_svg(model))
    loops = [a for a in groups(root, "arrow") if stroke_of(a).tag == f"{SVG}path"]
    assert [attr(a, "data-packet") for a in loops] == ["8"]
    text = ladder_mermaid(model)
    assert "L2->>L2: OPTIONS (CSeq 7 OPTIONS)" in text
    assert "L1->>L3: ACK (CSeq 1 ACK) [b1]" in text


def test_unparseable_message_is_an_arrow(tmp_path: Path) -> None:
    """A message the parser refuses is still drawn (grey, on the lane of an unknown
    sender), so the count of arrows is the count of SIP messages."""
    path = tmp_path / "broken.txt"
    path.write_text("INVITE sip:b@example.com SIP/2.0\nVia: SIP/2.0/UDP h\n\n")
    model = ladder(path)
    assert [(a.label, a.key) for a in model.arrows] == [("(unparseable message)", None)]
    assert len(model.arrows) == replay(path).sip_messages


# -- self-contained, escaped ----------------------------------------------------------------
@pytest.mark.parametrize("name", BUNDLED)
def test_svg_is_self_contained(name: str) -> None:
    """Valid XML in the SVG namespace, with nothing to fetch: no script, no link, no
    external font; the only references are to its own markers."""
    text = ladder_svg(ladder(SIPP / name))
    root = ET.fromstring(text)
    assert root.tag == f"{SVG}svg"
    assert not text.startswith("<?xml")  # so that it can be put in a web page as it is
    for element in root.iter():
        assert element.tag.startswith(SVG)
        assert element.tag not in (f"{SVG}script", f"{SVG}image", f"{SVG}a", f"{SVG}style")
        for key, value in element.attrib.items():
            assert "href" not in key
            assert not value.startswith("url(") or value.startswith("url(#"), (key, value)
    assert text.count("http") == 1  # the namespace
    assert "@import" not in text
    assert "<foreignObject" not in text


def test_special_characters_are_escaped() -> None:
    """Names with XML and Mermaid specials stay text: ``<&"`` in the SVG, and ``#`` and
    ``;`` (statement ends in Mermaid) as Mermaid entity codes."""
    names = {"127.0.0.1:5077": 'A <b> & "c"; #1', "127.0.0.1:5078": "\x01ctl"}
    model = ladder(SIPP / "forking.pcap", names=names)
    root = ET.fromstring(ladder_svg(model))
    assert lane_names(root) == ['A <b> & "c"; #1', "?ctl"]
    mermaid = ladder_mermaid(model)
    assert 'participant L1 as A #lt;b#gt; & "c"#59; #35;1' in mermaid
    page = ladder_html(model)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert ladder_svg(model) in page


# -- Mermaid golden files -----------------------------------------------------------------------
def stable(text: str) -> str:
    """The Mermaid text less what a regeneration of the captures changes: SIPp's process
    ids in tags (``4199SIPpTag001``) and Call-IDs (``1-4199@127.0.0.1``)."""
    text = re.sub(r"\b\d+SIPpTag(\d+)", r"PIDSIPpTag\1", text)
    return re.sub(r"\b(\d+)-\d+@127\.0\.0\.1\b", r"\1-PID@127.0.0.1", text)


@pytest.mark.parametrize(
    ("path", "golden"),
    [(SIPP / "forking.pcap", "ladder-forking.mmd"),
     (SIPP / "reinvite.pcap", "ladder-reinvite.mmd"),
     (TIMER_LOG, "ladder-forking-timer.mmd")],
)  # fmt: skip
def test_mermaid_golden(path: Path, golden: str) -> None:
    """The Mermaid text of the bundled forking and re-INVITE captures, and of a SIPp log
    where a timer ends a fork, as reviewed (no times, so regenerated captures match)."""
    text = stable(ladder_mermaid(ladder(path)))
    if os.environ.get("UPDATE_GOLDEN"):
        (GOLDEN / golden).write_text(text, encoding="utf-8")
    assert text == (GOLDEN / golden).read_text(encoding="utf-8")


def test_model_items_in_drawing_order() -> None:
    """Arrows in capture order, each followed by the notes it caused."""
    model = ladder(SIPP / "forking.pcap")
    items = list(model.items())
    assert len(items) == len(model.arrows) + len(model.notes)
    assert [i for i in items if isinstance(i, Arrow)] == list(model.arrows)
    for n, item in enumerate(items):
        if isinstance(item, Note) and item.packet is not None:
            previous = [i for i in items[:n] if isinstance(i, Arrow)][-1]
            assert previous.packet == item.packet


def test_golden_survives_a_regenerated_capture(tmp_path: Path) -> None:
    """A regeneration of the captures gives other SIPp process ids (so other tags and
    Call-IDs): the golden comparison does not notice."""
    shift = bytes.maketrans(b"0123456789", b"3456789012")
    data = (SIPP / "forking.pcap").read_bytes()
    data = re.sub(rb"\d+(?=SIPpTag)|(?<=\d-)\d+(?=@127)", lambda m: m[0].translate(shift), data)
    assert data != (SIPP / "forking.pcap").read_bytes()
    moved = tmp_path / "forking.pcap"
    moved.write_bytes(data)
    text = ladder_mermaid(ladder(moved))
    assert text != ladder_mermaid(ladder(SIPP / "forking.pcap"))
    assert stable(text) == (GOLDEN / "ladder-forking.mmd").read_text(encoding="utf-8")


# -- the command line ---------------------------------------------------------------------------
@pytest.fixture
def cli() -> None:
    """``dialogfsm ladder`` once cli.py has the sub-command (skipped until then)."""
    try:
        build_parser().parse_args(["ladder", "x"])
    except SystemExit:
        pytest.skip("the ladder command is not in cli.py yet")


@pytest.mark.usefixtures("cli")
def test_cli_formats_by_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No ``-o``: Mermaid on standard output; ``.svg``, ``.html``, ``.mmd``, ``.md`` by the
    suffix of ``-o``; another suffix is an error (status 2) and writes nothing."""
    capture = str(SIPP / "forking.pcap")
    assert main(["ladder", capture]) == 0
    assert capsys.readouterr().out == ladder_mermaid(ladder(capture))
    formats = [(".svg", "<svg "), (".html", "<!DOCTYPE html>"), (".mmd", "sequenceDiagram"),
               (".md", "```mermaid\nsequenceDiagram")]  # fmt: skip
    for suffix, start in formats:
        out = tmp_path / f"ladder{suffix}"
        assert main(["ladder", capture, "-o", str(out)]) == 0
        assert out.read_text(encoding="utf-8").startswith(start)
    assert main(["ladder", capture, "-o", str(tmp_path / "x.png")]) == 2
    assert not (tmp_path / "x.png").exists()


@pytest.mark.usefixtures("cli")
def test_cli_filters_and_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--call-id``, ``--dialog``, ``--name HOST:PORT=NAME`` reach :func:`ladder`; a
    Call-ID with no message exits 1, an unknown tag 2."""
    capture = str(SIPP / "uac-uas.pcap")
    call_id = replay(capture).dialogs[0].state.call_id
    out = tmp_path / "call.svg"
    args = ["ladder", capture, "-o", str(out), "--call-id", call_id,
            "--name", "127.0.0.1:5071=Alice"]  # fmt: skip
    assert main(args) == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert len(groups(root, "arrow")) == 6
    assert lane_names(root) == ["Alice", "127.0.0.1:5072"]
    assert main(["ladder", capture, "--call-id", "nope"]) == 1
    assert main(["ladder", str(SIPP / "forking.pcap"), "--dialog", "nope"]) == 2
    assert "no dialog has the tag 'nope'" in capsys.readouterr().err


def test_long_trace_legend_is_cut(tmp_path: Path) -> None:
    """Thirty calls: thirty colour keys (one tag, so ``b1``, ``b1-2``, ...), the legend
    lists the first 24 and says how many more."""
    packets = []
    for n in range(30):
        for src, dst, start, cseq, tag in [
            (A, B, "INVITE sip:bob@example.com SIP/2.0", "1 INVITE", None),
            (B, A, "SIP/2.0 200 OK", "1 INVITE", "b1"),
        ]:
            data = sip(start, [A], cseq, tag).replace(b"Call-ID: c1", b"Call-ID: c%d" % n)
            packets.append((src, dst, data))
    model = ladder(write_pcap(tmp_path / "calls.pcap", packets))
    assert [d.key for d in model.dialogs[:3]] == ["b1", "b1-2", "b1-3"]
    assert len(model.dialogs) == 30
    root = ET.fromstring(ladder_svg(model))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert sum(t.startswith("[b1") for t in texts) == 24
    assert "... and 6 more" in texts


def test_long_tags_are_cut_in_labels(tmp_path: Path) -> None:
    """A 32-hex To tag is cut to 20 characters in the marker; the legend keeps it whole."""
    tag = "0123456789abcdef" * 2
    path = tmp_path / "call.txt"
    path.write_bytes(sip("INVITE sip:bob@example.com SIP/2.0", [A], "1 INVITE")
                     + sip("SIP/2.0 180 Ringing", [A], "1 INVITE", tag))  # fmt: skip
    model = ladder(path)
    assert [lane.endpoint for lane in model.lanes] == ["A", "B"]
    key = tag[:19] + "…"
    assert model.arrows[1].label == f"180 Ringing (1 INVITE) [{key}]"
    assert model.dialogs[0].tags == ("a1", tag)
    assert {n.text for n in model.notes} == {f"early [{key}]"}
