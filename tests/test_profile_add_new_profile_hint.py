"""Issue #15 item 5: `profile add --api-key-stdin` with an `env:` or `command:` source has nothing to store. The
profile does not exist yet, so the hint names what works for a new one (the same `profile add` without
--api-key-stdin, or with --key-source keyring), never `profile edit NAME` (exit 3: no such profile), as setup's
hint does (tests/test_setup_new_profile_hint.py). For a profile that exists, `profile edit` stays the fix. Each
hinted command is run to prove it works."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import MemoryKeyring

from dsconfig import actions
from dsconfig.errors import UsageError
from dsconfig.keysources import parse
from dsconfig.profiles import ProfileStore

ADD = ("profile", "add", "p9", "--provider", "deepseek")


def test_the_hint_for_a_new_profile_names_add_flags_that_work(run_dsconfig: Any) -> None:
    refused = run_dsconfig(*ADD, "--key-source", "command:echo hi", "--api-key-stdin", input="sk-x")
    assert refused.returncode == 2, refused.stderr
    assert "nothing for dsconfig to store" in refused.stderr
    assert "profile 'p9' does not exist yet" in refused.stderr and "profile edit p9" not in refused.stderr
    assert "without --api-key-stdin" in refused.stderr and "--key-source keyring" in refused.stderr
    assert run_dsconfig("profile", "edit", "p9", "--key-source", "keyring").returncode == 3  # why the old hint failed
    without_stdin = run_dsconfig(*ADD, "--key-source", "command:echo hi")
    assert without_stdin.returncode == 0, without_stdin.stderr


@pytest.mark.usefixtures("secret_service")
def test_the_keyring_form_of_the_hint_works(run_dsconfig: Any) -> None:
    stored = run_dsconfig(*ADD, "--key-source", "keyring", "--api-key-stdin", input="sk-test-hint-0009")
    assert stored.returncode == 0, stored.stderr
    assert run_dsconfig("key", "get", "p9").stdout.strip() == "sk-test-hint-0009"


def test_an_existing_profile_keeps_the_profile_edit_hint() -> None:
    ctx = actions.Context(store=ProfileStore(), secrets=MemoryKeyring(), environ={})
    source = parse("env:DSQ_HINT_KEY")
    actions.profile_add("p9", "deepseek", key_source=source, ctx=ctx)
    with pytest.raises(UsageError) as refused:
        actions.profile_add("p9", "deepseek", key="sk-x", key_source=source, ctx=ctx)
    assert refused.value.hint == "set it where it lives (the environment variable DSQ_HINT_KEY), or store it with " \
        "dsconfig: dsconfig profile edit p9 --key-source keyring --api-key-stdin"
