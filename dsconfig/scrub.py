"""Adoption scrub: once `dsconfig setup` has moved an inline API key into the keyring, dsconfig's own records
of the file forget it.

The journal's before-values and original member texts, and the backup of the file, would otherwise keep the
key in plain text, and `off` would write it back. Both are edited with the format-preserving splice: every
other member keeps its exact text.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from dsconfig import fileio, jsonfile, jsonsplice
from dsconfig.journal import Journal
from dsconfig.keypaths import ABSENT, KeyPath, NotAContainer, same, set_at


def forget_originals(path: Path, key_paths: Iterable[KeyPath], *, journal: Journal) -> None:
    """Make `key_paths` count as absent before dsconfig: in the journal, its original texts and the backup.

    Once the key is in the keyring, `off` must not write it back in plain text, and dsconfig's backup must not
    keep a copy. Under `path`'s lock; a file dsconfig has no record of is left alone.

    Raises:
        fileio.WriteError: the backup or the journal cannot be written, or the lock cannot be taken.
        DsconfigError: another dsconfig held `path`'s lock too long.
        InvalidFileError: the backup is not a readable regular file.
    """
    paths_set = set(key_paths)
    with fileio.locked(path):
        record = journal.get(path)
        if record is None:
            return
        for key in record.keys:
            if key.path in paths_set:
                key.before = ABSENT
        for kpath in paths_set:
            top = kpath[0]
            if not isinstance(top, str) or top not in record.raw:
                continue
            if len(kpath) == 1:
                del record.raw[top]
                continue
            key_text, value_text = record.raw[top]
            scrubbed = _without(value_text, [kpath[1:]])
            if scrubbed is None:
                del record.raw[top]
            else:
                record.raw[top] = (key_text, scrubbed)
        if record.backup is not None:
            backup_path = Path(record.backup)
            data = fileio.read_bytes(backup_path)
            if data is not None:
                cleaned = _without(data.decode("utf-8", "surrogatepass"), list(paths_set))
                if cleaned is not None:
                    encoded = cleaned.encode("utf-8", "surrogatepass")
                    fileio.atomic_write(backup_path, encoded, mode=0o600)
                    record.original_sha256 = fileio.sha256(encoded)
        journal.put(record)


def _without(text: str, key_paths: Sequence[KeyPath]) -> str | None:
    """The JSON object `text` without the members at `key_paths`, every other byte kept (None: not an object)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    new = copy.deepcopy(doc)
    for kpath in key_paths:
        try:
            set_at(new, kpath, ABSENT, [])
        except NotAContainer:
            continue
    if same(new, doc):
        return text
    style = jsonfile.JsonStyle.of(text.encode("utf-8", "surrogatepass"))
    try:
        return jsonsplice.splice(text, doc, new, indent=style.indent, ensure_ascii=True)
    except ValueError:
        return None
