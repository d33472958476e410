"""Fixtures of the reliability suite, the `--slow` option and the one-block summary printed at the end of a run.

`--slow` (or DSCONFIG_RELIABILITY_SLOW=1) turns on the heavy variants: thousands of kills instead of hundreds,
more concurrent rounds, more property examples and fuzz inputs.

pytest only calls `pytest_addoption` of "initial" conftests: this one is initial when the run names this folder
(`pytest tests/reliability --slow`). A plain `pytest` from the repository root collects it later, too late to
add an option, so there the environment variable is the switch (or tests/conftest.py registers `--slow`; this
file then reuses it).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption("--slow", action="store_true", default=False,
                         help="reliability suite: heavy variants (thousands of kills, more examples)")
    except ValueError:  # already registered by tests/conftest.py
        pass


def is_slow(config: pytest.Config) -> bool:
    return bool(config.getoption("slow", default=False)) or os.environ.get("DSCONFIG_RELIABILITY_SLOW") == "1"


@dataclass
class Figures:
    """What the suite measured; each test adds its counts, the summary prints them."""

    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


_FIGURES = pytest.StashKey[Figures]()

# (label, counter name): the order and wording of the summary block.
SUMMARY = (
    ("kills survived (SIGKILL of use/off/switch)", "kills"),
    ("  of which landed while files were being changed", "kills_mid_write"),
    ("  recoveries checked (off back to the original bytes)", "recoveries"),
    ("  temp files left by a kill in the user's folders", "stray_temp_user"),
    ("  still there after the next completed run", "stray_temp_after_run"),
    ("  temp files left in dsconfig's own folders", "stray_temp_own"),
    ("crash points (death before/after every write)", "crash_points"),
    ("concurrent runs (dsconfig processes racing)", "concurrent_runs"),
    ("  rounds of 8 (then checked for one whole profile)", "concurrent_rounds"),
    ("  rounds that ended in a mix of profiles", "concurrent_mixed"),
    ("  rounds where profiles.toml named another profile", "concurrent_active_mismatch"),
    ("  runs refused cleanly (\"kept changing\")", "concurrent_refused"),
    ("  foreign writes by the imitated Claude Code", "foreign_writes"),
    ("  foreign writes lost", "lost_updates"),
    ("  stale locks recovered", "stale_locks"),
    ("property examples (undo is exact)", "property_examples"),
    ("lifecycle steps (commands and others' writes between them)", "lifecycle_steps"),
    ("  lifecycle runs (one machine each)", "lifecycle_runs"),
    ("fuzz inputs (parsers and merge, zero crashes)", "fuzz_inputs"),
    ("bad inputs tried (files x defects)", "bad_inputs"),
    ("  through the real CLI", "bad_inputs_cli"),
    ("hostile values tried", "hostile_values"),
    ("secret-hygiene commands run", "hygiene_commands"),
    ("  files and streams searched for the key", "hygiene_searched"),
    ("leaks found", "leaks"),
)


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest) -> Figures:
    return request.config.stash.setdefault(_FIGURES, Figures())


@pytest.fixture(scope="session")
def slow(request: pytest.FixtureRequest) -> bool:
    return is_slow(request.config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    found = config.stash.get(_FIGURES, None)
    if found is None:
        return
    width = max(len(label) for label, _ in SUMMARY)
    lines = [f"{label.ljust(width)}  {found.counts.get(name, 0):>7}" for label, name in SUMMARY]
    mode = "slow (--slow)" if is_slow(config) else "default (CI)"
    lines.append(f"{'variant'.ljust(width)}  {mode}")
    lines.append(f"{'wall time of the reliability tests'.ljust(width)}  {time.monotonic() - found.started:>6.0f}s")
    lines += [f"note: {n}" for n in found.notes]
    terminalreporter.write_sep("=", "dsconfig reliability summary")
    for line in lines:
        terminalreporter.write_line(line)
