"""What each command does, as plain functions: arguments in, data out, collaborators injectable.

cli.py parses and renders; entry.py calls the two fast ones (`key_get`, `env`) without click. Tests call
these directly with an in-memory secret store and a temporary profile store.

What the person must be told (a key that does not look like the provider's, an old copy removed) is a
dsconfig.notices.Notice appended to `Context.notices`, which cli.py renders after the call. A caller that gives
no list (entry.py's `env`, wizard.py's `profile_add`, older tests) has them rendered at once by `_tell`, the one
place here that prints, until those callers pass a list.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dsconfig import iostreams, notices, output
from dsconfig.credentials import (
    KeyringLockedError,
    KeyringStore,
    SecretStore,
    mask,
    normalize_key,
    profile_key,
)
from dsconfig.errors import DsconfigError, KeyringUnavailableError, NotFoundError
from dsconfig.iostreams import IOStreams
from dsconfig.keysources import COMMAND, ENV, KERNEL, KernelStore, KeySource, SourcedStore, nothing_to_store
from dsconfig.names import validate_name
from dsconfig.notices import Notice
from dsconfig.profiles import Profile, ProfileStore, Resolved, resolve, validate_base_url
from dsconfig.templates import Template, load_template, load_templates


@dataclass
class Context:
    """The collaborators a command uses; production defaults, swapped in tests.

    `secrets` follows each profile's key source (keysources.SourcedStore) for the modules that only ask "the
    key of NAME"; the functions below that store, move or remove keys pick the store from the profile they
    already loaded (`_store_for`)."""

    store: ProfileStore = field(default_factory=ProfileStore)
    secrets: SecretStore = field(default_factory=lambda: SourcedStore(KeyringStore()))
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    kernel: SecretStore | None = None
    folder: Path | None = None  # whose project profile `env`/`exec`/`verify` default to; None: the current folder
    notices: list[Notice] | None = None  # where warnings and notes go for the renderer (None: rendered at once)


def _ctx(ctx: Context | None) -> Context:
    return ctx or Context()


def _tell(c: Context, notice: Notice | None) -> None:
    """Hand a notice to the caller (`c.notices`), or, for a caller that gave no list, render it now."""
    if notice is None:
        return
    if c.notices is not None:
        c.notices.append(notice)
    else:
        output.render_notices([notice])


def _store_for(c: Context, source: KeySource) -> SecretStore:
    """The store that holds keys of `source` (keyring or kernel); env: and command: have none."""
    if source.kind == KERNEL:
        if c.kernel is None:
            c.kernel = c.secrets.kernel if isinstance(c.secrets, SourcedStore) else KernelStore()
        return c.kernel
    return c.secrets.keyring if isinstance(c.secrets, SourcedStore) else c.secrets


def profile_secret(profile: Profile, ctx: Context | None = None) -> str | None:
    """The key of `profile` from its source, None when a storing source holds none."""
    c = _ctx(ctx)
    source = profile.key_source
    if source.kind in (ENV, COMMAND):
        from dsconfig import keysources

        reader = keysources.read_env if source.kind == ENV else keysources.read_command
        return reader(profile.name, source, c.environ)
    return _store_for(c, source).get(profile.name)


def _require_profile_key(profile: Profile, c: Context) -> str:
    key = profile_secret(profile, c)
    if not key:
        where = "the kernel keyring" if profile.key_source.kind == KERNEL else "the OS keyring"
        raise NotFoundError(f"no API key stored for profile {profile.name!r} in {where}",
                            f"store one with: dsconfig key set {profile.name}")
    return key


def resolved_profile(name: str | None, ctx: Context | None = None) -> Resolved:
    """The profile `name` (or the active one) with its template applied."""
    c = _ctx(ctx)
    profile = c.store.load().pick(name)
    return resolve(profile, load_template(profile.provider))


def folder_profile(folder: Path | None = None, journal: Path | None = None) -> str | None:
    """The profile `dsconfig use NAME --scope project` applied in `folder` (default: the current one), as the
    journal remembers it, while that settings file is still there; None when the folder has none.

    Claude Code started in that folder uses it, so it is the default of `env`, `exec` and `verify` there (the
    user's active profile elsewhere). Cheap enough for `dsconfig env` at every shell start: a stat, and the
    journal's JSON read only when it exists; nothing beyond the standard library is imported."""
    from dsconfig import paths, vocab

    if folder is None:
        try:
            folder = Path.cwd()
        except OSError:  # a folder removed under the shell: no project there; the user's profile applies
            return None
    target = paths.claude_project_settings(folder)[0]
    journal_path = journal or paths.journal_file()
    if not journal_path.exists() or not target.exists():
        return None
    from dsconfig.journal import Journal

    record = Journal(journal_path).get(target)
    if record is None or record.owner.get("target") != vocab.TARGET_CLAUDE_CODE or record.owner.get("scope") != "project":
        return None
    return record.owner.get("profile") or None


def in_effect(name: str | None, ctx: Context | None = None) -> str | None:
    """`name`, else the profile applied to this folder (`use --scope project`); None leaves the active one."""
    if name is not None:
        return name
    return folder_profile(_ctx(ctx).folder)


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
    key_source: KeySource | None = None,
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
        key_source=key_source or KeySource(),
    )
    source = profile.key_source
    if key is not None and not source.stores:
        raise nothing_to_store(name, source)
    _tell(c, _command_secret(source))
    secrets = _store_for(c, source)
    if key is not None:
        secrets.get(name)  # no usable keyring: refused before anything is created (the lock folder included)
    with _profiles_lock():
        if name in c.store.load().profiles:
            raise DsconfigError(f"profile {name!r} already exists",
                                f"change it with `dsconfig profile edit {name} ...`, or remove it first")
        previous = None
        if key is not None:
            key, shape_warning = _checked_key(key, template)
            previous = _stored_quietly(secrets, name)
            secrets.set(name, key)
            _tell(c, _warning(shape_warning))
        try:
            c.store.add(profile)
        except BaseException:
            if key is not None:  # put back exactly what was there: never delete a key this command did not store
                if previous is None:
                    secrets.delete(name)
                else:
                    secrets.set(name, previous)
            raise
    return resolve(profile, template)


def _command_secret(source: KeySource) -> Notice | None:
    from dsconfig.keysources import command_secret_warning

    return _warning(command_secret_warning(source))


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
    key_source: KeySource | None = None,
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
        key_source=key_source or current.key_source,
    )
    old_source, new_source = current.key_source, updated.key_source
    if key is not None and not new_source.stores:
        raise nothing_to_store(name, new_source)
    _tell(c, _command_secret(new_source if new_source != old_source else KeySource()))
    with _profiles_lock():
        c.store.load().get(name)  # still there (a racing `profile rm` may have won)
        moved = _move_key_between_sources(name, old_source, new_source, key is None, c)
        if key is not None:
            checked, shape_warning = _checked_key(key, template)
            _store_for(c, new_source).set(name, checked)
            _tell(c, _warning(shape_warning))
        c.store.update(updated)
        if moved is not None:
            _forget_old_key(name, old_source, c)
    return resolve(updated, template)


def _move_key_between_sources(name: str, old: KeySource, new: KeySource, carry: bool, c: Context) -> str | None:
    """On a source change, copy the stored key to the new storing source (when no new key is given); returns
    a marker when the old store's copy must be removed once the profile points at the new source."""
    if old == new or not old.stores or _store_for(c, old) is _store_for(c, new):
        return None
    key = None
    try:
        key = _store_for(c, old).get(name)
    except KeyringLockedError:
        raise  # a locked keyring may hold the key: switching away would orphan it
    except DsconfigError:
        return None  # nothing reachable to move or remove (no keyring at all: the usual reason to switch)
    if key and carry and new.stores:
        _store_for(c, new).set(name, key)
    return "remove" if key else None


def _forget_old_key(name: str, old: KeySource, c: Context) -> None:
    """One key, one place: the copy left in the old store is removed (said on stderr)."""
    try:
        if _store_for(c, old).delete(name):
            _tell(c, notices.note(f"removed the key of profile {name!r} from {old.describe()} (its source changed)"))
    except DsconfigError as err:
        _tell(c, notices.warning(f"could not remove the old copy of the key from {old.describe()}: {err.message}"))


def _refuse_if_applied(name: str, doing: str) -> None:
    """A profile that Claude Code or Desktop still uses through `dsconfig key get NAME` must not vanish under it."""
    from dsconfig.journal import Journal

    where = sorted({f"{r.owner.get('target')} ({r.owner.get('scope', 'user')} scope)" for r in Journal().owned_by(profile=name, applied_only=True)})
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
    source = c.store.load().get(name).key_source
    _refuse_if_applied(name, "removing")
    if not source.stores:  # env: and command: keys live elsewhere: nothing of ours to remove
        c.store.remove(name)
        return False
    try:
        removed_key = _store_for(c, source).delete(name)
    except KeyringLockedError:
        raise  # a locked keyring may hold this profile's key: removing the profile would orphan it
    except KeyringUnavailableError:
        # No keyring at all: nothing can be stored there, so a profile made for --inline-key use can still go.
        _tell(c, notices.warning("no OS keyring is available, so no key of this profile could be stored or removed there"))
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
    source = profiles.get(old).key_source
    _refuse_if_applied(old, "renaming")
    if new in profiles.profiles:
        raise DsconfigError(f"profile {new!r} already exists", f"pick another name, or remove it: dsconfig profile rm {new}")
    if not source.stores:  # the key lives outside dsconfig, under no profile name: nothing moves
        c.store.rename(old, new)
        return
    secrets = _store_for(c, source)
    try:
        key = secrets.get(old)
    except KeyringLockedError:
        raise
    except KeyringUnavailableError:
        _tell(c, notices.warning(f"{source.describe()} is not available, so the profile is renamed without looking for a key to move"))
        key = None
    if key is not None:
        secrets.set(new, key)
    try:
        c.store.rename(old, new)
    except BaseException:
        if key is not None:
            secrets.delete(new)
        raise
    if key is not None:
        secrets.delete(old)


def profile_doc(r: Resolved, *, active: bool, key: str | None, key_error: str | None = None) -> dict[str, Any]:
    p = r.profile
    if p.key_source.kind == COMMAND:
        from dsconfig.keysources import command_secret_warning

        command_secret_warning(p.key_source)  # masks a key written into the command wherever it would be shown
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
        "key_source": str(p.key_source),
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
    return {"active": found.active, "profiles": rows, "interrupted_switch": _interrupted_switch()}


def _interrupted_switch() -> str | None:
    """What a `use`/`off` killed between two files left (its files may disagree with `active`), or None."""
    from dsconfig.journal import Journal

    journal = Journal()
    try:
        marker = journal.switch() if journal.path.exists() else None
    except DsconfigError:
        return None  # a damaged journal is reported by the commands that need it
    if marker is None:
        return None
    return (f"{marker.describe()} was interrupted part way, so the active profile may not match every file: "
            f"run {marker.describe()} again to finish it, or `dsconfig off` to undo it")


def profile_show_doc(name: str, ctx: Context | None = None) -> dict[str, Any]:
    c = _ctx(ctx)
    found = c.store.load()
    profile = found.get(name)
    r = resolve(profile, load_template(profile.provider))
    key_error = None
    if profile.key_source.kind == COMMAND:
        # Showing a profile must not run its command (it may ask for a fingerprint or a password).
        return profile_doc(r, active=name == found.active, key=None,
                           key_error=f"read when needed from a command (test it: dsconfig key get {name})")
    try:
        key = profile_secret(profile, c)
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


def _warning(message: str | None) -> Notice | None:
    return notices.warning(message) if message else None


def key_set(name: str, raw: str, ctx: Context | None = None) -> str:
    c = _ctx(ctx)
    profile = c.store.load().get(name)
    if not profile.key_source.stores:
        raise nothing_to_store(name, profile.key_source)
    key, shape_warning = _checked_key(raw, load_template(profile.provider))
    with _profiles_lock():
        source = c.store.load().get(name).key_source
        if not source.stores:
            raise nothing_to_store(name, source)
        _store_for(c, source).set(name, key)
    _tell(c, _warning(shape_warning))
    return mask(key)


def key_get(name: str, ctx: Context | None = None) -> str:
    """The bare key for `name`, from its profile's source. Does not load profiles.toml through the profile
    store: keysources reads only this profile's `key_source` (and not at all when the file has none), so it
    stays fast and a keyring profile works even while the file is being edited."""
    if ctx is None:
        from dsconfig.keyget import profile_key as sourced_key

        return sourced_key(name)
    return profile_key(name, ctx.secrets)


def key_remove(name: str, ctx: Context | None = None) -> bool:
    """Remove the stored key; False when there was none. env:/command: profiles have none (UsageError says so)."""
    c = _ctx(ctx)
    validate_name(name)
    with _profiles_lock():
        try:
            profile: Profile | None = c.store.load().profiles.get(name)
        except DsconfigError:
            profile = None  # a broken profiles file: the keyring entry can still be removed, as before sources
        source = profile.key_source if profile is not None else KeySource()
        if not source.stores:
            raise nothing_to_remove(name, source)
        return _store_for(c, source).delete(name)


def nothing_to_remove(name: str, source: KeySource) -> DsconfigError:
    return NotFoundError(f"profile {name!r} reads its key from {source}: dsconfig stores no key to remove",
                         f"remove it where it lives ({source.describe()}); or drop the profile: dsconfig profile rm {name}")


def read_secret_input(stdin_flag: bool, *, prompt: str = "API key (input hidden): ",
                      io: IOStreams | None = None) -> str | None:
    """The key from stdin (`--stdin`), from a hidden prompt on a terminal, or None."""
    streams = io or iostreams.system()
    if stdin_flag:
        return streams.stdin.read()
    if streams.can_prompt():
        import getpass

        return getpass.getpass(prompt) or None
    return None


# --- shell environment and exec -------------------------------------------------------------------------


def env(name: str | None, *, shell: str | None = None, unset: bool = False, ctx: Context | None = None) -> str:
    """The statements `dsconfig env` prints: set (or unset) the profile's variables for `shell`."""
    from dsconfig.targets import shell as sh

    c = _ctx(ctx)
    r = resolved_profile(in_effect(name, c), c)
    chosen, note = (shell, None) if shell else sh.choose_shell(c.environ, sys.platform)
    if note and c.notices is not None:
        c.notices.append(notices.note(note))
    elif note:  # entry.py's fast path: no renderer loaded; the note as it always was (kept until entry.py passes a list)
        sys.stderr.write(note + "\n")
    if unset:
        return sh.render_unset(list(r.process_env("-")), chosen)
    variables = r.process_env(_require_profile_key(r.profile, c))
    to_set = {k: v for k, v in variables.items() if v is not None}
    to_unset = [k for k, v in variables.items() if v is None]
    return sh.render_set(to_set, chosen) + (sh.render_unset(to_unset, chosen) if to_unset else "")


def exec_environment(name: str | None, command: list[str], ctx: Context | None = None) -> tuple[list[str], dict[str, str]]:
    """The argv and full environment `dsconfig exec [NAME] -- COMMAND...` runs with (no NAME: the profile in
    effect in this folder, see `in_effect`). The key is only in memory."""
    c = _ctx(ctx)
    r = resolved_profile(in_effect(name, c), c)
    environ = dict(c.environ)
    for var, value in r.process_env(_require_profile_key(r.profile, c)).items():
        if value is None:
            environ.pop(var, None)
        else:
            environ[var] = value
    argv = list(command)
    if argv and os.path.basename(argv[0]) in ("claude", "claude.exe"):
        from dsconfig import targets
        from dsconfig.targets.context import TargetContext

        overrides = targets.get("claude-code").run_overrides(r, TargetContext(environ=environ))
        argv = [argv[0], *overrides.argv, *argv[1:]]
        environ.update(overrides.env)
        for notice in overrides.notices:
            _tell(c, notice)
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
