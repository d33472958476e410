"""Issue 12 item 2: a damaged journal is refused with its path and the way out (exit 4), never a traceback.

The journal (state/journal.json) is dsconfig's own, but a disk error, a hand edit or a half-synced dotfiles repo
can leave members of the wrong type. Every command that reads it validates it first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .reliability_support import TRACEBACK, profiled_world

GOOD_RECORD = {"owner": {"target": "claude-code", "scope": "user", "profile": "a"}, "kind": "json", "created": False,
               "original_sha256": None, "backup": None, "written_sha256": None, "keys": []}

DAMAGE: dict[str, dict[str, object]] = {
    "owner-not-an-object": {"owner": "claude-code"},
    "owner-values-not-strings": {"owner": {"target": 7}},
    "backup-not-a-string": {"backup": 12},
    "keys-not-a-list": {"keys": {"path": ["env"]}},
    "key-path-not-a-list": {"keys": [{"path": "env.X", "before_absent": True}]},
    "key-path-segment-odd": {"keys": [{"path": ["env", 3], "before_absent": True}]},
    "created-not-a-boolean": {"created": "yes"},
    "kind-unknown": {"kind": "partial"},
    "raw-not-pairs": {"raw": {"env": "text"}},
    "created-dirs-not-strings": {"created_dirs": [1]},
}
COMMANDS = [("status",), ("use", "a"), ("off",), ("doctor", "--no-verify"), ("profile", "rm", "a"), ("status", "--json")]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_every_command_refuses_a_damaged_journal_naming_it(tmp_path: Path, damage: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    world = profiled_world(tmp_path)
    world.journal.parent.mkdir(parents=True, mode=0o700)
    record = {**GOOD_RECORD, **DAMAGE[damage]}
    world.journal.write_text(json.dumps({"schema_version": 1, "files": {str(world.settings): record}}))
    before = world.journal.read_bytes()
    for args in COMMANDS:
        try:
            code = world.cli(*args)
        except SystemExit as exit_:  # doctor ends with SystemExit(1) when a check is an error
            code = int(exit_.code or 0)
        out = capsys.readouterr()
        text = out.out + out.err
        assert TRACEBACK not in text, (args, text)
        if args[0] == "doctor":  # doctor reports every problem it finds, this one included, and exits 1
            assert code != 0 and str(world.journal) in text, (args, text)
            continue
        assert code == 4, (args, code, text)
        assert str(world.journal) in text and "damaged" in text and "mv " in text, (args, text)
    assert world.journal.read_bytes() == before  # nothing rewrote it
    assert not world.settings.exists()
