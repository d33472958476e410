"""`dsconfig env` and `dsconfig exec` end to end: real shells, the real anthropic SDK, the real Secret Service,
the real Claude Code CLI, the loopback fake DeepSeek server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakes.claude import claude_env, parse_result, write_user_settings
from fakes.server import FakeDeepSeek

KEY_A = "sk-test-env-profile-a-0001"
KEY_B = "sk-test-env-profile-b-0002"

pytestmark = pytest.mark.usefixtures("secret_service")


def _add(run: Any, name: str, fake: FakeDeepSeek, key: str, *extra: str) -> None:
    fake.keys = {key}
    proc = run("profile", "add", name, "--provider", "deepseek", "--base-url", fake.base_url, "--api-key-stdin", *extra, input=key)
    assert proc.returncode == 0, proc.stderr


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") or os.geteuid() == 0:
            pytest.fail(f"{name} is required (apt-get install {name})")
        pytest.skip(f"{name} not installed")
    return path


def test_sdk_reaches_fake_after_eval_in_bash(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A)
    program = tmp_path / "sdk.py"
    program.write_text(
        "import anthropic\n"
        "m = anthropic.Anthropic().messages.create(model='deepseek-v4-pro', max_tokens=50,"
        " messages=[{'role': 'user', 'content': 'Hi'}])\n"
        "print(m.content[0].text)\n"
    )
    script = f'eval "$(dsconfig env ds --shell bash)" && "{sys.executable}" "{program}"'
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run([_shell("bash"), "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Hello from fake DeepSeek"
    [request] = fake_deepseek.message_requests
    assert request.key == KEY_A
    assert KEY_A not in proc.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_readme_one_liner_sets_every_variable(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, shell: str) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A, "--env", "ODD_VALUE=it's $(not run) `nor this`; 100% ok!")
    line = {"bash": 'eval "$(dsconfig env ds)"', "zsh": 'eval "$(dsconfig env ds)"', "fish": "dsconfig env ds | source"}[shell]
    show = 'printf "%s\\n" "$ANTHROPIC_BASE_URL" "$ANTHROPIC_AUTH_TOKEN" "$ANTHROPIC_API_KEY" "$ANTHROPIC_MODEL" "$ODD_VALUE"'
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "SHELL": f"/bin/{shell}"}
    proc = subprocess.run([_shell(shell), "-c", f"{line}; {show}"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    # Exactly one key variable (issue 14): DeepSeek documents ANTHROPIC_API_KEY for the SDK; the token is unset.
    assert proc.stdout.splitlines() == [fake_deepseek.base_url, "", KEY_A, "deepseek-flash[1m]", "it's $(not run) `nor this`; 100% ok!"]


def test_unset_removes_exactly_the_profile_variables(run_dsconfig: Any, fake_deepseek: FakeDeepSeek) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A)
    script = ('export KEEP=1; eval "$(dsconfig env ds --shell bash)"; eval "$(dsconfig env ds --shell bash --unset)"; '
              'env | grep -E "^(ANTHROPIC_|CLAUDE_CODE_|API_TIMEOUT|KEEP)" | sort')
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["KEEP=1"]


def test_env_without_profiles_says_how_to_make_one(run_dsconfig: Any) -> None:
    proc = run_dsconfig("env", "--shell", "bash")
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "dsconfig setup" in proc.stderr or "profile add" in proc.stderr


def test_env_with_no_name_uses_the_active_profile(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, fake_deepseek_2: FakeDeepSeek) -> None:
    _add(run_dsconfig, "a", fake_deepseek, KEY_A)
    _add(run_dsconfig, "b", fake_deepseek_2, KEY_B)
    no_active = run_dsconfig("env", "--shell", "bash")
    assert no_active.returncode == 3 and "no active profile" in no_active.stderr
    from dsconfig.profiles import ProfileStore

    ProfileStore().set_active("b")
    proc = run_dsconfig("env", "--shell", "bash")
    assert proc.returncode == 0, proc.stderr
    assert f"export ANTHROPIC_BASE_URL='{fake_deepseek_2.base_url}'" in proc.stdout


def test_env_refuses_an_unrepresentable_value(run_dsconfig: Any, fake_deepseek: FakeDeepSeek) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A, "--env", "PCT=100%")
    proc = run_dsconfig("env", "ds", "--shell", "cmd")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "PCT" in proc.stderr and "cmd" in proc.stderr
    assert KEY_A not in proc.stderr


def test_env_does_not_import_heavy_modules(run_dsconfig: Any, fake_deepseek: FakeDeepSeek) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A)
    probe = ("import sys; from dsconfig.entry import main; code = main(['env', 'ds', '--shell', 'bash']); "
             "heavy = {'httpx', 'questionary', 'prompt_toolkit', 'anthropic', 'click', 'tomlkit', 'keyring'}; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy), file=sys.stderr); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("export ANTHROPIC_BASE_URL=")
    assert proc.stderr.strip() == "[]"


# --- exec ---------------------------------------------------------------------------------------------


def test_exec_passes_exit_code_stdin_and_signals(run_dsconfig: Any, fake_deepseek: FakeDeepSeek) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A)
    code = run_dsconfig("exec", "ds", "--", "sh", "-c", "exit 7")
    assert code.returncode == 7
    echo = run_dsconfig("exec", "ds", "--", "sh", "-c", 'cat; printf "%s" "$ANTHROPIC_BASE_URL"', input="from stdin\n")
    assert echo.returncode == 0 and echo.stdout == f"from stdin\n{fake_deepseek.base_url}"
    killed = run_dsconfig("exec", "ds", "--", "sh", "-c", "kill -TERM $$")
    assert killed.returncode == -15  # the command itself died of the signal: dsconfig is no longer in between


def test_exec_unknown_command_is_a_clear_error(run_dsconfig: Any, fake_deepseek: FakeDeepSeek) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A)
    proc = run_dsconfig("exec", "ds", "--", "no-such-command-dsconfig")
    assert proc.returncode == 3 and "command not found" in proc.stderr


def _all_bytes_under(*folders: Path) -> bytes:
    out = b""
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                out += path.read_bytes()
    return out


@pytest.mark.claude
def test_exec_claude_beats_another_profile_in_user_settings(
    run_dsconfig: Any, fake_deepseek: FakeDeepSeek, fake_deepseek_2: FakeDeepSeek, claude_bin: Path, home: Path, tmp_path: Path,
) -> None:
    _add(run_dsconfig, "ds", fake_deepseek, KEY_A)
    fake_deepseek_2.keys = {KEY_B}
    # The user's settings point at another endpoint with an inline token: the hardest case, since settings
    # env beats the process environment.
    write_user_settings(home, {"env": {"ANTHROPIC_BASE_URL": fake_deepseek_2.base_url, "ANTHROPIC_AUTH_TOKEN": KEY_B,
                                       "ANTHROPIC_MODEL": "claude-haiku-4-5"}})
    proc = run_dsconfig("exec", "ds", "--", str(claude_bin), "-p", "Say hello", "--output-format", "json",
                        env=claude_env(home), timeout=90)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert parse_result(proc).result == "Hello from fake DeepSeek"
    assert fake_deepseek_2.request_count == 0
    assert fake_deepseek.message_requests and {r.key for r in fake_deepseek.message_requests} == {KEY_A}
    assert {r.model_requested for r in fake_deepseek.message_requests} <= {"deepseek-flash", "deepseek-v4-pro"}
    assert KEY_A.encode() not in _all_bytes_under(home, Path(os.environ["DSCONFIG_HOME"]))
