"""Where a profile's key came from, in verify's words, and the fix for a missing or refused key per source.

A profile reads its key from the OS keyring (default), an environment variable, a command or the Linux kernel
keyring (keysources.py). Every message that says where the key came from, and every fix for a key the provider
refused or that is not there, comes from here, so none of them says "keyring" or `dsconfig key set` for a
source where that is not true: `key set` stores into the keyring or the kernel keyring (actions.key_set), and
has nothing to store for `env:` and `command:` profiles.

Pure functions over (profile name, KeySource); light (no httpx).
"""

from __future__ import annotations

from collections.abc import Mapping

from dsconfig.credentials import SERVICE
from dsconfig.keysources import COMMAND, ENV, KERNEL, KeySource, command_secret_warning


def _command(source: KeySource) -> str:
    command_secret_warning(source)  # masks a key written into the command wherever the command is shown
    return f"`{source.value}`"


def described(name: str, source: KeySource) -> str:
    """The report's `key_source`: where the key came from (or would have)."""
    if source.kind == ENV:
        return f"environment variable {source.value}"
    if source.kind == COMMAND:
        return f"the output of {_command(source)}"
    if source.kind == KERNEL:
        return f'Linux kernel keyring, key "dsconfig:{name}"'
    return f'keyring service "{SERVICE}", user "{name}"'


def came_from(name: str, source: KeySource) -> str:
    """The end of "the key came from ..." in a refused key's message."""
    if source.kind == ENV:
        return f"the environment variable {source.value}"
    if source.kind == COMMAND:
        return f"the output of {_command(source)}"
    if source.kind == KERNEL:
        return f'the Linux kernel keyring, key "dsconfig:{name}"'
    return f'the OS keyring, service "{SERVICE}", user "{name}"'


def _key_set(name: str, source: KeySource) -> str:
    where = " (it goes into the kernel keyring)" if source.kind == KERNEL else ""
    return f"dsconfig key set {name}{where}"


def _export(source: KeySource) -> str:
    return f"export {source.value}=... where you run dsconfig and Claude Code"


def wrong_key_fix(name: str, source: KeySource, key_page: str = "") -> str:
    """The fix when the provider refused the key (401). `key_page`: " (keys: URL)" or ""."""
    if source.kind == ENV:
        return f"set the right key in {source.value}: {_export(source)}{key_page}"
    if source.kind == COMMAND:
        return f"make {_command(source)} print the right key{key_page}"
    return f"store the right key: {_key_set(name, source)}{key_page}"


def missing_key(name: str, source: KeySource) -> tuple[str, str]:
    """(message, fix) when the profile has no key: none stored (keyring, kernel), or none given (env:, command:)."""
    if source.kind == ENV:
        return f"no API key for profile {name!r} (looked in {described(name, source)})", _export(source)
    if source.kind == COMMAND:
        return (f"no API key for profile {name!r} (looked in {described(name, source)})",
                f"make {_command(source)} print the key (test it: dsconfig key get {name})")
    looked = (f'the Linux kernel keyring, key "dsconfig:{name}"' if source.kind == KERNEL
              else described(name, source))
    return f"no API key stored for profile {name!r} (looked in {looked})", f"store one: {_key_set(name, source)}"


def unreadable_key(name: str, source: KeySource, message: str, hint: str | None,
                   environ: Mapping[str, str]) -> tuple[str, str]:
    """(message, fix) when an `env:` or `command:` source gives no key (keysources.KeySourceError's words)."""
    if source.kind == ENV and not environ.get(source.value, "").strip():
        state = "is empty" if source.value in environ else "is not set"
        return (f"no API key for profile {name!r}: {source.value} {state} (the profile reads its key from env:{source.value})",
                f"{_export(source)}, or change the source: dsconfig profile edit {name} --key-source keyring")
    return f"no API key for profile {name!r}: {message}", hint or f"test the source: dsconfig key get {name}"


def helper_fix(name: str, source: KeySource) -> str:
    """The fix when Claude Code's apiKeyHelper (`dsconfig key get NAME`) printed no key."""
    helper = f"`dsconfig key get {name}`"
    if source.kind == ENV:
        return f"{helper} reads {source.value}: {_export(source)}"
    if source.kind == COMMAND:
        return f"{helper} runs {_command(source)}: it must print the key where Claude Code runs"
    if source.kind == KERNEL:
        return (f"{helper} must print the key from the kernel keyring Claude Code's user sees; "
                f"store it there: {_key_set(name, source)}")
    return (f"{helper} must print the key from the keyring Claude Code's user sees; "
            f"store it there: {_key_set(name, source)}")


def not_logged_in_fix(name: str, source: KeySource) -> str:
    """The fix when Claude Code found no key for the profile at all."""
    if source.kind in (ENV, COMMAND):
        return helper_fix(name, source)
    return f"store one: {_key_set(name, source)}"
