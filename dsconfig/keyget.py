"""`dsconfig key get NAME`: the command Claude Code and Claude Desktop run for the key, at every start.

It learns the profile's key source from profiles.toml itself rather than from its own command line, so the
apiKeyHelper `use` writes stays `dsconfig key get NAME` whatever the source, and `profile edit NAME
--key-source ...` takes effect without running `use` again. To keep that cheap, profiles.toml is read as bytes
and answered from profileindex.py while the index was made from the file's exact text; only otherwise is the
file loaded as every other command loads it (ProfileStore: parsed and validated whole), which writes the
index afresh. So `key get` agrees with `env`, `profile show` and the rest: a profile that is not in the file
has no key (exit 3), and a file they refuse (broken syntax, a newer schema_version, an unknown key) is refused
here too, with its line and column (exit 4), rather than answered from the keyring as if it named no source.

Stdlib only on the index path (plus dsconfig's own light modules): an `env:` profile must never import keyring.
"""

from __future__ import annotations

from dsconfig import keysources
from dsconfig.errors import DsconfigError, InvalidFileError, UsageError
from dsconfig.keysources import DEFAULT, KeySource, parse

TYPE_CHECKING = False  # not typing's: see the module docstring (type checkers take any such name as true)
if TYPE_CHECKING:
    from pathlib import Path


def profiles_now(path: Path | str | None = None) -> tuple[dict[str, str], list[str]]:
    """(key sources, profile names) of profiles.toml as it is now; ({}, []) when there is no file.

    `key sources` maps each profile whose source is not the keyring to it (`env:VAR`...). From the index when it
    was made from the file's exact text, else by loading the file as ProfileStore.load does, which then writes
    the index. Raises InvalidFileError (unreadable, not UTF-8, invalid TOML, a profile or value dsconfig refuses).
    """
    from dsconfig import dirs, profileindex, saferead

    path = path or dirs.profiles_file_name()
    data = saferead.read_bytes(path)
    if data is None:
        return {}, []
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InvalidFileError(path, "is not UTF-8 text", f"fix {path} by hand (it is plain TOML)") from None
    known = profileindex.profiles(text)
    if known is not None:
        sources, names = known
        try:
            for value in sources.values():
                parse(value)
            return sources, names
        except UsageError:
            pass  # an index someone edited: load the file itself
    from pathlib import Path

    from dsconfig.profiles import ProfileStore

    loaded = ProfileStore(Path(path)).loads(text)
    sources = loaded.key_sources()
    names = list(loaded.profiles)
    profileindex.write(text, sources, names, loaded.active)
    return sources, names


def source_of(name: str, profiles_file: Path | str | None = None) -> tuple[KeySource, DsconfigError | None]:
    """The source of profile `name` from profiles.toml, and the file's error when it could not be loaded.

    A missing file or profile means the keyring (a key stored before its profile exists, as setup does); a file
    that cannot be loaded gives the keyring and its error, for the caller to raise (SourcedStore does)."""
    try:
        sources, _names = profiles_now(profiles_file)
    except DsconfigError as err:
        return DEFAULT, err
    return (parse(sources[name]) if name in sources else DEFAULT), None


def profile_key(name: str) -> str:
    """`dsconfig key get NAME` through the profile's source. An `env:` profile imports nothing of keyring.

    Raises NotFoundError (no such profile, or no key stored: exit 3), InvalidFileError (profiles.toml refused:
    exit 4), KeySourceError or KeyringUnavailableError (the source cannot give the key: exit 5)."""
    from dsconfig.errors import NotFoundError
    from dsconfig.names import validate_name

    validate_name(name)
    sources, names = profiles_now()
    if name not in names:
        # `key set NAME` would fail too ("no profile named ..."): point at what exists and how to create it.
        raise NotFoundError(f"no profile named {name!r}, so no key for it",
                            f"dsconfig profile list   (the profiles that exist), or create it: dsconfig setup --profile {name}")
    source = parse(sources[name]) if name in sources else DEFAULT
    key = keysources.SourcedStore().get_from(name, source)
    if not key:
        raise keysources.no_stored_key(name, source)
    return key
