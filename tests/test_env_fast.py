"""`dsconfig env` from the profile index (envfast.py) prints exactly what parsing prints, and only while the files
it was made of are unchanged (issue 15: env at every shell start, near the interpreter's floor)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from dsconfig import actions, envfast, paths, profileindex
from dsconfig.keysources import KeySource
from dsconfig.profiles import Profile, ProfileStore
from dsconfig.templates import load_templates

KEY = "sk-" + "f0f1f2f3" * 4
SHELLS = ("bash", "zsh", "fish", "powershell", "cmd")
NOT_ON_THE_FAST_PATH = {"tomllib", "tomli", "dataclasses", "inspect", "typing", "pathlib", "tomlkit", "click",
                        "keyring", "httpx", "platformdirs", "dsconfig.profiles", "dsconfig.templates", "dsconfig.actions"}


@pytest.fixture(autouse=True)
def _state_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    paths.state_dir().mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("FAST_KEY", KEY)


def _profiles() -> list[Profile]:
    env_source = KeySource("env", "FAST_KEY")
    out = [Profile(name=f"t-{t.id}", provider=t.id, key_source=env_source) for t in load_templates().ordered()]
    out.append(Profile(name="custom-all", provider="deepseek", base_url="https://proxy.example/anthropic",
                       models={"opus": "o-1", "haiku": "h-1", "subagent": "s-1"},
                       env={"API_TIMEOUT_MS": "600000", "DISABLE_TELEMETRY": "1", "QUOTED": "it's \"odd\" $x"},
                       key_source=env_source))
    return out


def _slow(name: str | None, shell: str, unset: bool) -> str:
    return actions.env(name, shell=shell, unset=unset)


def test_every_template_shell_and_form_prints_the_same_from_the_index() -> None:
    store = ProfileStore()
    for profile in _profiles():
        store.add(profile)
    checked = 0
    for profile in _profiles():
        assert envfast.answer(profile.name, "bash", False) is None  # nothing recorded yet for this profile
        assert envfast.remember(profile.name), profile.name
        for shell in SHELLS:
            for unset in (False, True):
                try:
                    expected = _slow(profile.name, shell, unset)
                except Exception as exc:  # noqa: BLE001 - the same error must come from the index path
                    with pytest.raises(type(exc)):
                        envfast.answer(profile.name, shell, unset)
                    continue
                assert envfast.answer(profile.name, shell, unset) == expected, (profile.name, shell, unset)
                checked += 1
    assert checked >= len(_profiles()) * len(SHELLS)


def test_the_active_profile_and_a_project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProfileStore()
    for profile in _profiles()[:2]:
        store.add(profile)
    store.set_active(_profiles()[1].name)
    assert envfast.remember(None)
    monkeypatch.chdir(tmp_path)
    assert envfast.answer(None, "bash", False) == _slow(None, "bash", False)
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.local.json").write_text("{}")
    assert envfast.answer(None, "bash", False) is None  # `use --scope project` may apply here: parse
    assert envfast.answer(_profiles()[1].name, "bash", False) is not None  # a name given: the folder does not matter


def test_any_change_to_the_files_it_was_made_of_sends_env_to_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProfileStore()
    store.add(_profiles()[0])  # DeepSeek, from the built-in template
    name = _profiles()[0].name
    assert envfast.remember(name) and envfast.answer(name, "bash", False) is not None
    # A user template of the same id now comes first: the recorded answer no longer holds.
    user = paths.user_templates_dir()
    user.mkdir(parents=True)
    builtin = (paths.builtin_templates_dir() / "deepseek.toml").read_text()
    (user / "deepseek.toml").write_text(builtin.replace("https://api.deepseek.com/anthropic", "https://mirror.example/anthropic"))
    assert envfast.answer(name, "bash", False) is None
    assert "mirror.example" in _slow(name, "bash", False)
    assert envfast.remember(name) and "mirror.example" in (envfast.answer(name, "bash", False) or "")
    # A hand edit of profiles.toml (same length) sends it to parse as well.
    text = store.path.read_text()
    store.path.write_text(text.replace("FAST_KEY", "FAST_KAY"))
    assert envfast.answer(name, "bash", False) is None
    # A profiles.toml change made by dsconfig keeps names and sources, but drops the recorded answers.
    store.path.write_text(text)
    assert envfast.answer(name, "bash", False) is not None
    store.add(_profiles()[1])
    assert envfast.answer(name, "bash", False) is None


def test_a_file_every_command_refuses_is_refused_by_both_fast_paths() -> None:
    store = ProfileStore()
    store.add(_profiles()[0])
    name = _profiles()[0].name
    assert envfast.remember(name)
    store.path.write_text(store.path.read_text() + '\n[profiles.broken]\nprovider = 5\n')
    from dsconfig.keyget import source_of

    _source, error = source_of(name)
    assert error is not None and "provider" in error.message
    assert profileindex.env_entry(name, cwd_has_project_settings=False) is None
    with pytest.raises(Exception, match="provider"):
        _slow(name, "bash", False)


def test_another_config_folder_or_installation_is_not_answered_from_the_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Outside tester: XDG_CONFIG_HOME changed to a folder with the same profiles.toml and a user template of its
    # own, with the state folder (and so the index) shared: env printed the first folder's base URL.
    monkeypatch.delenv("DSCONFIG_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "one"))
    paths.state_dir().mkdir(parents=True, mode=0o700)
    store = ProfileStore()
    store.add(_profiles()[0])
    name = _profiles()[0].name
    assert envfast.remember(name) and envfast.answer(name, "bash", False) is not None
    other = tmp_path / "two" / "dsconfig"
    (other / "templates").mkdir(parents=True)
    (other / "profiles.toml").write_text(store.path.read_text())
    builtin = (paths.builtin_templates_dir() / "deepseek.toml").read_text()
    (other / "templates" / "deepseek.toml").write_text(builtin.replace("api.deepseek.com", "alt.example"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "two"))
    assert envfast.answer(name, "bash", False) is None
    assert "alt.example" in _slow(name, "bash", False)
    # A second installation (another built-in folder) sharing the state folder: an entry recorded from its
    # built-in template, with the very same text, does not answer here.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "one"))
    assert envfast.remember(name) and envfast.answer(name, "bash", False) is not None
    index_path = Path(profileindex.index_file())
    index = json.loads(index_path.read_text())
    here = str(paths.builtin_templates_dir() / "deepseek.toml")
    files = index["env"][name]["files"]
    assert here in files
    index["env"][name]["files"] = {(str(tmp_path / "other-install" / "deepseek.toml") if p == here else p): t
                                   for p, t in files.items()}
    index_path.write_text(json.dumps(index))
    assert envfast.answer(name, "bash", False) is None


def test_the_second_shell_start_loads_no_profile_model(run_dsconfig: Any) -> None:
    assert run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--key-source", "env:FAST_KEY").returncode == 0
    first = run_dsconfig("env", "ds", "--shell", "bash")
    assert first.returncode == 0 and KEY in first.stdout
    snippet = textwrap.dedent(f"""
        import sys
        from dsconfig.entry import main
        code = main(["env", "ds", "--shell", "bash"])
        print("RC", code, sorted(m for m in sys.modules if m in {NOT_ON_THE_FAST_PATH!r} or m.split(".")[0] in {NOT_ON_THE_FAST_PATH!r}), file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, env=dict(os.environ),
                          timeout=60, check=False)
    assert proc.stdout == first.stdout
    assert proc.stderr.strip().splitlines() == ["RC 0 []"], proc.stderr
