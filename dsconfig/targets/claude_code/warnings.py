"""What would still keep Claude Code from using a profile after `use` (settings files above the one written,
exported variables, a project file git would commit), and what one run needs so the profile wins
(`dsconfig exec NAME -- claude`). Warnings are returned as text; nothing here prints."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dsconfig import vocab
from dsconfig.notices import Notice, warning
from dsconfig.profiles import Resolved
from dsconfig.targets.base import RunOverrides
from dsconfig.targets.claude_code.plan import defeating_vars, picker_labels
from dsconfig.targets.claude_code.settings import (
    CLOUD_VARS,
    CREDENTIAL_VARS,
    HELPER_KEY,
    ROUTING_VARS,
    Layer,
    _above,
    _below,
    _shown,
    credential_headers,
    managed_files,
    read_layer,
    settings_file,
    settings_layers,
)
from dsconfig.targets.context import TargetContext

# --- what would still beat the profile ----------------------------------------------------------------------


def use_warnings(resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: bool,
                 root: Path | None = None, git: Callable[[Path, Path], bool | None] | None = None) -> list[str]:
    """Everything that would keep Claude Code from using the profile after `use`, or that the user must know.
    `root`: default ctx.root; `git`: whether a path is tracked (tests)."""
    target = settings_file(ctx, scope)
    layers = settings_layers(ctx, root=root)
    found: list[str] = []
    for layer in _above(layers, target):
        found += _layer_warning(layer, target, resolved, ctx)
    found += _environment_warnings(ctx.environ, resolved, ctx.platform)
    if scope == "project":
        found += _git_warnings(target, ctx.cwd, inline_key, git or git_unignored)
    if inline_key:
        found.append(f"--inline-key: the API key is stored in plain text in {target} (made 0600); without "
                     f"--inline-key Claude Code reads it from the OS keyring through apiKeyHelper")
    return found


def headers_note(resolved: Resolved, ctx: TargetContext, *, scope: str, root: Path | None = None) -> str | None:
    """What `use` does with another setup's ANTHROPIC_CUSTOM_HEADERS in the file it writes (or one below): it
    removes or blanks them, as every variable it owns, since a header may carry that setup's credential. None
    when no such file sets it or the profile sets it itself (`--env`)."""
    if vocab.HEADERS_VAR in resolved.claude_env():
        return None
    target = settings_file(ctx, scope)
    layers = settings_layers(ctx, root=root)
    here = [layer for layer in layers if layer.path == target] + _below(layers, target)
    layer = next((layer for layer in here if layer.env.get(vocab.HEADERS_VAR)), None)
    if layer is None:
        return None
    names = credential_headers(layer.env[vocab.HEADERS_VAR])
    carrying = f", with a credential ({', '.join(names)})" if names else ""
    return (f"{layer.path} sets {vocab.HEADERS_VAR}{carrying}, which profile {resolved.name!r} does not set: "
            f"switching {'removes' if layer.path == target else 'blanks'} it, so Claude Code does not send another setup's "
            f"headers to this provider (`dsconfig off` puts it back); to send headers with this profile: "
            f"`dsconfig profile edit {resolved.name} --env '{vocab.HEADERS_VAR}=Name: value'`")


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


def _environment_warnings(environ: Mapping[str, str], resolved: Resolved, platform: str) -> list[str]:
    """A settings `env` value beats the exported one; an exported variable the settings leave unset still applies.
    The fix is named in the syntax of the shell the person runs dsconfig from (fish has no `unset`), as `off`'s
    note and doctor's fix name it."""
    written = set(resolved.claude_env()) | set(CREDENTIAL_VARS) | {vocab.BASE_URL_VAR}
    still = [k for k in environment_routing(environ) if k not in written]
    if not still:
        return []
    cloud = [k for k in still if k in CLOUD_VARS]
    text = (f"exported in this environment and not overridden by the profile, so Claude Code started from it "
            f"still uses: {', '.join(still)}")
    if cloud:
        text += f" ({', '.join(cloud)} sends it to a cloud provider instead)"
    return [text + f"; unset them (e.g. `{unset_all(still, environ, platform)}`) if they are left over"]


def unset_all(names: list[str], environ: Mapping[str, str], platform: str) -> str:
    """One command line dropping every variable of `names` in the user's shell: `unset A B` in bash and zsh,
    one command a variable elsewhere (`set -e A; set -e B` in fish, `set A= & set B=` in cmd)."""
    from dsconfig.targets import shell

    syntax = shell.user_shell(environ, platform)
    if syntax in ("bash", "zsh"):
        return f"unset {' '.join(names)}"
    return (" & " if syntax == "cmd" else "; ").join(shell.unset_command(name, syntax) for name in names)


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


def run_overrides(resolved: Resolved, ctx: TargetContext) -> RunOverrides:
    """Extra argv for `claude` and extra environment, so `resolved` wins for one run; a warning when managed
    settings (under ctx.root) set routing keys, which beat even `--settings`.

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
    found: list[Notice] = []
    for layer in (read_layer("managed", p) for p in managed_files(ctx.platform, root=ctx.root)):
        if layer.routing():
            found.append(warning(f"managed settings {layer.path} set {', '.join(sorted(layer.routing()))}, which "
                                 f"beat --settings: this run may not use profile {resolved.name!r}"))
    argv = ["--settings", json.dumps(settings, separators=(",", ":"), ensure_ascii=False)]
    return RunOverrides(argv, {var: "" for var in CREDENTIAL_VARS}, tuple(found))


# --- after `off` ------------------------------------------------------------------------------------------


def off_warnings(ctx: TargetContext) -> list[Notice]:
    """After `off`: a base URL still exported (here, or by a shell startup file another tool left) is what Claude
    Code follows now, unless a settings file it reads in this folder still sets one."""
    from dsconfig.targets import shell

    if any(vocab.BASE_URL_VAR in layer.env for layer in settings_layers(ctx)):
        return []
    return [warning(text) for text in shell.still_exported(vocab.BASE_URL_VAR, ctx.home, ctx.environ)]


