"""First-run papercuts a newcomer hit (issue 14), each as a test: the README's exit-code table, `dsconfig env`
exporting exactly one key variable, `key get` for a profile that does not exist, `env --help` layout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dsconfig import errors
from dsconfig.targets.claude_desktop import ManagedConfigError
from dsconfig.verify import report as verify

README = Path(__file__).resolve().parent.parent / "README.md"
KEY = "sk-" + "5e6f7a8b" * 4


def _exit_table() -> dict[int, str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Exit codes", 1)[1].split("\n#", 1)[0]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| (.*) \|$", section, re.MULTILINE)}


def test_readme_exit_codes_are_the_codes_the_program_uses() -> None:
    table = _exit_table()
    constants = {v for k, v in vars(errors).items() if k.startswith("EXIT_")}
    assert set(table) == constants
    # 403: "valid key, not allowed" is class forbidden, exit 1, and the table says so.
    assert verify.exit_code_for({"forbidden"}) == errors.EXIT_ERROR and "403" in table[errors.EXIT_ERROR + 5]
    assert "403" not in table[errors.EXIT_VERIFY_AUTH].split(";")[0]
    assert verify.exit_code_for({"auth"}) == verify.exit_code_for({"credit"}) == errors.EXIT_VERIFY_AUTH
    # 8 is what a managed Claude Desktop configuration raises; nothing offers a --force for it.
    assert ManagedConfigError("m").exit_code == errors.EXIT_CONFLICT
    assert "managed" in table[errors.EXIT_CONFLICT] and "--force" not in table[errors.EXIT_CONFLICT]


def test_env_help_keeps_one_line_per_shell(run_dsconfig: Any) -> None:
    out = run_dsconfig("env", "--help").stdout
    for line in ('bash:        eval "$(dsconfig env --shell bash)"', "fish:        dsconfig env --shell fish | source",
                 "PowerShell:  dsconfig env --shell powershell | Invoke-Expression"):
        assert re.search(r"^  " + re.escape(line) + "$", out, re.MULTILINE), out


@pytest.mark.secret_service
@pytest.mark.parametrize(("provider", "exported", "unset"), [
    ("deepseek", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),  # DeepSeek's SDK page uses ANTHROPIC_API_KEY
    ("glm", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"),  # Bearer only
])
def test_env_exports_exactly_one_key_variable(secret_service: Any, run_dsconfig: Any, provider: str, exported: str,
                                              unset: str) -> None:
    proc = run_dsconfig("profile", "add", "p", "--provider", provider, "--api-key-stdin", input=KEY)
    assert proc.returncode == 0, proc.stderr
    out = run_dsconfig("env", "p", "--shell", "bash").stdout
    assert f"export {exported}='{KEY}'" in out and out.count(KEY) == 1
    assert re.search(rf"^unset -v {unset}$", out, re.MULTILINE), out


@pytest.mark.secret_service
def test_key_get_for_a_profile_that_does_not_exist(secret_service: Any, run_dsconfig: Any) -> None:
    for setup in ((), ("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin")):
        if setup:
            assert run_dsconfig(*setup, input=KEY).returncode == 0
        proc = run_dsconfig("key", "get", "nosuch")
        assert proc.returncode == errors.EXIT_NOT_FOUND and proc.stdout == ""
        assert "no profile named 'nosuch'" in proc.stderr and "key set nosuch" not in proc.stderr
        assert "dsconfig profile list" in proc.stderr and "dsconfig setup --profile nosuch" in proc.stderr
    # A profile that exists but has no key: storing one is the fix.
    assert run_dsconfig("profile", "add", "bare", "--provider", "deepseek", input="").returncode == 0
    proc = run_dsconfig("key", "get", "bare")
    assert proc.returncode == errors.EXIT_NOT_FOUND and "dsconfig key set bare" in proc.stderr


@pytest.mark.parametrize("backend", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"])
def test_key_get_for_a_missing_profile_names_it_even_without_a_keyring(run_dsconfig: Any, backend: str) -> None:
    """Found by an outside tester: with no usable keyring, `key get nosuch` gave the keyring set-up hint (exit 5)
    and never said that the profile does not exist."""
    proc = run_dsconfig("key", "get", "nosuch", env={"PYTHON_KEYRING_BACKEND": backend})
    assert proc.returncode == errors.EXIT_NOT_FOUND, proc.stderr
    assert "no profile named 'nosuch'" in proc.stderr and "Traceback" not in proc.stderr


def _readme_block(marker: str) -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    return block.strip().removeprefix("```sh").removesuffix("```").strip()


@pytest.mark.parametrize(("uid", "expected"), [("0", ""), ("1000", "sudo")])
def test_readme_test_command_works_as_root_without_sudo_and_as_a_user(tmp_path: Path, uid: str, expected: str) -> None:
    """The command itself (not only .ci/run) picks sudo: a root shell in a container has none."""
    command = _readme_block("test-command")
    assert not command.startswith("sudo") and " sudo apt-get" not in command
    prefix = command.split(";", 1)[0]
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (fake / "id").chmod(0o755)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", f'{prefix}; printf %s "$S"'], capture_output=True, text=True,
                          env={"PATH": f"{fake}:/usr/bin:/bin"}, check=False, timeout=30)
    assert proc.returncode == 0 and proc.stdout == expected, proc.stderr
    assert command.count("$S apt-get") == 3


def test_readme_install_says_how_to_get_the_code_and_puts_dsconfig_on_path() -> None:
    command = _readme_block("install-command")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "`git clone` this repository" in readme  # how to get the code, beside the command
    # pipx installed when missing (through sudo unless root), dsconfig installed with it and found on PATH at once
    assert command.startswith('S=$([ "$(id -u)" = 0 ] || echo sudo);') and "$S apt-get install" in command
    assert "pipx install --force ." in command and 'PATH="$HOME/.local/bin:$PATH" dsconfig setup' in command
