"""An outside tester's finding: Claude Code keeps its prompt history in ~/.claude.json, and files of 65-100 MB are
reported in its issue tracker. A 16 MiB read cap made `use` refuse such a file, `off` impossible, and doctor advise
moving Claude Code's state away. The cap is now 256 MiB; a file over it is still refused, but doctor says to keep it.

Time and memory of use/off on a 40 MB file are figures for the report (measured by hand), not assertions here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsconfig import saferead

from .reliability_support import profiled_world

MB = 1024 * 1024


def _claude_state(size: int) -> bytes:
    """A ~/.claude.json as Claude Code writes it (indent 2, no final newline), `size` bytes or a little more,
    mostly prompt history, some of it not ASCII."""
    entry = {"display": "fix the failing test in src/été/module.py and run it again " * 4, "pastedContents": {}}
    one = len(json.dumps(entry, indent=2, ensure_ascii=False).encode()) + 8
    projects = {f"/home/u/src/p{i}": {"allowedTools": [], "history": [entry] * 500, "lastCost": 0.1234, "limits": 1e-7}
                for i in range(size // (one * 500) + 1)}
    doc = {"numStartups": 412, "installMethod": "npm", "projects": projects, "userID": "f" * 64}
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def test_use_and_off_on_a_40_mb_claude_json_keep_every_other_byte(tmp_path: Path) -> None:
    world = profiled_world(tmp_path)
    original = _claude_state(40 * MB)
    assert len(original) > 40 * MB > saferead.MAX_BYTES // 8
    world.state.write_bytes(original)
    assert world.cli("use", "a") == 0
    assert world.state.read_bytes() == original[:-2] + b',\n  "hasCompletedOnboarding": true\n}'
    assert world.cli("off") == 0
    assert world.state.read_bytes() == original


def test_a_file_over_the_cap_is_refused_and_doctor_says_to_keep_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = profiled_world(tmp_path)
    with world.state.open("wb") as handle:
        handle.truncate(saferead.MAX_BYTES + 1)  # sparse: no disk used
    assert world.cli("use", "a") == 4
    err = capsys.readouterr().err
    assert f"{world.state}: is larger than 256 MiB" in err and "move it away" not in err, err
    try:  # doctor exits 1 through click when a check fails (here: the missing Claude Code install)
        world.cli("doctor", "--json")
    except SystemExit as exc:
        assert exc.code == 1
    findings = [f for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "onboarding"]
    assert len(findings) == 1 and findings[0]["severity"] == "warning", findings
    assert "too large" in findings[0]["message"] and "keep the file" in findings[0]["fix"], findings
    assert "move it away" not in findings[0]["fix"] and "mv " not in findings[0]["fix"], findings
    assert os.path.getsize(world.state) == saferead.MAX_BYTES + 1

