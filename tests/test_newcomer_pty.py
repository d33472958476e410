"""A newcomer's first hour with `dsconfig setup`, played with keystrokes in a pseudo-terminal (issue 14).

The first run with a mistyped key (its shape warned about once, in words; the failure says the key was just
typed and nothing is stored; the menu starts on "Enter the key again"), the key typed again, a no-op re-run
(nothing changes, nothing asked), and a custom gateway (no nonsense about where its key comes from, the model
names typed before the test call checks them). The real Secret Service holds the key.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from fakes.server import DEFAULT_KEY, FakeDeepSeek
from helpers import dsconfig_command

DOWN = "\x1b[B"
ENTER = "\r"
CTRL_U = "\x15"  # prompt_toolkit: clear the line (the prefilled default)
WRONG_KEY = "sk-wrong-key-typed-by-hand-7777"
PROFILES = ("ds", "custom")


@pytest.fixture
def keyring(secret_service: Any) -> Iterator[Any]:
    yield secret_service
    for name in PROFILES:
        subprocess.run(["secret-tool", "clear", "service", "dsconfig", "username", name], capture_output=True,
                       timeout=20, check=False)


def spawn_setup(*args: str, cwd: Path) -> pexpect.spawn[str]:
    import os

    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1"}
    program, *rest = dsconfig_command()
    return pexpect.spawn(program, [*rest, "setup", *args], env=env, cwd=str(cwd), dimensions=(50, 200),
                         encoding="utf-8", timeout=20)


def until(child: pexpect.spawn[str], text: str) -> str:
    """Wait for `text` (literal); return what came before it."""
    child.expect_exact(text)
    return str(child.before)


def finish(child: pexpect.spawn[str]) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return str(child.before)


@pytest.mark.secret_service
def test_a_newcomer_first_run_wrong_key_noop_rerun_and_a_custom_gateway(
        keyring: Any, fake_deepseek: FakeDeepSeek, home: Path, tmp_path: Path) -> None:
    seen = []

    # 1. First run, the key mistyped. --base-url points DeepSeek at the fake: the list shows that URL.
    child = spawn_setup("--base-url", fake_deepseek.base_url, cwd=tmp_path)
    seen.append(until(child, "Provider"))
    seen.append(until(child, f"DeepSeek  ({fake_deepseek.base_url}, from --base-url)"))
    child.send(ENTER)
    seen.append(until(child, "Profile name"))
    child.send(ENTER)  # ds
    seen.append(until(child, "API key"))
    child.send(WRONG_KEY + ENTER)
    seen.append(until(child, "does not look like a DeepSeek key (DeepSeek keys look like sk- and 32 hex characters)"))
    failed = until(child, "The test call failed. What now?")
    seen.append(failed)
    assert "it is the key you just typed (nothing is stored yet)" in failed
    assert "came from the OS keyring" not in failed
    assert "dsconfig key set ds" not in failed and "dsconfig verify ds" not in failed
    seen.append(until(child, "Enter the key again"))  # the first choice: where the cursor starts
    seen.append(until(child, "Continue anyway (nothing verified)"))  # true: no check passed
    child.send(ENTER)
    seen.append(until(child, "API key"))
    child.send(DEFAULT_KEY + ENTER)
    seen.append(until(child, "test call passed"))
    seen.append(until(child, "Models"))
    child.send(ENTER)
    seen.append(until(child, "Configure"))
    child.send(ENTER)
    seen.append(until(child, "settings for"))
    child.send(ENTER)
    seen.append(until(child, "Write these changes"))
    child.send("y")
    first = finish(child)
    assert child.exitstatus == 0, first
    assert "created profile 'ds'" in first and keyring.lookup("ds") == DEFAULT_KEY
    first_all = "".join(seen) + first
    assert first_all.count("does not look like a DeepSeek key") == 1  # once: when the wrong key was typed
    assert "[0-9a-f]" not in first_all and DEFAULT_KEY not in first_all and WRONG_KEY not in first_all

    # 2. The same answers again: nothing changes, and nothing is asked to confirm.
    settings = (home / ".claude" / "settings.json").read_bytes()
    child = spawn_setup(cwd=tmp_path)
    until(child, "Provider")
    child.send(ENTER)
    until(child, "Profile name")
    child.send(ENTER)
    until(child, "Enter keeps the stored key")
    until(child, "API key")
    child.send(ENTER)
    until(child, "test call passed")
    until(child, "Models")
    child.send(ENTER)
    until(child, "Configure")
    child.send(ENTER)
    until(child, "settings for")
    child.send(ENTER)
    rerun = finish(child)
    assert child.exitstatus == 0, rerun
    assert "nothing changes: profile 'ds', its key and every file are already set up this way" in rerun
    assert "Write these changes" not in rerun and "will update" not in rerun and "updated profile" not in rerun
    assert "does not look like" not in rerun
    assert (home / ".claude" / "settings.json").read_bytes() == settings

    # 3. A custom gateway (the fake, standing in for one): the models are typed, then tested.
    child = spawn_setup("--provider", "custom", cwd=tmp_path)
    until(child, "Profile name")
    child.send(ENTER)  # "custom": no profile of that name yet
    until(child, "Base URL")
    child.send(CTRL_U + fake_deepseek.base_url + ENTER)
    key_text = until(child, "API key")
    assert "Get a Custom gateway key" not in key_text
    assert "The Custom gateway key: your gateway's administrator or its own configuration" in key_text
    child.send(DEFAULT_KEY + ENTER)
    until(child, "Models")
    until(child, "Type model names")
    child.send(DOWN + ENTER)
    until(child, "Model for main")
    child.send("deepseek-v4-pro" + ENTER)
    for _ in range(5):  # opus, sonnet, haiku, fable, subagent: the endpoint's defaults
        until(child, "Model for ")
        child.send(ENTER)
    until(child, "test call passed")  # after the names were typed: they were checked
    until(child, "Configure")
    child.send(ENTER)
    until(child, "settings for")
    child.send(ENTER)
    until(child, "Write these changes")
    child.send("y")
    gateway = finish(child)
    assert child.exitstatus == 0, gateway
    assert "created profile 'custom'" in gateway and keyring.lookup("custom") == DEFAULT_KEY
    sent = {r.body["model"] for r in fake_deepseek.message_requests if isinstance(r.body, dict)}
    assert "deepseek-v4-pro" in sent
