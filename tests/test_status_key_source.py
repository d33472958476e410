"""Issue 16: `status` (text and `--json`) names the active profile's key source, never the secret.

Through the installed command, with no D-Bus session (no keyring at all): env: and command: profiles need none.
A `command:` source is not run by status (it may ask for a password or a fingerprint), as `profile show`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dsconfig.profiles import ProfileStore

KEY_ENV = "sk-test-status-source-env-0042"


def _ok(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return proc


def _status(run_dsconfig: Any, **env: str) -> tuple[dict[str, Any], str]:
    doc = json.loads(_ok(run_dsconfig("status", "--json", env=env)).stdout)
    text = _ok(run_dsconfig("status", env=env)).stdout
    return doc, text


def test_status_names_an_env_source_and_masks_its_key(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DEEPSEEK_KEY"))
    ProfileStore().set_active("ci")
    doc, text = _status(run_dsconfig, DEEPSEEK_KEY=KEY_ENV)
    active = doc["active_profile"]
    assert active["key_source"] == "env:DEEPSEEK_KEY" and active["key"] == "sk-…0042" and active["key_error"] is None
    assert "key sk-…0042 from env:DEEPSEEK_KEY" in text
    assert KEY_ENV not in json.dumps(doc) + text
    unset, unset_text = _status(run_dsconfig)
    assert unset["active_profile"]["key"] is None and "DEEPSEEK_KEY is not set" in unset["active_profile"]["key_error"]
    assert "key source env:DEEPSEEK_KEY" in unset_text


def test_status_names_a_command_source_without_running_it(run_dsconfig: Any, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    _ok(run_dsconfig("profile", "add", "vault", "--provider", "deepseek", "--key-source",
                     f"command:touch {ran}; echo {KEY_ENV}"))
    ProfileStore().set_active("vault")
    doc, text = _status(run_dsconfig)
    assert not ran.exists()
    active = doc["active_profile"]
    assert active["key_source"] == f"command:touch {ran}; echo sk-…0042" and active["key"] is None
    assert "dsconfig key get vault" in active["key_error"]
    assert f"key source command:touch {ran}; echo sk-…0042" in text
    assert KEY_ENV not in json.dumps(doc) + text


def test_status_keyring_and_kernel_sources(run_dsconfig: Any) -> None:
    _ok(run_dsconfig("profile", "add", "box", "--provider", "deepseek", "--key-source", "kernel"))
    _ok(run_dsconfig("profile", "add", "plain", "--provider", "deepseek"))
    for name, source in (("box", "kernel"), ("plain", "keyring")):
        ProfileStore().set_active(name)
        doc, text = _status(run_dsconfig)
        assert doc["active_profile"]["key_source"] == source
        assert f"key source {source}" in text or f"from {source}" in text
