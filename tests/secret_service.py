"""Start a real Secret Service (gnome-keyring) on a private D-Bus session bus, unlocked.

Used by the test session (tests/conftest.py) and the benchmarks (bench/). Nothing of the developer's own
session is touched: the bus, the keyring files and the runtime folder all live in a temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

KEYRING_PASSWORD = "dsconfig-test-keyring"
REQUIRED = ("dbus-daemon", "gnome-keyring-daemon", "secret-tool")


class SecretServiceError(RuntimeError):
    pass


class SecretService:
    def __init__(self, address: str) -> None:
        self.address = address

    def lookup(self, name: str, service: str = "dsconfig") -> str | None:
        """Read an item back with libsecret's own `secret-tool`, independent of Python's keyring."""
        proc = subprocess.run(
            ["secret-tool", "lookup", "service", service, "username", name],
            capture_output=True, text=True, env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.address}, timeout=20, check=False,
        )
        return proc.stdout if proc.returncode == 0 else None

    def clear(self, service: str = "dsconfig") -> None:
        """Remove every item of `service` (secret-tool clear matches on the attribute)."""
        subprocess.run(["secret-tool", "clear", "service", service], capture_output=True,
                       env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": self.address}, timeout=20, check=False)


@contextlib.contextmanager
def running_secret_service() -> Iterator[SecretService]:
    missing = [tool for tool in REQUIRED if shutil.which(tool) is None]
    if missing:
        raise SecretServiceError(
            f"missing programs: {', '.join(missing)} "
            "(apt-get install --no-install-recommends gnome-keyring libsecret-tools dbus-x11)"
        )
    root = Path(tempfile.mkdtemp(prefix="dsconfig-secret-service-"))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "XDG_DATA_HOME": str(root / "data"),
           "XDG_RUNTIME_DIR": str(root / "run"), "XDG_CONFIG_HOME": str(root / "config")}
    (root / "run").mkdir(mode=0o700)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:path={root}/bus"],
                           stdout=subprocess.PIPE, text=True, env=env)
    procs: list[subprocess.Popen[bytes] | subprocess.Popen[str]] = [bus]
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise SecretServiceError("dbus-daemon did not print its address")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=env, start_new_session=True)
        procs.append(daemon)
        assert daemon.stdin is not None
        daemon.stdin.write(KEYRING_PASSWORD.encode())
        daemon.stdin.close()
        _wait_ready(env)
        yield SecretService(address)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(env: dict[str, str]) -> None:
    # The daemon needs a moment to claim org.freedesktop.secrets and create the default collection: wait until a real
    # store through it succeeds (the event), within about 10 s.
    for _ in range(100):
        probe = subprocess.run(["secret-tool", "store", "--label=probe", "service", "dsconfig-probe", "username", "probe"],
                               input="x", capture_output=True, text=True, env=env, timeout=20, check=False)
        if probe.returncode == 0:
            return
        time.sleep(0.1)  # poll interval: the probe answering is the event waited for, bounded to 100 tries
    raise SecretServiceError("gnome-keyring-daemon did not answer on the session bus within 10 s")
