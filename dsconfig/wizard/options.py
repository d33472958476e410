"""What `dsconfig setup` is given (SetupOptions, its flags) and what it returns (SetupResult); the target ids it
offers; the test call it makes by default."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsconfig.keysources import KeySource
from dsconfig.profiles import Resolved

if TYPE_CHECKING:
    from dsconfig.switch import SwitchResult
    from dsconfig.verify.report import VerifyReport

CLAUDE_CODE = "claude-code"
CLAUDE_DESKTOP = "claude-desktop"
SHELL = "shell"
VERIFY_TIMEOUT = 30.0


@dataclass(frozen=True)
class SetupOptions:
    """The flags of `dsconfig setup`; None means "ask" (or the default under --yes)."""

    provider: str | None = None
    profile: str | None = None
    api_key: str | None = None  # read from stdin by cli.py (--api-key-stdin)
    base_url: str | None = None
    models: Mapping[str, str] = field(default_factory=dict)
    targets: tuple[str, ...] = ()
    scope: str | None = None
    adopt: bool | None = None
    yes: bool = False
    no_verify: bool = False
    key_source: KeySource | None = None  # --key-source; None: the OS keyring (or ask, when there is none)


@dataclass(frozen=True)
class SetupResult:
    profile: str
    created: bool
    provider: str
    base_url: str
    key: str  # masked
    key_stored: bool  # False when the stored key was kept as it was
    adopted_from: str | None
    verified: str  # "passed", "failed", "skipped"
    switches: tuple[SwitchResult, ...] = ()
    shell_line: str | None = None
    changed: bool = True  # False: a re-run that found everything already set up this way (nothing written)
    key_source: str = "keyring"


Verifier = Callable[[Resolved, str], "VerifyReport"]


def default_verifier(resolved: Resolved, key: str, timeout: float = VERIFY_TIMEOUT) -> VerifyReport:
    """`dsconfig verify`'s checks on `resolved` with `key` (httpx loads here, on the first test call)."""
    from dsconfig.verify.runner import verify_many

    return asyncio.run(verify_many([(resolved, key)], timeout=timeout))
