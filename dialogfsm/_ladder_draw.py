"""Drawings of a :class:`Ladder`: ``ladder_mermaid`` (Mermaid ``sequenceDiagram`` text),
``ladder_svg`` (a self-contained SVG: no font, script or link to fetch, so it opens
offline) and ``ladder_html`` (that SVG in a page).

Colours: the From and To tags of a Call-ID make one dialog (RFC 3261 12), drawn in its own
colour and marked ``[tag]``; a message of no dialog yet is grey and unmarked (see
``_ladder`` for how the marks are chosen).
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from xml.sax.saxutils import escape, quoteattr

import attrs

from ._ladder import Arrow, DialogMark, Ladder, Lane, Note, clean
from ._results import time_text

# -- colours --------------------------------------------------------------------------------
#: one colour per dialog, each dark enough for text on white (contrast 4.5:1 or more)
PALETTE = (
    "#1f5fa8",
    "#c0392b",
    "#1e8449",
    "#8e44ad",
    "#a04000",
    "#117a8b",
    "#a93266",
    "#7d6608",
    "#2e4053",
    "#6e2c00",
)
#: messages of no dialog yet
NEUTRAL = "#555555"


def _colours(ladder: Ladder) -> dict[str | None, str]:
    colours: dict[str | None, str] = {None: NEUTRAL}
    for n, mark in enumerate(ladder.dialogs):
        colours[mark.key] = PALETTE[n % len(PALETTE)]
    return colours


def _tint(colour: str, alpha: float) -> tuple[int, int, int]:
    """``colour`` laid over white at ``alpha``: a light fill that keeps text readable."""
    rgb = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(round(255 - (255 - c) * alpha) for c in rgb)  # type: ignore[return-value]


def _legend(mark: DialogMark) -> str:
    return f"[{mark.key}] Call-ID {clean(mark.call_id)}, tags {' / '.join(map(clean, mark.tags))}"


# -- Mermaid --------------------------------------------------------------------------------
def _mm(text: str) -> str:
    """Mermaid text: ``#`` and ``;`` end or escape statements, ``<>`` are HTML."""
    table = {"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;"}
    return "".join(table.get(c, c) for c in text)


def ladder_mermaid(ladder: Ladder) -> str:
    """A Mermaid ``sequenceDiagram``: each dialog's messages and notes in a ``rect`` of its
    colour, requests solid (``->>``), responses dotted (``-->>``). No times are printed."""
    colours = _colours(ladder)
    out = ["sequenceDiagram", f"    %% ladder of {clean(ladder.title)}"]
    out += [f"    %% {_legend(m)}" for m in ladder.dialogs]
    out += [f"    participant L{n} as {_mm(lane.name)}" for n, lane in enumerate(ladder.lanes, 1)]
    current: str | None = None
    for item in ladder.items():
        if item.key != current:
            if current is not None:
                out.append("    end")
            if item.key is not None:
                r, g, b = _tint(colours[item.key], 0.16)
                out.append(f"    rect rgb({r}, {g}, {b})")
            current = item.key
        indent = "        " if current is not None else "    "
        if isinstance(item, Arrow):
            arrow = "->>" if item.request else "-->>"
            out.append(f"{indent}L{item.src + 1}{arrow}L{item.dst + 1}: {_mm(item.label)}")
        else:
            out.append(f"{indent}Note over L{item.lane + 1}: {_mm(item.text)}")
    if current is not None:
        out.append("    end")
    if ladder.truncated and ladder.lanes:
        every = f"L1,L{len(ladder.lanes)}" if len(ladder.lanes) > 1 else "L1"
        out.append(f"    Note over {every}: stopped after {len(ladder.arrows)} messages")
    return "\n".join(out) + "\n"


# -- SVG ------------------------------------------------------------------------------------
FONT = 12
"""Font size of labels (px); the title is 14, addresses and the gutter 11."""
EM = 0.625
"""Estimated advance of a monospace character, in em (DejaVu Sans Mono and Menlo 0.60,
Courier New 0.60, Consolas 0.55): 7.5 px at 12 px, a little wide, never narrow."""
_MARGIN = 16
_PAD = 14  # between an arrow's label and the lanes it joins (room for the head)
_LOOP = 26  # width of an arrow from a lane to itself
_GREY = "#666666"
_LEGEND = 24  # dialogs listed at most
_FONTS = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"


def text_width(text: str, size: float = FONT) -> float:
    """Estimated width of ``text`` in px: East Asian wide characters count twice."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    return (len(text) + wide) * size * EM


def _text(x: float, y: float, text: str, *, size: float = FONT, anchor: str = "start",
          fill: str = "#222222", bold: bool = False) -> str:  # fmt: skip
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{weight}>{escape(text)}</text>')  # fmt: skip


@attrs.frozen
class _Row:
    top: float
    height: float
    items: tuple[Arrow | Note, ...]

    def takes(self, note: Note) -> bool:
        """Notes after one arrow, at one time, on other lanes share a row (the gaps
        between lanes leave room for two notes side by side)."""
        return all(isinstance(n, Note) and n.lane != note.lane and n.time_ns == note.time_ns
                   and n.after == note.after for n in self.items)  # fmt: skip


def _rows(ladder: Ladder, top: float) -> list[_Row]:
    rows: list[_Row] = []
    for item in ladder.items():
        if isinstance(item, Note) and rows and rows[-1].takes(item):
            rows[-1] = attrs.evolve(rows[-1], items=(*rows[-1].items, item))
            continue
        height = 28.0 if isinstance(item, Note) else 44.0 if item.src == item.dst else 30.0
        rows.append(_Row(rows[-1].top + rows[-1].height if rows else top, height, (item,)))
    return rows


def _header(lane: Lane) -> list[str]:
    return [lane.name] if lane.name == lane.endpoint else [lane.name, lane.endpoint]


def _loop_width(arrow: Arrow) -> float:
    """Room right of a lane for an arrow to itself: its label starts 8 px right."""
    return 8 + text_width(arrow.label) + 16


def _gaps(ladder: Ladder, own: list[float]) -> list[float]:
    """Distances between neighbouring lanes so that no label reaches past its lanes:
    ``own[i]`` is the widest header or note of lane ``i``; an arrow's label sits between
    its two lanes (a long span widens each gap it crosses alike), a self-arrow's to the
    right of its lane."""
    n = len(ladder.lanes)
    gaps = [max(120.0, (own[i] + own[i + 1]) / 2 + 16) for i in range(n - 1)]
    spans: dict[tuple[int, int], float] = {}
    for a in ladder.arrows:
        lo, hi = sorted((a.src, a.dst))
        if lo != hi:
            spans[lo, hi] = max(spans.get((lo, hi), 0.0), text_width(a.label) + 2 * _PAD)
        elif lo < n - 1:
            gaps[lo] = max(gaps[lo], _loop_width(a))
    for (lo, hi), width in sorted(spans.items(), key=lambda s: s[0][1] - s[0][0]):
        need = max(width - sum(gaps[lo:hi]), 0.0)
        for i in range(lo, hi):
            gaps[i] += need / (hi - lo)
    return gaps


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def ladder_svg(ladder: Ladder) -> str:
    """A self-contained SVG of the ladder: lane headers, arrows with their labels and
    heads, notes as rounded boxes in their dialog's colour, a legend of the colours, and
    the packet number and time (seconds since the first message) of each arrow."""
    return _Svg(ladder).render()


def ladder_html(ladder: Ladder) -> str:
    """A web page holding the SVG (nothing else to load)."""
    head = f'<meta charset="utf-8">\n<title>{escape(ladder.title)}</title>'
    return f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n' + (
        f"{ladder_svg(ladder)}</body>\n</html>\n"
    )


class _Svg:
    """The layout (from estimated text widths), then the drawing, top to bottom."""

    def __init__(self, ladder: Ladder) -> None:
        self.ladder = ladder
        self.colours = _colours(ladder)
        self.heads = {c: n for n, c in enumerate(dict.fromkeys(self.colours.values()))}
        self.t0 = ladder.arrows[0].time_ns if ladder.arrows else 0
        numbers = ["no.", *(str(a.packet) for a in ladder.arrows)]
        self.number_w = max(text_width(s, 11) for s in numbers)
        moments = [a.time_ns for a in ladder.arrows] + [n.time_ns for n in ladder.notes]
        time_w = max(text_width(s, 11) for s in ["time (s)", *map(self._since, moments)])
        gutter = _MARGIN + self.number_w + 8 + time_w + 16
        own = [max(text_width(line, FONT) for line in _header(lane)) + 16 for lane in ladder.lanes]
        for note in ladder.notes:
            own[note.lane] = max(own[note.lane], text_width(note.text) + 16)
        x0 = gutter + 8 + (own[0] / 2 if own else 0)
        self.xs = list(itertools.accumulate(_gaps(ladder, own), initial=x0))
        self.legend = [(NEUTRAL, False, "request (grey: no To tag yet, so no dialog)"),
                       (NEUTRAL, True, "response")]  # fmt: skip
        marks = ladder.dialogs
        self.legend += [(self.colours[m.key], False, _legend(m)) for m in marks[:_LEGEND]]
        if len(marks) > _LEGEND:  # a long trace: the labels still say which dialog
            self.legend.append(("", False, f"... and {len(marks) - _LEGEND} more"))
        right = max((self._right_of(i, w) for i, w in enumerate(own)), default=gutter)
        title_w = text_width(self._title(), 14)
        legend_w = max(44 + text_width(t) for *_, t in self.legend)
        self.width = max(right, title_w, legend_w) + _MARGIN
        self.lanes_top = _MARGIN + 26 + 18 * len(self.legend) + 12
        self.header_h = 38 if any(len(_header(lane)) > 1 for lane in ladder.lanes) else 24
        self.rows = _rows(ladder, self.lanes_top + self.header_h + 10)
        last = self.rows[-1] if self.rows else _Row(self.lanes_top + self.header_h, 0, ())
        self.lanes_bottom = last.top + last.height + 10
        self.height = self.lanes_bottom + (24 if ladder.truncated else 0) + _MARGIN

    def _since(self, time_ns: int) -> str:
        return f"{(time_ns - self.t0) / 1e9:.6f}"

    def _title(self) -> str:
        n, d = len(self.ladder.arrows), len({note.key for note in self.ladder.notes})
        return f"{self.ladder.title}: {_count(n, 'message')}, {_count(d, 'dialog')}"

    def _right_of(self, lane: int, own: float) -> float:
        loops = [_loop_width(a) for a in self.ladder.arrows if a.src == a.dst == lane]
        return self.xs[lane] + max([own / 2, *loops])

    def _gutter(self, y: float, number: str, time: str) -> list[str]:
        """The packet number (right-aligned) and the time, left of the lanes."""
        x = _MARGIN + self.number_w
        return [_text(x, y, number, size=11, anchor="end", fill=_GREY),
                _text(x + 8, y, time, size=11, fill=_GREY)]  # fmt: skip

    def render(self) -> str:
        w, h = math.ceil(self.width), math.ceil(self.height)
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
               f'viewBox="0 0 {w} {h}" font-family="{_FONTS}">',
               f"<title>{escape(self._title())}</title>",
               f'<rect width="{w}" height="{h}" fill="#ffffff"/>', "<defs>"]  # fmt: skip
        for colour, n in self.heads.items():
            out.append(f'<marker id="head{n}" viewBox="0 0 10 10" refX="9" refY="5" '
                       f'markerWidth="6" markerHeight="6" orient="auto">'
                       f'<path d="M0,1 L10,5 L0,9 z" fill="{colour}"/></marker>')  # fmt: skip
        out += ["</defs>", *self._legend(), *self._lanes()]
        for row in self.rows:
            for item in row.items:
                out += self._arrow(item, row) if isinstance(item, Arrow) else self._note(item, row)
        if self.ladder.truncated:
            text = f"stopped after {len(self.ladder.arrows)} messages"
            out.append(_text(_MARGIN, self.lanes_bottom + 18, text, fill=_GREY))
        return "\n".join([*out, "</svg>"]) + "\n"

    def _stroke(self, colour: str, dashed: bool, width: float = 1.5) -> str:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        return (f'stroke="{colour}" stroke-width="{width}" fill="none"{dash} '
                f'marker-end="url(#head{self.heads[colour]})"')  # fmt: skip

    def _legend(self) -> list[str]:
        out = [_text(_MARGIN, _MARGIN + 14, self._title(), size=14, bold=True)]
        for n, (colour, dashed, text) in enumerate(self.legend):
            x, y = _MARGIN, _MARGIN + 35 + 18 * n
            if colour:
                out.append(f'<line x1="{x}" y1="{y}" x2="{x + 32}" y2="{y}" '
                           f"{self._stroke(colour, dashed, 2)}/>")  # fmt: skip
            out.append(_text(x + 44, y + 4, text))
        return out

    def _lanes(self) -> list[str]:
        top, bottom, height = self.lanes_top, self.lanes_bottom, self.header_h
        out = self._gutter(top + 16, "no.", "time (s)")
        for n, (x, lane) in enumerate(zip(self.xs, self.ladder.lanes, strict=True)):
            lines = _header(lane)
            width = max(text_width(line, FONT) for line in lines) + 16
            out += [f'<g class="lane" data-lane="{n}">',
                    f'<line x1="{x:.1f}" y1="{top + height}" x2="{x:.1f}" y2="{bottom:.1f}" '
                    f'stroke="#b0b0b0" stroke-width="1"/>',
                    f'<rect x="{x - width / 2:.1f}" y="{top}" width="{width:.1f}" '
                    f'height="{height}" rx="3" fill="#eef1f5" stroke="#555555"/>',
                    _text(x, top + 16, lines[0], anchor="middle", bold=True)]  # fmt: skip
            if len(lines) > 1:
                out.append(_text(x, top + 30, lines[1], size=11, anchor="middle", fill="#555555"))
            out.append("</g>")
        return out

    def _arrow(self, a: Arrow, row: _Row) -> list[str]:
        colour = self.colours[a.key]
        x1, x2, y = self.xs[a.src], self.xs[a.dst], row.top + 22
        stroke = self._stroke(colour, not a.request)
        if a.src == a.dst:
            line = f'<path d="M{x1:.1f},{y} h{_LOOP} v12 h{4 - _LOOP}" {stroke}/>'
            label_x, anchor, box_x = x1 + 8, "start", x1 + 8
        else:
            tip = x2 - (2 if x2 > x1 else -2)  # the head's point on the lane, not past it
            line = f'<line x1="{x1:.1f}" y1="{y}" x2="{tip:.1f}" y2="{y}" {stroke}/>'
            label_x, anchor = (x1 + x2) / 2, "middle"
            box_x = label_x - text_width(a.label) / 2
        src, dst = self.ladder.lanes[a.src].endpoint, self.ladder.lanes[a.dst].endpoint
        title = (f"packet {a.packet} at {time_text(a.time_ns)} s: {src} -> {dst}, "
                 f"{a.message}, Call-ID {clean(a.call_id)}")  # fmt: skip
        key = f" data-key={quoteattr(a.key)}" if a.key is not None else ""
        return [f'<g class="arrow" data-packet="{a.packet}"{key}>',
                f"<title>{escape(title)}</title>",
                # white under the label: a lane line it crosses does not strike it through
                f'<rect x="{box_x - 2:.1f}" y="{y - 18}" width="{text_width(a.label) + 4:.1f}" '
                f'height="14" fill="#ffffff"/>', line,
                _text(label_x, y - 7, a.label, anchor=anchor, fill=colour),
                *self._gutter(y - 7, str(a.packet), self._since(a.time_ns)), "</g>"]  # fmt: skip

    def _note(self, note: Note, row: _Row) -> list[str]:
        colour = self.colours[note.key]
        r, g, b = _tint(colour, 0.14)
        x, width = self.xs[note.lane], text_width(note.text) + 16
        packet = f' data-packet="{note.packet}"' if note.packet is not None else ""
        # a timer's change has no arrow: its time goes in the gutter
        when = self._gutter(row.top + 18, "", self._since(note.time_ns)) if not packet else []
        return [f'<g class="note" data-lane="{note.lane}" data-state="{note.state}" '
                f"data-key={quoteattr(note.key or '')}{packet}>",
                f'<rect x="{x - width / 2:.1f}" y="{row.top + 3}" width="{width:.1f}" '
                f'height="22" rx="8" fill="rgb({r},{g},{b})" stroke="{colour}"/>',
                _text(x, row.top + 18, note.text, anchor="middle"), *when[1:], "</g>"]  # fmt: skip
