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
    key/credit (6)    auth (401), credit (402 or balance not available), no_key (the profile's key source gave
                      none: nothing stored in the keyring or kernel keyring, env:VAR unset, command: failed)
    other (exit 1)    forbidden (403), not_found (404; the base URL path is diagnosed), unknown_model (400, or
                      Anthropic's 404 naming the model; the provider's list is quoted), bad_request (other 400),
                      rate_limited (429), server (5xx, or an error event in the stream), not_anthropic (a 200
                      that is not the Anthropic format, or a body past 1 MiB / a stream line past 64 KiB:
                      reading stops at the cap),
                      bad_stream (events out of order or cut short),
                      no_tool_use (answered without calling the tool), no_claude (`claude` not installed),
                      error (anything else)

One job a module. The package imports nothing itself: `verify.run` and `verify.verify_many` (runner.py) load on
first use, so importing the package or its light modules never loads httpx:

    report.py       the result types, their JSON shapes (TypedDicts), the failure classes, the exit code
    sources.py      where the key came from, and the fix for a missing or refused key, per key source
    target.py       the profile being checked: URLs, headers, models to check, key scrubbing
    diagnosis.py    status / body / proxy / base URL -> Failure with its fix (pure)
    sse.py          reading an event stream with its caps; the order of Anthropic events
    render.py       the text table, the problems and fixes, the spinner
    checks.py       the HTTP calls (the only httpx user)
    claude_check.py `--via-claude`: the real claude -p
    runner.py       run(), verify_many(), verify_profile(): load profiles and keys, run everything, the report

`dsconfig doctor --no-verify` and `dsconfig setup --no-verify` need only report.py and render.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsconfig.verify.runner import run, verify_many

__all__ = ["run", "verify_many"]


def __getattr__(name: str) -> object:
    """`verify.run` / `verify.verify_many`, the package's two entry points, loaded (with httpx) on first use."""
    if name in __all__:
        from dsconfig.verify import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
