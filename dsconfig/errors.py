"""Every failure dsconfig reports on purpose: a message, a hint naming the fix, and an exit code.

This module is on the fast path (`dsconfig key get`, `dsconfig env`): it imports nothing but the stdlib.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms on every `key get` (type checkers take any such name)
if TYPE_CHECKING:
    from dsconfig.notices import Notice

# Exit codes are part of the public interface (README, "Exit codes").
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INVALID_FILE = 4
EXIT_KEYRING = 5
EXIT_VERIFY_AUTH = 6
EXIT_VERIFY_NETWORK = 7
EXIT_CONFLICT = 8
EXIT_INTERRUPTED = 130


class DsconfigError(Exception):
    """Base class: `str(err)` is the message, `err.hint` the fix, `err.exit_code` the process status.
    `err.notices`: warnings found before the failure (planning), rendered before the error."""

    exit_code = EXIT_ERROR
    notices: tuple[Notice, ...] = ()

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class Cancelled(DsconfigError):
    """The user said no where dsconfig asked (setup's final confirmation): not an error, exit 0."""

    exit_code = EXIT_OK

    def render(self) -> str:
        return f"cancelled: {self.message}"


class UsageError(DsconfigError):
    """A bad argument value the parser could not catch (a profile name, a TIER=MODEL pair)."""

    exit_code = EXIT_USAGE


class NotFoundError(DsconfigError):
    """A profile, provider or key that does not exist."""

    exit_code = EXIT_NOT_FOUND


class InvalidFileError(DsconfigError):
    """A file we read is malformed. Carries the path and, where known, line and column."""

    exit_code = EXIT_INVALID_FILE

    def __init__(
        self,
        path: object,
        problem: str,
        hint: str | None = None,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {problem}", hint)
        self.path = path
        self.problem = problem
        self.line = line
        self.column = column


class KeyringUnavailableError(DsconfigError):
    """No usable OS keyring: no Secret Service, a locked collection, or the `fail` backend."""

    exit_code = EXIT_KEYRING


class ConflictError(DsconfigError):
    """A configuration someone else controls wins over what dsconfig would write (Claude Desktop managed by an
    administrator: claude_desktop.ManagedConfigError). Exit code 8, as the README's table says."""

    exit_code = EXIT_CONFLICT


class VerifyAuthError(DsconfigError):
    """verify: the provider refused the key or the account has no credit."""

    exit_code = EXIT_VERIFY_AUTH


class VerifyNetworkError(DsconfigError):
    """verify: the provider could not be reached (DNS, refused, TLS, proxy, timeout, stall)."""

    exit_code = EXIT_VERIFY_NETWORK
