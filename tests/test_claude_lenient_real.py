"""Settings files the real Claude Code (2.1.332) reads but dsconfig will not edit (issue 14, item 1).

A byte-order mark is skipped and the last of two duplicate keys wins: `claude -p` reaches the URL in such a
file with the token in it, so status, detect and doctor must report that URL and token; `use` still refuses to
edit the file (exit 4, with the fix).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_claude_code_real import KEY1, Real, assert_served, real  # noqa: F401  (the fixture)

from dsconfig.credentials import mask

pytestmark = [pytest.mark.claude, pytest.mark.secret_service]


def _bom_file(r: Real) -> bytes:
    body = json.dumps({"env": {"ANTHROPIC_BASE_URL": r.fake1.base_url, "ANTHROPIC_AUTH_TOKEN": KEY1}}, indent=2)
    return b"\xef\xbb\xbf" + body.encode()


def _duplicate_file(r: Real) -> bytes:
    # The first "env" points nowhere; Claude Code uses the second.
    return (b'{\n  "env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"},\n  "env": {"ANTHROPIC_BASE_URL": "'
            + r.fake1.base_url.encode() + b'", "ANTHROPIC_AUTH_TOKEN": "' + KEY1.encode() + b'"}\n}\n')


@pytest.mark.parametrize(("make", "note"), [(_bom_file, "byte-order mark"), (_duplicate_file, "appears twice")],
                         ids=["bom", "duplicate-key"])
def test_reports_follow_what_claude_reads(real: Real, make: object, note: str) -> None:  # noqa: F811
    assert callable(make)
    content: bytes = make(real)
    real.settings.parent.mkdir()
    real.settings.write_bytes(content)

    # What Claude Code really does with the file.
    assert_served(real.claude(), real.fake1, KEY1, real.fake2, both_headers=False, deepseek_models=False)

    status = json.loads(real.ds("status", "--json").stdout)
    eff = status["claude_code"]["effective"]
    assert eff["base_url"] == {"value": real.fake1.base_url, "source": str(real.settings)}
    assert eff["credential"]["kind"] == "ANTHROPIC_AUTH_TOKEN" and eff["credential"]["value"] == mask(KEY1)
    user = next(f for f in status["claude_code"]["files"] if f["scope"] == "user")
    assert user["error"] is None and any(note in n for n in user["notes"])
    text = real.ds("status").stdout
    assert real.fake1.base_url in text and "default (Anthropic)" not in text and note in text

    detect = json.loads(real.ds("detect", "--json").stdout)["claude_code"]
    assert detect["base_url"]["value"] == real.fake1.base_url
    assert detect["credential"]["value"] == mask(KEY1)

    doctor = json.loads(real.ds("doctor", "--json", "--no-verify", ok=False).stdout)
    checks = {(f["check"], f["severity"]) for f in doctor["findings"]}
    assert ("inline-keys", "warning") in checks and ("settings-files", "warning") in checks
    assert not any(f["check"] == "inline-keys" and f["severity"] == "ok" for f in doctor["findings"])

    # Editing still refuses the file, with the fix, and leaves it alone.
    proc = real.ds("use", "ds1", ok=False)
    assert proc.returncode == 4 and "hint:" in proc.stderr
    assert real.settings.read_bytes() == content


def test_reading_rules() -> None:
    from dsconfig.claudejson import parse_json_like_claude
    from dsconfig.errors import InvalidFileError

    p = Path("settings.json")
    assert parse_json_like_claude(p, b'{"a": 1}') == ({"a": 1}, [])
    doc, notes = parse_json_like_claude(p, b'\xef\xbb\xbf{"a": 1, "a": 2}')
    assert doc == {"a": 2} and len(notes) == 2
    for bad in (b'\xef\xbb\xbf{"a": NaN}', b'{"a": 1, "a": 2,}', b"[1, 1]", b'{"a": {"b": 1, "b": 2}, "c": Infinity}'):
        with pytest.raises(InvalidFileError):
            parse_json_like_claude(p, bad)
