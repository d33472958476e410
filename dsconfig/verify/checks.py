"""The HTTP test calls: one streamed POST /v1/messages per check (model, streaming, tool use), GET of the model
list and the balance, and what a transport exception means. The only module of dsconfig that imports httpx.

Requests look like Claude Code's (target.py builds the headers). Proxies: httpx with `trust_env=True`, so
HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY apply as for any program; SSL_CERT_FILE too. Every body is
read through sse.py's caps.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from dsconfig import urls
from dsconfig.drift import model_drift
from dsconfig.verify.diagnosis import (
    describe_foreign,
    no_proxy_setting,
    not_anthropic,
    provider_message,
    proxy_for,
    proxy_variable,
    short,
    stall_failure,
    status_failure,
    timeout_failure,
    too_large,
)
from dsconfig.verify.report import Amount, Balance, Failure, MessageCheck, ModelList
from dsconfig.verify.sse import Event, Progress, TooLarge, read_events, read_limited, stream_problem
from dsconfig.verify.target import Target

_R = TypeVar("_R", ModelList, Balance)

DEFAULT_TIMEOUT = 30.0
"""Seconds each check may take. Claude Code itself waits much longer (API_TIMEOUT_MS), but a check that
takes half a minute to say anything already tells the user what they need to know."""

TOOL_NAME = "dsconfig_echo"


def client(timeout: float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """The HTTP client every check shares: environment proxies and CA settings honoured, no redirects followed."""
    return httpx.AsyncClient(trust_env=True, timeout=timeout, follow_redirects=False,
                             limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))


# --- what a transport exception means ------------------------------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen



def _transport_failure(target: Target, exc: BaseException, url: str, timeout: float, what: str) -> Failure:
    """Classify an exception raised before or while talking to the server."""
    chain = _chain(exc)
    detail = target.scrub(short("; ".join(dict.fromkeys(f"{type(e).__name__}: {e}" for e in chain if str(e)))))
    name = target.name
    parts = urlsplit(url)
    host = parts.hostname or url
    port = urls.host_port(url).rsplit(":", 1)[-1]
    via = proxy_for(url)
    edit = f"dsconfig profile edit {name} --base-url URL"
    sslerr = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if sslerr is not None:
        reason = getattr(sslerr, "reason", None) or type(sslerr).__name__
        if isinstance(sslerr, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(reason).upper():
            verify_msg = getattr(sslerr, "verify_message", None) or reason
            return Failure(
                "tls",
                f"the TLS certificate of {host} is not trusted ({verify_msg})",
                "if a company proxy or gateway inspects TLS, point SSL_CERT_FILE at its CA bundle; otherwise the "
                f"host is not who it claims to be: check the base URL (dsconfig profile show {name})",
                None, detail,
            )
        if "WRONG_VERSION_NUMBER" in str(reason).upper() or "RECORD_LAYER" in str(reason).upper() or "HTTP_REQUEST" in str(reason).upper():
            plain = f"http://{parts.netloc}{parts.path.rsplit('/v1/messages', 1)[0]}"
            return Failure(
                "tls",
                f"{host}:{port} does not speak TLS ({reason}): it looks like a plain-HTTP server addressed with https://",
                f"if it is a local plain-HTTP gateway: dsconfig profile edit {name} --base-url {plain}",
                None, detail,
            )
        return Failure("tls", f"the TLS handshake with {host}:{port} failed ({reason})",
                       f"check the base URL's host and port, and any TLS-inspecting proxy: dsconfig profile show {name}", None, detail)
    if isinstance(exc, httpx.ProxyError) or (via is not None and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))):
        variable, proxy = via or (proxy_variable(parts.scheme), "the configured proxy")
        why = "refused or failed the connection" if not isinstance(exc, httpx.ProxyError) else f"answered {short(str(exc), 80)}"
        return Failure(
            "proxy",
            f"the proxy {proxy} ({variable}) {why}",
            f"fix or unset {variable} (now {proxy}), or exempt this host: {no_proxy_setting(host)}",
            None, detail,
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or re.search(r"Name or service not known|nodename nor servname|getaddrinfo failed|No address associated", detail):
        return Failure(
            "dns",
            f"the host {host} could not be resolved (DNS)",
            f"check the spelling of the base URL ({target.base_url}) and your network or DNS; fix it with: {edit}",
            None, detail,
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in detail or "Connect call failed" in detail:
        return Failure(
            "refused",
            f"nothing accepts connections on {host}:{port} (connection refused)",
            f"start the server, or correct the host/port in the base URL: {edit}",
            None, detail,
        )
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError, TimeoutError)):
        return timeout_failure(target, timeout, what)
    if isinstance(exc, httpx.RemoteProtocolError):
        return Failure(
            "error",
            f"{host}:{port} closed the connection without a valid HTTP answer ({short(str(exc), 100)})",
            f"check the scheme and port of the base URL (https:// for a TLS server): dsconfig profile show {name}",
            None, detail,
        )
    if isinstance(exc, (httpx.ConnectError, httpx.NetworkError)):
        return Failure("error", f"the connection to {host}:{port} failed ({short(str(exc) or type(exc).__name__, 100)})",
                       f"check your network and the base URL: dsconfig profile show {name}", None, detail)
    return Failure("error", f"{what} failed unexpectedly ({type(exc).__name__}: {short(target.scrub(str(exc)), 120)})",
                   f"run again; if it persists, report it with `dsconfig verify {name} --json`", None, detail)



# --- one streamed request ---------------------------------------------------------------------------------


@dataclass
class _Reply:
    status: int
    content_type: str
    body: bytes = b""
    retry_after: str | None = None
    via: str | None = None  # the Via header: a proxy or gateway handled the answer
    sse: bool = False
    foreign_sse: str | None = None


async def _stream(client: httpx.AsyncClient, target: Target, body: dict[str, Any], progress: Progress, start: float, timeout: float) -> _Reply:
    async with client.stream("POST", target.messages_url, headers=target.message_headers(), json=body, timeout=timeout) as resp:
        progress.status = resp.status_code
        content_type = resp.headers.get("content-type", "")
        reply = _Reply(resp.status_code, content_type, retry_after=resp.headers.get("retry-after"), via=resp.headers.get("via"))
        if resp.status_code != 200 or "text/event-stream" not in content_type:
            reply.body = await read_limited(resp)
            return reply
        reply.sse = True
        reply.foreign_sse = await read_events(resp, progress, start)
        return reply


def _request_body(check: str, model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 16,
        "stream": True,
        "system": "You are a connectivity check. Answer as briefly as possible.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Reply with OK"}]}],
    }
    if check == "streaming":
        body["max_tokens"] = 48
        body["messages"][0]["content"][0]["text"] = "Count from 1 to 10, digits separated by spaces."
    elif check == "tool_use":
        body["max_tokens"] = 128
        body["messages"][0]["content"][0]["text"] = f'Call the {TOOL_NAME} tool with word "ok".'
        body["tools"] = [{
            "name": TOOL_NAME,
            "description": "Echo one word back. Call it whenever you are asked to.",
            "input_schema": {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"]},
        }]
        body["tool_choice"] = {"type": "any"}
    return body


async def message_check(client: httpx.AsyncClient, target: Target, check: str, model: str, tiers: tuple[str, ...], timeout: float) -> MessageCheck:
    base = MessageCheck(check=check, model=model, tiers=tiers)
    what = {"model": f"the {model} check", "streaming": "the streaming check", "tool_use": "the tool-use check"}[check]
    progress = Progress()
    start = time.perf_counter()
    try:
        reply = await asyncio.wait_for(_stream(client, target, _request_body(check, model), progress, start, timeout), timeout)
    except TooLarge as big:
        return replace(base, status=big.status, total=time.perf_counter() - start, events=len(progress.events),
                       failure=too_large(target, big))
    except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
        elapsed = time.perf_counter() - start
        if any(e.name == "message_stop" for e in progress.events):
            # The whole message arrived; only the end of the body did not. Judge what arrived.
            return _analyze(replace(base, status=200, total=elapsed, ttft=progress.ttft, events=len(progress.events)),
                            target, progress.events)
        if progress.status is not None and not progress.events:
            failure = stall_failure(target, timeout, progress.status, progress.keepalives)
        elif progress.status is not None:
            failure = Failure("timeout", f"the reply started but did not finish within {timeout:g} s ({len(progress.events)} events)",
                              f"allow more time: dsconfig verify {target.name} --timeout {max(60, int(timeout * 2))}", progress.status)
        else:
            failure = _transport_failure(target, exc, target.messages_url, timeout, what)
        return replace(base, status=progress.status, total=elapsed, events=len(progress.events), failure=failure)
    except httpx.HTTPError as exc:
        elapsed = time.perf_counter() - start
        if progress.status == 200 and progress.events:
            failure = Failure("bad_stream", f"the stream broke off after {len(progress.events)} events ({short(str(exc), 100)})",
                              f"retry (`dsconfig verify {target.name}`); if it persists, a proxy or gateway is cutting streams", 200,
                              target.scrub(short(str(exc))))
        else:
            failure = _transport_failure(target, exc, target.messages_url, timeout, what)
        return replace(base, status=progress.status, total=elapsed, failure=failure)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' results
        return replace(base, total=time.perf_counter() - start, failure=_transport_failure(target, exc, target.messages_url, timeout, what))
    elapsed = time.perf_counter() - start
    base = replace(base, status=reply.status, total=elapsed, ttft=progress.ttft, events=len(progress.events))
    if reply.status != 200:
        failure = status_failure(target, reply.status, provider_message(reply.body), model=model, what=what, retry_after=reply.retry_after,
                                  via=reply.via)
        return replace(base, failure=failure)
    if not reply.sse:
        return replace(base, failure=not_anthropic(target, describe_foreign(reply.body, reply.content_type), reply.status))
    if reply.foreign_sse is not None:
        return replace(base, failure=not_anthropic(target, f"an event stream of non-Anthropic data ({short(reply.foreign_sse, 60)})", reply.status))
    return _analyze(base, target, progress.events)


def _analyze(check: MessageCheck, target: Target, events: list[Event]) -> MessageCheck:
    """Turn a complete 200 event stream into the check's verdict."""
    answered_by = input_tokens = output_tokens = None
    text_parts: list[str] = []
    tool_name: str | None = None
    tool_json: list[str] = []
    for event in events:
        data = event.data
        if event.name == "message_start" and isinstance(data.get("message"), dict):
            message = data["message"]
            answered_by = message.get("model") if isinstance(message.get("model"), str) else None
            usage = message.get("usage") if isinstance(message.get("usage"), dict) else {}
            input_tokens = usage.get("input_tokens") if isinstance(usage.get("input_tokens"), int) else None
        elif event.name == "message_delta" and isinstance(data.get("usage"), dict):
            out = data["usage"].get("output_tokens")
            output_tokens = out if isinstance(out, int) else output_tokens
        elif event.name == "content_block_start" and isinstance(data.get("content_block"), dict):
            block = data["content_block"]
            if block.get("type") == "tool_use" and tool_name is None:
                tool_name = str(block.get("name"))
        elif event.name == "content_block_delta" and isinstance(data.get("delta"), dict):
            delta = data["delta"]
            if delta.get("type") == "text_delta":
                text_parts.append(str(delta.get("text", "")))
            elif delta.get("type") == "input_json_delta":
                tool_json.append(str(delta.get("partial_json", "")))
        elif event.name == "error":
            error: dict[str, Any] = data["error"] if isinstance(data.get("error"), dict) else {}
            kind = str(error.get("type", ""))
            message = target.scrub(short(str(error.get("message", kind))))
            status = {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "authentication_error": 401,
                      "permission_error": 403, "not_found_error": 404, "invalid_request_error": 400}.get(kind)
            failure = status_failure(target, status, message, model=check.model, what=check.label) if status else Failure(
                "server", f"the provider sent an error event mid-stream ({message})", f"retry later: dsconfig verify {target.name}", None, message)
            return replace(check, answered_by=answered_by, failure=replace(failure, message=failure.message + " (as an error event in the stream)"))
    check = replace(check, answered_by=answered_by, input_tokens=input_tokens, output_tokens=output_tokens, tool=tool_name)
    if check.check == "streaming":
        problem = stream_problem(events)
    else:
        names = {e.name for e in events}
        problem = None if {"message_start", "message_stop"} <= names else stream_problem(events)
    if problem is not None:
        return replace(check, failure=Failure(
            "bad_stream", f"the event stream is not valid Anthropic SSE: {problem}",
            "Claude Code cannot read this stream: if a proxy or gateway sits in between, bypass it (NO_PROXY) or fix its "
            f"streaming; otherwise the endpoint is not Anthropic-compatible: dsconfig profile show {target.name}",
            200,
        ))
    if check.check == "tool_use":
        if tool_name is None:
            return replace(check, failure=Failure(
                "no_tool_use",
                f"{check.model} answered with text instead of calling the offered tool (tool_choice any)",
                "Claude Code needs tool use for almost everything: use a model or endpoint that supports it: "
                f"dsconfig profile edit {target.name} --model main=MODEL",
                200,
            ))
        raw = "".join(tool_json).strip()
        try:
            json.loads(raw or "{}")
        except (ValueError, RecursionError):
            return replace(check, failure=Failure(
                "bad_stream", f"the tool call's input is not valid JSON ({short(raw, 60)})",
                f"the endpoint mangles tool calls; Claude Code will fail on them: dsconfig profile show {target.name}", 200))
        return replace(check, detail=f"called {tool_name}")
    if check.check == "streaming":
        deltas = sum(1 for e in events if e.name == "content_block_delta")
        return replace(check, detail=f"{len(events)} events in order, {deltas} deltas")
    return replace(check, detail="answered")


# --- model list and balance -------------------------------------------------------------------------------


async def _get_json(client: httpx.AsyncClient, target: Target, url: str, timeout: float) -> tuple[int, Any, bytes, httpx.Headers]:
    async def get() -> tuple[int, Any, bytes, httpx.Headers]:
        async with client.stream("GET", url, headers=target.list_headers(), timeout=timeout) as resp:
            body = await read_limited(resp)
            status, headers = resp.status_code, resp.headers
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        return status, data, body, headers

    return await asyncio.wait_for(get(), timeout)


async def _get_checked(client: httpx.AsyncClient, target: Target, base: _R, path: str,
                       timeout: float) -> tuple[_R, Any, bytes]:
    """GET `base.url`: (`base` with its status and time, the JSON data, the body). When the request failed or
    the status is not 200, `base` carries the failure (and the data is None)."""
    start = time.perf_counter()
    what = f"GET {path}"
    try:
        status, data, body, headers = await _get_json(client, target, base.url, timeout)
    except TooLarge as big:
        return replace(base, status=big.status, total=time.perf_counter() - start, failure=too_large(target, big)), None, b""
    except Exception as exc:  # noqa: BLE001
        failure = _transport_failure(target, exc, base.url, timeout, what)
        return replace(base, total=time.perf_counter() - start, failure=failure), None, b""
    base = replace(base, status=status, total=time.perf_counter() - start)
    if status != 200:
        failure = status_failure(target, status, provider_message(body), model=None, what=what,
                                 retry_after=headers.get("retry-after"), via=headers.get("via"), messages_endpoint=False)
        return replace(base, failure=failure), None, body
    return base, data, body


async def model_list(client: httpx.AsyncClient, target: Target, path: str, timeout: float) -> ModelList:
    base, data, body = await _get_checked(client, target, ModelList(url=target.root_url + path), path, timeout)
    if base.failure is not None:
        return base
    what = f"GET {path}"
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return replace(base, failure=Failure("error", f"{what} answered without a model list (no \"data\" array)",
                                             "the endpoint is not the provider's model list; check the base URL's host: "
                                             f"dsconfig profile show {target.name}", base.status, target.scrub(short(body.decode('utf-8', 'replace'))) or None))
    models = tuple(str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e)
    missing = tuple(m for m, _ in target.models_to_check() if m not in models)
    shown = ", ".join(models[:6]) + (f" and {len(models) - 6} more" if len(models) > 6 else "")
    detail = f"{len(models)} models ({shown})" + (f"; not listed: {', '.join(missing)}" if missing else "; every configured model listed")
    return _with_drift(target, replace(base, models=models, missing=missing, detail=detail))


def _with_drift(target: Target, result: ModelList) -> ModelList:
    """Name each profile model the list does not confirm, with the edit that fixes it (drift.py)."""
    found = tuple(model_drift(target.resolved, result.models or ()))
    notes = [d.message + (f" (fix: {d.fix})" if d.fix else "") for d in found]
    detail = result.detail + "".join(f"; {n}" for n in notes)
    return replace(result, drift=found, detail=detail)


async def balance(client: httpx.AsyncClient, target: Target, path: str, timeout: float) -> Balance:
    base, data, _body = await _get_checked(client, target, Balance(url=target.root_url + path), path, timeout)
    if base.failure is not None:
        return base
    if not isinstance(data, dict) or "is_available" not in data:
        return replace(base, detail="answered, in a format dsconfig does not read (not DeepSeek's)")
    available = bool(data.get("is_available"))
    infos: list[Any] = data["balance_infos"] if isinstance(data.get("balance_infos"), list) else []
    amounts = tuple(Amount(str(i.get("currency", "?")), str(i.get("total_balance", "?"))) for i in infos if isinstance(i, dict))
    shown = ", ".join(f"{a.total} {a.currency}" for a in amounts) or "no amount given"
    base = replace(base, available=available, balances=amounts, detail=f"{shown} available" if available else f"{shown}, not available")
    if not available:
        return replace(base, failure=Failure(
            "credit", f"the account's balance is not available for use ({shown}; is_available: false)",
            f"top up the account that owns key {target.masked_key}{target.key_page()}, then run `dsconfig verify {target.name}` again",
            base.status,
        ))
    return base


