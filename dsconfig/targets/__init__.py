"""The programs dsconfig configures. Each target module plans changes (pure) and applies them (I/O).

Every target module (claude_code, claude_desktop) offers the same three functions, so `dsconfig use`,
`off`, `status` and `detect` treat them alike:

    plan_use(resolved, ctx, *, scope, inline_key) -> list[changes.FilePlan]
    plan_off(ctx, *, scope, force) -> list[changes.FilePlan]
    detect(ctx) -> dict            (JSON-ready, keys documented in the README)
"""

from __future__ import annotations

# `dsconfig env` imports dsconfig.targets.shell on every shell start, which runs this file: keep it free of
# imports. TargetContext (which pulls in the edit engine) loads on first use.


def __getattr__(name: str) -> object:
    if name == "TargetContext":
        from dsconfig.targets.context import TargetContext

        return TargetContext
    raise AttributeError(name)
