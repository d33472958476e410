"""paths.py answers like platformdirs on Linux without importing it (`key get` and `env` run on every start)."""

from __future__ import annotations

import subprocess
import sys

import platformdirs
import pytest

from dsconfig import paths

CASES = [
    {"HOME": "/home/ada"},
    {"HOME": "/home/ada/"},
    {"HOME": "/"},
    {"HOME": "/home/ada", "XDG_CONFIG_HOME": "/srv/conf", "XDG_STATE_HOME": "/srv/state/"},
    {"HOME": "/home/ada", "XDG_CONFIG_HOME": "", "XDG_STATE_HOME": ""},
    {"HOME": "/home/ada", "XDG_CONFIG_HOME": "relative/conf", "XDG_STATE_HOME": "~/state"},
    {"HOME": "/home/ada", "XDG_CONFIG_HOME": " /leading-space"},
    {"HOME": "relative-home"},
    {"HOME": ""},
]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shortcut exists on Linux only")
@pytest.mark.parametrize("environ", CASES, ids=[repr(c) for c in CASES])
def test_the_shortcut_agrees_with_platformdirs(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "DSCONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var, value in environ.items():
        monkeypatch.setenv(var, value)
    assert str(paths.config_dir()) == platformdirs.user_config_dir("dsconfig", appauthor=False)
    assert str(paths.state_dir()) == platformdirs.user_state_dir("dsconfig", appauthor=False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shortcut exists on Linux only")
def test_the_plain_cases_do_not_import_platformdirs(tmp_path: object) -> None:
    probe = ("import sys; from dsconfig import paths; paths.config_dir(); paths.state_dir(); "
             "print('platformdirs' in sys.modules)")
    for environ in ({"HOME": "/home/ada"}, {"HOME": "/home/ada", "XDG_CONFIG_HOME": "/c", "XDG_STATE_HOME": "/s"}):
        out = subprocess.run([sys.executable, "-c", probe], env={"PATH": "/usr/bin:/bin", **environ},
                             capture_output=True, text=True, check=True, timeout=60).stdout
        assert out.strip() == "False", environ
