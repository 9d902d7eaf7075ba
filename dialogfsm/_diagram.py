"""State diagrams of the dialog machine, drawn from the one table the runtime uses.

``machine_mermaid()`` and ``machine_graph()`` hand ``TRANSITIONS`` and ``State`` to a
throwaway ``GraphMachine`` (transitions' diagrams extension), so a diagram cannot drift from
the code. GraphMachine draws and never runs: it keeps a graph per model and never frees it,
so it is built here, inside each call, with no model, and the runtime ``MACHINE`` stays a
plain ``Machine``.

``path_mermaid(steps)`` and ``path_graph(steps)`` draw one dialog's path over that machine:
GraphMachine marks only the last transition, so the path is our own layer on top of its
drawing, each move numbered in order with the message that made it.

Mermaid is text and needs nothing. SVG and PNG need Graphviz: the ``graphviz`` package and
its ``dot`` program. Without the package, GraphMachine quietly falls back to Mermaid and
would write Mermaid text into a ``.png``; here that raises :class:`DiagramError` instead,
and nothing is written.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
from transitions import State as _TransitionsState

from ._errors import DialogError
from ._events import DialogConfirmed, DialogCreated, DialogTerminated
from ._machine import TRANSITIONS, State
from ._replay import _label

if TYPE_CHECKING:
    from transitions.extensions import GraphMachine

    from ._dialog import Dialog
    from ._events import Event
    from ._replay import DialogRecord

Format = Literal["mermaid", "svg", "png"]
#: file name suffix -> format
SUFFIXES: dict[str, Format] = {".mmd": "mermaid", ".mermaid": "mermaid", ".svg": "svg",
                               ".png": "png"}  # fmt: skip
TITLE = "SIP dialog states (RFC 3261 12)"
#: what ``write_diagrams`` writes, with this stem and each suffix
STEM = "dialog-states"

_INSTALL = "pip install graphviz (or dialogfsm[diagrams]) and apt-get install graphviz"
_EDGE = re.compile(r"\t\S+ -> \S+ \[")  # an edge statement of GraphMachine's DOT
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_DPI = "120"

# how the drawings look; the machine's layout is GraphMachine's, with labels one per line
_FONT = {"fontname": "Helvetica", "fontsize": "12"}
_GRAPH = {**_FONT, "rankdir": "LR", "labelloc": "t", "fontsize": "14", "nodesep": "0.4"}
_GREY = {"color": "gray70", "fontcolor": "gray55"}
_VISITED = {"color": "#1f5fa8", "fillcolor": "#dbe9f8", "penwidth": "2", "fontcolor": "black"}
_TAKEN = {"color": "#1f5fa8", "fontcolor": "#1f5fa8", "penwidth": "2.5",
          "fontname": "Helvetica-Bold"}  # fmt: skip
_MERMAID_VISITED = "fill:#dbe9f8,stroke:#1f5fa8,stroke-width:2px"


class DiagramError(DialogError):
    """A diagram that cannot be drawn as asked: Graphviz missing, or an impossible path."""


def _as_state(value: State | str) -> State:
    return State(value)


@attrs.frozen
class PathStep:
    """One move of a dialog: the state it entered and the message (or timer) that moved it.

    A path is a list of them, in order; the first one leaves ``none``.
    """

    state: State = attrs.field(converter=_as_state)
    """The state entered: a :class:`State` or its value (``"early"``)."""
    message: str
    """What moved it: ``180 Ringing``, ``BYE``, or a timer's reason."""


#: what a path is made of: a PathStep, or a (state, message) pair (``("early", "180 Ringing")``)
StepLike = PathStep | tuple[State | str, str]


# -- the whole machine ---------------------------------------------------------------------


class _NamedState(_TransitionsState):
    """A state that GraphMachine labels with its enum value (``none``), not its name."""

    @property
    def label(self) -> str:
        value = self.value
        return str(value.value) if isinstance(value, State) else self.name


def _graph_machine(engine: Literal["graphviz", "mermaid"]) -> GraphMachine:
    """A throwaway GraphMachine over the runtime's table, with no model."""
    # imported when drawing: transitions.extensions costs every importer ~20 ms
    from transitions.extensions import GraphMachine  # noqa: PLC0415

    class _Drawing(GraphMachine):
        state_cls = _NamedState

    machine = _Drawing(model=None, states=State, transitions=TRANSITIONS, initial=State.NONE,
                       auto_transitions=False, graph_engine=engine, title=TITLE)  # fmt: skip
    if engine == "graphviz":  # Mermaid would print these as statements
        machine.machine_attributes = {**machine.machine_attributes, **_GRAPH}
    return machine


def machine_mermaid(title: str = TITLE) -> str:
    """The state machine as Mermaid ``stateDiagram-v2`` text, as GraphMachine renders it.

    Two touches: the title becomes front matter that Mermaid shows (``title: "..."``), and
    lines lose trailing blanks.
    """
    machine = _graph_machine("mermaid")
    drawing: Any = machine.graph_cls(machine).get_graph(title=title)  # a DigraphMock
    lines = str(drawing.source).splitlines()
    if lines[:3] == ["---", title, "---"]:
        lines[1] = f"title: {json.dumps(title)}"  # JSON is YAML, whatever the title holds
    return "\n".join(line.rstrip() for line in lines) + "\n"


def machine_graph(title: str = TITLE) -> Any:
    """The state machine as a ``graphviz.Digraph``, as GraphMachine renders it.

    Raises :class:`DiagramError` when the ``graphviz`` package is missing, rather than let
    GraphMachine fall back to Mermaid.
    """
    graphviz = _graphviz()
    machine = _graph_machine("graphviz")
    graph: Any = machine.graph_cls(machine).get_graph(title=title)
    if not isinstance(graph, graphviz.Digraph):
        raise DiagramError(f"transitions drew the machine with {type(graph).__module__} "
                           f"instead of Graphviz: {_INSTALL}")  # fmt: skip
    graph.node_attr.update(_FONT)
    graph.edge_attr.update(_FONT)
    # GraphMachine joins the triggers of one edge with " | ": one per line reads better
    graph.body = [line.replace(" | ", r"\n") if _EDGE.match(line) else line for line in graph.body]
    return graph


# -- one dialog's path ---------------------------------------------------------------------


def path_of(record: DialogRecord) -> list[PathStep]:
    """The path of a replayed dialog (``dialogfsm.replay(...).dialogs[i]``)."""
    return [PathStep(State(t.state), t.message) for t in record.transitions]


def path_from_events(events: Iterable[Event], dialog: Dialog | None = None) -> list[PathStep]:
    """The path of a live dialog, from the events a ``DialogManager`` returned.

    Pass every event of the dialog's life, in order; ``dialog`` picks one dialog when the
    events are of several.
    """
    steps: list[PathStep] = []
    seen: set[int] = set()
    previous: object = None
    for event in events:
        if not isinstance(event, DialogCreated | DialogConfirmed | DialogTerminated):
            continue
        if dialog is not None and event.dialog is not dialog:
            continue
        seen.add(id(event.dialog))
        label = _label(event.message, getattr(event, "reason", ""))
        if isinstance(event, DialogCreated):
            steps.append(PathStep(event.state, label))
        elif isinstance(event, DialogTerminated):
            steps.append(PathStep(State.TERMINATED, label))
        # a dialog created confirmed reports DialogCreated, then DialogConfirmed: one move
        elif not (isinstance(previous, DialogCreated) and previous.state is State.CONFIRMED):
            steps.append(PathStep(State.CONFIRMED, label))
        previous = event
    if len(seen) > 1:
        raise DiagramError(f"events of {len(seen)} dialogs: pass dialog= to pick one")
    return steps


def _rows() -> Iterator[tuple[State, State, str]]:
    """(source, dest, trigger) for every row of the table."""
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        for source in sources:
            yield source, row["dest"], row["trigger"]


def _moves(steps: Iterable[StepLike]) -> dict[tuple[State, State], list[str]]:
    """Each move the path made, with its numbered labels (``1. 180 Ringing``), in order.

    A move made twice gets both numbers. Raises :class:`DiagramError` on a move that is no
    row of the table.
    """
    legal = {(source, dest) for source, dest, _ in _rows()}
    moves: dict[tuple[State, State], list[str]] = {}
    state = State.NONE
    for number, item in enumerate(steps, 1):
        step = item if isinstance(item, PathStep) else PathStep(*item)
        move = (state, step.state)
        if move not in legal:
            raise DiagramError(f"step {number} ({step.message!r}): no transition from "
                               f"{state.value!r} to {step.state.value!r}")  # fmt: skip
        moves.setdefault(move, []).append(f"{number}. {step.message}")
        state = step.state
    return moves


def path_mermaid(steps: Iterable[StepLike], title: str = "SIP dialog path") -> str:
    """The machine in Mermaid with one dialog's path: visited states in colour, and one
    extra transition per move, labelled with its number and message."""
    moves = _moves(steps)
    visited = {state for move in moves for state in move}
    lines = [f"  classDef visited {_MERMAID_VISITED}"]
    for (source, dest), labels in moves.items():
        text = ", ".join(labels).replace(";", ",")  # ';' would end the statement
        lines.append(f"  {source.name} --> {dest.name}: {text}")
    lines += [f"  class {state.name} visited" for state in State if state in visited]
    return machine_mermaid(title) + "\n".join(lines) + "\n"


def path_graph(steps: Iterable[StepLike], title: str = "SIP dialog path") -> Any:
    """The machine as a ``graphviz.Digraph`` with one dialog's path: the machine in grey,
    the states visited and the moves made in colour, each move labelled with its number
    and message."""
    moves = _moves(steps)
    graphviz = _graphviz()
    graph = machine_graph(title)
    graph.node_attr.update(_GREY)
    graph.edge_attr.update(_GREY)
    visited = {state for move in moves for state in move}
    for state in State:
        if state in visited:
            graph.node(state.name, **_VISITED)
    for (source, dest), labels in moves.items():
        text = r"\n".join(label.replace("\\", "\\\\") for label in labels)
        graph.edge(source.name, dest.name, label=graphviz.nohtml(text), **_TAKEN)
    return graph


# -- output --------------------------------------------------------------------------------


def _graphviz() -> Any:
    """The ``graphviz`` package (untyped, hence ``Any``), or DiagramError saying how to get it."""
    try:
        return importlib.import_module("graphviz")
    except ImportError as err:
        raise DiagramError(f"SVG and PNG are drawn by Graphviz, which is missing: {_INSTALL} "
                           "(Mermaid text needs neither)") from err  # fmt: skip


def format_of(path: str | os.PathLike[str]) -> Format:
    """The format a file name asks for (``.mmd``, ``.svg``, ``.png``)."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise DiagramError(f"unknown diagram file type {suffix!r}: use .mmd, .svg or .png")
    return SUFFIXES[suffix]


def render(
    diagram: str | Any,
    path: str | os.PathLike[str] | None = None,
    format: Format | None = None,
) -> bytes:
    """The bytes of ``diagram`` in ``format``, written to ``path`` when given.

    ``diagram`` is Mermaid text (from ``machine_mermaid``, ``path_mermaid``) or a Graphviz
    graph (``machine_graph``, ``path_graph``). ``format`` defaults to the one ``path``'s
    suffix names, else Mermaid for text and SVG for a graph. Mermaid text is never written
    as SVG or PNG, nor a graph as Mermaid; a file whose suffix names another format than
    the one written is refused. Nothing is written when this raises.
    """
    if format is None:
        format = format_of(path) if path is not None else None
        format = format or ("mermaid" if isinstance(diagram, str) else "svg")
    elif path is not None and SUFFIXES.get(Path(path).suffix.lower(), format) != format:
        raise DiagramError(f"{os.fspath(path)!r} names a {format_of(path)} file, not {format}")
    if isinstance(diagram, str):
        if format != "mermaid":
            raise DiagramError(f"Mermaid text cannot be written as {format}: draw "
                               "machine_graph() or path_graph() with Graphviz")  # fmt: skip
        data = diagram.encode()
    else:
        data = _pipe(diagram, format)
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _pipe(graph: Any, format: Format) -> bytes:
    graphviz = _graphviz()
    if not isinstance(graph, graphviz.Graph | graphviz.Digraph):
        raise DiagramError(f"not a Graphviz graph: {type(graph).__qualname__} (was it drawn "
                           f"without Graphviz? {_INSTALL})")  # fmt: skip
    if format == "mermaid":
        raise DiagramError("a Graphviz graph cannot be written as Mermaid: use "
                           "machine_mermaid() or path_mermaid()")  # fmt: skip
    if format == "png":  # sharper pictures; the SVG keeps its 72-dpi sizes
        graph = graph.copy()
        graph.graph_attr["dpi"] = _PNG_DPI
    try:
        data: bytes = graph.pipe(format=format)
    except graphviz.ExecutableNotFound as err:
        raise DiagramError(f"Graphviz's dot program is missing: {_INSTALL}") from err
    if format == "png" and not data.startswith(_PNG_MAGIC):
        raise DiagramError("Graphviz returned no PNG")  # never write anything else as .png
    return data


def write_diagrams(directory: str | os.PathLike[str]) -> list[Path]:
    """Write the state diagram as ``dialog-states.mmd``, ``.svg`` and ``.png`` into
    ``directory``; all three or, when Graphviz is missing, none (DiagramError)."""
    graph = machine_graph()
    files: Sequence[tuple[str, bytes]] = [
        (".mmd", render(machine_mermaid(), format="mermaid")),
        (".svg", render(graph, format="svg")),
        (".png", render(graph, format="png")),
    ]
    Path(directory).mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, data in files:
        target = Path(directory, STEM + suffix)
        target.write_bytes(data)
        written.append(target)
    return written
