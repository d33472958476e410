"""`dsconfig doctor`: every check, each with a severity and the exact command or edit that fixes it.

Severities:
- error:   something does not work, or will not work as configured (Claude Code broken or pointed at a cloud
           provider, no usable keyring, the active profile's key missing, managed settings overriding an
           applied profile, an unreadable file, a failed test call). `dsconfig doctor` exits 1 when any occurs.
- warning: works now, but is unsafe or surprising (a key in plain text, variables exported in the shell or its
           startup files that reach Claude Code on top of the profile, a project file overriding the user
           scope, stale variables of other switchers, files changed since dsconfig wrote them).
- info:    a fact worth knowing (versions, the keyring backend, Claude Desktop running or absent).
- ok:      the check passed.

JSON document (`Report.to_doc()`, `dsconfig doctor --json`); every key is always present:

    {"ok", "exit_code", "counts": {"ok", "info", "warning", "error"}, "findings": [FINDING, ...],
     "verify": VERIFY|null}        # VERIFY: `dsconfig verify --json`'s document; null when skipped
    FINDING = {"check", "severity", "message", "fix", "where"}   # fix, where: null when there is none

Checks, in order (`check` values): dsconfig, claude-code, claude-desktop, keyring, key source, profile,
environment, startup-files, managed-settings, project-settings, settings-files, onboarding, inline-keys,
stale-variables, drift, applied-lag, verify. No check writes anything; only `verify` uses the network (skipped
with `--no-verify`, and then httpx is not even imported).

The package, by what each module owns:
    __init__.py      CHECKS in order, and run(): look once, run every check, then the test call
    findings.py      Finding, Report (the JSON document as TypedDicts), render_text
    machine.py       Machine: what every check looks at, read once (look)
    installs.py      dsconfig, claude-code, claude-desktop
    keys.py          keyring, key source, profile
    environment.py   environment, startup-files (the shell's startup files: targets/shell_startup.py)
    settings.py      managed-settings ... applied-lag: the files Claude Code and Claude Desktop read
    verify_check.py  verify: the test call
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsconfig import actions
from dsconfig.doctor.environment import check_environment, check_startup_files
from dsconfig.doctor.findings import SEVERITIES, Finding, Report, render_text
from dsconfig.doctor.installs import check_claude_code, check_claude_desktop, check_dsconfig
from dsconfig.doctor.keys import check_key_sources, check_keyring, check_profile
from dsconfig.doctor.machine import Machine, look
from dsconfig.doctor.settings import (
    check_applied_lag,
    check_drift,
    check_inline_keys,
    check_managed_settings,
    check_onboarding,
    check_project_settings,
    check_read_only_files,
    check_stale_variables,
)
from dsconfig.doctor.verify_check import check_verify
from dsconfig.errors import DsconfigError
from dsconfig.targets.context import TargetContext

VERIFY_TIMEOUT = 20.0

CHECKS: tuple[Callable[[Machine], list[Finding]], ...] = (
    check_dsconfig, check_claude_code, check_claude_desktop, check_keyring, check_key_sources, check_profile, check_environment,
    check_startup_files, check_managed_settings, check_project_settings, check_read_only_files, check_onboarding,
    check_inline_keys,
    check_stale_variables, check_drift, check_applied_lag,
)


def run(*, actx: actions.Context | None = None, tctx: TargetContext | None = None, root: Path | None = None,
        system: Any = None, verify: bool = True, timeout: float = VERIFY_TIMEOUT) -> Report:
    """Every check, then (unless `verify` is False) a test call of the active profile. `root` / `system`: where
    system-wide files are looked up (managed settings, Claude Desktop), for tests."""
    if system is None:
        from dsconfig.targets.claude_desktop import System

        system = System(root=root) if root is not None else System()
    m = look(actx or actions.Context(), tctx or TargetContext(), root, system)
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings += check(m)
        except DsconfigError as err:  # one broken check must not hide the others
            findings.append(Finding(check.__name__.removeprefix("check_").replace("_", "-"), "error", err.message, err.hint))
    doc = None
    if verify:
        found, doc = check_verify(m, timeout)
        findings += found
    else:
        findings.append(Finding("verify", "info", "test call skipped (--no-verify)", "dsconfig verify"))
    return Report(tuple(findings), doc)


__all__ = ["CHECKS", "SEVERITIES", "Finding", "Report", "render_text", "run"]
