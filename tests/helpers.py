"""Small test helpers shared by several test files (importable by name: tests/ is on sys.path).

Kept out of conftest.py: a conftest is pytest's to import, not a module to import from.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, cast

if TYPE_CHECKING:
    from collections.abc import Callable

    from keyring.backend import KeyringBackend


class RunDsconfig(Protocol):
    """The `run_dsconfig` fixture: runs the installed command and returns what it did."""

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None,
                 timeout: float = 60, cwd: Path | None = None) -> subprocess.CompletedProcess[str]: ...


class MemoryKeyring:
    """An in-memory SecretStore for unit tests (same interface as credentials.KeyringStore)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.items.get(name)

    def set(self, name: str, key: str) -> None:
        self.items[name] = key

    def delete(self, name: str) -> bool:
        return self.items.pop(name, None) is not None

    def describe(self) -> str:
        return "memory"


def keyring_backend(kind: Literal["fail", "null"]) -> KeyringBackend:
    """One of keyring's own stand-in backends: "fail" (no backend at all: every call raises) or "null" (finds
    nothing, stores nothing)."""
    import keyring.backends.fail
    import keyring.backends.null

    backend = keyring.backends.fail.Keyring if kind == "fail" else keyring.backends.null.Keyring
    # keyring's KeyringBackend.__init__ takes no arguments but carries no annotation.
    return cast("Callable[[], KeyringBackend]", backend)()


def dsconfig_command() -> list[str]:
    """The console script installed beside this Python, or `python -m dsconfig` as a fallback."""
    script = Path(sys.executable).parent / "dsconfig"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dsconfig"]
