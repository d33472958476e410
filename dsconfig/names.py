"""Profile names: checked before they reach a file name, a keyring entry or a shell command. Stdlib only."""

from __future__ import annotations

import re

from dsconfig.errors import UsageError

MAX_NAME = 64
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def validate_name(name: str) -> str:
    """`name` when it can be a profile name (letters, digits, `-`, `_`, `.`, at most 64). Raises UsageError (exit 2) otherwise."""
    if not name:
        raise UsageError("a profile name cannot be empty", "use letters, digits, '-', '_' and '.', e.g. ds")
    if len(name) > MAX_NAME:
        raise UsageError(f"profile name is {len(name)} characters long; the limit is {MAX_NAME}", "choose a shorter name")
    if not _NAME.fullmatch(name) or ".." in name:
        raise UsageError(
            f"invalid profile name {name!r}",
            "use letters, digits, '-', '_' and '.', starting with a letter or digit, with no '..' (e.g. ds, deepseek-work)",
        )
    return name
