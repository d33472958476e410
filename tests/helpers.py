"""Small test helpers shared by several test files (importable by name: tests/ is on sys.path).

Kept out of conftest.py because tests/reliability/ has a conftest of its own, and two modules named
`conftest` cannot both be imported by name.
"""

from __future__ import annotations

import sys
from pathlib import Path


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


def dsconfig_command() -> list[str]:
    """The console script installed beside this Python, or `python -m dsconfig` as a fallback."""
    script = Path(sys.executable).parent / "dsconfig"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dsconfig"]
