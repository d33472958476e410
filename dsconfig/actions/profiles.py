"""`dsconfig profile add|edit|rm|rename|list|show`: profiles and, with them, their keys (one key, one place)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TypedDict

from dsconfig import notices
from dsconfig.actions.base import Context, _ctx, _profiles_lock, _store_for, _tell, _warning, profile_secret
from dsconfig.actions.keys import _checked_key
from dsconfig.credentials import (
    KeyringLockedError,
    SecretStore,
    mask,
)
from dsconfig.errors import DsconfigError, KeyringUnavailableError, UsageError
from dsconfig.keysources import COMMAND, ENV, KeySource, nothing_to_store
from dsconfig.names import validate_name
from dsconfig.notices import Notice
from dsconfig.profiles import Profile, Resolved, resolve, validate_base_url
from dsconfig.templates import load_template


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
    """Create a profile; store its key first so a keyring failure leaves nothing half-made.

    Raises: UsageError (a bad name, a key for a source that stores none), NotFoundError (no such provider),
    DsconfigError (the profile exists), KeyringUnavailableError (no keyring to store the key in)."""
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
        raise _nothing_to_store_on_add(name, source, c)
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


def _nothing_to_store_on_add(name: str, source: KeySource, c: Context) -> DsconfigError:
    """A key given for a source dsconfig does not store into. `profile edit` is the fix for a profile that exists;
    one `profile add` is creating cannot be edited yet, so the hint names the add flags that work (as setup's)."""
    err = nothing_to_store(name, source)
    try:
        if name in c.store.load().profiles:
            return err
    except DsconfigError:  # an unreadable profiles file: its own error comes when the profile is added
        return err
    return UsageError(err.message, f"profile {name!r} does not exist yet: run the same dsconfig profile add without "
                      f"--api-key-stdin (dsconfig reads the key from {source.describe()} when it is needed), or with "
                      "--key-source keyring to store the piped key in the OS keyring")


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
    """Change profile `name`: what is given replaces, `unset_*` drops overrides; a new key source takes the key.

    Raises: NotFoundError (no such profile or provider), UsageError (a key for a source that stores none),
    KeyringLockedError (a locked keyring may hold the key to move)."""
    c = _ctx(ctx)
    c.store.load().get(name)  # no such profile: say so before waiting for the lock
    with _profiles_lock():
        # Read, change and write under one lock: two edits racing each other both land (an edit computed from
        # the file as it was before the other one's write would put the other's change back).
        current = c.store.load().get(name)  # still there (a racing `profile rm` may have won)
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
    if key and not new.stores and not _gives(name, new, key, c):
        # The only copy of the key: removing it while the new source does not give it (the variable is not set
        # here, or a command dsconfig does not run just to compare) could lose it for good.
        _tell(c, notices.note(f"kept the key of profile {name!r} in {old.describe()}: {new} does not give that key "
                              f"here and now. It stays there, unused; "
                              f"`dsconfig profile edit {name} --key-source {old}` brings it back into use"))
        return None
    return "remove" if key else None


def _gives(name: str, source: KeySource, key: str, c: Context) -> bool:
    """Whether an env: source gives exactly `key` now (a command: source is not run just to compare)."""
    if source.kind != ENV:
        return False
    from dsconfig import keysources

    try:
        return keysources.read_env(name, source, c.environ) == key
    except DsconfigError:
        return False


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
    """Remove the profile and its key; returns whether a key was removed.

    Raises: NotFoundError (no such profile), DsconfigError (a program still uses it), KeyringLockedError."""
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
    """Rename the profile and move its key: new key written first, old one removed last.

    Raises: UsageError (a bad new name), NotFoundError (no such profile), DsconfigError (the new name exists,
    or a program still uses the profile), KeyringLockedError."""
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


class OverridesJSON(TypedDict):
    base_url: str | None
    models: dict[str, str]
    env: dict[str, str]


class ProfileDocJSON(TypedDict):
    """`profile show --json`: a profile with its template applied; `key` masked, `key_source` never the key."""

    name: str
    provider: str
    active: bool
    base_url: str
    models: dict[str, str]
    env: dict[str, str]
    overrides: OverridesJSON
    key: str | None
    key_error: str | None
    key_source: str


class ProfileRowJSON(TypedDict):
    name: str
    provider: str
    base_url: str | None
    active: bool


class ProfileListJSON(TypedDict):
    """`profile list --json`."""

    active: str | None
    profiles: list[ProfileRowJSON]
    interrupted_switch: str | None


def profile_doc(r: Resolved, *, active: bool, key: str | None, key_error: str | None = None) -> ProfileDocJSON:
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


def profile_list_doc(ctx: Context | None = None) -> ProfileListJSON:
    c = _ctx(ctx)
    found = c.store.load()
    rows: list[ProfileRowJSON] = []
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


def profile_show_doc(name: str, ctx: Context | None = None) -> ProfileDocJSON:
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


