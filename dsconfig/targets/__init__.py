"""The programs dsconfig configures, and the one place they are registered.

Every target implements targets.base.Target (detect, plan use, plan off, status, use warnings, run overrides)
and lives in its own module or package; `REGISTRY` names it once, so `use`, `off`, `status`, `detect`, `exec`
and `setup` treat every target alike. Adding a target is one module plus one line here.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's (this file runs at every `dsconfig env`); type checkers take any such name
if TYPE_CHECKING:
    from dsconfig.targets.base import Target

# `dsconfig env` imports dsconfig.targets.shell on every shell start, which runs this file: keep it free of
# imports. Each target module loads on first use (Claude Desktop's is heavy), TargetContext too.

REGISTRY: tuple[tuple[str, str], ...] = (
    ("claude-code", "dsconfig.targets.claude_code:CLAUDE_CODE"),
    ("claude-desktop", "dsconfig.targets.claude_desktop:CLAUDE_DESKTOP"),
)
"""(target id, "module:object") in the order commands visit them: Claude Code first."""


def ids() -> tuple[str, ...]:
    """Every registered target id, in order."""
    return tuple(target_id for target_id, _ in REGISTRY)


def find(target_id: str) -> Target | None:
    """The registered target `target_id`, loaded on first use; None when there is none by that id."""
    where = dict(REGISTRY).get(target_id)
    if where is None:
        return None
    import importlib

    module_name, _, name = where.partition(":")
    found: Target = getattr(importlib.import_module(module_name), name)
    return found


def get(target_id: str) -> Target:
    """The registered target `target_id`.

    Raises: UsageError naming the registered ids when there is none by that id."""
    found = find(target_id)
    if found is None:
        from dsconfig.errors import UsageError

        raise UsageError(f"unknown target {target_id!r}", f"use --target {' | '.join(ids())}")
    return found


def all_targets() -> tuple[Target, ...]:
    """Every registered target, in order."""
    return tuple(get(target_id) for target_id in ids())


def __getattr__(name: str) -> object:
    if name == "TargetContext":
        from dsconfig.targets.context import TargetContext

        return TargetContext
    raise AttributeError(name)
