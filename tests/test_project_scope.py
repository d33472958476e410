"""Issue 14 item 3: the profile `use NAME --scope project` applied to a folder is the one in effect there.

In that folder `status` shows it beside the user's active profile, and `env`, `verify` and `exec` without a
NAME default to it; elsewhere they keep the active profile. End to end through the installed command: the
real Secret Service, the loopback fake DeepSeek servers (one per profile, so every request shows which
profile it came from) and the pinned real Claude Code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes.claude import claude_env, parse_result
from fakes.server import FakeDeepSeek

KEY_USER = "sk-test-project-scope-user-0001"
KEY_PROJ = "sk-test-project-scope-proj-0002"

pytestmark = pytest.mark.usefixtures("secret_service")


@pytest.fixture
def folders(tmp_path: Path, run_dsconfig: Any, fake_deepseek: FakeDeepSeek, fake_deepseek_2: FakeDeepSeek) -> tuple[Path, Path]:
    """(project folder with `use h --scope project`, another folder); profile ds active for the user."""
    fake_deepseek.keys, fake_deepseek_2.keys = {KEY_USER}, {KEY_PROJ}
    proj, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    proj.mkdir()
    elsewhere.mkdir()
    for name, fake, key in (("ds", fake_deepseek, KEY_USER), ("h", fake_deepseek_2, KEY_PROJ)):
        added = run_dsconfig("profile", "add", name, "--provider", "deepseek", "--base-url", fake.base_url,
                             "--api-key-stdin", input=key)
        assert added.returncode == 0, added.stderr
    for args, cwd in ((("use", "ds"), elsewhere), (("use", "h", "--scope", "project"), proj)):
        used = run_dsconfig(*args, cwd=cwd)
        assert used.returncode == 0, used.stderr
    return proj, elsewhere


def test_status_shows_the_users_profile_and_the_folders(run_dsconfig: Any, folders: tuple[Path, Path],
                                                         fake_deepseek_2: FakeDeepSeek) -> None:
    proj, elsewhere = folders
    shown = run_dsconfig("status", "--json", cwd=proj)
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["active_profile"]["name"] == "ds" and doc["active_profile"]["key_source"] == "keyring"
    project = doc["project_profile"]
    assert set(project) == {"name", "provider", "base_url", "key", "key_error", "key_source", "path"}
    assert project == {"name": "h", "provider": "deepseek", "base_url": fake_deepseek_2.base_url, "key": "sk-…0002",
                       "key_error": None, "key_source": "keyring", "path": str(proj / ".claude" / "settings.local.json")}
    text = run_dsconfig("status", cwd=proj)
    assert text.returncode == 0, text.stderr
    assert "active profile: ds (" in text.stdout
    assert f"this folder's profile: h (deepseek, {fake_deepseek_2.base_url}, key sk-…0002 from keyring)" in text.stdout
    assert KEY_PROJ not in shown.stdout + text.stdout and KEY_USER not in shown.stdout + text.stdout
    other = json.loads(run_dsconfig("status", "--json", cwd=elsewhere).stdout)
    assert other["project_profile"] is None and other["active_profile"]["name"] == "ds"
    assert "this folder's profile" not in run_dsconfig("status", cwd=elsewhere).stdout


def test_env_defaults_to_the_folders_profile(run_dsconfig: Any, folders: tuple[Path, Path], fake_deepseek: FakeDeepSeek,
                                             fake_deepseek_2: FakeDeepSeek) -> None:
    proj, elsewhere = folders
    here = run_dsconfig("env", "--shell", "bash", cwd=proj)
    assert here.returncode == 0, here.stderr
    assert f"export ANTHROPIC_BASE_URL='{fake_deepseek_2.base_url}'" in here.stdout and KEY_PROJ in here.stdout
    assert KEY_USER not in here.stdout
    there = run_dsconfig("env", "--shell", "bash", cwd=elsewhere)
    assert f"export ANTHROPIC_BASE_URL='{fake_deepseek.base_url}'" in there.stdout
    named = run_dsconfig("env", "ds", "--shell", "bash", cwd=proj)  # a NAME still wins
    assert f"export ANTHROPIC_BASE_URL='{fake_deepseek.base_url}'" in named.stdout
    # The folder is the one `use --scope project` wrote into, as for status's settings files: not its subfolders.
    sub = proj / "src"
    sub.mkdir()
    assert f"'{fake_deepseek.base_url}'" in run_dsconfig("env", "--shell", "bash", cwd=sub).stdout
    # `off --scope project` there: the folder falls back to the user's active profile.
    off = run_dsconfig("off", "--scope", "project", cwd=proj)
    assert off.returncode == 0, off.stderr
    assert f"'{fake_deepseek.base_url}'" in run_dsconfig("env", "--shell", "bash", cwd=proj).stdout
    assert json.loads(run_dsconfig("status", "--json", cwd=proj).stdout)["project_profile"] is None


def test_verify_defaults_to_the_folders_profile(run_dsconfig: Any, folders: tuple[Path, Path], fake_deepseek: FakeDeepSeek,
                                                fake_deepseek_2: FakeDeepSeek) -> None:
    proj, _ = folders
    proc = run_dsconfig("verify", "--json", "--timeout", "10", cwd=proj)
    assert proc.returncode == 0, proc.stderr
    [report] = json.loads(proc.stdout)["profiles"]
    assert report["profile"] == "h" and report["base_url"] == fake_deepseek_2.base_url
    assert fake_deepseek_2.message_requests and {r.key for r in fake_deepseek_2.message_requests} == {KEY_PROJ}
    assert fake_deepseek.request_count == 0


def test_exec_defaults_to_the_folders_profile(run_dsconfig: Any, folders: tuple[Path, Path], fake_deepseek: FakeDeepSeek,
                                              fake_deepseek_2: FakeDeepSeek) -> None:
    proj, elsewhere = folders
    show = ("sh", "-c", 'printf %s "$ANTHROPIC_BASE_URL"')
    assert run_dsconfig("exec", "--", *show, cwd=proj).stdout == fake_deepseek_2.base_url
    assert run_dsconfig("exec", "--", *show, cwd=elsewhere).stdout == fake_deepseek.base_url
    assert run_dsconfig("exec", "ds", "--", *show, cwd=proj).stdout == fake_deepseek.base_url
    assert run_dsconfig("exec", "ds", *show, cwd=proj).stdout == fake_deepseek.base_url  # `--` stays optional after NAME


def test_exec_claude_in_the_folder_uses_its_profile(run_dsconfig: Any, folders: tuple[Path, Path], fake_deepseek: FakeDeepSeek,
                                                    fake_deepseek_2: FakeDeepSeek, claude_bin: Path, home: Path) -> None:
    proj, _ = folders
    proc = run_dsconfig("exec", "--", str(claude_bin), "-p", "Say hello", "--output-format", "json",
                        env=claude_env(home), timeout=90, cwd=proj)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert parse_result(proc).result == "Hello from fake DeepSeek"
    assert fake_deepseek_2.message_requests and {r.key for r in fake_deepseek_2.message_requests} == {KEY_PROJ}
    assert fake_deepseek.request_count == 0
