"""`dsconfig doctor`: every check, each with a severity and the exact command or edit that fixes it.

Severities:
- error:   something does not work, or will not work as configured (Claude Code broken or pointed at a cloud
           provider, no usable keyring, the active profile's key missing, managed settings overriding an
           applied profile, an unreadable file, a failed test call). `dsconfig doctor` exits 1 when any occurs.
- warning: works now, but is unsafe or surprising (a key in plain text, variables exported in the shell or its
           startup files that reach Claude Code on top of the profile, a project file overriding the user
           scope, stale variables of other switchers, files changed since dsconfig wrote them).
- info:    a fact worth knowing (versions, the keyring backend, Claude Desktop running or absent).
- ok:      the check passed.

JSON document (`Report.to_doc()`, `dsconfig doctor --json`); every key is always present:

    {"ok", "exit_code", "counts": {"ok", "info", "warning", "error"}, "findings": [FINDING, ...],
     "verify": VERIFY|null}        # VERIFY: `dsconfig verify --json`'s document; null when skipped
    FINDING = {"check", "severity", "message", "fix", "where"}   # fix, where: null when there is none

Checks, in order (`check` values): dsconfig, claude-code, claude-desktop, keyring, profile, environment,
startup-files, managed-settings, project-settings, onboarding, inline-keys, stale-variables, drift, verify.
No check writes anything; only `verify` uses the network (skipped with `--no-verify`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import __version__, actions, fileio, status, urls, vocab
from dsconfig.credentials import mask
from dsconfig.errors import EXIT_ERROR, EXIT_OK, DsconfigError, InvalidFileError
from dsconfig.profiles import Resolved
from dsconfig.targets.context import TargetContext

SEVERITIES = ("ok", "info", "warning", "error")
KEY_VARS = vocab.KEY_VARS
STALE_VARS = vocab.STALE_VARS
VERIFY_TIMEOUT = 20.0


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    message: str
    fix: str | None = None
    where: str | None = None

    def to_doc(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "message": self.message, "fix": self.fix,
                "where": self.where}


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    verify: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_ERROR

    def to_doc(self) -> dict[str, Any]:
        counts = {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
        return {"ok": self.ok, "exit_code": self.exit_code, "counts": counts,
                "findings": [f.to_doc() for f in self.findings], "verify": self.verify}


@dataclass
class _Machine:
    """What every check looks at, read once."""

    actx: actions.Context
    tctx: TargetContext
    root: Path | None
    system: Any
    layers: list[Any] = field(default_factory=list)
    effective: dict[str, Any] = field(default_factory=dict)
    active: str | None = None
    resolved: Resolved | None = None
    key: str | None = None
    profiles_error: DsconfigError | None = None
    profile_names: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        """Whether dsconfig has switched Claude Code (any scope) to a profile."""
        return bool(self.tctx.journal.owned_by(target="claude-code"))


# --- installs ---------------------------------------------------------------------------------------------

INSTALL_FIX = "npm install -g @anthropic-ai/claude-code   (or the native installer: curl -fsSL https://claude.ai/install.sh | bash)"


def check_dsconfig(m: _Machine) -> list[Finding]:
    return [Finding("dsconfig", "info", f"dsconfig {__version__} on Python {sys.version.split()[0]}; profiles in "
                    f"{m.actx.store.path}, journal and backups in {m.tctx.journal.path.parent}")]


def check_claude_code(m: _Machine) -> list[Finding]:
    from dsconfig.targets import claude_code

    doc = claude_code.detect(m.tctx, root=m.root)
    installs = doc["installs"]
    if not installs:
        return [Finding("claude-code", "warning", "Claude Code (`claude`) is not installed or not found", INSTALL_FIX)]
    out = []
    for i in installs:
        where = f"{i['path']} ({i['kind']}{', runs first on PATH' if i['active'] else ''})"
        if i["error"]:
            out.append(Finding("claude-code", "error", f"`claude` at {where} is broken: {i['error']}",
                               f"reinstall it: {INSTALL_FIX}", i["path"]))
        else:
            out.append(Finding("claude-code", "ok", f"Claude Code {i['version']} at {where}", None, i["path"]))
    versions = {i["version"] for i in installs if i["version"]}
    if len(versions) > 1:
        first = next((i for i in installs if i["active"]), installs[0])
        out.append(Finding("claude-code", "info", f"{len(installs)} installs of different versions; `claude` runs "
                           f"{first['path']}", "remove the ones you do not use (`which -a claude` lists them)"))
    return out


def check_claude_desktop(m: _Machine) -> list[Finding]:
    module = status.desktop_module()
    if module is None:
        return []
    doc = module.detect(m.tctx, system=m.system)
    out = []
    if doc["installed"]:
        out.append(Finding("claude-desktop", "ok", f"Claude Desktop {doc['version'] or '(version unknown)'} installed"))
    else:
        out.append(Finding("claude-desktop", "info", "Claude Desktop is not installed (nothing to configure there)"))
    if doc["running"]:
        out.append(Finding("claude-desktop", "info", "Claude Desktop is running: it reads its configuration only when "
                           "it starts, and writes its settings when it quits",
                           "after `dsconfig use NAME --target claude-desktop`, quit it completely and open it again"))
    for managed in doc["managed"]:
        st = module.status(m.tctx, system=m.system)
        severity = "error" if st["dsconfig_entry_applied"] else "warning"
        out.append(Finding("claude-desktop", severity, f"Claude Desktop is configured by a managed source "
                           f"({managed['path']}); it wins over the local config library dsconfig writes",
                           "ask whoever manages this computer to change or remove it; dsconfig does not write it",
                           managed["path"]))
    return out


# --- keyring and profiles ---------------------------------------------------------------------------------


def check_keyring(m: _Machine) -> list[Finding]:
    from dsconfig.keysources import SourcedStore

    # The OS keyring itself; a profile with another key source is checked by check_key_sources.
    store = m.actx.secrets.keyring if isinstance(m.actx.secrets, SourcedStore) else m.actx.secrets
    try:
        uses_keyring = [p.name for p in m.actx.store.load().profiles.values() if p.key_source.kind == "keyring"]
    except DsconfigError:
        uses_keyring = [m.active] if m.active else []
    try:
        backend = store.describe()
        store.get(m.active if m.active in uses_keyring else "dsconfig-doctor-probe")
    except DsconfigError as err:
        if m.profile_names and not uses_keyring:
            return [Finding("keyring", "ok", f"no usable OS keyring ({err.message}); no profile keeps its key there")]
        return [Finding("keyring", "error", err.message, err.hint)]
    if backend.startswith("keyring.backends.null"):
        # keyring's null backend accepts every key and keeps none: `key set` "works", `key get` finds nothing.
        return [Finding("keyring", "error", f"the keyring backend in use ({backend}) discards every key",
                        "unset PYTHON_KEYRING_BACKEND (or remove the null backend from keyringrc.cfg) so a real "
                        "keyring is used")]
    return [Finding("keyring", "ok", f"OS keyring usable ({backend})")]


def check_profile(m: _Machine) -> list[Finding]:
    if m.profiles_error is not None:
        return [Finding("profile", "error", m.profiles_error.message, m.profiles_error.hint)]
    out = []
    if not m.profile_names:
        out.append(Finding("profile", "info", "no profile yet", "dsconfig setup"))
    elif m.active is None:
        out.append(Finding("profile", "info", f"no active profile (profiles: {', '.join(m.profile_names)})",
                           f"dsconfig use {m.profile_names[0]}"))
    elif m.resolved is None:
        out.append(Finding("profile", "error", f"the active profile {m.active!r} cannot be loaded",
                           f"dsconfig profile show {m.active}   (it says why)"))
    else:
        r = m.resolved
        out.append(Finding("profile", "ok", f"active profile {r.name}: {r.template.name}, {r.base_url}"))
        bad_url = urls.problem(r.base_url)
        if bad_url is not None:
            out.append(Finding("profile", "error", f"the base URL of profile {r.name!r} cannot be used: {bad_url}",
                               f"dsconfig profile edit {r.name} --base-url {urls.EXAMPLE}"))
        insecure = urls.plain_http_warning(r.base_url)
        if insecure:
            out.append(Finding("profile", "warning", insecure, f"dsconfig profile edit {r.name} --base-url https://..."))
        if not m.key:
            out.append(Finding("profile", "error", f"no API key stored for the active profile {r.name!r}",
                               f"dsconfig key set {r.name}"))
    cred = m.effective.get("credential") or {}
    helper_profile = cred.get("dsconfig_profile")
    if helper_profile and helper_profile not in m.profile_names:
        out.append(Finding("profile", "error", f"Claude Code's apiKeyHelper runs `dsconfig key get {helper_profile}`, "
                           f"but there is no profile {helper_profile!r}", "dsconfig use NAME   (or dsconfig setup)",
                           cred.get("source")))
    return out


# --- the environment and the shell's startup files --------------------------------------------------------


def _settings_layer_for(m: _Machine, var: str) -> Any:
    return next((layer for layer in m.layers if var in layer.env), None)


def check_environment(m: _Machine) -> list[Finding]:
    from dsconfig.targets import claude_code

    exported = claude_code.environment_routing(m.tctx.environ)
    if not exported:
        return [Finding("environment", "ok", "no ANTHROPIC_* (or cloud-provider) variables exported")]
    if m.resolved is not None and not status.differs_from_profile(m.tctx.environ, m.resolved, m.key):
        return [Finding("environment", "ok", f"the exported variables are profile {m.resolved.name}'s (dsconfig env)")]
    out = []
    for var, shown in exported.items():
        layer = _settings_layer_for(m, var)
        text = f"{var}={shown} is exported in this shell"
        fix = f"unset {var}   (and remove it from your shell's startup file: see startup-files)"
        if var in claude_code.CLOUD_VARS and m.effective.get("cloud_provider") == var:
            out.append(Finding("environment", "error", text + ": Claude Code talks to that cloud provider, not to "
                               "the base URL", fix, "environment"))
        elif layer is not None:
            out.append(Finding("environment", "info", text + f"; for Claude Code {layer.path} overrides it (the SDKs "
                               "and other programs still use it)", fix, "environment"))
        elif var in KEY_VARS and m.applied:
            out.append(Finding("environment", "warning", text + ": Claude Code sends it beside the profile's key, so "
                               "the provider may see another key", fix, "environment"))
        else:
            severity = "warning" if m.applied else "info"
            out.append(Finding("environment", severity, text + ": no settings file overrides it, so Claude Code uses "
                               "it" + (" on top of the profile" if m.applied else ""), fix, "environment"))
    return out


_POSIX = re.compile(r"^\s*(?:export\s+|declare\s+-x\s+|typeset\s+-x\s+)?(?P<var>[A-Za-z_]\w*)=(?P<value>.*)$")
_FISH = re.compile(r"^\s*set\s+(?:-[A-Za-z]+\s+|--\w+\s+)*(?P<var>[A-Za-z_]\w*)\s+(?P<value>.*)$")
_PWSH = re.compile(r"^\s*\$env:(?P<var>[A-Za-z_]\w*)\s*=\s*(?P<value>.*)$", re.IGNORECASE)
_PWSH_SET = re.compile(r"SetEnvironmentVariable\(\s*[\"'](?P<var>[A-Za-z_]\w*)[\"']\s*,\s*(?P<value>[^,)]*)",
                       re.IGNORECASE)


def startup_files(home: Path, environ: Mapping[str, str], platform: str) -> list[tuple[Path, tuple[re.Pattern[str], ...]]]:
    """The shell startup files that can export variables for every new shell, with how each sets one."""
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    zdot = Path(environ.get("ZDOTDIR") or home)
    posix = (_POSIX,)
    found: list[tuple[Path, tuple[re.Pattern[str], ...]]] = [
        (home / name, posix) for name in (".bashrc", ".bash_profile", ".bash_login", ".profile")]
    found += [(zdot / name, posix) for name in (".zshenv", ".zprofile", ".zshrc")]
    found.append((config / "fish" / "config.fish", (_FISH,)))
    found += [(p, (_FISH,)) for p in sorted((config / "fish" / "conf.d").glob("*.fish"))]
    pwsh = (_PWSH, _PWSH_SET)
    if platform.startswith("win"):
        docs = home / "Documents"
        found += [(docs / d / "Microsoft.PowerShell_profile.ps1", pwsh) for d in ("PowerShell", "WindowsPowerShell")]
    else:
        found += [(config / "powershell" / name, pwsh) for name in ("Microsoft.PowerShell_profile.ps1", "profile.ps1")]
    return found


def _routes(var: str) -> bool:
    from dsconfig.targets import claude_code

    return var.startswith("ANTHROPIC_") or var in claude_code.ROUTING_VARS


def _literal(value: str) -> str | None:
    """The value if it is a literal (quoted or bare), None when the shell computes it ($VAR, $(...), `...`)."""
    text = value.strip().rstrip(";").strip()
    if text[:1] in "\"'" and text[-1:] == text[:1] and len(text) > 1:
        text = text[1:-1]
    return None if re.search(r"[$`]|\(", text) else text


def _scan(path: Path, patterns: Sequence[re.Pattern[str]]) -> Iterable[tuple[int, str, str | None, bool]]:
    """(line number, variable, literal value or None, loads `dsconfig env`) for every routing assignment."""
    text = fileio.read_text_quietly(path)  # a FIFO or device here must not hang doctor
    if text is None:
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        if "dsconfig env" in line:
            yield number, "", line, True
            continue
        for pattern in patterns:
            match = pattern.search(line)
            if match and _routes(match.group("var")):
                yield number, match.group("var"), _literal(match.group("value")), False
                break


def _startup_shell(path: Path) -> str:
    name = str(path).lower()
    if "fish" in name:
        return "fish"
    if "zsh" in name or "zprofile" in name or "zlogin" in name:
        return "zsh"
    if name.endswith(".ps1"):
        return "powershell"
    return "bash"


def check_startup_files(m: _Machine) -> list[Finding]:
    out = []
    for path, patterns in startup_files(m.tctx.home, m.tctx.environ, m.tctx.platform):
        for number, var, value, loader in _scan(path, patterns):
            where = f"{path}:{number}"
            if loader and value is not None and "--shell" not in value:
                kind = _startup_shell(path)
                out.append(Finding("startup-files", "info", f"{where} loads a profile with `dsconfig env` but names no "
                                   "--shell: the syntax is then guessed (a value quoted for another shell can run as a command)",
                                   f"add --shell {kind} to line {number} of {path} (`dsconfig env NAME --shell {kind}`)", where))
            elif loader:
                out.append(Finding("startup-files", "ok", f"{where} loads a profile with `dsconfig env`", None, where))
            elif var in KEY_VARS and value:
                out.append(Finding("startup-files", "warning", f"{where} sets {var} to an API key in plain text "
                                   f"({mask(value)})", f"dsconfig setup   (moves the key into the keyring), then delete "
                                   f"line {number} of {path} and open a new terminal", where))
            else:
                severity = "warning" if m.active or m.applied else "info"
                out.append(Finding("startup-files", severity, f"{where} exports {var} for every new shell: it reaches "
                                   "Claude Code wherever no settings file overrides it",
                                   f"delete line {number} of {path} (profiles set it now: dsconfig use / dsconfig env), "
                                   "then open a new terminal", where))
    return out or [Finding("startup-files", "ok", "no shell startup file exports ANTHROPIC_* variables")]


# --- Claude Code's settings files -------------------------------------------------------------------------


def check_managed_settings(m: _Machine) -> list[Finding]:
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


def check_project_settings(m: _Machine) -> list[Finding]:
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


def check_onboarding(m: _Machine) -> list[Finding]:
    from dsconfig.targets import claude_code

    path = claude_code.state_file(m.tctx)
    try:
        data = fileio.read_bytes(path)
        doc = fileio.parse_json_object(path, data, what=claude_code.STATE_WHAT) if data is not None else {}
    except InvalidFileError as err:
        return [Finding("onboarding", "error", f"Claude Code's state file is damaged: {err.message}",
                        f"move it away (mv '{path}' '{path}.broken'); Claude Code makes a new one", str(path))]
    if doc.get(claude_code.ONBOARDING_KEY) is True:
        return [Finding("onboarding", "ok", f"hasCompletedOnboarding is set in {path}")]
    severity = "warning" if m.applied or m.active else "info"
    return [Finding("onboarding", severity, f"hasCompletedOnboarding is not set in {path}: interactive Claude Code "
                    "shows its first-run screens (and may ask you to log in) even with a key",
                    f"dsconfig use {m.active or 'NAME'}   (sets it)", str(path))]


def check_read_only_files(m: _Machine) -> list[Finding]:
    """Settings files Claude Code reads (a byte-order mark skipped, the last of duplicate keys winning) but that
    dsconfig refuses to edit: the other checks report what is in them; this one says how to make them editable."""
    return [Finding("settings-files", "warning", f"{layer.path}: {note}",
                    "save it as UTF-8 without BOM" if "byte-order mark" in note else
                    f"remove the first of the two entries from {layer.path} (Claude Code uses the last)", str(layer.path))
            for layer in m.layers for note in layer.notes]


def _dsconfig_wrote(m: _Machine, path: Path, var: str, value: str) -> bool:
    record = m.tctx.journal.get(path)
    key = record.key(("env", var)) if record else None
    return key is not None and key.wrote == value


def check_inline_keys(m: _Machine) -> list[Finding]:
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
    out += _desktop_inline_keys(m)
    return out or [Finding("inline-keys", "ok", "no API key in plain text in Claude's settings files")]


def _desktop_inline_keys(m: _Machine) -> list[Finding]:
    module = status.desktop_module()
    if module is None:
        return []
    out = []
    library = module.layout(m.tctx).library
    for entry in sorted(library.glob("*.json")) if library.is_dir() else []:
        if entry.name == module.META:
            continue
        try:
            data = fileio.read_bytes(entry)
            doc = fileio.parse_json_object(entry, data or b"{}")
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


def check_stale_variables(m: _Machine) -> list[Finding]:
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
        if m.tctx.environ.get(var) and _settings_layer_for(m, var) is None:
            out.append(Finding("stale-variables", "warning", f"{var} is exported: a model variable other "
                               "switchers leave behind, which no dsconfig profile sets", f"unset {var}   (and remove it from your shell's startup file)",
                               "environment"))
    cloud = m.effective.get("cloud_provider")
    if cloud:
        source = next((layer.path for layer in m.layers if layer.env.get(cloud)), "environment")
        out.append(Finding("stale-variables", "error", f"{cloud} is on (from {source}): Claude Code talks to that cloud "
                           "provider, not to the profile's base URL", f"dsconfig use {m.active or 'NAME'}   (removes "
                           f"it from the settings), or unset {cloud}", str(source)))
    others = m.effective.get("other_credentials") or []
    if others:
        first = m.effective["credential"]
        listed = "; ".join(f"{c['kind']} from {c['source']}" for c in [first, *others])
        out.append(Finding("stale-variables", "warning", f"several credentials reach Claude Code ({listed}): it sends "
                           "more than one key, and the provider may honour the wrong one",
                           f"dsconfig use {m.active or 'NAME'}   (blanks the other keys so only the keyring's is sent)"))
    return out or [Finding("stale-variables", "ok", "no variables left by other switchers")]


def check_drift(m: _Machine) -> list[Finding]:
    out = []
    for record in m.tctx.journal.load().values():
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


def check_applied_lag(m: _Machine) -> list[Finding]:
    """Settings dsconfig applied that lag what the profile resolves to now (issue 13: a template changed by an
    upgrade, or `profile edit` without `use`)."""
    lags = status.applied_lag(m.tctx, m.actx)
    return [Finding("applied-lag", "warning", f"{lag['path']}: {lag['message']}", lag["fix"], lag["path"])
            for lag in lags] or [Finding("applied-lag", "ok", "what dsconfig applied matches each profile as it is now")]


# --- verify -----------------------------------------------------------------------------------------------


def check_verify(m: _Machine, timeout: float) -> tuple[list[Finding], dict[str, Any] | None]:
    from dsconfig import verify

    if m.resolved is None:
        return [Finding("verify", "info", "test call skipped: no active profile", "dsconfig setup")], None
    try:
        report = verify.run(m.resolved.name, timeout=timeout, ctx=m.actx)
    except DsconfigError as err:
        return [Finding("verify", "error", err.message, err.hint)], None
    profile = report.profiles[0]
    if profile.ok:
        return [Finding("verify", "ok", f"test call to {profile.base_url}: all {len(profile.checks())} checks passed")], report.to_doc()
    seen: dict[tuple[str, str, str], list[str]] = {}
    for label, failure in profile.failures():
        seen.setdefault((failure.kind, failure.message, failure.hint), []).append(label)
    findings = [Finding("verify", "error", f"test call failed ({kind}: {', '.join(labels)}): {message}", hint)
                for (kind, message, hint), labels in seen.items()]
    return findings, report.to_doc()


# --- running --------------------------------------------------------------------------------------------


def _look(actx: actions.Context, tctx: TargetContext, root: Path | None, system: Any) -> _Machine:
    from dsconfig.targets import claude_code

    m = _Machine(actx, tctx, root, system)
    m.layers = claude_code.settings_layers(tctx, root=root)
    m.effective = claude_code.effective(m.layers, tctx.environ, tctx.home)
    try:
        found = actx.store.load()
    except DsconfigError as err:
        m.profiles_error = err
        return m
    m.profile_names = tuple(found.profiles)
    m.active = found.active if found.active in found.profiles else None
    if m.active is not None:
        try:
            m.resolved = actions.resolved_profile(m.active, actx)
            m.key = actx.secrets.get(m.active)
        except DsconfigError:
            pass  # check_profile / check_keyring report it
    return m


def check_key_sources(m: _Machine) -> list[Finding]:
    """Each profile whose key comes from elsewhere than the OS keyring: does its source answer? (issue 16)"""
    from dsconfig import keysources

    try:
        profiles = [p for p in m.actx.store.load().profiles.values() if p.key_source.kind != keysources.KEYRING]
    except DsconfigError:
        return []  # check_profile reports the file
    out = []
    for p in profiles:
        source, fix_source = p.key_source, f"or change the source: dsconfig profile edit {p.name} --key-source keyring"
        try:
            if source.kind == keysources.ENV:
                keysources.read_env(p.name, source, m.actx.environ)
            elif source.kind == keysources.COMMAND:
                keysources.read_command(p.name, source, m.actx.environ)
            elif not keysources.KernelStore().get(p.name):
                out.append(Finding("key source", "error", f"profile {p.name!r}: no key in the kernel keyring (it is "
                                   "lost at reboot, or when no process of your user is left)",
                                   f"printf %s \"$KEY\" | dsconfig key set {p.name} --stdin"))
                continue
        except DsconfigError as err:
            severity = "warning" if source.kind == keysources.ENV else "error"  # set where Claude starts, maybe not here
            fix = err.hint or (f"export {source.value}=... where Claude Code starts" if source.kind == keysources.ENV else None)
            out.append(Finding("key source", severity, f"profile {p.name!r}: {err.message}",
                               f"{fix}; {fix_source}" if fix else fix_source))
            continue
        out.append(Finding("key source", "ok", f"profile {p.name!r}: key from {source} answers"))
    return out


CHECKS: tuple[Callable[[_Machine], list[Finding]], ...] = (
    check_dsconfig, check_claude_code, check_claude_desktop, check_keyring, check_key_sources, check_profile, check_environment,
    check_startup_files, check_managed_settings, check_project_settings, check_read_only_files, check_onboarding,
    check_inline_keys,
    check_stale_variables, check_drift, check_applied_lag,
)


def run(*, actx: actions.Context | None = None, tctx: TargetContext | None = None, root: Path | None = None,
        system: Any = None, verify: bool = True, timeout: float = VERIFY_TIMEOUT) -> Report:
    """Every check, then (unless `verify` is False) a test call of the active profile. `root` / `system`: where
    system-wide files are looked up (managed settings, Claude Desktop), for tests."""
    module = status.desktop_module()
    if system is None and module is not None:
        system = module.System(root=root) if root is not None else module.System()
    m = _look(actx or actions.Context(), tctx or TargetContext(), root, system)
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings += check(m)
        except DsconfigError as err:  # one broken check must not hide the others
            findings.append(Finding(check.__name__.removeprefix("check_").replace("_", "-"), "error", err.message, err.hint))
    doc = None
    if verify:
        found, doc = check_verify(m, timeout)
        findings += found
    else:
        findings.append(Finding("verify", "info", "test call skipped (--no-verify)", "dsconfig verify"))
    return Report(tuple(findings), doc)


_MARK = {"ok": "ok", "info": "info", "warning": "WARN", "error": "ERROR"}


def render_text(report: Report) -> str:
    lines = []
    for f in report.findings:
        lines.append(f"{_MARK[f.severity]:<6} {f.check:<17} {f.message}")
        if f.fix and f.severity != "ok":
            lines.append(f"{'':<6} {'':<17} fix: {f.fix}")
    counts = report.to_doc()["counts"]
    lines.append("")
    lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s), {counts['ok']} ok"
                 + ("" if report.ok else ": exit status 1"))
    return "\n".join(lines) + "\n"


__all__ = ["CHECKS", "SEVERITIES", "Finding", "Report", "render_text", "run", "startup_files"]
