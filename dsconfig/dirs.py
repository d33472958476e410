"""Where dsconfig's own folders are, as plain strings: the part of paths.py that `key get` needs.

`dsconfig key get NAME` runs at every Claude Code start and needs only profiles.toml and the state folder, so
this module imports nothing but `os` and `sys` (not pathlib, not platformdirs). paths.py builds every other
path, as `pathlib.Path`s, on top of these.

- config folder: `$DSCONFIG_HOME`, else the platform's config folder (platformdirs' user_config_dir).
- state folder: `$DSCONFIG_HOME/state`, else the platform's state folder (platformdirs' user_state_dir).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: see the module docstring (type checkers take any such name as true)
if TYPE_CHECKING:
    from collections.abc import Mapping

APP_NAME = "dsconfig"
PROJECT_SETTINGS = ((".claude", "settings.local.json"), (".claude", "settings.json"))
"""A project folder's Claude Code settings files, highest precedence first (paths.claude_project_settings)."""


def config_dir_name(env: Mapping[str, str] | None = None) -> str:
    """Folder of profiles.toml and the user's own templates (see the module docstring).

    Raises UsageError when DSCONFIG_HOME is not an absolute path."""
    home = _dsconfig_home(env)
    return home if home is not None else platform_dir("config")


def state_dir_name(env: Mapping[str, str] | None = None) -> str:
    """Folder of the change journal, backups, locks and the profile index (see the module docstring).

    Raises UsageError when DSCONFIG_HOME is not an absolute path."""
    home = _dsconfig_home(env)
    return os.path.join(home, "state") if home is not None else platform_dir("state")


def _dsconfig_home(env: Mapping[str, str] | None) -> str | None:
    home = (os.environ if env is None else env).get("DSCONFIG_HOME")
    if not home:
        return None
    if not os.path.isabs(home):
        # A relative folder would be another folder in every directory dsconfig runs from (and in the one
        # Claude Code runs `key get` from).
        from dsconfig.errors import UsageError

        raise UsageError(f"DSCONFIG_HOME={home} is not an absolute path",
                         f'give the full path: export DSCONFIG_HOME="$PWD/{home}" (or unset it)')
    return home


def profiles_file_name(env: Mapping[str, str] | None = None) -> str:
    return os.path.join(config_dir_name(env), "profiles.toml")


def user_templates_dir_name(env: Mapping[str, str] | None = None) -> str:
    return os.path.join(config_dir_name(env), "templates")


def builtin_templates_dir_name() -> str:
    """templates/ ships inside the wheel as dsconfig/templates; a source checkout keeps it at the top level."""
    package = os.path.dirname(os.path.realpath(__file__))
    packaged = os.path.join(package, "templates")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(package), "templates")


def platform_dir(kind: str) -> str:
    """platformdirs' user_config_dir ("config") or user_state_dir ("state") for dsconfig.

    platformdirs reads os.environ itself (tests set HOME/XDG_* there through the isolation fixture)."""
    fast = _linux_xdg_dir(kind)
    if fast is not None:
        return fast
    import platformdirs

    if kind == "config":
        return platformdirs.user_config_dir(APP_NAME, appauthor=False)
    return platformdirs.user_state_dir(APP_NAME, appauthor=False)


def _linux_xdg_dir(kind: str) -> str | None:
    """platformdirs' answer on Linux in the two plain cases, without importing it; None for anything else.

    `import platformdirs` costs ~9 ms (its unix module imports tempfile, shutil, bz2, lzma, random), paid by
    `key get` at every Claude Code start and `env` at every shell start. On Linux, platformdirs (3.x and 4.x)
    gives `$XDG_CONFIG_HOME/dsconfig` (`$XDG_STATE_HOME/dsconfig`) when the variable holds an absolute path, and
    otherwise `$HOME/.config/dsconfig` (`$HOME/.local/state/dsconfig`) when HOME is absolute. Anything else
    (another OS, a relative or missing HOME) is left to platformdirs. tests/test_paths.py compares the two.
    """
    if not sys.platform.startswith("linux"):
        return None
    variable, under_home = ("XDG_CONFIG_HOME", ".config") if kind == "config" else ("XDG_STATE_HOME", ".local/state")
    base = os.environ.get(variable, "")
    if os.path.isabs(base):
        return os.path.join(base, APP_NAME)
    home = os.environ.get("HOME", "")
    if os.path.isabs(home):
        return os.path.join(home, under_home, APP_NAME)
    return None
