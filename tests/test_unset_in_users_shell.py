"""Outside-tester finding 17: `off`'s note and doctor's fix for a variable exported in this shell name the command
in the syntax of the shell the person is in (fish has no `unset`). Through the installed command, run from a real
fish, and with the shell guessed from $SHELL when the parent is no shell."""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

import pytest
from helpers import dsconfig_command

from dsconfig.targets import shell

URL = "https://api.moonshot.ai/anthropic"


@pytest.fixture
def applied(run_dsconfig: Any) -> None:
    # an env: key source: nothing is stored, so no keyring is needed to switch
    for args in (("profile", "add", "ds", "--provider", "deepseek", "--key-source", "env:DSQ_UNSET_KEY"),
                 ("use", "ds")):
        proc = run_dsconfig(*args)
        assert proc.returncode == 0, proc.stderr


def _in_fish(command: str) -> subprocess.CompletedProcess[str]:
    dsconfig = " ".join(shlex.quote(word) for word in dsconfig_command())
    return subprocess.run(["fish", "--no-config", "-c", f"set -gx ANTHROPIC_BASE_URL {URL}; {dsconfig} {command}"],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("shell_name", "command"), [
    ("bash", "unset ANTHROPIC_BASE_URL"), ("zsh", "unset ANTHROPIC_BASE_URL"), ("fish", "set -e ANTHROPIC_BASE_URL"),
    ("powershell", "Remove-Item Env:ANTHROPIC_BASE_URL"), ("cmd", "set ANTHROPIC_BASE_URL="),
])
def test_unset_command_per_shell(shell_name: str, command: str) -> None:
    assert shell.unset_command("ANTHROPIC_BASE_URL", shell_name) == command


def test_off_in_fish_names_set_e(applied: None) -> None:
    proc = _in_fish("off")
    assert proc.returncode == 0, proc.stderr
    assert f"ANTHROPIC_BASE_URL={URL} is exported in this shell" in proc.stderr, proc.stderr
    assert "`set -e ANTHROPIC_BASE_URL` to stop it" in proc.stderr and "unset ANTHROPIC_BASE_URL" not in proc.stderr


def test_doctor_in_fish_names_set_e(applied: None) -> None:
    proc = _in_fish("doctor")
    fixes = [line.strip() for line in proc.stdout.splitlines() if "fix: " in line and "ANTHROPIC_BASE_URL" in line]
    assert fixes and all(line.startswith("fix: set -e ANTHROPIC_BASE_URL ") for line in fixes), proc.stdout
    assert "unset ANTHROPIC_BASE_URL" not in proc.stdout + proc.stderr


def test_off_and_doctor_guess_powershell_from_shell_when_the_parent_is_no_shell(applied: None,
                                                                               run_dsconfig: Any) -> None:
    env = {"ANTHROPIC_BASE_URL": URL, "SHELL": "/usr/bin/pwsh"}  # the parent here is pytest's Python
    off = run_dsconfig("off", env=env)
    assert "`Remove-Item Env:ANTHROPIC_BASE_URL` to stop it" in off.stderr, off.stderr
    assert run_dsconfig("use", "ds").returncode == 0
    doctor = run_dsconfig("doctor", env=env)
    assert "fix: Remove-Item Env:ANTHROPIC_BASE_URL " in doctor.stdout, doctor.stdout
    assert "unset ANTHROPIC_BASE_URL" not in off.stderr + doctor.stdout
