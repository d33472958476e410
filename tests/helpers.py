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


# DeepSeek's Claude Code guide (api-docs.deepseek.com quick_start/agent_integrations/claude_code, checked
# 2026-11-30; TARGETS.md section 1) plus the fable tier, which gets the opus model: what a DeepSeek profile with no
# overrides resolves to. The tests' own copy, so a template edit that drifts from the guide fails them.
DEEPSEEK_GUIDE_ENV = {
    "ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic",
    "ANTHROPIC_MODEL": "deepseek-flash[1m]",
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "deepseek-flash[1m]",
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "deepseek-flash[1m]",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "deepseek-flash",
    "ANTHROPIC_DEFAULT_FABLE_MODEL": "deepseek-flash[1m]",
    "CLAUDE_CODE_SUBAGENT_MODEL": "deepseek-flash",
    "CLAUDE_CODE_EFFORT_LEVEL": "max",
    "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "786432",
}


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
