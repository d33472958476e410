"""Where Claude Desktop keeps its files (the data folders of one install, per OS and install kind), and what
is installed or running on this machine (installs, managed sources, processes). Reads only; never fatal."""

from __future__ import annotations

import os
import plistlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsconfig import fileio
from dsconfig.targets.context import TargetContext
from dsconfig.targets.system import System

MSIX_FAMILY = "Claude_pzs8sxrjxfjjc"
PLIST_DOMAIN = "com.anthropic.claudefordesktop"
APP_CONFIG = "claude_desktop_config.json"
META = "_meta.json"


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
    system = system or ctx.system
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
    system = system or ctx.system
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
    system = system or ctx.system
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


