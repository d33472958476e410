"""Shell startup files, known in one place (dsconfig/targets/shell_startup.py): `off`'s note and `doctor`'s
startup-files check see every form that exports a variable (bash/zsh `export` with several assignments, the
two-line `VAR=x` + `export VAR`, `declare -x` / `typeset -x`, fish `set -gx` / `set -x` / `set --export`,
PowerShell `$env:`) the same way; ZDOTDIR and XDG_CONFIG_HOME are honoured by both, and by the file `setup` names.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fakes.server import FakeDeepSeek
from hypothesis import given, settings
from hypothesis import strategies as st

from dsconfig.targets import shell_startup
from dsconfig.targets.shell_startup import StartupExport, StartupLoader

URL = "ANTHROPIC_BASE_URL"
KEY = "sk-test-startup-0001"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _exports(home: Path, environ: dict[str, str] | None = None, platform: str = "linux") -> list[tuple[str, int, str]]:
    return [(f.path.name, f.line, f.value) for f in shell_startup.startup_exports(URL, home, environ or {}, platform)]


# --- which lines export -------------------------------------------------------------------------------------


def test_several_assignments_on_one_export_line(home: Path) -> None:
    _write(home / ".bashrc", "export A=1 ANTHROPIC_BASE_URL=https://two.example B=2\n"
                             "declare -x C=3 ANTHROPIC_BASE_URL='https://declared.example'\n")
    assert _exports(home) == [(".bashrc", 1, "https://two.example"), (".bashrc", 2, "https://declared.example")]


@pytest.mark.parametrize("text", [
    "ANTHROPIC_BASE_URL=https://later.example\nPATH=$PATH:~/bin\nexport ANTHROPIC_BASE_URL\n",
    "export ANTHROPIC_BASE_URL\nANTHROPIC_BASE_URL=https://later.example\n",  # export first: later values exported too
    "ANTHROPIC_BASE_URL=https://later.example; export ANTHROPIC_BASE_URL\n",
    "typeset -x ANTHROPIC_BASE_URL\nANTHROPIC_BASE_URL='https://later.example'\n",
])
def test_the_two_line_form_exports_the_assigned_value(home: Path, text: str) -> None:
    _write(home / ".zshrc", text)
    found = shell_startup.startup_exports(URL, home, {}, "linux")
    assert [(f.value, f.syntax) for f in found] == [("https://later.example", "zsh")]
    assert text.splitlines()[found[0].line - 1].startswith(("ANTHROPIC_BASE_URL=", "ANTHROPIC_BASE_URL='"))


@pytest.mark.parametrize("text", [
    "ANTHROPIC_BASE_URL=https://plain.example\n",  # a shell variable, never exported
    "# export ANTHROPIC_BASE_URL=https://commented.example\n",
    "ANTHROPIC_BASE_URL=https://one-command.example claude\n",  # set for that command only
    "export -n ANTHROPIC_BASE_URL=https://unexported.example\n",
    "declare +x ANTHROPIC_BASE_URL=https://unexported.example\n",
    "export ANTHROPIC_BASE_URL_OLD=https://other-variable.example\n",
    "echo export ANTHROPIC_BASE_URL=https://echoed.example\n",
])
def test_lines_that_do_not_export_do_not_count(home: Path, text: str) -> None:
    _write(home / ".bashrc", text)
    assert _exports(home) == []


def test_fish_forms(home: Path) -> None:
    _write(home / ".config" / "fish" / "config.fish",
           "set -g ANTHROPIC_BASE_URL https://not-exported.example\n"
           "set -gu ANTHROPIC_BASE_URL https://unexported.example\n"
           "set -e ANTHROPIC_BASE_URL\n"  # (after an export, these two undo it: tests/test_startup_heuristics.py)
           "set -x ANTHROPIC_BASE_URL https://x.example\n"
           "set --export --global ANTHROPIC_BASE_URL 'https://it\\'s.example'\n")
    _write(home / ".config" / "fish" / "conf.d" / "ai.fish",
           "set -gx ANTHROPIC_BASE_URL\nset -g ANTHROPIC_BASE_URL https://kept-exported.example\n")
    assert _exports(home) == [("ai.fish", 2, "https://kept-exported.example"), ("config.fish", 4, "https://x.example"),
                              ("config.fish", 5, "https://it's.example")]


def test_fish_set_before_the_export_is_not_exported(home: Path) -> None:
    # fish: `set -gx VAR` without a value sets it empty; the earlier value is not what gets exported
    _write(home / ".config" / "fish" / "config.fish", "set -g ANTHROPIC_BASE_URL https://gone.example\nset -gx ANTHROPIC_BASE_URL\n")
    assert _exports(home) == []


def test_powershell_forms_per_platform(home: Path) -> None:
    text = "$env:ANTHROPIC_BASE_URL = 'https://it''s.example'\n" \
           '[Environment]::SetEnvironmentVariable("ANTHROPIC_BASE_URL", "https://user.example", "User")\n'
    _write(home / ".config" / "powershell" / "Microsoft.PowerShell_profile.ps1", text)
    _write(home / "Documents" / "PowerShell" / "profile.ps1", text)
    want = [(1, "https://it's.example"), (2, "https://user.example")]
    assert [(line, value) for name, line, value in _exports(home)] == want
    assert [(name, line) for name, line, _ in _exports(home, platform="win32")] == [("profile.ps1", 1), ("profile.ps1", 2)]


def test_values_the_shell_computes_have_no_literal(home: Path) -> None:
    _write(home / ".bashrc", 'export ANTHROPIC_BASE_URL="$GATEWAY/anthropic"\nexport ANTHROPIC_BASE_URL=$(pass show url)\n'
                             "export ANTHROPIC_BASE_URL='$not-expanded'\n")
    found = shell_startup.startup_exports(URL, home, {}, "linux")
    assert [(f.value, f.literal) for f in found] == [("$GATEWAY/anthropic", None), ("$(pass show url)", None),
                                                     ("$not-expanded", "$not-expanded")]


def test_zdotdir_and_xdg_config_home_are_honoured(home: Path) -> None:
    zdot, config = home / "zdot", home / "cfg"
    _write(home / ".zshrc", "export ANTHROPIC_BASE_URL=https://ignored.example\n")
    _write(zdot / ".zshenv", "export ANTHROPIC_BASE_URL=https://zdot.example\n")
    _write(config / "fish" / "config.fish", "set -gx ANTHROPIC_BASE_URL https://xdg.example\n")
    env = {"ZDOTDIR": str(zdot), "XDG_CONFIG_HOME": str(config)}
    assert _exports(home, env) == [(".zshenv", 1, "https://zdot.example"), ("config.fish", 1, "https://xdg.example")]
    assert shell_startup.startup_file_for("zsh", home, env, "linux") == "~/zdot/.zshrc"
    assert shell_startup.startup_file_for("zsh", home, {"ZDOTDIR": "/etc/zdot"}, "linux") == "/etc/zdot/.zshrc"
    assert shell_startup.startup_file_for("fish", home, env, "linux") == "~/cfg/fish/config.fish"
    assert shell_startup.startup_file_for("bash", home, {}, "linux") == "~/.bashrc"
    assert shell_startup.startup_file_for("bash", home, {}, "darwin") == "~/.bash_profile"
    assert shell_startup.startup_file_for("powershell", home, {}, "win32") == "$PROFILE"


def test_loader_lines_are_reported_with_their_shell(home: Path) -> None:
    _write(home / ".config" / "fish" / "config.fish", "dsconfig env ds --shell fish | source\n")
    found = shell_startup.scan_startup_files(lambda var: True, home, {}, "linux")
    assert found == [StartupLoader(home / ".config" / "fish" / "config.fish", 1, "fish",
                                   "dsconfig env ds --shell fish | source")]
    assert not any(isinstance(f, StartupExport) for f in found)


# --- off and doctor: the same lines ---------------------------------------------------------------------------

FILES = {
    ".bashrc": "export A=1 ANTHROPIC_BASE_URL=https://two.example\n",
    ".profile": "ANTHROPIC_BASE_URL=https://later.example\nexport ANTHROPIC_BASE_URL\n",
    ".bash_login": "ANTHROPIC_BASE_URL=https://never-exported.example\n",
    "zdot/.zshrc": "typeset -gx ANTHROPIC_BASE_URL=https://zsh.example\n",
    ".config/fish/config.fish": "set --export ANTHROPIC_BASE_URL https://fish.example\n",
    ".config/powershell/profile.ps1": "$env:ANTHROPIC_BASE_URL = 'https://pwsh.example'\n",
}
EXPECTED = {(".bashrc", 1), (".profile", 1), ("zdot/.zshrc", 1), (".config/fish/config.fish", 1),
            (".config/powershell/profile.ps1", 1)}


@pytest.mark.usefixtures("secret_service")
def test_off_and_doctor_name_the_same_startup_lines(run_dsconfig: Any, fake_deepseek: FakeDeepSeek, home: Path) -> None:
    fake_deepseek.keys = {KEY}
    added = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                         "--api-key-stdin", input=KEY)
    assert added.returncode == 0, added.stderr
    assert run_dsconfig("use", "ds").returncode == 0
    for name, text in FILES.items():
        _write(home / name, text)
    env = {"ZDOTDIR": str(home / "zdot")}
    off = run_dsconfig("off", env=env)
    assert off.returncode == 0, off.stderr
    named_by_off = set()
    for line in off.stderr.splitlines():
        if "exports ANTHROPIC_BASE_URL=" in line:
            path, _, number = line.removeprefix("warning: ").split(" exports ")[0].rpartition(" line ")
            named_by_off.add((Path(path).relative_to(home).as_posix(), int(number)))
    assert named_by_off == EXPECTED, off.stderr
    assert "https://later.example" in off.stderr and "https://two.example" in off.stderr
    doctor = run_dsconfig("doctor", "--json", "--no-verify", env=env)
    findings = json.loads(doctor.stdout)["findings"]
    named_by_doctor = set()
    for f in findings:
        if f["check"] == "startup-files" and f["where"]:
            path, _, number = f["where"].rpartition(":")
            named_by_doctor.add((Path(path).relative_to(home).as_posix(), int(number)))
    assert named_by_doctor == EXPECTED, findings


def test_the_startup_file_knowledge_stays_off_the_env_fast_path() -> None:
    # `dsconfig env` imports targets/shell.py on every shell start: the scanner and fileio load only when used
    import sys

    probe = ("import sys; from dsconfig.targets import shell; "
             "print(sorted(m for m in ('dsconfig.targets.shell_startup', 'dsconfig.fileio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "[]"


PIECES = ["export ", "declare -x ", "typeset -gx ", "set -gx ", "set -u ", "export -n ", "$env:", "A=1 ", URL, "=", " = ",
          "'", '"', "`", "$(", "(", ")", "#", ";", "&", "|", "\\", " ", "\t", "\n", "x", "$X", "dsconfig env"]


@given(st.lists(st.sampled_from(PIECES), max_size=24), st.sampled_from(["bash", "zsh", "fish", "powershell"]))
@settings(max_examples=300, deadline=None)
def test_any_text_scans_without_error_and_every_export_is_on_its_line(pieces: list[str], syntax: str) -> None:
    text = "".join(pieces)
    lines = text.splitlines()
    for found in shell_startup._scan(Path("/startup"), syntax, text, lambda var: True):
        assert 1 <= found.line <= len(lines)
        if isinstance(found, StartupExport):
            assert found.var in lines[found.line - 1] and not lines[found.line - 1].lstrip().startswith("#")
