"""What `use` writes for Claude Desktop: the config library entry of a profile and its credential helper."""

from __future__ import annotations

import shlex
import uuid
from pathlib import Path
from typing import Any

from dsconfig import paths
from dsconfig.errors import DsconfigError
from dsconfig.profiles import Resolved
from dsconfig.targets.claude_desktop.machine import _is_windows
from dsconfig.targets.context import TargetContext

# Never change: entry ids derive from it, and a new namespace would orphan every entry already written.
ENTRY_NAMESPACE = uuid.UUID("ba735c4a-8765-4a57-a0fb-09628de84a8f")
HELPER_MODE = 0o700
HELPER_KEY_PLACEHOLDER = "dsconfig-credential-helper-not-a-key"


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
        return _cmd_script(profile, [*ctx.dsconfig_command, "key", "get", profile], ctx.dsconfig_home())
    lines = [
        "#!/bin/sh",
        f"# Claude Desktop credential helper for the dsconfig profile {profile}: prints its key from the OS keyring.",
        "# Written by dsconfig; `dsconfig off --target claude-desktop` removes it.",
        # The app runs this in its own environment: key get must read the same profiles.toml.
        *([f"export DSCONFIG_HOME={shlex.quote(home)}"] if (home := ctx.dsconfig_home()) else []),
        # exec: the app sees dsconfig's own exit status and output, nothing of the shell's.
        "exec " + shlex.join([*ctx.dsconfig_command, "key", "get", profile]),
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _cmd_script(profile: str, argv: list[str], dsconfig_home: str | None = None) -> bytes:
    # (uncertain) Node refuses to spawn a .cmd without a shell since its 2024 fix for batch-file injection; if
    # the app spawns the helper that way, Windows needs an .exe helper instead. The .cmd is what the issue asks.
    lines = [
        "@echo off",
        f"rem Claude Desktop credential helper for the dsconfig profile {profile}: prints its key from the OS keyring.",
        "rem Written by dsconfig; `dsconfig off --target claude-desktop` removes it.",
        # `!` would expand if the machine enables delayed expansion by default.
        "setlocal DisableDelayedExpansion",
        *([f'set "DSCONFIG_HOME={dsconfig_home}"'] if dsconfig_home else []),
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

