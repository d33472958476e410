"""Second outside tester: doctor said "no shell startup file exports ANTHROPIC_* variables" when a startup file
could not be read at all (a FIFO in place of ~/.bashrc), which it cannot know."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def test_an_unreadable_startup_file_is_reported_not_called_clean(run_dsconfig: Any, home: Path) -> None:
    os.mkfifo(home / ".bashrc")  # opening it for reading would wait for a writer: it must be refused, not read
    proc = run_dsconfig("doctor", "--no-verify", "--json", timeout=60)
    findings = [f for f in json.loads(proc.stdout)["findings"] if f["check"] == "startup-files"]
    assert any(f["severity"] == "warning" and ".bashrc could not be read" in f["message"] for f in findings), findings
    assert not any("no shell startup file exports" in f["message"] for f in findings), findings
