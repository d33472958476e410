"""Key sources (issue 16): keyring, env:VAR, command:CMD, kernel.

Every test here runs with no D-Bus session at all (the isolation fixture removes it): the point of the
non-keyring sources is a machine without a Secret Service. After each end-to-end run, HOME and dsconfig's
folders are scanned for the key: zero hits.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from bounded import process_gone, wait_until
from fakes.claude import claude_env, parse_result, run_claude
from fakes.server import DEFAULT_REPLY, FakeDeepSeek

from dsconfig import keysources
from dsconfig.errors import EXIT_KEYRING, EXIT_NOT_FOUND, EXIT_USAGE, InvalidFileError, UsageError
from dsconfig.keysources import KeySource
from dsconfig.profiles import ProfileStore

KEY_ENV = "sk-" + "e0e1e2e3" * 4
KEY_CMD = "sk-" + "c0c1c2c3" * 4
KEY_KERNEL = "sk-" + "b0b1b2b3" * 4
HEAVY = {"keyring", "jeepney", "secretstorage", "click", "tomlkit", "httpx", "questionary"}


def _files_containing(secret: str, *folders: Path) -> list[Path]:
    found = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink() and secret.encode() in path.read_bytes():
                found.append(path)
    return found


def _scan(secret: str, home: Path) -> list[Path]:
    return _files_containing(secret, home, Path(os.environ["DSCONFIG_HOME"]))


def _claude_sends_only(key: str, claude_bin: Path, home: Path, tmp_path: Path, fake: FakeDeepSeek) -> None:
    """The real claude, through the apiKeyHelper `use` wrote, reaches the fake with `key` alone; no file holds it."""
    work = tmp_path / "work"
    work.mkdir()
    proc = run_claude(claude_bin, "Say hello", home=home, cwd=work, timeout=90)
    result = parse_result(proc)
    assert proc.returncode == 0 and not result.is_error, proc.stdout + proc.stderr
    assert fake.message_requests and {r.key for r in fake.message_requests} == {key}
    assert _scan(key, home) == []


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


# --- parsing and the file --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("keyring", KeySource()), ("kernel", KeySource("kernel")), ("env:DEEPSEEK_KEY", KeySource("env", "DEEPSEEK_KEY")),
    ("command:pass show deepseek", KeySource("command", "pass show deepseek")),
    ("command:op read op://vault/deepseek/credential", KeySource("command", "op read op://vault/deepseek/credential")),
])
def test_parse_round_trips(text: str, expected: KeySource) -> None:
    assert keysources.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["", "vault", "env:", "env:1BAD", "env:A-B", "command:", "command:  ", "kernel:x", "keyring:x"])
def test_parse_refuses_what_is_not_a_source(text: str) -> None:
    with pytest.raises(UsageError) as err:
        keysources.parse(text)
    assert err.value.hint and "--key-source" in err.value.hint


def test_key_source_is_stored_only_when_not_the_default(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "plain", "--provider", "deepseek"))
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    text = ProfileStore().path.read_text()
    assert text.count("key_source") == 1 and 'key_source = "env:DEEPSEEK_KEY"' in text
    found = ProfileStore().load().profiles
    assert found["plain"].key_source == KeySource() and found["ci"].key_source == KeySource("env", "DEEPSEEK_KEY")
    # Back to the default: the line goes away, the file is as an older dsconfig wrote it.
    _ok(run_dsconfig("profile", "edit", "ci", "--key-source", "keyring"))
    assert "key_source" not in ProfileStore().path.read_text()


def test_a_bad_key_source_in_the_file_is_an_invalid_file(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    path = ProfileStore().path
    path.write_text(path.read_text().replace("env:DEEPSEEK_KEY", "vault:x"))
    with pytest.raises(InvalidFileError):
        ProfileStore().load()
    proc = run_dsconfig("key", "get", "ci")
    assert proc.returncode == 4 and "key_source" in proc.stderr and "Traceback" not in proc.stderr


def test_show_and_json_name_the_source_never_the_secret(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    doc = json.loads(_ok(run_dsconfig("profile", "show", "ci", "--json", env={"DEEPSEEK_KEY": KEY_ENV})).stdout)
    assert doc["key_source"] == "env:DEEPSEEK_KEY" and doc["key"] == "sk-…" + KEY_ENV[-4:]
    text = _ok(run_dsconfig("profile", "show", "ci", env={"DEEPSEEK_KEY": KEY_ENV}))
    assert "key source: env:DEEPSEEK_KEY" in text.stdout and KEY_ENV not in text.stdout + text.stderr
    unset = json.loads(_ok(run_dsconfig("profile", "show", "ci", "--json")).stdout)
    assert unset["key"] is None and "DEEPSEEK_KEY is not set" in unset["key_error"]


# --- env: --------------------------------------------------------------------------------------------------


def test_env_source_key_get_and_its_one_line_error(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    assert _ok(run_dsconfig("key", "get", "ci", env={"DEEPSEEK_KEY": KEY_ENV + "\n"})).stdout == KEY_ENV + "\n"
    proc = run_dsconfig("key", "get", "ci")
    assert proc.returncode == EXIT_KEYRING and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "DEEPSEEK_KEY is not set" in proc.stderr


def test_env_source_key_get_does_not_import_keyring(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    snippet = textwrap.dedent("""
        import sys
        from dsconfig.entry import main
        code = main(["key", "get", "ci"])
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY_SET)
        print("RC", code, "HEAVY", ",".join(heavy), file=sys.stderr)
    """).replace("HEAVY_SET", repr(HEAVY))
    proc = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                          env={**os.environ, "DEEPSEEK_KEY": KEY_ENV}, timeout=60, check=False)
    assert proc.stdout == KEY_ENV + "\n"
    assert proc.stderr.strip() == "RC 0 HEAVY", proc.stderr


def test_env_and_command_sources_have_nothing_to_store_or_remove(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    put = run_dsconfig("key", "set", "ci", "--stdin", input=KEY_ENV)
    assert put.returncode == EXIT_USAGE and "nothing for dsconfig to store" in put.stderr
    gone = run_dsconfig("key", "rm", "ci")
    assert gone.returncode == EXIT_NOT_FOUND and "no key to remove" in gone.stderr
    add = run_dsconfig("profile", "add", "x", "--provider", "deepseek", "--key-source", "env:K", "--api-key-stdin", input=KEY_ENV)
    assert add.returncode == EXIT_USAGE and "x" not in ProfileStore().load().profiles
    _ok(run_dsconfig("profile", "rename", "ci", "ci2"))
    assert _ok(run_dsconfig("key", "get", "ci2", env={"DEEPSEEK_KEY": KEY_ENV})).stdout == KEY_ENV + "\n"
    rm = _ok(run_dsconfig("profile", "rm", "ci2"))
    assert "and its key" not in rm.stderr


@pytest.mark.claude
def test_env_profile_exec_claude_against_the_fake(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, claude_bin: Path,
                                                  home: Path) -> None:
    fake_deepseek.keys = {KEY_ENV}
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                     "--key-source", "env:DEEPSEEK_KEY"))
    assert "DBUS_SESSION_BUS_ADDRESS" not in os.environ
    proc = run_dsconfig("exec", "ci", "--", str(claude_bin), "-p", "Say hello", "--output-format", "json",
                        env=claude_env(home, {"DEEPSEEK_KEY": KEY_ENV}), timeout=90)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert parse_result(proc).result == DEFAULT_REPLY
    assert fake_deepseek.message_requests and {r.key for r in fake_deepseek.message_requests} == {KEY_ENV}
    assert _scan(KEY_ENV, home) == []


# --- command: ----------------------------------------------------------------------------------------------


def _key_script(tmp_path: Path, key: str) -> Path:
    """A stand-in for `pass show deepseek`: prints the key kept in a file outside HOME and dsconfig's folders."""
    vault = tmp_path / "vault"
    vault.mkdir(exist_ok=True)
    (vault / "deepseek").write_text(key + "\n")
    script = vault / "show-key"
    script.write_text(f"#!/bin/sh\ncat {vault / 'deepseek'}\n")
    script.chmod(0o700)
    return script


@pytest.mark.claude
def test_command_profile_used_by_real_claude_through_the_helper(run_dsconfig: Any, fake_deepseek: FakeDeepSeek,
                                                                claude_bin: Path, home: Path, tmp_path: Path) -> None:
    fake_deepseek.keys = {KEY_CMD}
    script = _key_script(tmp_path, KEY_CMD)
    add = _ok(run_dsconfig("profile", "add", "vault", "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                           "--key-source", f"command:{script}"))
    assert "warning" not in add.stderr
    assert _ok(run_dsconfig("key", "get", "vault")).stdout == KEY_CMD + "\n"
    _ok(run_dsconfig("use", "vault"))
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["apiKeyHelper"].endswith("key get vault")
    _claude_sends_only(KEY_CMD, claude_bin, home, tmp_path, fake_deepseek)
    _ok(run_dsconfig("off"))


def test_command_failure_shows_stderr_and_timeout_kills_it(run_dsconfig: Any, tmp_path: Path) -> None:
    _ok(run_dsconfig("profile", "add", "bad", "--provider", "deepseek", "--key-source", "command:echo 'vault is sealed' >&2; exit 2"))
    proc = run_dsconfig("key", "get", "bad")
    assert proc.returncode == EXIT_KEYRING and "vault is sealed" in proc.stderr and "exit 2" in proc.stderr
    # A background child that would outlive a kill of the shell alone: it writes its pid first, then sleeps.
    pid_file = tmp_path / "child.pid"
    _ok(run_dsconfig("profile", "add", "slow", "--provider", "deepseek", "--key-source",
                     f"command:sh -c 'echo $$ > {pid_file}; exec sleep 30' & sleep 30"))
    # Bounded: a key get that waited for the command's 30 s would raise TimeoutExpired here.
    proc = run_dsconfig("key", "get", "slow", env={"DSCONFIG_KEY_COMMAND_TIMEOUT": "2"}, timeout=20)
    assert proc.returncode == EXIT_KEYRING and "did not answer within 2 s" in proc.stderr
    wait_until(pid_file.exists, 10, "the key command's background child writing its pid")
    child = int(pid_file.read_text())
    # The whole process group went, not just the shell: the child is gone (or a zombie awaiting its reaper).
    wait_until(lambda: process_gone(child), 10, f"the key command's background child (pid {child}) being killed")


def test_command_that_holds_a_key_is_warned_about_and_masked(run_dsconfig: Any) -> None:
    proc = _ok(run_dsconfig("profile", "add", "lazy", "--provider", "deepseek", "--key-source", f"command:echo {KEY_CMD}"))
    assert "seems to contain a key" in proc.stderr and KEY_CMD not in proc.stderr
    assert KEY_CMD not in run_dsconfig("profile", "show", "lazy").stdout


# --- kernel ------------------------------------------------------------------------------------------------


def _kernel_usable() -> None:
    if shutil.which("keyctl") is None:
        if os.environ.get("CI") or os.geteuid() == 0:
            pytest.fail("keyctl is required (apt-get install keyutils)")
        pytest.skip("keyctl not installed (apt-get install keyutils)")
    proc = subprocess.run(["keyctl", "show", "@u"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"the kernel refuses keyctl here (a container's seccomp profile?): {proc.stderr.strip()}")


@pytest.fixture
def kernel_key_cleanup() -> Any:
    names: list[str] = []
    yield names
    for name in names:
        found = subprocess.run(["keyctl", "search", "@u", "user", f"dsconfig:{name}"], capture_output=True, text=True, check=False)
        if found.returncode == 0:
            subprocess.run(["keyctl", "unlink", found.stdout.strip(), "@u"], capture_output=True, check=False)


def test_kernel_store_set_get_rename_remove(run_dsconfig: Any, kernel_key_cleanup: list[str], home: Path) -> None:
    _kernel_usable()
    name, other = f"kt{os.getpid()}", f"kt{os.getpid()}b"
    kernel_key_cleanup += [name, other]
    _ok(run_dsconfig("profile", "add", name, "--provider", "deepseek", "--key-source", "kernel", "--api-key-stdin", input=KEY_KERNEL))
    assert _ok(run_dsconfig("key", "get", name)).stdout == KEY_KERNEL + "\n"
    # Readable from a session keyring that does not link the user keyring (an SSH login, a fresh session).
    fresh = subprocess.run(["keyctl", "session", "-", *_dsconfig(), "key", "get", name], capture_output=True, text=True, check=False)
    assert fresh.stdout == KEY_KERNEL + "\n", fresh.stderr
    _ok(run_dsconfig("profile", "rename", name, other))
    assert _ok(run_dsconfig("key", "get", other)).stdout == KEY_KERNEL + "\n"
    assert run_dsconfig("key", "get", name).returncode != 0
    _ok(run_dsconfig("key", "rm", other))
    assert run_dsconfig("key", "get", other).returncode == EXIT_NOT_FOUND
    _ok(run_dsconfig("key", "set", other, "--stdin", input=KEY_KERNEL))
    assert "and its key" in _ok(run_dsconfig("profile", "rm", other)).stderr
    assert subprocess.run(["keyctl", "search", "@u", "user", f"dsconfig:{other}"], capture_output=True, check=False).returncode != 0
    assert _scan(KEY_KERNEL, home) == []


@pytest.mark.claude
def test_kernel_profile_used_by_real_claude(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, claude_bin: Path, home: Path,
                                            tmp_path: Path, kernel_key_cleanup: list[str]) -> None:
    _kernel_usable()
    name = f"kc{os.getpid()}"
    kernel_key_cleanup.append(name)
    fake_deepseek.keys = {KEY_KERNEL}
    _ok(run_dsconfig("profile", "add", name, "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                     "--key-source", "kernel", "--api-key-stdin", input=KEY_KERNEL))
    assert _ok(run_dsconfig("key", "get", name)).stdout == KEY_KERNEL + "\n"
    _ok(run_dsconfig("use", name))
    _claude_sends_only(KEY_KERNEL, claude_bin, home, tmp_path, fake_deepseek)
    _ok(run_dsconfig("off"))


def _dsconfig() -> list[str]:
    from helpers import dsconfig_command

    return dsconfig_command()


# --- source changes ---------------------------------------------------------------------------------------


def test_switching_from_kernel_to_env_removes_the_stored_copy_only_when_env_gives_it(
        run_dsconfig: Any, kernel_key_cleanup: list[str]) -> None:
    _kernel_usable()
    name = f"ks{os.getpid()}"
    kernel_key_cleanup.append(name)
    stored = ["keyctl", "search", "@u", "user", f"dsconfig:{name}"]
    _ok(run_dsconfig("profile", "add", name, "--provider", "deepseek", "--key-source", "kernel", "--api-key-stdin", input=KEY_KERNEL))
    # Outside tester: the variable unset, the move deleted the only copy of the key. Now it is kept, and said so.
    proc = _ok(run_dsconfig("profile", "edit", name, "--key-source", "env:DEEPSEEK_KEY"))
    assert "kept the key" in proc.stderr and "removed the key" not in proc.stderr, proc.stderr
    assert subprocess.run(stored, capture_output=True, check=False).returncode == 0
    _ok(run_dsconfig("profile", "edit", name, "--key-source", "kernel"))
    proc = _ok(run_dsconfig("profile", "edit", name, "--key-source", "env:DEEPSEEK_KEY", env={"DEEPSEEK_KEY": KEY_KERNEL}))
    assert "removed the key" in proc.stderr
    assert subprocess.run(stored, capture_output=True, check=False).returncode != 0


def test_no_keyring_error_lists_every_other_source_with_its_command(run_dsconfig: Any) -> None:
    proc = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin", input=KEY_ENV,
                        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert proc.returncode == EXIT_KEYRING
    hint = proc.stderr.splitlines()[1]
    for command in ("--key-source env:DEEPSEEK_API_KEY", "--key-source 'command:pass show deepseek'",
                    "--key-source kernel --api-key-stdin"):
        assert command in hint


def test_doctor_checks_each_source_and_says_how_to_fix_it(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    _ok(run_dsconfig("profile", "add", "bad", "--provider", "deepseek", "--key-source", "command:echo sealed >&2; exit 2"))
    doc = json.loads(run_dsconfig("doctor", "--no-verify", "--json").stdout)
    found = {f["message"].split(":")[0]: f for f in doc["findings"] if f["check"] == "key source"} if "findings" in doc else {}
    if not found:  # the report's layout belongs to doctor; look through every list it holds
        found = {f["message"].split(":")[0]: f for v in doc.values() if isinstance(v, list) for f in v
                 if isinstance(f, dict) and f.get("check") == "key source"}
    assert found["profile 'ci'"]["severity"] == "warning" and "DEEPSEEK_KEY" in found["profile 'ci'"]["fix"]
    assert found["profile 'bad'"]["severity"] == "error" and "sealed" in found["profile 'bad'"]["message"]
    keyring = [f for v in doc.values() if isinstance(v, list) for f in v if isinstance(f, dict) and f.get("check") == "keyring"]
    assert keyring and keyring[0]["severity"] == "ok"  # no OS keyring here, and no profile needs one
    ok = json.loads(run_dsconfig("doctor", "--no-verify", "--json", env={"DEEPSEEK_KEY": KEY_ENV}).stdout)
    assert any(f.get("check") == "key source" and f["severity"] == "ok" and "'ci'" in f["message"]
               for v in ok.values() if isinstance(v, list) for f in v if isinstance(f, dict))
