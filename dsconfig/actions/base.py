"""The ground every command family stands on: the collaborators (`Context`), the notices handed to the caller,
the store a key source keeps its keys in, the profile in effect here, and the lock profile changes take."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dsconfig import notices, output
from dsconfig.credentials import (
    KeyringStore,
    SecretStore,
)
from dsconfig.errors import NotFoundError
from dsconfig.keysources import COMMAND, ENV, KERNEL, KernelStore, KeySource, SourcedStore
from dsconfig.notices import Notice
from dsconfig.profiles import Profile, ProfileStore, Resolved, resolve
from dsconfig.templates import load_template


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
    """The profile `name` (or the active one) with its template applied.

    Raises: NotFoundError (no such profile, none active, or an unknown provider), InvalidFileError."""
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


def _profiles_lock() -> contextlib.AbstractContextManager[None]:
    """Profile and key changes take the same lock as `use`/`off` (journal.switch_lock): two `profile add x` at
    once, or `use x` racing `profile rm x`, must not undo each other. Taken after the input is validated: a
    command refused for bad input creates nothing, not even dsconfig's lock folder."""
    from dsconfig.journal import switch_lock

    return switch_lock()


def _warning(message: str | None) -> Notice | None:
    return notices.warning(message) if message else None


