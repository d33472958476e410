"""`dsconfig verify`: every failure class produced for real, its hint and its exit code; the JSON contract;
`--all`; proxies; speed.

Failures come from the fake DeepSeek (wrong key, fail_with, stall, latency, openai_format, unknown models), a
closed port, a plain-HTTP server addressed with https://, a self-signed TLS server, a `.invalid` host name, a
proxy that refuses or answers 502, and, for what the fake cannot do (broken event streams, a reply without a
tool call, a dropped connection, a gateway echoing the key), a tiny canned server defined here.

CLI tests run the installed `dsconfig` with the key in the real Secret Service; the rest call verify.run()
with an in-memory keyring.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from bounded import returns_within
from fakes import server as fake_server
from fakes.server import DEFAULT_KEY, FLASH_MODEL, PRO_MODEL, FakeDeepSeek
from helpers import MemoryKeyring, dsconfig_command

from dsconfig import actions, verify
from dsconfig.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VERIFY_AUTH,
    EXIT_VERIFY_NETWORK,
    KeyringUnavailableError,
    NotFoundError,
)
from dsconfig.profiles import Profile
from dsconfig.verify.diagnosis import base_url_advice
from dsconfig.verify.report import (
    AUTH_CLASSES,
    CLASSES,
    NETWORK_CLASSES,
    OTHER_CLASSES,
    MessageCheck,
    ProfileReport,
    VerifyReport,
    exit_code_for,
)
from dsconfig.verify.target import DEFAULT_MODEL

REPO = Path(__file__).resolve().parent.parent
MASKED = "sk-…0001"  # credentials.mask(DEFAULT_KEY)
OTHER_KEY = "sk-test-other-key-7777"


# --- helpers --------------------------------------------------------------------------------------------


def make_ctx(memory_keyring: MemoryKeyring) -> actions.Context:
    return actions.Context(secrets=memory_keyring)


# Two distinct models, as DeepSeek's guide had them before deepseek-flash served every tier (the fake offers
# both): the per-model checks, the table and the concurrency tests need more than one.
TWO_MODELS = {"main": f"{PRO_MODEL}[1m]", "opus": f"{PRO_MODEL}[1m]", "sonnet": f"{PRO_MODEL}[1m]",
              "fable": f"{PRO_MODEL}[1m]", "haiku": FLASH_MODEL, "subagent": FLASH_MODEL}


def add(ctx: actions.Context, base_url: str, *, name: str = "ds", provider: str = "deepseek",
        models: dict[str, str] | None = None, key: str | None = DEFAULT_KEY) -> None:
    chosen = {**TWO_MODELS, **(models or {})} if provider == "deepseek" else models
    actions.profile_add(name, provider, base_url=base_url, models=chosen, key=key, ctx=ctx)


def check(ctx: actions.Context, name: str | None = "ds", *, timeout: float = 5, **kw: Any) -> VerifyReport:
    return verify.run(name, ctx=ctx, timeout=timeout, **kw)


def only(report: VerifyReport) -> ProfileReport:
    assert len(report.profiles) == 1
    return report.profiles[0]


def kinds(profile: ProfileReport) -> set[str]:
    return {f.kind for _, f in profile.failures()}


def message_checks(profile: ProfileReport) -> list[MessageCheck]:
    return [c for c in profile.checks() if isinstance(c, MessageCheck)]


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def assert_no_key(text: str, key: str = DEFAULT_KEY) -> None:
    assert key not in text, "the bare key was printed"


# --- a tiny canned server for what the fake cannot produce ----------------------------------------------


Reply = tuple[int, str, bytes]


class Canned:
    """Loopback HTTP server answering every request with `reply(handler)`; None closes the connection unanswered."""

    def __init__(self, reply: Callable[[BaseHTTPRequestHandler], Reply | None]) -> None:
        outer = self
        self.requests: list[tuple[str, str, dict[str, str]]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                outer.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                answer = reply(self)
                if answer is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, ctype, body = answer
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_CONNECT = handle_one

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 64

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], Reply | None]], Canned]]:
    made: list[Canned] = []

    def start(reply: Callable[[BaseHTTPRequestHandler], Reply | None]) -> Canned:
        made.append(Canned(reply))
        return made[-1]

    yield start
    for server in made:
        server.close()


def sse(*events: tuple[str, dict[str, Any]]) -> bytes:
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


START = ("message_start", {"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "m1",
                                                                "content": [], "usage": {"input_tokens": 3, "output_tokens": 0}}})
TEXT_BLOCK: list[tuple[str, dict[str, Any]]] = [
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "OK"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
]
END: list[tuple[str, dict[str, Any]]] = [
    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}),
    ("message_stop", {"type": "message_stop"}),
]
SSE = "text/event-stream"


# --- CLI, real keyring ------------------------------------------------------------------------------------


@pytest.fixture
def cli_profile(secret_service: Any, run_dsconfig: Any) -> Iterator[Callable[..., None]]:
    """`dsconfig profile add` with the key in the real Secret Service (shared by the whole run: cleaned after)."""
    made: list[str] = []

    def make(name: str, base_url: str, *extra: str, key: str | None = DEFAULT_KEY) -> None:
        # Two distinct models, as DeepSeek's guide had them before deepseek-flash served every tier: the table,
        # the concurrency and the per-model checks need more than one (the fake offers both).
        models = [] if "--model" in extra else [a for tier in ("main", "opus", "sonnet", "fable")
                                                 for a in ("--model", f"{tier}={PRO_MODEL}[1m]")] + \
            [a for tier in ("haiku", "subagent") for a in ("--model", f"{tier}={FLASH_MODEL}")]
        args = ["profile", "add", name, "--provider", "deepseek", "--base-url", base_url, *models, *extra]
        made.append(name)
        if key is None:
            forget(name)  # a key another test left under this name
        proc = run_dsconfig(*args, "--api-key-stdin", input=key) if key else run_dsconfig(*args, input="")
        assert proc.returncode == 0, proc.stderr
        assert secret_service.lookup(name) == key

    yield make
    for name in made:
        forget(name)


def forget(name: str) -> None:
    """Remove a key from the session's Secret Service (libsecret's own tool: no dsconfig start-up cost)."""
    subprocess.run(["secret-tool", "clear", "service", "dsconfig", "username", name], capture_output=True, timeout=20, check=False)


@pytest.mark.secret_service
def test_cli_ok_prints_the_table_and_sends_what_claude_code_sends(fake_deepseek: FakeDeepSeek, cli_profile: Any, run_dsconfig: Any) -> None:
    cli_profile("ds", fake_deepseek.base_url)
    proc = run_dsconfig("verify", "ds", "--timeout", "10")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""  # no spinner, no noise without a terminal
    out = proc.stdout
    assert_no_key(out)
    assert re.search(rf"^ds +model +{PRO_MODEL} +main opus sonnet fable +{PRO_MODEL} +200 .* ok, answered, listed$", out, re.MULTILINE), out
    assert re.search(rf"^ds +model +{FLASH_MODEL} +haiku subagent +{FLASH_MODEL} +200 ", out, re.MULTILINE), out
    assert re.search(r"^ds +streaming .* ok, \d+ events in order", out, re.MULTILINE)
    assert re.search(r"^ds +tool use .* ok, called dsconfig_echo$", out, re.MULTILINE)
    assert re.search(r"^ds +model list +GET /models .* ok, 2 models", out, re.MULTILINE)
    assert re.search(r"^ds +balance +GET /user/balance .* ok, 110.00 CNY available$", out, re.MULTILINE)
    assert f"key {MASKED} from keyring service \"dsconfig\", user \"ds\": all 6 checks passed" in out

    messages = fake_deepseek.message_requests
    assert sorted(r.body["model"] for r in messages) == sorted([PRO_MODEL, FLASH_MODEL, PRO_MODEL, PRO_MODEL])  # [1m] stripped
    for r in messages:
        assert r.path == "/anthropic/v1/messages" and r.params == {"beta": "true"}
        assert r.headers["anthropic-version"] == "2023-06-01"
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-api-key"] == DEFAULT_KEY  # template auth "both": both headers
        assert r.headers["authorization"] == f"Bearer {DEFAULT_KEY}"
        assert r.body["stream"] is True and r.body["max_tokens"] <= 128
    tool_requests = [r for r in messages if r.body.get("tools")]
    assert len(tool_requests) == 1 and tool_requests[0].body["tool_choice"] == {"type": "any"}
    others = {r.path: r for r in fake_deepseek.requests if r.method == "GET"}
    assert set(others) == {"/models", "/user/balance"}  # on the profile's host, outside /anthropic
    for r in others.values():
        assert r.headers["authorization"] == f"Bearer {DEFAULT_KEY}" and "x-api-key" not in r.headers


@pytest.mark.secret_service
def test_cli_wrong_key_is_auth_with_the_masked_key_its_keyring_entry_and_exit_6(
        fake_deepseek: FakeDeepSeek, cli_profile: Any, run_dsconfig: Any) -> None:
    cli_profile("ds", fake_deepseek.base_url)
    fake_deepseek.keys = {OTHER_KEY}
    proc = run_dsconfig("verify", "ds", "--timeout", "10")
    assert proc.returncode == EXIT_VERIFY_AUTH, proc.stdout + proc.stderr
    assert_no_key(proc.stdout + proc.stderr)
    assert re.search(r"^ds +model +deepseek-v4-pro .* 401 .* FAIL auth$", proc.stdout, re.MULTILINE)
    assert f"the provider refused the API key {MASKED}" in proc.stdout
    assert 'the key came from the OS keyring, service "dsconfig", user "ds"' in proc.stdout
    assert "fix: store the right key: dsconfig key set ds" in proc.stdout
    assert proc.stderr.startswith("error: verify: 6 check(s) failed in profile 'ds' (auth)")
    # Each fix once (issue 14): under "problems and fixes", not again as the error's hint.
    assert (proc.stdout + proc.stderr).count("store the right key: dsconfig key set ds") == 1
    assert "hint:" not in proc.stderr
    proc = run_dsconfig("verify", "ds", "--timeout", "10", "--json")
    assert "hint: ds model deepseek-v4-pro: store the right key: dsconfig key set ds" in proc.stderr


@pytest.mark.secret_service
def test_cli_refused_is_network_exit_7(cli_profile: Any, run_dsconfig: Any) -> None:
    port = closed_port()
    cli_profile("ds", f"http://127.0.0.1:{port}/anthropic")
    proc = run_dsconfig("verify", "ds", "--timeout", "5")
    assert proc.returncode == EXIT_VERIFY_NETWORK, proc.stdout + proc.stderr
    assert f"refused: nothing accepts connections on 127.0.0.1:{port} (connection refused)" in proc.stdout
    assert "fix: start the server, or correct the host/port in the base URL: dsconfig profile edit ds --base-url URL" in proc.stdout
    assert_no_key(proc.stdout + proc.stderr)


@pytest.mark.secret_service
def test_cli_openai_format_url_is_not_anthropic_exit_1(fake_deepseek: FakeDeepSeek, cli_profile: Any, run_dsconfig: Any) -> None:
    fake_deepseek.openai_format = True
    cli_profile("ds", fake_deepseek.root_url + "/v1")  # DeepSeek's OpenAI URL shape
    proc = run_dsconfig("verify", "ds", "--timeout", "5")
    assert proc.returncode == EXIT_ERROR, proc.stdout + proc.stderr
    assert "not_anthropic: HTTP 200 but the reply is not in the Anthropic format: an OpenAI-format chat completion" in proc.stdout
    assert f"fix: dsconfig profile edit ds --base-url {fake_deepseek.base_url}" in proc.stdout


@pytest.mark.secret_service
def test_cli_json_contract(fake_deepseek: FakeDeepSeek, cli_profile: Any, run_dsconfig: Any) -> None:
    cli_profile("ds", fake_deepseek.base_url)
    proc = run_dsconfig("verify", "ds", "--json", "--timeout", "10")
    assert proc.returncode == 0, proc.stderr
    assert_no_key(proc.stdout + proc.stderr)
    doc = json.loads(proc.stdout)
    assert set(doc) == {"ok", "exit_code", "timeout_s", "elapsed_ms", "profiles"}
    assert doc["ok"] is True and doc["exit_code"] == 0 and doc["timeout_s"] == 10.0
    (p,) = doc["profiles"]
    assert set(p) == {"profile", "provider", "base_url", "key", "key_source", "ok", "exit_code", "elapsed_ms", "models",
                      "streaming", "tool_use", "model_list", "balance", "claude", "failures", "warnings"}
    assert p["key"] == MASKED and p["key_source"] == 'keyring service "dsconfig", user "ds"'
    assert p["claude"] is None and p["failures"] == []
    message_keys = {"check", "model", "tiers", "answered_by", "status", "ttft_ms", "total_ms", "input_tokens", "output_tokens",
                    "events", "tool", "listed", "ok", "detail", "failure"}
    for m in [*p["models"], p["streaming"], p["tool_use"]]:
        assert set(m) == message_keys
        assert m["status"] == 200 and m["ok"] is True and m["failure"] is None
        assert isinstance(m["total_ms"], int) and isinstance(m["ttft_ms"], int)
    assert [(m["model"], m["tiers"], m["answered_by"], m["listed"]) for m in p["models"]] == [
        (PRO_MODEL, ["main", "opus", "sonnet", "fable"], PRO_MODEL, True), (FLASH_MODEL, ["haiku", "subagent"], FLASH_MODEL, True)]
    assert p["tool_use"]["tool"] == "dsconfig_echo" and p["streaming"]["events"] >= 7
    assert set(p["model_list"]) == {"url", "status", "total_ms", "models", "missing", "drift", "ok", "detail", "failure"}
    assert p["model_list"]["drift"] == []
    assert p["model_list"]["url"] == fake_deepseek.root_url + "/models"
    assert p["model_list"]["models"] == [PRO_MODEL, FLASH_MODEL] and p["model_list"]["missing"] == []
    assert set(p["balance"]) == {"url", "status", "total_ms", "available", "balances", "ok", "detail", "failure"}
    assert p["balance"]["available"] is True and p["balance"]["balances"] == [{"currency": "CNY", "total": "110.00"}]


@pytest.mark.secret_service
def test_cli_all_checks_every_profile_in_one_table_and_one_json_document(
        fake_deepseek: FakeDeepSeek, fake_deepseek_2: FakeDeepSeek, cli_profile: Any, run_dsconfig: Any) -> None:
    cli_profile("ds", fake_deepseek.base_url)
    cli_profile("other", fake_deepseek_2.base_url)
    fake_deepseek_2.keys = {OTHER_KEY}
    proc = run_dsconfig("verify", "--all", "--timeout", "10")
    assert proc.returncode == EXIT_VERIFY_AUTH, proc.stdout + proc.stderr
    header, *rows = [line for line in proc.stdout.splitlines() if line][:13]
    assert header.split()[:2] == ["PROFILE", "CHECK"]
    assert [r.split()[0] for r in rows] == ["ds"] * 6 + ["other"] * 6
    assert "ds: " in proc.stdout and "all 6 checks passed" in proc.stdout and "6 of 6 checks failed" in proc.stdout
    assert f"other · model {PRO_MODEL}, model {FLASH_MODEL}, streaming, tool use, model list, balance" in proc.stdout

    doc = json.loads(run_dsconfig("verify", "--all", "--json", "--timeout", "10").stdout)
    assert [(p["profile"], p["ok"], p["exit_code"]) for p in doc["profiles"]] == [("ds", True, 0), ("other", False, EXIT_VERIFY_AUTH)]
    assert doc["exit_code"] == EXIT_VERIFY_AUTH
    failure = doc["profiles"][1]["failures"][0]
    assert set(failure) == {"check", "class", "message", "hint", "status", "detail", "exit_code"}
    assert failure["class"] == "auth" and failure["status"] == 401 and failure["exit_code"] == EXIT_VERIFY_AUTH
    assert failure["hint"].startswith("store the right key: dsconfig key set other")


@pytest.mark.secret_service
def test_cli_profile_without_key_is_no_key_exit_6(fake_deepseek: FakeDeepSeek, cli_profile: Any, run_dsconfig: Any) -> None:
    cli_profile("ds", fake_deepseek.base_url, key=None)
    proc = run_dsconfig("verify", "ds")
    assert proc.returncode == EXIT_VERIFY_AUTH
    assert "no_key: no API key stored for profile 'ds'" in proc.stdout and "fix: store one: dsconfig key set ds" in proc.stdout
    assert fake_deepseek.request_count == 0


@pytest.mark.secret_service
def test_cli_spinner_only_when_stderr_is_a_terminal(fake_deepseek: FakeDeepSeek, cli_profile: Any) -> None:
    import pty

    cli_profile("ds", fake_deepseek.base_url)
    fake_deepseek.latency = 0.3
    master, slave = pty.openpty()
    proc = subprocess.Popen([*dsconfig_command(), "verify", "ds"], stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=30)
    os.close(master)
    assert proc.returncode == 0
    assert b"verifying ds" in seen and b"\r" in seen
    assert "verifying" not in out and "ok, answered" in out


def test_cli_name_and_all_together_is_a_usage_error(run_dsconfig: Any) -> None:
    proc = run_dsconfig("verify", "ds", "--all")
    assert proc.returncode == 2 and "give a profile NAME or --all, not both" in proc.stderr


# --- HTTP failure classes from the fake -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "hint", "code"),
    [
        (402, "credit", "top up the account that owns key sk-…0001", EXIT_VERIFY_AUTH),
        (403, "forbidden", "check the key's permissions and region in the provider's console", EXIT_ERROR),
        (429, "rate_limited", "wait and run `dsconfig verify ds` again", EXIT_ERROR),
        (500, "server", "nothing to change in dsconfig: retry later", EXIT_ERROR),
        (503, "server", "nothing to change in dsconfig: retry later", EXIT_ERROR),
    ],
)
def test_provider_error_statuses(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring, status: int, kind: str, hint: str, code: int) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url)
    fake_deepseek.fail_with = status
    report = check(ctx)
    p = only(report)
    assert [(c.status, c.failure.kind if c.failure else None) for c in message_checks(p)] == [(status, kind)] * 4
    failure = p.failures()[0][1]
    assert hint in failure.hint and f"HTTP {status}" in failure.message
    assert p.model_list is not None and p.model_list.ok and p.balance is not None and p.balance.ok  # only messages fail
    assert report.exit_code == code
    err = report.error()
    assert err is not None and err.exit_code == code


@pytest.mark.parametrize(
    ("path", "problem"),
    [("/anthropic/v1", "/v1 is doubled: the client appends /v1/messages"), ("", "/anthropic is missing from the path")],
)
def test_not_found_names_what_is_wrong_with_the_base_url_path(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring, path: str, problem: str) -> None:
    # The fake serves any prefix ending in /v1/messages, so the 404 itself comes from fail_with; the diagnosis
    # is made from the profile's URL, which is what a user gets wrong.
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.root_url + path)
    fake_deepseek.fail_with = 404
    report = check(ctx)
    failure = only(report).failures()[0][1]
    assert failure.kind == "not_found" and problem in failure.message
    assert failure.hint == f"dsconfig profile edit ds --base-url {fake_deepseek.base_url}"
    assert report.exit_code == EXIT_ERROR


def test_unknown_model_lists_the_providers_models_and_the_exact_edit(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url, models={"haiku": "deepseek-v4-flsh"})
    report = check(ctx)
    p = only(report)
    by_model = {m.model: m for m in p.models}
    assert set(by_model) == {PRO_MODEL, "deepseek-v4-flsh", FLASH_MODEL}
    bad = by_model["deepseek-v4-flsh"]
    assert bad.status == 400 and bad.failure is not None and bad.failure.kind == "unknown_model" and bad.listed is False
    assert "'deepseek-v4-flsh' (used by haiku)" in bad.failure.message and "model not offered" in bad.failure.message
    assert f"{PRO_MODEL}, {FLASH_MODEL}" in bad.failure.message
    assert bad.failure.hint == f"dsconfig profile edit ds --model haiku={FLASH_MODEL}"
    assert by_model[FLASH_MODEL].ok and by_model[PRO_MODEL].ok
    assert kinds(p) == {"unknown_model"} and report.exit_code == EXIT_ERROR


def test_older_mapping_of_unknown_names_passes_but_says_so(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    fake_deepseek.unknown_model = "flash"
    add(ctx, fake_deepseek.base_url, models={"haiku": "my-typo-model"})
    p = only(check(ctx))
    typo = next(m for m in p.models if m.model == "my-typo-model")
    assert typo.ok and typo.answered_by == FLASH_MODEL and typo.listed is False
    assert f"answered as {FLASH_MODEL}: not on the provider's list" in typo.detail
    assert p.model_list is not None and p.model_list.missing == ("my-typo-model",)


def test_stall_with_keepalive_lines_is_network_exit_7(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url)
    fake_deepseek.stall = True
    # Bounded: a verify that waited on the stalled stream beyond its 0.7 s timeout fails here naming the hang.
    report = returns_within(30, "verify of a stalled stream with --timeout 0.7", lambda: check(ctx, timeout=0.7))
    p = only(report)
    assert kinds(p) == {"stall"}
    failure = p.failures()[0][1]
    assert "sent no event within 0.7 s" in failure.message and "keep-alive line(s)" in failure.message
    assert "dsconfig verify ds --timeout 120" in failure.hint
    assert report.exit_code == EXIT_VERIFY_NETWORK


def test_latency_beyond_the_timeout_is_timeout(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url)
    fake_deepseek.latency = 2.0
    report = check(ctx, timeout=0.5)
    p = only(report)
    assert kinds(p) == {"timeout"}
    failure = p.failures()[0][1]
    assert failure.message.startswith(f"no answer from 127.0.0.1:{fake_deepseek.port} within 0.5 s")
    assert "dsconfig verify ds --timeout 60" in failure.hint
    assert report.exit_code == EXIT_VERIFY_NETWORK


# --- network failure classes ----------------------------------------------------------------------------


def test_unresolvable_host_is_dns(memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, "https://api.deepseek.invalid/anthropic")
    report = check(ctx)
    p = only(report)
    assert kinds(p) == {"dns"}
    failure = p.failures()[0][1]
    assert failure.message == "the host api.deepseek.invalid could not be resolved (DNS)"
    assert "dsconfig profile edit ds --base-url URL" in failure.hint
    assert report.exit_code == EXIT_VERIFY_NETWORK


def test_plain_http_server_addressed_with_https_is_tls(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, f"https://127.0.0.1:{fake_deepseek.port}/anthropic")
    report = check(ctx)
    p = only(report)
    assert kinds(p) == {"tls"}
    failure = p.failures()[0][1]
    assert "does not speak TLS" in failure.message
    assert failure.hint == f"if it is a local plain-HTTP gateway: dsconfig profile edit ds --base-url {fake_deepseek.base_url}"
    assert report.exit_code == EXIT_VERIFY_NETWORK


@pytest.fixture
def self_signed_tls_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 with a certificate made at test time that nobody trusts."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    listener.close()


def test_untrusted_certificate_is_tls(self_signed_tls_server: int, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, f"https://127.0.0.1:{self_signed_tls_server}/anthropic")
    report = check(ctx)
    p = only(report)
    assert kinds(p) == {"tls"}
    failure = p.failures()[0][1]
    assert failure.message.startswith("the TLS certificate of 127.0.0.1 is not trusted (self")
    assert "point SSL_CERT_FILE at its CA bundle" in failure.hint
    assert report.exit_code == EXIT_VERIFY_NETWORK


def test_refusing_proxy_is_proxy(monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring) -> None:
    port = closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:secret@127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "")
    ctx = make_ctx(memory_keyring)
    add(ctx, "https://api.deepseek.invalid/anthropic")  # would be "dns" if the proxy were not used
    report = check(ctx)
    p = only(report)
    assert kinds(p) == {"proxy"}
    failure = p.failures()[0][1]
    assert failure.message == f"the proxy http://127.0.0.1:{port} (HTTPS_PROXY) refused or failed the connection"
    assert failure.hint == f"fix or unset HTTPS_PROXY (now http://127.0.0.1:{port}), or exempt this host: NO_PROXY=api.deepseek.invalid"
    assert "secret" not in json.dumps(report.to_doc())
    assert report.exit_code == EXIT_VERIFY_NETWORK


def test_proxy_answering_502_to_connect_is_proxy(monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, canned: Any) -> None:
    proxy = canned(lambda h: (502, "text/plain", b"bad gateway"))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "")
    ctx = make_ctx(memory_keyring)
    add(ctx, "https://api.deepseek.invalid/anthropic")
    p = only(check(ctx))
    assert kinds(p) == {"proxy"}
    assert "answered 502" in p.failures()[0][1].message
    assert {method for method, _, _ in proxy.requests} == {"CONNECT"}


def test_no_proxy_exempts_a_loopback_profile(monkeypatch: pytest.MonkeyPatch, fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(var, dead)
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert only(check(ctx)).ok
    monkeypatch.setenv("NO_PROXY", "")  # the same profile through the dead proxy
    assert kinds(only(check(ctx))) == {"proxy"}


# --- what only a misbehaving server does (canned replies) -----------------------------------------------


def custom(ctx: actions.Context, url: str) -> None:
    """A profile on the `custom` template: no model list or balance endpoints, one model."""
    add(ctx, url, provider="custom", models={"main": "m1"})


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (sse(START, TEXT_BLOCK[1], *TEXT_BLOCK, *END), "content_block_delta (index 0) outside its content block"),
        (sse(TEXT_BLOCK[0], START, *END), "the first event is content_block_start, not message_start"),
        (sse(START, *TEXT_BLOCK), "the stream ended before message_stop"),
    ],
)
def test_events_out_of_order_or_cut_short_are_bad_stream(canned: Any, memory_keyring: MemoryKeyring, body: bytes, problem: str) -> None:
    server = canned(lambda h: (200, SSE, body))
    ctx = make_ctx(memory_keyring)
    custom(ctx, server.url)
    p = only(check(ctx))
    assert p.streaming is not None and p.streaming.failure is not None
    assert p.streaming.failure.kind == "bad_stream" and problem in p.streaming.failure.message
    assert p.exit_code == EXIT_ERROR


def test_a_reply_without_the_tool_call_is_no_tool_use(canned: Any, memory_keyring: MemoryKeyring) -> None:
    server = canned(lambda h: (200, SSE, sse(START, *TEXT_BLOCK, *END)))
    ctx = make_ctx(memory_keyring)
    custom(ctx, server.url)
    p = only(check(ctx))
    assert p.models[0].ok and p.models[0].answered_by == "m1" and p.streaming is not None and p.streaming.ok
    assert p.tool_use is not None and p.tool_use.failure is not None and p.tool_use.failure.kind == "no_tool_use"
    assert p.tool_use.failure.hint == "Claude Code needs tool use for almost everything: use a model or endpoint that supports it: dsconfig profile edit ds --model main=MODEL"
    assert p.exit_code == EXIT_ERROR
    assert all(path == "/v1/messages?beta=true" for _, path, _ in server.requests)


def test_an_html_page_is_not_anthropic(canned: Any, memory_keyring: MemoryKeyring) -> None:
    server = canned(lambda h: (200, "text/html", b"<!doctype html><title>Sign in</title>"))
    ctx = make_ctx(memory_keyring)
    custom(ctx, server.url)
    p = only(check(ctx))
    assert kinds(p) == {"not_anthropic"} and "an HTML page" in p.failures()[0][1].message


def test_a_dropped_connection_is_the_catch_all(canned: Any, memory_keyring: MemoryKeyring) -> None:
    server = canned(lambda h: None)
    ctx = make_ctx(memory_keyring)
    custom(ctx, server.url)
    p = only(check(ctx))
    assert kinds(p) == {"error"}
    assert "closed the connection without a valid HTTP answer" in p.failures()[0][1].message
    assert p.exit_code == EXIT_ERROR


def test_a_gateway_echoing_the_key_never_gets_it_shown(canned: Any, memory_keyring: MemoryKeyring) -> None:
    echo = json.dumps({"error": {"message": f"invalid key {DEFAULT_KEY}", "type": "authentication_error"}}).encode()
    server = canned(lambda h: (401, "application/json", echo))
    ctx = make_ctx(memory_keyring)
    custom(ctx, server.url)
    report = check(ctx)
    text = json.dumps(report.to_doc(), ensure_ascii=False)
    assert_no_key(text)
    assert f"invalid key {MASKED}" in text
    assert kinds(only(report)) == {"auth"}


# --- templates, defaults, concurrency -------------------------------------------------------------------


def test_template_without_models_checks_the_default_model_with_x_api_key_only(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url, provider="anthropic")
    p = only(check(ctx))
    assert p.ok, p.failures()
    assert [(m.model, m.tiers, m.answered_by) for m in p.models] == [(DEFAULT_MODEL, (), FLASH_MODEL)]
    assert p.balance is None and p.model_list is not None and p.model_list.url == fake_deepseek.root_url + "/v1/models"
    for r in fake_deepseek.requests:
        assert r.headers["x-api-key"] == DEFAULT_KEY and "authorization" not in r.headers


def test_bearer_template_sends_only_authorization(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url, provider="kimi", models=dict.fromkeys(("main", "opus", "sonnet", "haiku", "subagent"), FLASH_MODEL))
    p = only(check(ctx))
    assert p.ok and [m.model for m in p.models] == [FLASH_MODEL]
    for r in fake_deepseek.requests:
        assert r.headers["authorization"] == f"Bearer {DEFAULT_KEY}" and "x-api-key" not in r.headers


def test_checks_run_concurrently_about_one_latency_not_one_per_model(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url, models={"haiku": "claude-haiku-4-5"})  # 3 distinct models
    latency = 0.3
    fake_deepseek.latency = latency
    p = only(check(ctx))
    assert p.ok and len(p.models) == 3
    assert len(fake_deepseek.message_requests) == 5  # 3 models + streaming + tool use
    # All five were in flight at once (the figure in seconds is bench/bench_verify.py's job).
    assert fake_deepseek.max_in_flight == 5
    resolved = actions.resolved_profile("ds", ctx)
    import asyncio

    fake_deepseek.reset()
    fake_deepseek.latency = latency
    one_by_one = only(asyncio.run(verify.verify_many([(resolved, DEFAULT_KEY)], timeout=5, concurrent=False)))
    assert one_by_one.ok and fake_deepseek.max_in_flight == 1 and len(fake_deepseek.message_requests) == 5


def test_all_runs_profiles_concurrently_and_auth_outranks_network(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url, name="bad-key", key=OTHER_KEY)
    add(ctx, f"http://127.0.0.1:{closed_port()}/anthropic", name="down")
    add(ctx, fake_deepseek.base_url, name="fine")
    ctx.store.add(Profile(name="broken", provider="no-such-provider"))
    fake_deepseek.latency = 0.3
    report = check(ctx, None, all_profiles=True)
    by_name = {p.profile: p for p in report.profiles}
    assert list(by_name) == ["bad-key", "down", "fine", "broken"]
    assert kinds(by_name["bad-key"]) == {"auth"} and kinds(by_name["down"]) == {"refused"} and by_name["fine"].ok
    assert kinds(by_name["broken"]) == {"error"} and "no provider template 'no-such-provider'" in by_name["broken"].failures()[0][1].message
    assert report.exit_code == EXIT_VERIFY_AUTH
    assert fake_deepseek.max_in_flight > 3  # both fake profiles' requests overlapped (3 each)


def test_exit_code_precedence() -> None:
    assert exit_code_for({"server", "dns", "auth"}) == EXIT_VERIFY_AUTH
    assert exit_code_for({"server", "credit"}) == EXIT_VERIFY_AUTH
    assert exit_code_for({"server", "stall"}) == EXIT_VERIFY_NETWORK
    assert exit_code_for({"not_anthropic"}) == EXIT_ERROR
    assert exit_code_for(set()) == EXIT_OK
    assert CLASSES == AUTH_CLASSES | NETWORK_CLASSES | OTHER_CLASSES


def test_active_profile_by_default_and_clear_errors_without_one(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    with pytest.raises(NotFoundError):
        check(ctx, None, all_profiles=True)
    add(ctx, fake_deepseek.base_url)
    with pytest.raises(NotFoundError, match="no active profile"):
        check(ctx, None)
    ctx.store.set_active("ds")
    assert only(check(ctx, None)).profile == "ds"


def test_no_keyring_is_the_keyring_error_not_a_verify_result(fake_deepseek: FakeDeepSeek, memory_keyring: MemoryKeyring) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, fake_deepseek.base_url)

    class NoKeyring(MemoryKeyring):
        def get(self, name: str) -> str | None:
            raise KeyringUnavailableError("no OS keyring is available", "install one")

    with pytest.raises(KeyringUnavailableError):
        check(actions.Context(store=ctx.store, secrets=NoKeyring()))
    assert fake_deepseek.request_count == 0


@pytest.mark.parametrize(
    ("base_url", "problems", "suggestion"),
    [
        ("https://api.deepseek.com/anthropic", [], None),
        ("https://api.deepseek.com/anthropic/v1", ["/v1 is doubled"], "https://api.deepseek.com/anthropic"),
        ("https://api.deepseek.com", ["/anthropic is missing"], "https://api.deepseek.com/anthropic"),
        ("https://api.deepseek.com/v1", ["/v1 is doubled", "/anthropic is missing"], "https://api.deepseek.com/anthropic"),
        ("https://api.deepseek.com/anthropic/v1/messages", ["already ends in /v1/messages"], "https://api.deepseek.com/anthropic"),
    ],
)
def test_base_url_advice(memory_keyring: MemoryKeyring, base_url: str, problems: list[str], suggestion: str | None) -> None:
    ctx = make_ctx(memory_keyring)
    add(ctx, base_url)
    found, suggested = base_url_advice(actions.resolved_profile("ds", ctx))
    assert len(found) == len(problems) and all(p in f for p, f in zip(problems, found))
    assert suggested == suggestion


def test_no_real_looking_key_literal_in_verify_sources() -> None:
    files = [*sorted((REPO / "dsconfig" / "verify").glob("*.py")), REPO / "bench" / "bench_verify.py",
             Path(__file__), Path(__file__).with_name("test_verify_real_claude.py"),
             Path(__file__).with_name("test_verify_sources.py")]
    assert len(files) > 10
    for path in files:
        assert not re.search(r"sk-[0-9a-f]{32}(?![0-9a-f])", path.read_text()), path


# --- regressions -----------------------------------------------------------------------------------------


def test_fake_listen_backlog_is_deep_enough_for_concurrent_clients() -> None:
    assert fake_server._Server.request_queue_size >= 64


def test_cli_main_keeps_a_commands_ctx_exit_code() -> None:
    import click

    from dsconfig import cli as cli_module

    @cli_module.cli.command("zz-exit-probe", hidden=True)
    @click.pass_context
    def probe(ctx: click.Context) -> None:
        ctx.exit(6)

    try:
        assert cli_module.main(["zz-exit-probe"]) == 6
    finally:
        cli_module.cli.commands.pop("zz-exit-probe", None)
