"""API keys in the OS keyring (service "dsconfig", username = profile name), and mask() for display.

`get_key` runs every time Claude Code starts (apiKeyHelper) and every time a shell starts (`dsconfig env`).
`import keyring` plus its backend auto-detection costs ~135 ms, so on Linux with a Secret Service and no
keyring configuration of the user's own, the lookup goes straight to the Secret Service through
`secretstorage` (the library keyring's own SecretService backend uses, with the same item attributes).
Anything unusual (a keyring config file, PYTHON_KEYRING_BACKEND, no D-Bus session, a locked collection, an
item not found) falls back to keyring itself, which stays the single authority for writes and errors.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from dsconfig.errors import KeyringUnavailableError, NotFoundError, UsageError


class KeyringLockedError(KeyringUnavailableError):
    """A keyring exists but is locked: unlike a missing one, it may hold a key we must not orphan."""

SERVICE = "dsconfig"


class SecretStore(Protocol):
    def get(self, name: str) -> str | None: ...
    def set(self, name: str, key: str) -> None: ...
    def delete(self, name: str) -> bool: ...
    def describe(self) -> str: ...


def mask(key: str | None) -> str:
    """`sk-…abcd`: enough to tell keys apart, never enough to use one."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "…" + "*" * 4
    if len(key) < 20:
        return f"…{key[-4:]}"
    # At most 3 leading characters ("sk-") and the last 4: never more than a third of the key.
    return f"{key[:3]}…{key[-4:]}"


def normalize_key(raw: str) -> str:
    """Trim what a paste adds (spaces, a trailing newline); refuse what cannot be a key (keysources.key_problem).

    Raises UsageError (exit 2)."""
    from dsconfig.keysources import key_problem, trim_key

    key = trim_key(raw)
    problem = key_problem(key)
    if problem == "is empty":
        raise UsageError("the API key is empty", "paste the key, or pipe it: printf %s \"$KEY\" | dsconfig key set NAME --stdin")
    if problem is not None:
        raise UsageError(f"the API key {problem}", "copy the key again from the provider's page; only one key per input")
    return key


class KeyringStore:
    """The OS keyring through the `keyring` package; `backend` lets tests pass an in-memory one."""

    def __init__(self, backend: Any = None, *, environ: Mapping[str, str] | None = None) -> None:
        self._backend = backend
        self._environ = os.environ if environ is None else environ

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, name: str) -> str | None:
        """The stored key, trimmed (an item stored by `echo ... | secret-tool store` ends in a newline), or None.

        Raises KeyringUnavailableError (no keyring, locked, not answering) or KeySourceError (the stored item
        cannot be a key: spaces inside, not ASCII)."""
        key = _bounded(lambda: self._get(name), "reading the key", self._environ)
        from dsconfig.keysources import KeySource, checked_key, trim_key
        from dsconfig.output import register_secret  # every key read is masked in whatever this process prints

        register_secret(key)
        if key is None or not trim_key(key):
            return None
        return checked_key(key, name, KeySource())

    def _get(self, name: str) -> str | None:
        if self._backend is None:
            fast = _secret_service_lookup(name, self._environ)
            if fast is not None:
                return fast
        keyring_errors = _keyring_errors()
        try:
            return self._keyring().get_password(SERVICE, name)  # type: ignore[no-any-return]
        except keyring_errors as exc:
            raise self._unavailable(exc) from None

    # -- writing ---------------------------------------------------------------------------------------

    def set(self, name: str, key: str) -> None:
        _bounded(lambda: self._set(name, key), "storing the key (it may or may not have been stored)", self._environ)

    def _set(self, name: str, key: str) -> None:
        keyring_errors = _keyring_errors()
        try:
            self._keyring().set_password(SERVICE, name, key)
        except keyring_errors as exc:
            raise self._unavailable(exc) from None

    def delete(self, name: str) -> bool:
        return _bounded(lambda: self._delete(name), "removing the key (it may or may not have been removed)",
                        self._environ)

    def _delete(self, name: str) -> bool:
        import keyring.errors

        keyring_errors = _keyring_errors()
        try:
            self._keyring().delete_password(SERVICE, name)
            return True
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring_errors as exc:
            raise self._unavailable(exc) from None

    def describe(self) -> str:
        backend = _bounded(self._keyring, "finding the keyring", self._environ)
        return f"{type(backend).__module__}.{type(backend).__name__}"

    # -- backend choice ----------------------------------------------------------------------------------

    def _keyring(self) -> Any:
        if self._backend is not None:
            return self._backend
        try:
            import keyring

            backend = keyring.get_keyring()
        except Exception as exc:  # noqa: BLE001 - keyring loads PYTHON_KEYRING_BACKEND or keyringrc.cfg's choice
            raise self._unloadable(exc) from None
        self._refuse_unsafe(backend)
        self._backend = backend
        return backend

    def _unloadable(self, exc: Exception) -> KeyringUnavailableError:
        """keyring could not load the backend it was told to use (a module not installed, a typo)."""
        chosen = self._environ.get("PYTHON_KEYRING_BACKEND", "")
        what = f"PYTHON_KEYRING_BACKEND={chosen}" if chosen else "the backend your keyringrc.cfg names"
        detail = f"{type(exc).__name__}: {exc}"[:200]
        if "keyrings.alt" in chosen or "Plaintext" in chosen:
            hint = "dsconfig refuses plaintext keyring backends on purpose: unset PYTHON_KEYRING_BACKEND; "
        else:
            hint = "unset PYTHON_KEYRING_BACKEND (or fix keyringrc.cfg) to use the OS keyring; "
        return KeyringUnavailableError(f"{what} cannot be loaded ({detail})", hint + keyring_hint())

    def _refuse_unsafe(self, backend: Any) -> None:
        import keyring.backends.fail

        if isinstance(backend, keyring.backends.fail.Keyring):
            raise KeyringUnavailableError("no OS keyring is available", keyring_hint())
        kind = f"{type(backend).__module__}.{type(backend).__name__}"
        if kind == "keyring.backends.null.Keyring":
            # The null backend accepts every key and keeps none: "stored" would be a lie.
            raise KeyringUnavailableError("the keyring backend in use (keyring.backends.null) discards every key",
                                          "unset PYTHON_KEYRING_BACKEND or your keyringrc.cfg choice; " + keyring_hint())
        # keyrings.alt's file backends change keyring's default silently when installed; dsconfig promises
        # never to fall back to a plaintext file without being asked.
        if kind.startswith("keyrings.alt.file") or "Plaintext" in kind:
            raise KeyringUnavailableError(
                f"the keyring backend in use ({kind}) stores keys in a plain file",
                "uninstall keyrings.alt, or choose a real backend (PYTHON_KEYRING_BACKEND); " + keyring_hint(),
            )

    def _unavailable(self, exc: Exception) -> KeyringUnavailableError:
        import keyring.errors

        if isinstance(exc, KeyringUnavailableError):
            return exc
        if isinstance(exc, keyring.errors.KeyringLocked):
            return KeyringLockedError("the OS keyring is locked", "unlock your login keyring (log in to the desktop, or `gnome-keyring-daemon --unlock` on a headless machine) and run again")
        if isinstance(exc, keyring.errors.NoKeyringError):
            return KeyringUnavailableError("no OS keyring is available", keyring_hint())
        # Never include str(exc) blindly: backends sometimes echo the secret they were given.
        return KeyringUnavailableError(f"the OS keyring failed ({type(exc).__name__})", keyring_hint())


# A keyring call waits on another process (the Secret Service daemon, the macOS Keychain agent). One that is
# stopped or hung would block `dsconfig key get` (every Claude Code start) and `dsconfig env` (every shell start)
# forever; after this many seconds dsconfig gives up and says why.
DEFAULT_TIMEOUT = 5.0
TIMEOUT_VARIABLE = "DSCONFIG_KEYRING_TIMEOUT"

_T = TypeVar("_T")


def keyring_timeout(environ: Mapping[str, str] | None = None) -> float:
    """Seconds one keyring operation may take: DSCONFIG_KEYRING_TIMEOUT when it is a positive number, else 5."""
    from dsconfig.keysources import seconds_from_env

    return seconds_from_env(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT, environ)


def _bounded(call: Callable[[], _T], doing: str, environ: Mapping[str, str] | None = None) -> _T:
    """`call()`, or KeyringUnavailableError when it has not returned within the keyring timeout.

    keyring and secretstorage have no timeout of their own, so the call runs in a daemon thread: when it hangs,
    the thread is abandoned (a daemon thread does not keep the process alive) and the command ends with exit 5.
    """
    import threading

    timeout = keyring_timeout(environ)
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread below, re-raised there
            outcome.append((False, exc))

    worker = threading.Thread(target=run, name="dsconfig-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise KeyringUnavailableError(f"the OS keyring did not answer within {timeout:g} s ({doing})", _hung_hint())
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _hung_hint() -> str:
    if sys.platform.startswith("linux"):
        service = ("the Secret Service (gnome-keyring-daemon, KeePassXC...) is running but not answering: it may be "
                   "stopped or hung (`ps -o pid,stat,cmd -C gnome-keyring-daemon` shows T when stopped); restart it "
                   "or log in to the desktop again")
    else:
        service = "the OS keyring is not answering; unlock it, or restart your session"
    return (f"{service}; if it was waiting for you to unlock it, unlock it and run again; "
            f"{TIMEOUT_VARIABLE}=SECONDS waits longer")


def _keyring_errors() -> tuple[type[Exception], ...]:
    import keyring.errors

    return (keyring.errors.KeyringError, KeyringUnavailableError)


def require_key(store: SecretStore, name: str) -> str:
    """Raises NotFoundError (exit 3) when the store holds no key for `name`."""
    key = store.get(name)
    if not key:
        raise NotFoundError(f"no API key stored for profile {name!r}", f"store one with: dsconfig key set {name}")
    return key


def profile_key(name: str, store: SecretStore | None = None) -> str:
    """`dsconfig key get NAME`: the stored key of a (validly named) profile, or an error."""
    from dsconfig.names import validate_name

    return require_key(store or KeyringStore(), validate_name(name))


def keyring_hint(platform: str | None = None) -> str:
    p = platform or sys.platform
    if p == "darwin":
        return "macOS Keychain should always be there: check `security list-keychains`, or log in to the desktop session"
    if p.startswith("win"):
        return "Windows Credential Manager should always be there: run dsconfig as your own user, not a service account"
    wsl = "microsoft" in _osrelease().lower()
    text = (
        "install and start a Secret Service: `sudo apt install gnome-keyring libsecret-tools dbus-x11`; on a "
        "headless machine run dsconfig inside `dbus-run-session -- sh` after "
        "`printf %s PASSWORD | gnome-keyring-daemon --unlock --components=secrets`"
    )
    if wsl:
        text += "; on WSL the Windows Credential Manager is not reachable from Linux Python, so use the recipe above"
    return text + "; " + KEY_SOURCES_HINT + "; or, knowingly, keep the key in Claude's file with `dsconfig use NAME --inline-key`"


# Without an OS keyring a profile can still get its key elsewhere (keysources.py); one line, each with its command.
KEY_SOURCES_HINT = (
    "or give the profile another key source: an environment variable (`dsconfig profile edit NAME --key-source "
    "env:DEEPSEEK_API_KEY`), a command that prints the key (`dsconfig profile edit NAME --key-source "
    "'command:pass show deepseek'`), or the Linux kernel keyring, until reboot (`printf %s \"$KEY\" | dsconfig "
    "profile edit NAME --key-source kernel --api-key-stdin`)"
)


def _osrelease() -> str:
    try:
        with open("/proc/sys/kernel/osrelease", encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _secret_service_lookup(name: str, environ: Mapping[str, str]) -> str | None:
    """The fast path described in the module docstring; None means "ask keyring".

    Speaks the Secret Service D-Bus API through jeepney (which secretstorage itself is built on) with a
    "plain" transfer session: the secret crosses only the local D-Bus socket, as it does for any client, and
    skipping secretstorage's Diffie-Hellman session saves loading `cryptography` on every Claude Code start.
    Same lookup as keyring's SecretService backend: the default collection, attributes service + username.
    """
    if not sys.platform.startswith("linux") or environ.get("PYTHON_KEYRING_BACKEND"):
        return None
    if not environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    config_home = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME", "~"), ".config")
    if os.path.exists(os.path.join(config_home, "python_keyring", "keyringrc.cfg")):
        return None
    timeout = keyring_timeout(environ)
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        service = DBusAddress("/org/freedesktop/secrets", bus_name="org.freedesktop.secrets",
                              interface="org.freedesktop.Secret.Service")
        collection = DBusAddress("/org/freedesktop/secrets/aliases/default", bus_name="org.freedesktop.secrets",
                                 interface="org.freedesktop.Secret.Collection")
        with open_dbus_connection(bus="SESSION") as conn:
            def call(addr: Any, method: str, signature: str | None = None, body: tuple[Any, ...] = ()) -> Any:
                reply = conn.send_and_get_reply(new_method_call(addr, method, signature, body), timeout=timeout)
                if reply.header.message_type.name != "method_return":
                    raise LookupError(method)
                return reply.body

            (items,) = call(collection, "SearchItems", "a{ss}", ({"username": name, "service": SERVICE},))
            if not items:
                return None
            _, session = call(service, "OpenSession", "sv", ("plain", ("s", "")))
            (secrets,) = call(service, "GetSecrets", "aoo", (items[:1], session))
            if items[0] not in secrets:  # locked items are left out of the answer
                return None
            _session, _params, value, _content_type = secrets[items[0]]
            return bytes(value).decode("utf-8")
    except TimeoutError:
        # The daemon holds the name but does not answer (stopped, hung): keyring would wait on it forever.
        raise KeyringUnavailableError(f"the OS keyring did not answer within {timeout:g} s (reading the key)",
                                      _hung_hint()) from None
    except Exception:  # noqa: BLE001 - any trouble here means "let keyring decide and report"
        return None
