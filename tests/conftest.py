"""Test isolation and the real components every integration test shares.

- `_isolate` (autouse): each test gets its own HOME, XDG folders, APPDATA/LOCALAPPDATA and DSCONFIG_HOME, and
  no ANTHROPIC_*/CLAUDE_* variables or D-Bus session of the developer's: no test can touch the real home
  folder, the real keyring or a real provider.
- `secret_service`: a real gnome-keyring Secret Service on a private D-Bus session bus, unlocked, for the
  whole run. When it cannot start, tests that need it FAIL (in CI and as root); they skip only for a developer
  running without root outside CI, with the reason printed.
- The fake provider server and the real Claude Code CLI come from tests/fakes (pytest plugin below).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["fakes.fixtures"]

from helpers import MemoryKeyring, RunDsconfig, dsconfig_command
from secret_service import SecretService, SecretServiceError, running_secret_service

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for var in list(os.environ):
        if var.startswith(("ANTHROPIC_", "CLAUDE_", "DSCONFIG_")) or var in ("PYTHON_KEYRING_BACKEND", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("LOCALAPPDATA", str(home / "AppData" / "Local"))
    monkeypatch.setenv("DSCONFIG_HOME", str(tmp_path / "dsconfig-home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def home(_isolate: Path) -> Path:
    return _isolate


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


# --- the real Secret Service --------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") or (hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.fail(f"the real Secret Service is required and could not be started: {reason}")
    pytest.skip(f"Secret Service unavailable and not running as root outside CI: {reason}")


@pytest.fixture(scope="session")
def _secret_service_session() -> Iterator[SecretService | str]:
    try:
        with running_secret_service() as service:
            yield service
    except SecretServiceError as err:
        yield str(err)


@pytest.fixture
def secret_service(_secret_service_session: SecretService | str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """The real Secret Service, exported to this test's environment (and so to its subprocesses).

    The daemon lives for the whole session; every dsconfig item is cleared before and after each test so no
    test sees another's keys.
    """
    if isinstance(_secret_service_session, str):
        _unavailable(_secret_service_session)
    assert isinstance(_secret_service_session, SecretService)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", _secret_service_session.address)
    _secret_service_session.clear()
    yield _secret_service_session
    _secret_service_session.clear()


# --- running the installed command -------------------------------------------------------------------


@pytest.fixture
def run_dsconfig() -> RunDsconfig:
    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 60,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*dsconfig_command(), *args], input=input, capture_output=True, text=True, check=False,
                              env={**os.environ, **(env or {})}, timeout=timeout, cwd=cwd)

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    # Declared here too so `pytest --slow` works from the repository root (pytest reads a sub-folder's
    # conftest options only when the run names that folder); tests/reliability/conftest.py tolerates both.
    parser.addoption("--slow", action="store_true", default=False,
                     help="reliability suite: heavy variants (thousands of kills, more examples)")
