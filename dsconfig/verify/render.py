"""Render a verify report: one table (every profile, every check), then each problem with its fix.

Kept apart from output.py so that module stays tiny for the fast paths; it reuses output.table and
output.emit_json. The spinner draws on stderr only when stderr is a terminal. Light (report.py only, no httpx):
doctor and setup use the spinner and problem_lines without loading the HTTP client.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from dsconfig import output
from dsconfig.iostreams import IOStreams
from dsconfig.verify.report import Balance, ClaudeRun, Failure, MessageCheck, ModelList, ProfileReport, VerifyReport

HEADERS = ["PROFILE", "CHECK", "MODEL", "TIERS", "ANSWERED BY", "HTTP", "1ST TOKEN", "TOTAL", "TOKENS", "RESULT"]


def render(report: VerifyReport, *, as_json: bool, out: TextIO | None = None) -> None:
    for profile in report.profiles:
        for warning in profile.warnings:
            output.warn(f"{profile.profile}: {warning}")
    if as_json:
        output.emit_json(report.to_doc(), out)
    else:
        render_text(report, out)


def render_text(report: VerifyReport, out: TextIO | None = None) -> None:
    """Through output's renderer, like every text: keys masked, a provider's control characters made visible."""
    stream = out or sys.stdout
    output.table(rows(report), HEADERS, stream)
    text = "\n" + "".join(summary(profile) + "\n" for profile in report.profiles)
    problems = [line for profile in report.profiles for line in problem_lines(profile)]
    if problems:
        text += "\nproblems and fixes:\n" + "\n".join(problems) + "\n"
    output.emit_text(text, stream)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _result(detail: str, failure: Failure | None) -> str:
    if failure is not None:
        return f"FAIL {failure.kind}"
    return f"ok, {detail}" if detail else "ok"


def _message_row(profile: str, check: MessageCheck) -> list[str]:
    tokens = ""
    if check.input_tokens is not None or check.output_tokens is not None:
        tokens = f"{check.input_tokens if check.input_tokens is not None else '?'}/{check.output_tokens if check.output_tokens is not None else '?'}"
    name = {"model": "model", "streaming": "streaming", "tool_use": "tool use"}[check.check]
    return [profile, name, check.model, " ".join(check.tiers), check.answered_by or "", str(check.status or ""),
            _duration(check.ttft), _duration(check.total), tokens, _result(check.detail, check.failure)]


def _other_row(profile: str, check: ModelList | Balance | ClaudeRun) -> list[str]:
    if isinstance(check, ClaudeRun):
        detail = f'answered "{check.result}"' if check.answered else check.detail
        return [profile, "claude -p", check.model or "", "", "", "", "", _duration(check.total), "",
                _result(detail, check.failure)]
    path = check.url.split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else path
    return [profile, check.label, f"GET {path}", "", "", str(check.status or ""), "", _duration(check.total), "",
            _result(check.detail, check.failure)]


def rows(report: VerifyReport) -> list[list[str]]:
    out: list[list[str]] = []
    for profile in report.profiles:
        if profile.setup_failure is not None:
            out.append([profile.profile, "profile", "", "", "", "", "", "", "", f"FAIL {profile.setup_failure.kind}"])
        for check in profile.checks():
            if isinstance(check, MessageCheck):
                out.append(_message_row(profile.profile, check))
            else:
                out.append(_other_row(profile.profile, check))
    return out


def summary(profile: ProfileReport) -> str:
    where = profile.base_url or "(no base URL)"
    key = f"key {profile.key} from {profile.key_source}" if profile.key else "no key"
    checks = profile.checks()
    failed = len(profile.failures())
    if failed == 0:
        verdict = f"all {len(checks)} checks passed in {_duration(profile.elapsed)}"
    elif not checks:
        verdict = "not checked"
    else:
        verdict = f"{failed} of {len(checks)} checks failed"
    return f"{profile.profile}: {where}, {key}: {verdict}"


def problem_lines(profile: ProfileReport) -> list[str]:
    """One entry per distinct problem of the profile, naming every check it hit, its explanation and its fix."""
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for label, failure in profile.failures():
        grouped.setdefault((failure.kind, failure.message, failure.hint), []).append(label)
    lines: list[str] = []
    for (kind, message, hint), labels in grouped.items():
        lines.append(f"  {profile.profile} · {', '.join(labels)}")
        lines.append(f"    {kind}: {message}")
        lines.append(f"    fix: {hint}")
    return lines


@contextmanager
def spinner(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """A one-line spinner on stderr while the checks run; nothing at all when stderr is not a terminal."""
    target = stream or sys.stderr
    if not IOStreams(stderr=target).stderr_is_terminal():
        yield
        return
    done = threading.Event()
    start = time.monotonic()
    width = 0

    def draw(frame: str) -> None:
        nonlocal width
        text = f"{frame} {label} {time.monotonic() - start:.1f} s"
        width = max(width, len(text))
        target.write("\r" + text)
        target.flush()

    def spin() -> None:
        frames = "|/-\\"
        i = 0
        while not done.wait(0.1):
            i += 1
            draw(frames[i % len(frames)])

    draw("|")
    thread = threading.Thread(target=spin, name="dsconfig-spinner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        target.write("\r" + " " * width + "\r")
        target.flush()
