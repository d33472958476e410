"""Issue #15 item 6: whether a stream is a terminal is asked in one place, dsconfig/iostreams.py: setup's default
prompter and verify's spinner ask it through IOStreams, and no other module calls isatty()."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from dsconfig.iostreams import IOStreams
from dsconfig.verify.render import spinner
from dsconfig.wizard.prompters import NoTerminalPrompter, QuestionaryPrompter, default_prompter

PACKAGE = Path(__file__).resolve().parent.parent / "dsconfig"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_only_iostreams_asks_isatty() -> None:
    callers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if p.name != "iostreams.py" and re.search(r"\.isatty\(", p.read_text(encoding="utf-8")))
    assert callers == []


@pytest.mark.parametrize(("stdin", "stderr", "stdin_used", "expected"), [
    (True, True, False, QuestionaryPrompter),
    (True, True, True, NoTerminalPrompter),  # stdin is the piped key
    (False, True, False, NoTerminalPrompter),
    (True, False, False, NoTerminalPrompter),
])
def test_default_prompter_asks_the_streams(stdin: bool, stderr: bool, stdin_used: bool, expected: type) -> None:
    streams = IOStreams(stdin=Terminal() if stdin else io.StringIO(), stderr=Terminal() if stderr else io.StringIO())
    assert isinstance(default_prompter(stdin_used=stdin_used, io=streams), expected)


def test_default_prompter_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert isinstance(default_prompter(stdin_used=False), NoTerminalPrompter)


def test_spinner_draws_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    with spinner("checking", quiet):
        pass
    assert quiet.getvalue() == ""
    drawn = Terminal()
    with spinner("checking", drawn):
        pass
    assert "checking" in drawn.getvalue()
