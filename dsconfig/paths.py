"""Every path dsconfig reads or writes, per OS.

Resolved per call from explicit arguments (home, environment, platform) so tests can move HOME and lay out
macOS and Windows folders on Linux. Nothing here runs at import time, and nothing here is heavy: `key get`
and `env` import this module on every shell start.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from dsconfig import dirs

APP_NAME = dirs.APP_NAME


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _home(home: Path | None, env: Mapping[str, str]) -> Path:
    if home is not None:
        return home
    return Path(env.get("HOME") or os.path.expanduser("~"))


# --- dsconfig's own files -------------------------------------------------------------------------------


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Folder of profiles.toml and the user's own templates: `$DSCONFIG_HOME`, else the platform config dir."""
    return Path(dirs.config_dir_name(env))


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Folder of the change journal, backups and locks: `$DSCONFIG_HOME/state`, else the platform state dir."""
    return Path(dirs.state_dir_name(env))


def profiles_file(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "profiles.toml"


def user_templates_dir(env: Mapping[str, str] | None = None) -> Path:
    return Path(dirs.user_templates_dir_name(env))


def journal_file(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "journal.json"


def backups_dir(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "backups"


def locks_dir(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "locks"


def helpers_dir(env: Mapping[str, str] | None = None) -> Path:
    """Per-profile credential-helper executables for Claude Desktop."""
    return state_dir(env) / "helpers"


def builtin_templates_dir() -> Path:
    """templates/ ships inside the wheel as dsconfig/templates; a source checkout keeps it at the top level."""
    return Path(dirs.builtin_templates_dir_name())


# --- Claude Code ------------------------------------------------------------------------------------------


def claude_config_dir(home: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """`~/.claude`, moved by `CLAUDE_CONFIG_DIR` as Claude Code itself does."""
    e = _env(env)
    if e.get("CLAUDE_CONFIG_DIR"):
        return Path(e["CLAUDE_CONFIG_DIR"])
    return _home(home, e) / ".claude"


def claude_user_settings(home: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    return claude_config_dir(home, env) / "settings.json"


def claude_global_state(home: Path | None = None, env: Mapping[str, str] | None = None) -> Path:
    """`~/.claude.json` (or `$CLAUDE_CONFIG_DIR/.claude.json`): Claude Code's own state file."""
    e = _env(env)
    if e.get("CLAUDE_CONFIG_DIR"):
        return Path(e["CLAUDE_CONFIG_DIR"]) / ".claude.json"
    return _home(home, e) / ".claude.json"


def claude_project_settings(project: Path) -> tuple[Path, Path]:
    """(settings.local.json, settings.json) of a project folder, highest precedence first."""
    local, shared = (project.joinpath(*parts) for parts in dirs.PROJECT_SETTINGS)
    return local, shared


def claude_managed_settings(platform: str | None = None) -> Path:
    p = platform or sys.platform
    if p == "darwin":
        return Path("/Library/Application Support/ClaudeCode/managed-settings.json")
    if p.startswith("win"):
        return Path("C:/Program Files/ClaudeCode/managed-settings.json")
    return Path("/etc/claude-code/managed-settings.json")
