"""`dsconfig key get NAME`: the command Claude Code and Claude Desktop run for the key, at every start.

It learns the profile's key source from profiles.toml itself rather than from its own command line, so the
apiKeyHelper `use` writes stays `dsconfig key get NAME` whatever the source, and `profile edit NAME
--key-source ...` takes effect without running `use` again. To keep that cheap: the file is read as bytes and
looked at only when the text `key_source` occurs in it at all, and then answered from profileindex.py while
the index was made from the file's exact text; only otherwise is it parsed (tomllib). A file that cannot be
parsed (being edited by hand) falls back to the keyring, as before sources existed, so a keyring profile
keeps working while its file is half-written.

Stdlib only (plus dsconfig's own light modules): an `env:` profile must never import keyring.
"""

from __future__ import annotations

from dsconfig import keysources
from dsconfig.errors import DsconfigError, InvalidFileError, UsageError
from dsconfig.keysources import DEFAULT, KeySource, from_file_value, parse

TYPE_CHECKING = False  # not typing's: see the module docstring (type checkers take any such name as true)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any


def source_of(name: str, profiles_file: Path | str | None = None) -> tuple[KeySource, DsconfigError | None]:
    """The source of profile `name` from profiles.toml, and the file's error when it could not be read.

    A missing file or profile means the keyring (as `key get` always did). A broken file gives the keyring and
    the error, so the caller can try the keyring and report the file only when that finds nothing. The file
    is parsed only when profileindex.py has no index made from its current text.
    """
    from dsconfig import dirs, profileindex, saferead

    path = profiles_file or dirs.profiles_file_name()
    try:
        data = saferead.read_bytes(path)
    except DsconfigError as err:
        return DEFAULT, err
    if data is None or b"key_source" not in data:
        return DEFAULT, None
    hint = f"fix {path} by hand (it is plain TOML)"
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return DEFAULT, InvalidFileError(path, "is not UTF-8 text", hint)
    known = profileindex.lookup(text)
    if known is not None:
        try:
            return (parse(known[name]) if name in known else DEFAULT), None
        except UsageError:
            pass  # an index someone edited: parse the file itself
    try:
        from dsconfig import tomlread

        doc = tomlread.loads(path, text, hint=hint)
    except DsconfigError as err:
        return DEFAULT, err
    try:
        sources = document_sources(path, doc)
    except DsconfigError:
        sources = None  # one profile's key_source is invalid: no index; that profile's error is reported below
    if sources is not None:  # the rest of the file is not validated here: `env` will not trust this index
        profileindex.write(text, {n: str(s) for n, s in sources.items()})
    table = doc.get("profiles", {})
    item = table.get(name) if isinstance(table, dict) else None
    if not isinstance(item, dict) or "key_source" not in item:
        return DEFAULT, None
    try:
        return from_file_value(path, f"profiles.{name}", item["key_source"]), None
    except DsconfigError as err:
        return DEFAULT, err


def document_sources(path: Path | str, doc: Mapping[str, Any]) -> dict[str, KeySource]:
    """Every profile of a parsed profiles.toml whose key source is not the keyring -> that source.

    Raises InvalidFileError for a `key_source` that is not one (see `from_file_value`)."""
    table = doc.get("profiles", {})
    if not isinstance(table, dict):
        return {}
    found = {}
    for name, item in table.items():
        if isinstance(item, dict) and "key_source" in item:
            source = from_file_value(path, f"profiles.{name}", item["key_source"])
            if source != DEFAULT:
                found[name] = source
    return found


def profile_key(name: str) -> str:
    """`dsconfig key get NAME` through the profile's source. An `env:` profile imports nothing of keyring."""
    from dsconfig.names import validate_name

    validate_name(name)
    source, file_error = source_of(name)
    if file_error is None:
        return _get(name, source)
    # The file cannot be read: the keyring, as before sources existed; else the file's own error.
    from dsconfig.credentials import KeyringStore

    try:
        key = KeyringStore().get(name)
    except DsconfigError:
        key = None
    if not key:
        raise file_error
    return key


def _no_such_profile(name: str) -> bool:
    """True when profiles.toml is absent or lacks `name`; False when it has it or cannot be read (the caller's
    usual hint then applies). Only on the error path of `key get`, so its fast path parses no TOML."""
    from dsconfig import paths, saferead, tomlread

    path = paths.profiles_file()
    try:
        data = saferead.read_bytes(path)
        if data is None:
            return True
        doc = tomlread.loads(path, data.decode("utf-8").removeprefix("\ufeff"), hint="")
    except (DsconfigError, UnicodeDecodeError):
        return False
    table = doc.get("profiles", {})
    return isinstance(table, dict) and name not in table


def _get(name: str, source: KeySource) -> str:
    from dsconfig.errors import KeyringUnavailableError, NotFoundError

    def no_such_profile() -> NotFoundError:
        # `key set NAME` would fail too ("no profile named ..."): point at what exists and how to create it.
        return NotFoundError(f"no profile named {name!r}, so no key for it",
                             f"dsconfig profile list   (the profiles that exist), or create it: dsconfig setup --profile {name}")

    try:
        key = keysources.SourcedStore().get_from(name, source)
    except KeyringUnavailableError:
        if _no_such_profile(name):  # no keyring and no such profile: the profile is what is missing
            raise no_such_profile() from None
        raise
    if not key and _no_such_profile(name):
        raise no_such_profile()
    if not key:
        raise keysources.no_stored_key(name, source)
    return key
