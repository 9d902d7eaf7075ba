"""The pytest plugin, tested as users meet it: in a separate pytest run (``pytester``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_replay import call

from dialogfsm._results import replay
from dialogfsm.pytest_plugin import dialog_lines

FLOW = b"\r\n".join(bytes(m) for _, m in call())


def test_sip_replay_and_assert_dialogs_pass(pytester: pytest.Pytester) -> None:
    """The ``sip_replay`` fixture comes with the installed package (entry point pytest11)
    and reads paths relative to the test file; ``assert_dialogs`` accepts the right
    dialogs."""
    pytester.path.joinpath("call.txt").write_bytes(FLOW)
    pytester.makepyfile(
        """
        from dialogfsm.pytest_plugin import assert_dialogs, assert_no_findings

        def test_call(sip_replay):
            result = sip_replay("call.txt")
            assert_no_findings(result)
            assert_dialogs(result, [
                "uac: early > confirmed > terminated",
                "uas: early > confirmed > terminated",
            ])
        """
    )
    outcome = pytester.runpytest("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1)


def test_assert_dialogs_failure_shows_a_diff(pytester: pytest.Pytester) -> None:
    """A mismatch fails with a readable diff of expected and replayed dialogs."""
    pytester.path.joinpath("call.txt").write_bytes(FLOW)
    pytester.makepyfile(
        """
        from dialogfsm.pytest_plugin import assert_dialogs

        def test_call(sip_replay):
            result = sip_replay("call.txt")
            assert_dialogs(result, [
                "uac: early > confirmed",
                "uas: early > confirmed > terminated",
            ])
        """
    )
    outcome = pytester.runpytest("-p", "no:cacheprovider")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines([
        "*the replayed dialogs differ (- expected, + replayed):*",
        "*- uac: early > confirmed",
        "*+ uac: early > confirmed > terminated",
    ])  # fmt: skip


def test_fields_select_what_each_line_names(tmp_path: Path) -> None:
    """``fields`` adds the endpoint (or Call-ID, tags) to each line."""
    path = tmp_path / "call.txt"
    path.write_bytes(FLOW)
    assert dialog_lines(replay(path), ("endpoint", "role")) == [
        "A uac: early > confirmed > terminated",
        "B uas: early > confirmed > terminated",
    ]
