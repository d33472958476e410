"""What every doctor check looks at (`Machine`), read once per run by `look`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import actions
from dsconfig.errors import DsconfigError
from dsconfig.profiles import Resolved
from dsconfig.targets.context import TargetContext


@dataclass
class Machine:
    """What every check looks at, read once."""

    actx: actions.Context
    tctx: TargetContext
    root: Path | None
    system: Any
    layers: list[Any] = field(default_factory=list)
    effective: dict[str, Any] = field(default_factory=dict)
    active: str | None = None
    resolved: Resolved | None = None
    key: str | None = None
    key_error: DsconfigError | None = None  # why the active profile's key could not be read (env:, command: ...)
    profiles_error: DsconfigError | None = None
    profile_names: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        """Whether dsconfig has switched Claude Code (any scope) to a profile."""
        return bool(self.tctx.journal.owned_by(target="claude-code", applied_only=True))

    def unset(self, var: str) -> str:
        """The command that drops `var` in the shell doctor runs from (fish `set -e VAR`: fish has no `unset`)."""
        from dsconfig.targets import shell

        return shell.unset_command(var, shell.user_shell(self.tctx.environ, self.tctx.platform))

    def layer_setting(self, var: str) -> Any:
        """The first settings layer (the one Claude Code follows) that sets `var`, or None."""
        return next((layer for layer in self.layers if var in layer.env), None)


def look(actx: actions.Context, tctx: TargetContext, root: Path | None, system: Any) -> Machine:
    """Read what the checks look at. Profile and key problems are kept for check_profile / check_keyring."""
    from dsconfig.targets import claude_code

    m = Machine(actx, tctx, root, system)
    m.layers = claude_code.settings_layers(tctx, root=root)
    m.effective = claude_code.effective(m.layers, tctx.environ, tctx.home)
    try:
        found = actx.store.load()
    except DsconfigError as err:
        m.profiles_error = err
        return m
    m.profile_names = tuple(found.profiles)
    m.active = found.active if found.active in found.profiles else None
    if m.active is not None:
        try:
            m.resolved = actions.resolved_profile(m.active, actx)
            m.key = actx.secrets.get(m.active)
        except DsconfigError as err:
            m.key_error = err if m.resolved is not None else None  # check_profile / check_keyring report it
    return m
