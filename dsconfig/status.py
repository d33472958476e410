"""`dsconfig status`: what is in effect for each program, where it comes from, and whether it drifted.

For Claude Code (started in the current folder), Claude Desktop and the current shell's environment: the
values that decide endpoint, key and models, the file or variable each comes from, and, for every file
dsconfig wrote, whether it still holds what dsconfig wrote (the journal remembers every key it set). Keys are
masked. No network: only local files, the journal, the keyring (to mask the active profile's key and to tell
whether an exported key is the profile's) and /proc (is Claude Desktop running).

JSON document (`status_doc()`, `dsconfig status --json`); every key is always present, absent values are null:

    {"profiles_error": str|null, "interrupted_switch": {...}|null, "active_profile": PROFILE|null, "project_profile": PROJECT|null,
     "claude_code": CODE, "claude_desktop": DESKTOP, "shell": SHELL}
    PROFILE = {"name", "provider", "base_url", "key", "key_error", "key_source"}
              # key_source: keyring | env:VAR | command:CMD | kernel (never the key; a command: key is not read)
    PROJECT = PROFILE + {"path"}   # what `use --scope project` applied in cwd (the journal), while its file is there;
              # `env`, `exec` and `verify` default to it in that folder
    SHELL is compared with the profile in effect: PROJECT's, else the active one.
    CODE    = {"cwd", "effective": EFFECTIVE, "files": [FILE, ...]}
    EFFECTIVE = {"base_url": {"value", "source"}, "credential": CRED|null, "other_credentials": [CRED, ...],
                 "models": {VAR: {"value", "source"}}, "cloud_provider": VAR|null}
                 # as claude_code.effective(): CRED = {"kind", "source", "value" (masked), ...}
    FILE    = {"scope", "path", "exists", "error", "sets", "profile", "state", "drift": [DRIFT, ...], "notes": [str, ...]}
              # scope: managed | project-local (what `--scope project` writes) | project | user
              # state: applied (dsconfig wrote it, unchanged) | drifted (changed since) | kept (off kept hand-changed
              # values, for off --force) | other (routing keys
              #        dsconfig did not write) | none (nothing that routes Claude Code) | invalid
    DRIFT   = {"key", "wrote", "now", "change"}   # change: changed | removed | added | file-removed | file-changed
    DESKTOP = {"installed", "library", "applied_id", "applied_name", "profile", "applied", "credential",
               "managed", "running", "state", "drift": [DRIFT + "path", ...], "problems"}
    SHELL   = {"shell", "variables": {VAR: value (keys masked)}, "profile", "state", "differs": [VAR, ...]}
              # state: none (nothing exported) | matches (what `dsconfig env` sets for the active profile)
              #        | differs (anything else); profile: the profile whose base URL is exported
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypedDict

from dsconfig import actions, fileio, targets, vocab
from dsconfig.credentials import mask
from dsconfig.detect import json_key
from dsconfig.drift import AppliedLagJSON
from dsconfig.errors import DsconfigError
from dsconfig.keysources import COMMAND, KeySource
from dsconfig.profiles import Resolved
from dsconfig.targets.context import TargetContext
from dsconfig.targets.filedrift import file_drift
from dsconfig.targets.system import System

__all__ = ["applied_lag", "differs_from_profile", "file_drift", "interrupted_switch", "render_text",
           "shell_doc", "status_doc"]


# --- the documents -----------------------------------------------------------------------------------------


class ProfileJSON(TypedDict):
    """PROFILE above."""

    name: str | None
    provider: str | None
    base_url: str | None
    key: str | None
    key_error: str | None
    key_source: str | None


class ProjectJSON(ProfileJSON):
    """PROJECT above."""

    path: str


class InterruptedJSON(TypedDict):
    command: str
    profile: str | None
    scope: str
    targets: list[str]
    message: str
    fix: str


class ShellJSON(TypedDict):
    """SHELL above."""

    shell: str
    variables: dict[str, str]
    profile: str | None
    state: str
    differs: list[str]


def _profile_json(name: str | None, *, key_error: str | None, provider: str | None = None, base_url: str | None = None,
                  key: str | None = None, key_source: str | None = None) -> ProfileJSON:
    return {"name": name, "provider": provider, "base_url": base_url, "key": key, "key_error": key_error,
            "key_source": key_source}


# --- the active profile -----------------------------------------------------------------------------------


Found = tuple[ProfileJSON | None, Resolved | None, str | None]


def _profiles_error(actx: actions.Context) -> str | None:
    """Why profiles.toml cannot be loaded (file, line, column and the fix), or None when it can."""
    try:
        actx.store.load()
    except DsconfigError as err:
        return err.render().removeprefix("error: ")
    return None


def _active(actx: actions.Context) -> Found:
    """(PROFILE doc, resolved profile, key) of the active profile; Nones when there is none (or profiles.toml
    cannot be loaded: `profiles_error` says why)."""
    try:
        found = actx.store.load()
    except DsconfigError:
        return None, None, None
    if not found.active or found.active not in found.profiles:
        return None, None, None
    return _profile(actx, found.active)


def _folder(actx: actions.Context, tctx: TargetContext) -> tuple[ProjectJSON | None, Resolved | None, str | None]:
    """(PROJECT doc, resolved, key) of the profile `use --scope project` applied to tctx.cwd; Nones when none."""
    from dsconfig import paths

    name = actions.folder_profile(tctx.cwd, tctx.journal.path)
    if name is None:
        return None, None, None
    try:
        actx.store.load()
    except DsconfigError as err:
        doc: ProfileJSON | None = _profile_json(name, key_error=err.message)
        resolved, key = None, None
    else:
        doc, resolved, key = _profile(actx, name)
    assert doc is not None
    return {**doc, "path": str(paths.claude_project_settings(tctx.cwd)[0])}, resolved, key


def _source_text(source: KeySource) -> str:
    """The key source as `profile show` shows it; a key written into a command: source is masked."""
    from dsconfig import output
    from dsconfig.keysources import command_secret_warning

    command_secret_warning(source)  # registers what looks like a key in the command, so scrub() masks it
    return output.scrub(str(source))


def _profile(actx: actions.Context, name: str) -> Found:
    """(PROFILE doc, resolved profile, key) of profile `name`. A `command:` key is not read: status runs no
    command (it may ask for a password or a fingerprint), as `profile show`."""
    profiles = actx.store.load().profiles
    if name not in profiles:
        return _profile_json(name, key_error=f"no profile named {name!r} (dsconfig profile list)"), None, None
    profile = profiles[name]
    source = _source_text(profile.key_source)
    try:
        resolved = actions.resolved_profile(name, actx)
    except DsconfigError as err:
        return _profile_json(profile.name, provider=profile.provider, base_url=profile.base_url, key_error=err.message,
                             key_source=source), None, None
    key, key_error = None, None
    if profile.key_source.kind == COMMAND:
        key_error = f"read when needed from a command (test it: dsconfig key get {name})"
    else:
        try:
            key = actx.secrets.get(resolved.name)
            key_error = None if key else f"no key stored (dsconfig key set {resolved.name})"
        except DsconfigError as err:
            key_error = err.message
    doc = _profile_json(resolved.name, provider=resolved.profile.provider, base_url=resolved.base_url,
                        key=mask(key) if key else None, key_error=key_error, key_source=source)
    return doc, resolved, key


# --- the shell's environment ------------------------------------------------------------------------------


def shell_doc(tctx: TargetContext, actx: actions.Context, resolved: Resolved | None, key: str | None) -> ShellJSON:
    from dsconfig.targets import claude_code, shell

    shown = claude_code.environment_routing(tctx.environ)
    doc: ShellJSON = {"shell": shell.choose_shell(tctx.environ, tctx.platform)[0], "variables": shown,
                      "profile": _profile_with_url(actx, tctx.environ.get("ANTHROPIC_BASE_URL")),
                      "state": "none", "differs": []}
    if not shown:
        return doc
    differs = differs_from_profile(tctx.environ, resolved, key) if resolved is not None else sorted(shown)
    doc["differs"] = differs
    doc["state"] = "differs" if differs else "matches"
    return doc


def differs_from_profile(environ: Mapping[str, str], resolved: Resolved, key: str | None) -> list[str]:
    """Variables whose value in `environ` is not what `dsconfig env` sets for the profile: every variable the
    profile sets or unsets, and every exported routing variable it does not know. An exported key is compared
    only when the keyring answered."""
    from dsconfig.targets import claude_code

    wanted = resolved.process_env(key or "")
    out = []
    for var in sorted(set(wanted) | set(claude_code.environment_routing(environ))):
        if var in vocab.KEY_VARS and key is None:
            continue
        if (wanted.get(var) or None) != (environ.get(var) or None):
            out.append(var)
    return out


def _profile_with_url(actx: actions.Context, url: str | None) -> str | None:
    if not url:
        return None
    try:
        names = list(actx.store.load().profiles)
    except DsconfigError:
        return None
    for name in names:
        try:
            if actions.resolved_profile(name, actx).base_url == url.rstrip("/"):
                return name
        except DsconfigError:
            continue
    return None


# --- the document and its text --------------------------------------------------------------------------


def status_doc(*, actx: actions.Context | None = None, tctx: TargetContext | None = None, root: Path | None = None,
               system: System | None = None) -> dict[str, Any]:
    """Everything `dsconfig status` reports: the profiles, then each registered target's `status()` under its
    key (`claude_code`, `claude_desktop`), then the shell. `root` / `system`: where system-wide files are looked
    up (tests; the same as TargetContext.root / .system)."""
    a = actx or actions.Context()
    t = tctx or TargetContext()
    if root is not None:
        t = replace(t, root=root)
    if system is not None:
        t = replace(t, system=system)
    profile, resolved, key = _active(a)
    project, project_resolved, project_key = _folder(a, t)
    if project is not None:  # `dsconfig env` here prints the folder's profile: the shell is compared with it
        resolved, key = project_resolved, project_key
    doc: dict[str, Any] = {
        "profiles_error": _profiles_error(a),
        "interrupted_switch": interrupted_switch(t),
        "applied_lag": applied_lag(t, a),
        "active_profile": profile,
        "project_profile": project,
    }
    for target in targets.all_targets():
        doc[json_key(target.id)] = target.status(t)
    doc["shell"] = shell_doc(t, a, resolved, key)
    return doc


_STATE_TEXT = {
    "applied": "written by dsconfig, unchanged",
    "drifted": "written by dsconfig, CHANGED since",
    "kept": "dsconfig's profile is off here; it kept the values you changed by hand (`dsconfig off --force` puts "
            "the originals back)",
    "other": "not written by dsconfig",
    "none": "nothing that routes Claude Code",
    "invalid": "INVALID",
}


def applied_lag(tctx: TargetContext, actx: actions.Context) -> list[AppliedLagJSON]:
    """Claude Code settings files whose applied values lag what their profile resolves to now (a template
    changed by an upgrade, `profile edit` without `use`): per file, the differences and the one command that
    refreshes it. Files that cannot be read are reported elsewhere (their state is "invalid")."""
    from dsconfig import drift
    from dsconfig.claudejson import parse_json_like_claude

    out: list[AppliedLagJSON] = []
    for record in tctx.journal.owned_by(target=vocab.TARGET_CLAUDE_CODE, applied_only=True):
        if record.path.name == ".claude.json" or not record.owner.get("profile"):
            continue
        try:
            data = fileio.read_bytes(record.path)  # read as Claude Code reads it, like every report
            if data is None:
                continue  # the file is gone (a project folder removed): nothing applied there lags anything
            doc = parse_json_like_claude(record.path, data)[0]
            resolved = actions.resolved_profile(record.owner["profile"], actx)
        except DsconfigError:
            continue
        env = doc.get("env")
        lag = drift.settings_drift(env if isinstance(env, dict) else {}, resolved)
        if lag is None:
            continue
        scope = record.owner.get("scope", "user")
        entry: AppliedLagJSON = {**lag.to_doc(), "path": str(record.path), "scope": scope}
        if scope == "project":
            entry["fix"] = f"cd '{record.path.parent.parent}' && dsconfig use {lag.profile} --scope project"
        out.append(entry)
    return out


def interrupted_switch(tctx: TargetContext) -> InterruptedJSON | None:
    """A `use`/`off` killed between two files (the journal's switch marker): what it was and how to settle it."""
    marker = tctx.journal.switch() if tctx.journal.path.exists() else None
    if marker is None:
        return None
    finish = marker.describe().strip("`")
    undo = marker.undo_command()
    return {"command": marker.command, "profile": marker.profile, "scope": marker.scope, "targets": list(marker.targets),
            "message": f"{marker.describe()} was interrupted part way: some files may be switched and others not",
            "fix": f"{finish}   (finishes it), or {undo}   (undoes what it switched)"}


def render_text(doc: Mapping[str, Any]) -> str:
    lines = []
    if doc.get("interrupted_switch"):
        cut = doc["interrupted_switch"]
        lines += [f"WARNING: {cut['message']}", f"  fix: {cut['fix']}", ""]
    if doc.get("profiles_error"):
        lines.append(f"profiles: cannot be read: {doc['profiles_error']}")
    else:
        lines += _profile_lines(doc["active_profile"])
    project = doc.get("project_profile")
    if project is not None:
        lines.append(f"this folder's profile: {project['name']} ({_profile_facts(project)}), applied by `dsconfig use "
                     f"{project['name']} --scope project` in {project['path']}: Claude Code started here uses it, "
                     "and env, exec and verify default to it here")
    for lag in doc.get("applied_lag") or []:
        lines += [f"note: {lag['path']}: {lag['message']}", f"  fix: {lag['fix']}"]
    lines += ["", f"Claude Code (started in {doc['claude_code']['cwd']}):"] + _code_lines(doc["claude_code"])
    lines += ["", "Claude Desktop:"] + _desktop_lines(doc["claude_desktop"])
    in_effect = (project or doc["active_profile"] or {}).get("name")
    lines += ["", f"This shell ({doc['shell']['shell']}):"] + _shell_lines(doc["shell"], in_effect)
    return "\n".join(lines) + "\n"


def _profile_facts(p: Mapping[str, Any]) -> str:
    key = p["key"] or p["key_error"] or "no key"
    source = p.get("key_source")
    if not source:
        return f"{p['provider']}, {p['base_url']}, key {key}"
    return f"{p['provider']}, {p['base_url']}, key {key}" + (f" from {source}" if p["key"] else f"; key source {source}")


def _profile_lines(p: Mapping[str, Any] | None) -> list[str]:
    if p is None:
        return ["active profile: none (`dsconfig setup`, or `dsconfig use NAME`)"]
    return [f"active profile: {p['name']} ({_profile_facts(p)})"]


def _source(entry: Mapping[str, Any] | None) -> str:
    return f"  from {entry['source']}" if entry and entry.get("source") else ""


def _key_source_of(profile: str) -> str:
    """The key source `dsconfig key get PROFILE` reads (keyring, env:VAR, command:CMD, kernel), never the key."""
    from dsconfig.keyget import source_of

    source, error = source_of(profile)
    return "key source unknown: profiles.toml cannot be read" if error is not None else str(source)


def _code_lines(code: Mapping[str, Any]) -> list[str]:
    eff = code["effective"]
    lines = [f"  base URL:   {eff['base_url']['value'] or 'default (Anthropic)'}{_source(eff['base_url'])}"]
    cred = eff["credential"]
    if cred is None:
        lines.append("  key:        none (claude will ask you to log in)")
    else:
        shown = (f"profile {cred['dsconfig_profile']} ({_key_source_of(cred['dsconfig_profile'])})"
                 if cred.get("dsconfig_profile") else cred.get("value") or "")
        lines.append(f"  key:        {cred['kind']} {shown}{_source(cred)}")
    for other in eff["other_credentials"]:
        lines.append(f"  also sent:  {other['kind']} {other.get('value') or ''}{_source(other)}")
    for var, entry in eff["models"].items():
        lines.append(f"  {var}={entry['value']}{_source(entry)}")
    if eff["cloud_provider"]:
        lines.append(f"  {eff['cloud_provider']} is on: Claude Code talks to that cloud provider, not the base URL")
    for f in code["files"]:
        who = f" (profile {f['profile']})" if f["profile"] else ""
        lines.append(f"  {f['scope']:<13} {f['path']}: {_STATE_TEXT[f['state']] if f['exists'] or f['profile'] else 'absent'}{who}")
        lines += [f"      {_drift_text(d)}" for d in f["drift"]]
        lines += [f"      note: {n}" for n in f["notes"]]
    return lines


def _drift_text(d: Mapping[str, Any]) -> str:
    if d["change"] == "file-removed":
        return "the file was removed since dsconfig wrote it"
    if d["change"] == "file-changed":
        return "the file was changed since dsconfig wrote it" + (f" ({d['now']})" if d.get("now") else "")
    return f"{d['key']}: dsconfig wrote {d['wrote']!r}, now {d['now']!r}"


def _desktop_lines(d: Mapping[str, Any] | None) -> list[str]:
    if d is None:
        return ["  not supported by this dsconfig"]
    lines = [f"  {'installed' if d['installed'] else 'not installed'}; library {d['library']}"]
    if d["applied_id"]:
        who = f" (profile {d['profile']})" if d["applied"] else ""
        lines.append(f"  applied: {d['applied_name'] or d['applied_id']}{who}; {_STATE_TEXT[d['state']]}")
    else:
        lines.append("  no third-party configuration applied")
    lines += [f"      {d_['path']}: {_drift_text(d_)}" for d_ in d["drift"]]
    if d["managed"]:
        lines.append("  a managed configuration wins: " + ", ".join(m["path"] for m in d["managed"]))
    if d["running"]:
        lines.append("  running: it reads its configuration when it starts")
    lines += [f"  problem: {p}" for p in d["problems"]]
    return lines


def _shell_lines(s: Mapping[str, Any], in_effect: str | None = None) -> list[str]:
    if s["state"] == "none":
        return ["  no ANTHROPIC_* variables exported"]
    lines = [f"  {var}={value}" for var, value in s["variables"].items()]
    which = f"profile {in_effect}" if in_effect else "the active profile"
    if s["state"] == "matches":
        lines.append(f"  matches {which} (dsconfig env)")
    else:
        lines.append(f"  differs from {which}: {', '.join(s['differs'])}")
    if s["profile"]:
        lines.append(f"  the exported base URL is profile {s['profile']}'s")
    return lines

