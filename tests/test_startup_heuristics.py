"""Outside-tester finding 23: how dsconfig/targets/shell_startup.py reads a startup file, line after line (off's note
and doctor's startup-files check both ask it). False positives: an export undone later in the file (`unset`, fish
`set -e`, `export -n`, PowerShell `Remove-Item Env:`), a line inside a here-document. Misses: `then export ...`
(one line or several), `set -a` / `set -o allexport` before a plain assignment, bash's `VAR=x export VAR`.
Conservative where a line may not run: an unset inside a block or after && / || does not undo the export.

Where the shell is installed, each case is also sourced by the real shell, and the scanner must agree with what
the shell exports at the end of the file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsconfig.targets import shell_startup

VAR = "ANTHROPIC_BASE_URL"
A, B = "https://a.example", "https://b.example"
FILES = {"bash": ".bashrc", "zsh": ".zshrc", "fish": ".config/fish/config.fish",
         "powershell": ".config/powershell/profile.ps1"}
RUN = {"bash": ["bash", "--norc", "--noprofile", "-c", '. "$0" >/dev/null 2>&1; printenv ' + VAR],
       "zsh": ["zsh", "-f", "-c", 'source "$0" >/dev/null 2>&1; printenv ' + VAR],
       "fish": ["fish", "--no-config", "-c", "source $argv[1] >/dev/null 2>&1; printenv " + VAR]}

# (syntax, file text, (line, value) it exports VAR from, or None when VAR is not exported at the end)
CASES = [
    # an export undone later in the same file
    ("bash", f"export {VAR}={A}\nunset {VAR}\n", None),
    ("bash", f"export {VAR}={A}\nPATH=$PATH:/opt\nunset -v {VAR} OTHER\n", None),
    ("bash", f"{VAR}={A}\nexport {VAR}\nunset {VAR}\n", None),
    ("bash", f"export {VAR}={A}\nexport -n {VAR}\n", None),
    ("bash", f"export {VAR}={A}\nunset {VAR}\n{VAR}={B}\n", None),  # unset drops the export attribute too
    ("zsh", f"export {VAR}={A}\nunset {VAR}\n", None),
    ("zsh", f"export {VAR}={A}\ntypeset +x {VAR}\n", None),
    ("zsh", f"export {VAR}={A}\nexport -n {VAR}\n", (1, A)),  # zsh has no export -n: an error, still exported
    ("fish", f"set -gx {VAR} {A}\nset -e {VAR}\n", None),
    ("fish", f"set -gx {VAR} {A}\nset -e -g {VAR}\n", None),
    ("fish", f"set -gx {VAR} {A}\nset -u {VAR}\n", None),
    ("powershell", f"$env:{VAR} = '{A}'\nRemove-Item Env:{VAR}\n", None),
    ("powershell", f"$env:{VAR} = '{A}'\n$env:{VAR} = $null\n", None),
    # exported again after the unset
    ("bash", f"export {VAR}={A}\nunset {VAR}\nexport {VAR}={B}\n", (3, B)),
    ("fish", f"set -gx {VAR} {A}\nset -e {VAR}\nset -gx {VAR} {B}\n", (3, B)),
    # here-documents are text, not commands
    ("bash", f"cat <<EOF >/dev/null\nexport {VAR}={A}\nEOF\n", None),
    ("bash", f"cat >/dev/null <<-'END'\n\texport {VAR}={A}\n\tEND\nexport OTHER=1\n", None),
    ("bash", f'cat <<"EOF" >/dev/null; echo hi\nexport {VAR}={A}\nEOF\nexport {VAR}={B}\n', (4, B)),
    ("zsh", f"cat << EOF >/dev/null\nexport {VAR}={A}\nEOF\n", None),
    ("bash", f"echo $((1<<2)) >/dev/null\nexport {VAR}={A}\n", (2, A)),  # a shift, not a here-document
    ("powershell", f"$text = @'\n$env:{VAR} = '{A}'\n'@\n", None),
    # exports the old reading missed
    ("bash", f"if true; then export {VAR}={A}; fi\n", (1, A)),
    ("bash", f"if true\nthen export {VAR}={A}\nfi\n", (2, A)),
    ("zsh", f"if true; then\n  export {VAR}={A}\nelse export OTHER={B}; fi\n", (2, A)),
    ("bash", f"while false; do :; done\nfor d in x; do export {VAR}={A}; done\n", (2, A)),
    ("bash", f"set -a\n{VAR}={A}\nset +a\n", (2, A)),
    ("bash", f"set -o allexport\n{VAR}={A}\nset +o allexport\n", (2, A)),
    ("zsh", f"set -a\n{VAR}='{A}'\n", (2, A)),
    ("bash", f"set -a\nset +a\n{VAR}={A}\n", None),
    ("zsh", f"setopt ALL_EXPORT\n{VAR}={A}\nunsetopt allexport\n", (2, A)),
    ("zsh", f"setopt allexport\nunsetopt all_export\n{VAR}={A}\n", None),
    ("bash", f"{VAR}={A} export {VAR}\n", (1, A)),
    ("bash", f"{VAR}={A} declare -x {VAR}\n", (1, A)),
    ("zsh", f"{VAR}={A} export {VAR}\n", None),  # zsh keeps that value for the command only
    ("powershell", f"if ($true) {{ $env:{VAR} = '{A}' }}\n", (1, A)),
    # an unset that may not run leaves the export standing
    ("bash", f"export {VAR}={A}\nif false; then unset {VAR}; fi\n", (1, A)),
    ("bash", f"export {VAR}={A}\nfalse && unset {VAR}\n", (1, A)),
    ("bash", f"export {VAR}={A}\ntrue || unset {VAR}\n", (1, A)),
    ("bash", f"export {VAR}={A}\nforget() {{\n  unset {VAR}\n}}\n", (1, A)),
    ("bash", f"export {VAR}={A}\nforget(){{ unset {VAR}; }}\nforget2 ()\n{{\n  unset {VAR}\n}}\n", (1, A)),
    ("bash", f"export {VAR}={A}\n( unset {VAR} )\n", (1, A)),  # a subshell's unset is its own
    ("bash", f"export {VAR}={A}\nfunction forget {{ unset {VAR}; }}\n", (1, A)),
    ("bash", f"export {VAR}={A}\ncase x in\n  y) unset {VAR};;\nesac\n", (1, A)),
    ("fish", f"set -gx {VAR} {A}\nif false\n  set -e {VAR}\nelse if false\n  set -e {VAR}\nend\n", (1, A)),
    ("fish", f"set -gx {VAR} {A}\nfalse; and set -e {VAR}\n", (1, A)),
    ("fish", f"set -gx {VAR} {A}\nfunction forget\n  set -e {VAR}\nend\n", (1, A)),
    ("powershell", f"$env:{VAR} = '{A}'\nif ($false) {{ Remove-Item Env:{VAR} }}\n", (1, A)),
]


def _scanned(home: Path, syntax: str, text: str) -> tuple[int, str] | None:
    path = home / FILES[syntax]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    found = shell_startup.startup_exports(VAR, home, {}, "linux")
    assert len(found) <= 1, found
    return (found[0].line, found[0].value) if found else None


@pytest.mark.parametrize(("syntax", "text", "expected"), CASES)
def test_the_scanner_reads_the_file_as_the_shell_runs_it(home: Path, tmp_path: Path, syntax: str, text: str,
                                                        expected: tuple[int, str] | None) -> None:
    assert _scanned(home, syntax, text) == expected
    if syntax in RUN and shutil.which(RUN[syntax][0]):
        env = {k: v for k, v in os.environ.items() if k != VAR} | {"HOME": str(tmp_path)}
        real = subprocess.run([*RUN[syntax], str(home / FILES[syntax])], capture_output=True, text=True, timeout=30,
                              env=env, check=False, cwd=tmp_path)
        assert (real.stdout.strip() or None) == (expected[1] if expected else None), (real.stdout, real.stderr)


def test_off_and_doctor_say_nothing_of_an_export_the_file_undoes(run_dsconfig: Any, home: Path) -> None:
    for args in (("profile", "add", "ds", "--provider", "deepseek", "--key-source", "env:DSQ_HEURISTIC_KEY"),
                 ("use", "ds")):
        assert run_dsconfig(*args).returncode == 0
    (home / ".bashrc").write_text(f"export {VAR}={A}\nunset {VAR}\ncat <<EOF\nexport {VAR}={B}\nEOF\n")
    (home / ".zshrc").write_text(f"if true; then export {VAR}={B}; fi\n")
    off = run_dsconfig("off")
    assert off.returncode == 0, off.stderr
    assert ".bashrc" not in off.stderr and f"{home / '.zshrc'} line 1 exports {VAR}={B}" in off.stderr, off.stderr
    assert run_dsconfig("use", "ds").returncode == 0
    findings = json.loads(run_dsconfig("doctor", "--json", "--no-verify").stdout)["findings"]
    assert [f["where"] for f in findings if f["check"] == "startup-files"] == [f"{home / '.zshrc'}:1"]


# --- against the real bash: random files from the forms above -------------------------------------------------

SIMPLE = st.sampled_from([f"export {VAR}={A}", f"export {VAR}={B}", f"{VAR}={A}", f"{VAR}={B}", f"export {VAR}",
                          f"unset {VAR}", f"unset -v {VAR}", f"export -n {VAR}", "set -a", "set +a",
                          f"{VAR}={A} export {VAR}", f"declare -x {VAR}={B}", "PATH=$PATH:/opt", "true"])


def _blocks(inner: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    cond = st.sampled_from(["true", "false"])
    return st.one_of(
        st.tuples(cond, inner).map(lambda t: [f"if {t[0]}; then", *t[1], "fi"]),
        st.tuples(cond, inner, inner).map(lambda t: [f"if {t[0]}", "then", *t[1], "else", *t[2], "fi"]),
        st.tuples(cond, SIMPLE).map(lambda t: [f"{t[0]} && {t[1]}"]),
        st.tuples(cond, SIMPLE).map(lambda t: [f"{t[0]} || {t[1]}"]),
        st.tuples(cond, SIMPLE).map(lambda t: [f"if {t[0]}; then {t[1]}; fi"]),
        inner.map(lambda lines: ["cat <<EOF >/dev/null", *lines, "EOF"]),
        inner.map(lambda lines: ["forget() {", *lines, "}"]),
    )


LINES = st.recursive(SIMPLE.map(lambda line: [line]), lambda inner: _blocks(
    st.lists(inner, min_size=1, max_size=3).map(lambda parts: [line for part in parts for line in part])), max_leaves=8)


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
@given(st.lists(LINES, min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_random_bash_files_never_hide_an_export_bash_makes(parts: list[list[str]]) -> None:
    # conservative: every value bash exports at the end is reported; a file without conditions is read exactly
    import tempfile

    text = "".join(line + "\n" for part in parts for line in part)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / ".bashrc").write_text(text)
        found = shell_startup.startup_exports(VAR, home, {}, "linux")
        env = {k: v for k, v in os.environ.items() if k != VAR} | {"HOME": tmp}
        real = subprocess.run([*RUN["bash"], str(home / ".bashrc")], capture_output=True, text=True, timeout=30,
                              env=env, check=False).stdout.strip() or None
    values = [f.value for f in found]
    if real is not None:
        assert real in values, (text, real, values)
    if not any(word in text for word in ("if ", "&&", "||", "forget")):
        assert (real is None) == (not values), (text, real, values)


FISH_SIMPLE = st.sampled_from([f"set -gx {VAR} {A}", f"set -x {VAR} {B}", f"set -g {VAR} {A}", f"set {VAR} {B}",
                               f"set -gx {VAR}", f"set -e {VAR}", f"set -e -g {VAR}", f"set -u {VAR}",
                               f"set -gu {VAR} {A}", f"set --export {VAR} {B}", "set -g OTHER 1", "true"])
FISH_LINES = st.recursive(FISH_SIMPLE.map(lambda line: [line]), lambda inner: st.one_of(
    st.tuples(st.sampled_from(["true", "false"]), st.lists(inner, min_size=1, max_size=3)).map(
        lambda t: [f"if {t[0]}", *[line for part in t[1] for line in part], "end"]),
    st.tuples(st.sampled_from(["true", "false"]), FISH_SIMPLE, st.sampled_from(["and", "or"])).map(
        lambda t: [f"{t[0]}; {t[2]} {t[1]}"]),
), max_leaves=6)


@pytest.mark.skipif(not shutil.which("fish"), reason="needs fish")
@given(st.lists(FISH_LINES, min_size=1, max_size=5))
@settings(max_examples=60, deadline=None)
def test_random_fish_files_never_hide_an_export_fish_makes(parts: list[list[str]]) -> None:
    import tempfile

    text = "".join(line + "\n" for part in parts for line in part)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = home / FILES["fish"]
        path.parent.mkdir(parents=True)
        path.write_text(text)
        found = shell_startup.startup_exports(VAR, home, {}, "linux")
        env = {k: v for k, v in os.environ.items() if k != VAR} | {"HOME": tmp, "XDG_CONFIG_HOME": str(home / "none")}
        real = subprocess.run([*RUN["fish"], str(path)], capture_output=True, text=True, timeout=30, env=env,
                              check=False).stdout.strip() or None
    values = [f.value for f in found]
    if real is not None:
        assert real in values, (text, real, values)
    if not any(word in text for word in ("if ", "and ", "or ")):
        assert (real is None) == (not values), (text, real, values)
