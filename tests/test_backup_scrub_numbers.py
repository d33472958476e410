"""Scrubbing an inline key out of old backups keeps every other member's text: a `1e999` in a backup must not
come back as `Infinity`, which no JSON reader accepts (the backup is the user's safety copy)."""

from __future__ import annotations

import json

from dsconfig import paths
from dsconfig.wizard.adoption import scrub_old_backups

KEY = "sk-test-00112233445566778899aabbccdd"  # cannot be a real key (not sk- + 32 hex)


def test_scrubbing_a_backup_keeps_1e999_and_every_other_byte() -> None:
    folder = paths.backups_dir()
    folder.mkdir(parents=True)
    backup = folder / "20260101T000000-home_u_.claude_settings.json"
    backup.write_text('{\n  "statusLine": {"padding": 1e999},\n  "env": {"ANTHROPIC_AUTH_TOKEN": "' + KEY
                      + '", "FOO": "1"}\n}\n')
    scrub_old_backups(KEY, [("env", "ANTHROPIC_AUTH_TOKEN")])
    text = backup.read_text()
    assert KEY not in text and "Infinity" not in text
    assert text == '{\n  "statusLine": {"padding": 1e999},\n  "env": {"FOO": "1"}\n}\n'
    json.loads(text)
