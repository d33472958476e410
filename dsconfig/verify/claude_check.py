"""`dsconfig verify --via-claude`: run the installed Claude Code itself with the profile and say what it got.

`claude -p "Reply with OK" --output-format json`, run with the profile exactly as `dsconfig exec NAME -- claude`
would (claude_environment), `CLAUDE_CODE_MAX_RETRIES=0`, in an empty folder, killed at the timeout. What it
printed is classified like the HTTP checks (diagnosis.py). No httpx.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dsconfig.errors import DsconfigError
from dsconfig.profiles import Resolved
from dsconfig.verify import sources
from dsconfig.verify.diagnosis import not_anthropic, short, status_failure
from dsconfig.verify.report import ClaudeRun, Failure
from dsconfig.verify.target import Target

CLAUDE_PROMPT = "Reply with OK"


def claude_environment(resolved: Resolved, key: str,
                       environ: Mapping[str, str]) -> tuple[list[str], dict[str, str], tuple[str, ...]]:
    """(extra argv, environment, warnings) for `claude -p` with this profile, exactly as `dsconfig exec NAME --
    claude` builds them (actions.exec_environment): the profile's process variables, then Claude Code's target's
    run overrides (a `--settings` JSON that beats the user's settings files, the key through apiKeyHelper), plus
    CLAUDE_CODE_MAX_RETRIES=0 so a refused key or connection fails now instead of after minutes of retries.
    The warnings (managed settings that beat the run's) are returned for the report, not printed.

    Raises DsconfigError when the profile cannot be turned into Claude Code's settings (run_overrides).
    """
    from dsconfig import notices, targets, vocab
    from dsconfig.targets.context import TargetContext

    env = dict(environ)
    for var, value in resolved.process_env(key).items():
        if value is None:
            env.pop(var, None)
        else:
            env[var] = value
    found = targets.get(vocab.TARGET_CLAUDE_CODE).run_overrides(resolved, TargetContext(environ=env))
    env.update(found.env)
    env["CLAUDE_CODE_MAX_RETRIES"] = "0"
    env.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    return list(found.argv), env, notices.texts(found.notices, "warning")


async def run_claude(target: Target, timeout: float, claude_command: str | None, environ: Mapping[str, str]) -> ClaudeRun:
    program = claude_command or shutil.which("claude", path=environ.get("PATH"))
    base = ClaudeRun(command=program or "claude")
    if program is None:
        return replace(base, failure=Failure(
            "no_claude", "Claude Code is not installed here (no `claude` on PATH)",
            "install it: npm install -g @anthropic-ai/claude-code (or see `dsconfig detect`), then run again",
        ))
    start = time.perf_counter()
    try:
        extra_argv, env, warnings = claude_environment(target.resolved, target.key, environ)
        base = replace(base, warnings=warnings)
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
        return replace(base, answered=True, model=used, result=short(result, 120))
    text = result if isinstance(result, str) and result.strip() else (stderr.strip() or stdout.strip() or f"exit {proc.returncode}")
    return replace(base, result=short(text, 200), failure=_claude_failure(target, data, text))


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


def _claude_failure(target: Target, data: dict[str, Any] | None, text: str) -> Failure:
    """Classify what Claude Code printed like the HTTP checks: its status when it names one, else its words."""
    status = data.get("api_error_status") if data else None
    if not isinstance(status, int):
        found = re.search(r"API Error: (\d{3})\b", text)
        status = int(found.group(1)) if found else None
    said = short(re.sub(r"^.*?API Error: (\d{3} )?", "", text)) or None
    if re.search(r"apiKeyHelper", text):
        # Checked first: Claude Code then sends an empty key, so a 401 follows that says nothing about the key.
        failure = Failure("no_key", f"Claude Code's apiKeyHelper (`dsconfig key get {target.name}`) failed, so it sent no key",
                          sources.helper_fix(target.name, target.source))
    elif status is not None:
        failure = status_failure(target, status, said, model=target.main_model(), what="claude -p")
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
        failure = not_anthropic(target, "Claude Code could not read the reply", 200)
    elif re.search(r"Not logged in|/login", text):
        failure = Failure("no_key", "Claude Code found no key for this profile",
                          sources.not_logged_in_fix(target.name, target.source))
    else:
        failure = Failure("error", "Claude Code got no answer", f"run it yourself to see more: dsconfig exec {target.name} -- claude")
    return replace(failure, detail=failure.detail or short(text))


