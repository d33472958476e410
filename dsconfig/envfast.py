"""`dsconfig env` answered from profileindex.py, without loading the profile model: every shell start.

`answer` gives exactly what actions.env prints, from the index entry the first parsing `env` recorded
(`remember`); None sends the caller to actions.env (no index yet, any file changed, a project profile may
apply here). The shell is chosen, the key read and the statements rendered by the same functions actions.env
uses; tests/test_env_fast.py compares both paths for every built-in template, shell and profile form.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: this module is on the `env` path (type checkers take any such name)
if TYPE_CHECKING:
    from collections.abc import Mapping

_KEY_MARK = "\0dsconfig-key\0"
"""Stands for the key while recording where Resolved.process_env puts it (no real key contains NUL)."""


def _cwd_has_project_settings() -> bool:
    """Whether `dsconfig use --scope project` may have applied a profile here (actions.folder_profile's file)."""
    try:
        from dsconfig.dirs import PROJECT_SETTINGS

        return os.path.lexists(os.path.join(os.getcwd(), *PROJECT_SETTINGS[0]))
    except OSError:  # a folder removed under the shell: no project there
        return False


def answer(name: str | None, shell: str | None, unset: bool, environ: Mapping[str, str] | None = None) -> str | None:
    """The statements for `dsconfig env [NAME] [--shell S] [--unset]`, or None: ask actions.env.

    Raises what actions.env raises for the key (KeySourceError, KeyringUnavailableError, NotFoundError)."""
    from dsconfig import profileindex

    entry = profileindex.env_entry(name, cwd_has_project_settings=_cwd_has_project_settings())
    if entry is None:
        return None
    from dsconfig.targets import shell as sh

    e = os.environ if environ is None else environ
    chosen, note = (shell, None) if shell else sh.choose_shell(e, sys.platform)
    if note:
        sys.stderr.write(note + "\n")
    if unset:
        return sh.render_unset(list(entry.variables), chosen)
    variables = entry.with_key(_key(entry.name, entry.source, e))
    to_set = {k: v for k, v in variables.items() if v is not None}
    to_unset = [k for k, v in variables.items() if v is None]
    return sh.render_set(to_set, chosen) + (sh.render_unset(to_unset, chosen) if to_unset else "")


def _key(name: str, source_text: str, environ: Mapping[str, str]) -> str:
    from dsconfig import keysources

    source = keysources.parse(source_text)
    key = keysources.SourcedStore(environ=environ).get_from(name, source)
    if not key:
        raise keysources.no_stored_key(name, source)
    return key


def remember(name: str | None) -> bool:
    """After actions.env answered by parsing: record its answer for `name` (None: the profile in effect) in the
    index, made from the very texts parsed here. Best effort, never raises: True when recorded."""
    from dsconfig.errors import DsconfigError

    try:
        return _remember(name)
    except (DsconfigError, OSError, UnicodeDecodeError):
        return False


def _remember(name: str | None) -> bool:
    from pathlib import Path

    from dsconfig import dirs, profileindex, saferead, templates
    from dsconfig.profiles import ProfileStore, resolve

    if name is None and _cwd_has_project_settings():
        return False
    store = ProfileStore()
    data = saferead.read_bytes(store.path)
    if data is None:
        return False
    text = data.decode("utf-8").removeprefix("\ufeff")
    profiles = store.loads(text)
    profile = profiles.pick(name)
    if not templates.is_template_id(profile.provider):
        return False  # found by scanning every template file: not recorded
    files: dict[str, str | None] = {}
    template = None
    # The same two files, in the same order and spelled the same way, as templates.load_template reads and
    # profileindex.env_entry checks.
    for folder, builtin in ((dirs.user_templates_dir_name(), False), (dirs.builtin_templates_dir_name(), True)):
        path = Path(os.path.join(folder, f"{profile.provider}.toml"))
        raw = saferead.read_bytes(path)
        files[os.path.join(folder, f"{profile.provider}.toml")] = None if raw is None else raw.decode("utf-8", "replace")
        if raw is not None:
            template_text = raw.decode("utf-8").removeprefix("\ufeff")
            template = templates.parse_template_text(path, template_text, builtin=builtin)
            break
    if template is None:
        return False
    marked = resolve(profile, template).process_env(_KEY_MARK)
    key_variables = [var for var, value in marked.items() if value == _KEY_MARK]
    variables = {var: (None if value == _KEY_MARK else value) for var, value in marked.items()}
    return profileindex.remember_env(text, profiles.key_sources(), list(profiles.profiles), profiles.active,
                                     profile.name, profile.provider, files, variables, key_variables)
