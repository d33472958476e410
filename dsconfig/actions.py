"""What each command does, as plain functions: arguments in, data out, collaborators injectable.

cli.py parses and renders; entry.py calls the two fast ones (`key_get`, `env`) without click. Tests call
these directly with an in-memory secret store and a temporary profile store.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dsconfig import output
from dsconfig.credentials import (
    KeyringLockedError,
    KeyringStore,
    SecretStore,
    mask,
    normalize_key,
    profile_key,
    require_key,
)
from dsconfig.errors import DsconfigError, KeyringUnavailableError
from dsconfig.names import validate_name
from dsconfig.profiles import Profile, ProfileStore, Resolved, resolve, validate_base_url
from dsconfig.templates import Template, load_template, load_templates


@dataclass
class Context:
    """The collaborators a command uses; production defaults, swapped in tests."""

    store: ProfileStore = field(default_factory=ProfileStore)
    secrets: SecretStore = field(default_factory=KeyringStore)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)


def _ctx(ctx: Context | None) -> Context:
    return ctx or Context()


def resolved_profile(name: str | None, ctx: Context | None = None) -> Resolved:
    """The profile `name` (or the active one) with its template applied."""
    c = _ctx(ctx)
    profile = c.store.load().pick(name)
    return resolve(profile, load_template(profile.provider))


# --- providers ------------------------------------------------------------------------------------------


def providers_doc() -> dict[str, Any]:
    found = load_templates()
    return {
        "providers": [template_doc(t) for t in found.ordered()],
        "errors": [{"file": str(e.path), "message": e.message, "hint": e.hint} for e in found.errors],
    }


def template_doc(t: Template) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "base_url": t.base_url,
        "regions": dict(t.regions),
        "auth": t.auth,
        "key_url": t.key_url,
        "docs_url": t.docs_url,
        "checked": t.checked,
        "models": dict(t.models),
        "model_names": dict(t.model_names),
        "legacy": dict(t.legacy),
        "env": dict(t.env),
        "desktop": {
            "supported": t.desktop_supported,
            "reason": t.desktop_reason,
            "models": [{"id": m.id, "label": m.label, "tier": m.tier, "supports_1m": m.supports_1m} for m in t.desktop_models],
        },
        "source": "built-in" if t.builtin else str(t.source),
    }


def _profiles_lock() -> contextlib.AbstractContextManager[None]:
    """Profile and key changes take the same lock as `use`/`off` (journal.switch_lock): two `profile add x` at
    once, or `use x` racing `profile rm x`, must not undo each other. Taken after the input is validated: a
    command refused for bad input creates nothing, not even dsconfig's lock folder."""
    from dsconfig.journal import switch_lock

    return switch_lock()


# --- profiles -------------------------------------------------------------------------------------------


def profile_add(
    name: str,
    provider: str,
    *,
    base_url: str | None = None,
    models: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    key: str | None = None,
    ctx: Context | None = None,
) -> Resolved:
    """Create a profile; store its key first so a keyring failure leaves nothing half-made."""
    c = _ctx(ctx)
    validate_name(name)
    template = load_template(provider)
    profile = Profile(
        name=name,
        provider=template.id,
        base_url=validate_base_url(base_url) if base_url else None,
        models=dict(models or {}),
        env=dict(env or {}),
    )
    if key is not None:
        c.secrets.get(name)  # no usable keyring: refused before anything is created (the lock folder included)
    with _profiles_lock():
        if name in c.store.load().profiles:
            raise DsconfigError(f"profile {name!r} already exists",
                                f"change it with `dsconfig profile edit {name} ...`, or remove it first")
        previous = None
        if key is not None:
            key, shape_warning = _checked_key(key, template)
            previous = _stored_quietly(c.secrets, name)
            c.secrets.set(name, key)
            _warn(shape_warning)
        try:
            c.store.add(profile)
        except BaseException:
            if key is not None:  # put back exactly what was there: never delete a key this command did not store
                if previous is None:
                    c.secrets.delete(name)
                else:
                    c.secrets.set(name, previous)
            raise
    return resolve(profile, template)


def _stored_quietly(secrets: SecretStore, name: str) -> str | None:
    try:
        return secrets.get(name)
    except DsconfigError:
        return None


def profile_edit(
    name: str,
    *,
    provider: str | None = None,
    base_url: str | None = None,
    models: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    unset_models: tuple[str, ...] = (),
    unset_env: tuple[str, ...] = (),
    key: str | None = None,
    ctx: Context | None = None,
) -> Resolved:
    c = _ctx(ctx)
    current = c.store.load().get(name)
    template = load_template(provider or current.provider)
    new_models = {k: v for k, v in {**current.models, **(models or {})}.items() if k not in unset_models}
    new_env = {k: v for k, v in {**current.env, **(env or {})}.items() if k not in unset_env}
    updated = replace(
        current,
        provider=template.id,
        base_url=validate_base_url(base_url) if base_url else current.base_url,
        models=new_models,
        env=new_env,
    )
    with _profiles_lock():
        c.store.load().get(name)  # still there (a racing `profile rm` may have won)
        if key is not None:
            checked, shape_warning = _checked_key(key, template)
            c.secrets.set(name, checked)
            _warn(shape_warning)
        c.store.update(updated)
    return resolve(updated, template)


def _refuse_if_applied(name: str, doing: str) -> None:
    """A profile that Claude Code or Desktop still uses through `dsconfig key get NAME` must not vanish under it."""
    from dsconfig.changes import Journal

    where = sorted({f"{r.owner.get('target')} ({r.owner.get('scope', 'user')} scope)" for r in Journal().owned_by(profile=name)})
    if where:
        raise DsconfigError(
            f"profile {name!r} is applied to {', '.join(where)}; {doing} it would leave that program without a key",
            "undo it first: dsconfig off --target all (add --scope project in that project folder)",
        )


def profile_remove(name: str, *, ctx: Context | None = None) -> bool:
    """Remove the profile and its key; returns whether a key was removed."""
    c = _ctx(ctx)
    c.store.load().get(name)
    with _profiles_lock():
        return _profile_remove_locked(name, c)


def _profile_remove_locked(name: str, c: Context) -> bool:
    c.store.load().get(name)
    _refuse_if_applied(name, "removing")
    try:
        removed_key = c.secrets.delete(name)
    except KeyringLockedError:
        raise  # a locked keyring may hold this profile's key: removing the profile would orphan it
    except KeyringUnavailableError:
        # No keyring at all: nothing can be stored there, so a profile made for --inline-key use can still go.
        output.warn("no OS keyring is available, so no key of this profile could be stored or removed there")
        removed_key = False
    c.store.remove(name)
    return removed_key


def profile_rename(old: str, new: str, *, ctx: Context | None = None) -> None:
    """Rename the profile and move its key: new key written first, old one removed last."""
    c = _ctx(ctx)
    validate_name(new)
    c.store.load().get(old)
    with _profiles_lock():
        _profile_rename_locked(old, new, c)


def _profile_rename_locked(old: str, new: str, c: Context) -> None:
    profiles = c.store.load()
    profiles.get(old)
    _refuse_if_applied(old, "renaming")
    if new in profiles.profiles:
        raise DsconfigError(f"profile {new!r} already exists", f"pick another name, or remove it: dsconfig profile rm {new}")
    try:
        key = c.secrets.get(old)
    except KeyringLockedError:
        raise
    except KeyringUnavailableError:
        output.warn("no OS keyring is available, so the profile is renamed without looking for a key to move")
        key = None
    if key is not None:
        c.secrets.set(new, key)
    try:
        c.store.rename(old, new)
    except BaseException:
        if key is not None:
            c.secrets.delete(new)
        raise
    if key is not None:
        c.secrets.delete(old)


def profile_doc(r: Resolved, *, active: bool, key: str | None, key_error: str | None = None) -> dict[str, Any]:
    p = r.profile
    return {
        "name": p.name,
        "provider": p.provider,
        "active": active,
        "base_url": r.base_url,
        "models": dict(r.models),
        "env": dict(r.env),
        "overrides": {"base_url": p.base_url, "models": dict(p.models), "env": dict(p.env)},
        "key": mask(key) if key else None,
        "key_error": key_error,
    }


def profile_list_doc(ctx: Context | None = None) -> dict[str, Any]:
    c = _ctx(ctx)
    found = c.store.load()
    rows = []
    for profile in found.profiles.values():
        base_url: str | None
        try:
            base_url = resolve(profile, load_template(profile.provider)).base_url
        except DsconfigError:
            base_url = profile.base_url
        rows.append({"name": profile.name, "provider": profile.provider, "base_url": base_url, "active": profile.name == found.active})
    return {"active": found.active, "profiles": rows}


def profile_show_doc(name: str, ctx: Context | None = None) -> dict[str, Any]:
    c = _ctx(ctx)
    found = c.store.load()
    profile = found.get(name)
    r = resolve(profile, load_template(profile.provider))
    key_error = None
    try:
        key = c.secrets.get(name)
    except DsconfigError as err:
        key, key_error = None, err.message
    return profile_doc(r, active=name == found.active, key=key, key_error=key_error)


# --- keys -----------------------------------------------------------------------------------------------


def _checked_key(raw: str, template: Template) -> tuple[str, str | None]:
    """The normalized key, and a warning to show once it is stored if it does not look like the provider's."""
    key = normalize_key(raw)
    if template.key_matches_shape(key):
        return key, None
    return key, (
        f"this key ({mask(key)}) does not look like a {template.name} key"
        + (f" (expected {template.key_shape})" if template.key_shape else "")
        + "; stored anyway, providers change formats. `dsconfig verify` tells whether it works."
    )


def _warn(message: str | None) -> None:
    if message:
        output.warn(message)


def key_set(name: str, raw: str, ctx: Context | None = None) -> str:
    c = _ctx(ctx)
    profile = c.store.load().get(name)
    key, shape_warning = _checked_key(raw, load_template(profile.provider))
    with _profiles_lock():
        c.store.load().get(name)
        c.secrets.set(name, key)
    _warn(shape_warning)
    return mask(key)


def key_get(name: str, ctx: Context | None = None) -> str:
    """The bare key for `name`. Deliberately does not load the profile file: it must be fast and work even
    while the profiles file is being edited."""
    return profile_key(name, _ctx(ctx).secrets)


def key_remove(name: str, ctx: Context | None = None) -> bool:
    c = _ctx(ctx)
    validate_name(name)
    with _profiles_lock():
        return c.secrets.delete(name)


def read_secret_input(stdin_flag: bool, *, prompt: str = "API key (input hidden): ") -> str | None:
    """The key from stdin (`--stdin`), from a hidden prompt on a terminal, or None."""
    if stdin_flag:
        return sys.stdin.read()
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt) or None
    return None


# --- shell environment and exec -------------------------------------------------------------------------


def env(name: str | None, *, shell: str | None = None, unset: bool = False, ctx: Context | None = None) -> str:
    """The statements `dsconfig env` prints: set (or unset) the profile's variables for `shell`."""
    from dsconfig.targets import shell as sh

    c = _ctx(ctx)
    r = resolved_profile(name, c)
    chosen, note = (shell, None) if shell else sh.choose_shell(c.environ, sys.platform)
    if note:
        sys.stderr.write(note + "\n")
    if unset:
        return sh.render_unset(list(r.process_env("-")), chosen)
    variables = r.process_env(require_key(c.secrets, r.name))
    to_set = {k: v for k, v in variables.items() if v is not None}
    to_unset = [k for k, v in variables.items() if v is None]
    return sh.render_set(to_set, chosen) + (sh.render_unset(to_unset, chosen) if to_unset else "")


def exec_environment(name: str, command: list[str], ctx: Context | None = None) -> tuple[list[str], dict[str, str]]:
    """The argv and full environment `dsconfig exec NAME -- COMMAND...` runs with. The key is only in memory."""
    c = _ctx(ctx)
    r = resolved_profile(name, c)
    environ = dict(c.environ)
    for var, value in r.process_env(require_key(c.secrets, r.name)).items():
        if value is None:
            environ.pop(var, None)
        else:
            environ[var] = value
    argv = list(command)
    if argv and os.path.basename(argv[0]) in ("claude", "claude.exe"):
        from dsconfig.targets.claude_code import claude_run_overrides
        from dsconfig.targets.context import TargetContext

        extra_args, extra_env = claude_run_overrides(r, TargetContext(environ=environ))
        argv = [argv[0], *extra_args, *argv[1:]]
        environ.update(extra_env)
    return argv, environ


def run_exec(argv: list[str], environ: Mapping[str, str]) -> int:
    """Replace this process with the command (POSIX), so signals, stdin/stdout and the exit code are its own."""
    import shutil

    program = shutil.which(argv[0], path=environ.get("PATH"))
    if program is None:
        from dsconfig.errors import NotFoundError

        raise NotFoundError(f"command not found: {argv[0]}", "check the name, or give its full path")
    if os.name == "nt":  # pragma: no cover - no exec() semantics on Windows
        import subprocess

        return subprocess.call([program, *argv[1:]], env=dict(environ))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(program, argv, dict(environ))
    return 127  # unreachable: execve does not return
