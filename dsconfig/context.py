"""The one context of a command: built once at the edge (cli.py), passed down; each function takes what it needs.

`AppContext` holds what a command may touch outside its arguments (compare gh's cmdutil.Factory and IOStreams):

- the environment and the platform, read once, so every layer sees the same values (one `environ`: the
  profile and key layer and the targets can no longer disagree about it);
- the home folder and the current folder (looked up when first needed: a removed folder is an error only for
  commands that need it);
- where system-wide files are and how probes run (`root`, `system`: TargetContext's);
- the clock;
- the secret store and the profile store (actions_module.Context: keyring or kernel by each profile's key source);
- the standard streams and what the terminal can do (iostreams.IOStreams: isatty asked in one place);
- the prompter that answers setup's questions (tests give a scripted one);
- `notices`: where the domain layer leaves warnings and notes for the renderer.

`actions` and `targets` are the two views the layers below take (actions_module.Context, targets TargetContext), both
made from this one context. Tests build an AppContext with their own values, or wrap the views they already
have (`AppContext.of(actx, tctx)`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dsconfig.iostreams import IOStreams
from dsconfig.notices import Notice
from dsconfig.targets.system import System

if TYPE_CHECKING:
    from dsconfig import actions as actions_module
    from dsconfig.targets.context import TargetContext
    from dsconfig.wizard.prompters import Prompter


@dataclass
class AppContext:
    """Everything a command may use besides its arguments. Built once by cli.py (`AppContext()` reads the
    process's environment, platform, home and streams); tests give their own values."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    platform: str = sys.platform
    home: Path | None = None  # None: the user's home folder (Path.home())
    cwd: Path | None = None  # None: the current folder, looked up when first needed
    root: Path | None = None  # where Claude Code's system-wide files are (None: the real root)
    system: System = field(default_factory=System)  # Claude Desktop's probes and system root
    clock: Callable[[], float] = time.time
    io: IOStreams = field(default_factory=IOStreams)
    prompter: Prompter | None = None  # who answers setup's questions (None: the terminal's, or none without one)
    notices: list[Notice] = field(default_factory=list)
    given_actions: actions_module.Context | None = None  # set by `of()`: views a caller already built
    given_targets: TargetContext | None = None

    @classmethod
    def of(cls, actx: actions_module.Context | None = None, tctx: TargetContext | None = None) -> AppContext:
        """The context around views a caller built itself (tests, wizard.py): each made by default if None.
        Notices the actions view collects are this context's."""
        shared = actx.notices if actx is not None and actx.notices is not None else []
        return cls(notices=shared, given_actions=actx, given_targets=tctx)

    @cached_property
    def actions(self) -> actions_module.Context:
        """The profile store, the secret store and the environment, for dsconfig.actions."""
        from dsconfig.actions import Context

        if self.given_actions is not None:
            return self.given_actions
        return Context(environ=self.environ, notices=self.notices)

    @cached_property
    def targets(self) -> TargetContext:
        """Where targets look and write, for dsconfig.targets, switch, status and detect."""
        from dsconfig.targets.context import TargetContext, current_folder

        if self.given_targets is not None:
            return self.given_targets
        return TargetContext(home=self.home or Path.home(), platform=self.platform, environ=self.environ,
                             cwd=self.cwd or current_folder(), root=self.root, system=self.system)

    def actions_telling_at_once(self) -> actions_module.Context:
        """The actions view for a caller that shows notices as it goes (the setup dialogue, doctor, verify):
        notices rendered at once instead of left for the renderer."""
        from dataclasses import replace

        return replace(self.actions, notices=None)

    def take_notices(self) -> list[Notice]:
        """The notices left so far, in order; the list is emptied (the renderer shows each once)."""
        taken = list(self.notices)
        self.notices.clear()
        return taken
