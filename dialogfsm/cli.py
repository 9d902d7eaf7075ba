"""The ``dialogfsm`` command line (also ``python -m dialogfsm``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ._errors import DialogError, ParseError
from ._message import Request, Response
from ._parser import parse_message
from ._replay import DialogRecord, Finding
from ._results import SCHEMA_VERSION, dialog_json, finding_json, iter_replay, time_text
from ._sources import SourceCounts

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


def _path_line(record: DialogRecord) -> str:
    return " → ".join(record.states)


def _print_table(records: list[DialogRecord], findings: list[Finding], counts: SourceCounts,
                 out: IO[str]) -> None:  # fmt: skip
    console = Console(file=out, highlight=False, soft_wrap=False,
                      width=None if out.isatty() else 160)  # fmt: skip
    table = Table(title=f"{len(records)} dialogs", title_justify="left")
    for column in ("endpoint", "role", "Call-ID", "local tag", "remote tag", "states",
                   "local/remote seq"):  # fmt: skip
        table.add_column(column, overflow="fold", no_wrap=column == "states")
    for r in records:
        s = r.state
        seqs = f"{s.local_seq if s.local_seq is not None else '-'}/" + (
            f"{s.remote_seq if s.remote_seq is not None else '-'}"
        )
        table.add_row(r.endpoint, r.role, s.call_id, s.local_tag, s.remote_tag, _path_line(r),
                      seqs)  # fmt: skip
    console.print(table)
    if findings:
        console.print(f"[bold]{len(findings)} findings[/bold]")
        for f in findings:
            where = f"packet {f.packet}" if f.packet is not None else "timer"
            console.print(f"  {f.rfc}  {where}  {time_text(f.time_ns)}  {f.text}", markup=False)
    console.print(
        f"{counts.packets} {'packets' if counts.kind == 'capture' else 'messages'}, "
        f"{counts.sip_messages} SIP messages, {counts.skipped} skipped ({counts.kind})"
    )


def _cmd_replay(args: argparse.Namespace) -> int:
    path = Path(args.file)
    counts = SourceCounts()
    records: list[DialogRecord] = []
    findings: list[Finding] = []
    try:
        size = path.stat().st_size
    except OSError as err:
        print(f"{path}: error: {err.strerror}", file=sys.stderr)
        return 2
    show_progress = size >= _PROGRESS_BYTES and sys.stderr.isatty()
    out = sys.stdout
    try:
        if args.json:
            out.write(f'{{"version": {SCHEMA_VERSION}, "dialogs": [')
        first = True
        items = iter_replay(path, as_endpoint=args.as_endpoint, counts=counts,
                            progress=_progress(size) if show_progress else None)  # fmt: skip
        for item in items:
            if isinstance(item, Finding):
                findings.append(item)
            elif args.json:  # streamed: a long capture's dialogs are not all kept
                out.write(("" if first else ", ") + json.dumps(dialog_json(item)))
                first = False
            else:
                records.append(item)
    except (DialogError, OSError) as err:
        print(f"{path}: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        tail = {"findings": [finding_json(f) for f in findings], "packets": counts.packets,
                "sip_messages": counts.sip_messages, "skipped": counts.skipped}  # fmt: skip
        out.write("], " + json.dumps(tail)[1:] + "\n")
    else:
        records.sort(key=lambda r: (r.transitions[0].time_ns, r.transitions[0].packet or 0))
        _print_table(records, findings, counts, out)
    return 1 if args.strict and findings else 0


def _progress(total: int) -> Callable[[int], None]:
    bar = Progress(transient=True)
    task = bar.add_task("replaying", total=total)
    bar.start()
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        bar.update(task, completed=done)
        if done >= total:
            bar.stop()

    return advance


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
    replay.set_defaults(func=_cmd_replay)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
