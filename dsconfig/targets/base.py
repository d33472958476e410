"""The interface every configured program (a target) implements, and the values it returns.

`use`, `off`, `status`, `detect` and `exec` treat every target alike through `Target`; a target is a module
holding one object that satisfies it, registered by one line in dsconfig.targets (`REGISTRY`). Planning returns
data (`Planned`: the file plans and the notices for the person); nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dsconfig.notices import Notice

if TYPE_CHECKING:
    from dsconfig.changes import FilePlan
    from dsconfig.profiles import Resolved
    from dsconfig.targets.context import TargetContext


@dataclass(frozen=True)
class Planned:
    """What a target's `plan_use` / `plan_off` returns: the file plans, and what the person must be told."""

    files: list[FilePlan]
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True)
class RunOverrides:
    """What one run of the program needs so a profile wins for that run (`dsconfig exec NAME -- claude`)."""

    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    notices: tuple[Notice, ...] = ()


class Target(Protocol):
    """One program dsconfig configures. `ctx` says where to look (home, platform, environment, journal, the
    root of system-wide files and how probes run: TargetContext)."""

    @property
    def id(self) -> str:
        """The `--target` value: `claude-code`, `claude-desktop`."""

    @property
    def label(self) -> str:
        """The name people know: `Claude Code`."""

    @property
    def scopes(self) -> tuple[str, ...]:
        """The `--scope` values it has (`user`, `project`)."""

    def detect(self, ctx: TargetContext) -> Mapping[str, Any]:
        """What `dsconfig detect` reports about it (JSON-ready; never fatal for a broken install or file)."""

    def present(self, ctx: TargetContext) -> bool:
        """Whether it is on this machine (`--target all` skips it otherwise)."""

    def check_supported(self, resolved: Resolved) -> None:
        """Refuse a profile it cannot use.

        Raises: DsconfigError naming the reason and the fix."""

    def plan_use(self, resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: str | None) -> Planned:
        """Plan switching it to `resolved` (every file it will write read and validated; nothing written).

        Raises: DsconfigError (a malformed or read-only file, a managed configuration that would win)."""

    def plan_off(self, ctx: TargetContext, *, scope: str, force: bool) -> Planned:
        """Plan undoing what `use` did for `scope`.

        Raises: DsconfigError (a malformed or read-only file)."""

    def file_modes(self, ctx: TargetContext, profile: str, *, scope: str, inline_key: bool) -> dict[Path, int]:
        """Modes the files `use` writes need beyond the engine's default (a helper script: 0700)."""

    def use_warnings(self, resolved: Resolved, ctx: TargetContext, *, scope: str, inline_key: bool) -> list[Notice]:
        """What would still keep it from using the profile after `use` (settings above, exported variables)."""

    def off_warnings(self, ctx: TargetContext) -> list[Notice]:
        """What still routes it elsewhere after a successful `off` (a variable a startup file exports)."""

    def status(self, ctx: TargetContext) -> Mapping[str, Any] | None:
        """What `dsconfig status` reports for it (JSON-ready: a TypedDict of the target's package)."""

    def run_overrides(self, resolved: Resolved, ctx: TargetContext) -> RunOverrides:
        """Extra argv and environment so `resolved` wins for one run; empty when it has no per-run form."""


def notices_of(plans: Sequence[FilePlan]) -> list[Notice]:
    """The engine's notes on plans (a value the user changed kept, a member replaced), as warnings."""
    return [Notice("warning", text) for plan in plans for text in plan.notes]
