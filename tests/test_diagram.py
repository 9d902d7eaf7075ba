"""State diagrams: drawn from the runtime's one table, a dialog's path numbered on top, and
Graphviz named (never a silent fall back to Mermaid)."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import transitions
from pair import Pair

import dialogfsm
from dialogfsm import MACHINE, TRANSITIONS, DialogError, State
from dialogfsm._diagram import (
    DiagramError,
    PathStep,
    machine_graph,
    machine_mermaid,
    path_from_events,
    path_graph,
    path_mermaid,
    path_of,
    render,
    write_diagrams,
)
from dialogfsm._replay import DialogRecord

ROOT = Path(__file__).parent.parent
DIAGRAMS = ROOT / "diagrams"
GOLDEN = Path(__file__).parent / "data" / "golden"
FORKING = Path(__file__).parent / "data" / "sipp" / "forking.pcap"
FORK_A_TITLE = "forking.pcap: 127.0.0.1:5077 (uac), dialog with forkA"
SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
#: set to rewrite the golden files from what the code renders now
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


@pytest.fixture
def graphviz() -> None:
    """SVG and PNG need the graphviz package and its dot program: a test that draws them
    skips when either is missing, and fails in CI (where .ci/run installs both)."""
    missing = [name for name, found in [
        ("the graphviz package (pip install graphviz)", importlib.util.find_spec("graphviz")),
        ("Graphviz's dot (apt-get install graphviz)", shutil.which("dot")),
    ] if not found]  # fmt: skip
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"required in CI: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")


def golden(name: str, text: str) -> str:
    """The golden file's text (rewritten first when UPDATE_GOLDEN is set)."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def table() -> set[tuple[str, str, str]]:
    """(source, dest, trigger) of every row of TRANSITIONS, by enum name."""
    rows = set()
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        rows |= {(s.name, row["dest"].name, row["trigger"]) for s in sources}
    return rows


def fork_a() -> DialogRecord:
    """The UAC's dialog with forkA in the bundled SIPp forking capture."""
    (record,) = [
        d for d in dialogfsm.replay(FORKING).dialogs
        if d.endpoint == "127.0.0.1:5077" and d.id.remote_tag == "forkA"
    ]  # fmt: skip
    return record


# -- reading the drawings back -------------------------------------------------------------
def mermaid_edges(text: str) -> list[tuple[str, str, str]]:
    """(source, dest, label) of each transition line of Mermaid stateDiagram text."""
    found = re.findall(r"^\s*(\S+) --> (\S+?)(?:: (.*))?$", text, re.MULTILINE)
    return [(a, b, label) for a, b, label in found]


def svg_parts(data: bytes) -> tuple[dict[str, str], list[tuple[str, str, list[str], str]]]:
    """Nodes (id -> text) and edges (source, dest, text lines, stroke) of a Graphviz SVG."""
    root = ET.fromstring(data)
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, list[str], str]] = []
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title") or ""
        texts = [t.text or "" for t in group.iter(f"{SVG}text")]
        if group.get("class") == "node":
            nodes[title] = " ".join(texts)
        elif group.get("class") == "edge":
            source, dest = title.split("->")
            path = group.find(f"{SVG}path")
            assert path is not None
            edges.append((source, dest, texts, path.get("stroke") or ""))
    return nodes, edges


def table_in_svg(data: bytes) -> None:
    """Every state, by its value, and every row of the table, as an edge label."""
    nodes, edges = svg_parts(data)
    assert nodes == {s.name: s.value for s in State}
    drawn = {(a, b, trigger) for a, b, texts, _ in edges for trigger in texts}
    assert table() <= drawn


# -- the whole machine ---------------------------------------------------------------------
def test_machine_mermaid_is_the_golden_file() -> None:
    """GraphMachine's Mermaid for TRANSITIONS, as reviewed in tests/data/golden/machine.mmd."""
    text = machine_mermaid()
    assert text == golden("machine.mmd", text)


def test_machine_mermaid_has_every_row_and_state() -> None:
    """Each row of the table is an edge label, each state is named by its value; the dialog
    starts in none ([*])."""
    text = machine_mermaid()
    assert text.startswith('---\ntitle: "SIP dialog states (RFC 3261 12)"\n---\nstateDiagram-v2\n')
    drawn = {(a, b, t) for a, b, label in mermaid_edges(text) for t in label.split(" | ")}
    assert table() <= drawn
    assert ("[*]", "NONE", "") in mermaid_edges(text)
    for state in State:
        assert f'state "{state.value}" as {state.name}\n' in text


def test_committed_mermaid_is_what_the_table_renders() -> None:
    """diagrams/dialog-states.mmd is stale when the table changed: regenerate it (see
    diagrams/README.md)."""
    assert (DIAGRAMS / "dialog-states.mmd").read_text(encoding="utf-8") == machine_mermaid()


def test_committed_svg_shows_the_table() -> None:
    """diagrams/dialog-states.svg: its states and edge labels are the table's (Graphviz's
    exact output varies between versions, so the drawing itself is not compared)."""
    table_in_svg((DIAGRAMS / "dialog-states.svg").read_bytes())


def test_committed_png_is_a_picture() -> None:
    """diagrams/dialog-states.png is a real PNG of a plausible size, not Mermaid text."""
    data = (DIAGRAMS / "dialog-states.png").read_bytes()
    assert data.startswith(PNG_MAGIC)
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert 400 <= width <= 4000
    assert 150 <= height <= 2000
    assert 5_000 <= len(data) <= 500_000


def test_machine_svg_rendered_now(graphviz: None) -> None:
    """machine_graph() drawn as SVG: every state name and trigger present as text."""
    table_in_svg(render(machine_graph(), format="svg"))


def test_write_diagrams_writes_all_three(graphviz: None, tmp_path: Path) -> None:
    """write_diagrams() is what diagrams/ holds: Mermaid byte for byte, SVG by content."""
    written = write_diagrams(tmp_path / "out")
    assert [p.name for p in written] == ["dialog-states.mmd", "dialog-states.svg",
                                         "dialog-states.png"]  # fmt: skip
    mmd, svg, png = (p.read_bytes() for p in written)
    assert mmd == (DIAGRAMS / "dialog-states.mmd").read_bytes()
    table_in_svg(svg)
    assert png.startswith(PNG_MAGIC)


def test_rendering_leaves_the_runtime_machine_alone(graphviz: None) -> None:
    """GraphMachine only draws: the runtime MACHINE stays a Machine without the diagrams
    extension, with no models and no graphs, and the table is unchanged."""
    before = copy.deepcopy(TRANSITIONS)
    machine_mermaid()
    render(machine_graph(), format="svg")
    render(path_graph(path_of(fork_a())), format="png")
    path_mermaid([("early", "180 Ringing")])
    from transitions.extensions import GraphMachine  # noqa: PLC0415

    assert isinstance(MACHINE, transitions.Machine)
    assert type(MACHINE).__mro__[1] is transitions.Machine  # its rows' class, nothing more
    assert not isinstance(MACHINE, GraphMachine)
    assert MACHINE.models == []
    assert not hasattr(MACHINE, "model_graphs")
    assert before == TRANSITIONS


def test_importing_dialogfsm_loads_no_graph_machine() -> None:
    """The diagrams extension is imported only to draw: never by the runtime."""
    code = (
        "import sys, dialogfsm, dialogfsm._diagram; print('transitions.extensions' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# -- a dialog's path -----------------------------------------------------------------------
def test_path_of_a_replayed_dialog() -> None:
    """A replay's DialogRecord gives its moves in order, each with its message."""
    assert path_of(fork_a()) == [
        PathStep(State.EARLY, "180 Ringing"),
        PathStep(State.CONFIRMED, "200 OK"),
        PathStep(State.TERMINATED, "BYE"),
    ]


def test_path_mermaid_is_the_golden_file() -> None:
    """forkA's path over the machine in Mermaid, as reviewed in
    tests/data/golden/path-forking-forkA.mmd."""
    text = path_mermaid(path_of(fork_a()), title=FORK_A_TITLE)
    assert text == golden("path-forking-forkA.mmd", text)


def test_path_mermaid_numbers_the_moves_and_marks_the_states() -> None:
    """The machine first, unchanged; then one numbered transition per move, starting from
    none, and the visited states in the 'visited' class."""
    text = path_mermaid([("early", "183 Session Progress")])
    assert text.startswith(machine_mermaid("SIP dialog path"))
    assert mermaid_edges(text)[-1] == ("NONE", "EARLY", "1. 183 Session Progress")
    assert "class NONE visited\n" in text
    assert "class EARLY visited\n" in text
    assert "class CONFIRMED visited" not in text


def test_path_svg_highlights_the_numbered_moves(graphviz: None) -> None:
    """The path in SVG: '1. 180 Ringing', '2. 200 OK', '3. BYE' on the moves made, drawn in
    another colour than the rest of the machine, which is all still there."""
    data = render(path_graph(path_of(fork_a()), title=FORK_A_TITLE), format="svg")
    table_in_svg(data)
    _, edges = svg_parts(data)
    taken = {(a, b, " ".join(texts)): stroke for a, b, texts, stroke in edges
             if texts and texts[0][:1].isdigit()}  # fmt: skip
    assert set(taken) == {
        ("NONE", "EARLY", "1. 180 Ringing"),
        ("EARLY", "CONFIRMED", "2. 200 OK"),
        ("CONFIRMED", "TERMINATED", "3. BYE"),
    }
    others = {stroke for a, b, texts, stroke in edges if (a, b, " ".join(texts)) not in taken}
    (colour,) = set(taken.values())
    assert others
    assert colour not in others


def test_path_png(graphviz: None, tmp_path: Path) -> None:
    """The path drawn as a PNG file."""
    target = tmp_path / "fork-a.png"
    render(path_graph(path_of(fork_a())), target)
    assert target.read_bytes().startswith(PNG_MAGIC)


def test_path_from_live_events_matches_the_replay() -> None:
    """A live DialogManager's events give the same path as a replay: 180, 200, BYE."""
    p = Pair()
    inv = p.invite()
    events = list(p.alice_sends(inv)[0])
    events += p.bob_sends(p.answer(inv, 180))[1]
    events += p.bob_sends(p.answer(inv, 200))[1]
    (alice,) = p.uac.dialogs.values()
    events += p.alice_sends(alice.request("BYE", via=p.via()))[0]
    assert path_from_events(events) == path_of(fork_a())


def test_path_from_events_of_a_dialog_created_confirmed() -> None:
    """A 2xx without a 1xx creates the dialog confirmed: one move, none to confirmed (its
    DialogCreated and DialogConfirmed are the same move)."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    _, got = p.bob_sends(p.answer(inv, 200))
    assert path_from_events(got) == [PathStep(State.CONFIRMED, "200 OK")]
    assert mermaid_edges(path_mermaid(path_from_events(got)))[-1] == (
        "NONE", "CONFIRMED", "1. 200 OK"
    )  # fmt: skip


def test_path_from_events_of_several_dialogs_needs_one_picked() -> None:
    """Events of two dialogs (a UAC and a UAS side) are refused unless dialog= picks one."""
    p = Pair()
    inv = p.invite()
    p.alice_sends(inv)
    sent, got = p.bob_sends(p.answer(inv, 180))
    with pytest.raises(DiagramError, match="events of 2 dialogs"):
        path_from_events(sent + got)
    bob = sent[0].dialog  # type: ignore[union-attr]
    assert path_from_events(sent + got, dialog=bob) == [PathStep(State.EARLY, "180 Ringing")]


def test_an_impossible_path_is_refused() -> None:
    """A move that is no row of the table cannot be drawn (here: none to terminated)."""
    with pytest.raises(DiagramError, match=r"step 1 .*'none' to 'terminated'"):
        path_mermaid([(State.TERMINATED, "BYE")])
    with pytest.raises(DiagramError, match=r"step 3 .*'terminated' to 'early'"):
        path_mermaid([("early", "180"), ("terminated", "487"), ("early", "180")])
    assert issubclass(DiagramError, DialogError)


def test_a_move_made_again_gets_each_number(
    monkeypatch: pytest.MonkeyPatch, graphviz: None
) -> None:
    """Re-entry (no row allows it today): a move made twice is one edge with both numbers."""
    looping = [*TRANSITIONS, {"trigger": "refresh", "source": State.CONFIRMED,
                              "dest": State.CONFIRMED}]  # fmt: skip
    monkeypatch.setattr("dialogfsm._diagram.TRANSITIONS", looping)
    steps = [("confirmed", "200 OK"), ("confirmed", "UPDATE"), ("confirmed", "re-INVITE")]
    assert ("CONFIRMED", "CONFIRMED", "2. UPDATE, 3. re-INVITE") in mermaid_edges(
        path_mermaid(steps)
    )
    _, edges = svg_parts(render(path_graph(steps), format="svg"))
    assert ("CONFIRMED", "CONFIRMED", ["2. UPDATE", "3. re-INVITE"]) in [e[:3] for e in edges]


# -- Graphviz named, never a fall back to Mermaid ------------------------------------------
@pytest.fixture
def no_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    """The graphviz package cannot be imported."""
    monkeypatch.setitem(sys.modules, "graphviz", None)


def test_without_graphviz_machine_graph_says_what_to_install(no_graphviz: None) -> None:
    """SVG and PNG without the graphviz package: a DiagramError naming both installs."""
    with pytest.raises(DiagramError) as info:
        machine_graph()
    assert "pip install graphviz" in str(info.value)
    assert "apt-get install graphviz" in str(info.value)
    with pytest.raises(DiagramError, match="pip install graphviz"):
        path_graph([("early", "180 Ringing")])


def test_without_graphviz_no_png_of_mermaid_is_written(no_graphviz: None, tmp_path: Path) -> None:
    """The trap GraphMachine sets (Mermaid text in a .png) is refused: nothing is written."""
    with pytest.raises(DiagramError):
        write_diagrams(tmp_path)
    with pytest.raises(DiagramError, match="Mermaid text cannot be written as png"):
        render(machine_mermaid(), tmp_path / "machine.png")
    with pytest.raises(DiagramError, match="names a png file, not mermaid"):
        render(machine_mermaid(), tmp_path / "machine.png", format="mermaid")
    assert list(tmp_path.iterdir()) == []
    # Mermaid still works
    render(machine_mermaid(), tmp_path / "machine.mmd")
    assert (tmp_path / "machine.mmd").read_text(encoding="utf-8") == machine_mermaid()


def test_graph_machine_falling_back_to_mermaid_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """When transitions' own Graphviz backend is unusable, GraphMachine quietly draws
    Mermaid: machine_graph() notices and raises instead of handing Mermaid on."""
    import transitions.extensions.diagrams_graphviz as backend  # noqa: PLC0415

    monkeypatch.setattr(backend, "pgv", None)
    with pytest.raises(DiagramError, match="apt-get install graphviz"):
        machine_graph()
    from transitions.extensions.diagrams_mermaid import DigraphMock  # noqa: PLC0415

    with pytest.raises(DiagramError):
        render(DigraphMock(machine_mermaid()), tmp_path / "machine.png")
    assert list(tmp_path.iterdir()) == []


def test_without_dot_the_error_names_it(
    graphviz: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The graphviz package without its dot program: a DiagramError, no file."""
    graph = machine_graph()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DiagramError, match=r"dot program is missing.*apt-get install graphviz"):
        render(graph, tmp_path / "machine.svg")
    assert list(tmp_path.iterdir()) == []


def test_render_refuses_mismatched_formats(graphviz: None, tmp_path: Path) -> None:
    """A graph is not written as Mermaid, and a file is not given a suffix it is not."""
    with pytest.raises(DiagramError, match="cannot be written as Mermaid"):
        render(machine_graph(), tmp_path / "machine.mmd")
    with pytest.raises(DiagramError, match="names a png file, not svg"):
        render(machine_graph(), tmp_path / "machine.png", format="svg")
    with pytest.raises(DiagramError, match=r"unknown diagram file type '\.gif'"):
        render(machine_graph(), tmp_path / "machine.gif")
    assert list(tmp_path.iterdir()) == []
    assert render(machine_graph(), tmp_path / "machine.out", format="svg").startswith(b"<?xml")
