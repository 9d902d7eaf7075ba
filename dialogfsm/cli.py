"""The ``dialogfsm`` command line (also ``python -m dialogfsm``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from ._diagram import DiagramError, format_of, machine_graph, machine_mermaid, render
from ._errors import DialogError, ParseError
from ._ladder import ladder
from ._ladder_draw import ladder_html, ladder_mermaid, ladder_svg
from ._message import Request, Response
from ._parser import parse_message
from ._report import print_table, replay_gc, replayed, write_json
from ._results import SCHEMA_VERSION

#: files this big get a progress bar (when standard error is a terminal)
_PROGRESS_BYTES = 2_000_000


def _summary(message: Request | Response) -> list[tuple[str, str]]:
    """The dialog-relevant fields of one message, as (label, value) rows."""
    rows = [("start line", message.start_line)]
    rows += [
        ("Call-ID", message.call_id),
        ("From", str(message.from_)),
        ("  tag", message.from_.tag or "(none)"),
        ("To", str(message.to)),
        ("  tag", message.to.tag or "(none)"),
        ("CSeq", str(message.cseq)),
    ]
    rows += [(f"Via[{i}]", f"{v} (branch {v.branch})") for i, v in enumerate(message.via)]
    rows += [("Contact", str(c)) for c in message.contact]
    rows += [("Record-Route", str(r)) for r in message.record_route]
    rows += [("Route", str(r)) for r in message.route]
    if message.max_forwards is not None:
        rows.append(("Max-Forwards", str(message.max_forwards)))
    rows.append(("body", f"{len(message.body)} bytes"))
    return rows


def _cmd_parse(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            message = parse_message(Path(path).read_bytes())
        except ParseError as err:
            print(f"{path}: error: {err}", file=sys.stderr)
            status = 1
            continue
        except OSError as err:
            print(f"{path}: error: {err.strerror}", file=sys.stderr)
            status = 2
            continue
        print(f"{path}:")
        for label, value in _summary(message):
            print(f"  {label:<13} {value}")
    return status


class _Counted:
    """An iterator that counts what passed through it."""

    def __init__(self, items: Iterator[str]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        item = next(self._items)
        self.count += 1
        return item


def _cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        size = path.stat().st_size
    except OSError as err:
        print(f"{path}: error: {err.strerror}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    show_progress = args.jobs == 1 and size >= _PROGRESS_BYTES and sys.stderr.isatty()
    try:
        with replay_gc(), replayed(path, as_endpoint=args.as_endpoint, jobs=args.jobs,
                                   progress=show_progress) as merged:  # fmt: skip
            findings = _Counted(merged.findings)
            merged.findings = findings
            if args.json:
                write_json(merged, sys.stdout)
            else:
                print_table(merged, sys.stdout)
    except (DialogError, OSError) as err:
        print(f"{path}: error: {err}", file=sys.stderr)
        return 2
    return 1 if args.strict and findings.count else 0


def _cmd_diagram(args: argparse.Namespace) -> int:
    try:
        fmt = args.format or (format_of(args.output) if args.output else "mermaid")
        if args.output is None and fmt == "png" and sys.stdout.isatty():
            print("error: PNG is not for a terminal: use -o FILE", file=sys.stderr)
            return 2
        data = render(machine_mermaid() if fmt == "mermaid" else machine_graph(),
                      args.output, fmt)  # fmt: skip
    except DiagramError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"{args.output}: error: {err.strerror}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.buffer.write(data)
    return 0


def _cmd_ladder(args: argparse.Namespace) -> int:
    path = Path(args.file)
    out = Path(args.output) if args.output else None
    suffix = out.suffix.lower() if out is not None else ".mmd"
    if suffix not in (".svg", ".html", ".mmd", ".md"):
        print(f"{out}: error: unknown format {suffix!r} (.svg, .html, .mmd or .md)",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        names = dict(item.split("=", 1) for item in args.name)
    except ValueError:
        print("error: --name takes HOST:PORT=NAME", file=sys.stderr)
        return 2
    try:
        diagram = ladder(path, call_id=args.call_id, dialog=args.dialog, names=names,
                         as_endpoint=args.as_endpoint, max_messages=args.max_messages)  # fmt: skip
    except OSError as err:
        print(f"{path}: error: {err.strerror}", file=sys.stderr)
        return 2
    except (DialogError, ValueError) as err:
        print(f"{path}: error: {err}", file=sys.stderr)
        return 2
    if not diagram.arrows:
        print(f"{path}: error: no SIP message to draw", file=sys.stderr)
        return 1
    if suffix == ".svg":
        text = ladder_svg(diagram)
    elif suffix == ".html":
        text = ladder_html(diagram)
    else:
        text = ladder_mermaid(diagram)
        if suffix == ".md":
            text = f"```mermaid\n{text}```\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="dialogfsm", description="SIP dialogs (RFC 3261 section 12) as a state machine."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    parse = sub.add_parser("parse", help="parse SIP messages and show their dialog fields")
    parse.add_argument("files", nargs="+", help="files holding one SIP message each")
    parse.set_defaults(func=_cmd_parse)
    replay = sub.add_parser(
        "replay", help="replay a capture (pcap, pcapng), SIPp message log or text file"
    )
    replay.add_argument("file", help="the capture or log to replay")
    replay.add_argument("--as", dest="as_endpoint", metavar="HOST:PORT",
                        help="replay as this endpoint (its own dialog records) instead of "
                        "observing every endpoint")  # fmt: skip
    replay.add_argument(
        "--json",
        action="store_true",
        help=f"print JSON (schema version {SCHEMA_VERSION}, see the README)",
    )
    replay.add_argument("--strict", action="store_true",
                        help="exit with status 1 when there are findings")  # fmt: skip
    replay.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="replay in N processes, each taking a share of the Call-IDs "
                        "(same results, faster on several cores)")  # fmt: skip
    replay.set_defaults(func=_cmd_replay)
    ladder_cmd = sub.add_parser(
        "ladder", help="draw a capture, SIPp log or text file as a ladder (sequence) diagram"
    )
    ladder_cmd.add_argument("file", help="the capture or log to draw")
    ladder_cmd.add_argument("-o", "--output", metavar="FILE",
                            help="write FILE: .svg, .html (a page holding the SVG), .mmd or "
                            ".md (Mermaid); without it, Mermaid on standard output")  # fmt: skip
    ladder_cmd.add_argument("--call-id", metavar="ID", help="only this call's messages")
    ladder_cmd.add_argument("--dialog", metavar="TAG",
                            help="only the dialog of this tag (From or To tag)")  # fmt: skip
    ladder_cmd.add_argument("--name", action="append", default=[], metavar="HOST:PORT=NAME",
                            help="show an endpoint by name (repeat for each)")  # fmt: skip
    ladder_cmd.add_argument("--as", dest="as_endpoint", metavar="HOST:PORT",
                            help="replay as this endpoint (only its state changes)")  # fmt: skip
    ladder_cmd.add_argument("--max-messages", type=int, metavar="N",
                            help="draw the first N messages only")  # fmt: skip
    ladder_cmd.set_defaults(func=_cmd_ladder)
    diagram = sub.add_parser("diagram", help="draw the dialog state machine (Mermaid, SVG or PNG)")
    diagram.add_argument("-o", "--output", metavar="FILE",
                         help="write to FILE (default: standard output)")  # fmt: skip
    diagram.add_argument("--format", choices=["mermaid", "svg", "png"],
                         help="default: FILE's suffix (.mmd .svg .png), else mermaid")  # fmt: skip
    diagram.set_defaults(func=_cmd_diagram)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
