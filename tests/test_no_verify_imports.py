"""`dsconfig doctor --no-verify` and `dsconfig setup --no-verify` never import httpx (nor questionary without a
terminal): the test call's network code (dsconfig/verify/runner.py and checks.py) loads only where a test call
runs. The same runs with the test call do load httpx, so the probe is seen to work."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from fakes.server import FakeDeepSeek

KEY = "sk-test-no-verify-0001"
HEAVY = ("httpx", "anthropic", "questionary", "prompt_toolkit")


def _loaded(cwd: Path, *args: str) -> tuple[int, list[str], str]:
    """Run `dsconfig ARGS` in a fresh interpreter without a terminal; (exit code, heavy modules loaded, output)."""
    probe = ("import sys\nfrom dsconfig.cli import main\ncode = 1\ntry:\n    code = main(sys.argv[1:])\n"
             "except SystemExit as e:\n    code = e.code if isinstance(e.code, int) else 1\n"
             f"print('LOADED', sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)\n"
             "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          stdin=subprocess.DEVNULL, env={**os.environ, "DS_KEY": KEY}, check=False)
    line = next(line for line in reversed(proc.stderr.splitlines()) if line.startswith("LOADED "))
    return proc.returncode, ast.literal_eval(line.removeprefix("LOADED ")), proc.stdout + proc.stderr


def test_setup_and_doctor_with_no_verify_do_not_import_httpx(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    fake_deepseek.keys = {KEY}
    setup = ("setup", "--provider", "deepseek", "--base-url", fake_deepseek.base_url, "--key-source", "env:DS_KEY",
             "--yes")
    code, loaded, err = _loaded(tmp_path, *setup, "--no-verify")
    assert code == 0 and loaded == [], err
    code, loaded, err = _loaded(tmp_path, "doctor", "--no-verify")
    assert "test call skipped (--no-verify)" in err and loaded == [], err

    # with the test call, httpx does load: the probe sees it
    code, loaded, err = _loaded(tmp_path, *setup)
    assert code == 0 and "test call passed" in err and loaded == ["httpx"], err
    code, loaded, err = _loaded(tmp_path, "doctor", "--json")
    assert loaded == ["httpx"], err
