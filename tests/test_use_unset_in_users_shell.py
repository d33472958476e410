"""Issue #15 item 4: `use`'s warning about an exported variable the profile does not override names the command
in the syntax of the shell the person is in, like `off`'s note and doctor's fix (tests/test_unset_in_users_shell.py):
fish has no `unset`. Through the installed command, from a real fish and with the shell guessed from $SHELL."""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

import pytest
from helpers import dsconfig_command

from dsconfig.targets.claude_code.warnings import unset_all

HEADERS = "ANTHROPIC_CUSTOM_HEADERS"


@pytest.mark.parametrize(("login_shell", "command"), [
    ("/bin/bash", "unset A B"), ("/usr/bin/zsh", "unset A B"), ("/usr/bin/fish", "set -e A; set -e B"),
    ("/usr/bin/pwsh", "Remove-Item Env:A; Remove-Item Env:B"),
])
def test_unset_all_in_the_users_shell(login_shell: str, command: str) -> None:
    # darwin: the parent process is not looked at, so $SHELL decides
    assert unset_all(["A", "B"], {"SHELL": login_shell}, "darwin") == command


def test_unset_all_in_cmd() -> None:
    assert unset_all(["A", "B"], {"PSModulePath": r"C:\Windows\system32\WindowsPowerShell\v1.0\Modules"}, "win32") \
        == "set A= & set B="


@pytest.fixture
def profile(run_dsconfig: Any) -> None:
    # an env: key source: nothing is stored, so no keyring is needed to switch
    proc = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--key-source", "env:DSQ_UNSET_KEY")
    assert proc.returncode == 0, proc.stderr


def test_use_in_fish_names_set_e(profile: None) -> None:
    dsconfig = " ".join(shlex.quote(word) for word in dsconfig_command())
    proc = subprocess.run(["fish", "--no-config", "-c", f"set -gx {HEADERS} 'X-A: b'; {dsconfig} use ds"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"still uses: {HEADERS}; unset them (e.g. `set -e {HEADERS}`) if they are left over" in proc.stderr, \
        proc.stderr
    assert f"unset {HEADERS}" not in proc.stderr


def test_use_guesses_powershell_from_shell_when_the_parent_is_no_shell(profile: None, run_dsconfig: Any) -> None:
    proc = run_dsconfig("use", "ds", env={HEADERS: "X-A: b", "SHELL": "/usr/bin/pwsh"})  # the parent: pytest's Python
    assert proc.returncode == 0, proc.stderr
    assert f"(e.g. `Remove-Item Env:{HEADERS}`)" in proc.stderr, proc.stderr


def test_use_from_bash_keeps_unset(profile: None, run_dsconfig: Any) -> None:
    proc = run_dsconfig("use", "ds", env={HEADERS: "X-A: b", "SHELL": "/bin/bash"})
    assert proc.returncode == 0, proc.stderr
    assert f"(e.g. `unset {HEADERS}`)" in proc.stderr, proc.stderr
