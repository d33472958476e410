"""The machine outside the home folder, injectable: the root of system-wide files, how probes run, the registry.

Tests lay out macOS, Windows and Linux machines, managed sources and running apps in temp folders by passing
another `System` (through TargetContext.system).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Ran:
    """What a finished subprocess said."""

    returncode: int
    stdout: str


Runner = Callable[[Sequence[str]], "Ran | None"]


def run_quietly(argv: Sequence[str], timeout: float = 3.0) -> Ran | None:
    """Run a probe (dpkg-query, pgrep, tasklist). None when it is missing, hangs or fails to start:
    detection must never crash or stall a command."""
    try:
        proc = subprocess.run(
            list(argv), check=False, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return Ran(proc.returncode, proc.stdout or "")


def policy_registry_keys() -> list[str]:
    """The Claude policy keys present in the Windows registry; [] anywhere but on a real Windows."""
    if sys.platform != "win32":
        return []
    import winreg

    found = []
    for hive, label in ((winreg.HKEY_LOCAL_MACHINE, "HKLM"), (winreg.HKEY_CURRENT_USER, "HKCU")):
        try:
            with winreg.OpenKey(hive, r"SOFTWARE\Policies\Claude") as key:
                subkeys, values, _ = winreg.QueryInfoKey(key)
        except OSError:
            continue
        if subkeys or values:  # an empty key left by an uninstalled policy sets nothing
            found.append(rf"{label}\SOFTWARE\Policies\Claude")
    return found


@dataclass(frozen=True)
class System:
    """Where system-wide files live ("/" in production), how probes run, what the registry holds."""

    root: Path = Path("/")
    run: Runner = run_quietly
    registry: Callable[[], list[str]] = policy_registry_keys
