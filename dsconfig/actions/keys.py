"""`dsconfig key set|get|rm`: the key of a profile in the store of its source."""

from __future__ import annotations

from dsconfig import iostreams, notices
from dsconfig.actions.base import Context, _ctx, _profiles_lock, _store_for, _tell, _warning
from dsconfig.credentials import (
    mask,
    normalize_key,
    profile_key,
)
from dsconfig.errors import DsconfigError, NotFoundError
from dsconfig.iostreams import IOStreams
from dsconfig.keysources import KERNEL, KeySource, nothing_to_store
from dsconfig.names import validate_name
from dsconfig.profiles import Profile
from dsconfig.templates import Template, load_template


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


def key_set(name: str, raw: str, ctx: Context | None = None) -> str:
    """Store the key of profile `name` in the store of its source; returns the key masked.

    Raises: NotFoundError (no such profile), UsageError (its source stores no key), KeyringUnavailableError."""
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
    where = "the kernel keyring (until reboot)" if source.kind == KERNEL else "the OS keyring"
    _tell(c, notices.note(f"stored key {mask(key)} for profile {name!r} in {where}"))
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
    """Remove the stored key; False when there was none.

    Raises: NotFoundError (an env:/command: profile: dsconfig stores no key for it), KeyringUnavailableError."""
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


MAX_KEY_INPUT = 64 * 1024
"""Characters `--stdin` / `--api-key-stdin` read at most: an API key is a few hundred at most, and a pipe from
/dev/zero or a wrong file must not fill the memory."""


def read_secret_input(stdin_flag: bool, *, prompt: str = "API key (input hidden): ",
                      io: IOStreams | None = None) -> str | None:
    """The key from stdin (`--stdin`), from a hidden prompt on a terminal, or None.

    Raises UsageError (exit 2) when standard input holds more than MAX_KEY_INPUT characters."""
    streams = io or iostreams.system()
    if stdin_flag:
        text = streams.stdin.read(MAX_KEY_INPUT + 1)
        if len(text) > MAX_KEY_INPUT:
            from dsconfig.errors import UsageError

            raise UsageError(f"standard input holds more than {MAX_KEY_INPUT // 1024} KiB: that is not an API key",
                             "pipe the key alone: printf %s \"$KEY\" | dsconfig ... --api-key-stdin")
        return text
    if streams.can_prompt():
        import getpass

        return getpass.getpass(prompt) or None
    return None


