"""`dsconfig verify --via-claude`: the real, pinned Claude Code CLI run with the profile against the fake DeepSeek.

The key is in the real Secret Service; `claude` is found on PATH as a user would have it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import server as fake_server
from fakes.server import DEFAULT_KEY, PRO_MODEL, FakeDeepSeek
from helpers import MemoryKeyring
from test_verify import MASKED, OTHER_KEY, forget

from dsconfig import actions, verify
from dsconfig.errors import EXIT_VERIFY_AUTH, EXIT_VERIFY_NETWORK

pytestmark = pytest.mark.claude


@pytest.fixture
def ds_profile(fake_deepseek: FakeDeepSeek, secret_service: Any, run_dsconfig: Any) -> Iterator[str]:
    added = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                         "--api-key-stdin", input=DEFAULT_KEY)
    assert added.returncode == 0, added.stderr
    yield "ds"
    forget("ds")


def path_with(claude_bin: Path) -> dict[str, str]:
    import os

    return {"PATH": f"{claude_bin.parent}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.secret_service
def test_via_claude_passes_against_the_fake(ds_profile: str, fake_deepseek: FakeDeepSeek, claude_bin: Path, run_dsconfig: Any) -> None:
    proc = run_dsconfig("verify", "ds", "--via-claude", "--json", "--timeout", "30", env=path_with(claude_bin))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert DEFAULT_KEY not in proc.stdout + proc.stderr
    claude = json.loads(proc.stdout)["profiles"][0]["claude"]
    assert set(claude) == {"command", "exit_code", "total_ms", "answered", "model", "result", "ok", "detail", "failure"}
    assert claude["ok"] is True and claude["answered"] is True and claude["exit_code"] == 0
    assert claude["model"] == "deepseek-flash[1m]" and claude["result"] == fake_server.DEFAULT_REPLY  # the profile's main model
    assert claude["command"] == str(claude_bin) or claude["command"].endswith("/claude")
    from_claude = [r for r in fake_deepseek.message_requests if "claude-cli" in r.headers.get("user-agent", "")]
    assert from_claude, "Claude Code itself never reached the fake"
    assert all(r.key == DEFAULT_KEY and r.params.get("beta") == "true" for r in from_claude)
    assert {r.body["model"] for r in from_claude} <= {PRO_MODEL, fake_server.FLASH_MODEL}


@pytest.mark.secret_service
def test_via_claude_refused_key_is_auth(ds_profile: str, fake_deepseek: FakeDeepSeek, claude_bin: Path, run_dsconfig: Any) -> None:
    fake_deepseek.keys = {OTHER_KEY}
    proc = run_dsconfig("verify", "ds", "--via-claude", "--timeout", "30", env=path_with(claude_bin))
    assert proc.returncode == EXIT_VERIFY_AUTH, proc.stdout + proc.stderr
    assert DEFAULT_KEY not in proc.stdout + proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("ds") and "claude -p" in line)
    assert row.rstrip().endswith("FAIL auth")
    assert "claude -p" in next(line for line in proc.stdout.splitlines() if line.startswith("  ds · "))
    assert f"the provider refused the API key {MASKED}" in proc.stdout and "fix: store the right key: dsconfig key set ds" in proc.stdout


@pytest.mark.secret_service
def test_via_claude_is_bounded_by_the_timeout(ds_profile: str, fake_deepseek: FakeDeepSeek, claude_bin: Path, run_dsconfig: Any) -> None:
    fake_deepseek.stall = True
    # Bounded by the run's own timeout (TimeoutExpired names the hang): the claude run is killed at 2 s.
    proc = run_dsconfig("verify", "ds", "--via-claude", "--json", "--timeout", "2", env=path_with(claude_bin), timeout=60)
    assert proc.returncode == EXIT_VERIFY_NETWORK, proc.stdout + proc.stderr
    profile = json.loads(proc.stdout)["profiles"][0]
    assert profile["claude"]["failure"]["class"] == "timeout"
    assert profile["claude"]["failure"]["message"] == "claude -p got no answer within 2 s (killed)"
    assert {f["class"] for f in profile["failures"]} == {"stall", "timeout"}
    stalled = [r for r in fake_deepseek.message_requests if "claude-cli" in r.headers.get("user-agent", "")]
    assert stalled and all(r.key == DEFAULT_KEY for r in stalled)  # it got the key from the helper, then waited


def test_via_claude_with_a_failing_key_helper_is_no_key(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring, claude_bin: Path) -> None:
    # verify reads the key from an in-memory store here, but Claude Code's apiKeyHelper (`dsconfig key get ds`)
    # asks the OS keyring, which has no Secret Service in this test: the helper fails as it would for a user
    # whose keyring is locked for the Claude Code process.
    ctx = actions.Context(secrets=memory_keyring)
    actions.profile_add("ds", "deepseek", base_url=fake_deepseek.base_url, key=DEFAULT_KEY, ctx=ctx)
    report = verify.run("ds", ctx=ctx, timeout=20, via_claude=True, claude_command=str(claude_bin))
    profile = report.profiles[0]
    assert profile.models[0].ok  # the HTTP checks had the key
    claude = profile.claude
    assert claude is not None and claude.failure is not None and claude.failure.kind == "no_key", claude
    assert "apiKeyHelper (`dsconfig key get ds`) failed" in claude.failure.message
    assert claude.failure.hint.endswith("dsconfig key set ds")
    assert report.exit_code == EXIT_VERIFY_AUTH


def test_via_claude_without_claude_installed_is_no_claude(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring, tmp_path: Path) -> None:
    ctx = actions.Context(secrets=memory_keyring, environ={"PATH": str(tmp_path), "HOME": str(tmp_path)})
    actions.profile_add("ds", "deepseek", base_url=fake_deepseek.base_url, key=DEFAULT_KEY, ctx=ctx)
    report = verify.run("ds", ctx=ctx, timeout=5, via_claude=True)
    claude = report.profiles[0].claude
    assert claude is not None and claude.failure is not None and claude.failure.kind == "no_claude"
    assert claude.failure.hint.startswith("install it: npm install -g @anthropic-ai/claude-code")
    assert report.exit_code == 1
