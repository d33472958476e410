"""Keys at the edges, as an outside tester found them (issue 16 round): echoes, odd sources, odd stores.

Each test reproduces one finding with the tester's own command line, and fails on the code before its fix.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsconfig import output
from dsconfig.credentials import KeyringStore, normalize_key
from dsconfig.errors import EXIT_KEYRING, EXIT_USAGE, UsageError
from dsconfig.keysources import KernelStore, KeySourceError, parse

KEY = "sk-test-00112233445566778899aabbccdd"  # cannot be a real key (not sk- + 32 hex)


@pytest.fixture
def registered() -> Iterator[str]:
    output.forget_secrets()
    output.register_secret(KEY)
    yield KEY
    output.forget_secrets()


# --- 2: a provider's echo of the key, cut short or encoded, is masked -------------------------------------------


@pytest.mark.parametrize("echo", [
    KEY[:-4],                                  # all but the four characters the mask shows
    KEY[4:],                                   # all but its head
    KEY.upper(),
    urllib.parse.quote(KEY, safe=""),
    base64.b64encode(KEY.encode()).decode(),
    base64.b64encode(KEY[:-4].encode()).decode(),
    base64.b64encode(b"Bearer " + KEY.encode()).decode(),   # the key at another base64 alignment
    base64.urlsafe_b64encode(b"xx" + KEY.encode()).decode(),
    KEY.encode().hex(), KEY.encode().hex().upper(),
    "".join(f"%{b:02X}" for b in KEY.encode()),              # every byte percent-encoded
    KEY[::-1], " ".join(KEY),
    KEY[:10] + "\x1b[0m" + KEY[10:],           # split by a terminal escape
])
def test_an_echo_of_the_key_never_adds_up_to_the_key(registered: str, echo: str) -> None:
    shown = output.scrub(f"HTTP 401: bad key {echo} (request id 42)")
    assert shown.startswith("HTTP 401: bad key ") and shown.endswith(" (request id 42)")
    for piece in (KEY[i:i + 12] for i in range(len(KEY) - 11)):
        assert piece.lower() not in shown.lower(), (echo, shown)
    # The echo itself (in whatever encoding) is gone but for what encodes the bytes around the key.
    for window in (echo[i:i + 16] for i in range(len(echo) - 15)):
        assert window not in shown, (echo, shown)
    assert "sk-…ccdd" in shown


def test_text_without_the_key_is_left_alone(registered: str) -> None:
    for text in ("sk-0123 is not it", "\x1b[31mred\x1b[0m", "0123456789a", "https://api.deepseek.com/anthropic"):
        assert output.scrub(text) == text


# --- 3: a key source dsconfig itself overwrites ------------------------------------------------------------------


@pytest.mark.parametrize("var", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"])
def test_env_source_in_a_variable_dsconfig_blanks_is_refused(var: str, run_dsconfig: Any) -> None:
    with pytest.raises(UsageError, match="dsconfig sets ANTHROPIC_"):
        parse(f"env:{var}")
    proc = run_dsconfig("profile", "add", "sdk", "--provider", "deepseek", "--key-source", f"env:{var}")
    assert proc.returncode == EXIT_USAGE and "export DEEPSEEK_API_KEY=" in proc.stderr, proc.stderr


# --- 6: an unloadable PYTHON_KEYRING_BACKEND -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["keyrings.alt.file.PlaintextKeyring", "bogus.Module"])
def test_an_unloadable_keyring_backend_is_exit_5_not_a_traceback(backend: str, run_dsconfig: Any) -> None:
    assert run_dsconfig("profile", "add", "a", "--provider", "deepseek", "--key-source", "env:K").returncode == 0
    assert run_dsconfig("profile", "edit", "a", "--key-source", "keyring").returncode == 0
    for args in (("key", "get", "a"), ("doctor", "--no-verify")):
        proc = run_dsconfig(*args, env={"PYTHON_KEYRING_BACKEND": backend})
        assert "Traceback" not in proc.stderr, proc.stderr
        if args[0] == "key":
            assert proc.returncode == EXIT_KEYRING and f"PYTHON_KEYRING_BACKEND={backend} cannot be loaded" in proc.stderr


# --- 8: a key command whose grandchild keeps stdout open -----------------------------------------------------------


@pytest.mark.skipif(shutil.which("setsid") is None, reason="needs setsid (util-linux)")
def test_the_key_command_timeout_is_a_bound_when_a_grandchild_holds_the_pipe(run_dsconfig: Any, tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    command = f"command:echo sk-x; setsid sh -c 'echo $$ > {pid_file}; exec sleep 60' &"
    assert run_dsconfig("profile", "add", "g", "--provider", "deepseek", "--key-source", command).returncode == 0
    # Bounded by the run's own timeout: before the fix this waited for the grandchild's 60 s.
    proc = run_dsconfig("key", "get", "g", env={"DSCONFIG_KEY_COMMAND_TIMEOUT": "2"}, timeout=30)
    assert proc.returncode == EXIT_KEYRING and "did not answer within 2 s" in proc.stderr, proc.stderr
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), 9)


# --- 12: a key written into the command is masked in every message ------------------------------------------------


def test_a_key_inside_the_command_is_masked_in_the_failure_hint(run_dsconfig: Any) -> None:
    secret = "sk-cmdkey00112233445566778899aabbccdd"
    command = f"command:echo {secret}; exit 1"
    assert run_dsconfig("profile", "add", "h", "--provider", "deepseek", "--key-source", command).returncode == 0
    for args in (("key", "get", "h"), ("env", "h", "--shell", "bash"), ("exec", "h", "--", "true")):
        proc = run_dsconfig(*args)
        assert proc.returncode == EXIT_KEYRING, proc.stderr
        assert secret not in proc.stdout + proc.stderr and "run it yourself" in proc.stderr, proc.stderr


# --- 13 and 25: stored and typed keys follow one rule --------------------------------------------------------------


class _Backend:
    def __init__(self, value: str) -> None:
        self.value = value

    def get_password(self, service: str, name: str) -> str:
        return self.value


def test_a_stored_key_with_a_final_newline_is_trimmed_and_a_broken_one_refused() -> None:
    assert KeyringStore(_Backend(KEY + "\n")).get("a") == KEY
    with pytest.raises(KeySourceError, match="contains spaces") as err:
        KeyringStore(_Backend("sk-one two")).get("a")
    assert "dsconfig key set a" in (err.value.hint or "")


def test_a_key_that_is_not_ascii_is_refused_where_it_enters(run_dsconfig: Any) -> None:
    with pytest.raises(UsageError, match="not ASCII"):
        normalize_key("sk-ключ")
    assert run_dsconfig("profile", "add", "u", "--provider", "deepseek", "--key-source", "env:DSK").returncode == 0
    proc = run_dsconfig("key", "get", "u", env={"DSK": "sk-ключ"})
    assert proc.returncode == EXIT_KEYRING and "not ASCII" in proc.stderr and "Traceback" not in proc.stderr


# --- 18: DSCONFIG_HOME --------------------------------------------------------------------------------------------


def test_a_relative_dsconfig_home_is_refused(run_dsconfig: Any) -> None:
    proc = run_dsconfig("profile", "list", env={"DSCONFIG_HOME": "dsh"})
    assert proc.returncode == EXIT_USAGE and "DSCONFIG_HOME=dsh is not an absolute path" in proc.stderr
    proc = run_dsconfig("key", "get", "a", env={"DSCONFIG_HOME": "dsh"})
    assert proc.returncode == EXIT_USAGE and "absolute" in proc.stderr


def test_the_helper_finds_the_profiles_without_dsconfig_home(run_dsconfig: Any, home: Path) -> None:
    # The tester: with DSCONFIG_HOME set, `use` wrote a helper that looked in the default folder when Claude Code,
    # started without the variable, ran it; an env: profile's key was then never found.
    assert run_dsconfig("profile", "add", "e", "--provider", "deepseek", "--key-source", "env:DSK").returncode == 0
    assert run_dsconfig("use", "e").returncode == 0
    import json

    helper = json.loads((home / ".claude" / "settings.json").read_text())["apiKeyHelper"]
    env = {k: v for k, v in os.environ.items() if k != "DSCONFIG_HOME"} | {"DSK": KEY}
    got = subprocess.run(["/bin/sh", "-c", helper], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert (got.returncode, got.stdout) == (0, KEY + "\n"), got.stderr


# --- 20: a key the kernel keyring cannot hold -----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("keyctl") is None or not sys.platform.startswith("linux"), reason="needs keyctl")
def test_an_oversized_kernel_key_names_the_size_limit() -> None:
    store = KernelStore()
    try:
        store.set("edge-oversized", "k" * 100_000)
    except KeySourceError as err:
        if "refused dsconfig" in err.message and "Operation not permitted" in err.message:
            pytest.skip("keyctl refused here (seccomp)")
        assert "100000 characters" in err.message and "32767" in (err.hint or ""), err
    else:  # pragma: no cover - a kernel that takes it
        store.delete("edge-oversized")
        pytest.skip("this kernel keyring accepted a 100000-character key")


def test_scrub_runs_in_bounded_time_on_a_large_body(registered: str) -> None:
    body = ("x" * 1000 + KEY[:11] + "\n") * 1000  # a megabyte of near-misses
    done = threading.Event()
    result: list[str] = []

    def run() -> None:
        result.append(output.scrub(body))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "scrub did not finish on a 1 MB body"
    assert result[0] == body


# --- 9, 11, 14: what status, key set and --timeout say -------------------------------------------------------------


def test_status_names_the_helper_profile_s_own_key_source(run_dsconfig: Any) -> None:
    assert run_dsconfig("profile", "add", "e", "--provider", "deepseek", "--key-source", "env:DSK").returncode == 0
    assert run_dsconfig("use", "e").returncode == 0
    shown = run_dsconfig("status").stdout
    assert "apiKeyHelper profile e (env:DSK)" in shown and "(keyring)" not in shown, shown


@pytest.mark.skipif(shutil.which("keyctl") is None or not sys.platform.startswith("linux"), reason="needs keyctl")
def test_key_set_says_which_store_holds_the_key(run_dsconfig: Any) -> None:
    assert run_dsconfig("profile", "add", "k", "--provider", "deepseek", "--key-source", "kernel").returncode == 0
    proc = run_dsconfig("key", "set", "k", "--stdin", input=KEY)
    try:
        if "refused dsconfig" in proc.stderr:
            pytest.skip("keyctl refused here: " + proc.stderr)
        assert proc.returncode == 0 and "in the kernel keyring" in proc.stderr and "OS keyring" not in proc.stderr
    finally:
        run_dsconfig("key", "rm", "k")


@pytest.mark.parametrize("command", [("verify", "x"), ("doctor",)])
def test_a_timeout_of_nan_is_a_usage_error(command: tuple[str, ...], run_dsconfig: Any) -> None:
    proc = run_dsconfig(*command, "--timeout", "nan")
    assert proc.returncode == EXIT_USAGE and "'nan' is not a number of seconds" in proc.stderr, proc.stderr


# --- 7: a credential inside ANTHROPIC_CUSTOM_HEADERS ---------------------------------------------------------------


def test_a_key_inside_custom_headers_is_masked_in_every_report(run_dsconfig: Any, home: Path) -> None:
    import json

    headers = f"Authorization: Bearer {KEY}\nX-Team: blue"
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(json.dumps({"env": {"ANTHROPIC_CUSTOM_HEADERS": headers}}))
    for args in (("status",), ("status", "--json"), ("detect", "--json"), ("doctor", "--no-verify")):
        proc = run_dsconfig(*args, env={"ANTHROPIC_CUSTOM_HEADERS": headers})
        assert "Traceback" not in proc.stderr
        shown = proc.stdout + proc.stderr
        assert not any(KEY[i:i + 12] in shown for i in range(len(KEY) - 11)), (args, shown)
        assert "ANTHROPIC_CUSTOM_HEADERS" in shown, args


# --- second tester, 10: standard input is read with a bound -----------------------------------------------------


@pytest.mark.parametrize("args", [("profile", "add", "z", "--provider", "deepseek", "--api-key-stdin"),
                                  ("profile", "add", "z", "--provider", "deepseek", "--key-source", "env:K",
                                   "--api-key-stdin")])
def test_a_key_piped_from_dev_zero_is_refused_not_read_forever(args: tuple[str, ...]) -> None:
    from helpers import dsconfig_command

    with open("/dev/zero", "rb") as zero:
        # Bounded: before the fix this read until memory ran out (the run's timeout names the hang).
        proc = subprocess.run([*dsconfig_command(), *args], stdin=zero, capture_output=True, text=True, timeout=60,
                              check=False)
    assert proc.returncode == EXIT_USAGE and "more than 64 KiB" in proc.stderr, proc.stderr
