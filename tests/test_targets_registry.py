"""The target interface and its registry; warnings as data; the one context (issue #15 items 1-3).

- every registered target satisfies targets.base.Target (mypy checks the assignments below) and the registry
  is the only list of target ids the commands use;
- `switch.run_use` / `run_off`, the targets' planning and actions given a notices list write nothing to stderr:
  what the person must be told comes back as data, and output.render_notices prints it in order;
- one AppContext gives the actions and the targets the same environment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dsconfig import actions, output, switch, targets, vocab
from dsconfig.context import AppContext
from dsconfig.journal import Journal
from dsconfig.notices import Notice, note, warning
from dsconfig.profiles import ProfileStore
from dsconfig.targets.base import Target
from dsconfig.targets.claude_code import CLAUDE_CODE
from dsconfig.targets.claude_desktop import CLAUDE_DESKTOP
from dsconfig.targets.context import TargetContext
from dsconfig.targets.system import System

STATIC_CHECK: tuple[Target, ...] = (CLAUDE_CODE, CLAUDE_DESKTOP)  # mypy: both implement the Protocol
FAKE_DSCONFIG = ("/opt/dsconfig/bin/dsconfig",)


def test_the_registry_lists_every_target_once_in_order() -> None:
    assert targets.ids() == (vocab.TARGET_CLAUDE_CODE, vocab.TARGET_CLAUDE_DESKTOP)
    assert [t.id for t in targets.all_targets()] == list(targets.ids())
    assert targets.all_targets() == STATIC_CHECK
    assert targets.find("shell") is None and targets.find("nope") is None
    with pytest.raises(Exception, match="unknown target 'nope'"):
        targets.get("nope")


def test_importing_the_registry_loads_no_target() -> None:
    """`dsconfig env` runs dsconfig/targets/__init__.py at every shell start: it must stay import-free."""
    code = ("import sys, dsconfig.targets as t; t.ids(); "
            "print(sorted(m for m in sys.modules if m.startswith(('dsconfig.targets.', 'typing'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _machine(tmp_path: Path, home: Path, keyring: Any) -> AppContext:
    proj = tmp_path / "proj"
    proj.mkdir()
    environ = {"HOME": str(home)}
    empty = tmp_path / "no-root"
    empty.mkdir()
    tctx = TargetContext(home=home, platform="linux", environ=environ, cwd=proj, journal=Journal(),
                         dsconfig_command=FAKE_DSCONFIG, root=empty,
                         system=System(root=empty, run=lambda argv: None, registry=list))
    return AppContext.of(actions.Context(store=ProfileStore(), secrets=keyring, environ=environ, notices=[]), tctx)


def test_switching_prints_nothing_and_returns_its_warnings(tmp_path: Path, home: Path, memory_keyring: Any,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    app = _machine(tmp_path, home, memory_keyring)
    actions.profile_add("ds", "deepseek", ctx=app.actions)  # no key stored: `use` must warn
    result = switch.run_use(switch.UseRequest("ds", target="all"), app)
    assert capsys.readouterr().err == ""
    assert result.targets == ("claude-code",)
    assert [n.kind for n in result.notices] == ["warning", "note"]
    assert "no API key stored for profile 'ds'" in result.notices[0].text
    assert result.notices[1] == note("Claude Desktop skipped: not found on this machine")
    assert result.warnings == (result.notices[0].text,) and result.notes == (result.notices[1].text,)
    off = switch.run_off(switch.OffRequest(target="all", scope="project"), app)
    assert capsys.readouterr().err == ""
    assert off.notes == ("Claude Desktop skipped: it has no project scope",
                         "nothing to undo: dsconfig has not changed claude-code at project scope")


def test_the_renderer_prints_notices_in_order(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    said: list[Notice] = [warning("first"), note("second"), warning("third")]
    output.render_notices(said)
    assert capsys.readouterr().err == "warning: first\nsecond\nwarning: third\n"


def test_actions_leave_notices_for_the_caller(tmp_path: Path, home: Path, memory_keyring: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    app = _machine(tmp_path, home, memory_keyring)
    actions.profile_add("ds", "deepseek", key="not-a-deepseek-key-at-all", ctx=app.actions)
    assert capsys.readouterr().err == ""
    assert [n.kind for n in app.take_notices()] == ["warning"] and app.notices == []


def test_one_context_one_environment(tmp_path: Path, home: Path) -> None:
    app = AppContext(environ={"HOME": str(home), "X": "1"}, platform="linux", home=home, cwd=tmp_path)
    assert app.actions.environ is app.environ and app.targets.environ is app.environ
    assert app.targets.home == home and app.targets.cwd == tmp_path and app.targets.platform == "linux"
    assert app.actions.notices is app.notices


def test_what_planning_found_is_shown_before_the_error(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails after planning: the planning's warnings (a running app) still reach the person,
    rendered by cli.main before the error, in that order."""
    from dsconfig import cli
    from dsconfig.errors import DsconfigError

    def failing(request: switch.UseRequest, ctx: AppContext | None = None) -> switch.SwitchResult:
        err = DsconfigError("disk full: nothing was changed", "free some space")
        err.notices = (warning("Claude Desktop is running"),)
        raise err

    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(switch, "run_use", failing)
    assert cli.main(["use", "ds"]) == 1
    assert capsys.readouterr().err == ("warning: Claude Desktop is running\n"
                                       "error: disk full: nothing was changed\nhint: free some space\n")


def test_a_failed_switch_carries_what_planning_found(tmp_path: Path, home: Path, memory_keyring: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from dsconfig import apply
    from dsconfig.errors import DsconfigError

    app = _machine(tmp_path, home, memory_keyring)
    process = app.targets.system.root / "proc" / "7"
    process.mkdir(parents=True)
    (process / "cmdline").write_bytes(b"/opt/claude-desktop/claude-desktop\0")
    actions.profile_add("ds", "deepseek", key="sk-" + "a" * 32, ctx=app.actions)

    def full_disk(*_args: Any, **_kw: Any) -> list[Any]:
        raise DsconfigError("no space left on the device: nothing was changed")

    monkeypatch.setattr(apply, "apply_all", full_disk)
    with pytest.raises(DsconfigError) as caught:
        switch.run_use(switch.UseRequest("ds", target="claude-desktop"), app)
    assert [n.text.split(":")[0] for n in caught.value.notices] == ["Claude Desktop is running"]
