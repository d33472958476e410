"""Install and drive the real Claude Code CLI, pinned, for end-to-end tests.

Why the real CLI: dsconfig's promise is "after this, ``claude`` talks to DeepSeek". Only the real
program proves that settings precedence, key sources and model variables work as written. The
version is pinned because an unpinned ``npm install`` on Node 20 silently picks an old release.
Tests must fail, not skip, when the CLI cannot be installed, so every problem raises RuntimeError.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLAUDE_CODE_VERSION = "2.1.332"
CLAUDE_CODE_PACKAGE = f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"
PREFIX_ENV = "DSCONFIG_TEST_CLAUDE_PREFIX"
REPO_ROOT = Path(__file__).resolve().parents[2]
NPM_INSTALL_TIMEOUT = 600
LOOPBACK_HOSTS = "127.0.0.1,localhost"


def claude_prefix() -> Path:
    """The npm prefix holding the pinned CLI: ``$DSCONFIG_TEST_CLAUDE_PREFIX`` or ``<repo>/.cache/claude-code``."""
    configured = os.environ.get(PREFIX_ENV)
    return Path(configured) if configured else REPO_ROOT / ".cache" / "claude-code"


def claude_binary(prefix: Path) -> Path:
    return prefix / "node_modules" / ".bin" / "claude"


def installed_version(binary: Path) -> str | None:
    """What ``claude --version`` prints, or None when the binary is missing or broken.

    Runs in a throwaway HOME so a version check never touches the developer's real ``~/.claude``.
    """
    if not binary.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="claude-version-") as home:
        try:
            proc = subprocess.run(
                [str(binary), "--version"],
                env=claude_env(Path(home)),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _is_pinned(version: str | None) -> bool:
    # "2.1.332 (Claude Code)": compare the whole first word so 2.1.3320 would not pass.
    return version is not None and version.split(" ", 1)[0] == CLAUDE_CODE_VERSION


def ensure_claude(prefix: Path | None = None) -> Path:
    """Return the pinned ``claude`` binary, installing it with npm first if needed.

    The install runs under an exclusive file lock so parallel test processes (pytest-xdist, several
    CI jobs sharing a cache) neither race nor install twice.
    """
    prefix = prefix or claude_prefix()
    binary = claude_binary(prefix)
    if _is_pinned(installed_version(binary)):
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is not on PATH: cannot install {CLAUDE_CODE_PACKAGE} into {prefix}")
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_pinned(installed_version(binary)):  # another process may have installed it meanwhile
            command = [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                CLAUDE_CODE_PACKAGE,
            ]
            try:
                proc = subprocess.run(
                    command,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=NPM_INSTALL_TIMEOUT,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"{' '.join(command)} did not finish in {NPM_INSTALL_TIMEOUT}s") from exc
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    version = installed_version(binary)
    if not _is_pinned(version):
        raise RuntimeError(f"{binary} reports version {version!r} after install, expected {CLAUDE_CODE_VERSION}")
    return binary


def claude_env(home: Path, env_extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a test run of ``claude``.

    A copy of ``os.environ`` without any ``ANTHROPIC_*``/``CLAUDE_*`` variable (a developer's own
    key or config dir must never leak into, or decide, a test), HOME pointed at the test's home,
    retries off (Claude Code otherwise retries a 401 or a refused connection for minutes), no
    traffic to Anthropic's hosts, and loopback exempt from any proxy the machine sets.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANTHROPIC_", "CLAUDE_"))}
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = ",".join(filter(None, [env.get(name), LOOPBACK_HOSTS]))
    env.update(
        HOME=str(home),
        CLAUDE_CODE_MAX_RETRIES="0",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
    )
    env.update(env_extra or {})
    return env


def run_claude(
    binary: Path,
    prompt: str,
    *,
    home: Path,
    cwd: Path,
    env_extra: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``claude -p PROMPT --output-format json`` headless and return its outcome.

    The CLI runs in its own process group so a timeout kills it with any children it spawned;
    otherwise a grandchild holding the output pipes would make the wait hang past the timeout.
    Raises ``subprocess.TimeoutExpired`` (with the output so far) when the run is too slow.
    """
    args = [str(binary), "-p", prompt, "--output-format", "json", *extra_args]
    with subprocess.Popen(
        args,
        cwd=cwd,
        env=claude_env(home, env_extra),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise subprocess.TimeoutExpired(args, timeout, output=stdout, stderr=stderr) from None
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


@dataclass(frozen=True)
class ClaudeResult:
    """The parts of ``--output-format json`` output the tests assert on."""

    result: str
    is_error: bool
    raw: dict[str, Any]


def parse_result(proc: subprocess.CompletedProcess[str]) -> ClaudeResult:
    """Parse a ``run_claude`` outcome.

    Fails the calling test (AssertionError) quoting both output streams when stdout is not the JSON
    result object, so the report shows what claude said instead of a bare JSON decoding error.
    """
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = None
    assert isinstance(data, dict), (
        f"claude printed no JSON result (exit {proc.returncode}):\nstdout: {proc.stdout[-2000:]}\n"
        f"stderr: {proc.stderr[-2000:]}"
    )
    return ClaudeResult(result=str(data.get("result", "")), is_error=bool(data.get("is_error")), raw=data)


def write_user_settings(home: Path, settings: Mapping[str, Any]) -> Path:
    """Write ``<home>/.claude/settings.json`` (strict JSON, as Claude Code requires) and return its path."""
    path = home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return path
