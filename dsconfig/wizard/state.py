"""What the setup dialogue knows so far (Draft: every answer, nothing written yet) and how a question is answered
(by its flag, by its default under --yes, else by the prompter). Shared by the dialogue's parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import actions
from dsconfig.errors import DsconfigError, UsageError
from dsconfig.keysources import KeySource
from dsconfig.profiles import Profile, Resolved, resolve
from dsconfig.targets.context import TargetContext
from dsconfig.templates import Template, load_templates
from dsconfig.wizard.adoption import Adoptable
from dsconfig.wizard.options import SetupOptions, Verifier
from dsconfig.wizard.prompters import Prompter
from dsconfig.wizard.questions import Question


@dataclass
class Draft:
    """Every answer so far. Nothing in here is written until the confirmation."""

    template: Template | None = None
    name: str = ""
    existing: Profile | None = None
    base_url: str | None = None  # override; None: the template's
    key: str | None = field(default=None, repr=False)
    key_kept: bool = False
    key_origin: str = "typed"  # typed, piped, stored, adopted, source (read from env:/command:)
    key_source: KeySource = field(default_factory=KeySource)
    key_problem: DsconfigError | None = None  # env:/command: could not give the key now (the test call is skipped)
    tested_models: dict[str, str] | None = None  # the models of the last test call (None: none ran yet)
    models: dict[str, str] = field(default_factory=dict)  # overrides of the template's
    env: dict[str, str] = field(default_factory=dict)
    adopt: Adoptable | None = None
    live_models: tuple[str, ...] = ()
    verified: str = "skipped"
    targets: tuple[str, ...] = ()
    scope: str = "user"

    def profile(self) -> Profile:
        assert self.template is not None
        return Profile(self.name, self.template.id, self.base_url, dict(self.models), dict(self.env), self.key_source)

    def resolved(self) -> Resolved:
        assert self.template is not None
        return resolve(self.profile(), self.template)


class WizardState:
    """The state every part of the dialogue shares; `Wizard` (dialogue.py) asks the questions."""

    def __init__(self, options: SetupOptions, prompter: Prompter, actx: actions.Context, tctx: TargetContext,
                 verifier: Verifier, root: Path | None) -> None:
        self.o, self.p, self.actx, self.tctx, self.verifier, self.root = options, prompter, actx, tctx, verifier, root
        found = load_templates()
        for err in found.errors:
            self.p.tell(f"warning: {err.message} (hint: {err.hint})")
        self.templates = found.templates
        self.profiles = actx.store.load()
        self.d = Draft()
        self.unchanged = False  # set by plan(): a re-run that would write nothing

    # -- answering ------------------------------------------------------------------------------------

    def answer(self, q: Question, given: Any = None) -> Any:
        """The flag's value, else the default under --yes, else the prompter's answer; validated.

        Raises: UsageError for a flag's value that fails the question's check, or (without a terminal) an
        answer that does; KeyboardInterrupt from the prompter (Ctrl-C)."""
        if given is not None:
            self._check(q, given)
            return given
        if self.o.yes and q.default is not None:
            return q.default
        while True:
            value = self.p.ask(q)
            problem = q.validate(value) if q.validate and value != q.default else None
            if problem is None:
                return value
            if not self.p.interactive:
                raise UsageError(problem, f"give {q.flag}")
            self.p.tell(f"  {problem}")

    def _check(self, q: Question, value: Any) -> None:
        problem = q.validate(value) if q.validate else None
        if problem is not None:
            raise UsageError(f"{q.flag.split()[0]}: {problem}", f"see `dsconfig setup --help` ({q.flag})")

    # Asked by the dialogue (dialogue.py); the test call's failure menu asks them again.
    def ask_key(self, *, again: bool = False) -> None:
        """Raises NotImplementedError: the dialogue implements it."""
        raise NotImplementedError

    def ask_models(self, *, force: bool = False) -> None:
        """Raises NotImplementedError: the dialogue implements it."""
        raise NotImplementedError

    def _read_source_key(self) -> None:
        raise NotImplementedError

    def _source_changed(self) -> bool:
        return self.d.existing is not None and self.d.existing.key_source != self.d.key_source
