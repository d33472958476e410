"""A rollback that removes a file this command created reports it as put back even when the journal can no
longer be read (it was: "these files were switched and could not be put back", though the file was gone)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsconfig.apply import SwitchFailed, apply_all
from dsconfig.changes import plan_json
from dsconfig.errors import DsconfigError
from dsconfig.journal import Journal


def test_a_created_file_rolled_back_is_reported_put_back_when_the_journal_is_unreadable(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "state" / "journal.json")
    settings = tmp_path / "claude" / "settings.json"

    def finish() -> None:  # the command's last step fails after the journal was damaged meanwhile
        journal.path.write_text("{")
        raise DsconfigError("cannot record the active profile", "free some space")

    with pytest.raises(SwitchFailed) as caught:
        apply_all(lambda: [plan_json(settings, {("model",): "x"}, owner={"target": "t"}, journal=journal)],
                  journal=journal, finish=finish)
    assert not settings.exists() and not settings.parent.exists()  # the folder it made for the file too
    assert "nothing was changed" in caught.value.message and "could not be put back" not in caught.value.message
    assert caught.value.put_back_all
