"""`dsconfig detect`: what is installed and which settings are in play, for every registered target.

Each target answers for itself (`Target.detect(ctx)`, dsconfig.targets); this module puts the answers into one
JSON-ready document keyed by target id (`claude-code` -> `claude_code`), so `setup`, `status` and `doctor`
share it. One target failing to report does not hide the others: its entry says what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dsconfig import targets
from dsconfig.errors import DsconfigError
from dsconfig.targets.context import TargetContext

Detector = Callable[[TargetContext], Mapping[str, Any]]


def json_key(target_id: str) -> str:
    """The document's key for a target: `claude-code` -> `claude_code`."""
    return target_id.replace("-", "_")


def _guarded(name: str, fn: Detector, ctx: TargetContext) -> Mapping[str, Any]:
    try:
        return fn(ctx)
    except DsconfigError as err:
        return {"target": name, "error": err.message, "hint": err.hint}


def detect(ctx: TargetContext | None = None, *, claude_code: Detector | None = None,
           claude_desktop: Detector | None = None) -> dict[str, Mapping[str, Any]]:
    """`{"claude_code": {...}, "claude_desktop": {...}}`, one entry per registered target; the detectors of the
    two built-in targets are injectable (tests)."""
    t = ctx or TargetContext()
    given: dict[str, Detector | None] = {"claude-code": claude_code, "claude-desktop": claude_desktop}
    doc: dict[str, Mapping[str, Any]] = {}
    for target in targets.all_targets():
        doc[json_key(target.id)] = _guarded(target.id, given.get(target.id) or target.detect, t)
    return doc


# --- text rendering (for cli.py) ----------------------------------------------------------------------------


def render_text(doc: Mapping[str, Any]) -> str:
    """A short human summary of `detect()`; `--json` gives everything."""
    lines = ["Claude Code:"] + _code_lines(doc.get("claude_code") or {})
    desktop = doc.get("claude_desktop")
    lines += ["", "Claude Desktop:"] + (_desktop_lines(desktop) if desktop else ["  not supported by this dsconfig"])
    return "\n".join(lines) + "\n"


def _code_lines(code: Mapping[str, Any]) -> list[str]:
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


def _desktop_lines(desktop: Mapping[str, Any]) -> list[str]:
    if desktop.get("error"):
        return [f"  error: {desktop['error']}"]
    installs = desktop.get("installs") or []
    lines = [f"    {i.get('path')} ({i.get('kind')}) {i.get('version') or ''}".rstrip() for i in installs]
    return lines or ["  not installed"]
