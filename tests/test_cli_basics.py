"""The command's outer shell: --version, --help, usage errors, `python -m dsconfig`, and the error format
(`error: ...` then `hint: ...` on stderr, nothing on stdout, never a traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import RunDsconfig

import dsconfig
from dsconfig import cli, entry
from dsconfig.errors import EXIT_INVALID_FILE, EXIT_KEYRING, EXIT_NOT_FOUND, EXIT_USAGE

NULL_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
FAIL_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def test_version(run_dsconfig: RunDsconfig) -> None:
    proc = run_dsconfig("--version", input="")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"dsconfig, version {dsconfig.__version__}"
    assert proc.stderr == ""


def test_help_lists_the_commands(run_dsconfig: RunDsconfig) -> None:
    proc = run_dsconfig("--help", input="")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: dsconfig")
    commands = proc.stdout.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.startswith("  ") and line.split()}
    assert {"providers", "profile", "key"} <= listed
    assert set(cli.cli.commands) == listed, "every registered command is listed, nothing else"


@pytest.mark.parametrize("group, subcommands", [
    ("profile", {"add", "list", "show", "edit", "rm", "rename"}),
    ("key", {"set", "get", "rm"}),
])
def test_group_help_lists_subcommands(capsys: pytest.CaptureFixture[str], group: str, subcommands: set[str]) -> None:
    assert entry.main([group, "--help"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.split("Commands:", 1)[1].splitlines() if line.split()}
    assert subcommands <= listed


@pytest.mark.parametrize("args", [("profile", "add", "--help"), ("key", "get", "--help"), ("providers", "-h")])
def test_command_help_exits_0(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    assert entry.main(list(args)) == 0
    assert capsys.readouterr().out.startswith("Usage: dsconfig ")


def test_unknown_command_exits_2(run_dsconfig: RunDsconfig) -> None:
    proc = run_dsconfig("frobnicate", input="")
    assert proc.returncode == EXIT_USAGE
    assert proc.stdout == ""
    assert "frobnicate" in proc.stderr and "--help" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [
    ("profile", "add", "ds"),                     # --provider missing
    ("profile", "list", "--nope"),                # unknown option
    ("key", "get"),                               # NAME missing
    ("profile", "add", "ds", "--provider"),       # option without its value
])
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: tuple[str, ...]) -> None:
    assert entry.main(list(args)) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip()


def test_python_m_dsconfig_works_from_an_unrelated_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run([sys.executable, "-m", "dsconfig", "providers"], cwd=elsewhere, capture_output=True,
                          text=True, env=dict(os.environ), timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split()[0] == "deepseek"
    assert "https://api.deepseek.com/anthropic" in proc.stdout


# (arguments, environment, stdin, exit code, start of the message)
ERRORS = {
    "missing-profile": (("profile", "show", "nope"), {}, "", EXIT_NOT_FOUND, "no profile named 'nope'"),
    "unknown-provider": (("profile", "add", "ds", "--provider", "nosuch"), {}, "", EXIT_NOT_FOUND, "no provider template 'nosuch'"),
    "bad-name": (("profile", "add", "../x", "--provider", "deepseek"), {}, "", EXIT_USAGE, "invalid profile name"),
    "bad-tier": (("profile", "add", "ds", "--provider", "deepseek", "--model", "turbo=m"), {}, "", EXIT_USAGE, "--model 'turbo=m'"),
    # keyring's null backend keeps nothing, so dsconfig refuses it (a missing key is tested in test_keys.py).
    "null-keyring": (("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin"), NULL_KEYRING,
                     "sk-" + "0a1b" * 8, EXIT_KEYRING, "the keyring backend in use (keyring.backends.null)"),
    "no-keyring": (("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin"), FAIL_KEYRING, "sk-" + "0a1b" * 8,
                   EXIT_KEYRING, "no OS keyring is available"),
    "key-set-no-tty": (("key", "set", "ds"), {}, "", 1, "no key given and no terminal"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_error_format(run_dsconfig: RunDsconfig, case: str) -> None:
    args, env, stdin, code, start = ERRORS[case]
    proc = run_dsconfig(*args, input=stdin, env=env)
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"error: {start}"), proc.stderr
    assert any(line.startswith("hint: ") and len(line) > len("hint: ") for line in lines[1:]), proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_profiles_file_error_format(run_dsconfig: RunDsconfig) -> None:
    home = Path(os.environ["DSCONFIG_HOME"])
    home.mkdir()
    path = home / "profiles.toml"
    path.write_text('schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\nbase_url = \n')
    proc = run_dsconfig("profile", "list", input="")
    assert proc.returncode == EXIT_INVALID_FILE
    assert proc.stdout == ""
    first, second = proc.stderr.splitlines()[:2]
    assert first.startswith(f"error: {path}:4:") and "not valid TOML" in first
    assert second.startswith("hint: ") and str(path) in second
    assert "Traceback" not in proc.stderr


def test_fast_top_level_help_is_exactly_what_click_renders(capsys: pytest.CaptureFixture[str]) -> None:
    from dsconfig import help_text

    assert help_text.TOP_LEVEL_HELP == help_text.render(), "regenerate: python -m dsconfig.help_text"
    assert cli.main(["--help"]) == 0  # click's own path (entry.py is bypassed here)
    assert capsys.readouterr().out == help_text.TOP_LEVEL_HELP


def test_top_level_help_needs_no_click(tmp_path: Path) -> None:
    probe = ("import sys; from dsconfig.entry import main; code = main(['--help']); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in {'click', 'tomlkit', 'keyring', 'httpx'}), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert proc.stdout.startswith("Usage: dsconfig [OPTIONS] COMMAND [ARGS]...")
    assert proc.stderr.strip() == "[]"
