"""Claude Code: switch the `claude` CLI to a profile, per user, per project or per run, and undo it exactly.

Facts: TARGETS.md section 2. Every file goes through dsconfig.changes, so `off` restores what each key held.

What `use` writes into the settings file of the scope (`~/.claude/settings.json`, or
`<project>/.claude/settings.local.json` with `--scope project`):

- `env`: the profile's base URL, model tiers and extra variables (`Resolved.claude_env()`);
- `apiKeyHelper`: `'/abs/dsconfig' key get NAME`, so Claude Code reads the key from the OS keyring on demand;
- `env.ANTHROPIC_AUTH_TOKEN` and `env.ANTHROPIC_API_KEY` set to "" (not removed). Measured with the real CLI
  2.1.332: a token exported in the shell, or set inline by another layer, is *still sent* beside the helper's
  key (`x-api-key: <helper>`, `Authorization: Bearer <other key>`), so which key the provider honours would
  be a coin toss. A settings `env` value beats the process environment, and "" counts as unset, so the
  empty values make the helper's key the only one sent. An inline value another tool left in the same file is
  replaced (and remembered, so `off` puts it back);
- variables that would silently defeat the profile are removed from the file: model tiers the profile does
  not set (a stale model name from another provider), the deprecated `ANTHROPIC_SMALL_FAST_MODEL`, and the
  cloud-provider switches (`CLAUDE_CODE_USE_BEDROCK` ...), which beat any base URL. When a lower-precedence
  settings file also sets one of them (the user file, under `--scope project`), it is set to "" instead, which
  overrides it; "" is what Claude Code treats as unset (measured: `ANTHROPIC_MODEL=""` gives the default model);
- `hasCompletedOnboarding: true` in `~/.claude.json` (user scope only, and only when missing), as a textual
  insertion that leaves every other byte of that file alone: Claude Code rewrites the file itself.

`--inline-key` writes the key as `ANTHROPIC_AUTH_TOKEN` (`ANTHROPIC_API_KEY` for a provider that takes only
`x-api-key`) and no helper. Why the token: measured with the real CLI, an inline `ANTHROPIC_API_KEY` makes every
interactive session stop at "Detected a custom API key in your environment ... Do you want to use this API
key?" with "No (recommended)" preselected, and stores the key's last 20 characters in `~/.claude.json` once
approved; `ANTHROPIC_AUTH_TOKEN` is sent as `Authorization: Bearer` without any prompt, which DeepSeek and the
other bearer providers accept.

Everything outside the home folder (managed settings, Homebrew, /usr/local) is looked up under `root`
(default: the real file system root), so tests lay out macOS, Windows and Linux machines in temp folders.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import stat
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from dsconfig import claudejson, fileio, jsonfile, output, paths, vocab
from dsconfig.changes import FilePlan, plan_json, plan_undo
from dsconfig.credentials import mask
from dsconfig.errors import InvalidFileError, UsageError
from dsconfig.keypaths import ABSENT, KeyPath
from dsconfig.profiles import Resolved
from dsconfig.targets.context import TargetContext

TARGET = vocab.TARGET_CLAUDE_CODE
SCOPES = ("user", "project")
TOKEN_VAR = vocab.AUTH_TOKEN_VAR
API_KEY_VAR = vocab.API_KEY_VAR
CREDENTIAL_VARS = vocab.KEY_VARS
HELPER_KEY = "apiKeyHelper"
ONBOARDING_KEY = "hasCompletedOnboarding"
CLOUD_VARS = vocab.CLOUD_VARS
# Every variable that picks or offers a model (tiers, their `/model` companions, the default and custom
# options, gateway discovery, the deprecated small-fast one): `use` owns all of them.
MODEL_VARS = vocab.MODEL_VARS
# Keys whose value decides where Claude Code sends requests, with which key and which model.
ROUTING_VARS = (vocab.BASE_URL_VAR, *CREDENTIAL_VARS, *MODEL_VARS, *CLOUD_VARS)
SETTINGS_WHAT = "Claude Code settings file"
STATE_WHAT = "Claude Code state file (~/.claude.json)"
VERSION_TIMEOUT = 3.0


# --- where files are ----------------------------------------------------------------------------------------


def check_scope(scope: str) -> str:
    if scope not in SCOPES:
        raise UsageError(f"unknown scope {scope!r}", "use --scope user or --scope project")
    return scope


def settings_file(ctx: TargetContext, scope: str) -> Path:
    """The file `use` writes for `scope`: the user settings, or the project's settings.local.json in cwd."""
    if check_scope(scope) == "user":
        return paths.claude_user_settings(ctx.home, ctx.environ)
    return paths.claude_project_settings(ctx.cwd)[0]


def state_file(ctx: TargetContext) -> Path:
    return paths.claude_global_state(ctx.home, ctx.environ)


def _system(path: Path, root: Path | None) -> Path:
    """A system-wide path, looked up under `root` when tests give one (a Windows path works on Linux too)."""
    if root is None:
        return path
    pure = PurePath(str(path).replace("\\", "/"))
    return root.joinpath(*[part for part in pure.parts if part not in ("/", pure.anchor)])


# --- reading the settings layers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One settings file in Claude Code's precedence order. `doc` is None when absent or unreadable."""

    scope: str  # "managed", "project-local", "project", "user"
    path: Path
    doc: dict[str, Any] | None
    error: str | None = None
    # Read as Claude Code reads it, but dsconfig would refuse to edit it (byte-order mark, duplicate key).
    notes: tuple[str, ...] = ()

    @property
    def env(self) -> dict[str, str]:
        raw = (self.doc or {}).get("env")
        if not isinstance(raw, dict):
            return {}
        return {k: v for k, v in raw.items() if isinstance(v, str)}

    @property
    def helper(self) -> str | None:
        value = (self.doc or {}).get(HELPER_KEY)
        return value if isinstance(value, str) and value.strip() else None

    def routing(self) -> dict[str, str]:
        """The keys of this file that decide endpoint, key and models (helper included), values masked."""
        found = {var: _shown(var, value) for var, value in self.env.items() if var in ROUTING_VARS}
        if self.helper is not None:
            found[HELPER_KEY] = self.helper
        return found


def _shown(var: str, value: str) -> str:
    return mask(value) if value and var in CREDENTIAL_VARS else value


def read_layer(scope: str, path: Path) -> Layer:
    """Read one settings file for reporting: a malformed file is described, never fatal.

    Read the way Claude Code reads it (claudejson): a byte-order mark is skipped and the last of two duplicate
    keys wins, so reports say what is really in effect; such a file gets `notes`, and editing it still fails."""
    try:
        data = fileio.read_bytes(path)
        if data is None:
            return Layer(scope, path, None)
        doc, notes = claudejson.parse_json_like_claude(path, data, what=SETTINGS_WHAT)
        validate_settings(path, doc)
    except InvalidFileError as err:
        return Layer(scope, path, None, err.message + (f" (hint: {err.hint})" if err.hint else ""))
    return Layer(scope, path, doc, notes=tuple(notes))


def managed_files(platform: str, *, root: Path | None = None) -> list[Path]:
    """managed-settings.json and its drop-in folder, highest precedence first (later drop-ins win)."""
    main = _system(paths.claude_managed_settings(platform), root)
    drop_ins = sorted((main.parent / "managed-settings.d").glob("*.json"), reverse=True)
    return [*drop_ins, main]


def settings_layers(ctx: TargetContext, *, root: Path | None = None) -> list[Layer]:
    """Every settings file Claude Code reads when started in ctx.cwd, highest precedence first."""
    layers = [read_layer("managed", p) for p in managed_files(ctx.platform, root=root)]
    local, shared = paths.claude_project_settings(ctx.cwd)
    user = settings_file(ctx, "user")
    # Started in the home folder, the "project" settings.json *is* the user file: count it once.
    layers += [read_layer(s, p) for s, p in (("project-local", local), ("project", shared)) if p != user]
    layers.append(read_layer("user", user))
    return layers


def _above(layers: Sequence[Layer], target: Path) -> list[Layer]:
    index = next((i for i, layer in enumerate(layers) if layer.path == target), len(layers))
    return list(layers[:index])


def _below(layers: Sequence[Layer], target: Path) -> list[Layer]:
    index = next((i for i, layer in enumerate(layers) if layer.path == target), len(layers))
    return list(layers[index + 1 :])


# --- validation ---------------------------------------------------------------------------------------------


def validate_settings(path: Path, doc: dict[str, Any]) -> None:
    """Refuse what Claude Code itself would reject in `env`: writing into such a file would hide the problem."""
    env = doc.get("env")
    if env is None and "env" not in doc:
        return
    if not isinstance(env, dict):
        line, col = _locate(path, "env")
        raise InvalidFileError(path, f"'env' is a JSON {_json_type(env)}, expected an object", 'write it as "env": {"NAME": "value"}',
                               line=line, column=col)
    for name, value in env.items():
        if not isinstance(value, str):
            line, col = _locate(path, name)
            raise InvalidFileError(path, f"env.{name} is a JSON {_json_type(value)}; Claude Code accepts only strings there",
                                   f'quote the value: "{name}": "{json.dumps(value)}"', line=line, column=col)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _locate(path: Path, key: str) -> tuple[int | None, int | None]:
    """Line and column of `"key":` in the file, for the error message (best effort)."""
    data = fileio.read_bytes(path) or b""
    text = data.decode("utf-8", "replace")
    match = re.search(r'"' + re.escape(key) + r'"\s*:', text)
    if match is None:
        return None, None
    before = text[: match.start()]
    return before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1


def check_writable(path: Path) -> None:
    """A read-only settings file or folder is the user's decision: say so instead of replacing the file.

    Checked on the mode bits too, not only with os.access: root may write anything, and an atomic rename
    replaces a read-only file in a writable folder without complaint.
    """
    target = fileio.real_target(path)
    if target.exists():
        mode = target.stat().st_mode
        if not mode & stat.S_IWUSR or not os.access(target, os.W_OK):
            raise fileio.WriteError(f"{target} is read-only", f"make it writable (chmod u+w '{target}') and run again")
    folder = target.parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    mode = folder.stat().st_mode
    if not mode & stat.S_IWUSR or not os.access(folder, os.W_OK | os.X_OK):
        raise fileio.WriteError(f"folder {folder} is read-only", f"make it writable (chmod u+w '{folder}') and run again")


# --- what `use` writes --------------------------------------------------------------------------------------


def owner(profile: str, scope: str) -> dict[str, str]:
    return {"target": TARGET, "scope": scope, "profile": profile}


def inline_variable(resolved: Resolved) -> str:
    """Where --inline-key puts the key: the bearer token, unless the provider takes only x-api-key (see the
    module docstring for why the token is preferred)."""
    return API_KEY_VAR if resolved.template.auth == "x-api-key" else TOKEN_VAR


def picker_labels(resolved: Resolved) -> dict[str, str]:
    """The `/model` picker's labels the template gives (`ANTHROPIC_DEFAULT_<TIER>_MODEL_NAME`).

    Seen in the real 2.1.332 `/model` screen with a custom base URL (tests/test_claude_code_real.py, a pty run):
    `_NAME` replaces the tier's label and `_DESCRIPTION` its description line. Templates give labels only (while a
    tier keeps the template's model); `_DESCRIPTION` and `_SUPPORTED_CAPABILITIES` are never written."""
    companions = set(vocab.TIER_COMPANION_VARS)
    return {var: value for var, value in resolved.model_variables().items() if value and var in companions}


def defeating_vars(resolved: Resolved) -> list[str]:
    """Variables the profile does not set whose presence would send requests elsewhere or to other models.

    Every model variable and companion of vocab.MODEL_VARS the profile leaves unset is one: a fable tier or a
    `_NAME` label another switcher left would otherwise survive the switch (`claude --model fable` would send
    the other provider's model, `/model` would show its name)."""
    wanted = {*resolved.claude_env(), *picker_labels(resolved)}
    return [v for v in (*MODEL_VARS, *CLOUD_VARS) if v not in wanted]


def settings_edits(resolved: Resolved, ctx: TargetContext, *, inline_key: str | None = None,
                   lower: Sequence[Layer] = ()) -> dict[KeyPath, Any]:
    """The key edits for a settings file. `lower`: the settings files this one overrides."""
    profile_env = resolved.claude_env()
    env: dict[str, Any] = {vocab.BASE_URL_VAR: profile_env[vocab.BASE_URL_VAR]}
    for var in CREDENTIAL_VARS:
        env[var] = profile_env.get(var, "")
    if inline_key is not None:
        env[inline_variable(resolved)] = inline_key
    env.update({k: v for k, v in profile_env.items() if k not in env})
    env.update(picker_labels(resolved))
    lower_values = {var for layer in lower for var, value in layer.env.items() if value}
    for var in defeating_vars(resolved):
        env[var] = "" if var in lower_values else ABSENT
    edits: dict[KeyPath, Any] = {("env", var): value for var, value in env.items()}
    edits[(HELPER_KEY,)] = ABSENT if inline_key is not None else ctx.key_command(resolved.name)
    return edits


def plan_use(resolved: Resolved, ctx: TargetContext, *, scope: str = "user", inline_key: str | None = None,
             root: Path | None = None) -> list[FilePlan]:
    """Plan switching Claude Code to `resolved` for `scope`. Reads and validates every file it will write, so
    a malformed or read-only one stops the command before anything is written."""
    target = settings_file(ctx, scope)
    lower = _below(settings_layers(ctx, root=root), target)
    edits = settings_edits(resolved, ctx, inline_key=inline_key, lower=lower)
    plan = plan_json(target, edits, owner=owner(resolved.name, scope), journal=ctx.journal, what=SETTINGS_WHAT,
                     validate=validate_settings, new_file_style=jsonfile.JsonStyle())
    plans = [plan]
    if scope == "user":
        onboarding = plan_onboarding(ctx, owner(resolved.name, scope))
        if onboarding is not None:
            plans.append(onboarding)
    for p in plans:
        if p.changed:
            check_writable(p.path)
    return plans


def file_modes(ctx: TargetContext, profile: str, *, scope: str = "user", inline_key: bool = False) -> dict[Path, int]:
    """Modes for apply.apply_all: a settings file holding the key inline is made 0600; other files keep
    theirs (a new file gets the engine's 0600). Same signature as claude_desktop.file_modes."""
    del profile
    return {settings_file(ctx, scope): 0o600} if inline_key else {}


# --- ~/.claude.json -----------------------------------------------------------------------------------------


def plan_onboarding(ctx: TargetContext, owner_: Mapping[str, str]) -> FilePlan | None:
    """`hasCompletedOnboarding: true` unless it already is (first-run screens otherwise appear even with a key
    set, and `false` counts as not done). Like every member dsconfig owns, `off` puts back what it held before
    (`false`, or nothing) key by key, on the file as Claude Code left it: its own members all stay.
    """
    path = state_file(ctx)
    data = fileio.read_bytes(path)
    if ctx.journal.get(path) is None and data is not None \
            and jsonfile.parse_json_object(path, data, what=STATE_WHAT).get(ONBOARDING_KEY) is True:
        return None
    # The engine rewrites only this member: Claude Code's own formatting (1e-7, escapes) stays as it was.
    return plan_json(path, {(ONBOARDING_KEY,): True}, owner=owner_, journal=ctx.journal, what=STATE_WHAT)


# --- undo ---------------------------------------------------------------------------------------------------


def _what(path: Path) -> str:
    return STATE_WHAT if path.name == ".claude.json" else SETTINGS_WHAT


def plan_off(ctx: TargetContext, *, scope: str = "user", force: bool = False) -> list[FilePlan]:
    """Plan undoing what `use` did for `scope` (project: only the current folder's file). The engine's notes
    say where a value the user changed since was kept (unless `force`)."""
    check_scope(scope)
    records = ctx.journal.owned_by(target=TARGET, scope=scope)
    if scope == "project":
        mine = settings_file(ctx, "project")
        records = [r for r in records if r.path == mine]
    plans = [plan_undo(r.path, journal=ctx.journal, force=force, what=_what(r.path)) for r in sorted(records, key=lambda r: str(r.path))]
    for p in plans:
        if p.changed:
            check_writable(p.path)
    return plans


def applied_profile(ctx: TargetContext, scope: str) -> str | None:
    """The profile the journal says `use` applied for `scope` (None: nothing applied)."""
    target = settings_file(ctx, scope)
    record = ctx.journal.get(target)
    if record is None or record.owner.get("target") != TARGET:
        return None
    return record.owner.get("profile")


# --- what would still beat the profile ----------------------------------------------------------------------


def use_warnings(resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: bool,
                 root: Path | None = None, git: Callable[[Path, Path], bool | None] | None = None) -> list[str]:
    """Everything that would keep Claude Code from using the profile after `use`, or that the user must know."""
    target = settings_file(ctx, scope)
    layers = settings_layers(ctx, root=root)
    found: list[str] = []
    for layer in _above(layers, target):
        found += _layer_warning(layer, target, resolved, ctx)
    found += _environment_warnings(ctx.environ, resolved)
    if scope == "project":
        found += _git_warnings(target, ctx.cwd, inline_key, git or git_unignored)
    if inline_key:
        found.append(f"--inline-key: the API key is stored in plain text in {target} (made 0600); without "
                     f"--inline-key Claude Code reads it from the OS keyring through apiKeyHelper")
    return found


def _layer_warning(layer: Layer, target: Path, resolved: Resolved, ctx: TargetContext) -> list[str]:
    if layer.error is not None:
        return [f"could not check {layer.path}, which Claude Code reads before {target}: {layer.error}"]
    keys = layer.routing()
    if not keys:
        return []
    listed = ", ".join(sorted(keys))
    if layer.scope == "managed":
        return [(f"managed settings {layer.path} set {listed}; they beat every other settings file, so Claude Code "
                 f"will not use profile {resolved.name!r} for those (ask whoever manages this machine)")]
    return [(f"in {ctx.cwd}, {layer.path} sets {listed}, which beats {target} there; use "
             f"`dsconfig use {resolved.name} --scope project` in that folder, or remove those keys")]


def environment_routing(environ: Mapping[str, str]) -> dict[str, str]:
    """Exported variables that decide Claude Code's endpoint, key or model (values of keys masked)."""
    return {k: _shown(k, v) for k, v in sorted(environ.items())
            if v and (k.startswith("ANTHROPIC_") or k in ROUTING_VARS)}


def _environment_warnings(environ: Mapping[str, str], resolved: Resolved) -> list[str]:
    """A settings `env` value beats the exported one; an exported variable the settings leave unset still applies."""
    written = set(resolved.claude_env()) | set(CREDENTIAL_VARS) | {vocab.BASE_URL_VAR}
    still = [k for k in environment_routing(environ) if k not in written]
    if not still:
        return []
    cloud = [k for k in still if k in CLOUD_VARS]
    text = (f"exported in this environment and not overridden by the profile, so Claude Code started from it "
            f"still uses: {', '.join(still)}")
    if cloud:
        text += f" ({', '.join(cloud)} sends it to a cloud provider instead)"
    return [text + f"; unset them (e.g. `unset {' '.join(still)}`) if they are left over"]


def git_unignored(path: Path, cwd: Path) -> bool | None:
    """True when `path` is inside a git work tree and not ignored; None when not a repository or no git."""
    try:
        proc = subprocess.run(["git", "check-ignore", "-q", "--", str(path)], cwd=cwd, capture_output=True,
                              timeout=10, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {0: False, 1: True}.get(proc.returncode)


def _git_warnings(target: Path, cwd: Path, inline_key: bool, git: Callable[[Path, Path], bool | None]) -> list[str]:
    if not git(target, cwd):
        return []
    what = "the API key (--inline-key)" if inline_key else "this machine's dsconfig path and profile name"
    return [(f"{target} is not ignored by git, so it may be committed with {what}; add "
             "`.claude/settings.local.json` to .gitignore")]


# --- per run: `dsconfig exec NAME -- claude ...` ------------------------------------------------------------


def run_settings(resolved: Resolved, ctx: TargetContext) -> dict[str, Any]:
    """The settings `claude --settings` gets for one run: the profile, the keyring helper, no key."""
    env: dict[str, str] = {vocab.BASE_URL_VAR: resolved.base_url}
    env.update({var: "" for var in CREDENTIAL_VARS})
    env.update(resolved.claude_env())
    env.update(picker_labels(resolved))
    env.update({var: "" for var in defeating_vars(resolved)})
    return {"env": env, HELPER_KEY: ctx.key_command(resolved.name)}


def claude_run_overrides(resolved: Resolved, ctx: TargetContext) -> tuple[list[str], dict[str, str]]:
    """Extra argv for `claude` and extra environment, so `resolved` wins for one run.

    Decision, measured with the real CLI 2.1.332 (tests/test_claude_code_real.py proves it on every run):

    - `--settings '<JSON>'` is the highest layer a user controls (only managed settings beat it), above
      `.claude/settings.local.json`, `.claude/settings.json` and `~/.claude/settings.json`.
    - The key comes from `apiKeyHelper` = `dsconfig key get NAME` inside that JSON, so it is in no argument
      (process lists are world-readable) and on no disk.
    - An inline `ANTHROPIC_AUTH_TOKEN` in the user's settings (or exported in the shell) does not lose to the
      helper: Claude Code then sends *both*, the helper's key as `x-api-key` and the other one as
      `Authorization: Bearer`. Passing our key through the process environment cannot help either, because a
      settings file's `env` beats the process environment. What works: the `--settings` env sets
      `ANTHROPIC_AUTH_TOKEN` and `ANTHROPIC_API_KEY` to "" (Claude Code treats "" as unset), so the helper's
      key is the only one sent, as both headers. Tier variables the profile does not set, the deprecated
      `ANTHROPIC_SMALL_FAST_MODEL` and the cloud-provider switches are set to "" the same way, so nothing of
      the profile active in the files leaks into this run.
    - The returned environment blanks `ANTHROPIC_AUTH_TOKEN` / `ANTHROPIC_API_KEY`: the caller may have put the
      key there for other programs; for claude it would only sit in the process's environment block (and be
      inherited by every command the agent runs) without being used.
    """
    settings = run_settings(resolved, ctx)
    for layer in (read_layer("managed", p) for p in managed_files(ctx.platform)):
        if layer.routing():
            output.warn(f"managed settings {layer.path} set {', '.join(sorted(layer.routing()))}, which beat "
                        f"--settings: this run may not use profile {resolved.name!r}")
    argv = ["--settings", json.dumps(settings, separators=(",", ":"), ensure_ascii=False)]
    return argv, {var: "" for var in CREDENTIAL_VARS}


# --- detection ----------------------------------------------------------------------------------------------


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


def effective(layers: Sequence[Layer], environ: Mapping[str, str], home: Path) -> dict[str, Any]:
    """Which value of endpoint, credential and models Claude Code would use, and where each comes from."""
    base, base_layer = _lookup(vocab.BASE_URL_VAR, layers, environ)
    models = {}
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
        found.append({"kind": HELPER_KEY, "source": str(helper_layer.path), "value": helper_layer.helper,
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


def _install_doc(install: Install, environ: Mapping[str, str], timeout: float) -> dict[str, Any]:
    version, problem = claude_version(install.path, environ, timeout=timeout)
    return {"path": str(install.path), "kind": install.kind, "on_path": install.on_path, "active": install.active,
            "version": version, "error": problem}


def detect(ctx: TargetContext, *, root: Path | None = None, version_timeout: float = VERSION_TIMEOUT) -> dict[str, Any]:
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
        **effective(layers, ctx.environ, ctx.home),
    }
