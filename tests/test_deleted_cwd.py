"""Every command, started in a folder that no longer exists, exits cleanly (issue 14): no traceback.

A shell left in a removed folder (`rm -rf` of a checkout, a finished temp dir) is common; `Path.cwd()` then
raises FileNotFoundError.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import dsconfig_command

COMMANDS = [
    ["--help"], ["--version"], ["providers"], ["providers", "--json"],
    ["profile", "list"], ["profile", "show", "ds"], ["profile", "add", "ds", "--provider", "deepseek"],
    ["profile", "edit", "ds", "--model", "main=m"], ["profile", "rename", "ds", "ds2"], ["profile", "rm", "ds"],
    ["key", "get", "ds"], ["key", "set", "ds", "--stdin"], ["key", "rm", "ds"],
    ["env"], ["env", "ds", "--shell", "bash"], ["env", "--unset", "--shell", "fish"],
    ["exec", "ds", "--", "true"], ["completion", "bash"],
    ["verify", "ds", "--timeout", "2"], ["verify", "--all", "--timeout", "2"],
    ["use", "ds"], ["use", "ds", "--scope", "project"], ["use", "ds", "--dry-run"],
    ["off"], ["off", "--scope", "project"], ["detect"], ["detect", "--json"],
    ["setup", "--yes", "--no-verify"], ["status"], ["status", "--json"], ["doctor", "--no-verify"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_every_command_from_a_deleted_folder(args: list[str], tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run([*dsconfig_command(), *args], cwd=gone, preexec_fn=lambda: os.rmdir(gone),
                          capture_output=True, text=True, input="sk-" + "a" * 32, timeout=60,
                          env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}, check=False)
    assert not gone.exists()
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in range(9), proc.stderr
    if proc.returncode:
        assert proc.stderr.startswith("error: ") or "\nerror: " in proc.stderr, proc.stderr
