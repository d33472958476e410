"""Warnings and notes as data: what planning and switching want the person to know, printed by one renderer.

The domain layer (targets, switch, actions) returns `Notice` values beside its results; only the command layer
prints them, through `output.render_notices` (a warning as `warning: TEXT`, a note as `TEXT`, both on stderr).
Stdlib only: `dsconfig env` and `key get` may import it on their fast paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["warning", "note"]


@dataclass(frozen=True)
class Notice:
    """One message for the person: a `warning` (something may not work as asked) or a `note` (information)."""

    kind: Kind
    text: str


def warning(text: str) -> Notice:
    return Notice("warning", text)


def note(text: str) -> Notice:
    return Notice("note", text)


def warnings(texts: Iterable[str]) -> list[Notice]:
    return [Notice("warning", t) for t in texts]


def notes(texts: Iterable[str]) -> list[Notice]:
    return [Notice("note", t) for t in texts]


def texts(found: Iterable[Notice], kind: Kind) -> tuple[str, ...]:
    """The texts of the notices of one kind, in order (SwitchResult's `warnings` and `notes`)."""
    return tuple(n.text for n in found if n.kind == kind)
