"""pytest plugin: replay a capture in a test and assert on its dialogs.

Installed with dialogfsm (entry point ``pytest11``). It gives tests the ``sip_replay``
fixture, and :func:`assert_dialogs`, which compares the dialogs of a replay with the ones
a flow implies and, when they differ, shows a line-by-line diff::

    from dialogfsm.pytest_plugin import assert_dialogs

    def test_busy(sip_replay):
        result = sip_replay("data/busy.pcap")  # relative to the test file
        assert_dialogs(result, [])  # a 486 makes no dialog
        assert result.findings == []
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from ._results import ReplayResult, replay

#: what each dialog's line shows, by default
DEFAULT_FIELDS = ("role",)


def dialog_lines(result: ReplayResult, fields: Sequence[str] = DEFAULT_FIELDS) -> list[str]:
    """One line per dialog, in creation order: the ``fields`` (``role``, ``endpoint``,
    ``call_id``, ``local_tag``, ``remote_tag``), a colon, then its states joined by
    ``" > "``: ``"uac: early > confirmed > terminated"``."""
    lines = []
    for record in result.dialogs:
        values = {
            "role": record.role,
            "endpoint": record.endpoint,
            "call_id": record.state.call_id,
            "local_tag": record.state.local_tag,
            "remote_tag": record.state.remote_tag,
        }
        head = " ".join(values[f] for f in fields)
        lines.append(f"{head}: {' > '.join(record.states)}")
    return lines


def assert_dialogs(
    result: ReplayResult, expected: Sequence[str], *, fields: Sequence[str] = DEFAULT_FIELDS
) -> None:
    """Assert that ``result`` has exactly the ``expected`` dialogs (lines as
    :func:`dialog_lines` writes them), in order; a mismatch shows a diff."""
    actual = dialog_lines(result, fields)
    if actual != list(expected):
        diff = "\n".join(difflib.ndiff(list(expected), actual))
        raise AssertionError(f"the replayed dialogs differ (- expected, + replayed):\n{diff}")


def assert_no_findings(result: ReplayResult) -> None:
    """Assert that the replay found nothing against the RFCs; else list the findings."""
    if result.findings:
        lines = "\n".join(f"  packet {f.packet}: {f.rfc}: {f.text}" for f in result.findings)
        raise AssertionError(f"{len(result.findings)} findings:\n{lines}")


@pytest.fixture
def sip_replay(request: pytest.FixtureRequest) -> Callable[..., ReplayResult]:
    """Replay a capture, SIPp log or text file: ``sip_replay(path, as_endpoint=None)``.

    A relative path is taken from the directory of the test file.
    """
    base = Path(str(request.path)).parent

    def run(path: str | os.PathLike[str], *, as_endpoint: str | None = None) -> ReplayResult:
        where = Path(path)
        return replay(where if where.is_absolute() else base / where, as_endpoint=as_endpoint)

    return run
