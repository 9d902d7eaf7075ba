"""Shared fixtures: realistic messages as bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with a fixed seed, so a red CI is reproducible and not a coin
# toss; local runs keep exploring new examples every time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

DATA = Path(__file__).parent / "data"


@pytest.fixture
def invite_bytes() -> bytes:
    """The RFC 3665-style INVITE bundled for the README's main job."""
    return (DATA / "messages" / "invite.sip").read_bytes()


pytest_plugins = ["pytester"]
