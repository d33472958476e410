"""Doctor checks of the files Claude Code and Claude Desktop read: managed and project settings, files dsconfig
cannot edit, onboarding, inline keys, variables other switchers left, drift and applied-lag."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dsconfig import fileio, jsonfile, saferead, status, vocab
from dsconfig.credentials import mask
from dsconfig.doctor.findings import Finding
from dsconfig.doctor.machine import Machine
from dsconfig.errors import InvalidFileError

if TYPE_CHECKING:
    from dsconfig.targets.claude_code.settings import Layer

KEY_VARS = vocab.KEY_VARS
STALE_VARS = vocab.STALE_VARS


def check_managed_settings(m: Machine) -> list[Finding]:
    out = []
    for layer in (layer for layer in m.layers if layer.scope == "managed"):
        if layer.error is not None:
            out.append(Finding("managed-settings", "error", f"managed settings {layer.path} cannot be read: {layer.error}",
                               "ask whoever manages this machine to fix it", str(layer.path)))
            continue
        keys = sorted(layer.routing())
        if not keys:
            continue
        severity = "error" if m.applied else "warning"
        out.append(Finding("managed-settings", severity, f"managed settings {layer.path} set {', '.join(keys)}: they "
                           "beat every other settings file, so Claude Code uses those values whatever the profile says",
                           "ask whoever manages this machine to remove them; dsconfig does not write managed settings",
                           str(layer.path)))
    return out


def check_project_settings(m: Machine) -> list[Finding]:
    out = []
    records = {str(r.path): r for r in m.tctx.journal.owned_by(target="claude-code", scope="project")}
    for layer in (layer for layer in m.layers if layer.scope in ("project-local", "project")):
        if layer.error is not None:
            out.append(Finding("project-settings", "error", f"{layer.path} is not valid: {layer.error}",
                               f"fix {layer.path}: Claude Code refuses it too", str(layer.path)))
            continue
        keys = sorted(layer.routing())
        if not keys:
            continue
        record = records.get(str(layer.path))
        if record is not None:
            out.append(Finding("project-settings", "info", f"in this folder, profile {record.owner.get('profile')} "
                               f"applies ({layer.path}, written by `dsconfig use --scope project`)", None, str(layer.path)))
            continue
        name = m.active or "NAME"
        out.append(Finding("project-settings", "warning", f"in {m.tctx.cwd}, {layer.path} sets {', '.join(keys)}, "
                           "which beat ~/.claude/settings.json there",
                           f"dsconfig use {name} --scope project   (in this folder), or remove those keys from {layer.path}",
                           str(layer.path)))
    return out


def check_onboarding(m: Machine) -> list[Finding]:
    from dsconfig.targets import claude_code

    path = claude_code.state_file(m.tctx)
    try:
        data = fileio.read_bytes(path)
        doc = jsonfile.parse_json_object(path, data, what=claude_code.STATE_WHAT) if data is not None else {}
    except saferead.FileTooLarge as err:
        # Not damaged: Claude Code keeps its prompt history there. Moving it away would lose that history.
        return [Finding("onboarding", "warning", f"Claude Code's state file is too large for dsconfig: {err.message}",
                        "keep the file (it holds Claude Code's history and settings); dsconfig cannot set "
                        "hasCompletedOnboarding there until Claude Code's history in it is trimmed", str(path))]
    except InvalidFileError as err:
        return [Finding("onboarding", "error", f"Claude Code's state file is damaged: {err.message}",
                        f"move it away (mv '{path}' '{path}.broken'); Claude Code makes a new one", str(path))]
    if doc.get(claude_code.ONBOARDING_KEY) is True:
        return [Finding("onboarding", "ok", f"hasCompletedOnboarding is set in {path}")]
    severity = "warning" if m.applied or m.active else "info"
    return [Finding("onboarding", severity, f"hasCompletedOnboarding is not set in {path}: interactive Claude Code "
                    "shows its first-run screens (and may ask you to log in) even with a key",
                    f"dsconfig use {m.active or 'NAME'}   (sets it)", str(path))]


def check_read_only_files(m: Machine) -> list[Finding]:
    """Settings files Claude Code reads (a byte-order mark skipped, the last of duplicate keys winning) but that
    dsconfig refuses to edit: the other checks report what is in them; this one says how to make them editable."""
    return [Finding("settings-files", "warning", f"{layer.path}: {note}",
                    "save it as UTF-8 without BOM" if "byte-order mark" in note else
                    f"remove the first of the two entries from {layer.path} (Claude Code uses the last)", str(layer.path))
            for layer in m.layers for note in layer.notes]


def _dsconfig_wrote(m: Machine, path: Path, var: str, value: str) -> bool:
    record = m.tctx.journal.get(path)
    key = record.key(("env", var)) if record else None
    return key is not None and key.wrote == value


def check_inline_keys(m: Machine) -> list[Finding]:
    out = []
    for layer in m.layers:
        for var in KEY_VARS:
            value = layer.env.get(var)
            if not value:
                continue
            where = str(layer.path)
            if _dsconfig_wrote(m, layer.path, var, value):
                out.append(Finding("inline-keys", "info", f"{layer.path} holds the key in plain text ({var}, written "
                                   "by `dsconfig use --inline-key`)", f"dsconfig use {m.active or 'NAME'}   (without "
                                   "--inline-key: the key stays in the keyring)", where))
            elif layer.scope == "user":
                out.append(Finding("inline-keys", "warning", f"{layer.path} holds an API key in plain text ({var}="
                                   f"{mask(value)})", "dsconfig setup   (adopts it: the key moves into the keyring and "
                                   "out of the file)", where))
            else:
                out.append(Finding("inline-keys", "warning", f"{layer.path} holds an API key in plain text ({var}="
                                   f"{mask(value)})", f"remove env.{var} from {layer.path}; then dsconfig use "
                                   f"{m.active or 'NAME'} --scope project keeps the key in the keyring", where))
        out += _helper_inline_key(layer)
    out += _desktop_inline_keys(m)
    return out or [Finding("inline-keys", "ok", "no API key in plain text in Claude's settings files")]


def _helper_inline_key(layer: Layer) -> list[Finding]:
    """Another setup's apiKeyHelper that holds the key itself (`echo sk-...`): the file is the key's store."""
    from dsconfig.targets import claude_code

    if layer.helper is None or not claude_code.helper_secrets(layer.helper):
        return []
    return [Finding("inline-keys", "warning", f"{layer.path} holds an API key in plain text in its apiKeyHelper "
                    f"({claude_code.shown_helper(layer.helper)})", "dsconfig setup   (adopts it: the key moves into "
                    "the keyring), or give the profile a key source that fetches it (--key-source command:'pass show "
                    "...' or keyring) and dsconfig use NAME", str(layer.path))]


def _desktop_inline_keys(m: Machine) -> list[Finding]:
    from dsconfig.targets import claude_desktop as module

    out = []
    library = module.layout(m.tctx).library
    for entry in sorted(library.glob("*.json")) if library.is_dir() else []:
        if entry.name == module.META:
            continue
        try:
            data = fileio.read_bytes(entry)
            doc = jsonfile.parse_json_object(entry, data or b"{}")
        except InvalidFileError:
            continue
        value = doc.get("inferenceGatewayApiKey")
        if not isinstance(value, str) or not value or value == module.HELPER_KEY_PLACEHOLDER:
            continue
        if doc.get("inferenceCredentialKind") == "helper-script":
            continue
        out.append(Finding("inline-keys", "warning", f"Claude Desktop's {entry} holds an API key in plain text "
                           f"({mask(value)})", f"dsconfig use {m.active or 'NAME'} --target claude-desktop   (reads "
                           "the key from the keyring instead)", str(entry)))
    return out


def check_stale_variables(m: Machine) -> list[Finding]:
    out = []
    from dsconfig.targets.claude_code import picker_labels

    wanted = {**m.resolved.claude_env(), **picker_labels(m.resolved)} if m.resolved is not None else {}
    for layer in m.layers:
        for var in vocab.MODEL_VARS:
            value = layer.env.get(var)
            if not value or wanted.get(var) == value:
                continue
            why = ("a deprecated variable other switchers leave behind (ANTHROPIC_DEFAULT_HAIKU_MODEL replaced it)"
                   if var == vocab.SMALL_FAST_MODEL_VAR else
                   f"which the active profile {m.active!r} does not set: another setup's model or label"
                   if m.active else "left by another setup (no dsconfig profile is active)")
            out.append(Finding("stale-variables", "warning", f"{layer.path} sets {var}={value}, {why}",
                               f"dsconfig use {m.active or 'NAME'}   (replaces it where dsconfig writes), or delete "
                               f"env.{var} from {layer.path}", str(layer.path)))
    for var in STALE_VARS:
        if m.tctx.environ.get(var) and m.layer_setting(var) is None:
            out.append(Finding("stale-variables", "warning", f"{var} is exported: a model variable other "
                               "switchers leave behind, which no dsconfig profile sets",
                               f"{m.unset(var)}   (and remove it from your shell's startup file)", "environment"))
    cloud = m.effective.get("cloud_provider")
    if cloud:
        source = next((layer.path for layer in m.layers if layer.env.get(cloud)), "environment")
        out.append(Finding("stale-variables", "error", f"{cloud} is on (from {source}): Claude Code talks to that cloud "
                           "provider, not to the profile's base URL", f"dsconfig use {m.active or 'NAME'}   (removes "
                           f"it from the settings), or {m.unset(cloud)}", str(source)))
    out += _several_credentials(m)
    return out or [Finding("stale-variables", "ok", "no variables left by other switchers")]


def _several_credentials(m: Machine) -> list[Finding]:
    """More than one credential reaches Claude Code: keys, a helper, or a credential header in
    ANTHROPIC_CUSTOM_HEADERS (sent beside the key, so another setup's token reaches this provider)."""
    from dsconfig.targets import claude_code

    first = m.effective.get("credential")
    sent = [c for c in [first, *(m.effective.get("other_credentials") or [])] if c]
    listed = [f"{c['kind']} from {c['source']}" for c in sent]
    layer = m.layer_setting(vocab.HEADERS_VAR)
    headers = layer.env[vocab.HEADERS_VAR] if layer is not None else m.tctx.environ.get(vocab.HEADERS_VAR, "")
    names = claude_code.credential_headers(headers) if headers else []
    fix = f"dsconfig use {m.active or 'NAME'}   (blanks the other keys so only the keyring's is sent"
    if names:
        listed.append(f"{vocab.HEADERS_VAR} ({', '.join(names)}) from {layer.path if layer is not None else 'environment'}")
        fix += f", and removes another setup's {vocab.HEADERS_VAR})" if layer is not None else \
            f"), and {m.unset(vocab.HEADERS_VAR)}"
    else:
        fix += ")"
    if len(listed) < 2:
        return []
    return [Finding("stale-variables", "warning", f"several credentials reach Claude Code ({'; '.join(listed)}): it "
                    "sends more than one key, and the provider may honour the wrong one", fix)]


def check_drift(m: Machine) -> list[Finding]:
    out = []
    for record in m.tctx.journal.load().values():
        if record.kept_only:
            continue  # `off` ran and kept hand-changed values: nothing of dsconfig's is applied there
        for entry in status.file_drift(record):
            what = entry["key"] or "the file"
            change = {"file-removed": "was removed", "file-changed": "was changed", "removed": "was removed",
                      "added": "was added back", "changed": f"now holds {entry['now']!r}"}[entry["change"]]
            profile = record.owner.get("profile") or "NAME"
            target = record.owner.get("target", "claude-code")
            scope = record.owner.get("scope", "user")
            use = f"dsconfig use {profile}" + (f" --target {target}" if target != "claude-code" else "") + \
                (" --scope project" if scope == "project" else "")
            out.append(Finding("drift", "warning", f"{record.path}: {what} {change} since dsconfig wrote it",
                               f"{use}   (writes it again), or dsconfig off" + (" --scope project" if scope == "project" else ""),
                               str(record.path)))
    return out or [Finding("drift", "ok", "every file dsconfig wrote still holds what it wrote")]


def check_applied_lag(m: Machine) -> list[Finding]:
    """Settings dsconfig applied that lag what the profile resolves to now (issue 13: a template changed by an
    upgrade, or `profile edit` without `use`)."""
    lags = status.applied_lag(m.tctx, m.actx)
    return [Finding("applied-lag", "warning", f"{lag['path']}: {lag['message']}", lag["fix"], lag["path"])
            for lag in lags] or [Finding("applied-lag", "ok", "what dsconfig applied matches each profile as it is now")]
