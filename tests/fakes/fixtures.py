"""Pytest fixtures for the fake DeepSeek server and the real Claude Code CLI.

Loaded by tests/conftest.py through ``pytest_plugins = ["fakes.fixtures"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakes.claude import ensure_claude
from fakes.server import FakeDeepSeek


@pytest.fixture
def fake_deepseek() -> Iterator[FakeDeepSeek]:
    """A running fake with default behaviour, stopped (stalled requests cut) after the test."""
    with FakeDeepSeek() as fake:
        yield fake


@pytest.fixture
def fake_deepseek_2() -> Iterator[FakeDeepSeek]:
    """A second, independent fake on its own port, for "switch to another endpoint" tests."""
    with FakeDeepSeek() as fake:
        yield fake


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The pinned real ``claude`` binary, installed once per session; a failed install fails the test."""
    return ensure_claude()
