"""Read TOML fast: the stdlib's tomllib (Python >= 3.11), or tomli, the same parser, on 3.10.

`dsconfig env` reads profiles and templates on every shell start; tomlkit costs tens of milliseconds to
import, tomllib almost nothing. Editing (which must keep the user's comments) always uses tomlkit.
"""

from __future__ import annotations

import re
import sys

from dsconfig import saferead
from dsconfig.errors import InvalidFileError

# On the `key get` and `env` paths: no typing at import. Type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

_AT = r"\(at line (\d+), column (\d+)\)"


def loads(path: Path | str, text: str, *, hint: str) -> dict[str, Any]:
    """Parse TOML `text` read from `path`; a syntax error names the file, line and column."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        return tomllib.loads(text)
    except RecursionError:
        raise InvalidFileError(path, "is nested too deeply to be read", hint) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        match = re.search(_AT, msg)
        line = int(match.group(1)) if match else None
        col = int(match.group(2)) if match else None
        problem = re.sub(_AT, "", msg).strip()
        raise InvalidFileError(path, f"is not valid TOML: {problem}", hint, line=line, column=col) from None


def read(path: Path, *, hint: str) -> dict[str, Any]:
    """Parse the TOML file at `path` through saferead. Raises InvalidFileError (exit 4) naming file, line and column."""
    data = saferead.read_bytes(path)  # refuses FIFOs, devices, link loops and huge files, never blocks
    if data is None:
        raise InvalidFileError(path, "does not exist", "create it, or check the path")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidFileError(path, "is not UTF-8 text", hint) from None
    return loads(path, text.removeprefix("\ufeff"), hint=hint)
