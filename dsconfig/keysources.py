"""Where a profile's key comes from: the OS keyring (default), an environment variable, a command, or the kernel.

KeySource (the `key_source` of a profile), reading `env:` and `command:` sources, the kernel keyring store, and
SourcedStore, which routes each profile to its source. How `dsconfig key get NAME` learns a profile's source
cheaply at every Claude Code start is keyget.py's job.

Stdlib only (plus dsconfig's own light modules): this module is on the `key get` fast path, and an `env:`
profile must never import keyring.
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple

# Not `from typing import TYPE_CHECKING`: importing typing costs ~2 ms on every Claude Code start. Type
# checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any

from dsconfig.errors import EXIT_KEYRING, DsconfigError, InvalidFileError, UsageError

KEYRING = "keyring"
ENV = "env"
COMMAND = "command"
KERNEL = "kernel"
KINDS = (KEYRING, ENV, COMMAND, KERNEL)
CHOICES = "keyring|env:VAR|command:CMD|kernel"

COMMAND_TIMEOUT_VARIABLE = "DSCONFIG_KEY_COMMAND_TIMEOUT"
DEFAULT_COMMAND_TIMEOUT = 30.0
KEYCTL_TIMEOUT = 5.0
_VAR = r"^[A-Za-z_][A-Za-z0-9_]*$"
# A literal that looks like a key inside a command: `sk-` style prefixes, or one long run of key characters
# with many digits (a 32+ character token with 6+ digits is not a word, a path part or a vault reference).
_SECRETISH = r"(?<![A-Za-z0-9])(?:sk|pk|rk|key|tok|token)[-_][A-Za-z0-9_-]{12,}|[A-Za-z0-9_+=-]{32,}"
# Both patterns are compiled where they are used (re caches them): `key get` never needs either.
# Perm mask for a kernel key: possessor everything, our own user view + read. Without the user read bit a
# process whose session keyring does not link the user keyring (an SSH login, `keyctl session -`) could not
# read the key back; any process of the same user is exactly who can read a Secret Service item too.
_KERNEL_PERM = "0x3f030000"


class KeySourceError(DsconfigError):
    """A profile's key source cannot give its key (variable unset, command failed, keyctl refused): exit 5."""

    exit_code = EXIT_KEYRING


# A named tuple, not a dataclass: `dataclasses` pulls in `inspect` (~10 ms), paid at every Claude Code start.
class KeySource(namedtuple("KeySource", ["kind", "value"], defaults=(KEYRING, ""))):
    """Immutable and comparable: `kind` is one of KINDS, `value` the variable (env) or command line (command)."""

    __slots__ = ()
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.kind in (ENV, COMMAND) else self.kind

    @property
    def stores(self) -> bool:
        """Whether dsconfig keeps the key itself (keyring, kernel) or only reads it from elsewhere."""
        return self.kind in (KEYRING, KERNEL)

    def describe(self) -> str:
        if self.kind == ENV:
            return f"the environment variable {self.value}"
        if self.kind == COMMAND:
            return "the output of a command"
        if self.kind == KERNEL:
            return "the Linux kernel keyring (user keyring)"
        return "the OS keyring"


DEFAULT = KeySource()


def parse(text: str) -> KeySource:
    """`keyring`, `env:VAR`, `command:CMD` or `kernel`; UsageError naming the accepted forms otherwise."""
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    if kind in (KEYRING, KERNEL) and not value.strip():
        return KeySource(kind)
    if kind == ENV and sep:
        import re

        var = value.strip()
        if not re.fullmatch(_VAR, var):
            raise UsageError(f"--key-source env:{var}: not a variable name", "e.g. --key-source env:DEEPSEEK_API_KEY")
        if var.startswith("ANTHROPIC_"):
            # dsconfig sets these itself: `use` blanks the key variables for Claude Code (so the apiKeyHelper
            # decides), `exec` blanks them for claude, `env --unset` removes them. Read from there, the key
            # would vanish exactly where it is needed.
            raise UsageError(f"--key-source env:{var}: dsconfig sets ANTHROPIC_* variables itself (`use` blanks "
                             f"{' and '.join(_key_variables())} for Claude Code, `env --unset` removes them), so the "
                             "key would not be there when Claude Code asks for it",
                             f'keep the key in a variable of your own: export DEEPSEEK_API_KEY="${var}" and use '
                             "--key-source env:DEEPSEEK_API_KEY")
        return KeySource(ENV, var)
    if kind == COMMAND and sep:
        cmd = value.strip()
        if not cmd or "\0" in cmd or "\n" in cmd or "\r" in cmd:
            raise UsageError("--key-source command:CMD needs one line of shell command",
                             "e.g. --key-source 'command:pass show deepseek'")
        return KeySource(COMMAND, cmd)
    raise UsageError(f"--key-source {text!r} is not a key source",
                     f"one of {CHOICES}, e.g. --key-source env:DEEPSEEK_API_KEY")


def _key_variables() -> tuple[str, ...]:
    from dsconfig.vocab import KEY_VARS

    return KEY_VARS


def trim_key(raw: str) -> str:
    """`raw` without what a paste or a file adds around a key: spaces, a final newline, zero-width characters
    and byte-order marks (copies from web pages bring them; they are never part of a key)."""
    return raw.strip().strip("\u200b\u200c\u200d\u2060\ufeff").strip()


def key_problem(key: str) -> str | None:
    """Why the trimmed `key` cannot be an API key ("is empty", "contains spaces or control characters", "contains
    a character that is not ASCII"), or None. One rule for every source: typed, stored, from a variable or a
    command (an HTTP header cannot carry the rest, so a request would fail with an encoding error instead)."""
    if not key:
        return "is empty"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return "contains spaces or control characters"
    if not key.isascii():
        return "contains a character that is not ASCII"
    return None


def from_file_value(path: Path | str, where: str, value: Any) -> KeySource:
    """The `key_source` value of a profile table; InvalidFileError when it is not one."""
    if not isinstance(value, str):
        raise InvalidFileError(path, f"{where}.key_source must be a string", f'e.g. key_source = "env:DEEPSEEK_API_KEY"; forms: {CHOICES}')
    try:
        return parse(value)
    except UsageError as err:
        raise InvalidFileError(path, f"{where}.key_source: {err.message.removeprefix('--key-source ')}", err.hint) from None


def secret_tokens(command: str) -> list[str]:
    """The tokens of a command line that look like a key itself (`echo sk-...`): a command: source's, or an
    apiKeyHelper's in Claude Code's settings."""
    import re

    return [m.group(0) for m in re.finditer(_SECRETISH, command)
            if len(m.group(0)) < 32 or sum(ch.isdigit() for ch in m.group(0)) >= 6]


def command_secret_warning(source: KeySource) -> str | None:
    """A warning when a command: source seems to hold the key itself (`echo sk-...`); the token is masked."""
    if source.kind != COMMAND:
        return None
    found = secret_tokens(source.value)
    if not found:
        return None
    from dsconfig import output

    for token in found:
        output.register_secret(token)  # never print what may be the key, in this line or any other
    return ("the key command seems to contain a key itself (a long token): profiles.toml is not a secret store, "
            "so store the command that fetches the key (`pass show deepseek`, `op read op://...`) instead, "
            "or keep the key in a keyring (--key-source keyring or kernel)")


# --- reading from env: and command: -----------------------------------------------------------------------


def read_env(name: str, source: KeySource, environ: Mapping[str, str] | None = None) -> str:
    """Raises KeySourceError (exit 5) when the variable is unset or empty, or holds no usable key."""
    e = os.environ if environ is None else environ
    raw = e.get(source.value, "")
    if not raw.strip():
        # One line, no hint: this is what Claude Code shows when its apiKeyHelper fails.
        state = "is empty" if source.value in e else "is not set"
        raise KeySourceError(f"{source.value} {state}: profile {name!r} reads its API key from env:{source.value} "
                             f"(export {source.value} where Claude Code or your shell starts, or change the source: "
                             f"dsconfig profile edit {name} --key-source keyring)")
    return checked_key(raw, name, source)


def seconds_from_env(variable: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    """A time limit in seconds from `variable` when it holds a positive finite number, else `default`."""
    raw = (os.environ if environ is None else environ).get(variable, "")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


def command_timeout(environ: Mapping[str, str] | None = None) -> float:
    """Seconds a `command:` source may take: DSCONFIG_KEY_COMMAND_TIMEOUT, else 30."""
    return seconds_from_env(COMMAND_TIMEOUT_VARIABLE, DEFAULT_COMMAND_TIMEOUT, environ)


def run_command(source: KeySource, environ: Mapping[str, str] | None = None) -> tuple[int | None, str, str]:
    """Run the command through the shell; (exit code or None on timeout, stdout, stderr). Nothing is written.

    The command gets its own process group so that on timeout everything it started is killed, not just the
    shell (a grandchild holding the pipes open would otherwise keep us waiting)."""
    import signal
    import subprocess

    e = dict(os.environ if environ is None else environ)
    timeout = command_timeout(e)
    shell = ["cmd", "/c"] if os.name == "nt" else ["/bin/sh", "-c"]
    try:
        proc = subprocess.Popen([*shell, source.value], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=e, start_new_session=os.name != "nt")
    except OSError as exc:
        return 127, "", f"cannot start the shell: {exc.strerror}"
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if os.name != "nt":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        proc.kill()
        # Not communicate(): a grandchild that left the process group (setsid, a daemon) may hold the pipes
        # open for as long as it runs. Reap the shell, drop the pipes unread.
        try:
            proc.wait(timeout=KEYCTL_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        return None, "", ""
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def read_command(name: str, source: KeySource, environ: Mapping[str, str] | None = None) -> str:
    """Raises KeySourceError (exit 5) when the command times out, fails, or prints anything but one key."""
    command_secret_warning(source)  # masks a key written into the command itself in every message below
    code, out, err = run_command(source, environ)
    if code is None:
        raise KeySourceError(f"the key command of profile {name!r} did not answer within {command_timeout(environ):g} s",
                             f"run it yourself to see why: {source.value}; {COMMAND_TIMEOUT_VARIABLE}=SECONDS waits longer")
    if code != 0:
        tail = " | ".join(line.strip() for line in err.strip().splitlines()[-5:] if line.strip())[-600:]
        raise KeySourceError(f"the key command of profile {name!r} failed (exit {code})"
                             + (f": {tail}" if tail else " and printed nothing on stderr"),
                             f"run it yourself: {source.value}" + ("; is the program installed?" if code == 127 else ""))
    lines = [line for line in out.splitlines() if line.strip()]
    if len(lines) != 1:
        raise KeySourceError(f"the key command of profile {name!r} printed "
                             + ("nothing" if not lines else f"{len(lines)} lines") + " on stdout; it must print the key alone",
                             f"make it print only the key (e.g. `pass show NAME | head -n 1`): {source.value}")
    return checked_key(lines[0], name, source)


def checked_key(raw: str, name: str, source: KeySource) -> str:
    """The key `raw` as read from `source` (a variable, a command's output, a stored item), trimmed; the raw and
    trimmed texts are masked in everything printed from now on. Raises KeySourceError when it cannot be a key."""
    from dsconfig import output

    output.register_secret(raw)
    key = trim_key(raw)
    output.register_secret(key)
    problem = key_problem(key)
    if problem is not None:
        fix = ("store it again: dsconfig key set " + name) if source.stores else "it must be the bare key, nothing else"
        raise KeySourceError(f"the key from {source.describe()} (profile {name!r}) {problem}", fix)
    return key


# --- the kernel keyring (keyutils' keyctl) ----------------------------------------------------------------


def _description(name: str) -> str:
    return f"dsconfig:{name}"


class KernelStore:
    """Keys in the Linux kernel's user keyring through `keyctl`: in kernel memory only, never on disk.

    They last until reboot, and may go earlier when no process of the user is left (a logout without
    lingering). Docker's default seccomp profile refuses the keyctl system calls: that is reported as such."""

    def __init__(self, keyctl: str = "keyctl") -> None:
        self._keyctl = keyctl

    def _run(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        import subprocess

        try:
            proc = subprocess.run([self._keyctl, *args], input=stdin, capture_output=True, text=True,
                                  timeout=KEYCTL_TIMEOUT, check=False)
        except FileNotFoundError:
            raise KeySourceError("the keyctl command is not installed (needed for the kernel key source)",
                                 "install keyutils: sudo apt install keyutils (Fedora: sudo dnf install keyutils)") from None
        except subprocess.TimeoutExpired:
            raise KeySourceError(f"keyctl did not answer within {KEYCTL_TIMEOUT:g} s", "run `keyctl show @u` to see why") from None
        return proc.returncode, proc.stdout, proc.stderr

    def _refused(self, stderr: str) -> KeySourceError:
        text = stderr.strip().splitlines()[-1] if stderr.strip() else "no reason given"
        hint = ("inside a container, Docker's default seccomp profile refuses the keyctl system calls: use "
                "--key-source env:VAR or command:CMD there; otherwise check `keyctl show @u`")
        if not sys.platform.startswith("linux"):
            hint = "the kernel key source exists only on Linux; use --key-source keyring"
        return KeySourceError(f"the kernel keyring refused dsconfig ({text})", hint)

    def _find(self, name: str) -> str | None:
        code, out, err = self._run("search", "@u", "user", _description(name))
        if code == 0 and out.strip():
            return out.strip()
        if "not available" in err or "not found" in err.lower():
            return None
        raise self._refused(err)

    def get(self, name: str) -> str | None:
        """Raises KeySourceError (exit 5) when keyctl is missing, refuses or does not answer."""
        key_id = self._find(name)
        if key_id is None:
            return None
        code, out, err = self._run("pipe", key_id)
        if code != 0:
            if "not available" in err or "expired" in err or "revoked" in err:
                return None
            raise self._refused(err)
        if not trim_key(out):
            return None
        return checked_key(out, name, KeySource(KERNEL))

    def set(self, name: str, key: str) -> None:
        # padd reads the payload from stdin: the key never appears in a process list.
        """Raises KeySourceError (exit 5) when keyctl is missing, refuses (or the key is too big) or does not answer."""
        code, out, err = self._run("padd", "user", _description(name), "@u", stdin=key)
        if code != 0 and ("Invalid argument" in err or "quota" in err.lower()):
            raise KeySourceError(f"the kernel keyring refused a key of {len(key)} characters ({err.strip()})",
                                 "a user key holds at most 32767 bytes, and all of one user's keys together "
                                 "/proc/sys/kernel/keys/maxbytes; an API key is far shorter: check what you stored")
        if code != 0:
            raise self._refused(err)
        code, _out, err = self._run("setperm", out.strip(), _KERNEL_PERM)
        if code != 0:
            raise self._refused(err)

    def delete(self, name: str) -> bool:
        """Raises KeySourceError (exit 5) when keyctl is missing, refuses or does not answer."""
        key_id = self._find(name)
        if key_id is None:
            return False
        code, _out, err = self._run("unlink", key_id, "@u")
        if code != 0:
            raise self._refused(err)
        return True

    def describe(self) -> str:
        """Raises KeySourceError (exit 5) when keyctl is missing, refuses or does not answer."""
        code, _out, err = self._run("show", "@u")
        if code != 0:
            raise self._refused(err)
        return "Linux kernel user keyring (keyctl)"


# --- one store that follows each profile's source --------------------------------------------------------


class SourcedStore:
    """A SecretStore (credentials.SecretStore) that reads each profile's source from profiles.toml and routes:
    keyring -> the OS keyring store, kernel -> KernelStore, env:/command: -> read only (nothing to store).

    Every command's `Context.secrets` is one of these, so verify, status, use and doctor follow the source
    without knowing about it."""

    def __init__(self, keyring: Any = None, *, kernel: Any = None, environ: Mapping[str, str] | None = None,
                 profiles_file: Path | None = None) -> None:
        self._keyring = keyring
        self._kernel = kernel
        self._environ = environ
        self._profiles_file = profiles_file

    @property
    def keyring(self) -> Any:
        if self._keyring is None:
            from dsconfig.credentials import KeyringStore

            self._keyring = KeyringStore(environ=self._environ)
        return self._keyring

    @property
    def kernel(self) -> Any:
        if self._kernel is None:
            self._kernel = KernelStore()
        return self._kernel

    def source(self, name: str) -> KeySource:
        """Raises InvalidFileError (exit 4) when profiles.toml cannot be loaded."""
        from dsconfig.keyget import source_of

        source, err = source_of(name, self._profiles_file)
        if err is not None:
            raise err
        return source

    def store_for(self, source: KeySource) -> Any:
        return self.kernel if source.kind == KERNEL else self.keyring

    def get_from(self, name: str, source: KeySource) -> str | None:
        if source.kind == ENV:
            return read_env(name, source, self._environ)
        if source.kind == COMMAND:
            return read_command(name, source, self._environ)
        return self.store_for(source).get(name)  # type: ignore[no-any-return]

    def get(self, name: str) -> str | None:
        return self.get_from(name, self.source(name))

    def set(self, name: str, key: str) -> None:
        """Store `key` where the profile's source keeps keys. Raises UsageError (exit 2) for an env:/command: source
        (nothing to store), InvalidFileError when profiles.toml cannot be loaded, and what that store raises."""
        source = self.source(name)
        if not source.stores:
            raise nothing_to_store(name, source)
        self.store_for(source).set(name, key)

    def delete(self, name: str) -> bool:
        source = self.source(name)
        if not source.stores:
            return False
        return self.store_for(source).delete(name)  # type: ignore[no-any-return]

    def describe(self) -> str:
        return self.keyring.describe()  # type: ignore[no-any-return]


def no_stored_key(name: str, source: KeySource) -> DsconfigError:
    """The error when a storing source (keyring, kernel) holds no key for `name`: NotFoundError, exit 3."""
    from dsconfig.errors import NotFoundError

    where = "the kernel keyring" if source.kind == KERNEL else "the OS keyring"
    return NotFoundError(f"no API key stored for profile {name!r} in {where}", f"store one with: dsconfig key set {name}")


def nothing_to_store(name: str, source: KeySource) -> UsageError:
    return UsageError(f"profile {name!r} reads its key from {source}: there is nothing for dsconfig to store",
                      f"set it where it lives ({source.describe()}), or store it with dsconfig: "
                      f"dsconfig profile edit {name} --key-source keyring --api-key-stdin")
