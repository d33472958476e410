"""Claude Desktop: switch the desktop app to a profile through its third-party-inference config library.

What `use` writes (facts: TARGETS.md section 3), every file through dsconfig.changes so `off` is exact:

- one entry of the config library for the profile, `<id>.json` (flat keys, native JSON types), listed in
  `_meta.json` and made the applied one there; the user's own entries are never touched;
- a per-profile credential helper, a tiny script in dsconfig's state folder that execs
  `dsconfig key get NAME`, so the key stays in the OS keyring (`--inline-key` writes the key into the entry
  instead, with a warning);
- `"deploymentMode": "3p"` in `claude_desktop_config.json` of both the `Claude` and the `Claude-3p` data
  folders, keeping `mcpServers` and every other key.

Decisions (the reasons are in the functions that carry them out):

- The entry id is uuid5(a fixed namespace, profile name): stable, so a second `use` updates the same entry,
  and `status` can tell which profile an applied id belongs to.
- dsconfig keeps one entry at a time: switching from A to B removes A's entry and helper. The engine does it
  (every key A's `use` set and B's does not want goes back to its original value), so the library never
  collects stale dsconfig entries and `off` always has exactly one entry to remove.
- With the helper, `inferenceGatewayApiKey` holds a fixed placeholder, never a key: TARGETS says the value must
  not be empty (uncertain with a helper), and the helper's output replaces it. If some build used the
  placeholder anyway, the provider refuses it (a visible 401), and no secret is ever on disk.

Everything outside the home folder (the root of system paths, subprocesses, the Windows registry) comes from a
`System` value, so tests lay out macOS, Windows and Linux machines, managed sources and running apps in temp
folders on Linux (TargetContext.system).

The package: `machine` (folders, installs, managed sources, processes), `entry` (the library entry and the
credential helper), `plan` (checks, `use` and `off` as plans and notices), and here `detect`, `status` and
the `ClaudeDesktop` target registered in dsconfig.targets.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from dsconfig import fileio, jsonfile
from dsconfig.changes import FilePlan
from dsconfig.errors import InvalidFileError
from dsconfig.notices import Notice
from dsconfig.profiles import Resolved
from dsconfig.targets.base import Planned, RunOverrides
from dsconfig.targets.claude_desktop.entry import (
    ENTRY_NAMESPACE,
    HELPER_KEY_PLACEHOLDER,
    HELPER_MODE,
    entry_document,
    entry_id,
    entry_label,
    file_modes,
    helper_path,
    helper_script,
    inference_models,
)
from dsconfig.targets.claude_desktop.machine import (
    APP_CONFIG,
    META,
    MSIX_FAMILY,
    PLIST_DOMAIN,
    Layout,
    ManagedSource,
    _is_desktop_command,
    installs,
    is_running,
    layout,
    managed_sources,
)
from dsconfig.targets.claude_desktop.plan import (
    TARGET,
    DesktopUnsupportedError,
    ManagedConfigError,
    _owner,
    _records,
    _what,
    check_app_config,
    check_meta,
    check_supported,
)
from dsconfig.targets.claude_desktop.plan import plan_off as _plan_off
from dsconfig.targets.claude_desktop.plan import plan_use as _plan_use
from dsconfig.targets.context import TargetContext
from dsconfig.targets.filedrift import file_drift
from dsconfig.targets.system import Ran, System, policy_registry_keys, run_quietly

__all__ = [
    "APP_CONFIG", "ENTRY_NAMESPACE", "HELPER_KEY_PLACEHOLDER", "HELPER_MODE", "META", "MSIX_FAMILY", "PLIST_DOMAIN",
    "TARGET", "ClaudeDesktop", "DesktopUnsupportedError", "Layout", "ManagedConfigError", "ManagedSource", "Ran",
    "System", "_is_desktop_command", "_owner", "check_app_config", "check_meta", "check_supported", "detect",
    "entry_document", "entry_id", "entry_label", "file_modes", "helper_path", "helper_script", "inference_models",
    "installs", "is_running", "layout", "managed_sources", "plan_off", "plan_use", "policy_registry_keys",
    "run_quietly", "status", "status_report",
]

Warn = Callable[[str], None]


def plan_use(resolved: Resolved, ctx: TargetContext, *, scope: str = "user", inline_key: str | None = None,
             system: System | None = None, warn: Warn | None = None) -> list[FilePlan]:
    """The file plans of `plan.plan_use`; its notices go to `warn` when given (tests), else nowhere: the
    registered target (`CLAUDE_DESKTOP`) returns them as data for the renderer.

    Raises: as plan.plan_use."""
    del scope
    planned = _plan_use(resolved, ctx, inline_key=inline_key, system=system)
    _hand_over(planned, warn)
    return planned.files


def plan_off(ctx: TargetContext, *, scope: str = "user", force: bool = False, system: System | None = None,
             warn: Warn | None = None) -> list[FilePlan]:
    """The file plans of `plan.plan_off`; its notices go to `warn` when given.

    Raises: as plan.plan_off."""
    del scope
    planned = _plan_off(ctx, force=force, system=system)
    _hand_over(planned, warn)
    return planned.files


def _hand_over(planned: Planned, warn: Warn | None) -> None:
    if warn is not None:
        for item in planned.notices:
            warn(item.text)


def _read_quietly(path: Path, check: Callable[[Path, dict[str, Any]], None]) -> tuple[dict[str, Any] | None, str | None]:
    """A file for reporting: (document, None), (None, None) when absent, (None, problem) when malformed."""
    try:
        data = fileio.read_bytes(path)
        if data is None:
            return None, None
        doc = jsonfile.parse_json_object(path, data, what=_what(path))
        check(path, doc)
    except InvalidFileError as err:
        return None, err.message
    return doc, None


def _config_files(lay: Layout) -> list[dict[str, Any]]:
    rows = []
    for path in lay.app_configs:
        doc, problem = _read_quietly(path, check_app_config)
        rows.append({"path": str(path), "exists": path.exists(), "deploymentMode": (doc or {}).get("deploymentMode"),
                     "problem": problem})
    return rows


class DetectJSON(TypedDict):
    """What `dsconfig detect --json` says under `claude_desktop` (README, "detect")."""

    target: str
    platform: str
    installed: bool
    version: str | None
    installs: list[dict[str, Any]]
    running: bool | None
    layout: str
    library: dict[str, Any]
    config_files: list[dict[str, Any]]
    managed: list[dict[str, str]]


def detect(ctx: TargetContext, *, system: System | None = None) -> DetectJSON:
    """What `dsconfig detect` reports about Claude Desktop (JSON-ready; keys documented in the README)."""
    system = system or ctx.system
    lay = layout(ctx)
    found = installs(ctx, system)
    managed = managed_sources(ctx, system)
    return {
        "target": TARGET,
        "platform": ctx.platform,
        "installed": bool(found),
        "version": next((i["version"] for i in found if i["version"]), None),
        "installs": found,
        "running": is_running(ctx, system),
        "layout": lay.variant,
        "library": {"path": str(lay.library), "exists": lay.library.is_dir()},
        "config_files": _config_files(lay),
        "managed": [m.to_json() for m in managed],
    }


def status(ctx: TargetContext, *, system: System | None = None) -> dict[str, Any]:
    """Which configuration Desktop has applied, whether it is still dsconfig's, whether a managed source wins."""
    system = system or ctx.system
    lay = layout(ctx)
    meta, problem = _read_quietly(lay.meta, check_meta)
    applied = (meta or {}).get("appliedId")
    names = {e["id"]: e.get("name") for e in (meta or {}).get("entries", []) if isinstance(e.get("id"), str)}
    profile = next((r.owner.get("profile") for r in _records(ctx) if r.path == lay.meta), None)
    ours = entry_id(profile) if profile else None
    managed = managed_sources(ctx, system)
    return {
        "target": TARGET,
        "library": str(lay.library),
        "applied_id": applied,
        "applied_name": names.get(applied) if applied else None,
        "applied_profile": profile if ours is not None and applied == ours else None,
        "dsconfig_profile": profile,
        "dsconfig_entry_id": ours,
        "dsconfig_entry_applied": ours is not None and applied == ours,
        "credential": _credential_kind(lay.entry(ours)) if ours else None,
        "managed": [m.to_json() for m in managed],
        "managed_overrides": bool(managed),
        "config_files": _config_files(lay),
        "running": is_running(ctx, system),
        "problems": [problem] if problem else [],
    }


def _credential_kind(entry: Path) -> str | None:
    doc, _ = _read_quietly(entry, lambda _p, _d: None)
    kind = (doc or {}).get("inferenceCredentialKind")
    return kind if isinstance(kind, str) else None



class StatusJSON(TypedDict):
    """DESKTOP in dsconfig.status."""

    installed: bool
    library: str
    applied_id: str | None
    applied_name: str | None
    profile: str | None
    applied: bool
    credential: str | None
    managed: list[dict[str, str]]
    running: bool | None
    state: str
    drift: list[dict[str, Any]]
    problems: list[str]


def status_report(ctx: TargetContext) -> StatusJSON:
    """What `dsconfig status` reports for Claude Desktop (DESKTOP in dsconfig.status): the applied entry,
    whether it is still dsconfig's and unchanged (the journal's drift), a managed source, a running app."""
    st = status(ctx)
    records = _records(ctx)
    drift = [{"path": str(r.path), **entry} for r in records for entry in file_drift(r)]
    if records:
        state = "drifted" if drift or not st["dsconfig_entry_applied"] else "applied"
    else:
        state = "other" if st["applied_id"] else "none"
    return {
        "installed": bool(installs(ctx)),
        "library": st["library"],
        "applied_id": st["applied_id"],
        "applied_name": st["applied_name"],
        "profile": st["dsconfig_profile"],
        "applied": bool(st["dsconfig_entry_applied"]),
        "credential": st["credential"],
        "managed": st["managed"],
        "running": st["running"],
        "state": state,
        "drift": drift,
        "problems": list(st["problems"]),
    }


# --- the target ------------------------------------------------------------------------------------------


class ClaudeDesktop:
    """Claude Desktop as a dsconfig target (targets.base.Target): one configuration per user."""

    id = TARGET
    label = "Claude Desktop"
    scopes = ("user",)

    def detect(self, ctx: TargetContext) -> DetectJSON:
        return detect(ctx)

    def present(self, ctx: TargetContext) -> bool:
        """Installed, or its configuration folders exist."""
        doc = detect(ctx)
        if doc.get("installed"):
            return True
        return bool(doc["library"]["exists"]) or any(f.get("exists") for f in doc["config_files"])

    def check_supported(self, resolved: Resolved) -> None:
        check_supported(resolved)

    def plan_use(self, resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: str | None) -> Planned:
        del scope
        return _plan_use(resolved, ctx, inline_key=inline_key)

    def plan_off(self, ctx: TargetContext, *, scope: str, force: bool) -> Planned:
        del scope
        return _plan_off(ctx, force=force)

    def file_modes(self, ctx: TargetContext, profile: str, *, scope: str, inline_key: bool) -> dict[Path, int]:
        return file_modes(ctx, profile, scope=scope, inline_key=inline_key)

    def use_warnings(self, resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: bool) -> list[Notice]:
        return []  # planning says it all (running app, --inline-key)

    def off_warnings(self, ctx: TargetContext) -> list[Notice]:
        return []

    def status(self, ctx: TargetContext) -> StatusJSON:
        return status_report(ctx)

    def run_overrides(self, resolved: Resolved, ctx: TargetContext) -> RunOverrides:
        return RunOverrides()  # the app is not started per run


CLAUDE_DESKTOP = ClaudeDesktop()
