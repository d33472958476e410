"""Read a settings file the way Claude Code reads it, for reports only (status, detect, doctor, adoption).

Measured with the real CLI 2.1.332: a file that starts with a UTF-8 byte-order mark is read with the mark
skipped, and a key written twice takes its last value (JavaScript's JSON.parse). dsconfig's strict reader
(jsonfile.parse_json_object) refuses both, which is right for editing such a file: rewriting it would either
keep an invisible character or silently drop one of the two entries. But a report that says "default
(Anthropic)" while Claude Code sends the key in that file to another URL is wrong, so reports read the file
as Claude Code does and say what dsconfig would refuse to edit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsconfig import jsonfile
from dsconfig.errors import InvalidFileError


def parse_json_like_claude(path: Path, data: bytes, *, what: str = "settings file") -> tuple[dict[str, Any], list[str]]:
    """The document Claude Code sees in `data`, and what dsconfig's editor would refuse in it (with the fix).

    Anything Claude Code would reject too (invalid JSON, NaN, not an object) raises the strict reader's
    InvalidFileError, unchanged.
    """
    try:
        return jsonfile.parse_json_object(path, data, what=what), []
    except InvalidFileError:
        pass
    notes: list[str] = []
    text = data
    if text.startswith(jsonfile.BOM):
        text = text[len(jsonfile.BOM):]
        notes.append("starts with a UTF-8 byte-order mark (Claude Code skips it; dsconfig will not edit the file "
                     "until it is saved as UTF-8 without BOM)")
    try:
        doc = jsonfile.parse_json_object(path, text, what=what)
    except InvalidFileError as err:
        if "appears twice" not in err.problem:
            raise
        try:
            doc = _last_duplicate_wins(text)
        except (ValueError, RecursionError):
            raise err from None
        if not isinstance(doc, dict):
            raise err from None
        notes += [f"key {key!r} appears twice; Claude Code uses the last one (dsconfig will not edit the file "
                  "until one of the two entries is removed)" for key in _duplicates(text)]
    return doc, notes


def _last_duplicate_wins(text: bytes) -> Any:
    """Python's json keeps the last of duplicate keys, as JSON.parse does; NaN and Infinity stay refused."""
    return json.loads(text.decode("utf-8"), parse_constant=_refuse_constant)


def _refuse_constant(word: str) -> Any:
    raise ValueError(word)


def _duplicates(text: bytes) -> list[str]:
    """Keys written twice in the same object, each once, in the order their second entry appears."""
    found: list[str] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return dict(pairs)

    json.loads(text.decode("utf-8"), object_pairs_hook=hook)
    return found
