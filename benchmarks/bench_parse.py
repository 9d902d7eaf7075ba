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

from __future__ import annotations

import argparse
import functools
import platform
import sys
import timeit
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Let ``python benchmarks/bench_parse.py`` find the package in the source tree.
_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from parse_messages import (  # noqa: E402
    EXPECTED,
    INVITE,
    MESSAGES,
    Fields,
    distinct_calls,
    mismatches,
    normalise,
)
from parse_peers import CONTESTANTS, Contestant, Extract, describe, load, verify  # noqa: E402

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
                verdict = f"raises {describe(exc)}"
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
