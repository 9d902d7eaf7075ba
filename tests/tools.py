"""External tools the tests drive (SIPp, dumpcap): find them, and stop what was started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest


def need(tool: str) -> str:
    """A tool's path; a missing one skips outside CI and fails in it."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is required in CI (.ci/run installs sip-tester and tshark)")
        pytest.skip(f"{tool} is not installed")
    return path


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc`` if it still runs: SIGTERM, then SIGKILL after 10 s; always reaped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
