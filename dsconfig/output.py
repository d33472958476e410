"""Rendering: data to stdout (text or one JSON document), messages to stderr. Stdlib only."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def emit_json(doc: Any, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    stream.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def note(message: str) -> None:
    """A message for the person, never for a pipe: stderr."""
    sys.stderr.write(message + "\n")


def warn(message: str) -> None:
    sys.stderr.write(_style("warning: ", "33") + message + "\n")


def _style(text: str, code: str) -> str:
    if os.environ.get("NO_COLOR") or not sys.stderr.isatty():
        return text
    return f"\033[{code}m{text}\033[0m"


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO | None = None) -> None:
    """A plain aligned table; the last column is never padded (no trailing spaces)."""
    stream = out or sys.stdout
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths)] + [str(row[-1])]
        stream.write("  ".join(cells).rstrip() + "\n")
