"""What `use` writes into Claude Code's files and how `off` undoes it, as file plans (nothing here prints;
the engine's notes on a plan say where a member changed by hand was replaced or kept)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dsconfig import fileio, jsonfile, vocab
from dsconfig.changes import FilePlan, plan_json, plan_undo
from dsconfig.keypaths import ABSENT, KeyPath
from dsconfig.profiles import Resolved
from dsconfig.targets.claude_code.settings import (
    API_KEY_VAR,
    CLOUD_VARS,
    CREDENTIAL_VARS,
    HELPER_KEY,
    MODEL_VARS,
    ONBOARDING_KEY,
    SETTINGS_WHAT,
    STATE_WHAT,
    TARGET,
    TOKEN_VAR,
    Layer,
    _below,
    check_scope,
    check_writable,
    settings_file,
    settings_layers,
    state_file,
    validate_settings,
)
from dsconfig.targets.context import TargetContext

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
    the other provider's model, `/model` would show its name). So is ANTHROPIC_CUSTOM_HEADERS unless the
    profile sets it (`--env`): another setup's headers may carry its credential (`Authorization: Bearer ...`),
    which Claude Code would send to this provider."""
    wanted = {*resolved.claude_env(), *picker_labels(resolved)}
    return [v for v in (*MODEL_VARS, *CLOUD_VARS, vocab.HEADERS_VAR) if v not in wanted]


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
    a malformed or read-only one stops the command before anything is written. `root`: default ctx.root.

    Raises: UsageError (unknown scope), InvalidFileError (a malformed file), fileio.WriteError (read-only)."""
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
    say where a value the user changed since was kept (unless `force`).

    Raises: UsageError (unknown scope), InvalidFileError (a malformed file), fileio.WriteError (read-only)."""
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


