"""`key get` learns a profile's key source from profileindex.py's index while it matches profiles.toml (issue 16).

The index only saves a TOML parse; every test here checks that it never gives a different answer than the
file itself: after hand edits, another tool's rewrite, a tampered or damaged index, or one that is a FIFO.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsconfig import dirs, profileindex
from dsconfig.errors import EXIT_INVALID_FILE

KEY_A = "sk-" + "a0a1a2a3" * 4
KEY_B = "sk-" + "b0b1b2b3" * 4
# What `key get NAME` through env: must not import: everything beyond the stdlib's start-up set that it used to
# (tomllib and typing through the TOML parse, pathlib, platformdirs) plus the heavy libraries.
NOT_ON_THE_ENV_PATH = {"keyring", "jeepney", "secretstorage", "click", "tomlkit", "httpx", "questionary", "tomllib",
                       "tomli", "typing", "pathlib", "platformdirs", "dataclasses", "inspect"}


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, proc.stderr
    return proc


def _index() -> dict[str, Any]:
    return json.loads(Path(profileindex.index_file()).read_text())  # type: ignore[no-any-return]


def _profiles() -> Path:
    return Path(dirs.profiles_file_name())


def _key_get_imports(name: str, environ: dict[str, str]) -> tuple[str, list[str]]:
    snippet = textwrap.dedent(f"""
        import sys
        from dsconfig.entry import main
        code = main(["key", "get", {name!r}])
        print("RC", code, sorted(m for m in sys.modules if m.split(".")[0] in {NOT_ON_THE_ENV_PATH!r}), file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                          env={**os.environ, **environ}, timeout=60, check=False)
    return proc.stdout, proc.stderr.strip().splitlines()


def test_profile_add_writes_the_index_and_key_get_parses_no_toml(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    _ok(run_dsconfig("profile", "add", "other", "--provider", "deepseek", "--key-source", "keyring"))
    index = _index()
    assert index["profiles_toml"] == _profiles().read_text() and index["sources"] == {"ci": "env:KEY_A"}
    assert os.stat(profileindex.index_file()).st_mode & 0o777 == 0o600
    out, err = _key_get_imports("ci", {"KEY_A": KEY_A})
    assert out == KEY_A + "\n"
    assert err == ["RC 0 []"], err


def test_a_hand_edit_is_honoured_at_once_and_the_index_follows(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    before = _index()
    profiles = _profiles()
    profiles.write_text(profiles.read_text().replace("env:KEY_A", "env:KEY_B"))  # same length, same second
    proc = _ok(run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A, "KEY_B": KEY_B}))
    assert proc.stdout == KEY_B + "\n"
    after = _index()
    assert after != before and after["sources"] == {"ci": "env:KEY_B"}
    out, err = _key_get_imports("ci", {"KEY_B": KEY_B})  # the rebuilt index answers without a parse again
    assert out == KEY_B + "\n" and err == ["RC 0 []"], err


def test_a_hand_edit_back_to_the_keyring_is_honoured(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    _ok(run_dsconfig("profile", "add", "keep", "--provider", "deepseek", "--key-source", "env:KEY_B"))
    profiles = _profiles()
    profiles.write_text(profiles.read_text().replace('key_source = "env:KEY_A"\n', ""))
    proc = run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A})
    assert proc.returncode != 0 and KEY_A not in proc.stdout + proc.stderr  # the keyring now: none here


def test_an_index_made_from_other_text_or_malformed_is_not_believed(run_dsconfig: Any) -> None:
    # Only an index made from exactly the file's text is used. (One that matches the text could only come
    # from someone who can write dsconfig's 0700 state folder, who could edit profiles.toml itself.)
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    index_path = Path(profileindex.index_file())
    good = _index()
    for forged in (
        {**good, "profiles_toml": good["profiles_toml"] + "\n", "sources": {"ci": "env:KEY_B"}},
        {**good, "sources": {"ci": "nonsense:source"}},
        {**good, "sources": {"ci": 5}},
        {**good, "format": 99, "sources": {"ci": "env:KEY_B"}},
        ["not", "an", "object"],
    ):
        index_path.write_text(json.dumps(forged))
        proc = run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A, "KEY_B": KEY_B})
        assert proc.returncode == 0 and proc.stdout == KEY_A + "\n", (forged, proc.stderr)


def test_a_damaged_or_odd_index_is_ignored_without_waiting(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    index_path = Path(profileindex.index_file())
    for damage in (b"", b"{", b"\xff\xfe not utf-8", b"[" * 100_000):
        index_path.write_bytes(damage)
        assert _ok(run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A})).stdout == KEY_A + "\n"
    index_path.unlink()
    os.mkfifo(index_path)  # opening a FIFO for reading would wait for a writer forever
    done = threading.Event()
    result: list[subprocess.CompletedProcess[str]] = []

    def run() -> None:
        result.append(run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A}))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(60), "key get waited on a FIFO in place of the index"
    assert result[0].returncode == 0 and result[0].stdout == KEY_A + "\n", result[0].stderr


def test_an_invalid_key_source_in_the_file_is_still_reported(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    profiles = _profiles()
    profiles.write_text(profiles.read_text().replace('"env:KEY_A"', '"env:not a name"'))
    proc = run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A})
    assert proc.returncode == EXIT_INVALID_FILE and "key_source" in proc.stderr, proc.stderr
    assert _index()["sources"] == {"ci": "env:KEY_A"}  # the last good index stays, and is not believed


def test_writing_the_index_never_fails_a_command(tmp_path: Path) -> None:
    assert profileindex.write("text", {"a": "env:A"}, ["a"], None, str(tmp_path / "missing-folder" / "index.json")) is False
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / profileindex.FILE_NAME).mkdir()  # a folder where the index goes: os.replace fails
    assert profileindex.write("text", {"a": "env:A"}, ["a"], None, str(blocked / profileindex.FILE_NAME)) is False
    assert sorted(p.name for p in blocked.iterdir()) == [profileindex.FILE_NAME]  # no temporary file left


def test_a_source_written_with_an_escaped_key_name_is_honoured(run_dsconfig: Any) -> None:
    # Outside tester: `"key\u005fsource" = ...` is `key_source` to TOML; a byte search for "key_source" missed it.
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek"))
    _profiles().write_text('schema_version = 1\n[profiles.ci]\nprovider = "deepseek"\n"key\\u005fsource" = "env:KEY_A"\n')
    assert _ok(run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A})).stdout == KEY_A + "\n"
    assert _ok(run_dsconfig("profile", "show", "ci", env={"KEY_A": KEY_A})).stdout.count("env:KEY_A") >= 1


def test_an_index_edited_to_say_what_profiles_toml_does_not_is_not_believed(run_dsconfig: Any, tmp_path: Path) -> None:
    # Outside tester: with profiles.toml's text left intact, an index edited to give profile `ci` a command (or
    # another variable, or other env values) was believed. What it says must be spelled in the files themselves.
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:KEY_A"))
    _ok(run_dsconfig("env", "ci", "--shell", "bash", env={"KEY_A": KEY_A}))  # records ci's env entry
    index_path = Path(profileindex.index_file())
    marker = tmp_path / "ran"
    edits: list[Callable[[dict[str, Any]], None]] = [
        lambda d: d["sources"].update(ci=f"command:touch {marker}; echo {KEY_B}"),
        lambda d: d["sources"].update(ci="env:KEY_B"),
        lambda d: d["env"]["ci"]["variables"].update(ANTHROPIC_BASE_URL="https://evil.example/anthropic"),
    ]
    for edit in edits:
        doc = json.loads(index_path.read_text())
        edit(doc)
        index_path.write_text(json.dumps(doc))
        got = _ok(run_dsconfig("key", "get", "ci", env={"KEY_A": KEY_A, "KEY_B": KEY_B}))
        assert got.stdout == KEY_A + "\n" and not marker.exists()
        shown = _ok(run_dsconfig("env", "ci", "--shell", "bash", env={"KEY_A": KEY_A, "KEY_B": KEY_B})).stdout
        assert "evil.example" not in shown and KEY_A in shown and KEY_B not in shown
