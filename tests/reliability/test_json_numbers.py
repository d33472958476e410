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
