"""Claude Desktop's plans: the checks before anything is planned, then `use` and `off` as file plans and
notices (data; nothing here prints)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dsconfig import fileio, jsonfile
from dsconfig.changes import FilePlan, plan_json, plan_undo, plan_whole
from dsconfig.credentials import normalize_key
from dsconfig.errors import EXIT_CONFLICT, DsconfigError, InvalidFileError
from dsconfig.journal import FileRecord
from dsconfig.keypaths import Match
from dsconfig.notices import Notice, warning
from dsconfig.profiles import Resolved
from dsconfig.targets.base import Planned, notices_of
from dsconfig.targets.claude_desktop.entry import entry_document, entry_id, entry_label, helper_path, helper_script
from dsconfig.targets.claude_desktop.machine import APP_CONFIG, META, is_running, layout, managed_sources
from dsconfig.targets.context import TargetContext
from dsconfig.targets.system import System

TARGET = "claude-desktop"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_META_HINT = (
    "fix it by hand, or let Claude Desktop rewrite it (Developer > Configure third-party inference, then save); "
    "dsconfig wrote nothing"
)


class DesktopUnsupportedError(DsconfigError):
    """The profile cannot drive Claude Desktop (no Claude-shaped models, or a plain-http remote URL)."""


class ManagedConfigError(DsconfigError):
    """A managed configuration (MDM, policy) wins over the local config library: writing it would do nothing."""

    exit_code = EXIT_CONFLICT


# --- checks before anything is planned -------------------------------------------------------------------


def check_supported(resolved: Resolved) -> None:
    """Refuse a profile the app could not use, with the reason.

    Raises: DesktopUnsupportedError (no Claude-shaped models, or a plain-http URL that is not local)."""
    template = resolved.template
    if not template.desktop_supported or not template.desktop_models:
        reason = template.desktop_reason or f"the {template.name} template lists no Claude-shaped models for Desktop"
        raise DesktopUnsupportedError(
            f"profile {resolved.name!r} cannot drive Claude Desktop: {reason}",
            f"configure Claude Code only (dsconfig use {resolved.name} --target claude-code), or use a profile whose "
            "provider shows DESKTOP yes in `dsconfig providers`",
        )
    url = urlsplit(resolved.base_url)
    host = (url.hostname or "").lower()
    if url.scheme == "https" or (url.scheme == "http" and host in _LOCAL_HOSTS):
        return
    raise DesktopUnsupportedError(
        f"profile {resolved.name!r} uses {resolved.base_url}: Claude Desktop needs https:// (plain http:// only "
        "for localhost, 127.0.0.1 or ::1)",
        f"give the profile an https URL: dsconfig profile edit {resolved.name} --base-url https://...",
    )


def _refuse_managed(ctx: TargetContext, system: System) -> None:
    found = managed_sources(ctx, system)
    if not found:
        return
    where = ", ".join(s.where for s in found)
    raise ManagedConfigError(
        f"Claude Desktop on this machine is configured by a managed source ({where}); it wins over the local "
        "config library, so the app would ignore what dsconfig writes",
        "ask whoever manages this computer (your IT administrator or MDM profile) to change or remove it; if you "
        "created it yourself, removing it needs administrator rights. dsconfig wrote nothing",
    )


def _locate(path: Path, key: str) -> tuple[int | None, int | None]:
    """Line and column of a top-level key's value, to point the user at the wrong type."""
    data = fileio.read_bytes(path)
    if not data:
        return None, None
    text = data.decode("utf-8", "replace")
    match = re.search('"' + re.escape(key) + r'"\s*:\s*', text)
    if match is None:
        return None, None
    offset = match.end()
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _shape_error(path: Path, key: str, problem: str, hint: str) -> InvalidFileError:
    line, column = _locate(path, key)
    return InvalidFileError(path, f"{key!r} {problem}", hint, line=line, column=column)


def check_meta(path: Path, doc: dict[str, Any]) -> None:
    """`_meta.json` must have the shape the engine edits: an `entries` list of objects, a string `appliedId`.

    Raises: InvalidFileError with the line and column of the member of the wrong shape."""
    entries = doc.get("entries", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _shape_error(path, "entries", 'must be a list of objects like {"id": "...", "name": "..."}', _META_HINT)
    if any("id" in e and not isinstance(e["id"], str) for e in entries):
        raise _shape_error(path, "entries", "holds an entry whose id is not a string", _META_HINT)
    # null is tolerated: it reads as "no configuration applied", which is what absence means.
    if doc.get("appliedId") is not None and not isinstance(doc["appliedId"], str):
        raise _shape_error(path, "appliedId", f"must be a string (the applied entry's id), not {_json_type(doc['appliedId'])}", _META_HINT)


def check_app_config(path: Path, doc: dict[str, Any]) -> None:
    """`deploymentMode`, when present, must be a string.

    Raises: InvalidFileError with its line and column."""
    if "deploymentMode" in doc and not isinstance(doc["deploymentMode"], str):
        raise _shape_error(path, "deploymentMode", f'must be a string ("1p" or "3p"), not {_json_type(doc["deploymentMode"])}',
                           f'set it to "1p" or remove the line in {path}; dsconfig wrote nothing')


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object", str: "a string"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _check_entry_file(path: Path) -> None:
    data = fileio.read_bytes(path)
    if data is not None:
        jsonfile.parse_json_object(path, data, what="Claude Desktop configuration")


# --- plans -----------------------------------------------------------------------------------------------


def _owner(profile: str) -> dict[str, str]:
    # scope "user": Desktop has one configuration per user; keeps owner records shaped like Claude Code's.
    return {"target": TARGET, "scope": "user", "profile": profile}


def _records(ctx: TargetContext) -> list[FileRecord]:
    return ctx.journal.owned_by(target=TARGET)


def _what(path: Path) -> str:
    if path.name == META:
        return "Claude Desktop config library index"
    if path.name == APP_CONFIG:
        return "Claude Desktop config file"
    return "Claude Desktop configuration"


def plan_use(resolved: Resolved, ctx: TargetContext, *, inline_key: str | None = None,
             system: System | None = None) -> Planned:
    """Plan making `resolved` the applied Claude Desktop configuration (Desktop has one configuration per
    user: no scope). Every file is read and validated here, so a malformed one stops the command before
    anything is written. The notices: the engine's notes, --inline-key, a running app.

    Raises: DesktopUnsupportedError (the profile cannot drive Desktop), ManagedConfigError (a managed source
    wins), InvalidFileError (a malformed file)."""
    system = system or ctx.system
    check_supported(resolved)
    _refuse_managed(ctx, system)
    key = normalize_key(inline_key) if inline_key is not None else None
    lay = layout(ctx)
    eid = entry_id(resolved.name)
    owner = _owner(resolved.name)
    plans: list[FilePlan] = []
    helper = None
    if key is None:
        helper = helper_path(resolved.name, ctx)
        plans.append(plan_whole(helper, helper_script(resolved.name, ctx), owner=owner, journal=ctx.journal))
    # The entry file before `_meta.json`: the app must never find appliedId naming a file that is not there.
    entry = lay.entry(eid)
    _check_entry_file(entry)
    document = entry_document(resolved, helper=helper, inline_key=key)
    plans.append(plan_whole(entry, jsonfile.JsonStyle().dump(document), owner=owner, journal=ctx.journal))
    meta_edits = {("appliedId",): eid, ("entries", Match("id", eid)): {"id": eid, "name": entry_label(resolved)}}
    plans.append(plan_json(lay.meta, meta_edits, owner=owner, journal=ctx.journal, what=_what(lay.meta),
                           validate=check_meta, new_file_style=jsonfile.JsonStyle()))
    for config in lay.app_configs:
        plans.append(plan_json(config, {("deploymentMode",): "3p"}, owner=owner, journal=ctx.journal,
                               what=_what(config), validate=check_app_config, new_file_style=jsonfile.JsonStyle()))
    # Files of an earlier `use` this one does not write again (another profile's entry and helper, a helper
    # after --inline-key): undone, after `_meta.json` stopped naming them.
    wanted = {p.path for p in plans}
    stale = _keep_helpers_of_kept_entries(
        [plan_undo(r.path, journal=ctx.journal, what=_what(r.path)) for r in _records(ctx) if r.path not in wanted], ctx)
    plans += stale
    # Where the engine kept a value the user changed, found a file already gone, or writes again a file of its
    # own someone changed.
    found = notices_of(plans)
    if key is not None:
        found.append(warning(f"--inline-key: the API key is stored in plain text in {entry} (0600); without "
                             "--inline-key Claude Desktop reads it from the OS keyring through a helper"))
    found += _running(ctx, system)
    return Planned(plans, tuple(found))


def _keep_helpers_of_kept_entries(plans: list[FilePlan], ctx: TargetContext) -> list[FilePlan]:
    """An entry file left in place (changed since dsconfig wrote it) still runs its profile's credential helper:
    that helper stays too, kept with it for `off --force`, so the entry the person kept goes on working."""
    kept = {p.record.owner.get("profile") for p in plans
            if p.record is not None and p.record.kept_only and p.record.kind == "whole" and p.path.suffix == ".json"}
    out = []
    for plan in plans:
        record = ctx.journal.get(plan.path)
        profile = record.owner.get("profile") if record is not None else None
        if (profile in kept and record is not None and record.kind == "whole" and plan.path.suffix != ".json"
                and plan.after is None and plan.before is not None):
            plan = FilePlan(plan.path, plan.before, plan.before, replace(record, kept_only=True),
                            (f"{plan.path} kept: the entry left in place runs it",))
        out.append(plan)
    return out


def _undo_order(record: FileRecord) -> int:
    # `_meta.json` first, so the app never names an entry whose file is gone; helpers last.
    if record.path.name == META:
        return 0
    if record.path.name == APP_CONFIG:
        return 1
    return 2 if record.kind == "json" or record.path.suffix == ".json" else 3


def plan_off(ctx: TargetContext, *, force: bool = False, system: System | None = None) -> Planned:
    """Plan undoing every file dsconfig changed for Claude Desktop: our entry and helper go, `appliedId` and
    `deploymentMode` get their earlier values (or absence) back. A value the user changed since is kept
    (with a warning) unless `force`.

    Raises: InvalidFileError (a malformed file)."""
    records = sorted(_records(ctx), key=_undo_order)
    plans = _keep_helpers_of_kept_entries(
        [plan_undo(r.path, journal=ctx.journal, force=force, what=_what(r.path)) for r in records], ctx)
    found = notices_of(plans)
    if any(p.changed for p in plans):
        found += _running(ctx, system or ctx.system)
    return Planned(plans, tuple(found))


def _running(ctx: TargetContext, system: System) -> list[Notice]:
    if not is_running(ctx, system):
        return []
    return [warning("Claude Desktop is running: it reads this configuration only when it starts, and writes its "
                    "settings when it quits (which can undo this change). Quit it completely (menu Claude > Quit, "
                    "or Quit from the tray icon), then open it again.")]
