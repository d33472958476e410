"""Issue 12 item 5: numbers at the edges of JSON keep their exact text in every file dsconfig edits.

`1e999` is valid JSON; Python parses it as infinity, and writing it back the naive way gives `Infinity`, which
no JSON reader accepts (Claude Desktop would then fail on its own config library, and `off` would refuse it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .reliability_support import profiled_world

EDGES = '[1e999, -1e999, 1.50, 1E+2, -0, 0.1e-7, 123456789012345678901234567890, 5e-324]'


def test_desktop_meta_with_1e999_in_a_foreign_entry_keeps_its_text(tmp_path: Path) -> None:
    world = profiled_world(tmp_path, library=True)
    original = ('{\n  "appliedId": "3f2a8c1e-5b7d-4e9a-8c6f-1d2e3f4a5b6c",\n  "entries": [\n    {"id": '
                '"3f2a8c1e-5b7d-4e9a-8c6f-1d2e3f4a5b6c", "name": "mine", "weights": ' + EDGES + '}\n  ],\n'
                '  "ui": {"zoom": 1e999}\n}\n').encode()
    world.meta.write_bytes(original)
    assert world.cli("use", "a", "--target", "claude-desktop") == 0
    text = world.meta.read_text()
    assert "Infinity" not in text and EDGES in text and '"zoom": 1e999' in text
    json.loads(text)  # still JSON
    assert world.cli("use", "b", "--target", "claude-desktop") == 0
    assert world.cli("off", "--target", "claude-desktop") == 0
    assert world.meta.read_bytes() == original


@pytest.mark.parametrize("where", ["top", "nested"])
def test_claude_code_settings_with_edge_numbers_round_trip(tmp_path: Path, where: str) -> None:
    world = profiled_world(tmp_path, library=True)
    world.settings.parent.mkdir()
    member = f'"limits": {EDGES}'
    original = ('{\n  ' + member + ',\n  "env": {"FOO": "1"}\n}\n' if where == "top"
                else '{"env": {"FOO": "1"}, "statusLine": {"padding": 1e999, "w": [1e-400, 1.0]}}').encode()
    world.settings.write_bytes(original)
    assert world.cli("use", "a") == 0
    assert "Infinity" not in world.settings.read_text()
    assert world.cli("off") == 0
    assert world.settings.read_bytes() == original


# --- a number JSON cannot spell in a member dsconfig must record (an outside tester's finding) -------------------


@pytest.mark.parametrize(("value", "column"), [("1e999", 18), ("[1e999]", 19), ('{"a": -1E400}', 24)])
def test_1e999_in_an_owned_member_is_refused_at_planning_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, column: int) -> None:
    from .reliability_support import data_snapshot

    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    world.settings.write_text('{"apiKeyHelper": ' + value + ', "hooks": {"a": 1}}\n')
    before = data_snapshot(world)
    assert world.cli("use", "a") == 4
    err = capsys.readouterr().err
    assert f"{world.settings}:1:{column}: apiKeyHelper holds a number too large for JSON" in err, err
    assert "hint: replace that number" in err and "nothing was changed" not in err, err
    assert data_snapshot(world) == before  # the journal included: it is never written with `Infinity`
    # Once the number is fixed, every command works (the journal was never damaged).
    world.settings.write_text('{"apiKeyHelper": "old", "hooks": {"a": 1}}\n')
    assert world.cli("use", "a") == 0
    assert world.cli("status") == 0
    assert world.cli("off") == 0
    assert world.settings.read_text() == '{"apiKeyHelper": "old", "hooks": {"a": 1}}\n'


def test_1e999_as_onboarding_flag_is_refused_naming_claude_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .reliability_support import data_snapshot

    world = profiled_world(tmp_path)
    world.state.write_text('{\n  "hasCompletedOnboarding": 1e999\n}\n')
    before = data_snapshot(world)
    assert world.cli("use", "a") == 4
    err = capsys.readouterr().err
    assert f"{world.state}:2:29: hasCompletedOnboarding holds a number too large" in err, err
    assert "could not be put back" not in err and "nothing was changed" not in err, err
    assert data_snapshot(world) == before
    assert not world.journal.exists() or "Infinity" not in world.journal.read_text()


def test_the_journal_refuses_to_write_a_number_json_cannot_spell(tmp_path: Path) -> None:
    from dsconfig.fileio import WriteError
    from dsconfig.journal import FileRecord, Journal, KeyRecord

    journal = Journal(tmp_path / "state" / "journal.json")
    record = FileRecord(path=tmp_path / "s.json", owner={"target": "x"}, kind="json", created=False,
                        original_sha256=None, backup=None, written_sha256=None,
                        keys=[KeyRecord(("apiKeyHelper",), float("inf"), "new")])
    with pytest.raises(WriteError, match="1e999"):
        journal.put(record)
    assert not journal.path.exists()
    journal.put(FileRecord(path=tmp_path / "s.json", owner={"target": "x"}, kind="json", created=False,
                           original_sha256=None, backup=None, written_sha256=None))
    assert journal.load()  # still valid, still readable
