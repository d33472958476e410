"""Outside-tester finding 19: `setup --api-key-stdin` with an `env:` or `command:` source has nothing to store. For a
profile setup is creating, the hint names what works for a profile that does not exist yet (setup without
--api-key-stdin, or with --key-source keyring), never `profile edit NAME` (exit 3: no such profile); for a profile
that exists, `profile edit` stays the fix. Each hinted command is run to prove it works."""

from __future__ import annotations

from typing import Any

import pytest

SETUP = ("setup", "--profile", "s3", "--provider", "deepseek", "--yes", "--no-verify")


def test_the_hint_for_a_new_profile_names_setup_flags_that_work(run_dsconfig: Any) -> None:
    refused = run_dsconfig(*SETUP, "--key-source", "command:echo sk-from-command", "--api-key-stdin", input="sk-x")
    assert refused.returncode == 2, refused.stderr
    assert "nothing for dsconfig to store" in refused.stderr
    assert "profile 's3' does not exist yet" in refused.stderr and "profile edit s3" not in refused.stderr
    assert "without --api-key-stdin" in refused.stderr and "--key-source keyring" in refused.stderr
    assert run_dsconfig("profile", "edit", "s3", "--key-source", "keyring").returncode == 3  # why the old hint failed
    without_stdin = run_dsconfig(*SETUP, "--key-source", "command:echo sk-from-command")
    assert without_stdin.returncode == 0, without_stdin.stderr


@pytest.mark.usefixtures("secret_service")
def test_the_keyring_form_of_the_hint_works(run_dsconfig: Any) -> None:
    stored = run_dsconfig(*SETUP, "--key-source", "keyring", "--api-key-stdin", input="sk-test-hint-0001")
    assert stored.returncode == 0, stored.stderr
    assert run_dsconfig("key", "get", "s3").stdout.strip() == "sk-test-hint-0001"


def test_an_existing_profile_keeps_the_profile_edit_hint(run_dsconfig: Any) -> None:
    assert run_dsconfig(*SETUP, "--key-source", "env:DSQ_HINT_KEY", env={"DSQ_HINT_KEY": "sk-x"}).returncode == 0
    refused = run_dsconfig(*SETUP, "--key-source", "env:DSQ_HINT_KEY", "--api-key-stdin", input="sk-x")
    assert refused.returncode == 2 and "dsconfig profile edit s3 --key-source keyring --api-key-stdin" in refused.stderr
