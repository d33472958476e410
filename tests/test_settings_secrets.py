"""Credentials another setup left in Claude Code's settings, as an outside tester found them: a bearer token in
ANTHROPIC_CUSTOM_HEADERS (finding 3) and a key written inside someone else's apiKeyHelper (finding 8).

Each test runs the tester's own command lines and fails on the code before its fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

KEY = "sk-test-00112233445566778899aabbccdd"  # cannot be a real key (not sk- + 32 hex)
TOKEN = "zzTOPSECRETzzQWERTYzz"
OTHER = "yyANOTHERSECRETyy"
HEADERS = f"Authorization: Bearer {TOKEN}\nx-api-key: {OTHER}"
HELPER_KEY = "sk-CCCCCCCCCCCCCCCCCCCCCCCC"


@pytest.fixture
def settings(home: Path, run_dsconfig: Any) -> Path:
    proc = run_dsconfig("profile", "add", "a", "--provider", "deepseek", "--base-url", "http://127.0.0.1:18001/anthropic",
                        "--key-source", "env:MYKEY", env={"MYKEY": KEY})
    assert proc.returncode == 0, proc.stderr
    (home / ".claude").mkdir()
    return home / ".claude" / "settings.json"


def _shows(text: str, secret: str) -> bool:
    """Any 8 characters in a row of `secret` in `text` (a mask shows at most 3 leading and 4 trailing)."""
    return any(secret[i:i + 8] in text for i in range(len(secret) - 7))


# --- 3: a credential in ANTHROPIC_CUSTOM_HEADERS --------------------------------------------------------------


def test_dry_run_diff_masks_each_header_value(settings: Path, run_dsconfig: Any) -> None:
    settings.write_text(json.dumps({"env": {"ANTHROPIC_CUSTOM_HEADERS": HEADERS}}))
    proc = run_dsconfig("use", "a", "--dry-run", env={"MYKEY": KEY})
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "ANTHROPIC_CUSTOM_HEADERS" in proc.stdout and "Authorization: Bea" in proc.stdout, shown
    assert not _shows(shown, TOKEN) and not _shows(shown, OTHER), shown


def test_use_removes_another_setups_headers_says_so_and_off_puts_them_back(settings: Path, run_dsconfig: Any) -> None:
    original = json.dumps({"env": {"ANTHROPIC_CUSTOM_HEADERS": HEADERS}}, indent=2) + "\n"
    settings.write_text(original)
    use = run_dsconfig("use", "a", env={"MYKEY": KEY})
    assert use.returncode == 0, use.stderr
    assert "ANTHROPIC_CUSTOM_HEADERS" not in json.loads(settings.read_text())["env"]
    assert "ANTHROPIC_CUSTOM_HEADERS" in use.stderr and "Authorization" in use.stderr and "--env" in use.stderr, use.stderr
    assert not _shows(use.stderr, TOKEN), use.stderr
    off = run_dsconfig("off")
    assert off.returncode == 0, off.stderr
    assert settings.read_text() == original


def test_a_profile_that_sets_the_headers_itself_keeps_its_own(settings: Path, run_dsconfig: Any) -> None:
    settings.write_text(json.dumps({"env": {"ANTHROPIC_CUSTOM_HEADERS": HEADERS}}))
    edit = run_dsconfig("profile", "edit", "a", "--env", "ANTHROPIC_CUSTOM_HEADERS=X-Team: blue")
    assert edit.returncode == 0, edit.stderr
    use = run_dsconfig("use", "a", env={"MYKEY": KEY})
    assert use.returncode == 0, use.stderr
    assert json.loads(settings.read_text())["env"]["ANTHROPIC_CUSTOM_HEADERS"] == "X-Team: blue"
    assert "does not set" not in use.stderr, use.stderr


def test_doctor_names_a_credential_header_among_several_credentials(settings: Path, run_dsconfig: Any) -> None:
    settings.write_text(json.dumps({"apiKeyHelper": "pass show gateway",
                                    "env": {"ANTHROPIC_CUSTOM_HEADERS": HEADERS}}))
    proc = run_dsconfig("doctor", "--no-verify", "--json")
    doc = json.loads(proc.stdout)
    several = [f for f in doc["findings"] if "several credentials" in f["message"]]
    assert several and "ANTHROPIC_CUSTOM_HEADERS (Authorization, x-api-key)" in several[0]["message"], doc["findings"]
    assert not _shows(proc.stdout + proc.stderr, TOKEN)


# --- 8: a key written inside another setup's apiKeyHelper ---------------------------------------------------


@pytest.mark.parametrize("args", [("status",), ("status", "--json"), ("detect",), ("detect", "--json"),
                                  ("use", "a", "--dry-run"),
                                  ("doctor", "--no-verify"), ("doctor", "--no-verify", "--json")])
def test_a_key_inside_someone_elses_helper_is_masked(args: tuple[str, ...], settings: Path, run_dsconfig: Any) -> None:
    settings.write_text(json.dumps({"apiKeyHelper": f"echo {HELPER_KEY}"}))
    proc = run_dsconfig(*args, env={"MYKEY": KEY})
    assert "Traceback" not in proc.stderr, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "echo sk-" in shown, shown  # the helper is still shown, its key masked
    assert not _shows(shown, HELPER_KEY), shown


def test_doctor_warns_about_a_key_inside_someone_elses_helper(settings: Path, run_dsconfig: Any) -> None:
    settings.write_text(json.dumps({"apiKeyHelper": f"echo {HELPER_KEY}"}))
    doc = json.loads(run_dsconfig("doctor", "--no-verify", "--json").stdout)
    inline = [f for f in doc["findings"] if f["check"] == "inline-keys"]
    assert [f["severity"] for f in inline] == ["warning"], inline
    assert "apiKeyHelper" in inline[0]["message"] and "dsconfig setup" in inline[0]["fix"], inline


def test_setup_shows_both_masked_and_says_what_happens_to_the_headers(home: Path, run_dsconfig: Any) -> None:
    (home / ".claude").mkdir()
    settings = home / ".claude" / "settings.json"
    settings.write_text(json.dumps({"apiKeyHelper": f"echo {HELPER_KEY}", "env": {"ANTHROPIC_CUSTOM_HEADERS": HEADERS}}))
    proc = run_dsconfig("setup", "-y", "--no-verify", "--no-adopt", "--target", "claude-code", "--key-source",
                        "env:MYKEY", env={"MYKEY": KEY})
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout + proc.stderr
    assert "ANTHROPIC_CUSTOM_HEADERS" in shown and "apiKeyHelper" in shown, shown
    assert not any(_shows(shown, secret) for secret in (TOKEN, OTHER, HELPER_KEY)), shown
    assert "ANTHROPIC_CUSTOM_HEADERS" not in json.loads(settings.read_text())["env"]
