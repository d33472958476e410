"""Who answers the questions: `QuestionaryPrompter` on a terminal (the only place in dsconfig that imports
questionary, lazily: it is slow to load), `NoTerminalPrompter` without one (it fails at once, naming the flag)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from dsconfig import iostreams, output
from dsconfig.errors import UsageError
from dsconfig.iostreams import IOStreams
from dsconfig.wizard.questions import Question


class Prompter(Protocol):
    """Asks one question and returns the answer (the question's default for a plain Enter)."""

    @property
    def interactive(self) -> bool: ...

    def ask(self, q: Question) -> Any: ...

    def tell(self, text: str) -> None: ...


class NoTerminalPrompter:
    """Without a terminal nothing can be asked: fail at once, naming the flag (never wait for input)."""

    interactive = False

    def ask(self, q: Question) -> Any:
        """Raises UsageError (exit 2) naming the flag that answers the question (no terminal to ask on)."""
        hint = f"give {q.flag}" + (", or --yes to accept the default" if q.default is not None else "")
        if q.id == "key":
            hint = 'pipe the key in: printf %s "$KEY" | dsconfig setup ... --api-key-stdin'
        elif q.id == "confirm":
            hint = "add --yes to write the changes without asking"
        raise UsageError(f"setup needs an answer to {q.message!r} and there is no terminal to ask on", hint)

    def tell(self, text: str) -> None:
        output.note(text)


class QuestionaryPrompter:
    """The terminal prompter. questionary (and prompt_toolkit) load only here, only when a question is asked.

    Prompts draw on stderr, like every other message: stdout stays for data. `unsafe_ask` lets Ctrl-C raise
    KeyboardInterrupt (questionary's `ask` would swallow it and return None).
    """

    interactive = True

    def __init__(self, stream: Any = None) -> None:
        self._stream = stream

    def _kwargs(self) -> dict[str, Any]:
        from prompt_toolkit.output import create_output

        return {"output": create_output(stdout=self._stream or sys.stderr)}

    def ask(self, q: Question) -> Any:
        import questionary

        kw = self._kwargs()
        if q.kind == "confirm":
            return questionary.confirm(q.message, default=bool(q.default), **kw).unsafe_ask()
        if q.kind == "select":
            choices = [questionary.Choice(c.label, value=c.value) for c in q.choices]
            return questionary.select(q.message, choices=choices, default=q.default, instruction=q.instruction,
                                      **kw).unsafe_ask()
        if q.kind == "checkbox":
            choices = [questionary.Choice(c.label, value=c.value, checked=c.checked) for c in q.choices]
            return tuple(questionary.checkbox(q.message, choices=choices, instruction=q.instruction, **kw).unsafe_ask())
        check = _questionary_validator(q.validate)
        if q.kind == "secret":
            answer = questionary.password(q.message, validate=check, **kw).unsafe_ask()
            return q.default if answer == "" and q.default is not None else answer
        return questionary.text(q.message, default=str(q.default or ""), validate=check, **kw).unsafe_ask()

    def tell(self, text: str) -> None:
        (self._stream or sys.stderr).write(text + "\n")


def _questionary_validator(check: Callable[[Any], str | None] | None) -> Callable[[str], bool | str]:
    def run(text: str) -> bool | str:
        if check is None or text == "":  # "" is "keep the default": checked by the wizard afterwards
            return True
        return check(text) or True

    return run


def default_prompter(*, stdin_used: bool, io: IOStreams | None = None) -> Prompter:
    """The terminal prompter when stdin and stderr are terminals (and stdin is not the piped key). `io`: the
    streams asked (default: the process's, looked up now)."""
    streams = io or iostreams.system()
    if not stdin_used and streams.can_prompt() and streams.stderr_is_terminal():
        return QuestionaryPrompter()
    return NoTerminalPrompter()
