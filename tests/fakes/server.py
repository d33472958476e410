"""A loopback stand-in for DeepSeek's Anthropic-compatible API.

Why a fake: the tests must prove that what dsconfig writes makes real clients (the ``anthropic`` SDK,
the real ``claude`` CLI) talk to the configured endpoint with the configured key and model, and that
dsconfig's checks report DeepSeek's failure modes correctly. Those failure modes are reproduced here
from DeepSeek's documented behaviour (see tests/../shared reference notes):

* keys are accepted as ``x-api-key`` or ``Authorization: Bearer``; errors are OpenAI-shaped
  (``{"error": {"message", "type", "param", "code"}}``), not Anthropic-shaped;
* models (DeepSeek's first-call page, checked 2026-11-30): ``deepseek-flash`` and ``deepseek-v4-pro`` are
  listed; the legacy names ``deepseek-v4-flash`` and ``deepseek-v4-flash-vision-exp`` are still accepted (served
  by flash) but not listed; Claude model names are mapped (``claude-opus*`` -> ``deepseek-v4-pro``, other
  ``claude*`` -> ``deepseek-flash``); other unknown names are either rejected with 400 (current docs) or mapped
  to flash (older docs), selectable per test;
* 402 means insufficient balance; under load the server may hold a request open with keep-alive
  lines instead of answering (``stall``);
* ``/models`` and ``/user/balance`` live at the root, outside ``/anthropic``.

Only the standard library is used so the fake works wherever the tests run.
"""

from __future__ import annotations

import copy
import json
import math
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from typing_extensions import Self

DEFAULT_KEY = "sk-test-fake-key-0001"
"""Accepted by default. Deliberately not shaped like a real key (``sk-`` + 32 hex characters)."""

DEFAULT_REPLY = "Hello from fake DeepSeek"
PRO_MODEL = "deepseek-v4-pro"
FLASH_MODEL = "deepseek-flash"
DEEPSEEK_MODELS = (PRO_MODEL, FLASH_MODEL)
"""What ``GET /models`` lists."""
LEGACY_MODELS = {"deepseek-v4-flash": FLASH_MODEL, "deepseek-v4-flash-vision-exp": FLASH_MODEL}
"""Accepted, not listed, answered by the model that serves them now."""

KEEPALIVE_INTERVAL = 0.2
"""Seconds between keep-alive lines while stalling."""

UnknownModelPolicy = Literal["reject", "flash"]

# status -> (message, type, code). DeepSeek documents 400/401/402/422/429/500/503; the exact
# ``type``/``code`` strings beyond 401 and 402 are plausible guesses, not captured from the wire.
_ERRORS: dict[int, tuple[str, str, str]] = {
    400: ("Invalid request", "invalid_request_error", "invalid_request_error"),
    401: ("Authentication Fails", "authentication_error", "invalid_request_error"),
    402: ("Insufficient Balance", "unknown_error", "invalid_request_error"),
    403: ("Forbidden", "permission_error", "invalid_request_error"),
    404: ("Not Found", "invalid_request_error", "not_found"),
    405: ("Method Not Allowed", "invalid_request_error", "method_not_allowed"),
    422: ("Invalid Parameters", "invalid_request_error", "invalid_request_error"),
    429: ("Rate Limit Reached", "rate_limit_error", "rate_limit_exceeded"),
    500: ("Server Error", "api_error", "internal_error"),
    503: ("Server Overloaded", "overloaded_error", "server_overloaded"),
}

# Claude Code always sends its tool list, so a tool call is only faked when the prompt asks for one.
_TOOL_WORD = re.compile(r"\btools?\b", re.IGNORECASE)


def default_balance() -> dict[str, Any]:
    """DeepSeek's ``GET /user/balance`` answer for a funded account."""
    return {
        "is_available": True,
        "balance_infos": [
            {
                "currency": "CNY",
                "total_balance": "110.00",
                "granted_balance": "10.00",
                "topped_up_balance": "100.00",
            }
        ],
    }


def default_models() -> list[dict[str, Any]]:
    """The ``data`` entries of DeepSeek's ``GET /models`` answer."""
    return [{"id": name, "object": "model", "owned_by": "deepseek"} for name in DEEPSEEK_MODELS]


def map_model(requested: str, unknown_model: UnknownModelPolicy) -> str | None:
    """Return the DeepSeek model DeepSeek would serve for ``requested``, or None when it rejects it."""
    if requested in DEEPSEEK_MODELS:
        return requested
    if requested in LEGACY_MODELS:
        return LEGACY_MODELS[requested]
    if requested.startswith("claude-opus"):
        return PRO_MODEL
    if requested.startswith("claude"):
        return FLASH_MODEL
    return FLASH_MODEL if unknown_model == "flash" else None


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    """An OpenAI-shaped error body as DeepSeek sends it, even on its Anthropic endpoint."""
    default_message, error_type, code = _ERRORS.get(status, ("Fake failure", "api_error", "unknown"))
    return {
        "error": {
            "message": message or default_message,
            "type": error_type,
            "param": None,
            "code": code,
        }
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it, with the outcome it chose."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    key: str | None
    """The API key sent (``x-api-key`` first, then Bearer); ``""`` if a header was empty, None if absent."""
    model_requested: str | None
    model_answered: str | None
    status: int

    @property
    def params(self) -> dict[str, str]:
        """The query string as a dict, e.g. ``{"beta": "true"}`` for Claude Code's requests."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


class FakeDeepSeek:
    """DeepSeek's Anthropic endpoint on ``127.0.0.1:<free port>``, served from a daemon thread.

    All behaviour knobs are plain attributes that tests may change while the server runs; each
    request reads them when it needs them. ``reset()`` restores the values given to the constructor.

    A ``POST .../v1/messages`` goes through, in order: ``latency``; the key (401); ``fail_with``; body
    validation (400); the model (400 or flash, per ``unknown_model``); then ``stall``, ``openai_format``
    or the real answer. ``fail_with`` and ``stall`` affect only messages, so ``/models`` and
    ``/user/balance`` keep answering, as DeepSeek's do when an account runs dry or is throttled.
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (DEFAULT_KEY,),
        latency: float = 0.0,
        unknown_model: UnknownModelPolicy = "reject",
        fail_with: int | None = None,
        stall: bool = False,
        openai_format: bool = False,
        reply_text: str = DEFAULT_REPLY,
        balance: dict[str, Any] | None = None,
        models: list[dict[str, Any]] | None = None,
    ) -> None:
        self.keys: set[str] = set(keys)
        self.latency = latency
        self.unknown_model: UnknownModelPolicy = unknown_model
        self.fail_with = fail_with
        self.stall = stall
        self.openai_format = openai_format
        self.reply_text = reply_text
        self.balance: dict[str, Any] = default_balance() if balance is None else balance
        self.models: list[dict[str, Any]] = default_models() if models is None else models
        self._defaults = copy.deepcopy(self._settings())
        self._log: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        """The most Messages requests the fake was answering at one moment (a proof of concurrency that no
        loaded machine can fake, unlike elapsed times)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _settings(self) -> dict[str, Any]:
        return {
            "keys": self.keys,
            "latency": self.latency,
            "unknown_model": self.unknown_model,
            "fail_with": self.fail_with,
            "stall": self.stall,
            "openai_format": self.openai_format,
            "reply_text": self.reply_text,
            "balance": self.balance,
            "models": self.models,
        }

    def start(self) -> Self:
        """Bind a free loopback port and serve in the background. A restart gets a new port."""
        if self._server is not None:
            raise RuntimeError("FakeDeepSeek is already running")
        server = _Server(self)
        # A short poll interval keeps stop() (and so every test teardown) fast.
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeDeepSeek:{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and wait for every handler thread, cutting stalled or idle connections."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.close_all()
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port; only known once started."""
        if self._server is None:
            raise RuntimeError("FakeDeepSeek is not running")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """Where ``/models`` and ``/user/balance`` live, like ``https://api.deepseek.com``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The Anthropic base URL, like ``https://api.deepseek.com/anthropic``."""
        return f"{self.root_url}/anthropic"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every answered request, oldest first."""
        with self._log_lock:
            return list(self._log)

    @property
    def request_count(self) -> int:
        """How many requests were answered so far, any path."""
        with self._log_lock:
            return len(self._log)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Only the ``POST .../v1/messages`` requests: what a chat actually sent."""
        return [r for r in self.requests if r.method == "POST" and r.path.rstrip("/").endswith("/v1/messages")]

    def reset(self) -> None:
        """Forget the request log and restore the constructor's behaviour settings."""
        with self._log_lock:
            self._log.clear()
            self._in_flight = self.max_in_flight = 0
        for name, value in copy.deepcopy(self._defaults).items():
            setattr(self, name, value)

    def _enter(self) -> None:
        with self._log_lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._log_lock:
            self._in_flight -= 1

    def _record(self, request: RecordedRequest) -> None:
        with self._log_lock:
            self._log.append(request)


class _Server(ThreadingHTTPServer):
    """Tracks open connections so stop() can cut them and then wait for every handler thread.

    Handler threads are not daemons, so ``server_close()`` joins them: once stop() returns nothing
    answers any more and the request log is final (no late entry leaks into the next assertion).
    Joining alone would hang on a handler blocked on an idle keep-alive socket, hence the cut.
    """

    # socketserver's default listen backlog is 5: a burst of concurrent connections (verify sends 7+ at once)
    # would wait ~1 s for a SYN retry. Real providers have deep backlogs.
    request_queue_size = 128

    daemon_threads = False

    def __init__(self, fake: FakeDeepSeek) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, sock: socket.socket) -> None:
        with self._connections_lock:
            if not self.stopping.is_set():
                self._connections.add(sock)
                return
        _cut(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(sock)

    def close_all(self) -> None:
        with self._connections_lock:
            self.stopping.set()
            connections = list(self._connections)
        for sock in connections:
            _cut(sock)
        self.shutdown()
        self.server_close()


def _cut(sock: socket.socket) -> None:
    """Unblock any thread reading or writing ``sock``; the handler then ends on its own."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _api_key(headers: dict[str, str]) -> str | None:
    """The key as DeepSeek would read it: ``x-api-key`` first, then ``Authorization: Bearer``."""
    api_key = headers.get("x-api-key")
    authorization = headers.get("authorization")
    bearer = None
    if authorization is not None and authorization[:6].lower() == "bearer":
        bearer = authorization[6:].strip()
    if api_key:
        return api_key
    if bearer:
        return bearer
    if api_key is not None or bearer is not None:
        return ""
    return None


def _last_user_text(messages: list[Any]) -> str:
    """The user's own words in the last user turn, or "" when that turn carries no prompt.

    Claude Code sends ``<system-reminder>`` text blocks beside the prompt and as whole turns (e.g.
    background-task notifications), and a turn answering a tool call holds ``tool_result`` blocks.
    Neither counts: otherwise a reminder that mentions "tool" would make the fake call tools forever.
    """
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        blocks = [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
        if any(block.get("type") == "tool_result" for block in blocks):
            return ""
        texts = [
            text
            for text in (str(block.get("text", "")) for block in blocks if block.get("type") == "text")
            if not text.lstrip().startswith("<system-reminder>")
        ]
        return texts[-1] if texts else ""
    return ""


def _tool_to_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool a real model would plausibly call for this request, or None for a text answer."""
    declared = body.get("tools")
    tools = [t for t in declared if isinstance(t, dict) and t.get("name")] if isinstance(declared, list) else []
    if not tools:
        return None
    choice = body.get("tool_choice")
    choice_type = choice.get("type") if isinstance(choice, dict) else None
    if choice_type == "none":
        return None
    if choice_type == "tool":
        assert isinstance(choice, dict)
        return next((t for t in tools if t["name"] == choice.get("name")), tools[0])
    if choice_type == "any" or _TOOL_WORD.search(_last_user_text(body["messages"])):
        return tools[0]
    return None


def _tool_input(tool: dict[str, Any]) -> dict[str, Any]:
    """A minimal input that satisfies the tool's required properties."""
    placeholders: dict[str, Any] = {"integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    schema = tool.get("input_schema") or {}
    properties = schema.get("properties") or {}
    return {
        name: placeholders.get(str((properties.get(name) or {}).get("type")), "fake")
        for name in schema.get("required") or []
    }


def _chunks(text: str, parts: int = 3) -> list[str]:
    """Split ``text`` into a few pieces so streaming clients really have to reassemble it."""
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _token_estimate(value: Any) -> int:
    """A rough token count: clients only need a plausible positive integer in ``usage``."""
    return max(1, len(json.dumps(value)) // 4)


class _Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive like the real API, so clients reuse connections as they would."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeDeepSeek/1"
    timeout = 30  # an idle keep-alive client must not pin a thread forever
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request stderr lines; the request log is the record."""

    def _dispatch(self) -> None:
        try:
            self._serve()
        except OSError:
            # The client went away, or stop() cut the connection.
            self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    # -- request handling -------------------------------------------------------------------

    def _serve(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        self._path, self._query = url.path, url.query
        self._headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(self._headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""  # always drain, or keep-alive breaks
        try:
            self._body: Any = json.loads(raw) if raw else None
        except ValueError:
            self._body = None
        self._key = _api_key(self._headers)
        self._model_requested: str | None = None
        self._model_answered: str | None = None
        if isinstance(self._body, dict) and isinstance(self._body.get("model"), str):
            self._model_requested = self._body["model"]

        path = self._path.rstrip("/")
        if path.endswith("/v1/messages"):
            route, allowed = "messages", "POST"
        elif path.endswith("/models"):
            route, allowed = "models", "GET"
        elif path.endswith("/user/balance"):
            route, allowed = "balance", "GET"
        else:
            self._send_json(404, error_body(404, f"Not Found: {self._path}"))
            return
        if self.command != allowed:
            self._send_json(405, error_body(405), {"Allow": allowed})
            return
        if route == "messages":
            fake._enter()
            try:
                if fake.latency > 0 and self.server.stopping.wait(fake.latency):
                    self.close_connection = True
                    return
                self._messages(fake)
            finally:
                fake._leave()
            return
        if not self._authorized(fake):
            return
        if route == "models":
            self._send_json(200, {"object": "list", "data": fake.models})
        else:
            self._send_json(200, fake.balance)

    def _authorized(self, fake: FakeDeepSeek) -> bool:
        """Refuse a missing, empty or unknown key with DeepSeek's 401 body."""
        if self._key and self._key in fake.keys:
            return True
        message = f"Authentication Fails, Your api key: ****{(self._key or '')[-4:]} is invalid"
        self._send_json(401, error_body(401, message))
        return False

    def _messages(self, fake: FakeDeepSeek) -> None:
        if not self._authorized(fake):
            return
        if fake.fail_with is not None:
            self._send_json(fake.fail_with, error_body(fake.fail_with))
            return
        body = self._body
        problem = None
        if not isinstance(body, dict):
            problem = "Request body must be a JSON object"
        elif not isinstance(body.get("model"), str):
            problem = "model: field required"
        elif not isinstance(body.get("max_tokens"), int) or isinstance(body.get("max_tokens"), bool):
            problem = "max_tokens: must be an integer"
        elif not isinstance(body.get("messages"), list):
            problem = "messages: must be a list"
        if problem is not None:
            self._send_json(400, error_body(400, problem))
            return
        assert isinstance(body, dict)
        self._model_answered = map_model(body["model"], fake.unknown_model)
        if self._model_answered is None:
            message = f"Model Not Exist: the model '{body['model']}' is not supported"
            self._send_json(400, error_body(400, message))
            return
        stream = body.get("stream") is True
        if fake.stall:
            self._stall(stream)
        elif fake.openai_format:
            self._send_json(200, self._openai_completion(fake.reply_text))
        elif stream:
            self._stream_message(body, fake.reply_text)
        else:
            self._send_json(200, self._message(body, fake.reply_text))

    # -- reply bodies -----------------------------------------------------------------------

    def _content(self, body: dict[str, Any], reply_text: str) -> tuple[dict[str, Any], str]:
        tool = _tool_to_call(body)
        if tool is None:
            return {"type": "text", "text": reply_text}, "end_turn"
        block = {
            "type": "tool_use",
            "id": f"toolu_{secrets.token_hex(12)}",
            "name": tool["name"],
            "input": _tool_input(tool),
        }
        return block, "tool_use"

    def _message(self, body: dict[str, Any], reply_text: str) -> dict[str, Any]:
        block, stop_reason = self._content(body, reply_text)
        return {
            "id": f"msg_{secrets.token_hex(12)}",
            "type": "message",
            "role": "assistant",
            "model": self._model_answered,
            "content": [block],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": _token_estimate(body["messages"]), "output_tokens": _token_estimate(block)},
        }

    def _openai_completion(self, reply_text: str) -> dict[str, Any]:
        """What an OpenAI-format endpoint answers: the shape a wrong base URL would produce."""
        return {
            "id": f"chatcmpl-{secrets.token_hex(12)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self._model_answered,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }

    def _stream_message(self, body: dict[str, Any], reply_text: str) -> None:
        message = self._message(body, reply_text)
        block = message["content"][0]
        self._start_stream()
        self._event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    **message,
                    "content": [],
                    "stop_reason": None,
                    "usage": {"input_tokens": message["usage"]["input_tokens"], "output_tokens": 0},
                },
            },
        )
        start: dict[str, Any]
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": part} for part in _chunks(block["text"])]
        else:
            start = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": part} for part in _chunks(json.dumps(block["input"]))
            ]
        self._event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": start})
        self._event("ping", {"type": "ping"})
        for delta in deltas:
            self._event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        self._event("content_block_stop", {"type": "content_block_stop", "index": 0})
        self._event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
        )
        self._event("message_stop", {"type": "message_stop"})
        self._end_stream()

    def _stall(self, stream: bool) -> None:
        """Hold the request open like an overloaded DeepSeek until the client or the server gives up.

        DeepSeek documents empty lines for non-streaming requests and SSE keep-alive comments for
        streaming ones while a request waits to be scheduled.
        """
        keepalive = b": keep-alive\n\n" if stream else b"\n"
        self._start_stream()
        while not self.server.stopping.wait(KEEPALIVE_INTERVAL):
            self._write_chunk(keepalive)
        self.close_connection = True

    # -- wire helpers -----------------------------------------------------------------------

    def _log_outcome(self, status: int) -> None:
        """Record before any byte goes out, so a client that has its answer always sees the entry."""
        self.server.fake._record(
            RecordedRequest(
                method=self.command,
                path=self._path,
                query=self._query,
                headers=self._headers,
                body=self._body,
                key=self._key,
                model_requested=self._model_requested,
                model_answered=self._model_answered,
                status=status,
            )
        )

    def _send_json(self, status: int, payload: Any, extra_headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self._log_outcome(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _start_stream(self) -> None:
        self._log_outcome(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _event(self, name: str, data: dict[str, Any]) -> None:
        self._write_chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
