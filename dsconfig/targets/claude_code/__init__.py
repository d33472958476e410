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
(TargetContext.root; default: the real file system root), so tests lay out macOS, Windows and Linux machines in
temp folders.

The package: `settings` (where files are, the layers Claude Code reads, checks before an edit), `plan` (what
`use` writes, `off`), `warnings` (what would still beat the profile; per-run overrides for `exec`), `report`
(installs and what is in effect, for `detect` and `status`), and here the `ClaudeCode` target registered in
dsconfig.targets.
"""

from __future__ import annotations

from pathlib import Path

from dsconfig.notices import Notice
from dsconfig.profiles import Resolved
from dsconfig.targets.base import Planned, RunOverrides, notices_of
from dsconfig.targets.claude_code.plan import (
    applied_profile,
    defeating_vars,
    file_modes,
    inline_variable,
    owner,
    picker_labels,
    plan_off,
    plan_onboarding,
    plan_use,
    settings_edits,
)
from dsconfig.targets.claude_code.report import (
    DetectJSON,
    Install,
    StatusJSON,
    claude_version,
    detect,
    effective,
    find_installs,
    profile_from_helper,
    status,
)
from dsconfig.targets.claude_code.settings import (
    API_KEY_VAR,
    CLOUD_VARS,
    CREDENTIAL_VARS,
    HELPER_KEY,
    MODEL_VARS,
    ONBOARDING_KEY,
    ROUTING_VARS,
    SCOPES,
    SETTINGS_WHAT,
    STATE_WHAT,
    TARGET,
    TOKEN_VAR,
    VERSION_TIMEOUT,
    Layer,
    check_scope,
    check_writable,
    credential_headers,
    helper_secrets,
    managed_files,
    read_layer,
    settings_file,
    settings_layers,
    shown_helper,
    state_file,
    validate_settings,
)
from dsconfig.targets.claude_code.warnings import (
    environment_routing,
    git_unignored,
    headers_note,
    off_warnings,
    run_overrides,
    run_settings,
    use_warnings,
)
from dsconfig.targets.context import TargetContext

__all__ = [
    "API_KEY_VAR", "CLAUDE_CODE", "CLOUD_VARS", "CREDENTIAL_VARS", "HELPER_KEY", "MODEL_VARS", "ONBOARDING_KEY",
    "ROUTING_VARS", "SCOPES", "SETTINGS_WHAT", "STATE_WHAT", "TARGET", "TOKEN_VAR", "VERSION_TIMEOUT", "ClaudeCode",
    "Install", "Layer", "applied_profile", "check_scope", "check_writable", "claude_version", "credential_headers",
    "defeating_vars", "detect", "effective", "environment_routing", "file_modes", "find_installs", "git_unignored",
    "headers_note", "helper_secrets", "inline_variable", "managed_files", "off_warnings", "owner", "picker_labels",
    "plan_off", "plan_onboarding", "plan_use", "profile_from_helper", "read_layer", "run_overrides", "run_settings",
    "settings_edits", "settings_file", "settings_layers", "shown_helper", "state_file", "status", "use_warnings",
    "validate_settings",
]


class ClaudeCode:
    """Claude Code as a dsconfig target (targets.base.Target): per user or per project folder."""

    id = TARGET
    label = "Claude Code"
    scopes = SCOPES

    def detect(self, ctx: TargetContext) -> DetectJSON:
        return detect(ctx)

    def present(self, ctx: TargetContext) -> bool:
        return True  # configured even before it is installed: setup often comes first

    def check_supported(self, resolved: Resolved) -> None:
        """Every profile can drive Claude Code."""

    def plan_use(self, resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: str | None) -> Planned:
        files = plan_use(resolved, ctx, scope=scope, inline_key=inline_key)
        return Planned(files, tuple(notices_of(files)))  # members someone changed by hand that this replaces

    def plan_off(self, ctx: TargetContext, *, scope: str, force: bool) -> Planned:
        files = plan_off(ctx, scope=scope, force=force)
        return Planned(files, tuple(notices_of(files)))  # values changed by hand since, kept

    def file_modes(self, ctx: TargetContext, profile: str, *, scope: str, inline_key: bool) -> dict[Path, int]:
        return file_modes(ctx, profile, scope=scope, inline_key=inline_key)

    def use_warnings(self, resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: bool) -> list[Notice]:
        found = [Notice("warning", text) for text in use_warnings(resolved, ctx, scope=scope, inline_key=inline_key)]
        headers = headers_note(resolved, ctx, scope=scope)
        return found + ([Notice("note", headers)] if headers else [])

    def off_warnings(self, ctx: TargetContext) -> list[Notice]:
        return off_warnings(ctx)

    def status(self, ctx: TargetContext) -> StatusJSON:
        return status(ctx)

    def run_overrides(self, resolved: Resolved, ctx: TargetContext) -> RunOverrides:
        return run_overrides(resolved, ctx)


CLAUDE_CODE = ClaudeCode()
