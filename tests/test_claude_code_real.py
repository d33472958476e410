"""The real Claude Code CLI (pinned 2.1.332) against the loopback fake DeepSeek, after real `dsconfig` commands.

dsconfig runs as a subprocess (the installed console script), so `apiKeyHelper` points at that script and
reads the key from the real Secret Service; the fakes accept only their own key, so a failing helper (which
Claude Code answers by sending an empty key) cannot pass. Every `claude` run has HOME = the test's home,
CLAUDE_CODE_MAX_RETRIES=0 and a timeout (tests/fakes/claude.py).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes.claude import claude_env, parse_result, run_claude
from fakes.server import DEFAULT_REPLY, FakeDeepSeek

pytestmark = [pytest.mark.claude, pytest.mark.secret_service]

# Shaped like DeepSeek keys (sk- + 32 hex digits), made up.
KEY1 = "sk-" + "a1b2c3d4" * 4
KEY2 = "sk-" + "0f1e2d3c" * 4
# Current ids plus the legacy one ds2 names (still accepted, TARGETS.md section 1).
DEEPSEEK_WIRE_MODELS = {"deepseek-flash", "deepseek-v4-pro", "deepseek-v4-flash"}
# A user file with hooks-free content Claude Code accepts, 4-space indent, no final newline.
USER_SETTINGS = b'{\n    "permissions": {\n        "allow": [\n            "Bash(ls:*)"\n        ]\n    },\n    "env": {\n        "MY_VAR": "1"\n    },\n    "cleanupPeriodDays": 30\n}'


@dataclass
class Real:
    home: Path
    work: Path
    dshome: Path
    claude_bin: Path
    run_dsconfig: Any
    fake1: FakeDeepSeek
    fake2: FakeDeepSeek

    def ds(self, *args: str, cwd: Path | None = None, input: str | None = None, ok: bool = True,
           env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        proc: subprocess.CompletedProcess[str] = self.run_dsconfig(*args, cwd=cwd or self.work, input=input, env=env,
                                                                    timeout=timeout)
        if ok:
            assert proc.returncode == 0, f"dsconfig {' '.join(args)}: {proc.stderr}"
        return proc

    def claude(self, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        for fake in (self.fake1, self.fake2):
            fake.reset()
        return run_claude(self.claude_bin, "Say hello", home=self.home, cwd=cwd or self.work, timeout=60)

    @property
    def settings(self) -> Path:
        return self.home / ".claude" / "settings.json"


@pytest.fixture
def real(secret_service: Any, run_dsconfig: Any, claude_bin: Path, fake_deepseek: FakeDeepSeek,
         fake_deepseek_2: FakeDeepSeek, home: Path, tmp_path: Path) -> Real:
    fake_deepseek.keys = {KEY1}
    fake_deepseek_2.keys = {KEY2}
    # reset() restores constructor values: make the keys part of them.
    fake_deepseek._defaults["keys"] = {KEY1}
    fake_deepseek_2._defaults["keys"] = {KEY2}
    work = tmp_path / "work"
    work.mkdir()
    r = Real(home, work, Path(os.environ["DSCONFIG_HOME"]), claude_bin, run_dsconfig, fake_deepseek, fake_deepseek_2)
    r.ds("profile", "add", "ds1", "--provider", "deepseek", "--base-url", fake_deepseek.base_url, "--api-key-stdin", input=KEY1)
    r.ds("profile", "add", "ds2", "--provider", "deepseek", "--base-url", fake_deepseek_2.base_url,
         "--model", "main=deepseek-v4-flash", "--api-key-stdin", input=KEY2)
    return r


def assert_served(proc: subprocess.CompletedProcess[str], fake: FakeDeepSeek, key: str, other: FakeDeepSeek,
                  main_model: str | None = None, both_headers: bool = True, deepseek_models: bool = True) -> None:
    """claude succeeded with the fake's reply, every request reached `fake` with `key` only, none `other`."""
    result = parse_result(proc)
    assert proc.returncode == 0 and not result.is_error, proc.stdout + proc.stderr
    assert result.result == DEFAULT_REPLY
    requests = fake.message_requests
    assert requests and other.request_count == 0
    for req in requests:
        assert req.status == 200 and req.key == key
        if both_headers:  # the helper's key goes out as both headers; nothing else may compete with it
            assert req.headers.get("x-api-key") == key and req.headers.get("authorization") == f"Bearer {key}"
        assert req.model_requested in DEEPSEEK_WIRE_MODELS or not deepseek_models
    if main_model is not None:
        assert main_model in {r.model_requested for r in requests}


def files_containing(secret: str, folders: Iterable[Path]) -> list[Path]:
    found = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink() and secret.encode() in path.read_bytes():
                found.append(path)
    return found


def test_use_switch_off(real: Real) -> None:
    real.settings.parent.mkdir()
    real.settings.write_bytes(USER_SETTINGS)

    real.ds("use", "ds1")
    proc = real.claude()
    assert_served(proc, real.fake1, KEY1, real.fake2, main_model="deepseek-flash")
    assert files_containing(KEY1, [real.home, real.dshome]) == []

    real.ds("use", "ds2")
    proc = real.claude()
    assert_served(proc, real.fake2, KEY2, real.fake1, main_model="deepseek-v4-flash")
    assert files_containing(KEY2, [real.home, real.dshome]) == []
    assert json.loads(real.settings.read_bytes())["env"]["MY_VAR"] == "1"

    real.ds("off")
    assert real.settings.read_bytes() == USER_SETTINGS
    proc = real.claude()
    assert proc.returncode != 0
    assert real.fake1.request_count == 0 and real.fake2.request_count == 0


def test_project_scope_beats_user_scope_in_that_folder_only(real: Real, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    real.ds("use", "ds1")
    proc = real.ds("use", "ds2", "--scope", "project", cwd=proj)
    assert "not ignored by git" in proc.stderr
    user_after = real.settings.read_bytes()

    assert_served(real.claude(proj), real.fake2, KEY2, real.fake1)
    assert_served(real.claude(real.work), real.fake1, KEY1, real.fake2)

    real.ds("off", "--scope", "project", cwd=proj)
    assert not (proj / ".claude" / "settings.local.json").exists()
    assert real.settings.read_bytes() == user_after
    assert_served(real.claude(proj), real.fake1, KEY1, real.fake2)


def test_exec_beats_user_and_project_files_and_keeps_the_key_out_of_argv_and_env(real: Real, tmp_path: Path) -> None:
    """The user file holds another tool's inline token for the second endpoint, the project file a helper for it,
    and the shell exports that token too: `exec ds1` must still send ds1's key, and only it, to ds1's endpoint."""
    real.settings.parent.mkdir()
    real.settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": real.fake2.base_url, "ANTHROPIC_AUTH_TOKEN": KEY2}}))
    proj = tmp_path / "proj"
    (proj / ".claude").mkdir(parents=True)
    (proj / ".claude" / "settings.local.json").write_text(
        json.dumps({"env": {"ANTHROPIC_BASE_URL": real.fake2.base_url}, "apiKeyHelper": f"printf {KEY2}"}))
    # The files work as laid out (no model variables there: Claude Code's default model names go out).
    assert_served(real.claude(proj), real.fake2, KEY2, real.fake1, both_headers=False, deepseek_models=False)

    # A `claude` on PATH that records what it was started with, then runs the real one.
    record = tmp_path / "claude-started-with.json"
    wrapper = tmp_path / "wrapbin" / "claude"
    wrapper.parent.mkdir()
    wrapper.write_text(f"#!/usr/bin/env python3\nimport json, os, sys\n"
                       f"json.dump({{'argv': sys.argv, 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
                       f"os.execv({str(real.claude_bin)!r}, [{str(real.claude_bin)!r}] + sys.argv[1:])\n")
    wrapper.chmod(0o755)
    env = claude_env(real.home, {"PATH": f"{wrapper.parent}:{os.environ['PATH']}", "ANTHROPIC_AUTH_TOKEN": KEY2})
    for fake in (real.fake1, real.fake2):
        fake.reset()
    proc = real.ds("exec", "ds1", "--", "claude", "-p", "Say hello", "--output-format", "json", cwd=proj, env=env, ok=False)
    assert_served(proc, real.fake1, KEY1, real.fake2, main_model="deepseek-flash")
    started = json.loads(record.read_text())
    assert started["argv"][1] == "--settings" and KEY1 not in json.dumps(started["argv"])
    assert KEY1 not in json.dumps(started["env"])
    assert files_containing(KEY1, [real.home, real.dshome, proj]) == []


def test_inline_key(real: Real) -> None:
    real.settings.parent.mkdir()
    real.settings.write_bytes(USER_SETTINGS)
    proc = real.ds("use", "ds1", "--inline-key")
    assert "plain text" in proc.stderr
    assert stat.S_IMODE(real.settings.stat().st_mode) == 0o600
    doc = json.loads(real.settings.read_bytes())
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == KEY1 and "apiKeyHelper" not in doc
    proc = real.claude()
    assert_served(proc, real.fake1, KEY1, real.fake2, both_headers=False)
    assert all(r.headers.get("authorization") == f"Bearer {KEY1}" and "x-api-key" not in r.headers
               for r in real.fake1.message_requests)
    real.ds("off")
    assert real.settings.read_bytes() == USER_SETTINGS


def test_a_failing_helper_does_not_pass(real: Real) -> None:
    """Without its key in the keyring the helper fails; Claude Code still sends (an empty key): refused."""
    real.ds("use", "ds1")
    real.ds("key", "rm", "ds1")
    proc = real.claude()
    assert proc.returncode != 0
    assert real.fake1.message_requests and all(r.status == 401 and not r.key for r in real.fake1.message_requests)


def test_others_writes_between_two_uses_survive_off(real: Real) -> None:
    """Issue 11 cases 1-4 end to end: the real claude runs between dsconfig's commands (it rewrites
    ~/.claude.json with members of its own), the user edits settings.json, then `use` another profile, `use`
    the first again, `off`: everything the others wrote is still there; dsconfig's members are gone."""
    real.settings.parent.mkdir()
    real.settings.write_text(json.dumps({"theme": "dark"}, indent=4))
    state = real.home / ".claude.json"
    state.write_text('{"numStartups": 3, "hasCompletedOnboarding": false}')

    real.ds("use", "ds1")
    assert json.loads(state.read_bytes())["hasCompletedOnboarding"] is True  # first-run screens would show otherwise
    assert_served(real.claude(), real.fake1, KEY1, real.fake2)
    claude_wrote = {k: v for k, v in json.loads(state.read_bytes()).items() if k != "hasCompletedOnboarding"}
    assert {"userID", "firstStartTime", "migrationVersion"} <= set(claude_wrote)  # what 2.1.332 adds

    user = json.loads(real.settings.read_bytes())
    user["permissions"] = {"allow": ["Bash(ls)"]}
    user["cleanupPeriodDays"] = 30
    real.settings.write_text(json.dumps(user, indent=2))  # re-indented, as editors and Claude Code do

    real.ds("use", "ds2")
    assert_served(real.claude(), real.fake2, KEY2, real.fake1)
    claude_wrote.update({k: v for k, v in json.loads(state.read_bytes()).items() if k != "hasCompletedOnboarding"})
    real.ds("use", "ds1")
    real.ds("off")

    assert json.loads(real.settings.read_bytes()) == {"theme": "dark", "permissions": {"allow": ["Bash(ls)"]},
                                                      "cleanupPeriodDays": 30}
    final = json.loads(state.read_bytes())
    assert final["hasCompletedOnboarding"] is False  # what it held before dsconfig
    for key, value in claude_wrote.items():
        assert key in final, f"Claude Code's {key} was lost"
        if key not in ("numStartups", "pluginUsage", "tipsHistory"):
            assert final[key] == value, key


def test_tier_leftovers_of_another_switcher_do_not_survive_use(real: Real) -> None:
    """Issue 13: another switcher left a fable model and a /model label of another provider; after `use`,
    `claude --model fable|opus|sonnet|haiku` each reach DeepSeek with a DeepSeek model id."""
    real.settings.parent.mkdir()
    real.settings.write_text(json.dumps({"env": {
        "ANTHROPIC_DEFAULT_FABLE_MODEL": "kimi-k2-turbo-preview",
        "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Kimi K2",
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "kimi-k2-turbo-preview",
        "ANTHROPIC_SMALL_FAST_MODEL": "kimi-k2-turbo-preview",
    }}, indent=2))
    real.ds("use", "ds1")
    env = json.loads(real.settings.read_bytes())["env"]
    assert env["ANTHROPIC_DEFAULT_SONNET_MODEL_NAME"] == "DeepSeek Flash (1M)"  # the template's label, not Kimi's
    assert "ANTHROPIC_SMALL_FAST_MODEL" not in env
    assert env["ANTHROPIC_DEFAULT_FABLE_MODEL"] == env["ANTHROPIC_DEFAULT_OPUS_MODEL"]
    for tier in ("fable", "opus", "sonnet", "haiku"):
        real.fake1.reset()
        proc = run_claude(real.claude_bin, "Say hello", home=real.home, cwd=real.work, extra_args=["--model", tier],
                          timeout=60)
        assert_served(proc, real.fake1, KEY1, real.fake2)
        sent = {r.model_requested for r in real.fake1.message_requests}
        assert sent <= {"deepseek-flash", "deepseek-v4-pro"}, (tier, sent)
    real.ds("off")
    assert json.loads(real.settings.read_bytes())["env"]["ANTHROPIC_DEFAULT_FABLE_MODEL"] == "kimi-k2-turbo-preview"


def test_model_picker_shows_the_profile_s_labels_not_another_switcher_s(real: Real) -> None:
    """Issue 13: which `/model` companions Claude Code 2.1.332 honours with a custom base URL, seen in its real
    interactive screen (a pty): the `_NAME` labels dsconfig writes, and none of another switcher's."""
    import re
    import time

    import pexpect

    real.settings.parent.mkdir()
    real.settings.write_text(json.dumps({"env": {"ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Kimi K2 (left over)"}}))
    real.ds("use", "ds1")
    state = real.home / ".claude.json"
    doc = json.loads(state.read_bytes())
    doc["projects"] = {str(real.work): {"hasTrustDialogAccepted": True}}  # no folder-trust dialog in the way
    state.write_text(json.dumps(doc))
    env = claude_env(real.home, {"TERM": "xterm-256color"})
    child = pexpect.spawn(str(real.claude_bin), cwd=str(real.work), env=env, encoding="utf-8", dimensions=(50, 160),
                          timeout=30)

    def squeezed(text: str) -> str:  # the screen's words without escapes and spacing (cursor moves carry spaces)
        return re.sub(r"\s+", "", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)", "", text))

    screen = ""
    try:
        deadline = time.monotonic() + 40  # a bounded wait for the screens below; the assertions show what came
        typed_at: int | None = None
        sent = False
        while time.monotonic() < deadline:
            try:
                screen += child.read_nonblocking(100000, timeout=1)
            except pexpect.TIMEOUT:
                pass
            if typed_at is None and "Billing" in squeezed(screen):
                child.send("/model")
                typed_at = len(screen)
            elif typed_at is not None and not sent and "/model" in squeezed(screen[typed_at:]):
                child.send("\r")  # the prompt shows what was typed: Enter now submits it (no guessed delay)
                sent = True
            if "Selectmodel" in squeezed(screen) and "Haiku" in squeezed(screen).split("Selectmodel")[-1]:
                break
    finally:
        child.terminate(force=True)
    picker = squeezed(screen).split("Selectmodel")[-1]
    assert "Selectmodel" in squeezed(screen), squeezed(screen)[-3000:]
    assert "DeepSeekFlash(1M)" in picker and "DeepSeekFlash" in picker, picker[-2000:]
    assert "Kimi" not in picker

