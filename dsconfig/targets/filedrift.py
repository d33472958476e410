"""File drift: what changed in a file since dsconfig wrote it, from the journal's record of every key it set.
`status` and `doctor` report it per target; values of key members are masked."""

from __future__ import annotations

from typing import Any, TypedDict

from dsconfig import fileio, jsonfile
from dsconfig.credentials import mask
from dsconfig.errors import InvalidFileError
from dsconfig.journal import SECRET_NAMES, FileRecord, Hashed
from dsconfig.keypaths import ABSENT, get_at, path_text


class DriftJSON(TypedDict):
    """One drifted key (`key` None for the whole file). change: changed | removed | added | file-removed |
    file-changed."""

    key: str | None
    wrote: Any
    now: Any
    change: str



def _shown(name: str, value: Any) -> Any:
    """A value for display: absent as null, a secret masked (a hashed one has nothing to show)."""
    if value is ABSENT:
        return None
    if isinstance(value, Hashed):
        return "(a key, stored as a hash)"
    if isinstance(value, str) and value and name in SECRET_NAMES:
        return mask(value)
    return value


def _drift_entry(key: str | None, wrote: Any, now: Any, change: str) -> DriftJSON:
    name = key.rsplit(".", 1)[-1] if key else ""
    return {"key": key, "wrote": _shown(name, wrote), "now": _shown(name, now), "change": change}


def file_drift(record: FileRecord) -> list[DriftJSON]:
    """What changed in a file since dsconfig wrote it: every key it set whose value is no longer what it wrote."""
    try:
        data = fileio.read_bytes(record.path)
    except InvalidFileError as err:
        return [_drift_entry(None, None, None, "file-changed") | {"now": err.message}]
    if data is None:
        return [_drift_entry(None, None, None, "file-removed")] if record.written_sha256 is not None else []
    if record.written_sha256 is not None and fileio.sha256(data) == record.written_sha256:
        return []
    if record.kind == "whole":
        return [_drift_entry(None, None, None, "file-changed")]
    try:
        doc = jsonfile.parse_json_object(record.path, data)
    except InvalidFileError as err:
        return [_drift_entry(None, None, err.message, "file-changed")]
    out = []
    for key in record.keys:
        now = get_at(doc, key.path)
        if key.wrote == now:  # Hashed on the left: it compares a hash with the plain value
            continue
        change = "removed" if now is ABSENT else ("added" if key.wrote is ABSENT else "changed")
        out.append(_drift_entry(path_text(key.path), key.wrote, now, change))
    return out

