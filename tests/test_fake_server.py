"""Tests of the fake DeepSeek server itself, and of the real Claude Code CLI against it.

If the fake drifts from DeepSeek's behaviour, every end-to-end test built on it proves less, so
each behaviour the other tests rely on is pinned here, with raw HTTP, the official ``anthropic``
SDK and the real ``claude`` binary.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from bounded import returns_within
from fakes.claude import (
    CLAUDE_CODE_VERSION,
    claude_env,
    ensure_claude,
    installed_version,
    parse_result,
    run_claude,
    write_user_settings,
)
from fakes.server import DEFAULT_KEY, DEFAULT_REPLY, FLASH_MODEL, PRO_MODEL, FakeDeepSeek

AUTH = {"x-api-key": DEFAULT_KEY}
WEATHER_TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "note": {"type": "string"}},
            "required": ["city", "days"],
        },
    },
    {"name": "get_time", "input_schema": {"type": "object", "properties": {}}},
]


def message_body(
    text: str = "Hi", *, model: str = "claude-sonnet-4-5", stream: bool = False, **extra: Any
) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        "stream": stream,
        **extra,
    }


def post(
    fake: FakeDeepSeek,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    path: str = "/anthropic/v1/messages",
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        fake.root_url + path,
        content=content,
        headers={"content-type": "application/json", **(AUTH if headers is None else headers)},
        timeout=10,
    )


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE body into (event name, data) pairs, skipping comment and blank frames."""
    events = []
    for frame in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if line and not line.startswith(":"))
        if fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def assert_openai_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == error_type
    assert error["param"] is None
    return error


# -- messages: shapes ------------------------------------------------------------------------


def test_non_streaming_reply_is_an_anthropic_message(fake_deepseek: FakeDeepSeek) -> None:
    response = post(fake_deepseek, message_body())

    assert response.status_code == 200
    message = response.json()
    assert message["id"].startswith("msg_")
    assert (message["type"], message["role"]) == ("message", "assistant")
    assert message["content"] == [{"type": "text", "text": DEFAULT_REPLY}]
    assert message["model"] == FLASH_MODEL
    assert message["stop_reason"] == "end_turn"
    assert isinstance(message["usage"]["input_tokens"], int)
    assert isinstance(message["usage"]["output_tokens"], int)


def test_streaming_reply_follows_anthropic_event_order(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.reply_text = "A longer reply that must arrive in pieces"

    response = post(fake_deepseek, message_body(stream=True, model="claude-opus-4-5"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    assert names == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * len(deltas) + [
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(data["type"] == name for name, data in events)
    assert len(deltas) > 1
    assert "".join(d["text"] for d in deltas if d["type"] == "text_delta") == fake_deepseek.reply_text
    assert events[0][1]["message"]["model"] == PRO_MODEL
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert events[-2][1]["usage"]["output_tokens"] > 0


def test_claude_code_shaped_request_gets_text_despite_tools(fake_deepseek: FakeDeepSeek) -> None:
    """Claude Code always sends tools, a role "system" message, thinking, metadata: it must get text."""
    body = message_body("say hi", tools=WEATHER_TOOLS)
    body["messages"][0]["content"].insert(
        0, {"type": "text", "text": "<system-reminder>use any tool</system-reminder>"}
    )
    body["messages"].append({"role": "system", "content": [{"type": "text", "text": "# Environment"}]})
    body.update(
        system=[{"type": "text", "text": "You are Claude Code"}],
        thinking={"type": "adaptive"},
        metadata={"user_id": "u"},
        output_config={"effort": "medium"},
        context_management={"edits": []},
    )

    response = post(fake_deepseek, body)

    assert response.status_code == 200
    assert response.json()["content"] == [{"type": "text", "text": DEFAULT_REPLY}]


# -- messages: tool use ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "tool_choice", "expected_tool"),
    [
        ("Please use a tool", None, "get_weather"),
        ("Hi", {"type": "any"}, "get_weather"),
        ("Hi", {"type": "tool", "name": "get_time"}, "get_time"),
    ],
)
def test_tool_use_reply(fake_deepseek: FakeDeepSeek, prompt: str, tool_choice: Any, expected_tool: str) -> None:
    extra: dict[str, Any] = {"tools": WEATHER_TOOLS}
    if tool_choice is not None:
        extra["tool_choice"] = tool_choice

    message = post(fake_deepseek, message_body(prompt, **extra)).json()

    assert message["stop_reason"] == "tool_use"
    [block] = message["content"]
    assert block["type"] == "tool_use"
    assert block["id"].startswith("toolu_")
    assert block["name"] == expected_tool
    if expected_tool == "get_weather":
        assert isinstance(block["input"]["city"], str)
        assert isinstance(block["input"]["days"], int)
        assert "note" not in block["input"]
    else:
        assert block["input"] == {}


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": WEATHER_TOOLS},
        {"tools": WEATHER_TOOLS, "tool_choice": {"type": "none"}},
        {"tool_choice": {"type": "any"}},
    ],
    ids=["no-request-for-a-tool", "tool-choice-none", "no-tools"],
)
def test_text_reply_when_no_tool_is_due(fake_deepseek: FakeDeepSeek, extra: dict[str, Any]) -> None:
    prompt = "Hi" if extra.get("tool_choice") is None else "Please use a tool"

    message = post(fake_deepseek, message_body(prompt, **extra)).json()

    assert message["stop_reason"] == "end_turn"
    assert message["content"][0]["type"] == "text"


def test_tool_result_turn_ends_the_round_trip_in_text(fake_deepseek: FakeDeepSeek) -> None:
    body = message_body("Please use a tool", tools=WEATHER_TOOLS)
    body["messages"] += [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny tool"}]},
    ]

    message = post(fake_deepseek, body).json()

    assert message["stop_reason"] == "end_turn"
    assert message["content"][0]["type"] == "text"


def test_reminder_only_turn_does_not_trigger_a_tool(fake_deepseek: FakeDeepSeek) -> None:
    """Claude Code sends background-task notifications as reminder-only user turns that mention tools."""
    body = message_body("say hi", tools=WEATHER_TOOLS)
    body["messages"] += [
        {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": "<system-reminder>\nA background tool finished.\n</system-reminder>"}],
        },
    ]

    message = post(fake_deepseek, body).json()

    assert message["stop_reason"] == "end_turn"
    assert message["content"][0]["type"] == "text"


def test_streaming_tool_use_sends_input_json_deltas(fake_deepseek: FakeDeepSeek) -> None:
    response = post(fake_deepseek, message_body("use the tool", stream=True, tools=WEATHER_TOOLS))

    events = sse_events(response.text)
    start = next(data for name, data in events if name == "content_block_start")["content_block"]
    partial = "".join(
        data["delta"]["partial_json"]
        for name, data in events
        if name == "content_block_delta" and data["delta"]["type"] == "input_json_delta"
    )
    assert start["type"] == "tool_use"
    assert start["name"] == "get_weather"
    assert start["id"].startswith("toolu_")
    assert set(json.loads(partial)) == {"city", "days"}
    assert next(data for name, data in events if name == "message_delta")["delta"]["stop_reason"] == "tool_use"
    assert [name for name, _ in events][-1] == "message_stop"


# -- models ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "answered"),
    [
        ("claude-opus-4-5", PRO_MODEL),
        ("claude-opus-4-1-20250805", PRO_MODEL),
        ("claude-sonnet-4-5", FLASH_MODEL),
        ("claude-haiku-4-5", FLASH_MODEL),
        ("claude-3-5-sonnet-latest", FLASH_MODEL),
        (PRO_MODEL, PRO_MODEL),
        (FLASH_MODEL, FLASH_MODEL),
        # Legacy names: still accepted, their models retired, served by flash (DeepSeek's first-call page).
        ("deepseek-v4-flash", FLASH_MODEL),
        ("deepseek-v4-flash-vision-exp", FLASH_MODEL),
    ],
)
def test_model_mapping(fake_deepseek: FakeDeepSeek, requested: str, answered: str) -> None:
    response = post(fake_deepseek, message_body(model=requested))

    assert response.json()["model"] == answered
    [logged] = fake_deepseek.requests
    assert (logged.model_requested, logged.model_answered) == (requested, answered)


def test_unknown_model_is_rejected_by_default(fake_deepseek: FakeDeepSeek) -> None:
    error = assert_openai_error(post(fake_deepseek, message_body(model="gpt-4o")), 400, "invalid_request_error")

    assert "gpt-4o" in error["message"]
    assert fake_deepseek.requests[0].model_answered is None


def test_current_deepseek_model_names() -> None:
    """DeepSeek's first-call page, checked 2026-11-30: deepseek-flash and deepseek-v4-pro are offered."""
    assert (FLASH_MODEL, PRO_MODEL) == ("deepseek-flash", "deepseek-v4-pro")


def test_model_list_on_the_host_root_names_current_models_only(fake_deepseek: FakeDeepSeek) -> None:
    listed = httpx.get(f"{fake_deepseek.root_url}/models", headers=AUTH).json()
    assert listed["object"] == "list"
    assert [m["id"] for m in listed["data"]] == [PRO_MODEL, FLASH_MODEL]
    assert not {"deepseek-v4-flash", "deepseek-v4-flash-vision-exp"} & {m["id"] for m in listed["data"]}


@pytest.mark.parametrize("model", ["deepseek-chat", "deepseek-reasoner", "kimi-k2.6", "deepseek-v4-flsh"])
def test_unknown_non_claude_names_get_400_naming_the_model(fake_deepseek: FakeDeepSeek, model: str) -> None:
    error = assert_openai_error(post(fake_deepseek, message_body(model=model)), 400, "invalid_request_error")
    assert model in error["message"]


def test_unknown_model_maps_to_flash_in_the_older_mode(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.unknown_model = "flash"

    response = post(fake_deepseek, message_body(model="deepseek-chat"))

    assert response.status_code == 200
    assert response.json()["model"] == FLASH_MODEL


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"x-api-key": DEFAULT_KEY}, {"authorization": f"Bearer {DEFAULT_KEY}"}],
    ids=["x-api-key", "bearer"],
)
def test_good_key_accepted_in_either_header(fake_deepseek: FakeDeepSeek, headers: dict[str, str]) -> None:
    response = post(fake_deepseek, message_body(), headers=headers)

    assert response.status_code == 200
    assert fake_deepseek.requests[0].key == DEFAULT_KEY


@pytest.mark.parametrize(
    ("headers", "shown"),
    [
        ({"x-api-key": "sk-test-wrong-abcd"}, "****abcd is invalid"),
        ({"authorization": "Bearer sk-test-wrong-wxyz"}, "****wxyz is invalid"),
        ({"authorization": f"Basic {DEFAULT_KEY}"}, "**** is invalid"),
        ({"x-api-key": ""}, "**** is invalid"),
        ({"authorization": "Bearer"}, "**** is invalid"),  # what a failing apiKeyHelper makes Claude Code send
        ({}, "**** is invalid"),
    ],
    ids=["wrong-x-api-key", "wrong-bearer", "not-bearer", "empty-x-api-key", "empty-bearer", "missing"],
)
def test_bad_key_gets_deepseek_401(fake_deepseek: FakeDeepSeek, headers: dict[str, str], shown: str) -> None:
    error = assert_openai_error(post(fake_deepseek, message_body(), headers=headers), 401, "authentication_error")

    assert error["message"] == f"Authentication Fails, Your api key: {shown}"
    assert error["code"] == "invalid_request_error"


def test_keys_can_be_rotated_at_runtime(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.keys = {"sk-test-rotated-0002"}

    assert post(fake_deepseek, message_body()).status_code == 401
    assert post(fake_deepseek, message_body(), headers={"x-api-key": "sk-test-rotated-0002"}).status_code == 200


# -- failures, latency, stalls ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (402, "Insufficient Balance"),
        (403, "Forbidden"),
        (429, "Rate Limit Reached"),
        (500, "Server Error"),
        (503, "Server Overloaded"),
    ],
)
def test_fail_with_returns_openai_shaped_errors(fake_deepseek: FakeDeepSeek, status: int, message: str) -> None:
    fake_deepseek.fail_with = status

    response = post(fake_deepseek, message_body())

    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] == message
    assert fake_deepseek.requests[0].status == status
    # A broken chat must not hide the account state: the balance endpoint keeps answering.
    assert httpx.get(f"{fake_deepseek.root_url}/user/balance", headers=AUTH).status_code == 200


def test_auth_is_checked_before_fail_with(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.fail_with = 402

    assert post(fake_deepseek, message_body(), headers={}).status_code == 401


@pytest.mark.parametrize("stream", [False, True])
def test_latency_delays_the_reply(fake_deepseek: FakeDeepSeek, stream: bool) -> None:
    fake_deepseek.latency = 0.3

    started = time.monotonic()
    response = post(fake_deepseek, message_body(stream=stream))

    # A lower bound is the behaviour under test (the fake sleeps that long before answering); a slow machine
    # only makes it truer, so this cannot flake the way an upper bound would.
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200


def test_stall_sends_only_keepalives_until_the_client_gives_up(fake_deepseek: FakeDeepSeek) -> None:
    """A per-read timeout never fires (keep-alives keep coming): only an overall deadline ends the wait."""
    fake_deepseek.stall = True
    received = b""

    # The per-read timeout is far longer than the keep-alive interval: only the client's own decision (here:
    # three keep-alives seen) ends the wait.
    with httpx.Client(timeout=httpx.Timeout(2.0)) as client:
        body = json.dumps(message_body(stream=True)).encode()
        with client.stream("POST", f"{fake_deepseek.base_url}/v1/messages", content=body, headers=AUTH) as response:
            for chunk in response.iter_raw():
                received += chunk
                if received.count(b": keep-alive\n\n") >= 3:
                    break
            status, content_type = response.status_code, response.headers["content-type"]

    returns_within(10, "stop() with a stalled request", fake_deepseek.stop)
    assert status == 200
    assert content_type.startswith("text/event-stream")
    assert received.count(b": keep-alive\n\n") >= 3
    assert received.replace(b": keep-alive\n\n", b"") == b""
    assert fake_deepseek.requests[0].status == 200


def test_stop_cuts_a_stalled_request_whose_client_still_waits(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.stall = True
    payload = json.dumps(message_body(stream=False)).encode()
    request = (
        b"POST /anthropic/v1/messages HTTP/1.1\r\nHost: fake\r\nx-api-key: %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    ) % (DEFAULT_KEY.encode(), len(payload), payload)

    with socket.create_connection(("127.0.0.1", fake_deepseek.port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b"1\r\n\n\r\n") < 2:  # two chunked blank lines: DeepSeek's non-streaming keep-alive
            data = sock.recv(4096)
            assert data, f"connection closed early: {received!r}"
            received += data
        returns_within(10, "stop() with a client still waiting on a stalled request", fake_deepseek.stop)
        while sock.recv(4096):  # the client sees the connection end (the socket's 5 s timeout bounds the wait)
            pass

    assert received.startswith(b"HTTP/1.1 200")


def test_stop_does_not_wait_for_idle_keepalive_clients(fake_deepseek: FakeDeepSeek) -> None:
    with httpx.Client(timeout=5) as client:
        assert (
            client.post(f"{fake_deepseek.base_url}/v1/messages", json=message_body(), headers=AUTH).status_code == 200
        )
        returns_within(10, "stop() with an idle keep-alive client", fake_deepseek.stop)


def test_openai_format_simulates_a_wrong_endpoint(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.openai_format = True

    body = post(fake_deepseek, message_body(stream=True)).json()

    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == DEFAULT_REPLY
    assert "content" not in body


# -- root endpoints, routing, validation -----------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "/anthropic"])
def test_models_and_balance(fake_deepseek: FakeDeepSeek, prefix: str) -> None:
    headers = {"authorization": f"Bearer {DEFAULT_KEY}"}

    models = httpx.get(f"{fake_deepseek.root_url}{prefix}/models", headers=headers)
    balance = httpx.get(f"{fake_deepseek.root_url}{prefix}/user/balance", headers=headers)

    assert models.status_code == 200
    assert models.json()["object"] == "list"
    assert {m["id"] for m in models.json()["data"]} == {PRO_MODEL, FLASH_MODEL}
    assert all(m["object"] == "model" and m["owned_by"] == "deepseek" for m in models.json()["data"])
    assert balance.status_code == 200
    assert balance.json()["is_available"] is True
    assert balance.json()["balance_infos"][0]["total_balance"] == "110.00"


def test_models_and_balance_check_the_key(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.balance = {"is_available": False, "balance_infos": []}

    unauthorized = httpx.get(f"{fake_deepseek.root_url}/models", headers={"authorization": "Bearer sk-test-nope"})
    balance = httpx.get(f"{fake_deepseek.root_url}/user/balance", headers=AUTH)

    assert_openai_error(unauthorized, 401, "authentication_error")
    assert balance.json() == {"is_available": False, "balance_infos": []}


@pytest.mark.parametrize("path", ["/v1/messages", "/anthropic/v1/messages?beta=true", "/any/prefix/v1/messages/"])
def test_messages_served_under_any_prefix(fake_deepseek: FakeDeepSeek, path: str) -> None:
    assert post(fake_deepseek, message_body(), path=path).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/anthropic/v1/complete", 404),
        ("POST", "/anthropic/v1/messages/count_tokens", 404),
        ("GET", "/api/hello", 404),
        ("HEAD", "/anthropic/api/hello", 404),
        ("GET", "/anthropic/v1/messages", 405),
        ("POST", "/models", 405),
        ("DELETE", "/user/balance", 405),
    ],
)
def test_wrong_path_or_method(fake_deepseek: FakeDeepSeek, method: str, path: str, status: int) -> None:
    response = httpx.request(method, fake_deepseek.root_url + path, headers=AUTH, json=message_body())

    assert response.status_code == status
    if method != "HEAD":
        assert response.json()["error"]["code"] in {"not_found", "method_not_allowed"}
    assert fake_deepseek.requests[0].status == status


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "Request body must be a JSON object"),
        (b"[]", "Request body must be a JSON object"),
        (json.dumps({"max_tokens": 5, "messages": []}).encode(), "model: field required"),
        (json.dumps({"model": "claude-opus-4-5", "max_tokens": "5", "messages": []}).encode(),
         "max_tokens: must be an integer"),
        (json.dumps({"model": "claude-opus-4-5", "max_tokens": True, "messages": []}).encode(),
         "max_tokens: must be an integer"),
        (json.dumps({"model": "claude-opus-4-5", "max_tokens": 5, "messages": "hi"}).encode(), "messages: must be a list"),
    ],
    ids=["not-json", "not-object", "no-model", "max-tokens-str", "max-tokens-bool", "messages-str"],
)
def test_invalid_body_is_400_naming_the_problem(fake_deepseek: FakeDeepSeek, body: bytes, problem: str) -> None:
    error = assert_openai_error(post(fake_deepseek, body), 400, "invalid_request_error")
    assert error["message"] == problem
    assert error["code"] == "invalid_request_error"
    assert fake_deepseek.requests[-1].status == 400


# -- request log -----------------------------------------------------------------------------


def test_request_log_records_what_was_sent_and_answered(fake_deepseek: FakeDeepSeek) -> None:
    body = message_body(model="claude-haiku-4-5")
    post(fake_deepseek, body, headers={**AUTH, "X-Custom": "Yes"}, path="/anthropic/v1/messages?beta=true")
    httpx.get(f"{fake_deepseek.root_url}/models", headers=AUTH)

    first, second = fake_deepseek.requests
    assert (first.method, first.path, first.query, first.params) == (
        "POST",
        "/anthropic/v1/messages",
        "beta=true",
        {"beta": "true"},
    )
    assert first.headers["x-custom"] == "Yes"
    assert first.headers["x-api-key"] == DEFAULT_KEY
    assert first.body == body
    assert first.key == DEFAULT_KEY
    assert (first.model_requested, first.model_answered, first.status) == ("claude-haiku-4-5", FLASH_MODEL, 200)
    assert (second.method, second.path, second.body, second.status) == ("GET", "/models", None, 200)
    assert fake_deepseek.request_count == 2
    assert fake_deepseek.message_requests == [first]


def test_reset_clears_the_log_and_restores_behaviour(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.keys = {"sk-test-other-0003"}
    fake_deepseek.reply_text = "changed"
    fake_deepseek.fail_with = 500
    fake_deepseek.unknown_model = "flash"
    fake_deepseek.balance["is_available"] = False
    post(fake_deepseek, message_body())

    fake_deepseek.reset()

    assert fake_deepseek.requests == []
    response = post(fake_deepseek, message_body())
    assert response.status_code == 200
    assert response.json()["content"][0]["text"] == DEFAULT_REPLY
    assert post(fake_deepseek, message_body(model="nope")).status_code == 400
    assert httpx.get(f"{fake_deepseek.root_url}/user/balance", headers=AUTH).json()["is_available"] is True
    assert fake_deepseek.request_count == 3


def test_two_fakes_are_independent(fake_deepseek: FakeDeepSeek, fake_deepseek_2: FakeDeepSeek) -> None:
    fake_deepseek_2.reply_text = "second server"

    assert fake_deepseek.base_url != fake_deepseek_2.base_url
    assert post(fake_deepseek_2, message_body()).json()["content"][0]["text"] == "second server"
    assert fake_deepseek.requests == []


# -- the official anthropic SDK --------------------------------------------------------------


# The SDK warns that Claude model names are deprecated; the names only matter to the fake's mapping.
@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
def test_anthropic_sdk_create_and_stream(fake_deepseek: FakeDeepSeek) -> None:
    client = anthropic.Anthropic(base_url=fake_deepseek.base_url, api_key=DEFAULT_KEY, max_retries=0, timeout=10)
    messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": "Hi"}]

    created = client.messages.create(model="claude-opus-4-5", max_tokens=64, messages=messages)
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=messages) as stream:
        streamed_text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert created.content[0].type == "text"
    assert created.content[0].text == DEFAULT_REPLY
    assert created.model == PRO_MODEL
    assert streamed_text == DEFAULT_REPLY
    assert final.model == FLASH_MODEL
    assert final.stop_reason == "end_turn"
    assert [r.key for r in fake_deepseek.message_requests] == [DEFAULT_KEY, DEFAULT_KEY]


def test_anthropic_sdk_bearer_token_and_streamed_tool_use(
    fake_deepseek: FakeDeepSeek, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    client = anthropic.Anthropic(base_url=fake_deepseek.base_url, auth_token=DEFAULT_KEY, max_retries=0, timeout=10)

    with client.messages.stream(
        model="deepseek-v4-pro",
        max_tokens=64,
        messages=[{"role": "user", "content": "Hi"}],
        tools=WEATHER_TOOLS,  # type: ignore[arg-type]
        tool_choice={"type": "any"},
    ) as stream:
        final = stream.get_final_message()

    assert final.stop_reason == "tool_use"
    block = final.content[0]
    assert block.type == "tool_use"
    assert block.name == "get_weather"
    assert set(block.input) == {"city", "days"}
    assert fake_deepseek.message_requests[0].headers["authorization"] == f"Bearer {DEFAULT_KEY}"


@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
def test_anthropic_sdk_raises_typed_errors(fake_deepseek: FakeDeepSeek) -> None:
    def create(key: str, model: str = "claude-opus-4-5") -> None:
        client = anthropic.Anthropic(base_url=fake_deepseek.base_url, api_key=key, max_retries=0, timeout=10)
        client.messages.create(model=model, max_tokens=8, messages=[{"role": "user", "content": "Hi"}])

    with pytest.raises(anthropic.AuthenticationError) as auth_error:
        create("sk-test-wrong-abcd")
    with pytest.raises(anthropic.BadRequestError):
        create(DEFAULT_KEY, model="gpt-4o")
    fake_deepseek.fail_with = 402
    with pytest.raises(anthropic.APIStatusError) as balance_error:
        create(DEFAULT_KEY)

    assert auth_error.value.status_code == 401
    assert "****abcd" in str(auth_error.value)
    assert balance_error.value.status_code == 402
    assert "Insufficient Balance" in str(balance_error.value)


# -- the real Claude Code CLI ----------------------------------------------------------------


@pytest.fixture
def claude_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh HOME and working directory for one claude run."""
    home, cwd = tmp_path / "claude-home", tmp_path / "claude-project"
    home.mkdir()
    cwd.mkdir()
    return home, cwd


def user_settings(fake: FakeDeepSeek, key: str = DEFAULT_KEY, **env: str) -> dict[str, Any]:
    return {
        "env": {
            "ANTHROPIC_BASE_URL": fake.base_url,
            "ANTHROPIC_AUTH_TOKEN": key,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            **env,
        }
    }


@pytest.mark.claude
def test_claude_binary_is_the_pinned_version(claude_bin: Path) -> None:
    assert installed_version(claude_bin) == f"{CLAUDE_CODE_VERSION} (Claude Code)"


def test_ensure_claude_fails_loudly_without_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-bin"))

    with pytest.raises(RuntimeError, match="npm is not on PATH"):
        ensure_claude(tmp_path / "prefix")


def test_claude_env_is_isolated_from_the_developer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-leak")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", "/somewhere")

    env = claude_env(tmp_path, {"ANTHROPIC_MODEL": "claude-opus-4-5"})

    assert "ANTHROPIC_API_KEY" not in env
    assert "CLAUDE_CONFIG_DIR" not in env
    assert env["ANTHROPIC_MODEL"] == "claude-opus-4-5"
    assert env["HOME"] == str(tmp_path)
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    assert "127.0.0.1" in env["NO_PROXY"]


@pytest.mark.claude
def test_real_claude_answers_through_the_fake(
    claude_bin: Path, fake_deepseek: FakeDeepSeek, claude_dirs: tuple[Path, Path]
) -> None:
    home, cwd = claude_dirs
    fake_deepseek.reply_text = "pong from the fake"
    write_user_settings(home, user_settings(fake_deepseek))

    proc = run_claude(claude_bin, "say hi", home=home, cwd=cwd)

    assert proc.returncode == 0, proc.stderr
    result = parse_result(proc)
    assert (result.result, result.is_error) == ("pong from the fake", False)
    requests = fake_deepseek.message_requests
    assert requests
    for request in requests:
        assert request.path == "/anthropic/v1/messages"
        assert request.params == {"beta": "true"}
        assert request.key == DEFAULT_KEY
        assert request.headers["authorization"] == f"Bearer {DEFAULT_KEY}"
        assert request.status == 200


@pytest.mark.claude
def test_real_claude_fails_with_a_wrong_key(
    claude_bin: Path, fake_deepseek: FakeDeepSeek, claude_dirs: tuple[Path, Path]
) -> None:
    home, cwd = claude_dirs
    write_user_settings(home, user_settings(fake_deepseek, key="sk-test-wrong-abcd"))

    proc = run_claude(claude_bin, "say hi", home=home, cwd=cwd)

    assert proc.returncode != 0
    assert parse_result(proc).is_error
    assert [(r.key, r.status) for r in fake_deepseek.message_requests] == [("sk-test-wrong-abcd", 401)]


@pytest.mark.claude
def test_real_claude_empty_key_from_a_failing_helper_is_refused(
    claude_bin: Path, fake_deepseek: FakeDeepSeek, claude_dirs: tuple[Path, Path]
) -> None:
    """A failing apiKeyHelper still sends the request, with an empty key: the fake must say 401."""
    home, cwd = claude_dirs
    settings = user_settings(fake_deepseek)
    del settings["env"]["ANTHROPIC_AUTH_TOKEN"]
    write_user_settings(home, {**settings, "apiKeyHelper": "exit 3"})

    proc = run_claude(claude_bin, "say hi", home=home, cwd=cwd)

    assert proc.returncode != 0
    assert "apiKeyHelper" in proc.stderr
    requests = fake_deepseek.message_requests
    assert requests
    assert {(r.key, r.status) for r in requests} == {("", 401)}


@pytest.mark.claude
@pytest.mark.parametrize(
    ("configured", "sent", "answered"),
    [
        ("claude-opus-4-5", "claude-opus-4-5", PRO_MODEL),
        ("claude-sonnet-4-5", "claude-sonnet-4-5", FLASH_MODEL),
        ("deepseek-v4-pro[1m]", "deepseek-v4-pro", PRO_MODEL),  # Claude Code strips the [1m] suffix
    ],
)
def test_real_claude_model_is_mapped(
    claude_bin: Path,
    fake_deepseek: FakeDeepSeek,
    claude_dirs: tuple[Path, Path],
    configured: str,
    sent: str,
    answered: str,
) -> None:
    home, cwd = claude_dirs
    write_user_settings(home, user_settings(fake_deepseek, ANTHROPIC_MODEL=configured))

    proc = run_claude(claude_bin, "say hi", home=home, cwd=cwd)

    assert proc.returncode == 0, proc.stderr
    assert {(r.model_requested, r.model_answered) for r in fake_deepseek.message_requests} == {(sent, answered)}


@pytest.mark.claude
def test_run_claude_timeout_kills_a_run_stuck_on_a_stalled_server(
    claude_bin: Path, fake_deepseek: FakeDeepSeek, claude_dirs: tuple[Path, Path]
) -> None:
    home, cwd = claude_dirs
    fake_deepseek.stall = True
    write_user_settings(home, user_settings(fake_deepseek))

    # The kill must not leave run_claude waiting on pipes a grandchild holds: bounded, it fails naming the hang.
    with pytest.raises(subprocess.TimeoutExpired):
        returns_within(30, "run_claude after its 2 s timeout",
                       lambda: run_claude(claude_bin, "say hi", home=home, cwd=cwd, timeout=2))

    assert fake_deepseek.message_requests[0].status == 200
