"""The key sources of profiles.toml, kept beside the journal so `key get` need not parse TOML.

`dsconfig key get NAME` (every Claude Code start) must learn the profile's key source from profiles.toml
(keysources.py says why). Parsing TOML costs tomllib plus typing, ~5 ms on every start; this index answers
instead when it was made from exactly the bytes profiles.toml holds now:

    state folder/key-sources.json   {"format": 1, "profiles_toml": <the file's text>, "sources": {NAME: SOURCE}}

`sources` lists every profile whose source is not the keyring. The index is trusted only when
`profiles_toml` equals the file's current text, character for character, so a hand edit, another tool's
write or a restored backup makes it stale, and stale means "parse the file" (which then writes a fresh
index). It is written by every profiles.toml change dsconfig makes and by `key get` after a parse, atomically,
0600 in the 0700 state folder; failing to write it only costs the next start a parse. It holds no secret:
profiles.toml holds none (a `command:` line is a command, not a key).
"""

from __future__ import annotations

import os

from dsconfig import dirs

TYPE_CHECKING = False  # not typing's: this module is on the `key get` path (type checkers take any name)
if TYPE_CHECKING:
    from collections.abc import Mapping

FORMAT = 1
FILE_NAME = "key-sources.json"
_MAX_BYTES = 4 * 1024 * 1024  # profiles.toml's text plus a line per profile; far below saferead's cap


def index_file(env: Mapping[str, str] | None = None) -> str:
    return os.path.join(dirs.state_dir_name(env), FILE_NAME)


def lookup(text: str, path: str | None = None) -> dict[str, str] | None:
    """The `sources` of the index when it was made from `text` (profiles.toml now), else None (parse the file).

    Never raises: an absent, unreadable, damaged or foreign index is simply not used."""
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
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("profiles_toml") != text:
        return None
    sources = doc.get("sources")
    if not isinstance(sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        return None
    return sources


def write(text: str, sources: Mapping[str, str], path: str | None = None) -> bool:
    """Record that profiles.toml with `text` gives `sources` (profile -> source, keyring ones left out).

    Best effort, never raises: True when written. Atomic (a temporary file, then rename), so a concurrent
    `key get` reads the old index or the new one, both of which name the text they describe."""
    import json

    target = path or index_file()
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        return False  # the state folder appears with the first change dsconfig makes; not worth creating here
    body = json.dumps({"format": FORMAT, "profiles_toml": text, "sources": dict(sources)}, ensure_ascii=False)
    temp = os.path.join(folder, f".{FILE_NAME}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        with os.fdopen(os.open(temp, flags, 0o600), "wb") as handle:
            owner = os.stat(folder)
            if os.name != "nt" and os.geteuid() == 0 and owner.st_uid != 0:
                # Root on a user's HOME (sudo keeping HOME) leaves the file to the folder's owner, as every
                # write of fileio.py does: the user must be able to replace their own index.
                os.fchown(handle.fileno(), owner.st_uid, owner.st_gid)
            handle.write(body.encode("utf-8"))
        os.replace(temp, target)
        return True
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass
        return False
