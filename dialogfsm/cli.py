"""The ``dialogfsm`` command line (also ``python -m dialogfsm``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._errors import ParseError
from ._message import Request, Response
from ._parser import parse_message


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="dialogfsm", description="SIP dialogs (RFC 3261 section 12) as a state machine."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    parse = sub.add_parser("parse", help="parse SIP messages and show their dialog fields")
    parse.add_argument("files", nargs="+", help="files holding one SIP message each")
    parse.set_defaults(func=_cmd_parse)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
