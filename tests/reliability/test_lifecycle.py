"""Undo that survives real use (issue 11): others write between dsconfig's commands, and their changes stay.

- The issue's cases, each a regression test (case 3, the real claude between two `use`, is in
  tests/test_claude_code_real.py; case 6, adoption, in tests/test_wizard.py).
- Faults between the files of one multi-file `use`: disk full, permission denied, Ctrl-C, SIGKILL. After each,
  the files and profiles.toml's active profile agree, and "nothing was changed" is printed only when true.
- dsconfig processes do not undo each other: profile and key changes take the switch lock.
- A model-based test (hypothesis RuleBasedStateMachine) whose rules are dsconfig commands and the world's
  writes (the user, Claude Code's own rewrites of ~/.claude.json as recorded from the real 2.1.332, re-indenting,
  deleting a file, replacing it by a symlink), with the invariants checked after every step.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .reliability_support import TRACEBACK, World, no_traceback, profiled_world, run_killed_at, toml_ok

B_URL = "https://b.example.com/anthropic"
DEEPSEEK_URL = "https://api.deepseek.com/anthropic"
URLS = {"a": DEEPSEEK_URL, "b": B_URL}


def ok(world: World, *args: str) -> None:
    code = world.cli(*args)
    assert code == 0, f"dsconfig {' '.join(args)} exited {code}"


def load(path: Path) -> Any:
    return json.loads(path.read_bytes())


def edit_base_url_by_hand(path: Path, url: str) -> None:
    """A person changes a member dsconfig owns (the base URL it wrote)."""
    doc = load(path)
    doc["env"]["ANTHROPIC_BASE_URL"] = url
    path.write_text(json.dumps(doc))


def owned_left(doc: dict[str, Any]) -> list[str]:
    """dsconfig's members still in a Claude Code settings document."""
    env = doc.get("env")
    left = [k for k in (env if isinstance(env, dict) else {}) if k.startswith(("ANTHROPIC_", "CLAUDE_CODE_")) or k == "B_ONLY"]
    return left + (["apiKeyHelper"] if "apiKeyHelper" in doc else [])


# --- the cases ------------------------------------------------------------------------------------


def test_case1_user_additions_between_use_b_and_use_a_survive_off(tmp_path: Path) -> None:
    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    world.settings.write_text(json.dumps({"theme": "dark"}, indent=4))
    ok(world, "use", "a")
    doc = load(world.settings)
    doc["enabledPlugins"] = {"formatter@market": True}
    doc["hooks"] = {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo hi"}]}]}
    world.settings.write_text(json.dumps(doc, indent=2))  # an editor (or Claude Code) re-indents
    ok(world, "use", "b")
    ok(world, "use", "a")
    ok(world, "off")
    final = load(world.settings)
    assert final == {"theme": "dark", "enabledPlugins": doc["enabledPlugins"], "hooks": doc["hooks"]}
    assert owned_left(final) == []


def test_case2_a_created_file_with_the_users_additions_stays(tmp_path: Path) -> None:
    world = profiled_world(tmp_path)
    ok(world, "use", "a")  # creates ~/.claude/settings.json
    doc = load(world.settings)
    doc["permissions"] = {"allow": ["Bash(ls)"]}
    world.settings.write_text(json.dumps(doc, indent=2))
    ok(world, "use", "a")  # nothing to change
    ok(world, "off")
    assert load(world.settings) == {"permissions": {"allow": ["Bash(ls)"]}}


def test_case2b_a_created_file_nobody_touched_is_removed(tmp_path: Path) -> None:
    world = profiled_world(tmp_path)
    ok(world, "use", "a")
    ok(world, "use", "b")
    ok(world, "off")
    assert not world.settings.exists() and not world.settings.parent.exists()
    assert not world.state.exists()


def test_case3_claude_code_state_members_survive_use_b_then_off(tmp_path: Path) -> None:
    """The same sequence as the real-claude test, with Claude Code's recorded rewrite (fast, always run)."""
    world = profiled_world(tmp_path)
    world.state.write_text('{"numStartups": 3}')
    ok(world, "use", "a")
    claude_code_rewrites_state(world.state)
    written = load(world.state)
    ok(world, "use", "b")
    ok(world, "off")
    final = load(world.state)
    for key, value in written.items():
        if key != "hasCompletedOnboarding":
            assert final[key] == value, key
    assert "hasCompletedOnboarding" not in final  # it was absent before dsconfig, and dsconfig's value was untouched


def test_case4_onboarding_false_is_set_true_and_off_gives_back_the_bytes(tmp_path: Path) -> None:
    world = profiled_world(tmp_path)
    original = b'{\n  "numStartups": 7,\n  "hasCompletedOnboarding": false,\n  "tipsHistory": {"x": 1e-7}\n}\n'
    world.state.write_bytes(original)
    ok(world, "use", "a")
    assert load(world.state)["hasCompletedOnboarding"] is True
    ok(world, "use", "b")
    ok(world, "off")
    assert world.state.read_bytes() == original


def test_case5_desktop_mcp_server_added_between_two_uses_survives_off(tmp_path: Path) -> None:
    world = profiled_world(tmp_path, library=True)
    config = world.app_configs[1]
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"mcpServers": {}, "deploymentMode": "1p"}, indent=2))
    ok(world, "use", "a", "--target", "claude-desktop")
    doc = load(config)
    doc["mcpServers"]["files"] = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/w"]}
    config.write_text(json.dumps(doc, indent=2))
    ok(world, "use", "b", "--target", "claude-desktop")
    ok(world, "off", "--target", "claude-desktop")
    final = load(config)
    assert final["mcpServers"] == doc["mcpServers"] and final["deploymentMode"] == "1p"


def test_case7_env_made_a_string_by_hand_is_refused_with_the_file_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = profiled_world(tmp_path)
    ok(world, "use", "a")
    doc = load(world.settings)
    doc["env"] = "oops"
    world.settings.write_text(json.dumps(doc, indent=2))
    before = world.settings.read_bytes()
    capsys.readouterr()
    for args in (("off", "--force"), ("off",), ("use", "b")):
        code = world.cli(*args)
        err = capsys.readouterr().err
        assert code == 4, (args, err)
        assert str(world.settings) in err and "env" in err and TRACEBACK not in err
        assert world.settings.read_bytes() == before


def test_owned_member_changed_by_hand_is_kept_and_reported_then_force_restores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    world.settings.write_text('{"env": {"ANTHROPIC_BASE_URL": "https://mine.example"}}')
    ok(world, "use", "a")
    edit_base_url_by_hand(world.settings, "https://edited.example")
    capsys.readouterr()
    ok(world, "off")
    assert "ANTHROPIC_BASE_URL was changed after dsconfig set it" in capsys.readouterr().err
    assert load(world.settings)["env"]["ANTHROPIC_BASE_URL"] == "https://edited.example"
    ok(world, "off", "--force")
    assert load(world.settings) == {"env": {"ANTHROPIC_BASE_URL": "https://mine.example"}}


# --- faults between the files of one `use` -------------------------------------------------------------------


def _two_file_world(tmp_path: Path) -> World:
    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    world.settings.write_text('{\n  "theme": "dark"\n}\n')
    world.state.write_text('{\n  "numStartups": 3\n}\n')
    return world


def _fail_on(name: str, exc: BaseException) -> Any:
    real = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if os.path.basename(os.fspath(dst)) == name:
            raise exc
        real(src, dst, *args, **kwargs)

    return mock.patch("os.replace", replace)


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EACCES])
def test_a_failure_on_the_second_file_puts_the_first_back(tmp_path: Path, error: int, capsys: pytest.CaptureFixture[str]) -> None:
    world = _two_file_world(tmp_path)
    files = {p: p.read_bytes() for p in (world.settings, world.state)}
    with _fail_on(".claude.json", OSError(error, os.strerror(error))):
        code = world.cli("use", "a")
    err = capsys.readouterr().err
    assert code != 0 and TRACEBACK not in err
    assert "nothing was changed" in err and "put back" in err
    assert {p: p.read_bytes() for p in files} == files
    assert toml_ok(world.profiles).get("active") is None
    ok(world, "status")  # and everything still works afterwards
    ok(world, "use", "a")
    assert load(world.settings)["env"]["ANTHROPIC_BASE_URL"] == DEEPSEEK_URL


def test_a_failure_during_a_switch_from_a_to_b_leaves_a_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = _two_file_world(tmp_path)
    ok(world, "use", "a")
    snapshot = {p: p.read_bytes() for p in (world.settings, world.state)}
    capsys.readouterr()
    with _fail_on("settings.json", OSError(errno.ENOSPC, "No space left on device")):
        code = world.cli("use", "b")
    err = capsys.readouterr().err
    assert code != 0 and TRACEBACK not in err and "No space left on device" in err
    assert {p: p.read_bytes() for p in snapshot} == snapshot
    assert toml_ok(world.profiles)["active"] == "a"
    assert "now use" not in err


def test_ctrl_c_between_files_puts_back_and_says_nothing_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = _two_file_world(tmp_path)
    files = {p: p.read_bytes() for p in (world.settings, world.state)}
    real = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        real(src, dst, *args, **kwargs)
        if os.path.basename(os.fspath(dst)) == "settings.json":
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after the first file

    with mock.patch("os.replace", replace):
        code = world.cli("use", "a")
    err = capsys.readouterr().err
    assert code == 130 and "interrupted: nothing was changed" in err, err
    assert {p: p.read_bytes() for p in files} == files
    assert toml_ok(world.profiles).get("active") is None


def test_sigkill_between_files_is_reported_and_finished_by_the_next_command(tmp_path: Path) -> None:
    world = _two_file_world(tmp_path)
    killed = run_killed_at(world, "settings.json", "after", "use", "a")
    assert killed.returncode == -signal.SIGKILL
    # settings.json is switched, ~/.claude.json is not: status says so, and which command finishes or undoes it
    status = world.run("status")
    no_traceback(status)
    assert "interrupted" in status.stdout + status.stderr and "dsconfig use a" in status.stdout + status.stderr
    listed = world.run("profile", "list")  # the active profile may disagree with the files: it says so
    assert "interrupted" in listed.stderr and "dsconfig use a" in listed.stderr
    assert "interrupted" in json.loads(world.run("profile", "list", "--json").stdout)["interrupted_switch"]
    proc = world.run("off")
    no_traceback(proc)
    assert proc.returncode == 0, proc.stderr
    assert world.settings.read_text() == '{\n  "theme": "dark"\n}\n'
    assert world.state.read_text() == '{\n  "numStartups": 3\n}\n'
    assert "interrupted" not in world.run("status").stdout


# --- dsconfig processes do not undo each other ---------------------------------------------------------------


def test_two_profile_adds_at_once_keep_one_profile_and_its_key(tmp_path: Path, secret_service: Any) -> None:
    world = profiled_world(tmp_path)
    env = {k: v for k, v in world.env.items() if k != "PYTHON_KEYRING_BACKEND"}
    wins = 0
    for round_ in range(6):
        name = f"x{round_}"
        procs = [subprocess.Popen([*world_cmd(), "profile", "add", name, "--provider", "deepseek", "--api-key-stdin"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env, cwd=world.proj) for _ in range(2)]
        outs = [p.communicate(input="sk-" + f"{i}" * 32, timeout=60) for i, p in enumerate(procs)]
        codes = sorted(p.returncode for p in procs)
        assert codes == [0, 1], outs
        winner = next(i for i, p in enumerate(procs) if p.returncode == 0)
        got = subprocess.run([*world_cmd(), "key", "get", name], capture_output=True, text=True, env=env, timeout=60,
                             check=False)
        assert got.returncode == 0 and got.stdout.strip() == "sk-" + f"{winner}" * 32, (got.stderr, outs)
        wins += 1
    assert wins == 6


def world_cmd() -> list[str]:
    from .reliability_support import DSCONFIG

    return list(DSCONFIG)


def test_use_racing_profile_rm_never_leaves_claude_on_a_removed_profile(tmp_path: Path) -> None:
    for round_ in range(8):
        world = profiled_world(tmp_path / str(round_))
        procs = [subprocess.Popen([*world_cmd(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=world.env, cwd=world.proj, stdin=subprocess.DEVNULL)
                 for args in (("use", "b"), ("profile", "rm", "b"))]
        for p in procs:
            p.communicate(timeout=60)
        profiles = toml_ok(world.profiles).get("profiles", {})
        helper = load(world.settings).get("apiKeyHelper", "") if world.settings.exists() else ""
        if helper.endswith("key get b"):
            assert "b" in profiles, f"round {round_}: Claude Code points at removed profile b"


# --- the model-based test -------------------------------------------------------------------------------------

# What the real claude 2.1.332 does to ~/.claude.json on a `claude -p` run (recorded against tests/fakes: the
# file before and after, diffed): it rewrites the whole file with 2-space indentation and adds these members;
# settings.json is not rewritten in -p mode.
CLAUDE_CODE_STATE_WRITES: dict[str, Any] = {
    "firstStartTime": "2026-11-30T07:43:16.106Z",
    "firstStartVersion": "2.1.332",
    "machineID": "93b75c8a845556f707f51e27b49a4c93eca22465079ab2c50c0c4c14352bc934",
    "opusProMigrationComplete": True,
    "seenNotifications": {},
    "hasResetAutoModeOptInForDefaultOffer": True,
    "migrationVersion": 15,
    "userID": "81e53a24109dd28d2481f2d22b375adf321564f638ed1e22b06f7852401d1ab2",
    "pluginUsage": {"cc-plugin-agents-md@builtin": {"usageCount": 0, "lastUsedAt": 1796024590947, "lastUsedNumStartups": 3}},
}


def claude_code_rewrites_state(path: Path, n: int = 0) -> dict[str, Any]:
    """Claude Code's own run: its members added (numStartups counted up), the file rewritten 2-space."""
    doc = load(path) if path.exists() else {}
    added = {**CLAUDE_CODE_STATE_WRITES, "numStartups": int(doc.get("numStartups", 0)) + 1}
    if n:
        added[f"projectsSeen{n}"] = n
    doc.update(added)
    path.write_text(json.dumps(doc, indent=2))
    return added


SETTINGS_STARTS = [None, '{"theme": "dark"}', '{\n    "theme": "dark",\n    "env": {\n        "MY_VAR": "1"\n    }\n}',
                   '{\n\t"permissions": {"allow": ["Bash(ls)"]},\n\t"env": {}\n}\n', "{}"]


class Lifecycle(RuleBasedStateMachine):
    """One machine: Claude Code's user and project settings, its state file, Claude Desktop's files."""

    def __init__(self) -> None:
        super().__init__()
        self._tmp = tempfile.TemporaryDirectory(prefix="dsconfig-life-")
        self.world = profiled_world(Path(self._tmp.name), library=True)
        self.applied: dict[str, str | None] = {"user": None, "project": None, "desktop": None}
        # profiles.toml's `active` follows user-scope switches of every target (README, "active profile")
        self.active: str | None = None
        # file -> {top-level member or "env.VAR": value} that someone else wrote and that must stay
        self.foreign: dict[Path, dict[str, Any]] = {}
        self.owned_edits: dict[Path, str] = {}  # an owned member a person changed: kept by `off`
        self.first_use: dict[Path, bytes | None] = {}  # the bytes at the first `use`, while nobody else wrote
        self.clean: dict[Path, bool] = {}
        self.deleted: set[Path] = set()  # removed by the user since the last `use`: the profile went with it
        self.steps = 0

    def teardown(self) -> None:
        self._tmp.cleanup()

    # -- helpers
    def files_for(self, scope: str) -> list[Path]:
        w = self.world
        return [w.settings, w.state] if scope == "user" else [w.local] if scope == "project" else list(w.app_configs) + [w.meta]

    def _cli(self, *args: str) -> None:
        code = self.world.cli(*args)
        assert code == 0, f"dsconfig {' '.join(args)} exited {code}"
        self.steps += 1

    def _foreign_write(self, path: Path) -> None:
        self.clean[path] = False
        self.steps += 1

    def _before_switch(self, scope: str) -> None:
        for path in self.files_for(scope):
            if path not in self.first_use:
                self.first_use[path] = path.read_bytes() if path.exists() else None
                # A hand edit an earlier `off` kept is still under dsconfig's original before-value: `use` then
                # `off` goes back to what the member held before dsconfig, not to the person's value.
                self.clean[path] = "env.ANTHROPIC_BASE_URL" not in self.foreign.get(path, {})

    @initialize(settings_text=st.sampled_from(SETTINGS_STARTS), state_text=st.sampled_from([None, '{"numStartups": 1}',
                '{\n  "hasCompletedOnboarding": false,\n  "userID": "u"\n}\n']))
    def lay_out(self, settings_text: str | None, state_text: str | None) -> None:
        w = self.world
        for path, text in ((w.settings, settings_text), (w.state, state_text)):
            if text is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        config = w.app_configs[0]
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text('{\n  "mcpServers": {"files": {"command": "npx"}},\n  "deploymentMode": "1p"\n}\n')

    # -- dsconfig's commands
    @rule(name=st.sampled_from(["a", "b"]), scope=st.sampled_from(["user", "project"]))
    def use(self, name: str, scope: str) -> None:
        self._before_switch(scope)
        args = ("use", name) + (("--scope", "project") if scope == "project" else ())
        self._cli(*args)
        self.applied[scope] = name
        if scope == "user":
            self.active = name
        for path in self.files_for(scope):
            self.deleted.discard(path)
            self.owned_edits.pop(path, None)  # `use` sets what the profile says, over a hand edit
            self.foreign.get(path, {}).pop("env.ANTHROPIC_BASE_URL", None)

    @rule(name=st.sampled_from(["a", "b"]))
    def use_desktop(self, name: str) -> None:
        self._before_switch("desktop")
        self._cli("use", name, "--target", "claude-desktop")
        self.applied["desktop"] = name
        self.active = name

    @precondition(lambda self: self.applied["user"] is not None or self.applied["project"] is not None)
    @rule(scope=st.sampled_from(["user", "project"]), force=st.booleans())
    def off(self, scope: str, force: bool) -> None:
        args = ("off",) + (("--scope", "project") if scope == "project" else ()) + (("--force",) if force else ())
        self._cli(*args)
        self.applied[scope] = None
        if scope == "user":  # Claude Desktop's profile, if it still uses one (a kept hand edit keeps nothing active)
            self.active = self.applied["desktop"]
        for path in self.files_for(scope):
            original = self.first_use.pop(path, "unset")
            clean = self.clean.pop(path, False)
            edited = self.owned_edits.pop(path, None)
            if original != "unset" and clean and edited is None:
                now = path.read_bytes() if path.exists() else None
                assert now == original, f"off: {path} is not byte-identical though nobody else wrote it"
            if edited is not None and not force:
                assert load(path)["env"]["ANTHROPIC_BASE_URL"] == edited, "a person's edit of an owned member was undone"
                self.foreign.setdefault(path, {})["env.ANTHROPIC_BASE_URL"] = edited
            elif force:  # --force restores the original under a kept hand edit too
                self.foreign.get(path, {}).pop("env.ANTHROPIC_BASE_URL", None)

    @precondition(lambda self: self.applied["desktop"] is not None)
    @rule()
    def off_desktop(self) -> None:
        self._cli("off", "--target", "claude-desktop")
        self.applied["desktop"] = None
        self.active = self.applied["user"]
        for path in self.files_for("desktop"):
            original = self.first_use.pop(path, "unset")
            if original != "unset" and self.clean.pop(path, False):
                now = path.read_bytes() if path.exists() else None
                assert now == original, f"off: {path} is not byte-identical though nobody else wrote it"

    @precondition(lambda self: self.applied["user"] == "b")
    @rule(model=st.sampled_from(["b-main-2", "b-main-3"]))
    def profile_edit_then_use(self, model: str) -> None:
        self._cli("profile", "edit", "b", "--model", f"main={model}")
        if True:  # the precondition: b is applied at user scope
            self._cli("use", "b")
            self.active = "b"
            self.deleted.discard(self.world.settings)
            self.owned_edits.pop(self.world.settings, None)
            self.foreign.get(self.world.settings, {}).pop("env.ANTHROPIC_BASE_URL", None)
            assert load(self.world.settings)["env"]["ANTHROPIC_MODEL"] == model

    # -- the world's writes: one rule, so that dsconfig's commands and others' writes come up equally often
    @rule(data=st.data())
    def someone_else_writes(self, data: st.DataObject) -> None:
        writers: list[Callable[..., None]] = [self.user_adds_a_member, self.user_adds_an_env_variable, self.claude_code_runs, self.reindent,
                   self.user_adds_an_mcp_server, self.user_deletes_the_file]
        if self.applied["user"] is not None and self.world.settings not in self.deleted:
            writers.append(self.user_edits_an_owned_member)
        if self.world.settings.exists() and not self.world.settings.is_symlink():
            writers.append(self.settings_become_a_symlink)
        writer = data.draw(st.sampled_from(writers), label="writer")
        draw_args: dict[Callable[..., None], Callable[[], tuple[object, ...]]] = {
            self.user_adds_a_member: lambda: (data.draw(st.sampled_from(["settings", "local", "state"])),
                                              data.draw(st.sampled_from([None, 2, 4])), data.draw(st.integers(0, 999))),
            self.user_adds_an_env_variable: lambda: (data.draw(st.sampled_from(["settings", "local"])), data.draw(st.integers(0, 99))),
            self.claude_code_runs: lambda: (data.draw(st.integers(0, 50)),),
            self.reindent: lambda: (data.draw(st.sampled_from([None, 1, 3, "\t"])), data.draw(st.sampled_from(["settings", "state"]))),
            self.user_adds_an_mcp_server: lambda: (data.draw(st.integers(0, 9)),),
            self.user_deletes_the_file: lambda: (data.draw(st.sampled_from(["settings", "local"])),),
        }
        writer(*draw_args.get(writer, lambda: ())())

    def user_adds_a_member(self, where: str, indent: int | None, n: int) -> None:
        path = getattr(self.world, where)
        doc = load(path) if path.exists() else {}
        key = f"userSetting{n}"
        doc[key] = {"n": n, "by": "user"}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=indent))
        self.foreign.setdefault(path, {})[key] = doc[key]
        self._foreign_write(path)

    def user_adds_an_env_variable(self, where: str, n: int) -> None:
        path = getattr(self.world, where)
        doc = load(path) if path.exists() else {}
        env = doc.setdefault("env", {})
        assume_dict(env)
        env[f"MY_TOOL_{n}"] = str(n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2))
        self.foreign.setdefault(path, {})[f"env.MY_TOOL_{n}"] = str(n)
        self._foreign_write(path)

    def user_edits_an_owned_member(self) -> None:
        path = self.world.settings
        edit_base_url_by_hand(path, "https://edited-by-hand.example")
        self.owned_edits[path] = "https://edited-by-hand.example"
        self._foreign_write(path)

    def claude_code_runs(self, n: int) -> None:
        added = claude_code_rewrites_state(self.world.state, n)
        for key, value in added.items():
            self.foreign.setdefault(self.world.state, {})[key] = value
        self._foreign_write(self.world.state)

    def reindent(self, indent: Any, where: str) -> None:
        path = getattr(self.world, where)
        if path.exists():
            path.write_text(json.dumps(load(path), indent=indent))
            self._foreign_write(path)

    def user_adds_an_mcp_server(self, n: int) -> None:
        path = self.world.app_configs[0]
        doc = load(path) if path.exists() else {}
        doc.setdefault("mcpServers", {})[f"server{n}"] = {"command": "npx", "args": [str(n)]}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2))
        self.foreign.setdefault(path, {})["mcpServers"] = doc["mcpServers"]
        self._foreign_write(path)

    def user_deletes_the_file(self, where: str) -> None:
        path = getattr(self.world, where)
        if path.exists():
            path.unlink()
            self.deleted.add(path)
            self.foreign.pop(path, None)
            self.owned_edits.pop(path, None)
            self._foreign_write(path)

    def settings_become_a_symlink(self) -> None:
        path = self.world.settings
        dotfiles = self.world.root / "dotfiles"
        dotfiles.mkdir(exist_ok=True)
        target = dotfiles / "claude-settings.json"
        target.write_bytes(path.read_bytes())
        path.unlink()
        path.symlink_to(target)
        self._foreign_write(path)

    # -- invariants
    @invariant()
    def every_file_is_valid_json_and_foreign_changes_are_present(self) -> None:
        for path, members in self.foreign.items():
            if not path.exists():
                continue
            doc = load(path)
            for key, value in members.items():
                if key.startswith("env."):
                    assert doc.get("env", {}).get(key[4:]) == value, f"{path}: {key} lost"
                else:
                    assert doc.get(key) == value, f"{path}: {key} lost"

    @invariant()
    def owned_members_follow_the_applied_profile(self) -> None:
        w = self.world
        for scope, path in (("user", w.settings), ("project", w.local)):
            profile = self.applied[scope]
            if not path.exists() or path in self.deleted:
                continue
            doc = load(path)
            env = doc.get("env") or {}
            if profile is not None:
                if path not in self.owned_edits:
                    assert env.get("ANTHROPIC_BASE_URL") == URLS[profile], f"{path} is not on profile {profile}"
                assert doc.get("apiKeyHelper", "").endswith(f"key get {profile}"), f"{path}: helper of another profile"
                assert ("B_ONLY" in env) == (profile == "b"), f"{path} holds a mix of profiles"
            else:
                kept = {"ANTHROPIC_BASE_URL"} if "env.ANTHROPIC_BASE_URL" in self.foreign.get(path, {}) else set()
                assert set(owned_left(doc)) <= kept, f"{path}: dsconfig's members left after off: {owned_left(doc)}"
        assert toml_ok(w.profiles).get("active") == self.active, "profiles.toml's active disagrees with the files"



def assume_dict(env: Any) -> None:
    from hypothesis import assume

    assume(isinstance(env, dict))


def test_lifecycle_state_machine(figures: Any, slow: bool) -> None:
    steps = runs = 0

    class Counted(Lifecycle):
        def teardown(self) -> None:
            nonlocal steps, runs
            steps += self.steps
            runs += 1
            super().teardown()

    run = settings(max_examples=400 if slow else 60, stateful_step_count=30 if slow else 20, deadline=None,
                   derandomize=not slow, suppress_health_check=list(HealthCheck))
    try:
        run_state_machine_as_test(Counted, settings=run)
    finally:
        figures.add("lifecycle_steps", steps)
        figures.add("lifecycle_runs", runs)
    assert steps >= (3000 if slow else 300)


def test_a_kept_hand_edit_stays_kept_by_a_second_off(tmp_path: Path) -> None:
    """Found by the state machine (--slow): `off` kept a person's value of an owned member; a second `off`
    (after an unrelated `use --scope project`) took it for dsconfig's and removed it."""
    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    world.settings.write_text('{"theme": "dark"}')
    ok(world, "use", "a")
    edit_base_url_by_hand(world.settings, "https://edited-by-hand.example")
    ok(world, "off")
    ok(world, "use", "a", "--scope", "project")
    ok(world, "off")
    assert load(world.settings)["env"]["ANTHROPIC_BASE_URL"] == "https://edited-by-hand.example"
    ok(world, "off", "--force")
    assert load(world.settings) == {"theme": "dark"}


# --- found by the outside tester (issue 11 review) --------------------------------------------------------------


def test_profiles_toml_that_cannot_be_written_puts_the_switched_files_back(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Recording the active profile is part of the switch: when profiles.toml cannot be written (full disk,
    read-only, immutable), the Claude Code files this `use` switched go back and the message says so."""
    world = _two_file_world(tmp_path)
    files = {p: p.read_bytes() for p in (world.settings, world.state)}
    with _fail_on("profiles.toml", OSError(errno.ENOSPC, "No space left on device")):
        code = world.cli("use", "a")
    err = capsys.readouterr().err
    assert code != 0 and TRACEBACK not in err and "nothing was changed" in err, err
    assert {p: p.read_bytes() for p in files} == files
    assert toml_ok(world.profiles).get("active") is None


def test_off_whose_profiles_toml_cannot_be_written_leaves_the_files_switched(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    world = _two_file_world(tmp_path)
    ok(world, "use", "a")
    files = {p: p.read_bytes() for p in (world.settings, world.state)}
    capsys.readouterr()
    with _fail_on("profiles.toml", OSError(errno.EROFS, "Read-only file system")):
        code = world.cli("off")
    assert code != 0 and "nothing was changed" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in files} == files and toml_ok(world.profiles)["active"] == "a"
    ok(world, "off")  # and once it can be written, off works
    assert toml_ok(world.profiles).get("active") is None


def test_a_full_state_folder_after_a_file_was_written_puts_it_back(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The journal's confirmation of settings.json fails (ENOSPC in dsconfig's state folder) after the file was
    written: the file goes back too, and the message does not claim otherwise."""
    world = _two_file_world(tmp_path)
    files = {p: p.read_bytes() for p in (world.settings, world.state)}
    real = os.replace
    journal_writes = []

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if os.path.basename(os.fspath(dst)) == "journal.json":
            journal_writes.append(dst)
            if len(journal_writes) == 3:  # switch marker, pending record, settings.json written, its confirmation
                raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst, *args, **kwargs)

    with mock.patch("os.replace", replace):
        code = world.cli("use", "a")
    err = capsys.readouterr().err
    assert code != 0 and "nothing was changed" in err, err
    assert {p: p.read_bytes() for p in files} == files


def test_off_of_claude_code_leaves_desktop_s_profile_active(tmp_path: Path) -> None:
    world = profiled_world(tmp_path, library=True)
    ok(world, "use", "b", "--target", "all")
    ok(world, "use", "a")
    ok(world, "off")
    assert toml_ok(world.profiles)["active"] == "b"  # Claude Desktop still uses b
    ok(world, "off", "--target", "all")
    assert toml_ok(world.profiles).get("active") is None


def test_use_over_a_hand_changed_owned_member_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = profiled_world(tmp_path)
    ok(world, "use", "b")
    doc = load(world.settings)
    doc["env"]["CLAUDE_CODE_EFFORT_LEVEL"] = "low"
    world.settings.write_text(json.dumps(doc, indent=2))
    capsys.readouterr()
    ok(world, "use", "a")
    assert "CLAUDE_CODE_EFFORT_LEVEL was changed by hand" in capsys.readouterr().err
