"""Outside-tester finding 10: for an active `env:` or `command:` profile with no key, doctor's profile finding names
where the key comes from and the fix that works there (verify's words, dsconfig/verify/sources.py), never
`dsconfig key set NAME`, which has nothing to store for those sources (exit 2). Through the installed command."""

from __future__ import annotations

import json
from typing import Any

import pytest


def _profile_errors(run_dsconfig: Any, source: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    for args in (("profile", "add", "e", "--provider", "deepseek", "--key-source", source), ("use", "e")):
        proc = run_dsconfig(*args)
        assert proc.returncode == 0, proc.stderr
    proc = run_dsconfig("doctor", "--json", "--no-verify", env=env)
    findings = json.loads(proc.stdout)["findings"]
    return [f for f in findings if f["check"] == "profile" and f["severity"] == "error"]


@pytest.mark.parametrize(("env", "state"), [(None, "is not set"), ({"DSQ_DOCTOR_KEY": ""}, "is empty")])
def test_env_profile_without_its_variable(run_dsconfig: Any, env: dict[str, str] | None, state: str) -> None:
    (error,) = _profile_errors(run_dsconfig, "env:DSQ_DOCTOR_KEY", env)
    assert error["message"] == f"no API key for profile 'e': DSQ_DOCTOR_KEY {state} (the profile reads its key from " \
                               "env:DSQ_DOCTOR_KEY)"
    assert error["fix"].startswith("export DSQ_DOCTOR_KEY=... where you run dsconfig and Claude Code")
    assert "key set" not in error["fix"]


def test_command_profile_whose_command_fails(run_dsconfig: Any) -> None:
    (error,) = _profile_errors(run_dsconfig, "command:false")
    assert "the key command of profile 'e' failed (exit 1)" in error["message"]
    assert "false" in error["fix"] and "key set" not in error["fix"]
    assert run_dsconfig("key", "set", "e", "--stdin", input="sk-x").returncode == 2  # why `key set` is no fix here


def test_command_profile_whose_command_prints_nothing(run_dsconfig: Any) -> None:
    (error,) = _profile_errors(run_dsconfig, "command:true")
    assert "no API key for profile 'e'" in error["message"] and "key set" not in error["fix"], error
