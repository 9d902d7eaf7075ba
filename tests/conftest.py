"""Shared fixtures: realistic messages as bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def invite_bytes() -> bytes:
    """The RFC 3665-style INVITE bundled for the README's main job."""
    return (DATA / "messages" / "invite.sip").read_bytes()
