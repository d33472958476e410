"""Part 4a: every file dsconfig reads, in every broken shape a disk can hold it.

Files: profiles.toml, a user template, ~/.claude/settings.json, ~/.claude.json, Claude Desktop's _meta.json, the
entry dsconfig wrote in the config library, claude_desktop_config.json. Defects: empty, whitespace only, a UTF-8
byte-order mark, truncated, invalid syntax, wrong top-level type, wrong value types, nested 100000 deep, nested
700 deep (valid JSON the parser accepts), huge (10 MB), binary garbage, unreadable, a folder in its place, a
dangling symlink.

Each cell runs the command that reads the file (in-process through the real CLI entry point; a representative
set and every "unreadable" cell through the installed command). Expected: an error naming the file (with
line:column where the defect has a position), a non-zero exit, no traceback, and not one byte written anywhere
(home, project, dsconfig's folder; the journal included). A few shapes are legitimately accepted (a valid huge
file, a BOM dsconfig strips itself, a value of a key dsconfig does not own): they must then work and undo
exactly.

Files that are not regular files (after following links): a symlink loop, a named pipe (FIFO), a link to
/dev/zero, a socket, a sparse file over the 256 MiB read cap. They run through the installed command only,
under a time limit and a memory limit: an in-process read of a FIFO would hang the test run itself, and an
unbounded read would take the machine's memory.

Unreadable files: tests run as root in CI, where mode 000 blocks nothing. Those cells run the installed command
with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped from its bounding set, so the kernel enforces the mode for
root too; where that is impossible they are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import random
import re
import resource
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dsconfig import saferead

from .reliability_support import (
    DSCONFIG,
    ORIGINAL_APP_CONFIG,
    ORIGINAL_META,
    ORIGINAL_SETTINGS,
    ORIGINAL_STATE,
    PROFILES_TOML,
    TRACEBACK,
    World,
    add_profiles,
    data_snapshot,
    make_world,
)

BOM = b"\xef\xbb\xbf"
MB = 1024 * 1024
MINE_TEMPLATE = b"""# my own gateway
schema_version = 1
id = "mine"
name = "My gateway"
base_url = "https://gw.example.com/anthropic"
auth = "bearer"

[models]
main = "gw-large"
"""
PROFILES = PROFILES_TOML.encode() + b'\n[profiles.m]\nprovider = "mine"\n'


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # toml or json
    path: Callable[[World], Path]
    command: tuple[str, ...]
    baseline: Callable[[World], bytes]


def _entry(world: World) -> Path:
    from dsconfig.targets import claude_desktop as cd

    return world.library / f"{cd.entry_id('a')}.json"


TARGETS = {
    "profiles.toml": Target("profiles.toml", "toml", lambda w: w.profiles, ("use", "a"), lambda w: PROFILES),
    "template": Target("template", "toml", lambda w: w.dsh / "templates" / "mine.toml", ("use", "m"), lambda w: MINE_TEMPLATE),
    "settings.json": Target("settings.json", "json", lambda w: w.settings, ("use", "a"), lambda w: ORIGINAL_SETTINGS),
    ".claude.json": Target(".claude.json", "json", lambda w: w.state, ("use", "a"), lambda w: ORIGINAL_STATE),
    "_meta.json": Target("_meta.json", "json", lambda w: w.meta, ("use", "a", "--target", "claude-desktop"), lambda w: ORIGINAL_META),
    "entry": Target("entry", "json", _entry, ("use", "a", "--target", "claude-desktop"), lambda w: _entry(w).read_bytes()),
    "claude_desktop_config.json": Target("claude_desktop_config.json", "json", lambda w: w.app_configs[0],
                                         ("use", "a", "--target", "claude-desktop"), lambda w: ORIGINAL_APP_CONFIG),
}
# Not regular files: refused before any read (exit 4, naming the path and what it is), quickly, never blocking.
NON_REGULAR = ("symlink-loop", "fifo", "dev-zero", "socket", "over-cap")
NON_REGULAR_WORDS = {"symlink-loop": "symlink loop", "fifo": "named pipe", "dev-zero": "character device",
                     "socket": "socket", "over-cap": "larger than"}
# Just over dsconfig's read cap (sparse: no disk used; the world's snapshots read it whole, ~0.3 GB each, so no
# bigger); /dev/zero stands for the endless file.
OVER_CAP = saferead.MAX_BYTES + MB
DEFECTS = ("empty", "whitespace", "bom", "truncated", "syntax", "top-level", "value-types", "deep", "deep-700", "huge",
           "binary", "unreadable", "folder", "dangling-symlink", *NON_REGULAR)
# Defects with a position in the file: the error must say line:column.
POSITIONED = {"json": {"empty", "whitespace", "bom", "truncated", "syntax", "binary", "value-types"},
              "toml": {"truncated", "syntax"}}
# Cells where accepting the input is right: it must then work, and `off` must give back every byte.
ACCEPTED = {
    ("profiles.toml", "bom"): "dsconfig strips a BOM from its own TOML when it reads it",
    ("template", "bom"): "dsconfig strips a BOM from its own TOML when it reads it",
    ("template", "huge"): "a valid (if large) template",
    ("profiles.toml", "huge"): "a valid (if large) profiles file",
    ("settings.json", "huge"): "a valid 10 MB settings file",
    (".claude.json", "huge"): "a valid 10 MB state file (Claude Code's own grows to megabytes)",
    ("_meta.json", "huge"): "a valid large library index",
    ("claude_desktop_config.json", "huge"): "a valid large MCP config",
    ("entry", "huge"): "dsconfig's own entry is rewritten whole",
    ("entry", "value-types"): "dsconfig's own entry is rewritten whole",
    ("entry", "deep-700"): "dsconfig's own entry is rewritten whole (it is not merged)",
    (".claude.json", "value-types"): "hasCompletedOnboarding is Claude Code's: dsconfig only adds it when missing",
}
# An empty profiles file holds no profiles: "no profile named 'a'" (exit 3) is the right answer there.
NOT_FOUND = {("profiles.toml", "empty"), ("profiles.toml", "whitespace")}


def nest(depth: int, kind: str) -> bytes:
    if kind == "toml":
        return b"\n[deep]\nx = " + b"[" * depth + b"]" * depth + b"\n"
    return b"[" * depth + b"]" * depth


def defective(target: Target, defect: str, baseline: bytes, huge: int) -> bytes | None:
    """The bytes of the defective file (None: the defect is not a content)."""
    rng = random.Random(f"{target.name}:{defect}")
    if defect == "empty":
        return b""
    if defect == "whitespace":
        return b"  \n\t\n   "
    if defect == "bom":
        return BOM + baseline
    if defect == "truncated":
        return baseline[: len(baseline) * 2 // 3]
    if defect == "syntax":
        if target.kind == "toml":
            return baseline + b"\n[profiles.broken\nprovider = 'deepseek'\n"
        return baseline.rstrip().rstrip(b"}") + b',\n  "trailing": 1,\n}\n'
    if defect == "top-level":
        if target.name == "profiles.toml":
            return b'schema_version = 1\nprofiles = "a, b"\n'
        if target.name == "template":
            return b'schema_version = 1\nid = "mine"\nbase_url = ["https://gw.example.com"]\n'
        return b'[{"env": {}}]\n'
    if defect == "value-types":
        return {
            "profiles.toml": b'schema_version = 1\n[profiles.a]\nprovider = 5\n[profiles.m]\nprovider = "mine"\n',
            "template": MINE_TEMPLATE.replace(b'auth = "bearer"', b"auth = 5"),
            "settings.json": b'{\n  "model": "opus",\n  "env": {\n    "API_TIMEOUT_MS": 600000\n  }\n}\n',
            ".claude.json": b'{"numStartups": 2, "hasCompletedOnboarding": "yes"}\n',
            "_meta.json": b'{\n  "appliedId": null,\n  "entries": {"id": "x"}\n}\n',
            "entry": b'{"inferenceProvider": 7, "inferenceModels": "all"}\n',
            "claude_desktop_config.json": b'{\n  "mcpServers": {},\n  "deploymentMode": 3\n}\n',
        }[target.name]
    if defect in ("deep", "deep-700"):
        depth = 100_000 if defect == "deep" else 700
        if target.kind == "toml":
            return baseline + nest(depth, "toml")
        return b'{"mine": ' + nest(depth, "json") + b', "other": 1}\n'
    if defect == "huge":
        if target.kind == "toml":
            line = b"# " + b"padding " * 12 + b"\n"
            return baseline + line * (huge // len(line))
        doc = json.loads(baseline)
        doc["userHistory"] = ["x" * 100] * (huge // 104)
        return json.dumps(doc, indent=2).encode()
    if defect == "binary":
        return bytes([0xFF, 0xFE, 0x00, 0x80]) + bytes(rng.randrange(256) for _ in range(4000))
    return None


def lay(world: World, target: Target, defect: str, huge: int) -> Path:
    path = target.path(world)
    baseline = target.baseline(world)
    data = defective(target, defect, baseline, huge)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        path.write_bytes(data)
    elif defect == "unreadable":
        path.write_bytes(baseline)
        path.chmod(0)
    elif defect == "folder":
        path.mkdir()
        (path / "README").write_text("a folder where a file should be\n")
    elif defect == "dangling-symlink":
        path.symlink_to(world.root / "nowhere" / path.name)
    elif defect == "symlink-loop":
        path.symlink_to(path.name + ".other")
        path.with_name(path.name + ".other").symlink_to(path.name)
    elif defect == "fifo":
        os.mkfifo(path)
    elif defect == "dev-zero":
        path.symlink_to("/dev/zero")
    elif defect == "socket":
        bind_socket(path)
    elif defect == "over-cap":
        with path.open("wb") as handle:
            handle.truncate(OVER_CAP)
    return path


def bind_socket(path: Path) -> None:
    """A Unix socket at `path` (bound by a relative name: socket paths are limited to about 100 characters). The
    file stays after the socket is closed; opening it fails with ENXIO, as for a socket nobody listens on."""
    here = os.getcwd()
    os.chdir(path.parent)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(path.name)
    finally:
        os.chdir(here)


def prepare(tmp: Path, target: Target) -> World:
    world = make_world(tmp / "w")
    add_profiles(world)
    world.profiles.write_bytes(PROFILES)
    (world.dsh / "templates").mkdir()
    (world.dsh / "templates" / "mine.toml").write_bytes(MINE_TEMPLATE)
    if target.name == "entry":  # dsconfig's own entry exists (and is journaled) once `use` has run
        with contextlib.redirect_stderr(io.StringIO()):
            assert world.cli("use", "a", "--target", "claude-desktop") == 0
    return world


def everything(world: World) -> dict[str, Any]:
    """All bytes under the world (dsconfig's lock files and empty state folders aside: never data)."""
    return data_snapshot(world)


@dataclass
class Outcome:
    code: int
    stderr: str
    crashed: str | None = None


def run_in_process(world: World, command: tuple[str, ...]) -> Outcome:
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = world.cli(*command)
    except Exception as exc:  # noqa: BLE001 - any escaping exception is the finding (a traceback for the user)
        return Outcome(1, err.getvalue(), f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(code, err.getvalue())


def _drop_dac() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def can_drop_dac() -> bool:
    try:
        return subprocess.run(["true"], preexec_fn=_drop_dac, check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _limit_memory() -> None:
    # Far above what dsconfig needs, far below what an unbounded read of /dev/zero or a sparse file would take.
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 * MB, 2 * 1024 * MB))


def run_installed(world: World, command: tuple[str, ...], *, as_plain_user: bool = False,
                  timeout: float = 180) -> Outcome:
    preexec = _drop_dac if as_plain_user and os.geteuid() == 0 else _limit_memory
    try:
        proc = subprocess.run([*DSCONFIG, *command], check=False, env=world.env, cwd=world.proj, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        return Outcome(1, "", f"still running after {timeout:.0f} s: blocked (hung) instead of refusing the file")
    crashed = proc.stderr[proc.stderr.find(TRACEBACK):][-600:] if TRACEBACK in proc.stderr else None
    if "MemoryError" in proc.stderr and crashed is None:
        crashed = "MemoryError: an unbounded read"
    return Outcome(proc.returncode, proc.stderr, crashed)


def check(world: World, target: Target, defect: str, path: Path, before: dict[str, Any], out: Outcome) -> None:
    cell = (target.name, defect)
    assert out.crashed is None, f"{cell}: crashed (the user sees a traceback): {out.crashed}"
    if cell in ACCEPTED:
        assert out.code == 0, f"{cell} should be accepted ({ACCEPTED[cell]}): exit {out.code}: {out.stderr[-600:]}"
        undo = ("off", "--target", "all")
        assert run_in_process(world, undo).code == 0
        if target.name != "entry":
            assert path.read_bytes() == before[str(path)][1], f"{cell}: off did not give back the bytes"
        return
    assert out.code != 0, f"{cell}: accepted a broken file: {out.stderr[-400:]}"
    if cell in NOT_FOUND:
        assert out.code == 3 and "no profile named 'a'" in out.stderr, out.stderr
    else:
        assert "error:" in out.stderr and str(path) in out.stderr, f"{cell}: the error does not name {path}: {out.stderr[-600:]}"
        if defect in POSITIONED[target.kind]:
            # tomllib reports an unterminated value as "(at end of document)": a position too.
            assert re.search(re.escape(str(path)) + r":\d+:\d+", out.stderr) or "at end of document" in out.stderr, \
                f"{cell}: no line:column: {out.stderr[-400:]}"
        assert "hint:" in out.stderr, f"{cell}: no hint: {out.stderr[-400:]}"
    after = everything(world)
    changed = [p for p in set(before) | set(after) if before.get(p) != after.get(p)]
    assert not changed, f"{cell}: refused, yet wrote {sorted(changed)}"


# Through the installed command: one row of defects per file, so every file and every defect is covered.
CLI_CELLS = {
    ("profiles.toml", "truncated"), ("profiles.toml", "binary"), ("template", "syntax"), ("template", "folder"),
    ("settings.json", "bom"), ("settings.json", "value-types"), ("settings.json", "deep"), ("settings.json", "huge"),
    (".claude.json", "empty"), (".claude.json", "top-level"), ("_meta.json", "whitespace"), ("_meta.json", "dangling-symlink"),
    ("entry", "truncated"), ("claude_desktop_config.json", "value-types"), ("claude_desktop_config.json", "folder"),
}


def cells() -> list[Any]:
    return [pytest.param(name, defect, id=f"{name}-{defect}") for name in TARGETS for defect in DEFECTS]


@pytest.mark.parametrize(("name", "defect"), cells())
def test_broken_file_is_refused_naming_it_and_nothing_is_written(name: str, defect: str, tmp_path: Path, figures: Any,
                                                                  slow: bool) -> None:
    target = TARGETS[name]
    world = prepare(tmp_path, target)
    huge = 10 * MB if slow or name in ("settings.json", ".claude.json", "template") else MB
    path = lay(world, target, defect, huge)
    before = everything(world)
    via_cli = (name, defect) in CLI_CELLS
    if defect == "unreadable":
        if os.geteuid() == 0 and not can_drop_dac():
            pytest.skip("running as root and CAP_DAC_OVERRIDE cannot be dropped here: mode 000 would not block reading")
        out = run_installed(world, target.command, as_plain_user=True)
        via_cli = True
    elif defect in NON_REGULAR:
        started = time.monotonic()
        # Bounded: a command blocked on the FIFO or reading the device is stopped at 30 s and reported as hung
        # (run_installed's outcome says so, and the assertion below shows it). The time is a figure, not a test.
        out = run_installed(world, target.command, timeout=30)
        elapsed = time.monotonic() - started
        via_cli = True
        figures.note(f"non-regular files refused in at most {max(elapsed, _slowest(figures)):.2f} s (command start-up included)")
        assert out.crashed is None, f"{(name, defect)}: {out.crashed}"
        assert NON_REGULAR_WORDS[defect] in out.stderr, f"{(name, defect)}: does not say what the file is: {out.stderr[-400:]}"
    elif via_cli:
        out = run_installed(world, target.command)
    else:
        out = run_in_process(world, target.command)
    figures.add("bad_inputs")
    figures.add("bad_inputs_cli", via_cli)
    check(world, target, defect, path, before, out)
    if via_cli and out.code != 0:
        assert out.code == 4 or (name, defect) in NOT_FOUND, f"an invalid file exits 4 (README): got {out.code}"


def _slowest(figures: Any) -> float:
    """The largest refusal time noted so far (the note keeps only the worst)."""
    for note in list(figures.notes):
        if note.startswith("non-regular files refused in at most "):
            figures.notes.remove(note)
            return float(note.split("at most ")[1].split(" s")[0])
    return 0.0


# --- valid-looking JSON that is not what Claude Code reads --------------------------------------------------------


def test_nan_and_infinity_literals_are_refused_like_invalid_json(tmp_path: Path) -> None:
    world = prepare(tmp_path, TARGETS["settings.json"])
    world.settings.write_bytes(b'{\n  "model": "opus",\n  "ratio": NaN\n}\n')
    before = everything(world)
    out = run_in_process(world, ("use", "a"))
    assert out.code == 4 and re.search(re.escape(str(world.settings)) + r":3:\d+", out.stderr), out.stderr
    assert everything(world) == before


def test_a_lone_surrogate_in_an_owned_key_does_not_crash(tmp_path: Path) -> None:
    world = prepare(tmp_path, TARGETS["settings.json"])
    original = '{\n  "statusLine": "été",\n  "apiKeyHelper": "\\ud800"\n}\n'.encode()
    world.settings.write_bytes(original)
    out = run_in_process(world, ("use", "a"))
    assert out.crashed is None, out.crashed
    assert out.code == 0, out.stderr
    assert run_in_process(world, ("off",)).code == 0
    assert world.settings.read_bytes() == original


def test_a_lone_surrogate_in_a_list_dsconfig_edits_does_not_crash(tmp_path: Path) -> None:
    from .reliability_support import FOREIGN_ID

    world = prepare(tmp_path, TARGETS["_meta.json"])
    original = ('{\n  "appliedId": "' + FOREIGN_ID + '",\n  "entries": [\n    {"id": "' + FOREIGN_ID
                + '", "name": "Mon \\ud800 passerelle \u00e0 moi"}\n  ]\n}\n').encode()
    world.meta.write_bytes(original)
    out = run_in_process(world, ("use", "a", "--target", "claude-desktop"))
    assert out.crashed is None, out.crashed
    assert out.code == 0, out.stderr
    assert run_in_process(world, ("off", "--target", "claude-desktop")).code == 0
    assert world.meta.read_bytes() == original
