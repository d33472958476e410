"""Shared pieces of the reliability suite: a laid-out "world" (a home with Claude Code and Claude Desktop files,
a dsconfig home, a project folder), running the installed command, snapshots of whole trees.

Imported by the test modules of this package (`from .reliability_support import ...`).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from helpers import keyring_backend

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TRACEBACK = "Traceback (most recent call last)"
TEMP_SUFFIX = ".dsconfig-tmp"
# An id of the user's own Claude Desktop entry (not dsconfig's): it must survive everything.
# `use` only checks that a key exists (for a warning); the null keyring answers at once and keeps the Secret Service
# off the kill path. Tests of the keyring path remove it (extra_env) and use the real Secret Service.
NULL_KEYRING = "keyring.backends.null.Keyring"
FOREIGN_ID = "3f2a8c1e-5b7d-4e9a-8c6f-1d2e3f4a5b6c"


def dsconfig_program() -> list[str]:
    """The console script installed beside this Python (absolute, symlinks resolved: the same path dsconfig
    writes into apiKeyHelper when run from it), or `python -m dsconfig`."""
    script = Path(sys.executable).parent / "dsconfig"
    return [str(script.resolve())] if script.exists() else [sys.executable, "-m", "dsconfig"]


DSCONFIG = dsconfig_program()


def run(args: list[str] | tuple[str, ...], *, env: Mapping[str, str], cwd: Path | None = None, input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DSCONFIG, *args], check=False, input=input, capture_output=True, text=True, env=dict(env), cwd=cwd,
                          timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert TRACEBACK not in proc.stderr and TRACEBACK not in proc.stdout, (
        f"dsconfig {' '.join(map(str, proc.args[len(DSCONFIG):]))} crashed with a traceback:\n{proc.stderr[-3000:]}")


# --- snapshots ----------------------------------------------------------------------------------------------

Entry = tuple[str, Any, int]  # (kind, content, mode): ("file", bytes), ("dir", None), ("link", target)


def snapshot(*roots: Path, skip: tuple[str, ...] = ()) -> dict[str, Entry]:
    """Every file, folder and symlink under `roots` with its bytes and mode (paths absolute as strings).

    `skip`: folder names not descended into (dsconfig's lock files: empty, never data)."""
    out: dict[str, Entry] = {}
    for root in roots:
        if not root.exists() and not root.is_symlink():
            continue
        for folder, dirs, files in os.walk(root, followlinks=False):
            dirs[:] = [d for d in dirs if d not in skip]
            for name in dirs + files:
                path = Path(folder) / name
                st = path.lstat()
                mode = stat.S_IMODE(st.st_mode)
                if stat.S_ISLNK(st.st_mode):
                    out[str(path)] = ("link", os.readlink(path), mode)
                elif stat.S_ISDIR(st.st_mode):
                    out[str(path)] = ("dir", None, mode)
                elif stat.S_ISREG(st.st_mode):
                    try:
                        out[str(path)] = ("file", path.read_bytes(), mode)
                    except PermissionError:  # a chmod 000 file when not root
                        out[str(path)] = ("file", "<unreadable>", mode)
                else:
                    out[str(path)] = ("other", None, mode)
        st = root.lstat()
        out[str(root)] = ("dir" if root.is_dir() else "file", None, stat.S_IMODE(st.st_mode))
    return out


def data_snapshot(world: World) -> dict[str, Entry]:
    """Everything under the world that holds data: dsconfig's lock files and its own (empty) state folders are
    left out, since making them is how any dsconfig command starts, refused or not."""
    own = str(world.dsh)
    return {p: e for p, e in snapshot(world.root, skip=("locks",)).items() if not (e[0] == "dir" and p.startswith(own))}


def changed_paths(before: Mapping[str, Entry], after: Mapping[str, Entry]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def temp_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots if root.exists() for p in root.rglob(f"*{TEMP_SUFFIX}"))


def valid_json(path: Path) -> Any:
    return json.loads(path.read_bytes().decode("utf-8"))


class NoKeys:
    """A secret store holding no key (`use` only looks one up for a warning)."""

    def get(self, name: str) -> str | None:
        return None

    def set(self, name: str, key: str) -> None:
        raise AssertionError("these tests store no key")

    def delete(self, name: str) -> bool:
        return False

    def describe(self) -> str:
        return "none"


# --- the world ----------------------------------------------------------------------------------------------

ORIGINAL_SETTINGS = b"""{
    "permissions": {"allow": ["Bash(npm test)", "Read(~/notes/**)"], "deny": []},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo \\"$CLAUDE_TOOL\\" >> ~/log"}]}]
    },
    "env": {"FOO": "bar", "ANTHROPIC_SMALL_FAST_MODEL": "old-haiku", "NUMBER_LIKE": "1e-7"},
    "model": "opus",
    "statusLine": {"type": "command", "command": "printf '\\u00e9t\\u00e9 \xe2\x98\x83'"}
}
"""
ORIGINAL_STATE = b'{"numStartups": 42, "installMethod": "npm", "tipsHistory": {"x": 1e-7}, "projects": {"/w": {"allowedTools": []}}, "userID": "c0ffee"}\n'
ORIGINAL_META = (f'{{\n  "appliedId": "{FOREIGN_ID}",\n  "entries": [\n    {{\n      "id": "{FOREIGN_ID}",\n'
                 '      "name": "My own gateway"\n    }\n  ]\n}\n').encode()
ORIGINAL_FOREIGN_ENTRY = b'{\n  "inferenceProvider": "gateway",\n  "inferenceGatewayBaseUrl": "https://gw.example.com",\n  "inferenceGatewayApiKey": "placeholder"\n}\n'
ORIGINAL_APP_CONFIG = b'{\n  "mcpServers": {\n    "files": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/w"]}\n  },\n  "deploymentMode": "1p"\n}\n'


@dataclass
class World:
    """One user's machine inside `root`: home, dsconfig's folder, a project folder."""

    root: Path
    extra_env: dict[str, str | None] = field(default_factory=dict)  # None: remove the variable

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def dsh(self) -> Path:
        return self.root / "dsconfig-home"

    @property
    def proj(self) -> Path:
        return self.root / "proj"

    @property
    def settings(self) -> Path:
        return self.home / ".claude" / "settings.json"

    @property
    def state(self) -> Path:
        return self.home / ".claude.json"

    @property
    def local(self) -> Path:
        return self.proj / ".claude" / "settings.local.json"

    @property
    def data_3p(self) -> Path:
        return self.home / ".config" / "Claude-3p"

    @property
    def library(self) -> Path:
        return self.data_3p / "configLibrary"

    @property
    def meta(self) -> Path:
        return self.library / "_meta.json"

    @property
    def app_configs(self) -> tuple[Path, Path]:
        return self.home / ".config" / "Claude" / "claude_desktop_config.json", self.data_3p / "claude_desktop_config.json"

    @property
    def profiles(self) -> Path:
        return self.dsh / "profiles.toml"

    @property
    def journal(self) -> Path:
        return self.dsh / "state" / "journal.json"

    @property
    def env_overrides(self) -> dict[str, str | None]:
        home = str(self.home)
        return {
            "HOME": home, "USERPROFILE": home, "XDG_CONFIG_HOME": f"{home}/.config", "XDG_DATA_HOME": f"{home}/.local/share",
            "XDG_STATE_HOME": f"{home}/.local/state", "XDG_CACHE_HOME": f"{home}/.cache",
            "APPDATA": f"{home}/AppData/Roaming", "LOCALAPPDATA": f"{home}/AppData/Local",
            "DSCONFIG_HOME": str(self.dsh), "NO_COLOR": "1", "PYTHON_KEYRING_BACKEND": NULL_KEYRING, **self.extra_env,
        }

    @property
    def env(self) -> dict[str, str]:
        # Nothing of the developer's own Claude or dsconfig setup leaks in (as tests/conftest.py's isolation).
        inherited = {k: v for k, v in os.environ.items()
                     if not k.startswith(("ANTHROPIC_", "CLAUDE_", "DSCONFIG_")) and k != "PYTHON_KEYRING_BACKEND"}
        merged: dict[str, str | None] = {**inherited, **self.env_overrides}
        return {k: v for k, v in merged.items() if v is not None}

    def user_roots(self) -> tuple[Path, Path]:
        """The folders that belong to the user (everything dsconfig may touch there is someone else's file)."""
        return self.home, self.proj

    def run(self, *args: str, input: str | None = None, timeout: float = 60, cwd: Path | None = None,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run(list(args), env={**self.env, **(env or {})}, cwd=cwd or self.proj, input=input, timeout=timeout)

    @contextlib.contextmanager
    def activated(self) -> Iterator[None]:
        """This world's environment and working folder for in-process calls (restored afterwards)."""
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        saved_argv0 = sys.argv[0] if sys.argv else None
        os.environ.clear()
        os.environ.update(self.env)
        os.chdir(self.proj)
        if sys.argv:
            sys.argv[0] = DSCONFIG[0]  # so in-process runs write the same apiKeyHelper as the installed command
        # keyring caches the backend it detects for the whole process: never let an in-process run pick (and
        # leave behind) a backend for the other tests; the subprocesses get the same null keyring by name.
        patch = mock.patch("keyring.get_keyring", return_value=keyring_backend("null"))
        patch.start()
        try:
            yield
        finally:
            patch.stop()
            os.environ.clear()
            os.environ.update(saved_env)
            os.chdir(saved_cwd)
            if sys.argv and saved_argv0 is not None:
                sys.argv[0] = saved_argv0

    def cli(self, *args: str) -> int:
        """Run the real CLI entry point in this process (no interpreter start-up: ~20x faster)."""
        from dsconfig.entry import main

        with self.activated():
            return main(list(args))


def contexts(world: World, journal: Any = None, store: Any = None, secrets: Any = None) -> tuple[Any, Any]:
    """In-process collaborators for `world` (call inside world.activated())."""
    from dsconfig import actions
    from dsconfig.journal import Journal
    from dsconfig.profiles import ProfileStore
    from dsconfig.targets.context import TargetContext

    actx = actions.Context(store=store or ProfileStore(world.profiles), secrets=secrets or NoKeys(),
                           environ=world.env)
    tctx = TargetContext(home=world.home, environ=world.env, cwd=world.proj, journal=journal or Journal(world.journal),
                         dsconfig_command=(DSCONFIG[0],))
    return actx, tctx


def make_world(root: Path, *, desktop: bool = True, claude_files: bool = True) -> World:
    world = World(root)
    world.home.mkdir(parents=True)
    world.proj.mkdir(parents=True)
    if claude_files:
        world.settings.parent.mkdir(parents=True)
        world.settings.write_bytes(ORIGINAL_SETTINGS)
        world.state.write_bytes(ORIGINAL_STATE)
    if desktop:
        world.library.mkdir(parents=True)
        world.meta.write_bytes(ORIGINAL_META)
        (world.library / f"{FOREIGN_ID}.json").write_bytes(ORIGINAL_FOREIGN_ENTRY)
        world.app_configs[0].parent.mkdir(parents=True)
        world.app_configs[0].write_bytes(ORIGINAL_APP_CONFIG)
    return world


PROFILES_TOML = """\
# dsconfig profiles: edit with `dsconfig profile edit` or by hand. No keys here: they live in the OS keyring.
schema_version = 1

[profiles.a]
provider = "deepseek"

[profiles.b]
provider = "deepseek"
base_url = "https://b.example.com/anthropic"

[profiles.b.models]
main = "b-main-model"
haiku = "b-haiku-model"

[profiles.b.env]
B_ONLY = "only-in-b"
CLAUDE_CODE_EFFORT_LEVEL = "high"
"""


def profiled_world(tmp: Path, *, library: bool = False) -> World:
    """A world in `tmp`/w: an empty home and project folder (no Claude files yet), profiles a and b, and with
    `library` Claude Desktop's (empty) config library folder, so Desktop counts as present."""
    world = World(tmp / "w")
    world.home.mkdir(parents=True)
    world.proj.mkdir(parents=True)
    if library:
        world.library.mkdir(parents=True)
    add_profiles(world)
    return world


def add_profiles(world: World) -> None:
    """Profiles a and b, written as `dsconfig profile add` writes them (checked by loading them back)."""
    world.dsh.mkdir(mode=0o700, parents=True, exist_ok=True)
    world.profiles.write_text(PROFILES_TOML)
    world.profiles.chmod(0o600)
    with world.activated():
        from dsconfig.profiles import ProfileStore

        assert sorted(ProfileStore(world.profiles).load().profiles) == ["a", "b"]


def user_tree(world: World) -> dict[str, bytes | None]:
    """Every file in the user's folders (bytes), symlinks as their target text."""
    out: dict[str, bytes | None] = {}
    for path, (kind, content, _mode) in snapshot(*world.user_roots()).items():
        if kind == "file":
            out[path] = content
        elif kind == "link":
            out[path] = f"-> {content}".encode()
    return out


def normalise(world: World, data: bytes) -> bytes:
    return data.replace(str(world.root).encode(), b"@ROOT@")


def toml_ok(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_bytes().decode("utf-8"))


# --- a real SIGKILL at an exact write boundary ---------------------------------------------------------------

_KILL_AT = """
import os, signal, sys
name, when = os.environ["DSCONFIG_TEST_KILL_AT"].split(":")
real = os.replace
def replace(src, dst, *args, **kwargs):
    hit = os.path.basename(os.fspath(dst)) == name
    if hit and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst, *args, **kwargs)
    if hit and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
sys.argv[0] = @DSCONFIG@
from dsconfig.entry import main
sys.exit(main(sys.argv[1:]))
"""


def run_killed_at(world: World, name: str, when: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run dsconfig and SIGKILL it just before or just after the atomic rename that replaces the file called
    `name` (the first one): the exact moment a random kill can only hit by luck."""
    code = _KILL_AT.replace("@DSCONFIG@", repr(DSCONFIG[0]))
    return subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True, timeout=60, cwd=world.proj,
                          env={**world.env, "DSCONFIG_TEST_KILL_AT": f"{name}:{when}"}, stdin=subprocess.DEVNULL)


# --- fixed bugs stay fixed: their exact leftovers ----------------------------------------------------------------


def journal_paths(world: World) -> set[str]:
    if not world.journal.exists():
        return set()
    return set(json.loads(world.journal.read_bytes()).get("files", {}))


def assert_fixed_bugs_stay_fixed(world: World) -> None:
    """Fail if the world shows the leftovers of the journal gap fixed by the pending record
    (journal FileRecord.pending_sha256).

    Before that fix, a kill after a file was written but before the journal recorded what was written left a
    record `off` could not match to the file, so `off` dropped it:
    - onboarding-flag-left: ~/.claude.json keeps hasCompletedOnboarding although nobody journals it any more;
    - desktop-file-left: a Desktop entry or credential helper stays behind unjournaled, and every later
      `use --target claude-desktop|all` fails: "exists and was not made by dsconfig".
    A racing run that planned between those two journal writes dropped the record the same way. Neither can
    arise otherwise: dsconfig journals a file before writing it, and drops the record only after restoring it.
    """
    from dsconfig.targets import claude_desktop as cd

    seen = []
    recorded = journal_paths(world)
    if world.state.exists() and str(world.state) not in recorded:
        doc = json.loads(world.state.read_bytes())
        if doc.pop("hasCompletedOnboarding", None) is True and doc == json.loads(ORIGINAL_STATE):
            seen.append("onboarding-flag-left")
    for name in ("a", "b"):
        for path in (world.library / f"{cd.entry_id(name)}.json", world.dsh / "state" / "helpers" / f"claude-desktop-{name}"):
            if path.exists() and str(path) not in recorded:
                seen.append(f"desktop-file-left: {path.name}")
    assert not seen, f"a fixed bug came back: {seen}"


