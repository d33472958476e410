"""verify through a proxy that answers 502 (issue 14, item 2): the failure is the proxy's, with the NO_PROXY fix.

A tiny loopback proxy answers every request (a forwarded plain-HTTP request, or a CONNECT) with 502, as a
company proxy does when it cannot reach the host; the provider receives nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from fakes.server import DEFAULT_KEY, FakeDeepSeek

from dsconfig.errors import EXIT_VERIFY_NETWORK

pytestmark = pytest.mark.secret_service


class _BadGateway(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        body = b"<html><body>502 Bad Gateway: upstream unreachable</body></html>"
        self.send_response(502, "Bad Gateway")
        self.send_header("Via", "1.1 tinyproxy (test)")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_CONNECT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def bad_proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_BadGateway,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _profile(run_dsconfig: Any, base_url: str) -> None:
    proc = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--base-url", base_url, "--api-key-stdin",
                        input=DEFAULT_KEY)
    assert proc.returncode == 0, proc.stderr


def test_loopback_base_url_through_a_502_proxy(secret_service: Any, run_dsconfig: Any, fake_deepseek: FakeDeepSeek,
                                               bad_proxy: tuple[str, list[str]]) -> None:
    proxy, seen = bad_proxy
    _profile(run_dsconfig, fake_deepseek.base_url)
    proc = run_dsconfig("verify", "ds", "--timeout", "10", env={"HTTP_PROXY": proxy, "NO_PROXY": ""})
    text = proc.stdout + proc.stderr
    assert proc.returncode == EXIT_VERIFY_NETWORK, text
    assert seen and fake_deepseek.request_count == 0
    assert f"the proxy {proxy} (HTTP_PROXY) answered HTTP 502" in text
    assert "this machine's own address" in text and "Via: 1.1 tinyproxy (test)" in text
    assert "NO_PROXY=127.0.0.1,localhost" in text
    assert "failed on its side" not in text and "retry later" not in text
    assert text.count("exempt the host from the proxy") == 1  # one distinct problem, its fix once

    # With the fix applied, the same call passes.
    proc = run_dsconfig("verify", "ds", "--timeout", "10", env={"HTTP_PROXY": proxy, "NO_PROXY": "127.0.0.1,localhost"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_failed_connect_is_the_proxys(secret_service: Any, run_dsconfig: Any, bad_proxy: tuple[str, list[str]]) -> None:
    proxy, seen = bad_proxy
    _profile(run_dsconfig, "https://api.example.invalid/anthropic")
    proc = run_dsconfig("verify", "ds", "--timeout", "10", env={"HTTPS_PROXY": proxy, "NO_PROXY": ""})
    text = proc.stdout + proc.stderr
    assert proc.returncode == EXIT_VERIFY_NETWORK, text
    assert any(s.startswith("CONNECT api.example.invalid:443") for s in seen)
    assert f"the proxy {proxy} (HTTPS_PROXY)" in text and "NO_PROXY=api.example.invalid" in text
    assert "failed on its side" not in text
