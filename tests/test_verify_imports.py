"""The verify package's light modules never load httpx: `dsconfig doctor --no-verify` and `dsconfig setup
--no-verify` use only report.py and render.py (and so diagnosis.py's pure functions could be too), while the
HTTP client stays in checks.py, loaded by runner.py on the first `verify.run`.

Each probe runs in a fresh interpreter, as the startup tests of `env` and `key get` do.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("httpx", "httpcore", "anyio", "h11")


def loaded_after(statement: str) -> list[str]:
    probe = (f"import sys; {statement}; "
             f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return [m for m in proc.stdout.strip().split(",") if m]


@pytest.mark.parametrize("module", ["report", "diagnosis", "render", "sources", "sse", "target", "claude_check"])
def test_light_verify_modules_do_not_import_httpx(module: str) -> None:
    assert loaded_after(f"import dsconfig.verify.{module}") == []


def test_the_package_and_its_report_types_do_not_import_httpx() -> None:
    assert loaded_after("import dsconfig.verify; from dsconfig.verify.report import ProfileReport, VerifyDoc, VerifyReport") == []
    assert loaded_after("from dsconfig.verify import render; render.problem_lines") == []


def test_the_entry_points_load_the_http_client_on_first_use() -> None:
    # The probe above is only meaningful if the same interpreter does load httpx for a real run.
    assert "httpx" in loaded_after("from dsconfig import verify; verify.run")
    assert "httpx" in loaded_after("from dsconfig.verify import verify_many")
