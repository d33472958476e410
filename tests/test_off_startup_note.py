"""Issue 14 item 4: after `off`, a base URL another tool left exported is what Claude Code follows; `off` says
so, and where it is set: the file and line of each shell startup file (bash, zsh honouring ZDOTDIR, fish), or
this shell's environment. Through the installed command, with the real Secret Service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes.server import FakeDeepSeek

from dsconfig.targets import shell_startup

KEY = "sk-test-off-note-0001"
KIMI = "https://api.moonshot.ai/anthropic"

pytestmark = pytest.mark.usefixtures("secret_service")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def applied(run_dsconfig: Any, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.keys = {KEY}
    added = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                         "--api-key-stdin", input=KEY)
    assert added.returncode == 0, added.stderr
    used = run_dsconfig("use", "ds")
    assert used.returncode == 0, used.stderr


def test_off_names_each_startup_file_line_that_still_exports_the_base_url(applied: None, run_dsconfig: Any,
                                                                          home: Path) -> None:
    zdot = home / "zdot"
    bashrc = _write(home / ".bashrc", f"# export ANTHROPIC_BASE_URL={KIMI}\nexport ANTHROPIC_BASE_URL='{KIMI}'  # kimi\n")
    profile = _write(home / ".profile", "PATH=$HOME/bin:$PATH\nANTHROPIC_BASE_URL=https://not-exported.example\n")
    zshrc = _write(zdot / ".zshrc", 'export ANTHROPIC_BASE_URL="https://open.bigmodel.cn/api/anthropic"\n')
    ignored_zshrc = _write(home / ".zshrc", "export ANTHROPIC_BASE_URL=https://ignored.example\n")  # ZDOTDIR wins
    fish = _write(home / ".config" / "fish" / "config.fish",
                  "set -g ANTHROPIC_BASE_URL https://not-exported.example\nset -gx ANTHROPIC_BASE_URL https://fish.example\n")
    proc = run_dsconfig("off", env={"ZDOTDIR": str(zdot)})
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "exports ANTHROPIC_BASE_URL" in line]
    assert len(lines) == 3, proc.stderr
    assert f"warning: {bashrc} line 2 exports ANTHROPIC_BASE_URL={KIMI}: Claude Code started from a new shell now " \
           "follows that value" in lines[0]
    assert f"{zshrc} line 1 exports ANTHROPIC_BASE_URL=https://open.bigmodel.cn/api/anthropic" in lines[1]
    assert f"{fish} line 2 exports ANTHROPIC_BASE_URL=https://fish.example" in lines[2]
    assert str(ignored_zshrc) not in proc.stderr and str(profile) not in proc.stderr and KEY not in proc.stderr
    assert "is exported in this shell" not in proc.stderr


def test_off_names_the_base_url_exported_in_this_shell(applied: None, run_dsconfig: Any) -> None:
    proc = run_dsconfig("off", env={"ANTHROPIC_BASE_URL": KIMI})
    assert proc.returncode == 0, proc.stderr
    assert f"warning: ANTHROPIC_BASE_URL={KIMI} is exported in this shell: Claude Code started from it now follows " \
           "that value" in proc.stderr
    assert "unset ANTHROPIC_BASE_URL" in proc.stderr


def test_off_says_nothing_when_a_settings_file_still_sets_the_base_url(applied: None, run_dsconfig: Any, home: Path,
                                                                     tmp_path: Path) -> None:
    _write(home / ".bashrc", f"export ANTHROPIC_BASE_URL={KIMI}\n")
    proj = tmp_path / "proj"
    _write(proj / ".claude" / "settings.json", '{"env": {"ANTHROPIC_BASE_URL": "https://gateway.example"}}\n')
    proc = run_dsconfig("off", cwd=proj, env={"ANTHROPIC_BASE_URL": KIMI})
    assert proc.returncode == 0, proc.stderr
    assert "ANTHROPIC_BASE_URL" not in proc.stderr  # there Claude Code follows the project file, not the export


def test_off_with_nothing_exported_adds_no_note(applied: None, run_dsconfig: Any) -> None:
    proc = run_dsconfig("off")
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr


def test_startup_exports_reads_values_as_the_shell_would(home: Path) -> None:
    _write(home / ".bashrc", 'export ANTHROPIC_BASE_URL="$GATEWAY/anthropic"\ndeclare -x ANTHROPIC_BASE_URL=bare;\n'
           "typeset -gx ANTHROPIC_BASE_URL='quoted value' # note\n")
    _write(home / ".config" / "fish" / "conf.d" / "ai.fish", "set --export --global ANTHROPIC_BASE_URL https://a.example\n")
    found = shell_startup.startup_exports("ANTHROPIC_BASE_URL", home, {})
    assert [(f.path.name, f.line, f.value) for f in found] == [
        (".bashrc", 1, "$GATEWAY/anthropic"), (".bashrc", 2, "bare"), (".bashrc", 3, "quoted value"),
        ("ai.fish", 1, "https://a.example")]
