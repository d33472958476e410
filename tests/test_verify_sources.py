"""verify tells the truth about where the key came from, legacy models and the proxy variables (outside tester).

- a profile whose key source is `env:VAR`, `command:CMD` or `kernel`: the report, a 401's message and every fix
  name that source (export VAR / the command / `key set` into the kernel keyring), never "the OS keyring";
- `env:VAR` with VAR unset (or a failing command) is `no_key` (exit 6) naming VAR (the command), not exit 5;
- a legacy model name is in the JSON `warnings`, as it is in the text model-list row;
- the proxy fix names the variable actually set (`http_proxy` when only that is set), and the NO_PROXY fix adds
  the host to the value already there instead of replacing it.

Against the loopback fake DeepSeek; the key sources go through the same SourcedStore every command uses, with an
in-memory keyring (and kernel keyring) behind it.
"""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path

import pytest
from fakes.server import DEFAULT_KEY, FakeDeepSeek
from helpers import MemoryKeyring

from dsconfig import actions
from dsconfig.errors import EXIT_VERIFY_AUTH, EXIT_VERIFY_NETWORK
from dsconfig.keysources import SourcedStore, parse
from dsconfig.verify.report import ProfileReport, VerifyReport
from dsconfig.verify.runner import run

WRONG_KEY = "sk-test-wrong-key-4242"
VAR = "DEEPSEEK_TEST_KEY"


def sourced_ctx(environ: dict[str, str] | None = None) -> actions.Context:
    """A Context whose keys follow each profile's source, as in production, over in-memory keyrings."""
    keyring, kernel = MemoryKeyring(), MemoryKeyring()
    env = dict(environ or {})
    return actions.Context(secrets=SourcedStore(keyring, kernel=kernel, environ=env), environ=env, kernel=kernel)


def add(ctx: actions.Context, base_url: str, source: str, key: str | None = None, **models: str) -> None:
    actions.profile_add("ds", "deepseek", base_url=base_url, models=models or None, key=key,
                        key_source=parse(source), ctx=ctx)


def check(ctx: actions.Context) -> ProfileReport:
    report: VerifyReport = run("ds", ctx=ctx, timeout=5)
    assert len(report.profiles) == 1
    return report.profiles[0]


def only_failure(profile: ProfileReport) -> tuple[str, str, str]:
    kinds = {f.kind for _, f in profile.failures()}
    assert len(kinds) == 1, profile.failures()
    failure = profile.failures()[0][1]
    return failure.kind, failure.message, failure.hint


# --- the key source, named -------------------------------------------------------------------------------


def test_env_source_with_a_wrong_key_names_the_variable_and_export(fake_deepseek: FakeDeepSeek) -> None:
    ctx = sourced_ctx({VAR: WRONG_KEY})
    add(ctx, fake_deepseek.base_url, f"env:{VAR}")
    profile = check(ctx)
    kind, message, hint = only_failure(profile)
    assert kind == "auth"
    assert f"the key came from the environment variable {VAR}" in message
    assert "keyring" not in message and "key set" not in hint
    assert hint.startswith(f"set the right key in {VAR}: export {VAR}=")
    assert profile.key_source == f"environment variable {VAR}"
    assert profile.to_doc()["key_source"] == f"environment variable {VAR}"


@pytest.mark.parametrize("state", ["unset", "empty"])
def test_env_source_without_the_variable_is_no_key_naming_it(fake_deepseek: FakeDeepSeek, state: str) -> None:
    ctx = sourced_ctx({VAR: "  "} if state == "empty" else {})
    add(ctx, fake_deepseek.base_url, f"env:{VAR}")
    report = run("ds", ctx=ctx, timeout=5)  # before: KeySourceError, exit 5 ("keyring unavailable")
    [profile] = report.profiles
    kind, message, hint = only_failure(profile)
    assert kind == "no_key" and report.exit_code == EXIT_VERIFY_AUTH
    assert message == f"no API key for profile 'ds': {VAR} is {'empty' if state == 'empty' else 'not set'} (the profile reads its key from env:{VAR})"
    assert hint == f"export {VAR}=... where you run dsconfig and Claude Code, or change the source: dsconfig profile edit ds --key-source keyring"
    assert fake_deepseek.request_count == 0


def test_all_profiles_keeps_going_past_an_env_profile_without_its_variable(fake_deepseek: FakeDeepSeek) -> None:
    ctx = sourced_ctx()
    add(ctx, fake_deepseek.base_url, f"env:{VAR}")
    actions.profile_add("kr", "deepseek", base_url=fake_deepseek.base_url, key=DEFAULT_KEY, ctx=ctx)
    report = run(None, all_profiles=True, ctx=ctx, timeout=5)
    by_name = {p.profile: p for p in report.profiles}
    assert by_name["kr"].ok and {f.kind for _, f in by_name["ds"].failures()} == {"no_key"}
    assert report.exit_code == EXIT_VERIFY_AUTH


def test_command_source_names_the_command_for_a_wrong_key_and_its_failure(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    secret = tmp_path / "key.txt"
    secret.write_text(WRONG_KEY + "\n")
    command = f"cat {shlex.quote(str(secret))}"
    ctx = sourced_ctx()
    add(ctx, fake_deepseek.base_url, f"command:{command}")
    profile = check(ctx)
    kind, message, hint = only_failure(profile)
    assert kind == "auth"
    assert f"the key came from the output of `{command}`" in message and "keyring" not in message
    assert hint.startswith(f"make `{command}` print the right key") and "key set" not in hint
    assert profile.key_source == f"the output of `{command}`"

    secret.unlink()  # now the command fails: no key, the command and its own words
    kind, message, hint = only_failure(check(ctx))
    assert kind == "no_key"
    assert message.startswith("no API key for profile 'ds': the key command of profile 'ds' failed (exit 1): ")
    assert "No such file or directory" in message
    assert hint == f"run it yourself: {command}"


def test_kernel_source_names_the_kernel_keyring_and_key_set_stores_there(fake_deepseek: FakeDeepSeek) -> None:
    ctx = sourced_ctx()
    add(ctx, fake_deepseek.base_url, "kernel")
    kind, message, hint = only_failure(check(ctx))
    assert kind == "no_key"
    assert message == "no API key stored for profile 'ds' (looked in the Linux kernel keyring, key \"dsconfig:ds\")"
    assert hint == "store one: dsconfig key set ds (it goes into the kernel keyring)"

    actions.key_set("ds", WRONG_KEY, ctx=ctx)
    assert ctx.kernel is not None and ctx.kernel.get("ds") == WRONG_KEY  # key set went where verify says
    profile = check(ctx)
    kind, message, hint = only_failure(profile)
    assert kind == "auth"
    assert 'the key came from the Linux kernel keyring, key "dsconfig:ds"' in message and "OS keyring" not in message
    assert hint.startswith("store the right key: dsconfig key set ds (it goes into the kernel keyring)")
    assert profile.key_source == 'Linux kernel keyring, key "dsconfig:ds"'


def test_keyring_source_is_reported_as_before(fake_deepseek: FakeDeepSeek) -> None:
    ctx = sourced_ctx()
    add(ctx, fake_deepseek.base_url, "keyring", key=WRONG_KEY)
    profile = check(ctx)
    kind, message, hint = only_failure(profile)
    assert kind == "auth"
    assert message.endswith('the key came from the OS keyring, service "dsconfig", user "ds"')
    assert hint == "store the right key: dsconfig key set ds (keys: https://platform.deepseek.com/api_keys)"
    assert profile.key_source == 'keyring service "dsconfig", user "ds"'


def fake_claude(tmp_path: Path, stderr: str) -> str:
    """A `claude` that fails the way Claude Code does when its apiKeyHelper printed nothing."""
    script = tmp_path / "claude"
    script.write_text(f"#!/bin/sh\necho {shlex.quote(stderr)} >&2\nexit 1\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    ("source", "fix"),
    [
        (f"env:{VAR}", f"`dsconfig key get ds` reads {VAR}: export {VAR}=... where you run dsconfig and Claude Code"),
        ("kernel", ("`dsconfig key get ds` must print the key from the kernel keyring Claude Code's user sees; "
                    "store it there: dsconfig key set ds (it goes into the kernel keyring)")),
        ("keyring", ("`dsconfig key get ds` must print the key from the keyring Claude Code's user sees; "
                     "store it there: dsconfig key set ds")),
    ],
)
def test_via_claude_a_failed_key_helper_names_the_profiles_source(fake_deepseek: FakeDeepSeek, tmp_path: Path,
                                                                  source: str, fix: str) -> None:
    ctx = sourced_ctx({VAR: DEFAULT_KEY})
    add(ctx, fake_deepseek.base_url, source, key=None if source.startswith("env:") else DEFAULT_KEY)
    claude = fake_claude(tmp_path, "Error: apiKeyHelper failed: exited 1")
    [profile] = run("ds", ctx=ctx, timeout=5, via_claude=True, claude_command=claude).profiles
    assert profile.claude is not None and profile.claude.failure is not None
    assert (profile.claude.failure.kind, profile.claude.failure.hint) == ("no_key", fix)
    assert [label for label, _ in profile.failures()] == ["claude -p"]  # the HTTP checks passed


# --- a legacy model in the JSON warnings -----------------------------------------------------------------


def test_a_legacy_model_is_in_the_json_warnings(fake_deepseek: FakeDeepSeek) -> None:
    ctx = sourced_ctx()
    add(ctx, fake_deepseek.base_url, "keyring", key=DEFAULT_KEY, haiku="deepseek-v4-flash")
    report = run("ds", ctx=ctx, timeout=5)
    [doc] = report.to_doc()["profiles"]
    assert doc["ok"] is True
    [warning] = doc["warnings"]
    assert "'deepseek-v4-flash' (used by haiku) is a legacy name" in warning
    assert "dsconfig profile edit ds --model haiku=deepseek-flash" in warning
    assert json.loads(json.dumps(report.to_doc())) == report.to_doc()


# --- the proxy variables actually set ----------------------------------------------------------------------


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def test_a_lowercase_proxy_variable_is_named_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("NO_PROXY", "")
    ctx = sourced_ctx()
    add(ctx, "https://api.deepseek.invalid/anthropic", "keyring", key=DEFAULT_KEY)
    kind, message, hint = only_failure(check(ctx))
    assert kind == "proxy"
    assert message == f"the proxy http://127.0.0.1:{port} (https_proxy) refused or failed the connection"
    assert hint == f"fix or unset https_proxy (now http://127.0.0.1:{port}), or exempt this host: NO_PROXY=api.deepseek.invalid"
    assert "HTTPS_PROXY" not in message + hint


def test_the_no_proxy_fix_adds_the_host_to_the_value_already_set(monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setenv("no_proxy", ".corp.example,10.0.0.0/8")
    ctx = sourced_ctx()
    add(ctx, "https://api.deepseek.invalid/anthropic", "keyring", key=DEFAULT_KEY)
    _, _, hint = only_failure(check(ctx))
    assert hint.endswith("or exempt this host: no_proxy=.corp.example,10.0.0.0/8,api.deepseek.invalid")


def test_a_502_proxy_fix_keeps_the_no_proxy_entries_already_there(monkeypatch: pytest.MonkeyPatch, fake_deepseek: FakeDeepSeek) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread
    from typing import Any

    class BadGateway(BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.send_response(502)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

        do_GET = do_POST = answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), BadGateway)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "intranet.example")
        monkeypatch.delenv("no_proxy", raising=False)
        ctx = sourced_ctx()
        add(ctx, fake_deepseek.base_url, "keyring", key=DEFAULT_KEY)
        report = run("ds", ctx=ctx, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    kind, message, hint = only_failure(report.profiles[0])
    assert kind == "proxy" and report.exit_code == EXIT_VERIFY_NETWORK
    assert "(http_proxy) answered HTTP 502" in message
    assert "export NO_PROXY=intranet.example,127.0.0.1,localhost,::1 " in hint
    assert "or fix or unset http_proxy" in hint and "HTTP_PROXY" not in hint
    assert fake_deepseek.request_count == 0
