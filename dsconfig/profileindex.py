"""What `key get` and `env` need from profiles.toml and the templates, kept so they need not parse TOML.

`dsconfig key get NAME` runs at every Claude Code start and `dsconfig env` at every shell start. Both used to
parse profiles.toml (tomllib and typing, ~5 ms) and `env` loaded the whole profile model (dataclasses pulls in
inspect, ~10 ms) and its template. This index answers instead, but only from exactly the files it was made of:

    state folder/profile-index.json
    {"format": 1,
     "profiles_toml": <the text of profiles.toml it was made from>,
     "sources": {NAME: SOURCE},            every profile whose key source is not the keyring
     "names": [NAME...], "active": NAME | null,
     "env": {NAME: {"provider": ID, "files": {PATH: TEXT | null},   the template files it resolved from
                    "variables": {VAR: VALUE | null},       Resolved.process_env with no key (null: unset)
                    "key_variables": [VAR...]}}}            where process_env puts the key

Everything in it was computed from profiles.toml loaded and validated whole (ProfileStore), so an answer from
it is the answer loading the file gives. Trust: `sources`, `names` and `active` only while `profiles_toml`
equals the file's current text, character for character; an `env` entry only while, in addition, its `files`
are exactly the template files this installation would read for the profile's provider now (the user's
templates folder as configured now, this installation's built-in folder) and each holds the recorded text
(null: is not a file), which covers a user template appearing in front of a built-in one, another config
folder (XDG_CONFIG_HOME, DSCONFIG_HOME) and a second installation sharing the state folder. Anything else (a
hand edit, another tool's write, an upgrade that changed a template) means "load the files", after which the
index is written afresh. profiles.toml changes made by dsconfig and `key get` after a load write
`sources`/`names`/`active`; an `env` entry is written by the first `dsconfig env` that had to load. Writes are atomic, 0600 in the 0700 state
folder and best effort (failing only costs the next start a parse). Nothing secret is here: profiles.toml
and the templates hold no key, and `variables` are written without it.
"""

from __future__ import annotations

import os

from dsconfig import dirs

TYPE_CHECKING = False  # not typing's: this module is on the `key get` path (type checkers take any such name)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

FORMAT = 1
FILE_NAME = "profile-index.json"
_MAX_BYTES = 8 * 1024 * 1024  # profiles.toml and the template texts; far below anything real


def index_file(env: Mapping[str, str] | None = None) -> str:
    return os.path.join(dirs.state_dir_name(env), FILE_NAME)


def _load(path: str | None) -> dict[str, Any] | None:
    from dsconfig import saferead
    from dsconfig.errors import DsconfigError

    try:
        data = saferead.read_bytes(path or index_file(), limit=_MAX_BYTES)
    except DsconfigError:
        return None
    if data is None:
        return None
    import json

    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; RecursionError: "[[[[..."
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def _strings(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def profiles(text: str, path: str | None = None) -> tuple[dict[str, str], list[str]] | None:
    """(key sources, profile names) from the index when it was made from `text` (profiles.toml now) after the
    whole file was validated, else None (load the file). Never raises: an absent, unreadable, damaged or
    foreign index is simply not used."""
    doc = _load(path)
    if doc is None or doc.get("profiles_toml") != text or not _strings(doc.get("sources")):
        return None
    names = doc.get("names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    if not _grounded(doc["sources"], names, text):
        return None
    return doc["sources"], names


def _grounded(sources: Mapping[str, str], names: Sequence[str], text: str) -> bool:
    """Whether every name and every source's variable or command is spelled in profiles.toml's `text`.

    The index lives in dsconfig's own 0700 state folder, but what it says is run (a `command:` source) or read
    and handed to Claude Code (an `env:` variable): an index edited to say anything the file does not say is not
    believed, so changing what `key get` does still takes changing profiles.toml itself."""
    if not all(_spelled(name, [text]) for name in names):
        return False
    for name, source in sources.items():
        kind, _, value = source.partition(":")
        if name not in names or kind not in ("env", "command", "kernel", "keyring") or (value and not _spelled(value, [text])):
            return False
    return True


def _spelled(value: str, texts: Sequence[str]) -> bool:
    """Whether `value` occurs in one of the TOML `texts`, as is or with a basic string's escapes (\\", \\\\...)."""
    import json

    forms = {value, json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}
    return any(form in text for form in forms for text in texts)


def _text_of(path: str) -> str | None:
    """A template file's text for comparison, None when it is absent; one that cannot be read never matches."""
    from dsconfig import saferead
    from dsconfig.errors import DsconfigError

    try:
        data = saferead.read_bytes(path)
    except DsconfigError:
        return "\0unreadable"
    if data is None:
        return None
    return data.decode("utf-8", "replace")


class EnvEntry:
    """A profile's `dsconfig env` answer from the index: the variables, and where the key goes."""

    __slots__ = ("key_variables", "name", "source", "variables")

    def __init__(self, name: str, source: str, variables: dict[str, str | None], key_variables: list[str]) -> None:
        self.name = name
        self.source = source
        self.variables = variables
        self.key_variables = key_variables

    def with_key(self, key: str) -> dict[str, str | None]:
        out = dict(self.variables)
        for var in self.key_variables:
            out[var] = key
        return out


def env_entry(name: str | None, *, cwd_has_project_settings: bool, path: str | None = None) -> EnvEntry | None:
    """The index's answer for `dsconfig env [NAME]`, or None when the files must be parsed.

    `name` None means the profile in effect: only answered when the current folder has no project settings
    (a `use --scope project` there may name another profile) and profiles.toml names an active one."""
    from dsconfig import saferead
    from dsconfig.errors import DsconfigError

    doc = _load(path)
    if doc is None:
        return None
    try:
        data = saferead.read_bytes(dirs.profiles_file_name())
    except DsconfigError:
        return None
    if data is None or doc.get("profiles_toml") != data.decode("utf-8", "replace").removeprefix("\ufeff"):
        return None
    if name is None:
        if cwd_has_project_settings:
            return None
        name = doc.get("active")
    names, entries = doc.get("names"), doc.get("env")
    sources: dict[str, str] = doc.get("sources")  # type: ignore[assignment]  # checked by _strings below
    if not isinstance(name, str) or not isinstance(names, list) or name not in names or not _strings(sources) \
            or not isinstance(entries, dict):
        return None
    entry = entries.get(name)
    if not isinstance(entry, dict):
        return None
    provider, files = entry.get("provider"), entry.get("files")
    variables, key_variables = entry.get("variables"), entry.get("key_variables")
    if not isinstance(provider, str) or not isinstance(files, dict) or not files or \
            not isinstance(variables, dict) or not isinstance(key_variables, list):
        return None
    # The files this installation reads now for that provider, in order: the user's templates folder as
    # configured now, then its own built-in folder (templates.load_template).
    expected = [os.path.join(folder, f"{provider}.toml")
                for folder in (dirs.user_templates_dir_name(), dirs.builtin_templates_dir_name())]
    if list(files) != expected[:len(files)]:
        return None
    if not all(isinstance(v, str) or v is None for v in variables.values()) or \
            not all(isinstance(v, str) and v in variables for v in key_variables):
        return None
    for file_path, recorded in files.items():
        if not isinstance(file_path, str) or _text_of(file_path) != recorded:
            return None
    # Every value printed must be spelled in profiles.toml or the template it came from (see _grounded).
    texts = [data.decode("utf-8", "replace"), *(t for t in files.values() if isinstance(t, str))]
    if not _grounded(sources, names, texts[0]) or not all(
            value is None or value == "" or _spelled(value, texts) for value in variables.values()):
        return None
    return EnvEntry(name, sources.get(name, "keyring"), variables, key_variables)


def write(text: str, sources: Mapping[str, str], names: Sequence[str], active: str | None,
          path: str | None = None) -> bool:
    """Record what profiles.toml with `text`, loaded and validated whole (ProfileStore), says: the key sources
    (keyring ones left out), the profile names and the active profile.

    Keeps the `env` entries when the index was made from the same text. Best effort, never raises: True when
    written."""
    old = _load(path)
    env = old.get("env") if old is not None and old.get("profiles_toml") == text else None
    return _write({"format": FORMAT, "profiles_toml": text, "sources": dict(sources), "names": list(names),
                   "active": active, "env": env if isinstance(env, dict) else {}}, path)


def remember_env(text: str, sources: Mapping[str, str], names: Sequence[str], active: str | None, name: str,
                 provider: str, files: Mapping[str, str | None], variables: Mapping[str, str | None],
                 key_variables: Sequence[str], path: str | None = None) -> bool:
    """Add profile `name`'s env entry, made after profiles.toml `text` was loaded and validated whole (so its
    `sources`, `names` and `active` are recorded too) and `files` resolved its template. Best effort, never
    raises: True when written."""
    old = _load(path)
    env = old.get("env") if old is not None and old.get("profiles_toml") == text else None
    entries = dict(env) if isinstance(env, dict) else {}
    entries[name] = {"provider": provider, "files": dict(files), "variables": dict(variables),
                     "key_variables": list(key_variables)}
    return _write({"format": FORMAT, "profiles_toml": text, "sources": dict(sources), "names": list(names),
                   "active": active, "env": entries}, path)


def _write(doc: dict[str, Any], path: str | None) -> bool:
    """Write the index with fileio.atomic_write (temp file, fsync, rename; 0600; the folder owner's when root
    works on a user's HOME). Only after a load, never on the fast path, so fileio's imports cost nothing there."""
    import json
    from pathlib import Path

    from dsconfig import fileio
    from dsconfig.errors import DsconfigError

    target = path or index_file()
    if not os.path.isdir(os.path.dirname(target)):
        return False  # the state folder appears with the first change dsconfig makes; not worth creating here
    try:
        fileio.atomic_write(Path(target), json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (DsconfigError, OSError, ValueError):
        return False
    return True
