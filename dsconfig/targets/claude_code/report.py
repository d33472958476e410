"""What `dsconfig detect` and `status` report about Claude Code: the `claude` programs installed (without
spawning npm), their versions, and which endpoint, credential and models are in effect and where each comes
from. Nothing here is fatal: a broken program or a malformed settings file is reported in its entry."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from dsconfig import fileio, jsonfile, paths, vocab
from dsconfig.credentials import mask
from dsconfig.errors import InvalidFileError
from dsconfig.journal import FileRecord
from dsconfig.targets.claude_code.settings import (
    CLOUD_VARS,
    CREDENTIAL_VARS,
    HELPER_KEY,
    MODEL_VARS,
    ONBOARDING_KEY,
    STATE_WHAT,
    TARGET,
    VERSION_TIMEOUT,
    Layer,
    _system,
    settings_layers,
    shown_helper,
    state_file,
)
from dsconfig.targets.claude_code.warnings import environment_routing
from dsconfig.targets.context import TargetContext
from dsconfig.targets.filedrift import DriftJSON, file_drift


@dataclass(frozen=True)
class Install:
    """A `claude` program found on this machine."""

    path: Path
    kind: str  # native, npm, local, homebrew, winget, nvm, volta, bun, path
    on_path: bool
    active: bool  # the one a shell runs: first on PATH


def _is_windows(platform: str) -> bool:
    return platform.startswith("win")


def _env_value(environ: Mapping[str, str], name: str) -> str | None:
    # Windows variable names are case-insensitive ("Path"); a dict copy keeps whatever case it had.
    if name in environ:
        return environ[name]
    upper = name.upper()
    return next((v for k, v in environ.items() if k.upper() == upper), None)


def _program_names(platform: str, environ: Mapping[str, str]) -> list[str]:
    if not _is_windows(platform):
        return ["claude"]
    exts = (_env_value(environ, "PATHEXT") or ".COM;.EXE;.BAT;.CMD").split(";")
    return [f"claude{ext.lower()}" for ext in exts if ext]


def _path_hits(platform: str, environ: Mapping[str, str]) -> list[Path]:
    sep = ";" if _is_windows(platform) else ":"
    hits: list[Path] = []
    for entry in (_env_value(environ, "PATH") or "").split(sep):
        if not entry:
            continue
        for name in _program_names(platform, environ):
            candidate = Path(entry) / name
            if candidate.is_file() and candidate not in hits:
                hits.append(candidate)
    return hits


def _npmrc_prefix(home: Path) -> Path | None:
    text = fileio.read_text_quietly(home / ".npmrc")  # a FIFO or device here must not hang detection
    if text is None:
        return None
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == "prefix" and value.strip():
            raw = value.strip().strip('"')
            return home / raw[2:] if raw.startswith("~/") else Path(raw.replace("${HOME}", str(home)))
    return None


def _known_locations(home: Path, platform: str, environ: Mapping[str, str], root: Path | None) -> list[tuple[Path, str]]:
    """Where each install method puts `claude`, without spawning npm (`npm prefix -g` takes ~0.3 s)."""
    if _is_windows(platform):
        return _windows_locations(home, environ)
    config_dir = paths.claude_config_dir(home, environ)
    found: list[tuple[Path, str]] = [(home / ".local" / "bin" / "claude", "native"),
                                     (config_dir / "local" / "claude", "local"), (home / ".claude" / "local" / "claude", "local")]
    prefixes = [_env_value(environ, "NPM_CONFIG_PREFIX"), _env_value(environ, "npm_config_prefix")]
    npm_prefixes = [Path(p) for p in prefixes if p]
    rc_prefix = _npmrc_prefix(home)
    npm_prefixes += [rc_prefix] if rc_prefix else []
    npm_prefixes += [home / ".npm-global", home / ".npm-packages", home / ".local"]
    found += [(p / "bin" / "claude", "npm") for p in npm_prefixes]
    nvm_dir = Path(_env_value(environ, "NVM_DIR") or home / ".nvm")
    found += [(p, "nvm") for p in sorted((nvm_dir / "versions" / "node").glob("*/bin/claude"))]
    found += [(home / ".volta" / "bin" / "claude", "volta"), (home / ".bun" / "bin" / "claude", "bun")]
    brew = [Path(p) / "bin" / "claude" for p in [_env_value(environ, "HOMEBREW_PREFIX")] if p]
    if platform == "darwin":
        brew += [_system(Path("/opt/homebrew/bin/claude"), root)]
    else:
        brew += [_system(Path("/home/linuxbrew/.linuxbrew/bin/claude"), root), home / ".linuxbrew" / "bin" / "claude"]
    found += [(p, "homebrew") for p in brew]
    # The system npm prefixes (nodejs.org installer: /usr/local; distribution packages: /usr).
    found += [(_system(Path(p), root), "npm") for p in ("/usr/local/bin/claude", "/usr/bin/claude")]
    return found


def _windows_locations(home: Path, environ: Mapping[str, str]) -> list[tuple[Path, str]]:
    appdata = Path(_env_value(environ, "APPDATA") or home / "AppData" / "Roaming")
    local = Path(_env_value(environ, "LOCALAPPDATA") or home / "AppData" / "Local")
    found: list[tuple[Path, str]] = [(home / ".local" / "bin" / "claude.exe", "native")]
    prefix = _env_value(environ, "NPM_CONFIG_PREFIX")
    for folder in ([Path(prefix)] if prefix else []) + [appdata / "npm"]:
        found += [(folder / "claude.cmd", "npm"), (folder / "claude.exe", "npm")]
    winget = local / "Microsoft" / "WinGet"
    found.append((winget / "Links" / "claude.exe", "winget"))
    found += [(p, "winget") for p in sorted((winget / "Packages").glob("Anthropic.ClaudeCode*/claude.exe"))]
    found += [(home / ".claude" / "local" / "claude.exe", "local"), (home / ".claude" / "local" / "claude.cmd", "local")]
    return found


def _kind_from_target(real: str, fallback: str) -> str:
    """The install method, told by where the program really lives (a link in /usr/local/bin can be either)."""
    norm = real.replace("\\", "/")
    if "/Caskroom/" in norm or "/Cellar/" in norm:
        return "homebrew"
    if "/.local/share/claude/" in norm:
        return "native"
    if "/WinGet/" in norm:
        return "winget"
    if "/node_modules/" in norm:
        if "/.nvm/" in norm:
            return "nvm"
        return fallback if fallback in ("volta", "bun") else "npm"
    return fallback


def find_installs(home: Path, platform: str, environ: Mapping[str, str], *, root: Path | None = None) -> list[Install]:
    """Every `claude` found, the one a shell runs first. Duplicates (links to one program) are listed once."""
    on_path = _path_hits(platform, environ)
    known = [(p, k) for p, k in _known_locations(home, platform, environ, root) if p.is_file() or p.is_symlink()]
    kinds = {os.path.realpath(p): k for p, k in reversed(known)}  # first listed wins
    seen: dict[str, Install] = {}
    for path, kind in [(p, "path") for p in on_path] + known:
        real = os.path.realpath(path)
        if real not in seen:
            seen[real] = Install(path, _kind_from_target(real, kinds.get(real, kind)), _same_as(path, on_path),
                                 bool(on_path) and path == on_path[0])
    return list(seen.values())


def _same_as(path: Path, others: Iterable[Path]) -> bool:
    real = os.path.realpath(path)
    return any(os.path.realpath(o) == real for o in others)


def _bounded(argv: list[str], environ: Mapping[str, str], timeout: float) -> tuple[int, str, str]:
    """Run argv with a hard time limit that also ends its children (a shim's child can hold the pipes)."""
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=dict(environ), text=True, errors="replace", start_new_session=os.name != "nt") as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            if os.name != "nt":
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows
                proc.kill()
            proc.communicate()
            raise
    return proc.returncode, out, err


def claude_version(program: Path, environ: Mapping[str, str], *, timeout: float = VERSION_TIMEOUT) -> tuple[str | None, str | None]:
    """(version, None) from `claude --version` ("2.1.89 (Claude Code)"), or (None, what went wrong)."""
    if not program.is_file():
        return None, "a link to a file that does not exist"
    try:
        code, out, err = _bounded([str(program), "--version"], environ, timeout)
    except subprocess.TimeoutExpired:
        return None, f"`claude --version` did not answer within {timeout:g} s"
    except OSError as exc:
        return None, f"cannot be run: {exc.strerror or exc}"
    if code != 0:
        first = (err.strip() or out.strip()).splitlines()[:1]
        return None, f"`claude --version` exited with status {code}" + (f": {first[0][:200]}" if first else "")
    match = re.match(r"\s*v?(\d+\.\d+\.\d+[^\s]*)", out)
    if match is None:
        return None, f"unexpected `claude --version` output: {out.strip()[:80]!r}"
    return match.group(1), None


def _lookup(var: str, layers: Sequence[Layer], environ: Mapping[str, str]) -> tuple[str | None, Layer | None]:
    """The value Claude Code sees for `var` and the file it comes from (None: the environment or nowhere)."""
    for layer in layers:
        if var in layer.env:
            return layer.env[var], layer
    return environ.get(var), None


def _source(layer: Layer | None, value: str | None) -> str | None:
    if layer is not None:
        return str(layer.path)
    return "environment" if value is not None else None


class SourcedJSON(TypedDict):
    value: str | None
    source: str | None


class EffectiveJSON(TypedDict):
    """EFFECTIVE in dsconfig.status; a credential is {"kind", "source", "value" (masked), ...}."""

    base_url: SourcedJSON
    credential: dict[str, Any] | None
    other_credentials: list[dict[str, Any]]
    models: dict[str, SourcedJSON]
    cloud_provider: str | None


class InstallJSON(TypedDict):
    path: str
    kind: str
    on_path: bool
    active: bool
    version: str | None
    error: str | None


class DetectJSON(EffectiveJSON):
    """What `dsconfig detect --json` says under `claude_code` (README, "detect")."""

    target: str
    platform: str
    installed: bool
    version: str | None
    installs: list[InstallJSON]
    settings_files: list[dict[str, Any]]
    state_file: dict[str, Any]
    environment: dict[str, str]


def effective(layers: Sequence[Layer], environ: Mapping[str, str], home: Path) -> dict[str, Any]:
    """Which value of endpoint, credential and models Claude Code would use, and where each comes from (an
    EffectiveJSON, as the plain dict doctor keeps)."""
    return dict(_effective(layers, environ, home))


def _effective(layers: Sequence[Layer], environ: Mapping[str, str], home: Path) -> EffectiveJSON:
    base, base_layer = _lookup(vocab.BASE_URL_VAR, layers, environ)
    models: dict[str, SourcedJSON] = {}
    for var in MODEL_VARS:
        value, layer = _lookup(var, layers, environ)
        if value:
            models[var] = {"value": value, "source": _source(layer, value)}
    cloud = [var for var in CLOUD_VARS if (_lookup(var, layers, environ)[0] or "").lower() in ("1", "true", "yes", "on")]
    credentials = _credentials(layers, environ, home)
    return {
        "base_url": {"value": base or None, "source": _source(base_layer, base) if base else None},
        "credential": credentials[0] if credentials else None,
        "other_credentials": credentials[1:],
        "models": models,
        "cloud_provider": cloud[0] if cloud else None,
    }


def _credentials(layers: Sequence[Layer], environ: Mapping[str, str], home: Path) -> list[dict[str, Any]]:
    """Every credential Claude Code would find, in its precedence order (the first is the one it relies on)."""
    found: list[dict[str, Any]] = []
    for var in CREDENTIAL_VARS:
        value, layer = _lookup(var, layers, environ)
        if value:
            found.append({"kind": var, "source": _source(layer, value), "value": mask(value)})
    helper_layer = next((layer for layer in layers if layer.helper is not None), None)
    if helper_layer is not None and helper_layer.helper is not None:
        found.append({"kind": HELPER_KEY, "source": str(helper_layer.path), "value": shown_helper(helper_layer.helper),
                      "dsconfig_profile": profile_from_helper(helper_layer.helper)})
    if (home / ".claude" / ".credentials.json").is_file() and not found:
        found.append({"kind": "oauth", "source": str(home / ".claude" / ".credentials.json"), "value": None})
    return found


def profile_from_helper(command: str) -> str | None:
    """The profile name in an apiKeyHelper that runs `dsconfig key get NAME`, else None."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return None
    if len(argv) >= 4 and argv[-3:-1] == ["key", "get"] and any("dsconfig" in a for a in argv[:-3]):
        return argv[-1]
    return None


def _onboarding(ctx: TargetContext) -> dict[str, Any]:
    path = state_file(ctx)
    try:
        data = fileio.read_bytes(path)
        doc = jsonfile.parse_json_object(path, data, what=STATE_WHAT) if data is not None else None
    except InvalidFileError as err:
        return {"path": str(path), "exists": True, "has_completed_onboarding": None, "error": err.message}
    flag = doc.get(ONBOARDING_KEY) if doc is not None else None
    return {"path": str(path), "exists": doc is not None, "has_completed_onboarding": flag if isinstance(flag, bool) else None,
            "error": None}


def _install_doc(install: Install, environ: Mapping[str, str], timeout: float) -> InstallJSON:
    version, problem = claude_version(install.path, environ, timeout=timeout)
    return {"path": str(install.path), "kind": install.kind, "on_path": install.on_path, "active": install.active,
            "version": version, "error": problem}


def detect(ctx: TargetContext, *, root: Path | None = None, version_timeout: float = VERSION_TIMEOUT) -> DetectJSON:
    """What `dsconfig detect` reports about Claude Code (JSON-ready; keys documented in the README).

    Nothing here is fatal: a broken program or a malformed settings file is reported in its entry.
    """
    installs = [_install_doc(i, ctx.environ, version_timeout) for i in find_installs(ctx.home, ctx.platform, ctx.environ, root=root)]
    layers = settings_layers(ctx, root=root)
    return {
        "target": TARGET,
        "platform": ctx.platform,
        "installed": bool(installs),
        "version": next((i["version"] for i in installs if i["version"]), None),
        "installs": installs,
        "settings_files": [
            {"scope": layer.scope, "path": str(layer.path), "exists": layer.doc is not None or layer.error is not None,
             "error": layer.error, "sets": layer.routing(), "notes": list(layer.notes)}
            for layer in layers if layer.scope != "managed" or layer.doc is not None or layer.error is not None
        ],
        "state_file": _onboarding(ctx),
        "environment": environment_routing(ctx.environ),
        **_effective(layers, ctx.environ, ctx.home),
    }


# --- status -------------------------------------------------------------------------------------------------


class FileStatusJSON(TypedDict):
    """FILE in dsconfig.status."""

    scope: str
    path: str
    exists: bool
    error: str | None
    sets: dict[str, str]
    profile: str | None
    state: str
    drift: list[DriftJSON]
    notes: list[str]


class StatusJSON(TypedDict):
    """CODE in dsconfig.status."""

    cwd: str
    effective: EffectiveJSON
    files: list[FileStatusJSON]


def _file_status(layer: Layer, record: FileRecord | None) -> FileStatusJSON:
    exists = layer.doc is not None or layer.error is not None
    kept = record is not None and record.kept_only
    drift = file_drift(record) if record is not None and not kept else []
    if layer.error is not None:
        state = "invalid"
    elif kept:
        state = "kept"  # `off` ran; it kept values someone changed by hand (for `off --force`)
    elif record is not None:
        state = "drifted" if drift else "applied"
    else:
        state = "other" if layer.routing() else "none"
    return {"scope": layer.scope, "path": str(layer.path), "exists": exists, "error": layer.error,
            "sets": layer.routing(), "profile": record.owner.get("profile") if record and not kept else None,
            "state": state,
            "drift": drift, "notes": list(layer.notes)}


def status(ctx: TargetContext) -> StatusJSON:
    """What `dsconfig status` reports for Claude Code started in ctx.cwd (CODE in dsconfig.status): what is in
    effect and, per settings file, whether it still holds what dsconfig wrote."""
    layers = settings_layers(ctx)
    records = {str(r.path): r for r in ctx.journal.owned_by(target=TARGET)}
    files = [_file_status(layer, records.get(str(layer.path))) for layer in layers
             if layer.scope != "managed" or layer.doc is not None or layer.error is not None]
    return {"cwd": str(ctx.cwd), "effective": _effective(layers, ctx.environ, ctx.home), "files": files}
