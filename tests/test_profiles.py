"""Profiles: the TOML store, names, options, resolving against a template, and the `profile` commands.

Unit tests call actions.* with a temporary ProfileStore and the in-memory keyring; the subprocess tests run the
installed `dsconfig` for what only the real command proves (exit codes, nothing written, the user's comments).

`--json` contracts checked here:
- `profile list --json`: {"active": NAME|null, "profiles": [{"name", "provider", "base_url", "active"}]}
- `profile show --json`: {"name", "provider", "active", "base_url", "models", "env",
  "overrides": {"base_url", "models", "env"}, "key" (masked or null), "key_error"}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from helpers import DEEPSEEK_GUIDE_ENV, MemoryKeyring, RunDsconfig

from dsconfig import actions
from dsconfig.credentials import mask
from dsconfig.errors import (
    EXIT_INVALID_FILE,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    DsconfigError,
    InvalidFileError,
    NotFoundError,
    UsageError,
)
from dsconfig.names import MAX_NAME, validate_name
from dsconfig.profiles import Profile, ProfileStore, parse_env_option, parse_model_option, resolve, validate_base_url
from dsconfig.templates import load_template

DEEPSEEK_URL = "https://api.deepseek.com/anthropic"
TEST_KEY = "sk-test-0123456789abcdefXYZ"
LIST_KEYS = {"active", "profiles", "interrupted_switch"}
LIST_ROW_KEYS = {"name", "provider", "base_url", "active"}
SHOW_KEYS = {"name", "provider", "active", "base_url", "models", "env", "overrides", "key", "key_error", "key_source"}

GOOD_NAMES = ["ds", "DS2", "deepseek-work", "a_b", "a.b", "v1.2.3", "9", "x" * MAX_NAME]
BAD_NAMES = ["", "a/b", "..", "../x", "a b", ".hidden", "-x", "x" * (MAX_NAME + 1), "é", "a..b", "a\\b", "a:b", "$(id)"]

HAND_WRITTEN = """\
# My dsconfig profiles, written by hand
schema_version = 1
active = "ds"  # the one I use every day

# work account
[profiles.ds]
provider = "deepseek"  # cheap and good
# sub-agents on flash
models = { haiku = "deepseek-v4-flash" }

[profiles.other]
# kimi for comparisons
provider = "kimi"
"""


@pytest.fixture
def profiles_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "profiles.toml"


@pytest.fixture
def ctx(profiles_path: Path, memory_keyring: MemoryKeyring) -> actions.Context:
    return actions.Context(store=ProfileStore(profiles_path), secrets=memory_keyring)


@pytest.fixture
def dshome() -> Path:
    return Path(os.environ["DSCONFIG_HOME"])


def _run(run_dsconfig: RunDsconfig, *args: str, env: dict[str, str] | None = None) -> CompletedProcess[str]:
    """The command with an empty stdin, so nothing ever waits on a prompt."""
    return run_dsconfig(*args, input="", env=env)


# --- add / list / show / edit / rm / rename (in process) ------------------------------------------------------


def test_add_list_show(ctx: actions.Context, profiles_path: Path, memory_keyring: MemoryKeyring) -> None:
    r = actions.profile_add("ds", "deepseek", key=TEST_KEY, ctx=ctx)
    assert r.base_url == DEEPSEEK_URL
    actions.profile_add("k", "kimi", base_url="https://kimi.example.test/anthropic/", ctx=ctx)
    assert memory_keyring.items == {"ds": TEST_KEY}
    text = profiles_path.read_text()
    assert text.splitlines()[1] == "schema_version = 1"
    assert TEST_KEY not in text and TEST_KEY[-8:] not in text

    listing = actions.profile_list_doc(ctx)
    assert set(listing) == LIST_KEYS
    assert listing["active"] is None
    assert [set(row) for row in listing["profiles"]] == [LIST_ROW_KEYS, LIST_ROW_KEYS]
    assert listing["profiles"] == [
        {"name": "ds", "provider": "deepseek", "base_url": DEEPSEEK_URL, "active": False},
        {"name": "k", "provider": "kimi", "base_url": "https://kimi.example.test/anthropic", "active": False},
    ]

    ctx.store.set_active("ds")
    shown = actions.profile_show_doc("ds", ctx)
    assert set(shown) == SHOW_KEYS
    assert shown["active"] is True
    assert shown["key"] == mask(TEST_KEY) and TEST_KEY not in json.dumps(shown)
    assert shown["key_error"] is None
    assert shown["models"]["main"] == "deepseek-flash[1m]"
    assert shown["overrides"] == {"base_url": None, "models": {}, "env": {}}
    assert actions.profile_show_doc("k", ctx)["key"] is None
    assert actions.profile_list_doc(ctx)["active"] == "ds"


def test_show_of_a_missing_profile_is_not_found(ctx: actions.Context) -> None:
    with pytest.raises(NotFoundError) as info:
        actions.profile_show_doc("nope", ctx)
    assert info.value.exit_code == EXIT_NOT_FOUND
    assert "dsconfig profile add nope" in (info.value.hint or "")


def test_add_refuses_an_existing_name_and_keeps_its_key(ctx: actions.Context, profiles_path: Path, memory_keyring: MemoryKeyring) -> None:
    actions.profile_add("ds", "deepseek", key=TEST_KEY, ctx=ctx)
    before = profiles_path.read_bytes()
    with pytest.raises(DsconfigError, match="already exists"):
        actions.profile_add("ds", "kimi", key="sk-other-key-0000000000", ctx=ctx)
    assert memory_keyring.items == {"ds": TEST_KEY}
    assert profiles_path.read_bytes() == before


def test_add_with_unknown_provider_writes_nothing(ctx: actions.Context, profiles_path: Path, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(NotFoundError):
        actions.profile_add("ds", "nosuch", key=TEST_KEY, ctx=ctx)
    assert not profiles_path.exists()
    assert memory_keyring.items == {}


def test_edit_merges_and_unsets_overrides(ctx: actions.Context) -> None:
    actions.profile_add("ds", "deepseek", models={"haiku": "h1"}, env={"A": "1"}, ctx=ctx)
    r = actions.profile_edit("ds", models={"main": "m1"}, env={"B": "2"}, base_url="https://proxy.example.test/x", ctx=ctx)
    assert r.base_url == "https://proxy.example.test/x"
    stored = ctx.store.load().get("ds")
    assert stored.models == {"haiku": "h1", "main": "m1"}
    assert stored.env == {"A": "1", "B": "2"}
    assert stored.base_url == "https://proxy.example.test/x"

    actions.profile_edit("ds", unset_models=("haiku",), unset_env=("A", "B"), ctx=ctx)
    stored = ctx.store.load().get("ds")
    assert stored.models == {"main": "m1"} and stored.env == {}
    assert stored.base_url == "https://proxy.example.test/x", "a value not named in the edit stays"

    actions.profile_edit("ds", provider="kimi", ctx=ctx)
    assert ctx.store.load().get("ds").provider == "kimi"


def test_edit_with_key_replaces_it_in_the_keyring(ctx: actions.Context, profiles_path: Path, memory_keyring: MemoryKeyring) -> None:
    actions.profile_add("ds", "deepseek", key=TEST_KEY, ctx=ctx)
    actions.profile_edit("ds", key="  sk-test-new-key-000000\n", ctx=ctx)
    assert memory_keyring.items == {"ds": "sk-test-new-key-000000"}
    assert "sk-test-new-key" not in profiles_path.read_text()


def test_edit_of_a_missing_profile_is_not_found(ctx: actions.Context) -> None:
    with pytest.raises(NotFoundError):
        actions.profile_edit("nope", models={"main": "m"}, ctx=ctx)


def test_edit_keeps_the_users_comments(ctx: actions.Context, profiles_path: Path) -> None:
    profiles_path.parent.mkdir(parents=True)
    profiles_path.write_text(HAND_WRITTEN)
    actions.profile_edit("ds", models={"main": "m1"}, env={"CLAUDE_CODE_EFFORT_LEVEL": "high"}, ctx=ctx)
    text = profiles_path.read_text()
    for line in HAND_WRITTEN.splitlines():
        if "#" in line:
            assert line in text, line
    stored = ctx.store.load()
    assert stored.active == "ds"
    assert stored.get("ds").models == {"haiku": "deepseek-v4-flash", "main": "m1"}
    assert stored.get("ds").env == {"CLAUDE_CODE_EFFORT_LEVEL": "high"}
    assert stored.get("other").provider == "kimi"


def test_rm_removes_profile_key_and_active(ctx: actions.Context, memory_keyring: MemoryKeyring) -> None:
    actions.profile_add("ds", "deepseek", key=TEST_KEY, ctx=ctx)
    actions.profile_add("keep", "kimi", key="sk-keep-000000000000", ctx=ctx)
    ctx.store.set_active("ds")
    assert actions.profile_remove("ds", ctx=ctx) is True
    found = ctx.store.load()
    assert "ds" not in found.profiles and found.active is None
    assert memory_keyring.items == {"keep": "sk-keep-000000000000"}
    assert actions.profile_remove("keep", ctx=ctx) is True
    with pytest.raises(NotFoundError):
        actions.profile_remove("keep", ctx=ctx)


def test_rename_moves_key_and_active(ctx: actions.Context, memory_keyring: MemoryKeyring) -> None:
    actions.profile_add("ds", "deepseek", models={"haiku": "h1"}, env={"A": "1"}, key=TEST_KEY, ctx=ctx)
    actions.profile_add("other", "kimi", ctx=ctx)
    ctx.store.set_active("ds")
    actions.profile_rename("ds", "work", ctx=ctx)
    found = ctx.store.load()
    assert set(found.profiles) == {"work", "other"}
    assert found.active == "work"
    assert found.get("work").models == {"haiku": "h1"} and found.get("work").env == {"A": "1"}
    assert memory_keyring.items == {"work": TEST_KEY}


def test_rename_refusals_change_nothing(ctx: actions.Context, profiles_path: Path, memory_keyring: MemoryKeyring) -> None:
    actions.profile_add("ds", "deepseek", key=TEST_KEY, ctx=ctx)
    actions.profile_add("other", "kimi", ctx=ctx)
    before = profiles_path.read_bytes()
    with pytest.raises(DsconfigError, match="already exists"):
        actions.profile_rename("ds", "other", ctx=ctx)
    with pytest.raises(UsageError):
        actions.profile_rename("ds", "../evil", ctx=ctx)
    with pytest.raises(NotFoundError):
        actions.profile_rename("nope", "new", ctx=ctx)
    assert profiles_path.read_bytes() == before
    assert memory_keyring.items == {"ds": TEST_KEY}


# --- the file: schema_version and broken contents --------------------------------------------------------------


def test_newer_schema_version_is_refused_and_file_unchanged(ctx: actions.Context, profiles_path: Path, memory_keyring: MemoryKeyring) -> None:
    profiles_path.parent.mkdir(parents=True)
    profiles_path.write_text('schema_version = 99\n\n[profiles.ds]\nprovider = "deepseek"\n')
    before = profiles_path.read_bytes()
    with pytest.raises(InvalidFileError) as info:
        ctx.store.load()
    assert info.value.exit_code == EXIT_INVALID_FILE
    assert "99" in info.value.message and "upgrade" in (info.value.hint or "")
    for attempt in (
        lambda: actions.profile_add("new", "deepseek", key=TEST_KEY, ctx=ctx),
        lambda: actions.profile_edit("ds", models={"main": "m"}, ctx=ctx),
        lambda: actions.profile_rename("ds", "ds2", ctx=ctx),
        lambda: actions.profile_remove("ds", ctx=ctx),
        lambda: ctx.store.set_active("ds"),
    ):
        with pytest.raises(InvalidFileError):
            attempt()
    assert profiles_path.read_bytes() == before
    assert memory_keyring.items == {}


@pytest.mark.parametrize("text, needle", [
    ('schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\ncolour = "red"\n', "'colour'"),
    ('schema_version = 1\n[profiles.ds]\nbase_url = "https://x.test"\n', "'provider' is missing"),
    ('schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\nbase_url = "nope"\n', "not an http(s) URL"),
    ('schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\n[profiles.ds.models]\nturbo = "m"\n', "turbo"),
    ('schema_version = 1\n[profiles."a b"]\nprovider = "deepseek"\n', "invalid profile name"),
    ('schema_version = 1\n[profiles.ds]\nprovider = "deepseek"\n[profiles.ds\n', "not valid TOML"),
])
def test_broken_profiles_file_names_the_problem(ctx: actions.Context, profiles_path: Path, text: str, needle: str) -> None:
    profiles_path.parent.mkdir(parents=True)
    profiles_path.write_text(text)
    with pytest.raises(InvalidFileError) as info:
        ctx.store.load()
    assert str(info.value).startswith(str(profiles_path))
    assert needle in info.value.message
    assert info.value.hint


# --- names and options ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_names_are_accepted_and_round_trip(ctx: actions.Context, name: str) -> None:
    assert validate_name(name) == name
    actions.profile_add(name, "deepseek", ctx=ctx)
    assert list(ctx.store.load().profiles) == [name]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_and_nothing_written(ctx: actions.Context, profiles_path: Path, dshome: Path, memory_keyring: MemoryKeyring, name: str) -> None:
    with pytest.raises(UsageError) as info:
        actions.profile_add(name, "deepseek", key=TEST_KEY, ctx=ctx)
    assert info.value.exit_code == EXIT_USAGE
    assert info.value.hint
    assert not profiles_path.exists() and not dshome.exists()
    assert memory_keyring.items == {}


@pytest.mark.parametrize("check", [
    lambda: validate_name("ds\n"),
    lambda: validate_base_url("https://api.example.test/anthropic\n"),
    lambda: parse_env_option("FOO\n=bar"),
], ids=["name", "base_url", "env-name"])
def test_trailing_newline_is_refused(check: Callable[[], object]) -> None:
    with pytest.raises(UsageError):
        check()


@pytest.mark.parametrize("text", ["turbo=m", "main", "main=", "=m", "MAIN=m", "haiku =m"])
def test_model_option_refuses_bad_tiers(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_model_option(text)
    assert "main, opus, sonnet, haiku, fable, subagent" in (info.value.hint or "")


def test_model_option_accepts_every_tier() -> None:
    for tier in ("main", "opus", "sonnet", "haiku", "subagent"):
        assert parse_model_option(f"{tier}=m-1[1m]") == (tier, "m-1[1m]")


@pytest.mark.parametrize("text", ["ANTHROPIC_BASE_URL=x", "ANTHROPIC_AUTH_TOKEN=x", "ANTHROPIC_MODEL=x",
                                  "ANTHROPIC_DEFAULT_HAIKU_MODEL=x", "CLAUDE_CODE_SUBAGENT_MODEL=x"])
def test_env_option_refuses_reserved_variables(text: str) -> None:
    with pytest.raises(UsageError, match="set by dsconfig itself"):
        parse_env_option(text)


def test_env_option_refuses_a_key_variable() -> None:
    with pytest.raises(UsageError):
        parse_env_option(f"ANTHROPIC_API_KEY={TEST_KEY}")


@pytest.mark.parametrize("text", ["NOEQUALS", "1BAD=x", "A-B=x", "=x", "A=b\0c"])
def test_env_option_refuses_malformed(text: str) -> None:
    with pytest.raises(UsageError):
        parse_env_option(text)


def test_env_option_accepts_values_with_equals() -> None:
    assert parse_env_option("API_TIMEOUT_MS=600000") == ("API_TIMEOUT_MS", "600000")
    assert parse_env_option("X=a=b") == ("X", "a=b")


@pytest.mark.parametrize("url", ["notaurl", "ftp://x.test", "https://", "https://a b.test", "api.deepseek.com/anthropic"])
def test_base_url_option_refuses_non_urls(ctx: actions.Context, profiles_path: Path, url: str) -> None:
    with pytest.raises(UsageError):
        validate_base_url(url)
    with pytest.raises(UsageError):
        actions.profile_add("ds", "deepseek", base_url=url, ctx=ctx)
    assert not profiles_path.exists()


# --- resolving a profile against its template -----------------------------------------------------------------


def test_resolved_deepseek_claude_env() -> None:
    r = resolve(Profile(name="ds", provider="deepseek"), load_template("deepseek"))
    assert r.claude_env() == DEEPSEEK_GUIDE_ENV
    assert r.distinct_models() == ["deepseek-flash"]


def test_resolved_overrides_win_over_the_template(ctx: actions.Context) -> None:
    actions.profile_add("ds", "deepseek", base_url="https://proxy.example.test/anthropic",
                        models={"haiku": "deepseek-v4-pro"}, env={"CLAUDE_CODE_EFFORT_LEVEL": "high", "EXTRA": "1"}, ctx=ctx)
    env = actions.resolved_profile("ds", ctx).claude_env()
    assert env["ANTHROPIC_BASE_URL"] == "https://proxy.example.test/anthropic"
    assert env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "deepseek-v4-pro"
    assert env["ANTHROPIC_MODEL"] == "deepseek-flash[1m]", "tiers not overridden keep the template's model"
    assert env["CLAUDE_CODE_EFFORT_LEVEL"] == "high"
    assert env["EXTRA"] == "1"
    assert env["CLAUDE_CODE_AUTO_COMPACT_WINDOW"] == "786432"
    assert not any(k in env for k in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"))


def test_resolving_without_a_name_uses_the_active_profile(ctx: actions.Context) -> None:
    with pytest.raises(NotFoundError, match="no profile yet"):
        actions.resolved_profile(None, ctx)
    actions.profile_add("ds", "deepseek", ctx=ctx)
    actions.profile_add("k", "kimi", ctx=ctx)
    with pytest.raises(NotFoundError, match="no active profile"):
        actions.resolved_profile(None, ctx)
    ctx.store.set_active("k")
    assert actions.resolved_profile(None, ctx).name == "k"


# --- through the command ---------------------------------------------------------------------------------------


def test_cli_add_list_show_edit(run_dsconfig: RunDsconfig, dshome: Path) -> None:
    proc = _run(run_dsconfig, "profile", "add", "ds", "--provider", "deepseek", "--model", "haiku=h1", "--env", "EXTRA=1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "created profile 'ds'" in proc.stderr

    proc = _run(run_dsconfig, "profile", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == LIST_KEYS
    assert doc["profiles"] == [{"name": "ds", "provider": "deepseek", "base_url": DEEPSEEK_URL, "active": False}]

    proc = _run(run_dsconfig, "profile", "edit", "ds", "--model", "main=m1", "--base-url", "https://proxy.example.test/a")
    assert proc.returncode == 0, proc.stderr

    proc = _run(run_dsconfig, "profile", "show", "ds", "--json", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == SHOW_KEYS
    assert set(doc["overrides"]) == {"base_url", "models", "env"}
    assert doc["base_url"] == "https://proxy.example.test/a"
    assert doc["models"]["main"] == "m1" and doc["models"]["haiku"] == "h1" and doc["models"]["opus"] == "deepseek-flash[1m]"
    assert doc["overrides"] == {"base_url": "https://proxy.example.test/a", "models": {"haiku": "h1", "main": "m1"}, "env": {"EXTRA": "1"}}
    assert doc["env"]["EXTRA"] == "1" and doc["env"]["CLAUDE_CODE_EFFORT_LEVEL"] == "max"
    assert doc["key"] is None and doc["active"] is False

    proc = _run(run_dsconfig, "profile", "list")
    assert proc.returncode == 0
    assert "ds" in proc.stdout.split() and "https://proxy.example.test/a" in proc.stdout


def test_cli_edit_keeps_comments(run_dsconfig: RunDsconfig, dshome: Path) -> None:
    dshome.mkdir()
    path = dshome / "profiles.toml"
    path.write_text(HAND_WRITTEN)
    proc = _run(run_dsconfig, "profile", "edit", "ds", "--env", "CLAUDE_CODE_EFFORT_LEVEL=high", "--model", "main=m1")
    assert proc.returncode == 0, proc.stderr
    text = path.read_text()
    assert text != HAND_WRITTEN
    for line in HAND_WRITTEN.splitlines():
        if "#" in line:
            assert line in text, line
    assert "CLAUDE_CODE_EFFORT_LEVEL" in text and "m1" in text


def test_cli_newer_schema_version_exits_4_and_changes_nothing(run_dsconfig: RunDsconfig, dshome: Path) -> None:
    dshome.mkdir()
    path = dshome / "profiles.toml"
    path.write_bytes(b'# mine\nschema_version = 2\n\n[profiles.ds]\nprovider = "deepseek"\n')
    before = path.read_bytes()
    for args in (("profile", "list"), ("profile", "edit", "ds", "--model", "main=m")):
        proc = _run(run_dsconfig, *args)
        assert proc.returncode == EXIT_INVALID_FILE, (args, proc.stderr)
        assert proc.stderr.startswith(f"error: {path}") and "schema_version" in proc.stderr
        assert "\nhint: " in proc.stderr and "upgrade" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("name", BAD_NAMES)
def test_cli_bad_names_exit_2_and_write_nothing(run_dsconfig: RunDsconfig, dshome: Path, name: str) -> None:
    # With the `fail` keyring, a key stored before the name check would show as exit 5, not 2.
    proc = run_dsconfig("profile", "add", name, "--provider", "deepseek", "--api-key-stdin", input=TEST_KEY,
                        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert not dshome.exists()


@pytest.mark.parametrize("args, needle", [
    (("--model", "turbo=m"), "TIER=MODEL"),
    (("--env", "ANTHROPIC_BASE_URL=x"), "ANTHROPIC_BASE_URL"),
    (("--base-url", "notaurl"), "notaurl"),
])
def test_cli_bad_options_exit_2_and_write_nothing(run_dsconfig: RunDsconfig, dshome: Path, args: tuple[str, ...], needle: str) -> None:
    proc = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", *args, "--api-key-stdin", input=TEST_KEY,
                        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert proc.stderr.startswith("error: ") and needle in proc.stderr and "\nhint: " in proc.stderr
    assert not dshome.exists()


def test_cli_show_of_missing_profile_exits_3(run_dsconfig: RunDsconfig) -> None:
    proc = _run(run_dsconfig, "profile", "show", "nope", "--json")
    assert proc.returncode == EXIT_NOT_FOUND
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: no profile named 'nope'")


def test_cli_rm_without_any_keyring_removes_a_keyless_profile(run_dsconfig: RunDsconfig, dshome: Path) -> None:
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert _run(run_dsconfig, "profile", "add", "ds", "--provider", "deepseek", env=no_keyring).returncode == 0
    proc = _run(run_dsconfig, "profile", "rm", "ds", env=no_keyring)
    assert proc.returncode == 0, proc.stderr
    assert "ds" not in ProfileStore(dshome / "profiles.toml").load().profiles


def test_an_applied_profile_cannot_be_removed_or_renamed_until_off(run_dsconfig: RunDsconfig, home: Path) -> None:
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    assert run_dsconfig("profile", "add", "ds", "--provider", "deepseek", env=no_keyring).returncode == 0
    assert run_dsconfig("use", "ds", env=no_keyring).returncode == 0
    settings = (home / ".claude" / "settings.json").read_bytes()
    for args in (("profile", "rm", "ds"), ("profile", "rename", "ds", "other")):
        proc = run_dsconfig(*args, env=no_keyring)
        assert proc.returncode == 1 and "is applied to claude-code (user scope)" in proc.stderr and "dsconfig off" in proc.stderr
    assert (home / ".claude" / "settings.json").read_bytes() == settings
    assert run_dsconfig("off", env=no_keyring).returncode == 0
    assert run_dsconfig("profile", "rm", "ds", env=no_keyring).returncode == 0
