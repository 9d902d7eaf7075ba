"""The ``dialogfsm`` command line (also ``python -m dialogfsm``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ._errors import DialogError, ParseError
from ._message import Request, Response
from ._parser import parse_message
from ._report import print_table, run_replay
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
        report = run_replay(path, as_endpoint=args.as_endpoint, jobs=args.jobs,
                            progress=show_progress)  # fmt: skip
    except (DialogError, OSError) as err:
        print(f"{path}: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(report.to_json(), sys.stdout)
        sys.stdout.write("\n")
    else:
        print_table(report, sys.stdout)
    return 1 if args.strict and report.findings else 0


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
