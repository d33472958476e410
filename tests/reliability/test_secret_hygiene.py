"""Part 5: the key is nowhere it should not be, after the whole user journey.

A recognisable key ("sk-test-HYGIENE-" + a token made at runtime) goes into the real Secret Service through
`--api-key-stdin`; then every command a user runs: setup, profile add/show/list, use at user and project scope
and for Claude Desktop and all targets (also --dry-run), status, doctor, detect, exec, env, key get, verify
(passing, refused key, closed port), off. Afterwards:

- no file under the temp home, dsconfig's folder or the project holds the key, nor any 12-character piece of its
  random part; no byte of any command's stdout or stderr does either, except `key get` and `env`, whose job it
  is to print it (checked to do so, so the search is known to work);
- with `--inline-key` the key is found only in the files that flag targets (user and project settings, the
  Desktop entry), each 0600, and nowhere after `off`;
- folders dsconfig created are 0700 and the files it writes are 0600 (the Desktop helper: 0700, executable).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .reliability_support import World, make_world

# `exec` gives the child exactly one key variable: ANTHROPIC_API_KEY for DeepSeek (what its page documents for the SDKs).
EXEC_PROBE = "import os; print('token set' if os.environ.get('ANTHROPIC_API_KEY') else 'no token')"


def new_key() -> str:
    return "sk-test-HYGIENE-" + secrets.token_hex(12)


def pieces(key: str) -> list[bytes]:
    """The key and every 12-character piece of its random part: a partial leak counts too."""
    token = key.rsplit("-", 1)[1]
    return [key.encode()] + [token[i:i + 12].encode() for i in range(len(token) - 11)]


@dataclass
class Journey:
    world: World
    key: str
    streams: list[tuple[str, str]] = field(default_factory=list)  # (command, stdout+stderr) to search
    exempt: list[tuple[str, str]] = field(default_factory=list)  # outputs whose job is to print the key
    commands: int = 0

    def run(self, *args: str, input: str | None = None, ok: bool | int = True, exempt: bool = False,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        proc = self.world.run(*args, input=input, cwd=cwd, timeout=180)
        self.commands += 1
        label = "dsconfig " + " ".join(args)
        (self.exempt if exempt else self.streams).append((label, proc.stdout + "\n" + proc.stderr))
        assert "Traceback" not in proc.stderr, f"{label} crashed:\n{proc.stderr[-2000:]}"
        if ok is True:
            assert proc.returncode == 0, f"{label}: exit {proc.returncode}\n{proc.stderr[-1500:]}"
        elif ok is not False:
            assert proc.returncode == ok, f"{label}: exit {proc.returncode}, expected {ok}\n{proc.stderr[-1500:]}"
        return proc

    def files_with_key(self) -> list[Path]:
        needles = pieces(self.key)
        hits = []
        for root in (self.world.root,):
            for folder, _dirs, files in os.walk(root):
                for name in files:
                    path = Path(folder) / name
                    if path.is_symlink():
                        continue
                    data = path.read_bytes()
                    if any(n in data for n in needles):
                        hits.append(path)
        return sorted(hits)

    def streams_with_key(self) -> list[str]:
        needles = [n.decode() for n in pieces(self.key)]
        return [label for label, text in self.streams if any(n in text for n in needles)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when this returns: nothing listens there


def commands_available(world: World) -> set[str]:
    out = world.run("--help").stdout
    return {line.split()[0] for line in out.split("Commands:", 1)[1].splitlines() if line.strip()}


def hygienic_world(tmp_path: Path) -> World:
    world = make_world(tmp_path / "w")
    world.extra_env["PYTHON_KEYRING_BACKEND"] = None  # the real Secret Service, exported by the fixture
    return world


def folder_modes(world: World, created: list[Path]) -> list[str]:
    return [f"{p} is {oct(stat.S_IMODE(p.stat().st_mode))}" for p in created
            if p.is_dir() and stat.S_IMODE(p.stat().st_mode) != 0o700]


def dsconfig_folders(world: World) -> list[Path]:
    """Every folder dsconfig created: its own home and everything in it, the project's .claude."""
    found = [world.dsh] + [Path(f) / d for f, dirs, _ in os.walk(world.dsh) for d in dirs]
    found += [world.local.parent] if world.local.parent.exists() else []
    return found


@pytest.mark.secret_service
def test_the_key_appears_nowhere_after_the_whole_journey(secret_service: Any, fake_deepseek: Any, tmp_path: Path,
                                                          figures: Any) -> None:
    world = hygienic_world(tmp_path)
    key = new_key()
    fake_deepseek.keys = {key}
    j = Journey(world, key)
    available = commands_available(world)
    url = fake_deepseek.base_url
    if "setup" in available:
        j.run("setup", "--provider", "deepseek", "--profile", "ds", "--base-url", url, "--api-key-stdin", "--yes",
              "--target", "claude-code", input=key + "\n")
    else:
        print("note: no `setup` command in this dsconfig; profile add instead")
        j.run("profile", "add", "ds", "--provider", "deepseek", "--base-url", url, "--api-key-stdin", input=key)
    j.run("profile", "add", "ds2", "--provider", "deepseek", "--base-url", url, "--api-key-stdin", input=key)
    j.run("profile", "add", "closed", "--provider", "deepseek", "--base-url",
          f"http://127.0.0.1:{closed_port()}/anthropic", "--api-key-stdin", input=key)
    assert secret_service.lookup("ds") == key
    j.run("profile", "show", "ds")
    j.run("profile", "show", "ds", "--json")
    j.run("profile", "list", "--json")
    j.run("use", "ds", "--dry-run")
    j.run("use", "ds")
    j.run("use", "ds2", "--scope", "project")
    j.run("use", "ds", "--target", "claude-desktop")
    j.run("use", "ds2", "--target", "all")
    j.run("use", "ds", "--target", "all")
    for extra in (("status",), ("status", "--json"), ("doctor", "--json"), ("doctor",)):
        if extra[0] in available:
            j.run(*extra, ok=False)  # a finding about this test machine is fine; only the streams matter
        else:
            print(f"note: no `{extra[0]}` command in this dsconfig: skipped")
    j.run("detect", "--json")
    probe = j.run("exec", "ds", "--", sys.executable, "-c", EXEC_PROBE)
    assert probe.stdout.strip() == "token set"
    j.run("exec", "ds", "--", "sh", "-c", 'test -n "$ANTHROPIC_API_KEY" && test -z "$ANTHROPIC_AUTH_TOKEN"')
    env = j.run("env", "ds", "--shell", "bash", exempt=True)
    got = j.run("key", "get", "ds", exempt=True)
    assert got.stdout == key + "\n" and key in env.stdout, "the search would not find the key: check the test"
    j.run("verify", "ds", "--timeout", "10")
    j.run("verify", "--all", "--json", "--timeout", "10", ok=False)
    fake_deepseek.keys = {"sk-test-someone-else"}  # the provider now refuses our key
    j.run("verify", "ds", "--timeout", "10", ok=6)
    j.run("verify", "ds", "--json", "--timeout", "10", ok=6)
    j.run("verify", "closed", "--timeout", "5", ok=7)
    j.run("off", "--scope", "project")
    j.run("off", "--target", "all")
    j.run("profile", "rm", "ds2")
    j.run("key", "rm", "closed")

    leaks = [str(p) for p in j.files_with_key()] + j.streams_with_key()
    figures.add("hygiene_commands", j.commands)
    figures.add("hygiene_searched", len(j.streams) + sum(len(files) for _, _, files in os.walk(world.root)))
    figures.add("leaks", len(leaks))
    assert not leaks, f"the key leaked into: {leaks}"
    problems = folder_modes(world, dsconfig_folders(world))
    assert not problems, f"folders dsconfig created are not 0700: {problems}"
    for path in (world.profiles, world.journal):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is not 0600"


@pytest.mark.secret_service
def test_inline_key_only_where_asked_and_gone_after_off(secret_service: Any, fake_deepseek: Any, tmp_path: Path,
                                                        figures: Any) -> None:
    from dsconfig.targets import claude_desktop as cd

    world = hygienic_world(tmp_path)
    key = new_key()
    j = Journey(world, key)
    available = commands_available(world)
    j.run("profile", "add", "ds", "--provider", "deepseek", "--base-url", fake_deepseek.base_url, "--api-key-stdin", input=key)
    j.run("use", "ds", "--inline-key", "--dry-run")
    j.run("use", "ds", "--inline-key")
    j.run("use", "ds", "--scope", "project", "--inline-key", "--api-key-stdin", input=key)
    j.run("use", "ds", "--target", "claude-desktop", "--inline-key")
    for extra in (("status", "--json"), ("doctor", "--json", "--no-verify")):
        if extra[0] in available:
            j.run(*extra, ok=False)
    j.run("detect", "--json")
    entry = world.library / f"{cd.entry_id('ds')}.json"
    expected = sorted([world.settings, world.local, entry])
    found = j.files_with_key()
    assert found == expected, f"with --inline-key the key must be in exactly {expected}, found in {found}"
    for path in found:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} holds the key and is not 0600"
    assert not j.streams_with_key(), f"the key was printed by {j.streams_with_key()}"
    j.run("off", "--scope", "project")
    j.run("off", "--target", "all")
    leaks = [str(p) for p in j.files_with_key()] + j.streams_with_key()
    figures.add("hygiene_commands", j.commands)
    figures.add("hygiene_searched", len(j.streams) + sum(len(files) for _, _, files in os.walk(world.root)))
    figures.add("leaks", len(leaks))
    assert not leaks, f"after off the key is still in: {leaks}"


def test_every_folder_dsconfig_creates_is_0700(tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", desktop=False)
    old = os.umask(0o022)
    try:
        proc = world.run("profile", "add", "ds", "--provider", "deepseek")
        assert proc.returncode == 0, proc.stderr
        assert world.run("use", "ds").returncode == 0
    finally:
        os.umask(old)
    assert folder_modes(world, dsconfig_folders(world)) == []


URL_SECRETS = ("hunter2-url-password", "tok-url-SECRET-123456")


@pytest.mark.secret_service
def test_every_command_masks_the_key_when_endpoints_echo_it(secret_service: Any, tmp_path: Path, figures: Any) -> None:
    """Issue #12 item 11: a provider that echoes the key (in a 200 that is not Anthropic's format, and beyond
    character 240 of a long 401 message), and a base URL with `user:pass@` / `?token=` left in a project's
    settings by another tool: every command a user runs, text and --json, shows neither the key nor those
    credentials. The key is read from the keyring by the command itself (registered with the scrubber)."""
    from .test_hostile_providers import Hostile, _Handler, url_of

    server = Hostile(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        world = hygienic_world(tmp_path)
        key = new_key()
        server.mode, server.key = "echo_key", key
        j = Journey(world, key)
        j.run("profile", "add", "ds", "--provider", "deepseek", "--base-url", url_of(server), "--api-key-stdin", input=key)
        j.run("use", "ds")
        project = world.proj / ".claude" / "settings.json"
        project.parent.mkdir(parents=True, exist_ok=True)
        project.write_text(json.dumps({"env": {
            "ANTHROPIC_BASE_URL": f"https://me:{URL_SECRETS[0]}@gw.example/anthropic?token={URL_SECRETS[1]}"}}))
        for args in (("verify", "ds"), ("verify", "ds", "--json"), ("verify", "--all"), ("verify", "--all", "--json"),
                     ("status",), ("status", "--json"), ("doctor",), ("doctor", "--json"), ("detect",), ("detect", "--json"),
                     ("profile", "show", "ds"), ("profile", "show", "ds", "--json"), ("profile", "list"),
                     ("profile", "list", "--json"), ("env", "ds", "--unset"), ("use", "ds", "--dry-run")):
            j.run(*args, ok=False)
        verify = [text for label, text in j.streams if label.startswith("dsconfig verify")]
        assert all("not_anthropic" in text for text in verify), "the echoing endpoint was not reached: check the test"
        leaks = j.streams_with_key() + [label for label, text in j.streams if any(s in text for s in URL_SECRETS)]
    finally:
        server.shutdown()
        server.server_close()
    figures.add("hygiene_commands", j.commands)
    figures.add("hygiene_searched", len(j.streams))
    figures.add("leaks", len(leaks))
    assert not leaks, f"the key or a URL credential was printed by: {leaks}"
