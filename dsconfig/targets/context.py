"""TargetContext: where a target looks and writes (home, platform, environment, cwd, journal, the system root
and probes), injectable for tests."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dsconfig.errors import DsconfigError
from dsconfig.journal import Journal
from dsconfig.targets.system import System


def _self_command() -> tuple[str, ...]:
    """How another program runs this dsconfig: the console script's absolute path when we run from it."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("dsconfig", "dsconfig.exe") and argv0.exists():
        return (str(argv0.resolve()),)
    script = Path(sys.executable).parent / ("dsconfig.exe" if os.name == "nt" else "dsconfig")
    if script.exists():
        return (str(script),)
    return (sys.executable, "-m", "dsconfig")


def current_folder() -> Path:
    """The current folder: Claude Code's project settings are looked up there. A shell can sit in a folder that
    was removed since (`rm -rf` of a checkout); then os.getcwd() fails, and so does every lookup there.

    Raises: DsconfigError naming the folder that is gone and `cd ~` as the fix."""
    try:
        return Path.cwd()
    except OSError:
        gone = os.environ.get("PWD") or "the current folder"
        raise DsconfigError(f"{gone} no longer exists (removed or moved while this shell was in it)",
                            "cd to an existing folder (e.g. `cd ~`) and run the command again") from None


@dataclass(frozen=True)
class TargetContext:
    """Where a target looks and writes. Tests pass a temp home, another platform and a made-up environment."""

    home: Path = field(default_factory=Path.home)
    platform: str = sys.platform
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=current_folder)
    journal: Journal = field(default_factory=Journal)
    dsconfig_command: tuple[str, ...] = field(default_factory=_self_command)
    # Where Claude Code's system-wide files (managed settings, Homebrew, /usr/local) are looked up; None: the real
    # file system root (tests give a temp folder; a Windows path works on Linux too).
    root: Path | None = None
    # Claude Desktop's view of the machine outside home: system root, probes, registry.
    system: System = field(default_factory=System)

    def key_command(self, profile: str) -> str:
        """A shell command line printing the profile's key (`/bin/sh` on Unix, `cmd` on Windows).

        With DSCONFIG_HOME set, the line sets it too: Claude Code and Claude Desktop run the helper in their own
        environment, where it is usually not set, and `key get` must read the same profiles.toml (the profile's
        key source is there)."""
        argv = [*self.dsconfig_command, "key", "get", profile]
        home = self.dsconfig_home()
        if self.platform.startswith("win"):
            import subprocess

            line = subprocess.list2cmdline(argv)
            return f'set "DSCONFIG_HOME={home}" && {line}' if home else line
        return (f"DSCONFIG_HOME={shlex.quote(home)} " if home else "") + shlex.join(argv)

    def dsconfig_home(self) -> str | None:
        """DSCONFIG_HOME as this command sees it, or None when unset or empty."""
        return self.environ.get("DSCONFIG_HOME") or None
