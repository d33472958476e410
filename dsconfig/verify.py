"""`dsconfig verify`: make the calls Claude Code would make, concurrently, and name every failure with its fix.

What is checked, per profile, all at once (asyncio + one shared httpx.AsyncClient; `--all` runs every profile
at once too):

- one small streamed `POST {base_url}/v1/messages?beta=true` per distinct model of the profile (tiers main,
  opus, sonnet, haiku, subagent; a model shared by several tiers once; the `[1m]` suffix stripped as Claude Code
  strips it). A template without models (anthropic) is checked with DEFAULT_MODEL, the Sonnet alias Claude
  Code itself uses when no model variable is set.
- the streaming check: a longer streamed answer from the main model whose server-sent events must come in the
  order the Anthropic API defines (message_start, content blocks start/delta/stop, message_delta,
  message_stop; `ping` anywhere).
- the tool-use check: the main model offered one tool with `tool_choice: {"type": "any"}` must answer with a
  `tool_use` block whose input is valid JSON.
- when the template has `models_path` / `balance_path`: `GET` them on the profile base URL's scheme and host
  (never the template's host), so a profile pointed at another host never queries DeepSeek's real one.
- with `--via-claude`: the installed `claude -p "Reply with OK" --output-format json`, run with the profile as
  `dsconfig exec NAME -- claude` would, `CLAUDE_CODE_MAX_RETRIES=0`, killed at the timeout.

Requests look like Claude Code's: `anthropic-version: 2023-06-01`, JSON body with `stream: true`, the key as
`x-api-key` and/or `Authorization: Bearer` per the template's `auth` ("both" sends both). The model list and
balance use Bearer (x-api-key for an x-api-key template). Proxies: httpx with `trust_env=True`, so
HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY apply as for any program; SSL_CERT_FILE too.

Failure classes (`Failure.kind`, JSON "class"), each with a one-line message and a `hint` naming the fix:

    network (exit 7)  dns, refused, tls, proxy, timeout, stall
    key/credit (6)    auth (401), credit (402 or balance not available), no_key (nothing in the keyring)
    other (exit 1)    forbidden (403), not_found (404; the base URL path is diagnosed), unknown_model (400, or
                      Anthropic's 404 naming the model; the provider's list is quoted), bad_request (other 400),
                      rate_limited (429), server (5xx, or an error event in the stream), not_anthropic (a 200
                      that is not the Anthropic format, or a body past 1 MiB / a stream line past 64 KiB:
                      reading stops at the cap),
                      bad_stream (events out of order or cut short),
                      no_tool_use (answered without calling the tool), no_claude (`claude` not installed),
                      error (anything else)

Exit code precedence when several occur (across every checked profile): 6 if any key/credit failure, else 7 if
any network failure, else 1 if any failure, else 0. A key problem comes first because it is certain and only
the user can fix it (`dsconfig key set`), while network trouble is often transient or shared by every check.

JSON document (`VerifyReport.to_doc()`, printed by `dsconfig verify --json`). Times are whole milliseconds;
the key is only ever shown masked; absent values are null. Every key is always present.

    {"ok", "exit_code", "timeout_s", "elapsed_ms", "profiles": [PROFILE, ...]}
    PROFILE  = {"profile", "provider", "base_url", "key", "key_source", "ok", "exit_code", "elapsed_ms",
                "models": [MESSAGE, ...], "streaming": MESSAGE|null, "tool_use": MESSAGE|null,
                "model_list": LIST|null, "balance": BALANCE|null, "claude": CLAUDE|null,
                "failures": [FAILURE, ...], "warnings": [str, ...]}
               # failures: every failed check, in table order; warnings: e.g. plain http to another machine
    MESSAGE  = {"check" ("model"|"streaming"|"tool_use"), "model", "tiers", "answered_by", "status",
                "ttft_ms", "total_ms", "input_tokens", "output_tokens", "events", "tool", "listed", "ok",
                "detail", "failure"}
    LIST     = {"url", "status", "total_ms", "models", "missing", "ok", "detail", "failure"}
    BALANCE  = {"url", "status", "total_ms", "available", "balances": [{"currency", "total"}], "ok", "detail",
                "failure"}
    CLAUDE   = {"command", "exit_code", "total_ms", "answered", "model", "result", "ok", "detail", "failure"}
               # model: the model Claude Code says it used (its modelUsage key, e.g. "deepseek-v4-pro[1m]")
    FAILURE  = {"check", "class", "message", "hint", "status", "detail", "exit_code"}
               # inside a check, "check" names that check ("model deepseek-v4-pro", "balance", ...)

Nothing here prints: verify_render.py renders the report.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import ssl
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from dsconfig import __version__, output, urls
from dsconfig.credentials import SERVICE, mask
from dsconfig.drift import ModelDrift, model_drift, not_offered
from dsconfig.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VERIFY_AUTH,
    EXIT_VERIFY_NETWORK,
    DsconfigError,
    InvalidFileError,
    NotFoundError,
    VerifyAuthError,
    VerifyNetworkError,
)
from dsconfig.profiles import Resolved, strip_context_suffix
from dsconfig.templates import TIERS

if TYPE_CHECKING:
    from dsconfig.actions import Context

DEFAULT_TIMEOUT = 30.0
"""Seconds each check may take. Claude Code itself waits much longer (API_TIMEOUT_MS), but a check that
takes half a minute to say anything already tells the user what they need to know."""

DEFAULT_MODEL = "claude-sonnet-4-5"
"""Checked when a profile sets no model at all (the anthropic template): Claude Code then uses its own default,
Sonnet, and this alias is what the Anthropic API (and any gateway that maps Claude names) answers to."""

ANTHROPIC_VERSION = "2023-06-01"
CLAUDE_PROMPT = "Reply with OK"
TOOL_NAME = "dsconfig_echo"

NETWORK_CLASSES = frozenset({"dns", "refused", "tls", "proxy", "timeout", "stall"})
AUTH_CLASSES = frozenset({"auth", "credit", "no_key"})
OTHER_CLASSES = frozenset({
    "forbidden", "not_found", "unknown_model", "bad_request", "rate_limited", "server", "not_anthropic",
    "bad_stream", "no_tool_use", "no_claude", "error",
})
CLASSES = NETWORK_CLASSES | AUTH_CLASSES | OTHER_CLASSES

_MAX_EVENTS = 5000
_MAX_BODY = 1024 * 1024
"""A JSON body (the model list, the balance, an error) is never read beyond this: a provider that sends more
(or an endless body) is not an Anthropic-compatible endpoint, and reading on would only fill memory."""
_MAX_LINE = 64 * 1024
"""One line of an event stream; Anthropic's events are a few hundred bytes."""
_MAX_STREAM = 4 * 1024 * 1024
"""A whole streamed reply (the checks ask for at most 128 tokens)."""
_DETAIL_LIMIT = 240


def exit_code_for(kinds: Sequence[str] | frozenset[str] | set[str]) -> int:
    """The process status for a set of failure classes (precedence: key/credit > network > other)."""
    found = set(kinds)
    if found & AUTH_CLASSES:
        return EXIT_VERIFY_AUTH
    if found & NETWORK_CLASSES:
        return EXIT_VERIFY_NETWORK
    return EXIT_ERROR if found else EXIT_OK


# --- the result tree --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """Why a check failed: a class (`kind`), a one-line explanation and the exact fix."""

    kind: str
    message: str
    hint: str
    status: int | None = None
    detail: str | None = None
    """The provider's or the library's own words, shortened and with the key masked."""

    @property
    def exit_code(self) -> int:
        return exit_code_for({self.kind})

    def to_doc(self, check: str | None = None) -> dict[str, Any]:
        return {
            "check": check,
            "class": self.kind,
            "message": self.message,
            "hint": self.hint,
            "status": self.status,
            "detail": self.detail,
            "exit_code": self.exit_code,
        }


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


@dataclass(frozen=True)
class MessageCheck:
    """One streamed POST /v1/messages: a model check, the streaming check or the tool-use check."""

    check: str
    model: str
    tiers: tuple[str, ...] = ()
    answered_by: str | None = None
    status: int | None = None
    ttft: float | None = None
    total: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    events: int = 0
    tool: str | None = None
    listed: bool | None = None
    detail: str = ""
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def label(self) -> str:
        return {"model": f"model {self.model}", "streaming": "streaming", "tool_use": "tool use"}[self.check]

    def to_doc(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "model": self.model,
            "tiers": list(self.tiers),
            "answered_by": self.answered_by,
            "status": self.status,
            "ttft_ms": _ms(self.ttft),
            "total_ms": _ms(self.total),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "events": self.events,
            "tool": self.tool,
            "listed": self.listed,
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class ModelList:
    url: str
    status: int | None = None
    total: float | None = None
    models: tuple[str, ...] | None = None
    missing: tuple[str, ...] = ()
    detail: str = ""
    failure: Failure | None = None
    drift: tuple[ModelDrift, ...] = ()
    """Profile models the list does not confirm: not listed, or legacy names (drift.py), each with its fix."""

    label = "model list"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_doc(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "total_ms": _ms(self.total),
            "models": list(self.models) if self.models is not None else None,
            "missing": list(self.missing),
            "drift": [d.to_doc() for d in self.drift],
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class Amount:
    currency: str
    total: str


@dataclass(frozen=True)
class Balance:
    url: str
    status: int | None = None
    total: float | None = None
    available: bool | None = None
    balances: tuple[Amount, ...] = ()
    detail: str = ""
    failure: Failure | None = None

    label = "balance"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_doc(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "total_ms": _ms(self.total),
            "available": self.available,
            "balances": [{"currency": a.currency, "total": a.total} for a in self.balances],
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class ClaudeRun:
    """`claude -p` run with the profile: did Claude Code itself get an answer?"""

    command: str
    exit_code: int | None = None
    total: float | None = None
    answered: bool = False
    model: str | None = None
    """The model Claude Code reports having used (its `modelUsage` key, `[1m]` suffix included)."""
    result: str | None = None
    detail: str = ""
    failure: Failure | None = None

    label = "claude -p"

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_doc(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "exit_code": self.exit_code,
            "total_ms": _ms(self.total),
            "answered": self.answered,
            "model": self.model,
            "result": self.result,
            "ok": self.ok,
            "detail": self.detail,
            "failure": self.failure.to_doc(self.label) if self.failure else None,
        }


@dataclass(frozen=True)
class ProfileReport:
    profile: str
    provider: str | None
    base_url: str | None
    key: str | None
    """The key, masked (`sk-…abcd`), or None when there is none."""
    key_source: str
    models: tuple[MessageCheck, ...] = ()
    streaming: MessageCheck | None = None
    tool_use: MessageCheck | None = None
    model_list: ModelList | None = None
    balance: Balance | None = None
    claude: ClaudeRun | None = None
    setup_failure: Failure | None = None
    """A failure before any check could run (no key, a broken profile): the only entry then."""
    elapsed: float = 0.0
    warnings: tuple[str, ...] = ()
    """Not failures, but worth saying: plain http to another machine sends the key in clear text."""

    def checks(self) -> list[MessageCheck | ModelList | Balance | ClaudeRun]:
        """Every check that ran, in table order."""
        out: list[MessageCheck | ModelList | Balance | ClaudeRun] = list(self.models)
        for extra in (self.streaming, self.tool_use, self.model_list, self.balance, self.claude):
            if extra is not None:
                out.append(extra)
        return out

    def failures(self) -> list[tuple[str, Failure]]:
        """(check label, failure) for every failed check, in table order."""
        out = [("profile", self.setup_failure)] if self.setup_failure else []
        out += [(c.label, c.failure) for c in self.checks() if c.failure is not None]
        return out

    @property
    def ok(self) -> bool:
        return not self.failures()

    @property
    def exit_code(self) -> int:
        return exit_code_for({f.kind for _, f in self.failures()})

    def to_doc(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "provider": self.provider,
            "base_url": self.base_url,
            "key": self.key,
            "key_source": self.key_source,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "elapsed_ms": _ms(self.elapsed),
            "models": [m.to_doc() for m in self.models],
            "streaming": self.streaming.to_doc() if self.streaming else None,
            "tool_use": self.tool_use.to_doc() if self.tool_use else None,
            "model_list": self.model_list.to_doc() if self.model_list else None,
            "balance": self.balance.to_doc() if self.balance else None,
            "claude": self.claude.to_doc() if self.claude else None,
            "failures": [f.to_doc(label) for label, f in self.failures()],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class VerifyReport:
    profiles: tuple[ProfileReport, ...]
    timeout: float
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.profiles)

    @property
    def exit_code(self) -> int:
        return exit_code_for({f.kind for p in self.profiles for _, f in p.failures()})

    def to_doc(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "timeout_s": self.timeout,
            "elapsed_ms": _ms(self.elapsed),
            "profiles": [p.to_doc() for p in self.profiles],
        }

    def error(self) -> DsconfigError | None:
        """The error the command exits with (its exit code follows the precedence above), or None when all passed."""
        failed = [(p, label, f) for p in self.profiles for label, f in p.failures()]
        if not failed:
            return None
        code = self.exit_code
        # The hint of the failure that decides the exit code: the first thing to fix.
        deciding = next((p, label, f) for p, label, f in failed if f.exit_code == code)
        profile, label, failure = deciding
        total = sum(len(p.failures()) for p in self.profiles)
        kinds = sorted({f.kind for _, _, f in failed})
        where = f"profile {profile.profile!r}" if len(self.profiles) == 1 else f"{len({p.profile for p, _, _ in failed})} profile(s)"
        message = f"verify: {total} check(s) failed in {where} ({', '.join(kinds)})"
        error_class: type[DsconfigError] = {EXIT_VERIFY_AUTH: VerifyAuthError, EXIT_VERIFY_NETWORK: VerifyNetworkError}.get(code, DsconfigError)
        return error_class(message, f"{profile.profile} {label}: {failure.hint}")


# --- the profile being checked ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    resolved: Resolved
    key: str

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def base_url(self) -> str:
        return self.resolved.base_url.rstrip("/")

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/v1/messages?beta=true"

    @property
    def root_url(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def host(self) -> str:
        return urls.hostname(self.base_url)

    @property
    def host_port(self) -> str:
        return urls.host_port(self.base_url)

    @property
    def masked_key(self) -> str:
        return mask(self.key)

    def message_headers(self) -> dict[str, str]:
        headers = {
            "anthropic-version": ANTHROPIC_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": f"dsconfig/{__version__} (verify)",
        }
        auth = self.resolved.template.auth
        if auth in ("x-api-key", "both"):
            headers["x-api-key"] = self.key
        if auth in ("bearer", "both"):
            headers["authorization"] = f"Bearer {self.key}"
        return headers

    def list_headers(self) -> dict[str, str]:
        """Model list and balance are OpenAI-style endpoints (Bearer); Anthropic's own /v1/models wants x-api-key."""
        headers = {"accept": "application/json", "user-agent": f"dsconfig/{__version__} (verify)"}
        if self.resolved.template.auth == "x-api-key":
            headers["x-api-key"] = self.key
            headers["anthropic-version"] = ANTHROPIC_VERSION
        else:
            headers["authorization"] = f"Bearer {self.key}"
        return headers

    def main_model(self) -> str:
        main = self.resolved.models.get("main")
        if main:
            return strip_context_suffix(main)
        models = self.resolved.distinct_models()
        return models[0] if models else DEFAULT_MODEL

    def models_to_check(self) -> list[tuple[str, tuple[str, ...]]]:
        """(wire model id, tiers using it); the default model when the profile sets none."""
        distinct = self.resolved.distinct_models()
        if not distinct:
            return [(DEFAULT_MODEL, ())]
        out = []
        for model in distinct:
            tiers = tuple(t for t in TIERS if self.resolved.models.get(t) and strip_context_suffix(self.resolved.models[t]) == model)
            out.append((model, tiers))
        return out

    def scrub(self, text: str) -> str:
        """Never let the key through in something we show (a gateway may echo it back), nor URL credentials."""
        if self.key and len(self.key) >= 4:
            text = text.replace(self.key, self.masked_key)
        return output.scrub(text)

    def keyring_entry(self) -> str:
        return f'the OS keyring, service "{SERVICE}", user "{self.name}"'

    def key_page(self) -> str:
        url = self.resolved.template.key_url
        return f" (keys: {url})" if url else ""


def stored_url_check(resolved: Resolved, profiles_path: Path) -> None:
    """InvalidFileError (exit 4) naming the file when a stored base URL cannot be used (a hand edit)."""
    bad = urls.problem(resolved.base_url)
    if bad is None:
        return
    if resolved.profile.base_url:
        where, path = f"profiles.{resolved.name}.base_url", profiles_path
    else:
        where, path = "base_url", resolved.template.source
    raise InvalidFileError(path, f"{where} = {resolved.base_url!r}: {bad}",
                           f"dsconfig profile edit {resolved.name} --base-url {urls.EXAMPLE}  (or correct the file by hand)")


def key_source(name: str) -> str:
    return f'keyring service "{SERVICE}", user "{name}"'


# --- base URL diagnosis -----------------------------------------------------------------------------------


def base_url_advice(resolved: Resolved) -> tuple[list[str], str | None]:
    """What looks wrong with the base URL's path, and the URL to use instead (None when nothing to suggest).

    The client appends `/v1/messages`, so a base URL ending in `/v1` sends requests to `/v1/v1/messages`; a
    provider that serves Anthropic's format under a path (`/anthropic`) 404s without it.
    """
    parts = urlsplit(resolved.base_url.rstrip("/"))
    path = parts.path.rstrip("/")
    expected = urlsplit(resolved.template.base_url).path.rstrip("/")
    problems: list[str] = []
    stripped = path
    if stripped.endswith("/v1/messages"):
        problems.append("the base URL already ends in /v1/messages, which the client appends itself")
        stripped = stripped[: -len("/v1/messages")]
    elif stripped.endswith("/v1"):
        problems.append("/v1 is doubled: the client appends /v1/messages, so requests went to …/v1/v1/messages")
        stripped = stripped[: -len("/v1")]
    if expected and not stripped.endswith(expected):
        problems.append(f"{expected} is missing from the path ({resolved.template.name} serves its Anthropic API under {expected})")
        stripped = expected
    suggestion = f"{parts.scheme}://{parts.netloc}{stripped}"
    if not problems or suggestion == resolved.base_url.rstrip("/"):
        return problems, None
    return problems, suggestion


def _base_url_fix(resolved: Resolved, fallback: str) -> tuple[str, str]:
    problems, suggestion = base_url_advice(resolved)
    what = "; ".join(problems)
    if suggestion:
        return what, f"dsconfig profile edit {resolved.name} --base-url {suggestion}"
    return what, fallback


# --- classification ---------------------------------------------------------------------------------------


def _provider_message(body: bytes) -> str | None:
    """The error message from an OpenAI-shaped (DeepSeek) or Anthropic-shaped body, or the text itself."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        text = body.decode("utf-8", "replace").strip()
        return _short(text) if text else None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return _short(err["message"])
        if isinstance(err, str):
            return _short(err)
        if isinstance(data.get("message"), str):
            return _short(data["message"])
    return _short(json.dumps(data))


def _short(text: str, limit: int = _DETAIL_LIMIT) -> str:
    """One line of at most `limit` characters, secrets masked FIRST: a key cut in half no longer matches."""
    text = " ".join(output.scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_failure(
    target: _Target,
    status: int,
    provider_message: str | None,
    *,
    model: str | None,
    what: str,
    retry_after: str | None = None,
    via: str | None = None,
    messages_endpoint: bool = True,
) -> Failure:
    """Classify an HTTP error status. `what` names the request ("the model check", "GET /models").
    `via`: the answer's Via header (a proxy or gateway handled it)."""
    said = target.scrub(provider_message) if provider_message else None
    name = target.name
    suffix = f": {said}" if said else ""
    proxied = _proxy_answer(target, status, suffix, via)
    if proxied is not None:
        return proxied
    if status == 401:
        return Failure(
            "auth",
            f"the provider refused the API key {target.masked_key} (HTTP 401{suffix}); the key came from {target.keyring_entry()}",
            f"store the right key: dsconfig key set {name}{target.key_page()}",
            status, said,
        )
    if status == 402:
        return Failure(
            "credit",
            f"the account has no credit left (HTTP 402{suffix})",
            f"top up the account that owns key {target.masked_key}{target.key_page()}, then run `dsconfig verify {name}` again",
            status, said,
        )
    if status == 403:
        return Failure(
            "forbidden",
            f"the key {target.masked_key} is valid but not allowed to do this (HTTP 403{suffix})",
            f"check the key's permissions and region in the provider's console{target.key_page()}; a regional "
            f"account needs that region's base URL (`dsconfig providers` lists them): dsconfig profile edit {name} --base-url URL",
            status, said,
        )
    if status == 404 and model and said and re.search(r"\bmodel\b", said, re.IGNORECASE):
        return _unknown_model(target, model, status, said)
    if status == 404:
        if messages_endpoint:
            problems, fix = _base_url_fix(target.resolved, f"check the base URL: dsconfig profile edit {name} --base-url URL")
            why = f": {problems}" if problems else ""
            return Failure("not_found", f"HTTP 404 from {target.base_url}/v1/messages: the base URL path is wrong{why}", fix, status, said)
        return Failure(
            "not_found",
            f"{what} got HTTP 404: this host has no such endpoint{suffix}",
            f"the template's path does not exist on {target.root_url}: a gateway may not offer it (see `dsconfig providers`); the model checks above still count",
            status, said,
        )
    if status == 400:
        if model and said and re.search(r"\bmodel", said, re.IGNORECASE):
            return _unknown_model(target, model, status, said)
        return Failure(
            "bad_request",
            f"the provider rejected the request (HTTP 400{suffix})",
            f"if a profile variable causes it (e.g. CLAUDE_CODE_EFFORT_LEVEL), change it: dsconfig profile edit {name} --env NAME=VALUE; "
            "otherwise the endpoint is not fully Anthropic-compatible",
            status, said,
        )
    if status == 429:
        wait = f" (Retry-After: {retry_after} s)" if retry_after else ""
        return Failure(
            "rate_limited",
            f"the provider is rate-limiting this key (HTTP 429{suffix}){wait}",
            f"wait and run `dsconfig verify {name}` again; if it persists, raise the account's rate limit with the provider",
            status, said,
        )
    if status >= 500:
        return Failure(
            "server",
            f"the provider failed on its side (HTTP {status}{suffix})",
            f"nothing to change in dsconfig: retry later (`dsconfig verify {name}`) and check the provider's status page",
            status, said,
        )
    return Failure(
        "error",
        f"{what} got an unexpected HTTP {status}{suffix}",
        f"check the base URL and the key: dsconfig profile show {name}",
        status, said,
    )


def _proxy_answer(target: _Target, status: int, suffix: str, via: str | None) -> Failure | None:
    """A gateway error the proxy in the path gave itself (HTTPS_PROXY / HTTP_PROXY, not exempted by NO_PROXY),
    or None when the evidence does not say so. A 502 or 504 through a proxy is the proxy saying it could not
    reach the provider; a 503 counts when the answer carries a Via header or the base URL is loopback, which
    no proxy can reach on this machine's behalf. The provider then received nothing: blaming it would send
    the user to its status page."""
    route = proxy_for(target.base_url)
    if route is None or status not in (502, 503, 504):
        return None
    host = urlsplit(target.base_url).hostname or target.base_url
    loopback = urls.is_loopback(host)
    if status == 503 and not via and not loopback:
        return None
    variable, proxy = route
    why = (f"; {host} is this machine's own address, which a proxy cannot reach for it" if loopback else "")
    exempt = "127.0.0.1,localhost,::1" if loopback else host
    return Failure(
        "proxy",
        f"the proxy {proxy} ({variable}) answered HTTP {status}{suffix}: it could not reach {host}, which received "
        f"nothing{why}" + (f" (Via: {_short(via, 80)})" if via else ""),
        f"exempt the host from the proxy: export NO_PROXY={exempt} (add your company's internal domains there "
        f"too), or fix or unset {variable} (now {proxy})",
        status, suffix.removeprefix(": ") or None,
    )


def _unknown_model(target: _Target, model: str, status: int | None, said: str | None, known: Sequence[str] | None = None) -> Failure:
    """A model the provider refused: "model not offered", with the edit to the replacement (drift.py picks it:
    the template's legacy replacement, its own model for the tier, or the closest listed name)."""
    message, fix = not_offered(target.resolved, model, list(known) if known else None)
    return Failure("unknown_model", message, fix, status, said)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def proxy_for(url: str) -> tuple[str, str] | None:
    """(variable name, proxy URL without credentials) httpx uses for `url` under trust_env, or None.

    Mirrors httpx: urllib's getproxies() for the scheme (or ALL_PROXY), skipped when NO_PROXY matches.
    Only used to name the culprit when a connection fails; httpx itself decides where to connect.
    """
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    scheme = parts.scheme
    proxy = proxies.get(scheme)
    variable = f"{scheme.upper()}_PROXY"
    if not proxy:
        proxy, variable = proxies.get("all"), "ALL_PROXY"
    if not proxy:
        return None
    if _bypassed(parts.hostname or "", proxies.get("no", "")):
        return None
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    shown = f"{p.scheme}://{p.hostname}" + (f":{p.port}" if p.port else "")
    return variable, shown


def _bypassed(host: str, no_proxy: str) -> bool:
    """NO_PROXY as httpx reads it: `*` for everything, else host names, IPs and domain suffixes."""
    host = host.lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.split("://", 1)[-1].lstrip("*").lstrip(".").strip("[]")
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _transport_failure(target: _Target, exc: BaseException, url: str, timeout: float, what: str) -> Failure:
    """Classify an exception raised before or while talking to the server."""
    chain = _chain(exc)
    detail = target.scrub(_short("; ".join(dict.fromkeys(f"{type(e).__name__}: {e}" for e in chain if str(e)))))
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
        variable, proxy = via or ("HTTPS_PROXY", "the configured proxy")
        why = "refused or failed the connection" if not isinstance(exc, httpx.ProxyError) else f"answered {_short(str(exc), 80)}"
        return Failure(
            "proxy",
            f"the proxy {proxy} ({variable}) {why}",
            f"fix or unset {variable} (now {proxy}), or exempt this host: NO_PROXY={host}",
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
        return _timeout(target, timeout, what)
    if isinstance(exc, httpx.RemoteProtocolError):
        return Failure(
            "error",
            f"{host}:{port} closed the connection without a valid HTTP answer ({_short(str(exc), 100)})",
            f"check the scheme and port of the base URL (https:// for a TLS server): dsconfig profile show {name}",
            None, detail,
        )
    if isinstance(exc, (httpx.ConnectError, httpx.NetworkError)):
        return Failure("error", f"the connection to {host}:{port} failed ({_short(str(exc) or type(exc).__name__, 100)})",
                       f"check your network and the base URL: dsconfig profile show {name}", None, detail)
    return Failure("error", f"{what} failed unexpectedly ({type(exc).__name__}: {_short(target.scrub(str(exc)), 120)})",
                   f"run again; if it persists, report it with `dsconfig verify {name} --json`", None, detail)


def _timeout(target: _Target, timeout: float, what: str) -> Failure:
    return Failure(
        "timeout",
        f"no answer from {target.host_port} within {timeout:g} s ({what})",
        f"check your network (and HTTPS_PROXY if you need one), or allow more time: dsconfig verify {target.name} --timeout {max(60, int(timeout * 2))}",
    )


def _stall(target: _Target, timeout: float, status: int | None, keepalives: int) -> Failure:
    lines = f", {keepalives} keep-alive line(s)" if keepalives else ""
    return Failure(
        "stall",
        f"the provider accepted the request (HTTP {status}) but sent no event within {timeout:g} s{lines}: it is "
        "holding the request in its queue (DeepSeek does this under load instead of answering 429)",
        f"retry later, or wait longer: dsconfig verify {target.name} --timeout {max(120, int(timeout * 4))}; Claude Code "
        "waits as long as API_TIMEOUT_MS says (milliseconds; e.g. --env API_TIMEOUT_MS=600000 on the profile)",
        status,
    )


def _too_large(target: _Target, big: _TooLarge) -> Failure:
    failure = _not_anthropic(target, f"{big.what} went on past {_size(big.limit)} (reading stopped there)", big.status)
    return replace(failure, detail=f"{big.what} is larger than {big.limit} bytes")


def _not_anthropic(target: _Target, what: str, status: int) -> Failure:
    fallback = f"use the provider's Anthropic-compatible base URL (DeepSeek: https://api.deepseek.com/anthropic): dsconfig profile edit {target.name} --base-url URL"
    problems, fix = _base_url_fix(target.resolved, fallback)
    why = f" ({problems})" if problems else ""
    return Failure(
        "not_anthropic",
        f"HTTP {status} but the reply is not in the Anthropic format: {what}{why}",
        fix,
        status,
    )


def _describe_foreign(body: bytes, content_type: str) -> str:
    """Name what a non-Anthropic 200 looks like: an OpenAI completion, a web page, a plain JSON message..."""
    text = body[:_MAX_BODY].decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        if "choices" in data or str(data.get("object", "")).startswith("chat.completion"):
            return "an OpenAI-format chat completion (this URL speaks the OpenAI API, not Anthropic's)"
        if data.get("type") == "message":
            return "a single JSON message although the request asked for a stream (stream: true is ignored)"
        return f"JSON without Anthropic events ({_short(text, 80)})"
    if "html" in content_type or text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "an HTML page (a website or a login portal, not an API)"
    return f"{content_type or 'no content type'} ({_short(text, 80) or 'empty body'})"


# --- one streamed request ---------------------------------------------------------------------------------


@dataclass
class _Event:
    name: str
    data: dict[str, Any]
    at: float


@dataclass
class _Progress:
    """What a request got before a deadline hit: decides between "timeout" and "stall"."""

    status: int | None = None
    keepalives: int = 0
    events: list[_Event] = field(default_factory=list)
    ttft: float | None = None


@dataclass
class _Reply:
    status: int
    content_type: str
    body: bytes = b""
    retry_after: str | None = None
    via: str | None = None  # the Via header: a proxy or gateway handled the answer
    sse: bool = False
    foreign_sse: str | None = None


class _TooLarge(Exception):
    """A body or a line beyond its cap: reading stopped there."""

    def __init__(self, what: str, limit: int, status: int) -> None:
        super().__init__(what)
        self.what = what
        self.limit = limit
        self.status = status


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


async def _stream(client: httpx.AsyncClient, target: _Target, body: dict[str, Any], progress: _Progress, start: float, timeout: float) -> _Reply:
    async with client.stream("POST", target.messages_url, headers=target.message_headers(), json=body, timeout=timeout) as resp:
        progress.status = resp.status_code
        content_type = resp.headers.get("content-type", "")
        reply = _Reply(resp.status_code, content_type, retry_after=resp.headers.get("retry-after"), via=resp.headers.get("via"))
        if resp.status_code != 200 or "text/event-stream" not in content_type:
            reply.body = await _read_limited(resp)
            return reply
        reply.sse = True
        name: str | None = None
        data_lines: list[str] = []
        data_size = 0
        previous_blank = True
        async for line in _limited_lines(resp):
            if line.startswith(":"):
                progress.keepalives += 1
                previous_blank = False
                continue
            if line == "":
                if data_lines:
                    event = _dispatch(name, "\n".join(data_lines), time.perf_counter() - start)
                    if event is None:
                        reply.foreign_sse = "\n".join(data_lines)
                        return reply
                    progress.events.append(event)
                    if event.name == "content_block_delta" and progress.ttft is None:
                        progress.ttft = event.at
                    # Read on after message_stop to the end of the body: the connection then closes cleanly
                    # (or goes back to the pool) instead of being reset with unread bytes.
                    if len(progress.events) >= _MAX_EVENTS:
                        return reply
                elif previous_blank and name is None:
                    progress.keepalives += 1  # DeepSeek's blank keep-alive lines
                name, data_lines, data_size, previous_blank = None, [], 0, True
                continue
            previous_blank = False
            field_name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field_name == "event":
                name = value
            elif field_name == "data":
                data_lines.append(value)
                data_size += len(value)
                if data_size > _MAX_BODY:
                    raise _TooLarge("one event's data", _MAX_BODY, resp.status_code)
        if data_lines:
            event = _dispatch(name, "\n".join(data_lines), time.perf_counter() - start)
            if event is None:
                reply.foreign_sse = "\n".join(data_lines)
            else:
                progress.events.append(event)
        return reply


async def _read_limited(resp: httpx.Response, limit: int = _MAX_BODY) -> bytes:
    """The body, or _TooLarge as soon as it passes `limit` (an endless body stops there, not at the timeout)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _TooLarge("the body", limit, resp.status_code)
    return b"".join(chunks)


async def _limited_lines(resp: httpx.Response) -> AsyncIterator[str]:
    """The lines of an event stream (CRLF, LF or CR), each at most _MAX_LINE bytes, all at most _MAX_STREAM."""
    buffer = b""
    total = 0
    async for chunk in resp.aiter_bytes():
        total += len(chunk)
        if total > _MAX_STREAM:
            raise _TooLarge("the event stream", _MAX_STREAM, resp.status_code)
        buffer += chunk
        while True:
            cut = min((i for i in (buffer.find(b"\n"), buffer.find(b"\r")) if i >= 0), default=-1)
            if cut < 0 or (buffer[cut:cut + 1] == b"\r" and cut == len(buffer) - 1):
                break  # no end of line yet, or a CR that an LF may follow in the next chunk
            end = cut + 2 if buffer[cut:cut + 2] == b"\r\n" else cut + 1
            line, buffer = buffer[:cut], buffer[end:]
            if len(line) > _MAX_LINE:
                raise _TooLarge("one line of the event stream", _MAX_LINE, resp.status_code)
            yield line.decode("utf-8", "replace")
        if len(buffer) > _MAX_LINE:
            raise _TooLarge("one line of the event stream", _MAX_LINE, resp.status_code)
    if buffer:
        yield buffer.rstrip(b"\r").decode("utf-8", "replace")


def _dispatch(name: str | None, data: str, at: float) -> _Event | None:
    """An Anthropic event, or None when the data is something else (an OpenAI chunk, `[DONE]`...)."""
    try:
        parsed = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str) or "choices" in parsed:
        return None
    return _Event(name or parsed["type"], parsed, at)


def stream_problem(events: Sequence[_Event]) -> str | None:
    """Why an event sequence is not a valid Anthropic stream, or None. Unknown event names are allowed."""
    names = [e.name for e in events if e.name != "ping"]
    if not names:
        return "no event arrived"
    if names[0] != "message_start":
        return f"the first event is {names[0]}, not message_start"
    open_index: object = None
    block_open = saw_message_delta = stopped = False
    for event in events[1:]:
        kind = event.name
        index = event.data.get("index")
        if kind == "ping":
            continue
        if stopped:
            return f"{kind} after message_stop"
        if kind == "message_start":
            return "a second message_start"
        if kind == "content_block_start":
            if block_open:
                return f"content_block_start (index {index}) before block {open_index} stopped"
            if saw_message_delta:
                return "content_block_start after message_delta"
            block_open, open_index = True, index
        elif kind == "content_block_delta":
            if not block_open or index != open_index:
                return f"content_block_delta (index {index}) outside its content block"
        elif kind == "content_block_stop":
            if not block_open or index != open_index:
                return f"content_block_stop (index {index}) without a matching content_block_start"
            block_open = False
        elif kind == "message_delta":
            if block_open:
                return "message_delta while a content block is still open"
            saw_message_delta = True
        elif kind == "message_stop":
            if not saw_message_delta:
                return "message_stop without a message_delta before it"
            stopped = True
    if not stopped:
        return "the stream ended before message_stop"
    return None


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


async def _message_check(client: httpx.AsyncClient, target: _Target, check: str, model: str, tiers: tuple[str, ...], timeout: float) -> MessageCheck:
    base = MessageCheck(check=check, model=model, tiers=tiers)
    what = {"model": f"the {model} check", "streaming": "the streaming check", "tool_use": "the tool-use check"}[check]
    progress = _Progress()
    start = time.perf_counter()
    try:
        reply = await asyncio.wait_for(_stream(client, target, _request_body(check, model), progress, start, timeout), timeout)
    except _TooLarge as big:
        return replace(base, status=big.status, total=time.perf_counter() - start, events=len(progress.events),
                       failure=_too_large(target, big))
    except (asyncio.TimeoutError, httpx.TimeoutException) as exc:
        elapsed = time.perf_counter() - start
        if any(e.name == "message_stop" for e in progress.events):
            # The whole message arrived; only the end of the body did not. Judge what arrived.
            return _analyze(replace(base, status=200, total=elapsed, ttft=progress.ttft, events=len(progress.events)),
                            target, progress.events)
        if progress.status is not None and not progress.events:
            failure = _stall(target, timeout, progress.status, progress.keepalives)
        elif progress.status is not None:
            failure = Failure("timeout", f"the reply started but did not finish within {timeout:g} s ({len(progress.events)} events)",
                              f"allow more time: dsconfig verify {target.name} --timeout {max(60, int(timeout * 2))}", progress.status)
        else:
            failure = _transport_failure(target, exc, target.messages_url, timeout, what)
        return replace(base, status=progress.status, total=elapsed, events=len(progress.events), failure=failure)
    except httpx.HTTPError as exc:
        elapsed = time.perf_counter() - start
        if progress.status == 200 and progress.events:
            failure = Failure("bad_stream", f"the stream broke off after {len(progress.events)} events ({_short(str(exc), 100)})",
                              f"retry (`dsconfig verify {target.name}`); if it persists, a proxy or gateway is cutting streams", 200,
                              target.scrub(_short(str(exc))))
        else:
            failure = _transport_failure(target, exc, target.messages_url, timeout, what)
        return replace(base, status=progress.status, total=elapsed, failure=failure)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' results
        return replace(base, total=time.perf_counter() - start, failure=_transport_failure(target, exc, target.messages_url, timeout, what))
    elapsed = time.perf_counter() - start
    base = replace(base, status=reply.status, total=elapsed, ttft=progress.ttft, events=len(progress.events))
    if reply.status != 200:
        failure = _status_failure(target, reply.status, _provider_message(reply.body), model=model, what=what, retry_after=reply.retry_after,
                                  via=reply.via)
        return replace(base, failure=failure)
    if not reply.sse:
        return replace(base, failure=_not_anthropic(target, _describe_foreign(reply.body, reply.content_type), reply.status))
    if reply.foreign_sse is not None:
        return replace(base, failure=_not_anthropic(target, f"an event stream of non-Anthropic data ({_short(reply.foreign_sse, 60)})", reply.status))
    return _analyze(base, target, progress.events)


def _analyze(check: MessageCheck, target: _Target, events: list[_Event]) -> MessageCheck:
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
            message = target.scrub(_short(str(error.get("message", kind))))
            status = {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "authentication_error": 401,
                      "permission_error": 403, "not_found_error": 404, "invalid_request_error": 400}.get(kind)
            failure = _status_failure(target, status, message, model=check.model, what=check.label) if status else Failure(
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
                "bad_stream", f"the tool call's input is not valid JSON ({_short(raw, 60)})",
                f"the endpoint mangles tool calls; Claude Code will fail on them: dsconfig profile show {target.name}", 200))
        return replace(check, detail=f"called {tool_name}")
    if check.check == "streaming":
        deltas = sum(1 for e in events if e.name == "content_block_delta")
        return replace(check, detail=f"{len(events)} events in order, {deltas} deltas")
    return replace(check, detail="answered")


# --- model list and balance -------------------------------------------------------------------------------


async def _get_json(client: httpx.AsyncClient, target: _Target, url: str, timeout: float) -> tuple[int, Any, bytes, httpx.Headers]:
    async def get() -> tuple[int, Any, bytes, httpx.Headers]:
        async with client.stream("GET", url, headers=target.list_headers(), timeout=timeout) as resp:
            body = await _read_limited(resp)
            status, headers = resp.status_code, resp.headers
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        return status, data, body, headers

    return await asyncio.wait_for(get(), timeout)


async def _model_list(client: httpx.AsyncClient, target: _Target, path: str, timeout: float) -> ModelList:
    url = target.root_url + path
    base = ModelList(url=url)
    start = time.perf_counter()
    what = f"GET {path}"
    try:
        status, data, body, headers = await _get_json(client, target, url, timeout)
    except _TooLarge as big:
        return replace(base, status=big.status, total=time.perf_counter() - start, failure=_too_large(target, big))
    except Exception as exc:  # noqa: BLE001
        return replace(base, total=time.perf_counter() - start, failure=_transport_failure(target, exc, url, timeout, what))
    base = replace(base, status=status, total=time.perf_counter() - start)
    if status != 200:
        return replace(base, failure=_status_failure(target, status, _provider_message(body), model=None, what=what,
                                                     retry_after=headers.get("retry-after"), via=headers.get("via"),
                                                     messages_endpoint=False))
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return replace(base, failure=Failure("error", f"{what} answered without a model list (no \"data\" array)",
                                             "the endpoint is not the provider's model list; check the base URL's host: "
                                             f"dsconfig profile show {target.name}", status, target.scrub(_short(body.decode('utf-8', 'replace'))) or None))
    models = tuple(str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e)
    missing = tuple(m for m, _ in target.models_to_check() if m not in models)
    shown = ", ".join(models[:6]) + (f" and {len(models) - 6} more" if len(models) > 6 else "")
    detail = f"{len(models)} models ({shown})" + (f"; not listed: {', '.join(missing)}" if missing else "; every configured model listed")
    return _with_drift(target, replace(base, models=models, missing=missing, detail=detail))


def _with_drift(target: _Target, result: ModelList) -> ModelList:
    """Name each profile model the list does not confirm, with the edit that fixes it (drift.py)."""
    found = tuple(model_drift(target.resolved, result.models or ()))
    notes = [d.message + (f" (fix: {d.fix})" if d.fix else "") for d in found]
    detail = result.detail + "".join(f"; {n}" for n in notes)
    return replace(result, drift=found, detail=detail)


async def _balance(client: httpx.AsyncClient, target: _Target, path: str, timeout: float) -> Balance:
    url = target.root_url + path
    base = Balance(url=url)
    start = time.perf_counter()
    what = f"GET {path}"
    try:
        status, data, body, headers = await _get_json(client, target, url, timeout)
    except _TooLarge as big:
        return replace(base, status=big.status, total=time.perf_counter() - start, failure=_too_large(target, big))
    except Exception as exc:  # noqa: BLE001
        return replace(base, total=time.perf_counter() - start, failure=_transport_failure(target, exc, url, timeout, what))
    base = replace(base, status=status, total=time.perf_counter() - start)
    if status != 200:
        return replace(base, failure=_status_failure(target, status, _provider_message(body), model=None, what=what,
                                                     retry_after=headers.get("retry-after"), via=headers.get("via"),
                                                     messages_endpoint=False))
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
            status,
        ))
    return base


# --- Claude Code itself -----------------------------------------------------------------------------------


def claude_environment(resolved: Resolved, key: str, environ: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """(extra argv, environment) for `claude -p` with this profile, exactly as `dsconfig exec NAME -- claude`
    builds them (actions.exec_environment): the profile's process variables, then
    targets.claude_code.claude_run_overrides (a `--settings` JSON that beats the user's settings files, the key
    through apiKeyHelper), plus CLAUDE_CODE_MAX_RETRIES=0 so a refused key or connection fails now instead of
    after minutes of retries.
    """
    from dsconfig.targets.claude_code import claude_run_overrides
    from dsconfig.targets.context import TargetContext

    env = dict(environ)
    for var, value in resolved.process_env(key).items():
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    extra_argv, extra_env = claude_run_overrides(resolved, TargetContext(environ=env))
    env.update(extra_env)
    env["CLAUDE_CODE_MAX_RETRIES"] = "0"
    env.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    return list(extra_argv), env


async def _claude_check(target: _Target, timeout: float, claude_command: str | None, environ: Mapping[str, str]) -> ClaudeRun:
    program = claude_command or shutil.which("claude", path=environ.get("PATH"))
    base = ClaudeRun(command=program or "claude")
    if program is None:
        return replace(base, failure=Failure(
            "no_claude", "Claude Code is not installed here (no `claude` on PATH)",
            "install it: npm install -g @anthropic-ai/claude-code (or see `dsconfig detect`), then run again",
        ))
    start = time.perf_counter()
    try:
        extra_argv, env = claude_environment(target.resolved, target.key, environ)
    except DsconfigError as problem:
        return replace(base, failure=Failure("error", f"could not prepare the claude run: {problem.message}", problem.hint or "see `dsconfig doctor`"))
    argv = [program, "-p", CLAUDE_PROMPT, "--output-format", "json", *extra_argv]
    with tempfile.TemporaryDirectory(prefix="dsconfig-verify-") as cwd:
        # An empty folder: no project settings of the user's can overrule the profile, no repo gets scanned.
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=os.name == "posix",
            )
        except OSError as exc:
            return replace(base, failure=Failure("no_claude", f"{program} could not be started ({exc.strerror or exc})",
                                                 "reinstall Claude Code: npm install -g @anthropic-ai/claude-code"))
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            _kill(proc)
            await proc.wait()
            return replace(base, total=time.perf_counter() - start, failure=Failure(
                "timeout", f"claude -p got no answer within {timeout:g} s (killed)",
                f"run the HTTP checks without --via-claude to see why, or allow more time: dsconfig verify {target.name} --via-claude --timeout {max(60, int(timeout * 2))}",
            ))
    elapsed = time.perf_counter() - start
    stdout, stderr = target.scrub(out.decode("utf-8", "replace")), target.scrub(err.decode("utf-8", "replace"))
    data = _last_json(stdout)
    base = replace(base, exit_code=proc.returncode, total=elapsed)
    result = data.get("result") if data else None
    usage = data.get("modelUsage") if data else None
    used = next(iter(usage), None) if isinstance(usage, dict) and usage else None
    if proc.returncode == 0 and data and not data.get("is_error") and isinstance(result, str) and result.strip():
        return replace(base, answered=True, model=used, result=_short(result, 120))
    text = result if isinstance(result, str) and result.strip() else (stderr.strip() or stdout.strip() or f"exit {proc.returncode}")
    return replace(base, result=_short(text, 200), failure=_claude_failure(target, data, text))


def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover
            proc.kill()
    except ProcessLookupError:
        pass


def _last_json(stdout: str) -> dict[str, Any] | None:
    for candidate in (stdout, *reversed(stdout.strip().splitlines())):
        try:
            data = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            return data
    return None


def _claude_failure(target: _Target, data: dict[str, Any] | None, text: str) -> Failure:
    """Classify what Claude Code printed like the HTTP checks: its status when it names one, else its words."""
    status = data.get("api_error_status") if data else None
    if not isinstance(status, int):
        found = re.search(r"API Error: (\d{3})\b", text)
        status = int(found.group(1)) if found else None
    said = _short(re.sub(r"^.*?API Error: (\d{3} )?", "", text)) or None
    if re.search(r"apiKeyHelper", text):
        # Checked first: Claude Code then sends an empty key, so a 401 follows that says nothing about the key.
        failure = Failure("no_key", f"Claude Code's apiKeyHelper (`dsconfig key get {target.name}`) failed, so it sent no key",
                          f"`dsconfig key get {target.name}` must print the key from the keyring Claude Code's user sees; "
                          f"store it there: dsconfig key set {target.name}")
    elif status is not None:
        failure = _status_failure(target, status, said, model=target.main_model(), what="claude -p")
    elif re.search(r"ECONNREFUSED|Connection refused", text, re.IGNORECASE):
        failure = Failure("refused", f"Claude Code could not connect to {target.host_port} (connection refused)",
                          f"start the server, or correct the base URL: dsconfig profile edit {target.name} --base-url URL")
    elif re.search(r"ENOTFOUND|EAI_AGAIN|getaddrinfo", text):
        failure = Failure("dns", f"Claude Code could not resolve {target.host}",
                          f"check the base URL: dsconfig profile edit {target.name} --base-url URL")
    elif re.search(r"certificate|SSL|TLS|EPROTO", text, re.IGNORECASE):
        failure = Failure("tls", f"Claude Code's TLS connection to {target.host} failed",
                          "if a company proxy inspects TLS, set NODE_EXTRA_CA_CERTS to its CA bundle")
    elif re.search(r"ETIMEDOUT|timed? ?out", text, re.IGNORECASE):
        failure = Failure("timeout", f"Claude Code timed out talking to {target.host_port}",
                          f"check the network, or allow more time: dsconfig verify {target.name} --via-claude --timeout 120")
    elif re.search(r"malformed response|not a Message|no_events", text, re.IGNORECASE):
        failure = _not_anthropic(target, "Claude Code could not read the reply", 200)
    elif re.search(r"Not logged in|/login", text):
        failure = Failure("no_key", "Claude Code found no key for this profile",
                          f"store one: dsconfig key set {target.name}")
    else:
        failure = Failure("error", "Claude Code got no answer", f"run it yourself to see more: dsconfig exec {target.name} -- claude")
    return replace(failure, detail=failure.detail or _short(text))


# --- running the checks -----------------------------------------------------------------------------------


async def verify_profile(
    resolved: Resolved,
    key: str | None,
    *,
    client: httpx.AsyncClient,
    timeout: float = DEFAULT_TIMEOUT,
    via_claude: bool = False,
    claude_command: str | None = None,
    environ: Mapping[str, str] | None = None,
    concurrent: bool = True,
) -> ProfileReport:
    """Every check of one profile. `concurrent=False` runs the same checks one after another (the bench)."""
    start = time.perf_counter()
    output.register_secret(key)
    warning = urls.plain_http_warning(resolved.base_url)
    head = ProfileReport(profile=resolved.name, provider=resolved.profile.provider, base_url=resolved.base_url,
                         key=mask(key) if key else None, key_source=key_source(resolved.name),
                         warnings=(warning,) if warning else ())
    bad_url = urls.problem(resolved.base_url)
    if bad_url is not None:
        return replace(head, setup_failure=Failure(
            "error", f"the base URL {resolved.base_url!r} cannot be used: {bad_url}",
            f"correct it: dsconfig profile edit {resolved.name} --base-url URL (e.g. {urls.EXAMPLE})"))
    if not key:
        return replace(head, setup_failure=Failure(
            "no_key", f"no API key stored for profile {resolved.name!r} (looked in {key_source(resolved.name)})",
            f"store one: dsconfig key set {resolved.name}"))
    target = _Target(resolved, key)
    template = resolved.template
    main = target.main_model()
    jobs: list[Any] = [_message_check(client, target, "model", model, tiers, timeout) for model, tiers in target.models_to_check()]
    n_models = len(jobs)
    jobs.append(_message_check(client, target, "streaming", main, (), timeout))
    jobs.append(_message_check(client, target, "tool_use", main, (), timeout))
    list_job = balance_job = claude_job = None
    if template.models_path:
        list_job = len(jobs)
        jobs.append(_model_list(client, target, template.models_path, timeout))
    if template.balance_path:
        balance_job = len(jobs)
        jobs.append(_balance(client, target, template.balance_path, timeout))
    if via_claude:
        claude_job = len(jobs)
        jobs.append(_claude_check(target, timeout, claude_command, os.environ if environ is None else environ))
    if concurrent:
        results = list(await asyncio.gather(*jobs))
    else:
        results = [await job for job in jobs]
    models: list[MessageCheck] = results[:n_models]
    streaming: MessageCheck = results[n_models]
    tool_use: MessageCheck = results[n_models + 1]
    model_list: ModelList | None = results[list_job] if list_job is not None else None
    if model_list is not None and model_list.models is not None:
        known = model_list.models
        models = [_with_list(target, m, known) for m in models]
        streaming, tool_use = _with_list(target, streaming, known), _with_list(target, tool_use, known)
    return replace(
        head,
        models=tuple(models),
        streaming=streaming,
        tool_use=tool_use,
        model_list=model_list,
        balance=results[balance_job] if balance_job is not None else None,
        claude=results[claude_job] if claude_job is not None else None,
        elapsed=time.perf_counter() - start,
    )


def _with_list(target: _Target, check: MessageCheck, known: tuple[str, ...]) -> MessageCheck:
    """Mark whether the model is listed, and name the provider's models in an unknown-model failure."""
    listed = check.model in known
    check = replace(check, listed=listed)
    failure = check.failure
    if failure is not None and (failure.kind == "unknown_model" or (failure.kind == "bad_request" and not listed)):
        check = replace(check, failure=_unknown_model(target, check.model, failure.status, failure.detail, known))
    elif check.ok and check.check == "model":
        if listed:
            check = replace(check, detail="answered, listed")
        elif check.answered_by and check.answered_by != check.model:
            check = replace(check, detail=f"answered as {check.answered_by}: not on the provider's list, it maps the name")
        else:
            check = replace(check, detail="answered, not on the provider's list")
    return check


def client(timeout: float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    """The HTTP client every check shares: environment proxies and CA settings honoured, no redirects followed."""
    return httpx.AsyncClient(trust_env=True, timeout=timeout, follow_redirects=False,
                             limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))


async def verify_many(
    targets: Sequence[tuple[Resolved, str | None] | ProfileReport],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    via_claude: bool = False,
    claude_command: str | None = None,
    environ: Mapping[str, str] | None = None,
    concurrent: bool = True,
) -> VerifyReport:
    """Several profiles at once; an already-made ProfileReport (a profile that failed to load) passes through."""
    start = time.perf_counter()
    async with client(timeout) as http:
        async def one(item: tuple[Resolved, str | None] | ProfileReport) -> ProfileReport:
            if isinstance(item, ProfileReport):
                return item
            resolved, key = item
            return await verify_profile(resolved, key, client=http, timeout=timeout, via_claude=via_claude,
                                        claude_command=claude_command, environ=environ, concurrent=concurrent)

        if concurrent:
            reports = list(await asyncio.gather(*(one(t) for t in targets)))
        else:
            reports = [await one(t) for t in targets]
    return VerifyReport(tuple(reports), timeout, time.perf_counter() - start)


def run(
    name: str | None = None,
    *,
    all_profiles: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    via_claude: bool = False,
    ctx: Context | None = None,
    claude_command: str | None = None,
) -> VerifyReport:
    """`dsconfig verify [NAME] [--all]`: load the profile(s) and their keys, run every check, return the report.

    Raises NotFoundError (no such profile / none at all) and KeyringUnavailableError (no keyring: nothing can be
    checked). A profile that fails to load under `--all` becomes a report with its own failure.
    """
    from dsconfig.actions import Context, resolved_profile

    c = ctx or Context()
    targets: list[tuple[Resolved, str | None] | ProfileReport] = []
    if all_profiles:
        found = c.store.load()
        if not found.profiles:
            raise NotFoundError("no profile yet", "run `dsconfig setup`, or `dsconfig profile add ds --provider deepseek --api-key-stdin`")
        for profile_name in found.profiles:
            try:
                resolved = resolved_profile(profile_name, c)
            except DsconfigError as err:
                targets.append(ProfileReport(profile=profile_name, provider=found.profiles[profile_name].provider, base_url=None,
                                             key=None, key_source=key_source(profile_name),
                                             setup_failure=Failure("error", f"the profile cannot be used: {err.message}", err.hint or "see `dsconfig doctor`")))
                continue
            targets.append((resolved, c.secrets.get(profile_name)))
    else:
        resolved = resolved_profile(name, c)
        stored_url_check(resolved, c.store.path)
        targets.append((resolved, c.secrets.get(resolved.name)))
    environ = c.environ
    return asyncio.run(verify_many(targets, timeout=timeout, via_claude=via_claude, claude_command=claude_command, environ=environ))


__all__ = [
    "AUTH_CLASSES", "CLASSES", "DEFAULT_MODEL", "DEFAULT_TIMEOUT", "NETWORK_CLASSES", "OTHER_CLASSES",
    "Amount", "Balance", "ClaudeRun", "Failure", "MessageCheck", "ModelList", "ProfileReport", "VerifyReport",
    "base_url_advice", "claude_environment", "client", "exit_code_for", "proxy_for", "run", "stream_problem",
    "verify_many", "verify_profile",
]
