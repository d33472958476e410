"""`dsconfig detect`: what is installed and which settings are in play, for Claude Code and Claude Desktop.

Each target module answers for itself (`detect(ctx)`); this module puts the answers into one JSON-ready
document, so `setup`, `status` and `doctor` share it. Claude Desktop's module is optional and imported only
here, lazily. One target failing to report does not hide the other: its entry says what went wrong.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from dsconfig.errors import DsconfigError
from dsconfig.targets.context import TargetContext

DESKTOP_MODULE = "dsconfig.targets.claude_desktop"


def _desktop_detect() -> Callable[[TargetContext], dict[str, Any]] | None:
    if importlib.util.find_spec(DESKTOP_MODULE) is None:
        return None
    detect_fn = getattr(importlib.import_module(DESKTOP_MODULE), "detect", None)
    return detect_fn if callable(detect_fn) else None


def _guarded(name: str, fn: Callable[[TargetContext], dict[str, Any]], ctx: TargetContext) -> dict[str, Any]:
    try:
        return fn(ctx)
    except DsconfigError as err:
        return {"target": name, "error": err.message, "hint": err.hint}


def detect(ctx: TargetContext | None = None, *,
           claude_code: Callable[[TargetContext], dict[str, Any]] | None = None,
           claude_desktop: Callable[[TargetContext], dict[str, Any]] | None = None) -> dict[str, Any]:
    """`{"claude_code": {...}, "claude_desktop": {...} | null}`; the target functions are injectable."""
    from dsconfig.targets import claude_code as code_module

    t = ctx or TargetContext()
    desktop = claude_desktop or _desktop_detect()
    return {
        "claude_code": _guarded("claude-code", claude_code or code_module.detect, t),
        "claude_desktop": _guarded("claude-desktop", desktop, t) if desktop is not None else None,
    }


# --- text rendering (for cli.py) ----------------------------------------------------------------------------


def render_text(doc: dict[str, Any]) -> str:
    """A short human summary of `detect()`; `--json` gives everything."""
    lines = ["Claude Code:"] + _code_lines(doc.get("claude_code") or {})
    desktop = doc.get("claude_desktop")
    lines += ["", "Claude Desktop:"] + (_desktop_lines(desktop) if desktop else ["  not supported by this dsconfig"])
    return "\n".join(lines) + "\n"


def _code_lines(code: dict[str, Any]) -> list[str]:
    if code.get("error"):
        return [f"  error: {code['error']}"]
    lines = [f"  {'*' if i['active'] else ' '} {i['path']} ({i['kind']}) "
             + (i["version"] or f"BROKEN: {i['error']}") for i in code.get("installs", [])]
    lines = lines or ["  not installed (install: npm install -g @anthropic-ai/claude-code, or the native installer)"]
    for f in code.get("settings_files", []):
        state = f"error: {f['error']}" if f["error"] else ("exists" if f["exists"] else "absent")
        sets = f"; sets {', '.join(sorted(f['sets']))}" if f.get("sets") else ""
        lines.append(f"  {f['scope']:<13} {f['path']} ({state}{sets})")
        lines += [f"      note: {n}" for n in f.get("notes", [])]
    base = code.get("base_url") or {}
    lines.append(f"  base URL:   {base.get('value') or 'default (Anthropic)'}" + (f"  from {base['source']}" if base.get("source") else ""))
    cred = code.get("credential")
    lines.append("  credential: " + (f"{cred['kind']} {cred.get('value') or ''} from {cred['source']}".replace("  ", " ")
                                     if cred else "none (claude will ask to log in)"))
    for other in code.get("other_credentials", []):
        lines.append(f"  also sent:  {other['kind']} from {other['source']} (two different keys may reach the provider)")
    if code.get("cloud_provider"):
        lines.append(f"  {code['cloud_provider']} is on: Claude Code talks to that cloud provider, not the base URL")
    if code.get("environment"):
        lines.append(f"  exported:   {', '.join(code['environment'])}")
    return lines


def _desktop_lines(desktop: dict[str, Any]) -> list[str]:
    if desktop.get("error"):
        return [f"  error: {desktop['error']}"]
    installs = desktop.get("installs") or []
    lines = [f"    {i.get('path')} ({i.get('kind')}) {i.get('version') or ''}".rstrip() for i in installs]
    return lines or ["  not installed"]
