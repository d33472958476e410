"""Issue #12, items 8-13: hostile providers, impossible URLs, plain http, keys and escapes in output, the shell.

Each test runs the installed command against a loopback server of its own (below) or a hand-made file, and
fails on the code before the fix:

- 8  an endless body (model list, balance, messages) or an endless event-stream line: verify stops reading at
     the cap (1 MiB body, 64 KiB line), says "not_anthropic", and its memory stays bounded (max RSS measured);
- 9  `--base-url http://h:99999/x` is refused at input (exit 2); the same URL written by hand into
     profiles.toml gives exit 4 naming the file, never a traceback;
- 10 plain http to another machine is warned about where a profile is created and checked; loopback is quiet;
- 12 ESC/OSC sequences in a project's settings are shown as `\\x1b` by status and detect;
- 13 `dsconfig env` evaluated by bash, with a login shell of fish in $SHELL, prints bash syntax.

Item 11 (keys in output) is in test_secret_hygiene.py.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .reliability_support import DSCONFIG, TRACEBACK, World, make_world

ENDLESS_LIMIT = 192 * 1024 * 1024
"""An "endless" body stops here, so that the code before the fix (which read it all) cannot take the machine."""
RSS_LIMIT_KB = 200 * 1024
"""verify's whole process, Python and httpx included, measured at about 60-70 MB; an unbounded read of the
endless body goes far beyond."""


class Hostile(ThreadingHTTPServer):
    daemon_threads = True
    mode = "endless_json"
    key = ""


class _Handler(BaseHTTPRequestHandler):
    server: Hostile
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self._answer()

    def _answer(self) -> None:
        mode = self.server.mode
        messages = "/v1/messages" in self.path
        if mode == "endless_json" or (mode == "endless_sse_line" and not messages):
            self._endless("application/json", b'{"data": [' + b'{"id": "m"},' * 10, b'{"id": "m"},' * 5000)
        elif mode == "endless_sse_line":
            self._endless("text/event-stream", b"event: message_start\ndata: {\"x\": \"", b"x" * 65536)
        elif mode == "echo_key":
            # A 200 that is not Anthropic's format, quoting the key first thing; and a long 401 quoting it late.
            if messages and "tool" not in self.path:
                self._send(200, "application/json", json.dumps({"message": f"key {self.server.key} accepted"}).encode())
            else:
                words = "x" * 200  # the key straddles character 240, where messages are cut
                self._send(401, "application/json", json.dumps({"error": {"message": f"{words} bad key {self.server.key}"}}).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self, content_type: str, head: bytes, chunk: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            for piece in itertools.chain([head], itertools.repeat(chunk)):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
                if sent > ENDLESS_LIMIT:
                    break
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client stopped reading and closed: that is the point
            pass
        self.close_connection = True


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: Hostile, path: str = "/anthropic") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def measured(world: World, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], int, float]:
    """Run dsconfig as the only child of a fresh Python: (process, its max RSS in KiB, seconds)."""
    probe = ("import json, resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True, "
             "stdin=subprocess.DEVNULL); print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr, "
             "'rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")
    start = time.monotonic()
    wrapper = subprocess.run([sys.executable, "-c", probe, *DSCONFIG, *args], capture_output=True, text=True,
                             env=world.env, cwd=world.proj, timeout=timeout, check=True)
    elapsed = time.monotonic() - start
    got = json.loads(wrapper.stdout)
    proc = subprocess.CompletedProcess([*DSCONFIG, *args], got["rc"], got["out"], got["err"])
    return proc, int(got["rss"]), elapsed


def keyed_world(tmp_path: Path, secret_service: Any, url: str, key: str = "sk-test-hostile-0123456789abcdef") -> World:
    world = make_world(tmp_path / "w", desktop=False)
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None  # the real Secret Service of the fixture
    proc = world.run("profile", "add", "ds", "--provider", "deepseek", "--base-url", url, "--api-key-stdin", input=key)
    assert proc.returncode == 0, proc.stderr
    return world


def classes(doc: dict[str, Any]) -> dict[str, str]:
    (profile,) = doc["profiles"]
    return {f["check"]: f["class"] for f in profile["failures"]}


# --- 8: unbounded bodies ------------------------------------------------------------------------------------


@pytest.mark.secret_service
@pytest.mark.parametrize("mode", ["endless_json", "endless_sse_line"])
def test_endless_bodies_and_lines_stop_at_the_cap_with_bounded_memory(secret_service: Any, hostile: Hostile,
                                                                         tmp_path: Path, mode: str, figures: Any) -> None:
    hostile.mode = mode
    world = keyed_world(tmp_path, secret_service, url_of(hostile))
    # Bounded well below verify's own 60 s limit: a verify that read on instead of stopping at the cap raises
    # TimeoutExpired here. The time itself is a reported figure, not an assertion.
    proc, rss_kb, elapsed = measured(world, "verify", "ds", "--json", "--timeout", "60", timeout=30)
    assert TRACEBACK not in proc.stderr, proc.stderr[-2000:]
    assert rss_kb < RSS_LIMIT_KB, f"verify grew to {rss_kb // 1024} MiB reading an endless body ({mode})"
    found = classes(json.loads(proc.stdout))
    assert proc.returncode == 1, proc.stderr
    if mode == "endless_json":
        assert found["model list"] == found["balance"] == "not_anthropic", found
    assert found["streaming"] == found["tool use"] == "not_anthropic", found
    figures.note(f"verify against an endless body ({mode}): max RSS {rss_kb // 1024} MiB, {elapsed:.1f} s")


# --- 9: impossible URLs ---------------------------------------------------------------------------------


BAD_URLS = ["http://h:99999/x", "http://h:0/x", "https://h:port/x", "http://[::1/x", "https://api.example.com/x#frag",
            "https://user:secret@api.example.com/x", "https://api.example.com/x?key=1", "http:///x", "https://h\x1b[2J/x"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_impossible_urls_are_refused_at_input_with_exit_2(tmp_path: Path, url: str) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    for args in (("profile", "add", "x", "--provider", "deepseek", "--base-url", url),
                 ("setup", "--provider", "deepseek", "--profile", "x", "--base-url", url, "--yes", "--no-verify",
                  "--api-key-stdin", "--target", "claude-code")):
        proc = world.run(*args, input="sk-test-1234567890abcdef1234")
        assert TRACEBACK not in proc.stderr, proc.stderr
        assert proc.returncode == 2, f"{args[0]} accepted {url!r}: exit {proc.returncode}\n{proc.stderr}"
        assert "hint:" in proc.stderr and "\x1b" not in proc.stderr
    assert not world.profiles.exists()


@pytest.mark.secret_service
def test_a_bad_url_written_by_hand_is_exit_4_naming_the_file(secret_service: Any, tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None
    world.dsh.mkdir(parents=True)
    world.profiles.write_text('schema_version = 1\nactive = "x"\n\n[profiles.x]\nprovider = "deepseek"\n'
                              'base_url = "http://h:99999/x"\n')
    world.run("key", "set", "x", "--stdin", input="sk-test-hand-edited-0123456789")
    proc = world.run("verify", "x", "--timeout", "5")
    assert TRACEBACK not in proc.stderr, proc.stderr
    assert proc.returncode == 4 and str(world.profiles) in proc.stderr and "65535" in proc.stderr, proc.stderr
    for args in (("verify", "--all", "--json", "--timeout", "5"), ("doctor", "--json", "--timeout", "5"), ("doctor",),
                 ("status",), ("status", "--json")):
        proc = world.run(*args)
        assert TRACEBACK not in proc.stderr, f"{args}: {proc.stderr[-2000:]}"
        assert proc.returncode in (0, 1, 4), f"{args}: exit {proc.returncode}\n{proc.stderr}"


# --- 10: plain http to another machine ---------------------------------------------------------------------


@pytest.mark.secret_service
def test_plain_http_to_another_machine_is_warned_loopback_is_quiet(secret_service: Any, tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None
    lan = "http://192.0.2.10/anthropic"  # TEST-NET-1: never routed, so the checks below fail fast
    added = world.run("profile", "add", "lan", "--provider", "deepseek", "--base-url", lan)
    assert added.returncode == 0 and "plain http" in added.stderr and "192.0.2.10" in added.stderr, added.stderr
    edited = world.run("profile", "edit", "lan", "--base-url", "http://lan-gateway.example/anthropic")
    assert edited.returncode == 0 and "plain http" in edited.stderr, edited.stderr
    for quiet in ("http://127.0.0.1:4000", "http://localhost:4000/anthropic", "http://[::1]:4000", "https://192.0.2.10/x"):
        proc = world.run("profile", "add", f"q{abs(hash(quiet)) % 10000}", "--provider", "deepseek", "--base-url", quiet)
        assert proc.returncode == 0 and "plain http" not in proc.stderr, (quiet, proc.stderr)
    world.run("profile", "edit", "lan", "--base-url", lan)
    assert world.run("use", "lan").returncode == 0
    doctor = world.run("doctor", "--json", "--no-verify")
    findings = json.loads(doctor.stdout)["findings"]
    assert any(f["severity"] == "warning" and "plain http" in f["message"] for f in findings), findings
    verify = world.run("verify", "lan", "--json", "--timeout", "1")
    assert "plain http" in verify.stderr, verify.stderr
    (profile,) = json.loads(verify.stdout)["profiles"]
    assert any("plain http" in w for w in profile["warnings"])


@pytest.mark.secret_service
def test_setup_warns_about_plain_http(secret_service: Any, tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None
    proc = world.run("setup", "--provider", "custom", "--profile", "lan", "--base-url", "http://10.1.2.3:4000",
                     "--yes", "--no-verify", "--api-key-stdin", "--target", "claude-code",
                     input="sk-test-1234567890abcdef1234")
    assert TRACEBACK not in proc.stderr, proc.stderr
    assert "plain http" in proc.stderr, proc.stderr


# --- 12: terminal escapes -------------------------------------------------------------------------------


OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;owned\x07"


def test_escape_sequences_from_a_project_file_are_shown_not_obeyed(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    project = world.proj / ".claude" / "settings.json"
    project.parent.mkdir(parents=True)
    project.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": f"https://evil.example/{OSC52}",
                                           "ANTHROPIC_MODEL": f"m{CLEAR}{TITLE}\u202egnp.exe"}}))
    for args in (("status",), ("detect",), ("doctor", "--no-verify")):
        proc = world.run(*args)
        assert TRACEBACK not in proc.stderr, proc.stderr
        out = proc.stdout + proc.stderr
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, f"{args} printed raw control characters"
        if args[0] != "doctor":
            assert "\\x1b]52;c;" in out, f"{args} does not show the sequence:\n{out}"
    for args in (("status", "--json"), ("detect", "--json")):
        proc = world.run(*args)
        assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
        assert OSC52 in proc.stdout.encode().decode("unicode_escape") or OSC52 in json.dumps(json.loads(proc.stdout))


# --- 13: guessing the shell ---------------------------------------------------------------------------------


def test_env_evaluated_by_bash_with_fish_as_login_shell_prints_bash(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    assert world.run("profile", "add", "ds", "--provider", "deepseek").returncode == 0
    program = " ".join(f"'{part}'" for part in DSCONFIG)
    script = (f'export ANTHROPIC_BASE_URL=was-set; eval "$({program} env ds --unset)"; '
              'echo "[${ANTHROPIC_BASE_URL-unset}]"')
    proc = subprocess.run(["bash", "-c", script], check=False, capture_output=True, text=True, env={**world.env, "SHELL": "/usr/bin/fish"},
                          cwd=world.proj, timeout=60)
    assert proc.stdout.strip() == "[unset]", f"bash got another shell's syntax:\n{proc.stdout}\n{proc.stderr}"


def test_env_run_by_no_shell_guesses_from_shell_with_a_note_naming_shell(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    assert world.run("profile", "add", "ds", "--provider", "deepseek").returncode == 0
    proc = world.run("env", "ds", "--unset", env={"SHELL": "/usr/bin/fish"})  # parent: this Python, not a shell
    assert proc.returncode == 0 and proc.stdout.startswith("set -e -g "), proc.stdout
    assert "--shell fish" in proc.stderr, proc.stderr
    named = world.run("env", "ds", "--unset", "--shell", "bash", env={"SHELL": "/usr/bin/fish"})
    assert named.stdout.startswith("unset -v ") and named.stderr == ""


def test_every_printed_startup_line_names_the_shell() -> None:
    from dsconfig.targets.context import TargetContext
    from dsconfig.wizard.summary import shell_line

    command = TargetContext().dsconfig_command
    for kind in ("bash", "zsh", "fish", "powershell", "cmd"):
        line = shell_line("ds", kind, command)
        assert f"--shell {kind}" in line and command[0] in line, line
    help_text = subprocess.run([*DSCONFIG, "env", "--help"], check=False, capture_output=True, text=True, timeout=60).stdout
    assert all(f"--shell {kind}" in help_text for kind in ("bash", "zsh", "fish", "powershell")), help_text
