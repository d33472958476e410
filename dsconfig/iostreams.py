"""The process's standard streams and what the terminal can do: asked here, in one place.

Whether stdin is a terminal (can a key be typed at a hidden prompt?), whether stderr is one (colour, spinners),
and whether colour is wanted at all (`NO_COLOR`). Stdlib only: the fast paths (`key get`, `env`) may load it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # a closed or replaced stream is no terminal
        return False


@dataclass(frozen=True)
class IOStreams:
    """stdin, stdout and stderr, and the questions about them. Tests pass StringIO streams."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def can_prompt(self) -> bool:
        """A person can answer on stdin (a hidden key prompt, setup's questions)."""
        return _is_terminal(self.stdin)

    def stderr_is_terminal(self) -> bool:
        return _is_terminal(self.stderr)

    def color(self, environ: Mapping[str, str] | None = None) -> bool:
        """Colour on stderr: a terminal, and `NO_COLOR` not set (https://no-color.org)."""
        env = os.environ if environ is None else environ
        return not env.get("NO_COLOR") and self.stderr_is_terminal()


def system() -> IOStreams:
    """The process's streams as they are now (tests and click swap sys.stdout/sys.stderr: looked up per call)."""
    return IOStreams(sys.stdin, sys.stdout, sys.stderr)
