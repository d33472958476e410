"""Part 6: names and values chosen to break things never run a command, never write outside the intended files,
and are refused with a clear message where they cannot be represented.

A canary file is what every payload tries to create (`$(touch${IFS}CANARY)`, backticks, `; touch`): it must never
exist. The whole temp root is snapshotted around every step: a refused value writes nothing at all, an accepted
one changes only dsconfig's own files and the files `use` targets, holds the value verbatim there, and comes back
exactly from `dsconfig env` (evaluated by bash) and `dsconfig exec` (read by a child process).

The apiKeyHelper line and the Claude Desktop helper script are run by /bin/sh with a dsconfig installed under a
folder whose name holds a space, quotes, `$(...)`, backticks, `;`, `&`, a newline and non-ASCII: they run exactly
that program with exactly `key get NAME`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .reliability_support import DSCONFIG, TRACEBACK, World, add_profiles, contexts, data_snapshot, make_world, snapshot

KEY = "sk-test-hostile-" + "0f1e2d3c4b5a" * 2


class MemoryBackend:
    """A keyring backend in memory, for in-process runs of the real CLI (keyring's API, nothing stored on disk)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, name: str) -> str | None:
        return self.items.get((service, name))

    def set_password(self, service: str, name: str, key: str) -> None:
        self.items[(service, name)] = key

    def delete_password(self, service: str, name: str) -> None:
        self.items.pop((service, name), None)


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = make_world(tmp_path / "w")
    add_profiles(w)
    return w


def canary(world: World) -> Path:
    return world.root / "CANARY"


def payloads(world: World) -> dict[str, str]:
    c = canary(world)
    return {"subst": f"$(touch${{IFS}}{c})", "backtick": f"`touch${{IFS}}{c}`", "semicolon": f";touch${{IFS}}{c};"}


@contextlib.contextmanager
def backend(world: World, store: MemoryBackend) -> Any:
    import keyring

    with world.activated(), __import__("unittest").mock.patch.object(keyring, "get_keyring", return_value=store):
        yield


def cli(world: World, store: MemoryBackend, *args: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with backend(world, store), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            __import__("unittest").mock.patch.object(sys, "stdin", io.StringIO(stdin)):
        from dsconfig.entry import main

        try:
            code = main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def changes_in(world: World, before: dict[str, Any]) -> list[str]:
    after = data_snapshot(world)
    return sorted(os.path.relpath(p, world.root) for p in set(before) | set(after) if before.get(p) != after.get(p))


ALLOWED = ("dsconfig-home/profiles.toml", "dsconfig-home/state", "home/.claude/settings.json", "home/.claude.json",
           "home/.config/Claude-3p", "home/.config/Claude/claude_desktop_config.json", "proj/.claude")


# --- names ------------------------------------------------------------------------------------------------------


def hostile_names(world: World) -> list[str]:
    p = payloads(world)
    return [p["subst"], p["backtick"], p["semicolon"], "a'b", 'a"b', "a b", "a\nb", "a\rb", "..", "../x", "a/b", "/etc",
            "a..b", ".hidden", "x" * 65, "é", "名前", "a\u202eb", "💥", "a\\b", "a*", "~root", "a\tb"]


def test_hostile_profile_names_are_refused_everywhere_and_nothing_is_written(world: World, figures: Any) -> None:
    store = MemoryBackend()
    commands = [("profile", "add", "{}", "--provider", "deepseek"), ("use", "{}"), ("use", "{}", "--target", "all"),
                ("key", "get", "{}"), ("key", "set", "{}", "--stdin"), ("env", "{}", "--shell", "bash"),
                ("profile", "rename", "a", "{}"), ("verify", "{}"), ("profile", "show", "{}")]
    problems = []
    for name in hostile_names(world):
        for command in commands:
            args = tuple(name if part == "{}" else part for part in command)
            before = data_snapshot(world)
            code, _out, err = cli(world, store, *args, stdin=KEY)
            figures.add("hostile_values")
            label = f"{' '.join(command)} with name {name!r}"
            if code == 0 or TRACEBACK in err:
                problems.append(f"{label}: exit {code} {err[-300:]}")
            elif code not in (2, 3) or "error:" not in err:
                problems.append(f"{label}: exit {code} without a clear error: {err[-300:]}")
            changed = changes_in(world, before)
            if changed:
                problems.append(f"{label}: refused, yet wrote {changed}")
    assert not canary(world).exists(), "a profile name ran a command"
    assert not problems, "\n".join(problems[:15])


def test_a_nul_in_a_name_or_value_is_refused(world: World, figures: Any) -> None:
    """A NUL cannot be passed on a command line; through the functions the CLI calls it is refused too."""
    from dsconfig import actions
    from dsconfig.errors import UsageError
    from dsconfig.profiles import parse_env_option

    with world.activated():
        actx, _ = contexts(world)
        with pytest.raises(UsageError):
            actions.profile_add("a\0b", "deepseek", ctx=actx)
        with pytest.raises(UsageError):
            parse_env_option("FOO=a\0b")
    figures.add("hostile_values", 2)


# --- values -----------------------------------------------------------------------------------------------------


def accepted_values(world: World) -> list[tuple[str, list[str], dict[str, str]]]:
    """(label, extra `profile add` arguments, variable -> the exact value the programs must receive)."""
    p = payloads(world)
    odd = "'\"`;&|<>*?!#~%^(){}[]\\ \t\r\n" + "é名💥\u202e"
    url_tail = "a'b\"c;d&e|f" + p["subst"] + p["backtick"]
    return [
        ("url with shell syntax", ["--base-url", f"https://x.example/{url_tail}"], {"ANTHROPIC_BASE_URL": f"https://x.example/{url_tail}"}),
        ("url, long and unicode", ["--base-url", "https://x.example/é/" + "p" * 20000], {"ANTHROPIC_BASE_URL": "https://x.example/é/" + "p" * 20000}),
        ("model with quotes and a command", ["--model", f"main=x\"; touch {canary(world)}; \""], {"ANTHROPIC_MODEL": f"x\"; touch {canary(world)}; \""}),
        ("model with $() and backticks", ["--model", f"haiku={p['subst']}{p['backtick']}"], {"ANTHROPIC_DEFAULT_HAIKU_MODEL": p["subst"] + p["backtick"]}),
        ("model with a newline", ["--model", "opus=line1\nline2"], {"ANTHROPIC_DEFAULT_OPUS_MODEL": "line1\nline2"}),
        ("env value with everything", ["--env", f"ODD_VALUE={odd}{p['subst']}"], {"ODD_VALUE": odd + p["subst"]}),
        ("env value, very long", ["--env", "LONG_VALUE=" + "v" * 100_000], {"LONG_VALUE": "v" * 100_000}),
        ("env value empty", ["--env", "EMPTY_VALUE="], {"EMPTY_VALUE": ""}),
    ]


def refused_values(world: World) -> list[tuple[str, list[str]]]:
    c = canary(world)
    return [
        ("url with spaces", ["--base-url", f"https://x.example/$(touch {c})"]),
        ("url with a newline", ["--base-url", "https://x.example/a\nb"]),
        ("javascript url", ["--base-url", "javascript:alert(1)"]),
        ("file url", ["--base-url", "file:///etc/passwd"]),
        ("url without host", ["--base-url", "https:///x"]),
        ("unknown tier", ["--model", f"evil=$(touch {c})"]),
        ("blank model", ["--model", "main=  "]),
        ("variable name with a space", ["--env", "A B=1"]),
        ("variable name with $()", ["--env", f"A$(touch {c})=1"]),
        ("variable name starting with a digit", ["--env", "1A=1"]),
        ("the endpoint through --env", ["--env", "ANTHROPIC_BASE_URL=https://evil.example"]),
        ("a key through --env", ["--env", "ANTHROPIC_API_KEY=sk-test-inline"]),
        ("the token through --env", ["--env", "ANTHROPIC_AUTH_TOKEN=sk-test-inline"]),
    ]


def test_unrepresentable_values_are_refused_with_a_clear_message_and_nothing_written(world: World, figures: Any) -> None:
    store = MemoryBackend()
    problems = []
    for label, args in refused_values(world):
        before = data_snapshot(world)
        code, _out, err = cli(world, store, "profile", "add", "h", "--provider", "deepseek", *args)
        figures.add("hostile_values")
        if code != 2 or TRACEBACK in err or "error:" not in err or "hint:" not in err:
            problems.append(f"{label}: exit {code}: {err[-300:]}")
        changed = changes_in(world, before)
        if changed:
            problems.append(f"{label}: refused, yet wrote {changed}")
    assert not canary(world).exists()
    assert not problems, "\n".join(problems)


def shell_value(env_output: str, var: str) -> str:
    """What bash holds in `var` after evaluating `dsconfig env` output (printed NUL-terminated, exact)."""
    script = env_output + f'\nprintf "%s\\0" "${{{var}-UNSET}}"'
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], check=False, capture_output=True, timeout=30,
                          env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode("utf-8", "surrogateescape").rstrip("\0")


def child_value(environ: dict[str, str], var: str) -> str:
    proc = subprocess.run(["sh", "-c", f'printf "%s" "${{{var}-UNSET}}"'], check=False, capture_output=True, env=environ, timeout=30)
    return proc.stdout.decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("index", range(8))
def test_hostile_values_are_written_verbatim_and_never_run(world: World, index: int, figures: Any) -> None:
    label, args, want = accepted_values(world)[index]
    store = MemoryBackend()
    code, _, err = cli(world, store, "profile", "add", "h", "--provider", "deepseek", *args, "--api-key-stdin", stdin=KEY)
    assert code == 0, f"{label}: {err}"
    original = {p: v for p, v in data_snapshot(world).items()}
    https = want.get("ANTHROPIC_BASE_URL", "https://").startswith("https://")
    for command in (("use", "h"), ("use", "h", "--scope", "project"), *((("use", "h", "--target", "claude-desktop"),) if https else ())):
        code, _, err = cli(world, store, *command)
        assert code == 0 and TRACEBACK not in err, f"{label}: {' '.join(command)}: {err[-600:]}"
    changed = changes_in(world, original)
    outside = [c for c in changed if not c.startswith(ALLOWED)]
    assert not outside, f"{label}: wrote outside the intended files: {outside}"
    for settings in (world.settings, world.local):
        env = json.loads(settings.read_bytes())["env"]
        for var, value in want.items():
            assert env.get(var, "") == value, f"{label}: {settings} holds {env.get(var)!r} for {var}"
    if https and "ANTHROPIC_BASE_URL" in want:
        from dsconfig.targets import claude_desktop as cd

        entry = json.loads((world.library / f"{cd.entry_id('h')}.json").read_bytes())
        assert entry["inferenceGatewayBaseUrl"] == want["ANTHROPIC_BASE_URL"]
    code, out, err = cli(world, store, "env", "h", "--shell", "bash")
    for var, value in want.items():
        if code == 0:
            got = shell_value(out, var)
            assert got == (value or "UNSET"), f"{label}: bash got {got!r} for {var}"
        else:  # a value bash cannot hold must be refused by name, never emitted
            assert code != 0 and "error:" in err and TRACEBACK not in err, err
    with backend(world, store):
        from dsconfig import actions

        actx, _ = contexts(world, secrets=__import__("dsconfig.credentials", fromlist=["KeyringStore"]).KeyringStore(store))
        _argv, environ = actions.exec_environment("h", ["sh"], ctx=actx)
    for var, value in want.items():
        # An empty value means "must not be set" (profiles.Resolved.process_env): unset, not "".
        assert child_value(environ, var) == (value or "UNSET"), f"{label}: exec gave {var} another value"
    helper = json.loads(world.settings.read_bytes())["apiKeyHelper"]
    assert helper == f"{DSCONFIG[0]} key get h" or helper.endswith(" key get h")
    code, _, err = cli(world, store, "off", "--target", "all")
    assert code == 0, err
    code, _, err = cli(world, store, "off", "--scope", "project")
    assert code == 0, err
    for rel in ("home/.claude/settings.json", "home/.claude.json", "home/.config/Claude-3p/configLibrary/_meta.json"):
        path = str(world.root / rel)
        assert snapshot(world.root)[path] == original[path], f"{label}: off did not restore {rel}"
    assert not canary(world).exists(), f"{label}: a value ran a command"
    figures.add("hostile_values")


# --- the command line written into Claude's settings ---------------------------------------------------------------


def weird_folder(root: Path, with_newline: bool = True) -> Path:
    c = root / "CANARY"
    name = f"my tools 'q' \"dq\" $(touch {c}) `touch {c}` ;&|*?[x] é名"
    if with_newline:
        name += "\nline2"
    folder = root / name / "bin"
    folder.mkdir(parents=True)
    return folder


def test_api_key_helper_runs_exactly_the_dsconfig_it_names(tmp_path: Path, figures: Any) -> None:
    """TargetContext(dsconfig_command=(weird path,)): /bin/sh runs that exact program with `key get NAME`."""
    from dsconfig.targets.context import TargetContext

    folder = weird_folder(tmp_path)
    fake = folder / "dsconfig"
    fake.write_text('#!/bin/sh\nprintf "[%s]" "$0" "$@"\n')
    fake.chmod(0o755)
    ctx = TargetContext(home=tmp_path, platform="linux", environ={}, cwd=tmp_path, dsconfig_command=(str(fake),))
    line = ctx.key_command("work-1.x")
    proc = subprocess.run(["/bin/sh", "-c", line], check=False, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"[{fake}][key][get][work-1.x]"
    assert not (tmp_path / "CANARY").exists()
    figures.add("hostile_values")


@pytest.mark.secret_service
def test_a_dsconfig_installed_under_a_hostile_folder_name_still_serves_the_key(secret_service: Any, tmp_path: Path,
                                                                               figures: Any) -> None:
    """The real console script, copied under such a folder and run from there: Claude Code's apiKeyHelper and
    Claude Desktop's helper script both print the key from the Secret Service, and nothing else runs."""
    if Path(DSCONFIG[0]).name != "dsconfig":
        pytest.skip("no dsconfig console script beside this Python to copy")
    world = make_world(tmp_path / "w")
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None
    folder = weird_folder(world.root)
    program = folder / "dsconfig"
    shutil.copy2(DSCONFIG[0], program)

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(program), *args], check=False, env=world.env, cwd=world.proj, capture_output=True,
                              text=True, timeout=120, **kw)

    added = run("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin", input=KEY)
    assert added.returncode == 0, added.stderr
    used = run("use", "ds", "--target", "all")
    assert used.returncode == 0, used.stderr
    helper = json.loads(world.settings.read_bytes())["apiKeyHelper"]
    # The helper sets DSCONFIG_HOME itself (Claude runs it in its own environment), then names the program.
    named = subprocess.run(["/bin/sh", "-c", f"printf '%s\\0' {helper.rsplit(' key get ', 1)[0]}"], check=False,
                           capture_output=True, text=True, timeout=30)
    assert named.stdout.split("\0")[:-1] == [f"DSCONFIG_HOME={world.env['DSCONFIG_HOME']}", str(program)], \
        "the helper names another program"
    env = {k: v for k, v in world.env.items() if k != "DSCONFIG_HOME"}  # Claude runs it with its own environment
    got = subprocess.run(["/bin/sh", "-c", helper], check=False, capture_output=True, text=True, timeout=60, env=env, cwd="/")
    assert (got.returncode, got.stdout) == (0, KEY + "\n"), got.stderr
    from dsconfig.targets import claude_desktop as cd

    entry = json.loads((world.library / f"{cd.entry_id('ds')}.json").read_bytes())
    script = Path(entry["inferenceCredentialHelper"])
    assert stat.S_IMODE(script.stat().st_mode) == 0o700
    got = subprocess.run([str(script)], check=False, capture_output=True, text=True, timeout=60, env=env, cwd="/")
    assert (got.returncode, got.stdout) == (0, KEY + "\n"), got.stderr
    assert not (world.root / "CANARY").exists(), "the folder name ran a command"
    assert run("off", "--target", "all").returncode == 0
    figures.add("hostile_values", 2)


# --- what the command line cannot represent ------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--env", "--base-url", "--model"])
def test_a_non_utf8_argument_is_refused_cleanly(world: World, flag: str) -> None:
    value = {"--env": b"FOO=\xff", "--base-url": b"https://x.example/\xff", "--model": b"main=\xff"}[flag]
    before = data_snapshot(world)
    proc = subprocess.run([os.fsencode(DSCONFIG[0]), *[a.encode() for a in DSCONFIG[1:]], b"profile", b"add", b"u",
                           b"--provider", b"deepseek", flag.encode(), value], check=False, env=world.env, capture_output=True,
                          timeout=60, cwd=world.proj)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert TRACEBACK not in stderr, stderr[-800:]
    assert proc.returncode == 2 and "error:" in stderr
    assert changes_in(world, before) == []


@pytest.mark.secret_service
def test_a_nul_in_a_hand_edited_profile_is_a_clear_error(secret_service: Any, tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None
    assert world.run("profile", "add", "n", "--provider", "deepseek", "--api-key-stdin", input=KEY).returncode == 0
    with world.profiles.open("a") as handle:
        handle.write('\n[profiles.n.models]\nmain = "a\\u0000b"\n')
    proc = world.run("exec", "n", "--", "true")
    assert TRACEBACK not in proc.stderr, proc.stderr[-800:]
    assert proc.returncode == 4 and str(world.profiles) in proc.stderr
