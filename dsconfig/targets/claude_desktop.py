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
folders on Linux.
"""

from __future__ import annotations

import os
import plistlib
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dsconfig import fileio, jsonfile, output, paths
from dsconfig.changes import FilePlan, plan_json, plan_undo, plan_whole
from dsconfig.credentials import normalize_key
from dsconfig.errors import EXIT_CONFLICT, DsconfigError, InvalidFileError
from dsconfig.journal import FileRecord
from dsconfig.keypaths import Match
from dsconfig.profiles import Resolved
from dsconfig.targets.context import TargetContext

TARGET = "claude-desktop"
# Never change: entry ids derive from it, and a new namespace would orphan every entry already written.
ENTRY_NAMESPACE = uuid.UUID("ba735c4a-8765-4a57-a0fb-09628de84a8f")
MSIX_FAMILY = "Claude_pzs8sxrjxfjjc"
PLIST_DOMAIN = "com.anthropic.claudefordesktop"
APP_CONFIG = "claude_desktop_config.json"
META = "_meta.json"
HELPER_MODE = 0o700
HELPER_KEY_PLACEHOLDER = "dsconfig-credential-helper-not-a-key"
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


# --- the machine outside the home folder ---------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """What a finished subprocess said."""

    returncode: int
    stdout: str


Runner = Callable[[Sequence[str]], "Ran | None"]
Warn = Callable[[str], None]


def run_quietly(argv: Sequence[str], timeout: float = 3.0) -> Ran | None:
    """Run a probe (dpkg-query, pgrep, tasklist). None when it is missing, hangs or fails to start:
    detection must never crash or stall a command."""
    try:
        proc = subprocess.run(
            list(argv), check=False, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return Ran(proc.returncode, proc.stdout or "")


def policy_registry_keys() -> list[str]:
    """The Claude policy keys present in the Windows registry; [] anywhere but on a real Windows."""
    if sys.platform != "win32":
        return []
    import winreg

    found = []
    for hive, label in ((winreg.HKEY_LOCAL_MACHINE, "HKLM"), (winreg.HKEY_CURRENT_USER, "HKCU")):
        try:
            with winreg.OpenKey(hive, r"SOFTWARE\Policies\Claude") as key:
                subkeys, values, _ = winreg.QueryInfoKey(key)
        except OSError:
            continue
        if subkeys or values:  # an empty key left by an uninstalled policy sets nothing
            found.append(rf"{label}\SOFTWARE\Policies\Claude")
    return found


@dataclass(frozen=True)
class System:
    """Where system-wide files live ("/" in production), how probes run, what the registry holds."""

    root: Path = Path("/")
    run: Runner = run_quietly
    registry: Callable[[], list[str]] = policy_registry_keys


# --- where Claude Desktop keeps its files ---------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The data folders of one install: `Claude-3p` (config library) and `Claude` (the MCP config)."""

    variant: str
    data_3p: Path
    data_1p: Path

    @property
    def library(self) -> Path:
        return self.data_3p / "configLibrary"

    @property
    def meta(self) -> Path:
        return self.library / META

    @property
    def app_configs(self) -> tuple[Path, Path]:
        return self.data_1p / APP_CONFIG, self.data_3p / APP_CONFIG

    def entry(self, entry_id: str) -> Path:
        return self.library / f"{entry_id}.json"


def _is_windows(platform: str) -> bool:
    return platform.startswith("win")


def _env(ctx: TargetContext, name: str) -> str | None:
    # Windows variable names are case-insensitive; a dict copy of os.environ is not.
    if name in ctx.environ:
        return ctx.environ[name] or None
    upper = name.upper()
    return next((v for k, v in ctx.environ.items() if k.upper() == upper and v), None)


def layout(ctx: TargetContext) -> Layout:
    if _is_windows(ctx.platform):
        return _windows_layout(ctx)
    if ctx.platform == "darwin":
        support = ctx.home / "Library" / "Application Support"
        return Layout("macos", support / "Claude-3p", support / "Claude")
    xdg = _env(ctx, "XDG_CONFIG_HOME")
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored; Electron does so too.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else ctx.home / ".config"
    return Layout("linux", base / "Claude-3p", base / "Claude")


def _windows_layout(ctx: TargetContext) -> Layout:
    """Pick the folder the installed build reads: an existing library first, then an existing data folder,
    then what the install kind implies. MSIX (Store) builds see AppData through the package's LocalCache."""
    local = Path(_env(ctx, "LOCALAPPDATA") or ctx.home / "AppData" / "Local")
    roaming = Path(_env(ctx, "APPDATA") or ctx.home / "AppData" / "Roaming")
    cache = local / "Packages" / MSIX_FAMILY / "LocalCache"
    candidates = [
        ("windows-msix-local", cache / "Local" / "Claude-3p"),
        ("windows-msix-roaming", cache / "Roaming" / "Claude-3p"),
        ("windows-localappdata", local / "Claude-3p"),  # current builds
        ("windows-appdata", roaming / "Claude-3p"),  # older builds
    ]
    chosen = (
        next((c for c in candidates if (c[1] / "configLibrary").is_dir()), None)
        or next((c for c in candidates if c[1].is_dir()), None)
        or (candidates[0] if (local / "Packages" / MSIX_FAMILY).is_dir() else candidates[2])
    )
    variant, data_3p = chosen
    msix_claude, plain_claude = cache / "Roaming" / "Claude", roaming / "Claude"
    if msix_claude.is_dir() or (variant.startswith("windows-msix") and not plain_claude.is_dir()):
        data_1p = msix_claude
    else:
        data_1p = plain_claude
    return Layout(variant, data_3p, data_1p)


# --- managed sources -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagedSource:
    kind: str  # "plist", "registry", "file"
    where: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.where}


def managed_sources(ctx: TargetContext, system: System | None = None) -> list[ManagedSource]:
    """Configuration pushed by an administrator: it wins over the local library, which the app then ignores."""
    system = system or System()
    if _is_windows(ctx.platform):
        return [ManagedSource("registry", key) for key in system.registry()]
    if ctx.platform == "darwin":
        folder = system.root / "Library" / "Managed Preferences"
        user = _env(ctx, "USER") or _env(ctx, "LOGNAME") or ctx.home.name
        plists = [folder / f"{PLIST_DOMAIN}.plist", folder / user / f"{PLIST_DOMAIN}.plist"]
        return [ManagedSource("plist", str(p)) for p in plists if p.exists()]
    managed = system.root / "etc" / "claude-desktop" / "managed-settings.json"
    return [ManagedSource("file", str(managed))] if managed.exists() else []


# --- installs and processes ------------------------------------------------------------------------------


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text))


def _plist_version(plist: Path) -> str | None:
    try:
        value = plistlib.loads(fileio.read_bytes(plist) or b"").get("CFBundleShortVersionString")  # never blocks
    except Exception:  # noqa: BLE001 - a damaged bundle is "version unknown", not a crash
        return None
    return value if isinstance(value, str) else None


def _install(kind: str, path: Path, version: str | None) -> dict[str, Any]:
    return {"kind": kind, "path": str(path), "version": version}


def installs(ctx: TargetContext, system: System | None = None) -> list[dict[str, Any]]:
    """Every sign of an installed Claude Desktop, each with its version where one can be read."""
    system = system or System()
    if _is_windows(ctx.platform):
        return _windows_installs(ctx, system)
    if ctx.platform == "darwin":
        apps = [system.root / "Applications" / "Claude.app", ctx.home / "Applications" / "Claude.app"]
        return [_install("app-bundle", a, _plist_version(a / "Contents" / "Info.plist")) for a in apps if a.is_dir()]
    return _linux_installs(ctx, system)


def _windows_installs(ctx: TargetContext, system: System) -> list[dict[str, Any]]:
    local = Path(_env(ctx, "LOCALAPPDATA") or ctx.home / "AppData" / "Local")
    found = []
    squirrel = local / "AnthropicClaude"
    if squirrel.is_dir():
        versions = sorted((d.name[4:] for d in _children(squirrel) if d.name.startswith("app-") and d.is_dir()), key=_version_key)
        found.append(_install("installer", squirrel, versions[-1] if versions else None))
    package = local / "Packages" / MSIX_FAMILY
    if package.is_dir():
        found.append(_install("msix", package, _msix_version(ctx, system)))
    return found


def _msix_version(ctx: TargetContext, system: System) -> str | None:
    # WindowsApps is usually not listable for a normal user: then the version stays unknown.
    program_files = Path(_env(ctx, "ProgramW6432") or _env(ctx, "ProgramFiles") or system.root / "Program Files")
    names = [d.name for d in _children(program_files / "WindowsApps") if d.name.endswith("__pzs8sxrjxfjjc")]
    versions = sorted((n.split("_")[1] for n in names if n.startswith("Claude_") and n.count("_") >= 2), key=_version_key)
    return versions[-1] if versions else None


def _children(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _linux_installs(ctx: TargetContext, system: System) -> list[dict[str, Any]]:
    found = []
    dpkg = system.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", "claude-desktop"])
    if dpkg and dpkg.returncode == 0 and "|" in dpkg.stdout:
        status, version = dpkg.stdout.split("|", 1)
        if status[1:2] == "i":  # "ii"/"hi": installed; "rc" is removed with config files left
            found.append(_install("deb", Path("claude-desktop"), version.strip() or None))
    if not found:
        rpm = system.run(["rpm", "-q", "--qf", "%{VERSION}", "claude-desktop"])
        if rpm and rpm.returncode == 0 and rpm.stdout.strip():
            found.append(_install("rpm", Path("claude-desktop"), rpm.stdout.strip()))
    # Community builds: unpacked trees, launchers, AppImages and Flatpaks.
    for path in (system.root / "usr/lib/claude-desktop", system.root / "opt/Claude", system.root / "opt/claude-desktop",
                 ctx.home / ".local/share/claude-desktop", ctx.home / ".local/bin/claude-desktop"):
        if path.exists():
            found.append(_install("files", path, None))
    for folder in (ctx.home / "Applications", ctx.home / ".local/bin", ctx.home / "AppImages"):
        for image in sorted(_children(folder)):
            if re.search(r"(?i)claude.*\.appimage$", image.name):
                number = re.search(r"(\d+(?:\.\d+)+)", image.name)
                found.append(_install("appimage", image, number.group(1) if number else None))
    for folder in (system.root / "var/lib/flatpak/app", ctx.home / ".local/share/flatpak/app"):
        found += [_install("flatpak", app, None) for app in sorted(_children(folder)) if "claude" in app.name.lower()]
    return found


def is_running(ctx: TargetContext, system: System | None = None) -> bool | None:
    """Whether Claude Desktop runs now; None when it cannot be told (no /proc, no pgrep, no tasklist)."""
    system = system or System()
    # Only this user's app matters: another user's copy reads and writes its own files.
    if _is_windows(ctx.platform):
        user = _env(ctx, "USERNAME")
        argv = ["tasklist", "/FI", "IMAGENAME eq Claude.exe", *(["/FI", f"USERNAME eq {user}"] if user else []), "/FO", "CSV", "/NH"]
        ran = system.run(argv)
        return None if ran is None or ran.returncode != 0 else '"claude.exe"' in ran.stdout.lower()
    if ctx.platform == "darwin":
        ran = system.run(["pgrep", "-x", *(["-u", str(os.getuid())] if hasattr(os, "getuid") else []), "Claude"])
        return None if ran is None or ran.returncode not in (0, 1) else ran.returncode == 0
    return _linux_running(system.root / "proc")


def _linux_running(proc: Path) -> bool | None:
    try:
        pids = [p for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return None
    uid = os.getuid() if hasattr(os, "getuid") else None
    for pid in pids:
        try:
            if uid is not None and pid.stat().st_uid != uid:
                continue
            argv = (pid / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # the process ended meanwhile
        if _is_desktop_command([a.decode("utf-8", "replace") for a in argv if a]):
            return True
    return False


def _is_desktop_command(argv: list[str]) -> bool:
    """Claude Desktop's processes, not Claude Code's `claude` nor an editor opening its config file: look only
    at the program, or at the script an interpreter or Electron runs."""
    words = [a.replace("\\", "/").lower() for a in argv[:2]]
    if not words:
        return False
    if _desktop_program(words[0]):
        return True
    runner = words[0].rsplit("/", 1)[-1]
    return runner in ("electron", "bash", "sh", "dash") and len(words) > 1 and _desktop_program(words[1])


def _desktop_program(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return (
        base in ("claude-desktop", "claude-desktop-bin")
        or "/claude-desktop/" in path
        or "/claude.app/" in path
        or (base.endswith(".appimage") and "claude" in base)
    )


# --- the entry dsconfig writes ---------------------------------------------------------------------------


def entry_id(profile: str) -> str:
    return str(uuid.uuid5(ENTRY_NAMESPACE, profile))  # str() of a UUID is lowercase, as Desktop writes ids


def entry_label(resolved: Resolved) -> str:
    """The name the app's window lists: says who wrote it and which profile it is."""
    return f"dsconfig: {resolved.name} ({resolved.template.name})"


def inference_models(resolved: Resolved) -> list[dict[str, Any]]:
    """The template's Claude-shaped models. The first is the app's default; the first of each tier is that
    tier's default, so the app's tier shortcuts land on the model the template lists first."""
    models: list[dict[str, Any]] = []
    tiers_seen: set[str] = set()
    for model in resolved.template.desktop_models:
        item: dict[str, Any] = {"name": model.id}
        if model.label != model.id:
            item["labelOverride"] = model.label
        item["supports1m"] = model.supports_1m
        if model.tier:
            item["anthropicFamilyTier"] = model.tier
            if model.tier not in tiers_seen:
                item["isFamilyDefault"] = True
                tiers_seen.add(model.tier)
        models.append(item)
    return models


def entry_document(resolved: Resolved, *, helper: Path | None, inline_key: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "inferenceProvider": "gateway",
        "inferenceGatewayBaseUrl": resolved.base_url,
        "inferenceGatewayApiKey": inline_key if inline_key is not None else HELPER_KEY_PLACEHOLDER,
        "inferenceGatewayAuthScheme": resolved.template.desktop_auth_scheme,
    }
    if inline_key is not None:
        doc["inferenceCredentialKind"] = "static"
    else:
        doc["inferenceCredentialKind"] = "helper-script"
        doc["inferenceCredentialHelper"] = str(helper)
    doc["inferenceModels"] = inference_models(resolved)
    doc["modelDiscoveryEnabled"] = False  # discovery would list DeepSeek's own ids, which Desktop rejects
    doc["disableDeploymentModeChooser"] = True
    return doc


# --- the credential helper -------------------------------------------------------------------------------


def helper_path(profile: str, ctx: TargetContext) -> Path:
    suffix = ".cmd" if _is_windows(ctx.platform) else ""
    return paths.helpers_dir(ctx.environ) / f"claude-desktop-{profile}{suffix}"


def helper_script(profile: str, ctx: TargetContext) -> bytes:
    """An executable the app can run by path, printing exactly what `dsconfig key get NAME` prints: the bare
    key and a newline (TARGETS: the helper's stdout is the token)."""
    if _is_windows(ctx.platform):
        return _cmd_script(profile, [*ctx.dsconfig_command, "key", "get", profile])
    lines = [
        "#!/bin/sh",
        f"# Claude Desktop credential helper for the dsconfig profile {profile}: prints its key from the OS keyring.",
        "# Written by dsconfig; `dsconfig off --target claude-desktop` removes it.",
        # exec: the app sees dsconfig's own exit status and output, nothing of the shell's.
        "exec " + ctx.key_command(profile),
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _cmd_script(profile: str, argv: list[str]) -> bytes:
    # (uncertain) Node refuses to spawn a .cmd without a shell since its 2024 fix for batch-file injection; if
    # the app spawns the helper that way, Windows needs an .exe helper instead. The .cmd is what the issue asks.
    lines = [
        "@echo off",
        f"rem Claude Desktop credential helper for the dsconfig profile {profile}: prints its key from the OS keyring.",
        "rem Written by dsconfig; `dsconfig off --target claude-desktop` removes it.",
        # `!` would expand if the machine enables delayed expansion by default.
        "setlocal DisableDelayedExpansion",
        " ".join(_cmd_quote(a) for a in argv),
        "exit /b %ERRORLEVEL%",
    ]
    if any(ord(ch) > 127 for ch in "".join(argv)):
        # cmd reads a batch file in the console code page; switch to UTF-8 before the line with the path.
        # (uncertain: relies on cmd re-reading the file line by line, which it does on current Windows.)
        lines.insert(1, "chcp 65001 >nul")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _cmd_quote(arg: str) -> str:
    """Inside double quotes `& | < > ^ ( )` are literal; `%` must be doubled in a batch file; a `"` or a
    control character cannot be quoted at all (neither can appear in a Windows path)."""
    if '"' in arg or any(ord(ch) < 32 for ch in arg):
        raise DsconfigError(f"cannot write a Windows helper script for {arg!r}", "install dsconfig in a folder whose path has no quotes")
    return '"' + arg.replace("%", "%%") + '"'


def file_modes(ctx: TargetContext, profile: str, *, scope: str = "user", inline_key: bool = False) -> dict[Path, int]:
    """Modes `apply.apply_all(modes=...)` must give files `use` writes: the helper must be executable (0700);
    every other file gets the engine's default 0600. (FilePlan carries no mode, hence this side channel.)"""
    del scope
    return {} if inline_key else {helper_path(profile, ctx): HELPER_MODE}


# --- checks before anything is planned -------------------------------------------------------------------


def check_supported(resolved: Resolved) -> None:
    """Refuse a profile the app could not use, with the reason."""
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
    """`_meta.json` must have the shape the engine edits: an `entries` list of objects, a string `appliedId`."""
    entries = doc.get("entries", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _shape_error(path, "entries", 'must be a list of objects like {"id": "...", "name": "..."}', _META_HINT)
    if any("id" in e and not isinstance(e["id"], str) for e in entries):
        raise _shape_error(path, "entries", "holds an entry whose id is not a string", _META_HINT)
    # null is tolerated: it reads as "no configuration applied", which is what absence means.
    if doc.get("appliedId") is not None and not isinstance(doc["appliedId"], str):
        raise _shape_error(path, "appliedId", f"must be a string (the applied entry's id), not {_json_type(doc['appliedId'])}", _META_HINT)


def check_app_config(path: Path, doc: dict[str, Any]) -> None:
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


def plan_use(
    resolved: Resolved,
    ctx: TargetContext,
    *,
    scope: str = "user",
    inline_key: str | None = None,
    system: System | None = None,
    warn: Warn = output.warn,
) -> list[FilePlan]:
    """Plan making `resolved` the applied Claude Desktop configuration. `scope` is ignored: Desktop has one
    configuration per user. Every file is read and validated here, so a malformed one stops the command
    before anything is written. Warnings (running app, --inline-key, the engine's notes) go to `warn`."""
    del scope
    system = system or System()
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
    stale = [plan_undo(r.path, journal=ctx.journal, what=_what(r.path)) for r in _records(ctx) if r.path not in wanted]
    plans += stale
    _warn_notes(stale, warn)
    if key is not None:
        warn(f"--inline-key: the API key is stored in plain text in {entry} (0600); without --inline-key "
             "Claude Desktop reads it from the OS keyring through a helper")
    _warn_if_running(ctx, system, warn)
    return plans


def _undo_order(record: FileRecord) -> int:
    # `_meta.json` first, so the app never names an entry whose file is gone; helpers last.
    if record.path.name == META:
        return 0
    if record.path.name == APP_CONFIG:
        return 1
    return 2 if record.kind == "json" or record.path.suffix == ".json" else 3


def plan_off(
    ctx: TargetContext, *, scope: str = "user", force: bool = False, system: System | None = None, warn: Warn = output.warn
) -> list[FilePlan]:
    """Plan undoing every file dsconfig changed for Claude Desktop: our entry and helper go, `appliedId` and
    `deploymentMode` get their earlier values (or absence) back. A value the user changed since is kept
    (with a warning) unless `force`."""
    del scope
    records = sorted(_records(ctx), key=_undo_order)
    plans = [plan_undo(r.path, journal=ctx.journal, force=force, what=_what(r.path)) for r in records]
    _warn_notes(plans, warn)
    if any(p.changed for p in plans):
        _warn_if_running(ctx, system or System(), warn)
    return plans


def _warn_notes(plans: list[FilePlan], warn: Warn) -> None:
    # The engine's notes say where it kept a value the user changed, or found a file already gone.
    for plan in plans:
        for note in plan.notes:
            warn(note)


def _warn_if_running(ctx: TargetContext, system: System, warn: Warn) -> None:
    if is_running(ctx, system):
        warn("Claude Desktop is running: it reads this configuration only when it starts, and writes its "
             "settings when it quits (which can undo this change). Quit it completely (menu Claude > Quit, "
             "or Quit from the tray icon), then open it again.")


# --- detect and status -----------------------------------------------------------------------------------


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


def detect(ctx: TargetContext, *, system: System | None = None) -> dict[str, Any]:
    """What `dsconfig detect` reports about Claude Desktop (JSON-ready; keys documented in the README)."""
    system = system or System()
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
    system = system or System()
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

