"""What went wrong and the exact fix: an HTTP status and body, a proxy in the path, a base URL path, a reply that
is not Anthropic's, each turned into a Failure (report.py) whose hint names the command or variable that fixes it.

Pure functions of what a check saw (plus the proxy variables of the environment, read as httpx reads them);
no I/O, no httpx: the transport exceptions are classified in checks.py, Claude Code's own output in
claude_check.py, both with these.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from dsconfig import output, urls
from dsconfig.drift import not_offered
from dsconfig.profiles import Resolved
from dsconfig.verify.report import Failure
from dsconfig.verify.sse import MAX_BODY, TooLarge, size_text
from dsconfig.verify.target import Target

DETAIL_LIMIT = 240


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


def base_url_fix(resolved: Resolved, fallback: str) -> tuple[str, str]:
    problems, suggestion = base_url_advice(resolved)
    what = "; ".join(problems)
    if suggestion:
        return what, f"dsconfig profile edit {resolved.name} --base-url {suggestion}"
    return what, fallback


# --- classification ---------------------------------------------------------------------------------------


def provider_message(body: bytes) -> str | None:
    """The error message from an OpenAI-shaped (DeepSeek) or Anthropic-shaped body, or the text itself."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        text = body.decode("utf-8", "replace").strip()
        return short(text) if text else None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return short(err["message"])
        if isinstance(err, str):
            return short(err)
        if isinstance(data.get("message"), str):
            return short(data["message"])
    return short(json.dumps(data))


def short(text: str, limit: int = DETAIL_LIMIT) -> str:
    """One line of at most `limit` characters, secrets masked FIRST: a key cut in half no longer matches."""
    text = " ".join(output.scrub(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_failure(
    target: Target,
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
            f"the provider refused the API key {target.masked_key} (HTTP 401{suffix}); the key came from {target.key_came_from()}",
            target.wrong_key_fix(),
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
        return unknown_model(target, model, status, said)
    if status == 404:
        if messages_endpoint:
            problems, fix = base_url_fix(target.resolved, f"check the base URL: dsconfig profile edit {name} --base-url URL")
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
            return unknown_model(target, model, status, said)
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


def _proxy_answer(target: Target, status: int, suffix: str, via: str | None) -> Failure | None:
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
    exempt = no_proxy_setting("127.0.0.1,localhost,::1" if loopback else host)
    return Failure(
        "proxy",
        f"the proxy {proxy} ({variable}) answered HTTP {status}{suffix}: it could not reach {host}, which received "
        f"nothing{why}" + (f" (Via: {short(via, 80)})" if via else ""),
        f"exempt the host from the proxy: export {exempt} (add your company's internal domains there "
        f"too), or fix or unset {variable} (now {proxy})",
        status, suffix.removeprefix(": ") or None,
    )


def unknown_model(target: Target, model: str, status: int | None, said: str | None, known: Sequence[str] | None = None) -> Failure:
    """A model the provider refused: "model not offered", with the edit to the replacement (drift.py picks it:
    the template's legacy replacement, its own model for the tier, or the closest listed name)."""
    message, fix = not_offered(target.resolved, model, list(known) if known else None)
    return Failure("unknown_model", message, fix, status, said)


def proxy_for(url: str) -> tuple[str, str] | None:
    """(variable name, proxy URL without credentials) httpx uses for `url` under trust_env, or None.

    Mirrors httpx: urllib's getproxies() for the scheme (or ALL_PROXY), skipped when NO_PROXY matches. The
    variable is named as it is set (`https_proxy` when only the lowercase one is). Only used to name the
    culprit when a connection fails; httpx itself decides where to connect.
    """
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    scheme = parts.scheme
    proxy = proxies.get(scheme)
    variable = proxy_variable(scheme)
    if not proxy:
        proxy, variable = proxies.get("all"), proxy_variable("all")
    if not proxy:
        return None
    if _bypassed(parts.hostname or "", proxies.get("no", "")):
        return None
    p = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    shown = f"{p.scheme}://{p.hostname}" + (f":{p.port}" if p.port else "")
    return variable, shown


def proxy_variable(kind: str, environ: Mapping[str, str] | None = None) -> str:
    """The variable that holds the `kind` ("https", "http", "all", "no") proxy setting, named as it is set. As
    urllib reads the environment, a non-empty lowercase `https_proxy` wins over `HTTPS_PROXY`; the uppercase
    name when neither is set."""
    e = os.environ if environ is None else environ
    lower = f"{kind}_proxy"
    if e.get(lower):
        return lower
    return next((name for name, value in e.items() if value and name.lower() == lower and name != lower), lower.upper())


def no_proxy_setting(hosts: str, environ: Mapping[str, str] | None = None) -> str:
    """`NO_PROXY=...` (or `no_proxy=...`, whichever is in effect) exempting `hosts` (comma-separated) while
    keeping every exemption already there: the fix adds to the value, it never replaces it."""
    e = os.environ if environ is None else environ
    variable = proxy_variable("no", e)
    entries = [entry.strip() for entry in e.get(variable, "").split(",") if entry.strip()]
    entries += [host for host in hosts.split(",") if host not in entries]
    return f"{variable}={shlex.quote(','.join(entries))}"


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


def timeout_failure(target: Target, timeout: float, what: str) -> Failure:
    return Failure(
        "timeout",
        f"no answer from {target.host_port} within {timeout:g} s ({what})",
        f"check your network (and HTTPS_PROXY if you need one), or allow more time: dsconfig verify {target.name} --timeout {max(60, int(timeout * 2))}",
    )


def stall_failure(target: Target, timeout: float, status: int | None, keepalives: int) -> Failure:
    lines = f", {keepalives} keep-alive line(s)" if keepalives else ""
    return Failure(
        "stall",
        f"the provider accepted the request (HTTP {status}) but sent no event within {timeout:g} s{lines}: it is "
        "holding the request in its queue (DeepSeek does this under load instead of answering 429)",
        f"retry later, or wait longer: dsconfig verify {target.name} --timeout {max(120, int(timeout * 4))}; Claude Code "
        "waits as long as API_TIMEOUT_MS says (milliseconds; e.g. --env API_TIMEOUT_MS=600000 on the profile)",
        status,
    )


def too_large(target: Target, big: TooLarge) -> Failure:
    failure = not_anthropic(target, f"{big.what} went on past {size_text(big.limit)} (reading stopped there)", big.status)
    return replace(failure, detail=f"{big.what} is larger than {big.limit} bytes")


def not_anthropic(target: Target, what: str, status: int) -> Failure:
    fallback = f"use the provider's Anthropic-compatible base URL (DeepSeek: https://api.deepseek.com/anthropic): dsconfig profile edit {target.name} --base-url URL"
    problems, fix = base_url_fix(target.resolved, fallback)
    why = f" ({problems})" if problems else ""
    return Failure(
        "not_anthropic",
        f"HTTP {status} but the reply is not in the Anthropic format: {what}{why}",
        fix,
        status,
    )


def describe_foreign(body: bytes, content_type: str) -> str:
    """Name what a non-Anthropic 200 looks like: an OpenAI completion, a web page, a plain JSON message..."""
    text = body[:MAX_BODY].decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        if "choices" in data or str(data.get("object", "")).startswith("chat.completion"):
            return "an OpenAI-format chat completion (this URL speaks the OpenAI API, not Anthropic's)"
        if data.get("type") == "message":
            return "a single JSON message although the request asked for a stream (stream: true is ignored)"
        return f"JSON without Anthropic events ({short(text, 80)})"
    if "html" in content_type or text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "an HTML page (a website or a login portal, not an API)"
    return f"{content_type or 'no content type'} ({short(text, 80) or 'empty body'})"


