"""dsconfig.targets.shell: rendered statements survive real bash, zsh, sh and fish byte for byte and
never run anything; exact PowerShell and cmd output (pwsh and cmd.exe are not available here).

A missing shell skips locally with the reason, and FAILS when $CI is set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsconfig.errors import EXIT_USAGE, UsageError
from dsconfig.targets.shell import SHELLS, UnsafeValueError, detect_shell, render_set, render_unset

# The conftest `_isolate` fixture is function-scoped and autouse; it holds no per-example state
# these tests rely on, so running many examples under one instance of it is fine.
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CANARY_PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# sh is dash on Debian: it checks that the POSIX syntax detect_shell hands to sh/dash/ksh works there too.
REAL_SHELLS = ("bash", "zsh", "sh", "fish")

# How each real shell is told to evaluate our output from stdin, the way users run it, then dump its
# environment NUL-separated: `env -0` proves the variables are exported, not just shell variables.
EVAL_COMMAND = {
    "bash": ["--norc", "--noprofile", "-c", 'eval "$(cat)"; env -0'],
    "zsh": ["-f", "-c", 'eval "$(cat)"; env -0'],
    "sh": ["-c", 'eval "$(cat)"; env -0'],
    "fish": ["--no-config", "-c", "source; env -0"],
}
RENDER_AS = {"bash": "bash", "zsh": "zsh", "sh": "bash", "fish": "fish"}

PREFIX = "DSQ_"

# Characters and fragments with a meaning to some shell, mixed into the generated values.
DANGEROUS = [
    "'", '"', "$", "`", ";", "%", "!", " ", "\t", "\n", "\r", "\r\n", "\\", "\\'", "'\\''", "\\\\", "''",
    "$(", ")", "(", "{", "}", "[", "]", "*", "?", "~", "#", "&", "|", "<", ">", "^", "=", ",", "@",
    "$HOME", "${HOME}", "$1", "$@", "$argv", "$(echo x)", "`echo x`", "(echo x)", "{a,b}", "!!", "!$", "!-1",
    "\\n", "\\t", "\\x41", "\\u0041", "%PATH%", "!PATH!", "^&", "--", "-e", "-gx", "--erase",
    "é", "Ē", "日本", "😀", "\u2018", "\u2019", "\u201a", "\u201b", "\u201c", "\u201d", "\u201e", "\uff02",
    "\u00a0", "\u0085", "\u2028", "\u2029", "\x1b[31m", "\x7f", "\x01", "\x1a", "\x0b", "\x0c",
    # fish encodes undecodable bytes and its own wildcards in these private/noncharacter code points.
    "\uf600", "\uf622", "\uf6ff", "\ufdd0", "\ufdd7", "\ufffd", "\ufeff", "\U0010ffff",
]
# Everything but NUL (no environment variable can hold it) and lone surrogates (not text).
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=12)
VALUES = st.lists(st.one_of(st.sampled_from(DANGEROUS), ANY_TEXT), max_size=8).map("".join)
# st.text over an explicit alphabet: several times faster to generate than st.from_regex.
NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
NAMES = st.text(NAME_CHARS, min_size=1, max_size=12).map(lambda suffix: PREFIX + suffix)
VARIABLES = st.dictionaries(NAMES, VALUES, min_size=1, max_size=8)

CANARIES = [
    "$(touch CANARY)", "`touch CANARY`", "'; touch CANARY; '", '"; touch CANARY; #', "(touch CANARY)",
    "'\ntouch CANARY\n'", "\ntouch CANARY\n", "\\'; touch CANARY; #", "'\\''; touch CANARY; '",
    "\\\\'; touch CANARY; #", "$(touch${IFS}CANARY)", "'$(touch CANARY)'", "\\\ntouch CANARY", "; touch CANARY",
    "&& touch CANARY", "| touch CANARY", "\\'(touch CANARY)\\'", "'; touch CANARY #", "\\'; touch CANARY \\'",
    "\u2019; touch CANARY; #", "'\\'(touch CANARY)'", "\r\ntouch CANARY\r\n", "$(touch CANARY)'\"`touch CANARY`",
]


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not installed (apt-get install --no-install-recommends {program})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must have it")
        pytest.skip(f"{message}; set CI=1 to make this a failure")
    return path


class RealShell:
    def __init__(self, name: str, executable: str, home: Path, arguments: list[str] | None = None) -> None:
        self.name = name
        self.executable = executable
        self.arguments = EVAL_COMMAND[name] if arguments is None else arguments
        self.render_as = RENDER_AS[name]
        self.home = home

    def evaluate(self, script: str, cwd: Path, inherited: dict[str, str] | None = None) -> dict[bytes, bytes]:
        """Evaluate `script` as a user would; return this shell's exported DSQ_* variables as bytes."""
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            **(inherited or {}),
        }
        proc = subprocess.run([self.executable, *self.arguments], input=script.encode(), cwd=cwd, env=env,
                              capture_output=True, timeout=30, check=False)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        assert proc.stderr == b"", proc.stderr.decode(errors="replace")
        exported = {}
        for entry in proc.stdout.split(b"\0")[:-1]:
            name, _, value = entry.partition(b"=")
            if name.startswith(PREFIX.encode()):
                exported[name] = value
        return exported


@pytest.fixture(scope="module", params=REAL_SHELLS)
def real_shell(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RealShell:
    name: str = request.param
    return RealShell(name, _require(name), tmp_path_factory.mktemp(f"{name}-home"))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty folder for the shells to run in, shared by all examples of one test: a stray file fails it."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _as_bytes(variables: dict[str, str]) -> dict[bytes, bytes]:
    return {name.encode(): value.encode() for name, value in variables.items()}


# --- real shells ---------------------------------------------------------------------------------------


@PROPERTY
@given(variables=VARIABLES)
def test_values_survive_the_real_shell_byte_for_byte(real_shell: RealShell, workdir: Path,
                                                     variables: dict[str, str]) -> None:
    script = render_set(variables, real_shell.render_as)
    assert real_shell.evaluate(script, workdir) == _as_bytes(variables)
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("canary", CANARIES)
def test_canary_is_never_run(real_shell: RealShell, tmp_path: Path, canary: str) -> None:
    variables = {"DSQ_CANARY": canary, "DSQ_CANARY_WRAPPED": f"x{canary}x{canary}"}
    assert real_shell.evaluate(render_set(variables, real_shell.render_as), tmp_path) == _as_bytes(variables)
    assert not (tmp_path / "CANARY").exists()


@CANARY_PROPERTY
@given(variables=st.dictionaries(
    NAMES, st.lists(st.one_of(st.sampled_from(CANARIES), st.sampled_from(DANGEROUS), ANY_TEXT), max_size=6).map("".join),
    min_size=1, max_size=6))
def test_canaries_mixed_into_random_text_are_never_run(real_shell: RealShell, workdir: Path,
                                                       variables: dict[str, str]) -> None:
    assert real_shell.evaluate(render_set(variables, real_shell.render_as), workdir) == _as_bytes(variables)
    assert not (workdir / "CANARY").exists()


def test_unset_removes_variables_set_before_and_inherited(real_shell: RealShell, tmp_path: Path) -> None:
    variables = {"DSQ_A": "one", "DSQ_B": "two'\n$(x)", "DSQ_C": ""}
    script = (render_set(variables, real_shell.render_as)
              + render_unset(["DSQ_A", "DSQ_C", "DSQ_INHERITED", "DSQ_NEVER_SET"], real_shell.render_as))
    exported = real_shell.evaluate(script, tmp_path, inherited={"DSQ_INHERITED": "from the parent"})
    assert exported == {b"DSQ_B": b"two'\n$(x)"}


def test_fish_unset_leaves_universal_variables_alone(tmp_path: Path) -> None:
    # A universal variable persists across fish sessions; --unset must only drop our global one.
    # Without --no-config, which would keep universal variables in memory only.
    fish = RealShell("fish", _require("fish"), tmp_path / "home", arguments=["-c", "source; env -0"])
    assert fish.evaluate("set -Ux DSQ_KEPT universal\n", tmp_path) == {b"DSQ_KEPT": b"universal"}
    script = render_set({"DSQ_KEPT": "global"}, "fish") + render_unset(["DSQ_KEPT"], "fish")
    assert fish.evaluate(script, tmp_path) == {b"DSQ_KEPT": b"universal"}
    assert fish.evaluate(render_unset(["DSQ_KEPT"], "fish"), tmp_path) == {b"DSQ_KEPT": b"universal"}


# --- exact output ------------------------------------------------------------------------------------


def test_posix_output() -> None:
    variables = {"A": "plain", "B": "it's", "C": "", "D": "$(x) `y` \\ \"\n!"}
    expected = "export A='plain'\nexport B='it'\\''s'\nexport C=''\nexport D='$(x) `y` \\ \"\n!'\n"
    assert render_set(variables, "bash") == expected
    assert render_set(variables, "zsh") == expected


def test_fish_output() -> None:
    assert render_set({"A": "it's", "B": "a\\b\\'c\\\\", "C": ""}, "fish") == (
        "set -gx A 'it\\'s'\nset -gx B 'a\\\\b\\\\\\'c\\\\\\\\'\nset -gx C ''\n"
    )


@pytest.mark.parametrize(("value", "expression"), [
    ("sk-0123", "'sk-0123'"),
    ("it's", "'it''s'"),
    ("$env:PATH `n $(calc) \"x\" @{}", "'$env:PATH `n $(calc) \"x\" @{}'"),
    # PowerShell treats ‘ ’ ‚ ‛ as single quotes: they never appear inside a literal.
    ("a\u2018b\u2019c\u201ad\u201be", "'a' + [char]0x2018 + 'b' + [char]0x2019 + 'c' + [char]0x201A + 'd' + [char]0x201B + 'e'"),
    ("\u201cq\u201d", "'' + [char]0x201C + 'q' + [char]0x201D"),
    ("é", "'' + [char]0x00E9"),
    ("x😀", "'x' + [char]0xD83D + [char]0xDE00"),
    ("line1\nline2\r\n", "'line1' + [char]0x000A + 'line2' + [char]0x000D + [char]0x000A"),
    ("tab\there", "'tab' + [char]0x0009 + 'here'"),
])
def test_powershell_output(value: str, expression: str) -> None:
    assert render_set({"NAME": value}, "powershell") == f"$env:NAME = {expression}\n"


# A model of how PowerShell reads our output: single-quoted literals in which any of its five single
# quote characters, doubled, stands for itself, joined by ` + ` with [char]0xHHHH code units.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"
_PS_PIECE = re.compile(rf"\[char\]0x([0-9A-F]{{4}})|[{_PS_QUOTES}]((?:[^{_PS_QUOTES}]|[{_PS_QUOTES}]{{2}})*)[{_PS_QUOTES}]")


def _powershell_value(line: str) -> str:
    prefix = "$env:NAME = "
    assert line.startswith(prefix)
    units = []
    position = len(prefix)
    while True:
        match = _PS_PIECE.match(line, position)
        assert match is not None, line[position:]
        if match.group(1) is not None:
            assert position > len(prefix), "must start with a string, or [char] + [char] adds numbers"
            units.append(chr(int(match.group(1), 16)))
        else:
            units.append(re.sub(f"[{_PS_QUOTES}]([{_PS_QUOTES}])", r"\1", match.group(2)))
        position = match.end()
        if position == len(line):
            break
        assert line.startswith(" + ", position), line[position:]
        position += len(" + ")
    return "".join(units).encode("utf-16-le", "surrogatepass").decode("utf-16-le")


@PROPERTY
@given(value=VALUES.filter(bool))
def test_powershell_output_is_one_ascii_line_that_reads_back(value: str) -> None:
    output = render_set({"NAME": value}, "powershell")
    # One line: Invoke-Expression gets native output line by line. ASCII: immune to the console code page.
    assert output.isascii() and output.endswith("\n") and output.count("\n") == 1 and "\r" not in output
    assert _powershell_value(output[:-1]) == value


def test_cmd_output() -> None:
    value = "a&b|c<d>e^f(g)h i\tj=k'l`m$n;o,é😀"
    assert render_set({"A": value, "B": "x"}, "cmd") == f'set "A={value}"\nset "B=x"\n'


@PROPERTY
@given(value=VALUES)
def test_cmd_output_is_safe_or_refused(value: str) -> None:
    unsafe = not value or any(char in '"%!' or (char < " " and char != "\t") for char in value)
    try:
        output = render_set({"NAME": value}, "cmd")
    except UnsafeValueError:
        assert unsafe
    else:
        assert not unsafe
        assert output == f'set "NAME={value}"\n'


def test_unset_output() -> None:
    names = ["A", "B_2"]
    assert render_unset(names, "bash") == "unset -v A\nunset -v B_2\n"
    assert render_unset(names, "zsh") == "unset -v A\nunset -v B_2\n"
    assert render_unset(names, "fish") == "set -e -g A\nset -e -g B_2\n"
    assert render_unset(names, "powershell") == (
        "Remove-Item -LiteralPath Env:A -ErrorAction SilentlyContinue\n"
        "Remove-Item -LiteralPath Env:B_2 -ErrorAction SilentlyContinue\n"
    )
    assert render_unset(names, "cmd") == 'set "A="\nset "B_2="\n'
    assert render_unset([], "bash") == ""
    assert render_unset(iter(names), "cmd") == 'set "A="\nset "B_2="\n'


def test_empty_input_renders_nothing() -> None:
    for shell in SHELLS:
        assert render_set({}, shell) == ""


# --- refusals ----------------------------------------------------------------------------------------

SECRET = "sk-SECRET-0123456789"


@pytest.mark.parametrize("shell", SHELLS)
def test_nul_is_refused_everywhere_without_showing_the_value(shell: str) -> None:
    with pytest.raises(UnsafeValueError) as caught:
        render_set({"OK": "fine", "ANTHROPIC_AUTH_TOKEN": f"{SECRET}\0rest"}, shell)
    err = caught.value
    assert err.exit_code == EXIT_USAGE
    assert "ANTHROPIC_AUTH_TOKEN" in err.message and shell in err.message and "NUL" in err.message
    assert err.hint
    assert "SECRET" not in err.render()


@pytest.mark.parametrize("shell", SHELLS)
def test_lone_surrogate_is_refused(shell: str) -> None:
    with pytest.raises(UnsafeValueError, match="KEY.*not valid Unicode"):
        render_set({"KEY": "a\udcffb"}, shell)


@pytest.mark.parametrize("char", ["\n", "\r", '"', "%", "!", "\x1a", "\x1b", "\x01"])
def test_cmd_refuses_what_it_cannot_quote(char: str) -> None:
    with pytest.raises(UnsafeValueError) as caught:
        render_set({"ANTHROPIC_AUTH_TOKEN": f"{SECRET}{char}{SECRET}"}, "cmd")
    rendered = caught.value.render()
    assert "ANTHROPIC_AUTH_TOKEN" in rendered and "cmd" in rendered and "powershell" in rendered
    assert "SECRET" not in rendered


@pytest.mark.parametrize("char", ["\n", "\r", '"', "%", "!", "\x1a", "\x01"])
def test_other_shells_accept_what_cmd_refuses(char: str) -> None:
    for shell in ("bash", "zsh", "fish", "powershell"):
        assert render_set({"KEY": f"a{char}b"}, shell)


@pytest.mark.parametrize("shell", ["cmd", "powershell"])
def test_empty_value_is_refused_where_empty_means_deleted(shell: str) -> None:
    with pytest.raises(UnsafeValueError, match=f"KEY is empty, and {shell} cannot"):
        render_set({"KEY": ""}, shell)


@pytest.mark.parametrize("name", ["", "1ABC", "A-B", "A B", "A=B", "A.B", "A*", "ÄPFEL", "A\n", "$A", "A;rm", "Env:A"])
@pytest.mark.parametrize("shell", SHELLS)
def test_bad_names_are_refused(name: str, shell: str) -> None:
    with pytest.raises(UsageError, match="invalid environment variable name"):
        render_set({name: "value"}, shell)
    with pytest.raises(UsageError, match="invalid environment variable name"):
        render_unset([name], shell)


@given(name=st.builds(str.__add__, st.sampled_from(NAME_CHARS.replace("0123456789", "")), st.text(NAME_CHARS)))
def test_every_valid_name_is_accepted_and_written_as_it_is(name: str) -> None:
    verbatim = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")
    for shell in SHELLS:
        for line in (render_set({name: "v"}, shell), render_unset([name], shell)):
            # One line, naming the variable verbatim: a valid name is never escaped or changed in any shell.
            assert line.endswith("\n") and line.count("\n") == 1, (shell, line)
            assert verbatim.search(line), (shell, name, line)


def test_nothing_is_rendered_when_a_later_variable_is_bad() -> None:
    with pytest.raises(UnsafeValueError):
        render_set({"GOOD": "x", "BAD": "50%"}, "cmd")


def test_unknown_shell_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown shell 'tcsh'") as caught:
        render_set({"A": "b"}, "tcsh")
    assert caught.value.hint is not None and "powershell" in caught.value.hint
    with pytest.raises(UsageError, match="unknown shell 'tcsh'"):
        render_unset(["A"], "tcsh")


# --- detect_shell ------------------------------------------------------------------------------------

USER_PS51 = r"C:\Users\ann\Documents\WindowsPowerShell\Modules"
USER_PS7 = r"C:\Users\ann\OneDrive\Documents\PowerShell\Modules"
MACHINE = r"C:\Program Files\WindowsPowerShell\Modules;C:\WINDOWS\system32\WindowsPowerShell\v1.0\Modules"


@pytest.mark.parametrize(("environ", "platform", "expected"), [
    ({"SHELL": "/bin/bash"}, "linux", "bash"),
    ({"SHELL": "/bin/zsh"}, "darwin", "zsh"),
    ({"SHELL": "-zsh"}, "darwin", "zsh"),
    ({"SHELL": "/usr/bin/fish"}, "linux", "fish"),
    ({"SHELL": "/opt/homebrew/bin/fish"}, "darwin", "fish"),
    ({"SHELL": "fish"}, "linux", "fish"),
    ({"SHELL": "/bin/sh"}, "linux", "bash"),
    ({"SHELL": "/bin/dash"}, "linux", "bash"),
    ({"SHELL": "/bin/ksh"}, "openbsd7", "bash"),
    ({"SHELL": "/usr/bin/pwsh"}, "linux", "powershell"),
    ({"SHELL": "/bin/tcsh"}, "freebsd14", "bash"),
    ({"SHELL": ""}, "linux", "bash"),
    ({}, "linux", "bash"),
    ({}, "darwin", "bash"),
    ({"PSModulePath": f"{USER_PS51};{MACHINE}"}, "linux", "bash"),  # Windows heuristics only on Windows
    # Windows: Git Bash / MSYS2 / Cygwin set SHELL.
    ({"SHELL": "/usr/bin/bash", "PSModulePath": MACHINE}, "win32", "bash"),
    ({"SHELL": r"C:\msys64\usr\bin\zsh.exe"}, "win32", "zsh"),
    ({"SHELL": r"C:\Program Files\PowerShell\7\pwsh.exe"}, "win32", "powershell"),
    # Windows PowerShell 5.1 and PowerShell 7 prepend the user's module folder.
    ({"PSModulePath": f"{USER_PS51};{MACHINE}"}, "win32", "powershell"),
    ({"PSModulePath": f"{USER_PS7};C:\\Program Files\\PowerShell\\Modules;{MACHINE}"}, "win32", "powershell"),
    ({"PSMODULEPATH": f"{USER_PS51.lower()}\\;{MACHINE}"}, "win32", "powershell"),  # upper-cased dict copy
    ({"PSModulePath": f"D:\\Profiles\\ann\\Dokumente\\WindowsPowerShell\\Modules;{MACHINE}",
      "USERPROFILE": "D:\\Profiles\\ann"}, "win32", "powershell"),
    ({"PSExecutionPolicyPreference": "Bypass", "PSModulePath": MACHINE}, "win32", "powershell"),
    # cmd.exe sees only the machine-wide value, even with extra machine-wide module folders.
    ({"PSModulePath": MACHINE, "USERPROFILE": r"C:\Users\ann"}, "win32", "cmd"),
    ({"PSModulePath": f"{MACHINE};C:\\Program Files\\Microsoft SQL Server\\150\\Tools\\PowerShell\\Modules\\",
      "USERPROFILE": r"C:\Users\ann"}, "win32", "cmd"),
    ({"PSModulePath": MACHINE, "USERPROFILE": ""}, "win32", "cmd"),
    ({"SHELL": "/bin/tcsh", "PSModulePath": MACHINE}, "win32", "cmd"),
    ({}, "win32", "cmd"),
])
def test_detect_shell(environ: dict[str, str], platform: str, expected: str) -> None:
    assert detect_shell(environ, platform) == expected
    assert expected in SHELLS
