"""The real `dsconfig setup`: in a pseudo-terminal answered with keystrokes, and without any terminal.

The pty test is the promise of the product end to end: a user with a key types it into `dsconfig setup`
(questionary selects answered with Enter and arrow keys, the key typed into a hidden prompt), the key lands in
the real Secret Service, and the real `claude -p` then answers through the fake DeepSeek. A user pointing
the DeepSeek provider at another endpoint (a proxy, or here the fake) passes `--base-url`, as they would.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from fakes.claude import parse_result, run_claude
from fakes.server import DEFAULT_KEY, DEFAULT_REPLY, FakeDeepSeek

DOWN = "\x1b[B"
ENTER = "\r"
CTRL_C = "\x03"
PROFILES = ("ds", "custom")


def dsconfig_command() -> list[str]:
    """The console script beside this Python (as a user runs it), else `python -m dsconfig`. Not imported from
    conftest: a second `conftest` module (tests/reliability/) can shadow that name in a full run."""
    import sys

    script = Path(sys.executable).parent / "dsconfig"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dsconfig"]


def forget(name: str) -> None:
    subprocess.run(["secret-tool", "clear", "service", "dsconfig", "username", name], capture_output=True, timeout=20, check=False)


@pytest.fixture
def keyring(secret_service: Any) -> Iterator[Any]:
    """The real Secret Service, with this module's profiles' keys removed afterwards (it lives for the session)."""
    yield secret_service
    for name in PROFILES:
        forget(name)


def terminal_env(claude_bin: Path | None = None) -> dict[str, str]:
    path = os.environ["PATH"] if claude_bin is None else f"{claude_bin.parent}{os.pathsep}{os.environ['PATH']}"
    # A sane terminal; no cursor-position request (pexpect would never answer it, prompt_toolkit would wait).
    return {**os.environ, "PATH": path, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}


def spawn_setup(*args: str, env: dict[str, str], cwd: Path) -> pexpect.spawn[str]:
    program, *rest = dsconfig_command()
    return pexpect.spawn(program, [*rest, "setup", *args], env=env, cwd=str(cwd), dimensions=(40, 160),
                         encoding="utf-8", timeout=15)


def finish(child: pexpect.spawn[str]) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


@pytest.mark.secret_service
@pytest.mark.claude
def test_setup_in_a_terminal_then_claude_answers_through_the_fake(
        keyring: Any, fake_deepseek: FakeDeepSeek, claude_bin: Path, home: Path, tmp_path: Path) -> None:
    child = spawn_setup("--base-url", fake_deepseek.base_url, env=terminal_env(claude_bin), cwd=tmp_path)
    child.expect("Provider")
    child.expect("DeepSeek")  # preselected: Enter takes it
    child.send(ENTER)
    child.expect("Profile name")
    child.send(ENTER)  # "ds"
    child.expect("Get a DeepSeek key at https://platform.deepseek.com/api_keys")
    child.expect("API key")
    child.send(DEFAULT_KEY + ENTER)
    child.expect("test call passed")
    child.expect("Models")
    child.send(ENTER)  # the template's models
    child.expect("Configure")
    child.expect("This shell")
    child.send(DOWN + " " + ENTER)  # Claude Code is preselected; arrow down to the shell and tick it
    child.expect("settings for")
    child.send(ENTER)  # your user account
    child.expect(r"\+\+\+ b/\S*settings\.json")  # the diff, before anything is written
    child.expect("Write these changes")
    assert not (home / ".claude" / "settings.json").exists()
    child.send("y")
    rest = finish(child)
    assert child.exitstatus == 0, rest
    assert ' env ds --shell ' in rest and "dsconfig use ds" in rest and "dsconfig off" in rest
    assert DEFAULT_KEY not in rest

    assert keyring.lookup("ds") == DEFAULT_KEY
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == fake_deepseek.base_url
    assert DEFAULT_KEY not in json.dumps(settings)

    fake_deepseek.reset()
    proc = run_claude(claude_bin, "Say hello", home=home, cwd=tmp_path, timeout=60)
    result = parse_result(proc)
    assert proc.returncode == 0 and not result.is_error, proc.stderr
    assert result.result == DEFAULT_REPLY
    sent = [r for r in fake_deepseek.message_requests if "claude-cli" in r.headers.get("user-agent", "")]
    assert sent and all(r.key == DEFAULT_KEY for r in sent)


@pytest.mark.secret_service
def test_ctrl_c_in_the_terminal_writes_nothing(keyring: Any, fake_deepseek: FakeDeepSeek, home: Path, tmp_path: Path) -> None:
    child = spawn_setup("--base-url", fake_deepseek.base_url, env=terminal_env(), cwd=tmp_path)
    child.expect("Provider")
    child.send(ENTER)
    child.expect("Profile name")
    child.send(ENTER)
    child.expect("API key")
    child.send("sk-half-typed" + CTRL_C)
    rest = finish(child)
    assert child.exitstatus == 130 and "interrupted" in rest
    assert list(home.iterdir()) == [] and not (tmp_path / "dsconfig-home").exists()
    assert keyring.lookup("ds") is None


# --- no terminal ------------------------------------------------------------------------------------------


@pytest.mark.secret_service
def test_setup_without_a_terminal_succeeds_with_flags(keyring: Any, fake_deepseek: FakeDeepSeek, run_dsconfig: Any, home: Path) -> None:
    proc = run_dsconfig("setup", "--provider", "deepseek", "--profile", "ds", "--api-key-stdin", "--base-url",
                        fake_deepseek.base_url, "--yes", input=DEFAULT_KEY + "\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # every message is for a person: stderr
    assert "test call: passed" in proc.stderr and DEFAULT_KEY not in proc.stderr
    assert keyring.lookup("ds") == DEFAULT_KEY
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["env"]["ANTHROPIC_BASE_URL"] == fake_deepseek.base_url and settings["apiKeyHelper"].endswith("key get ds")
    listed = run_dsconfig("profile", "list", "--json")
    assert json.loads(listed.stdout)["active"] == "ds"


def test_setup_without_a_terminal_fails_fast_naming_the_flag(run_dsconfig: Any) -> None:
    # Bounded: a setup that waited for an answer on its empty stdin raises TimeoutExpired here.
    proc = run_dsconfig("setup", input="", timeout=20)
    assert proc.returncode == 2 and "no terminal" in proc.stderr and "--provider" in proc.stderr


@pytest.mark.secret_service
def test_setup_without_a_terminal_and_without_a_key_names_api_key_stdin(keyring: Any, run_dsconfig: Any, home: Path) -> None:
    # Bounded: a setup that waited for a key on its empty stdin raises TimeoutExpired here.
    proc = run_dsconfig("setup", "--provider", "deepseek", "--profile", "ds", "--yes", input="", timeout=20)
    assert proc.returncode == 2 and "--api-key-stdin" in proc.stderr
    assert list(home.iterdir()) == []


@pytest.mark.secret_service
@pytest.mark.claude
def test_adopting_a_hand_made_setup_keeps_claude_working(
        keyring: Any, fake_deepseek: FakeDeepSeek, claude_bin: Path, home: Path, tmp_path: Path, run_dsconfig: Any) -> None:
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": fake_deepseek.base_url,
                                            "ANTHROPIC_AUTH_TOKEN": DEFAULT_KEY,
                                            "ANTHROPIC_MODEL": "deepseek-v4-flash",
                                            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}}, indent=2))
    before = parse_result(run_claude(claude_bin, "Say hello", home=home, cwd=tmp_path))
    assert before.result == DEFAULT_REPLY  # the hand-made setup works...
    models_before = {r.body["model"] for r in fake_deepseek.message_requests}
    proc = run_dsconfig("setup", "--yes", input="")
    assert proc.returncode == 0, proc.stderr
    assert "found a setup not made by dsconfig" in proc.stderr
    assert DEFAULT_KEY not in settings.read_text() and keyring.lookup("custom") == DEFAULT_KEY

    fake_deepseek.reset()
    after = run_claude(claude_bin, "Say hello", home=home, cwd=tmp_path)
    assert parse_result(after).result == DEFAULT_REPLY, after.stderr  # ...and still does, with the key from the keyring
    sent = [r for r in fake_deepseek.message_requests if "claude-cli" in r.headers.get("user-agent", "")]
    assert sent and all(r.key == DEFAULT_KEY for r in sent)
    assert "deepseek-v4-flash" in models_before
    assert {r.body["model"] for r in sent} == models_before  # the same models as before


def test_setup_in_a_terminal_without_a_keyring_offers_the_other_sources(
        fake_deepseek: FakeDeepSeek, home: Path, tmp_path: Path, run_dsconfig: Any) -> None:
    """Issue 16: no usable OS keyring (keyring's `fail` backend): setup asks where the key should live instead of
    stopping; an environment variable is chosen, the test call reads the key from it, nothing is stored."""
    env = {**terminal_env(), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "DEEPSEEK_API_KEY": DEFAULT_KEY}
    child = spawn_setup("--base-url", fake_deepseek.base_url, env=env, cwd=tmp_path)
    child.expect("Provider")
    child.send(ENTER)
    child.expect("Profile name")
    child.send(ENTER)
    child.expect("the key can live somewhere else instead")
    child.expect("Where should the key live")
    child.expect("An environment variable")
    child.send(ENTER)  # the first choice
    child.expect("Environment variable that will hold the key")
    child.send(ENTER)  # DEEPSEEK_API_KEY
    child.expect("test call passed")
    child.expect("Models")
    child.send(ENTER)
    child.expect("Configure")
    child.send(ENTER)
    child.expect("settings for")
    child.send(ENTER)
    child.expect("dsconfig stores nothing")
    child.expect("Write these changes")
    child.send("y")
    rest = finish(child)
    assert child.exitstatus == 0, rest
    assert "key source: env:DEEPSEEK_API_KEY" in rest and DEFAULT_KEY not in rest
    got = run_dsconfig("key", "get", "ds", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                                                "DEEPSEEK_API_KEY": DEFAULT_KEY})
    assert got.returncode == 0 and got.stdout.strip() == DEFAULT_KEY
