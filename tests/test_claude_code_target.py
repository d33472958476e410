"""dsconfig.targets.claude_code and dsconfig.switch: merge, switch, undo, scopes, safety, warnings, exec overrides.

Golden files: tests/data/claude_code/<case>/before.json is laid into a temp home as ~/.claude/settings.json
(absent/ has none); after `use` the file must equal <case>/after_use.json byte for byte (switch/ also
after_switch.json after switching to a second profile); after `off` it must equal before.json again.
UPDATE_GOLDEN=1 rewrites the after files (review the diff before committing it).
The real `claude` CLI proves the written files work: tests/test_claude_code_real.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsconfig import actions, apply, fileio, switch
from dsconfig.context import AppContext
from dsconfig.errors import InvalidFileError, NotFoundError, UsageError
from dsconfig.journal import Journal
from dsconfig.profiles import ProfileStore
from dsconfig.targets import claude_code as cc
from dsconfig.targets.context import TargetContext

DATA = Path(__file__).parent / "data" / "claude_code"
FAKE_DSCONFIG = ("/opt/dsconfig/bin/dsconfig",)
HELPER_DS = "/opt/dsconfig/bin/dsconfig key get ds"
# Shaped like a DeepSeek key (sk- + 32 hex) so no shape warning, but made up.
KEY = "sk-" + "0123456789abcdef" * 2
KEY_GW = "sk-gw-" + "fedcba9876543210" * 2
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


@dataclass
class World:
    home: Path
    proj: Path
    actx: actions.Context
    tctx: TargetContext

    @property
    def settings(self) -> Path:
        return self.home / ".claude" / "settings.json"

    @property
    def state(self) -> Path:
        return self.home / ".claude.json"

    @property
    def local(self) -> Path:
        return self.proj / ".claude" / "settings.local.json"

    def use(self, name: str = "ds", **kw: Any) -> switch.SwitchResult:
        # root: the machine's own /etc/claude-code must not decide a test
        return switch.run_use(switch.UseRequest(name, **kw),
                              AppContext.of(self.actx, replace(self.tctx, root=self.home.parent / "no-root")))

    def off(self, **kw: Any) -> switch.SwitchResult:
        return switch.run_off(switch.OffRequest(**kw), AppContext.of(self.actx, self.tctx))

    def with_ctx(self, **kw: Any) -> World:
        fields = {"home": self.home, "platform": "linux", "environ": self.tctx.environ, "cwd": self.proj,
                  "journal": self.tctx.journal, "dsconfig_command": FAKE_DSCONFIG, **kw}
        return World(self.home, self.proj, self.actx, TargetContext(**fields))


def make_world(tmp_path: Path, home: Path, keyring: Any, environ: dict[str, str] | None = None) -> World:
    proj = tmp_path / "proj"
    proj.mkdir(exist_ok=True)
    actx = actions.Context(store=ProfileStore(), secrets=keyring, environ={})
    tctx = TargetContext(home=home, platform="linux", environ={"HOME": str(home), **(environ or {})}, cwd=proj,
                         journal=Journal(), dsconfig_command=FAKE_DSCONFIG)
    return World(home, proj, actx, tctx)


@pytest.fixture
def world(tmp_path: Path, home: Path, memory_keyring: Any) -> World:
    w = make_world(tmp_path, home, memory_keyring)
    actions.profile_add("ds", "deepseek", key=KEY, ctx=w.actx)
    actions.profile_add("gw", "custom", base_url="http://gateway.internal:4000", models={"main": "gw-large"},
                        env={"GW_FLAG": "1"}, key=KEY_GW, ctx=w.actx)
    return w


def lay(world: World, case: str) -> bytes | None:
    before = DATA / case / "before.json"
    if not before.exists():
        return None
    world.settings.parent.mkdir(parents=True, exist_ok=True)
    world.settings.write_bytes(before.read_bytes())
    return before.read_bytes()


def golden(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.write_bytes(actual)
    assert actual == path.read_bytes(), f"differs from {path} (UPDATE_GOLDEN=1 rewrites it)"


def env_of(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_bytes()).get("env", {}))


# --- golden merges ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["realistic", "tab_unicode", "minified", "absent"])
def test_golden_use_then_off_restores_original_bytes(world: World, case: str) -> None:
    original = lay(world, case)
    world.use()
    golden(DATA / case / "after_use.json", world.settings.read_bytes())
    world.off()
    if original is None:
        assert not world.settings.exists()
    else:
        assert world.settings.read_bytes() == original
    assert not world.state.exists()  # created by `use`, untouched since: removed again
    assert world.tctx.journal.load() == {}


def test_golden_switch_leaves_nothing_of_the_first_profile(world: World) -> None:
    original = lay(world, "switch")
    world.use("ds")
    golden(DATA / "switch" / "after_use.json", world.settings.read_bytes())
    world.use("gw")
    golden(DATA / "switch" / "after_switch.json", world.settings.read_bytes())
    env = env_of(world.settings)
    ds_only = set(cc.settings_edits(actions.resolved_profile("ds", world.actx), world.tctx)) - {("apiKeyHelper",)}
    gw_env = actions.resolved_profile("gw", world.actx).claude_env()
    for _, var in ds_only:
        if var not in gw_env and var not in cc.CREDENTIAL_VARS:
            assert var not in env, var
    # Even the user's own opus model goes while gw is applied (a Claude model name would fail on the
    # gateway); `off` brings it back.
    assert env["MY_OWN"] == "keep me"
    world.off()
    assert world.settings.read_bytes() == original


def test_realistic_after_use_content(world: World) -> None:
    """What the golden file holds, stated: the owned keys, the credential overrides, everything else kept."""
    lay(world, "realistic")
    world.use()
    doc = json.loads(world.settings.read_bytes())
    before = json.loads((DATA / "realistic" / "before.json").read_bytes())
    assert doc["apiKeyHelper"] == HELPER_DS
    assert doc["env"]["ANTHROPIC_BASE_URL"] == "https://api.deepseek.com/anthropic"
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == "" and doc["env"]["ANTHROPIC_API_KEY"] == ""
    assert "ANTHROPIC_SMALL_FAST_MODEL" not in doc["env"]
    assert doc["env"]["ANTHROPIC_MODEL"] == "deepseek-flash[1m]"
    for key in ("hooks", "permissions", "statusLine", "enabledMcpjsonServers", "model", "$schema", "cleanupPeriodDays"):
        assert doc[key] == before[key]
    assert list(doc)[: len(before)] == list(before)
    assert doc["env"]["BASH_DEFAULT_TIMEOUT_MS"] == "120000" and doc["env"]["DISABLE_TELEMETRY"] == "1"
    assert world.settings.read_bytes().startswith(b'{\n    "$schema"') and not world.settings.read_bytes().endswith(b"\n")


def test_reapply_is_byte_identical_and_writes_nothing(world: World) -> None:
    lay(world, "realistic")
    world.use()
    first, mtime = world.settings.read_bytes(), world.settings.stat().st_mtime_ns
    journal = world.tctx.journal.path.read_bytes()
    result = world.use()
    assert result.changed == ()
    assert world.settings.read_bytes() == first and world.settings.stat().st_mtime_ns == mtime
    assert world.tctx.journal.path.read_bytes() == journal


def test_switch_back_and_forth_then_off(world: World) -> None:
    original = lay(world, "realistic")
    world.use("ds")
    after_ds = world.settings.read_bytes()
    world.use("gw")
    assert env_of(world.settings)["ANTHROPIC_BASE_URL"] == "http://gateway.internal:4000"
    assert json.loads(world.settings.read_bytes())["apiKeyHelper"] == "/opt/dsconfig/bin/dsconfig key get gw"
    world.use("ds")
    assert world.settings.read_bytes() == after_ds
    world.off()
    assert world.settings.read_bytes() == original


def test_openrouter_keeps_its_deliberately_empty_api_key(world: World) -> None:
    actions.profile_add("or", "openrouter", key="sk-or-v1-made-up", ctx=world.actx)
    world.use("or")
    env = env_of(world.settings)
    assert env["ANTHROPIC_API_KEY"] == "" and env["ANTHROPIC_AUTH_TOKEN"] == ""
    world.use("or", inline_key=True)
    env = env_of(world.settings)
    assert env["ANTHROPIC_AUTH_TOKEN"] == "sk-or-v1-made-up" and env["ANTHROPIC_API_KEY"] == ""


# --- ~/.claude.json -----------------------------------------------------------------------------------------


def test_onboarding_flag_is_a_minimal_insertion_and_undone_when_untouched(world: World) -> None:
    original = (DATA / "state" / "before.json").read_bytes()
    world.state.write_bytes(original)
    world.use()
    after = world.state.read_bytes()
    golden(DATA / "state" / "after_use.json", after)
    assert b"1e-7" in after and b"1.5e+21" in after and "zoë".encode() in after  # Claude Code's own formatting kept
    assert json.loads(after)["hasCompletedOnboarding"] is True
    world.off()
    assert world.state.read_bytes() == original


def test_onboarding_flag_undone_key_by_key_after_claude_rewrote_the_file(world: World) -> None:
    world.use()
    doc = json.loads(world.state.read_bytes())
    doc["numStartups"] = 1  # Claude Code's own rewrite
    world.state.write_text(json.dumps(doc, indent=2))
    world.off()
    # Issue 11: the flag was absent before dsconfig, so it goes; Claude Code's own member stays.
    assert json.loads(world.state.read_bytes()) == {"numStartups": 1}
    assert world.tctx.journal.load() == {}


def test_onboarding_flag_true_is_not_touched(world: World) -> None:
    content = b'{\n  "hasCompletedOnboarding": true\n}\n'
    world.state.write_bytes(content)
    result = world.use()
    assert world.state.read_bytes() == content
    assert str(world.state) not in [f.path for f in result.files]
    world.off()
    assert world.state.read_bytes() == content


def test_onboarding_flag_false_is_set_and_put_back(world: World) -> None:
    """Issue 11 case 4: `false` shows the first-run screens even with a key; `off` puts `false` back exactly."""
    content = b'{"hasCompletedOnboarding": false}'
    world.state.write_bytes(content)
    world.use()
    assert json.loads(world.state.read_bytes()) == {"hasCompletedOnboarding": True}
    world.off()
    assert world.state.read_bytes() == content


@pytest.mark.parametrize(("before", "after"), [
    (b"{}", b'{"hasCompletedOnboarding": true}'),
    (b'{"a": 1}\n', b'{"a": 1, "hasCompletedOnboarding": true}\n'),
    (b"{\n}\n", b'{\n  "hasCompletedOnboarding": true\n}\n'),
    (b'{\n    "a": [1e-7]\n}', b'{\n    "a": [1e-7],\n    "hasCompletedOnboarding": true\n}'),
])
def test_onboarding_insertion_shapes(world: World, before: bytes, after: bytes) -> None:
    world.state.write_bytes(before)
    world.use()
    assert world.state.read_bytes() == after
    world.off()
    assert world.state.read_bytes() == before


def test_project_scope_does_not_touch_claude_json(world: World) -> None:
    world.use(scope="project")
    assert not world.state.exists()


# --- scopes -------------------------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_project_scope_writes_local_file_only_and_off_removes_it(world: World) -> None:
    lay(world, "realistic")
    world.use("ds")
    user_after = world.settings.read_bytes()
    result = world.use("gw", scope="project")
    assert [f.path for f in result.changed] == [str(world.local)]
    assert world.settings.read_bytes() == user_after
    local = json.loads(world.local.read_bytes())
    assert local["apiKeyHelper"] == "/opt/dsconfig/bin/dsconfig key get gw"
    assert local["env"]["ANTHROPIC_BASE_URL"] == "http://gateway.internal:4000"
    # The user file (profile ds) sets tiers gw does not: the project file must override them, not leave them.
    for var in ("ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL"):
        assert local["env"][var] == ""
    assert world.actx.store.load().active == "ds"  # a project-scope use does not change the active profile
    world.off(scope="project")
    assert not world.local.exists()
    assert world.settings.read_bytes() == user_after
    assert world.actx.store.load().active == "ds"


def test_project_scope_off_in_another_folder_leaves_this_one(world: World, tmp_path: Path) -> None:
    world.use("ds", scope="project")
    other = tmp_path / "other"
    other.mkdir()
    result = world.with_ctx(cwd=other).off(scope="project")
    assert result.changed == () and world.local.exists()
    assert any("nothing to undo" in n for n in result.notes)


def test_project_scope_git_ignore_check(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    result = world.use(scope="project")
    assert not any("git" in w for w in result.warnings)  # not a repository
    world.off(scope="project")
    git(world.proj, "init", "-q")
    result = world.use(scope="project")
    assert any("not ignored by git" in w for w in result.warnings)
    assert "not ignored by git" not in capsys.readouterr().err  # data for the renderer: switch prints nothing
    world.off(scope="project")
    (world.proj / ".gitignore").write_text(".claude/settings.local.json\n")
    result = world.use(scope="project")
    assert not any("git" in w for w in result.warnings)


def test_claude_config_dir_is_honoured(world: World, tmp_path: Path) -> None:
    cfg = tmp_path / "claude-config"
    w = world.with_ctx(environ={"HOME": str(world.home), "CLAUDE_CONFIG_DIR": str(cfg)})
    w.use()
    assert json.loads((cfg / "settings.json").read_bytes())["apiKeyHelper"] == HELPER_DS
    assert json.loads((cfg / ".claude.json").read_bytes()) == {"hasCompletedOnboarding": True}
    assert not world.settings.exists() and not world.state.exists()
    w.off()
    assert not (cfg / "settings.json").exists()


def test_active_profile_follows_user_scope(world: World) -> None:
    assert world.actx.store.load().active is None
    world.use("gw")
    assert world.actx.store.load().active == "gw"
    world.off(dry_run=True)
    assert world.actx.store.load().active == "gw"
    world.off()
    assert world.actx.store.load().active is None


# --- inline key ---------------------------------------------------------------------------------------------


def test_inline_key_writes_token_no_helper_0600_and_warns(world: World) -> None:
    lay(world, "realistic")
    os.chmod(world.settings, 0o644)
    result = world.use(inline_key=True)
    doc = json.loads(world.settings.read_bytes())
    assert doc["env"]["ANTHROPIC_AUTH_TOKEN"] == KEY and doc["env"]["ANTHROPIC_API_KEY"] == ""
    assert "apiKeyHelper" not in doc
    assert stat.S_IMODE(world.settings.stat().st_mode) == 0o600
    assert any("plain text" in w for w in result.warnings)
    assert all(KEY not in f.diff for f in result.files)
    world.use()  # back to the helper: the key leaves the file
    assert KEY not in world.settings.read_text()


def test_inline_key_for_x_api_key_provider_uses_api_key_variable(world: World) -> None:
    actions.profile_add("ant", "anthropic", key="sk-ant-made-up-key", ctx=world.actx)
    world.use("ant", inline_key=True)
    env = env_of(world.settings)
    assert env["ANTHROPIC_API_KEY"] == "sk-ant-made-up-key" and env["ANTHROPIC_AUTH_TOKEN"] == ""


def test_inline_key_without_keyring_reads_input(world: World) -> None:
    world.actx.secrets.delete("ds")
    with pytest.raises(NotFoundError) as err:
        world.use(inline_key=True, read_key=lambda: None)
    assert "--api-key-stdin" in (err.value.hint or "")
    assert not world.settings.exists()
    world.use(inline_key=True, read_key=lambda: f"  {KEY}\n", key_from_input=True)
    assert env_of(world.settings)["ANTHROPIC_AUTH_TOKEN"] == KEY


def test_missing_key_is_warned_about(world: World) -> None:
    world.actx.secrets.delete("ds")
    result = world.use()
    assert any("no API key stored" in w for w in result.warnings)


# --- dry run ------------------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_shows_every_diff(world: World) -> None:
    original = lay(world, "realistic")
    result = world.use(dry_run=True)
    assert world.settings.read_bytes() == original and not world.state.exists()
    assert not world.tctx.journal.path.exists()
    assert world.actx.store.load().active is None
    diff = result.diff()
    shown = str(world.settings).lstrip("/")
    assert f"--- a/{shown}" in diff and f"+++ b/{shown}" in diff
    assert '-        "ANTHROPIC_BASE_URL": "https://old-proxy.example.com",' in diff
    assert '+        "ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic",' in diff
    assert f"--- /dev/null\n+++ b/{str(world.state).lstrip('/')}" in diff and '+  "hasCompletedOnboarding": true' in diff
    assert [f.action for f in result.files] == ["update", "create"]
    inline = world.use(dry_run=True, inline_key=True)
    assert KEY not in inline.diff() and "sk-…cdef" in inline.diff()


def test_off_dry_run_writes_nothing(world: World) -> None:
    lay(world, "realistic")
    world.use()
    after, journal = world.settings.read_bytes(), world.tctx.journal.path.read_bytes()
    result = world.off(dry_run=True)
    assert world.settings.read_bytes() == after and world.tctx.journal.path.read_bytes() == journal
    assert {f.action for f in result.changed} == {"update", "remove"}


# --- undo with user edits -----------------------------------------------------------------------------------


def test_user_edit_of_owned_key_is_kept_with_a_warning_unless_forced(world: World) -> None:
    lay(world, "switch")
    world.use()
    doc = json.loads(world.settings.read_bytes())
    doc["env"]["ANTHROPIC_MODEL"] = "my-own-choice"
    world.settings.write_text(json.dumps(doc, indent=2) + "\n")
    result = world.off(dry_run=True)
    assert any("ANTHROPIC_MODEL" in w and "--force" in w for w in result.warnings)
    result = world.off()
    assert any("kept your value" in w for w in result.warnings)
    env = env_of(world.settings)
    assert env["ANTHROPIC_MODEL"] == "my-own-choice" and "ANTHROPIC_BASE_URL" not in env
    assert env["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "claude-opus-4-1"


def test_forced_off_restores_the_original_value(world: World) -> None:
    original = lay(world, "switch")
    world.use()
    doc = json.loads(world.settings.read_bytes())
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "changed-by-hand"
    world.settings.write_text(json.dumps(doc, indent=2) + "\n")
    world.off(force=True)
    assert json.loads(world.settings.read_bytes()) == json.loads(original or b"")


def test_force_after_a_kept_edit_still_restores(world: World) -> None:
    original = lay(world, "switch")
    world.use()
    doc = json.loads(world.settings.read_bytes())
    doc["env"]["ANTHROPIC_DEFAULT_OPUS_MODEL"] = "changed-by-hand"
    world.settings.write_text(json.dumps(doc, indent=2) + "\n")
    world.off()
    world.off(force=True)
    assert json.loads(world.settings.read_bytes()) == json.loads(original or b"")


def test_off_with_nothing_applied_is_a_note(world: World) -> None:
    result = world.off()
    assert result.files == () and any("nothing to undo" in n for n in result.notes)


# --- safety -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "fragment", "line"), [
    (b'{\n  "env": ["ANTHROPIC_BASE_URL"]\n}\n', "'env' is a JSON array, expected an object", 2),
    (b'{\n  "env": {\n    "API_TIMEOUT_MS": 600000\n  }\n}\n', "env.API_TIMEOUT_MS is a JSON number", 3),
    (b'{\n  "env": {"X": true}\n}\n', "env.X is a JSON boolean", 2),
    (b'{\n  "env": {"X": null}}', "env.X is a JSON null", 2),
    (b'{"env": {},}', "not valid JSON", 1),
    (b"", "empty", 1),
    (b'["env"]', "expected an object", None),
])
def test_invalid_settings_refused_nothing_written(world: World, content: bytes, fragment: str, line: int | None) -> None:
    world.settings.parent.mkdir(parents=True)
    world.settings.write_bytes(content)
    with pytest.raises(InvalidFileError) as err:
        world.use()
    assert str(world.settings) in err.value.message and fragment in err.value.message
    assert err.value.hint
    assert err.value.line == line
    assert world.settings.read_bytes() == content
    assert not world.state.exists() and not world.tctx.journal.path.exists()
    assert world.actx.store.load().active is None


def test_invalid_state_file_stops_before_settings_are_written(world: World) -> None:
    world.state.write_bytes(b'{"numStartups": 1,}')
    with pytest.raises(InvalidFileError) as err:
        world.use()
    assert str(world.state) in err.value.message
    assert not world.settings.exists()


def test_read_only_file_is_a_clear_error(world: World) -> None:
    original = lay(world, "realistic")
    os.chmod(world.settings, 0o444)
    with pytest.raises(fileio.WriteError) as err:
        world.use()
    assert "read-only" in err.value.message and "chmod u+w" in (err.value.hint or "")
    assert world.settings.read_bytes() == original and not world.state.exists()


def test_read_only_folder_is_a_clear_error(world: World) -> None:
    folder = world.home / ".claude"
    folder.mkdir()
    os.chmod(folder, 0o555)
    try:
        with pytest.raises(fileio.WriteError) as err:
            world.use()
        assert "read-only" in err.value.message and str(folder) in err.value.message
        assert not world.state.exists()
    finally:
        os.chmod(folder, 0o755)


def test_atomic_write_refuses_read_only_file(tmp_path: Path) -> None:
    f = tmp_path / "settings.json"
    f.write_text("{}")
    os.chmod(f, 0o444)
    with pytest.raises(fileio.WriteError):
        fileio.atomic_write(f, b'{"a": 1}')


def test_symlinked_settings_written_through(world: World, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude-settings.json"
    real.parent.mkdir()
    real.write_bytes((DATA / "realistic" / "before.json").read_bytes())
    world.settings.parent.mkdir()
    world.settings.symlink_to(real)
    world.use()
    assert world.settings.is_symlink() and "apiKeyHelper" in real.read_text()
    world.off()
    assert world.settings.is_symlink() and real.read_bytes() == (DATA / "realistic" / "before.json").read_bytes()


def test_backup_of_original_is_kept(world: World) -> None:
    original = lay(world, "realistic")
    world.use()
    record = world.tctx.journal.get(world.settings)
    assert record is not None and record.backup is not None
    assert Path(record.backup).read_bytes() == original


def test_key_is_in_no_file_without_inline(world: World, tmp_path: Path) -> None:
    lay(world, "realistic")
    world.use(scope="project")
    world.use()
    world.use("gw")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert KEY.encode() not in data and KEY_GW.encode() not in data, path


# --- targets ------------------------------------------------------------------------------------------------


def test_target_all_skips_absent_desktop_and_project_scope(world: World) -> None:
    result = world.use(target="all")
    assert result.targets in (("claude-code",), ("claude-code", "claude-desktop"))
    if result.targets == ("claude-code",):
        assert any("Claude Desktop skipped" in n for n in result.notes)
    result = world.use(target="all", scope="project")
    assert result.targets == ("claude-code",)
    with pytest.raises(UsageError):
        world.use(target="claude-desktop", scope="project")
    with pytest.raises(UsageError):
        world.use(target="vim")


def test_unknown_profile_is_not_found_nothing_written(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.use("nope")
    assert not world.settings.exists()


# --- warnings about what still beats the profile ------------------------------------------------------------


def test_warns_about_managed_settings_project_files_and_environment(world: World, tmp_path: Path) -> None:
    root = tmp_path / "root"
    managed = root / "etc" / "claude-code" / "managed-settings.json"
    managed.parent.mkdir(parents=True)
    managed.write_text('{"env": {"ANTHROPIC_BASE_URL": "https://corp.example"}}')
    (world.proj / ".claude").mkdir()
    (world.proj / ".claude" / "settings.json").write_text('{"apiKeyHelper": "corp-key", "env": {"ANTHROPIC_MODEL": "x"}}')
    environ = {"HOME": str(world.home), "ANTHROPIC_AUTH_TOKEN": "sk-exported", "ANTHROPIC_BASE_URL": "https://e",
               "CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_CUSTOM_HEADERS": "X-A: 1"}
    w = world.with_ctx(environ=environ)
    r = actions.resolved_profile("ds", w.actx)
    found = cc.use_warnings(r, w.tctx, scope="user", inline_key=False, root=root)
    text = "\n".join(found)
    assert f"managed settings {managed} set ANTHROPIC_BASE_URL" in text
    assert "settings.json sets ANTHROPIC_MODEL, apiKeyHelper" in text
    assert "CLAUDE_CODE_USE_BEDROCK" in text and "ANTHROPIC_CUSTOM_HEADERS" in text
    # Overridden by the settings env, so not "still beating" the profile:
    assert "ANTHROPIC_AUTH_TOKEN" not in text and "https://e" not in text
    project = cc.use_warnings(r, w.tctx, scope="project", inline_key=False, root=root, git=lambda _p, _c: None)
    assert any("managed settings" in x for x in project)
    assert not any("settings.json sets" in x for x in project)  # the local file beats the project one


def test_exported_stale_variables_do_not_change_the_file(world: World) -> None:
    """The written bytes depend on files only, not on the shell dsconfig runs in (re-runs stay identical)."""
    world.use()
    first = world.settings.read_bytes()
    w = world.with_ctx(environ={"HOME": str(world.home), "ANTHROPIC_SMALL_FAST_MODEL": "x", "ANTHROPIC_AUTH_TOKEN": "y"})
    assert w.use().changed == ()
    assert world.settings.read_bytes() == first


# --- exec overrides -----------------------------------------------------------------------------------------


def test_run_overrides_carry_profile_and_helper_but_no_key(world: World) -> None:
    r = actions.resolved_profile("gw", world.actx)
    found = cc.CLAUDE_CODE.run_overrides(r, world.tctx)
    argv, extra = list(found.argv), found.env
    assert argv[0] == "--settings" and len(argv) == 2
    assert KEY_GW not in " ".join(argv)
    doc = json.loads(argv[1])
    assert doc["apiKeyHelper"] == "/opt/dsconfig/bin/dsconfig key get gw"
    env = doc["env"]
    assert env["ANTHROPIC_BASE_URL"] == "http://gateway.internal:4000" and env["ANTHROPIC_MODEL"] == "gw-large"
    assert env["GW_FLAG"] == "1"
    assert env["ANTHROPIC_AUTH_TOKEN"] == "" and env["ANTHROPIC_API_KEY"] == ""
    # ANTHROPIC_CUSTOM_HEADERS too: another setup's headers may carry its credential (outside tester, finding 3)
    for var in ("ANTHROPIC_DEFAULT_OPUS_MODEL", "ANTHROPIC_SMALL_FAST_MODEL", "CLAUDE_CODE_USE_BEDROCK",
                "ANTHROPIC_CUSTOM_HEADERS"):
        assert env[var] == ""
    assert extra == {"ANTHROPIC_AUTH_TOKEN": "", "ANTHROPIC_API_KEY": ""}


def test_exec_environment_for_claude_holds_no_key(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the lead's `actions.exec_environment`: neither argv nor environment of claude hold the key."""
    actx = actions.Context(store=world.actx.store, secrets=world.actx.secrets, environ={"PATH": "/usr/bin", "HOME": str(world.home)})
    argv, environ = actions.exec_environment("ds", ["claude", "-p", "hi"], actx)
    assert argv[0] == "claude" and argv[1] == "--settings" and argv[-2:] == ["-p", "hi"]
    assert KEY not in " ".join(argv) and KEY not in environ.values()


# --- property: generated settings documents ------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_leaf = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), _text)
_value = st.recursive(_leaf, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
                      max_leaves=8)
_var = st.one_of(st.sampled_from([*cc.ROUTING_VARS, "FOO", "API_TIMEOUT_MS", "CLAUDE_CODE_EFFORT_LEVEL"]),
                 st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True))
_env = st.dictionaries(_var, _text, max_size=6)
_top = st.dictionaries(st.one_of(_text, st.sampled_from(["hooks", "permissions", "apiKeyHelper", "model"])), _value, max_size=5)


@st.composite
def settings_docs(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(_top)
    doc.pop("env", None)
    if draw(st.booleans()):
        doc["env"] = draw(_env)
    return doc


def _owned(resolved: Any, ctx: TargetContext) -> set[tuple[str, ...]]:
    return {tuple(str(s) for s in k) for k in cc.settings_edits(resolved, ctx)}


def _without(doc: dict[str, Any], owned: set[tuple[str, ...]]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for path in owned:
        if len(path) == 1:
            out.pop(path[0], None)
        elif isinstance(out.get(path[0]), dict):
            out[path[0]].pop(path[1], None)
    if out.get("env") == {}:  # an env object dsconfig created holds only owned keys
        out.pop("env")
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=settings_docs(), indent=st.sampled_from([None, 2, 4, "\t"]), newline=st.booleans(), profile=st.sampled_from(["ds", "gw"]))
def test_property_use_then_off_restores_bytes_and_touches_only_owned_keys(
    world: World, tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any], indent: Any, newline: bool, profile: str,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    w = world.with_ctx(home=folder, journal=Journal(folder / "journal.json"), cwd=folder)
    settings_path = folder / ".claude" / "settings.json"
    settings_path.parent.mkdir()
    original = (json.dumps(doc, indent=indent, ensure_ascii=False) + ("\n" if newline else "")).encode()
    settings_path.write_bytes(original)
    resolved = actions.resolved_profile(profile, w.actx)
    apply.apply_all(lambda: cc.plan_use(resolved, w.tctx), journal=w.tctx.journal)
    after = json.loads(settings_path.read_bytes())
    owned = _owned(resolved, w.tctx)
    assert _without(after, owned) == _without(doc, owned)
    assert after["env"]["ANTHROPIC_BASE_URL"] == resolved.base_url
    apply.apply_all(lambda: cc.plan_off(w.tctx), journal=w.tctx.journal)
    assert settings_path.read_bytes() == original
    assert not (folder / ".claude.json").exists()


# --- misc ---------------------------------------------------------------------------------------------------


def test_profile_from_helper() -> None:
    assert cc.profile_from_helper("'/opt/my tools/dsconfig' key get work") == "work"
    assert cc.profile_from_helper("/usr/bin/python3 -m dsconfig key get ds") == "ds"
    assert cc.profile_from_helper("~/bin/get-key.sh") is None
    assert cc.profile_from_helper("'unterminated") is None


def test_key_command_is_quoted_for_sh(world: World, tmp_path: Path) -> None:
    w = world.with_ctx(dsconfig_command=(str(tmp_path / "my tools" / "ds'config"),))
    w.use()
    helper = json.loads(world.settings.read_bytes())["apiKeyHelper"]
    script = tmp_path / "my tools" / "ds'config"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho \"args:$*\"\n")
    script.chmod(0o755)
    out = subprocess.run(["/bin/sh", "-c", helper], capture_output=True, text=True, check=True).stdout
    assert out == "args:key get ds\n"


# --- the commands -------------------------------------------------------------------------------------------


def test_use_and_off_commands(run_dsconfig: Any, home: Path, tmp_path: Path) -> None:
    """Exit codes and streams: the diff is data (stdout), everything else goes to stderr."""
    settings_path = home / ".claude" / "settings.json"
    assert run_dsconfig("profile", "add", "ds", "--provider", "deepseek").returncode == 0
    dry = run_dsconfig("use", "ds", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("--- /dev/null\n+++ b/") and "apiKeyHelper" in dry.stdout
    assert "dry run: nothing was written" in dry.stderr and not settings_path.exists()
    assert run_dsconfig("use", "nope").returncode == 3
    settings_path.parent.mkdir()
    settings_path.write_text('{"env": {"A": 1}}')
    bad = run_dsconfig("use", "ds")
    assert bad.returncode == 4 and "env.A is a JSON number" in bad.stderr and "hint:" in bad.stderr
    settings_path.write_text("{}\n")
    done = run_dsconfig("use", "ds")
    assert done.returncode == 0 and done.stdout == ""
    assert f"changed {settings_path}" in done.stderr and "now uses profile 'ds'" in done.stderr
    assert json.loads(settings_path.read_text())["apiKeyHelper"].endswith(" key get ds")
    off = run_dsconfig("off", "--dry-run")
    assert off.returncode == 0 and f"--- a/{str(settings_path).lstrip('/')}" in off.stdout
    off = run_dsconfig("off")
    assert off.returncode == 0 and settings_path.read_text() == "{}\n"
    assert run_dsconfig("use", "ds", "--target", "claude-desktop", "--scope", "project").returncode == 2
