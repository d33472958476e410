"""Drift caught: the vocabulary, profile models against the provider's list, applied settings against the profile.

Pure functions are tested directly; verify's use of them runs against the loopback fake DeepSeek, which lists
deepseek-flash and deepseek-v4-pro, accepts the legacy deepseek-v4-flash, and answers 400 for other names.
"""

from __future__ import annotations

import pytest
from fakes.server import DEFAULT_KEY, FLASH_MODEL, PRO_MODEL, FakeDeepSeek
from helpers import MemoryKeyring

from dsconfig import actions, drift, verify, vocab
from dsconfig.profiles import Profile, Resolved, parse_model_option, resolve
from dsconfig.templates import load_template

LISTED = (PRO_MODEL, FLASH_MODEL)


def ds(**models: str) -> Resolved:
    return resolve(Profile(name="ds", provider="deepseek", models=models), load_template("deepseek"))


# --- vocabulary -------------------------------------------------------------------------------------------


def test_every_tier_has_its_variable_and_the_default_tiers_their_companions() -> None:
    assert vocab.TIER_VARIABLES == {
        "main": "ANTHROPIC_MODEL",
        "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "fable": "ANTHROPIC_DEFAULT_FABLE_MODEL",
        "subagent": "CLAUDE_CODE_SUBAGENT_MODEL",
    }
    assert vocab.FABLE.companions == (
        "ANTHROPIC_DEFAULT_FABLE_MODEL_NAME", "ANTHROPIC_DEFAULT_FABLE_MODEL_DESCRIPTION",
        "ANTHROPIC_DEFAULT_FABLE_MODEL_SUPPORTED_CAPABILITIES",
    )
    assert vocab.MAIN.companions == vocab.SUBAGENT.companions == ()
    assert vocab.FAMILY_TIERS == ("opus", "sonnet", "haiku", "fable")
    assert len(vocab.TIER_COMPANION_VARS) == 12


def test_stale_and_model_variables_cover_what_another_switcher_leaves() -> None:
    # Issue 13: a Kimi model in the fable tier and a Kimi label in a sonnet companion survived `use`.
    for name in ("ANTHROPIC_DEFAULT_FABLE_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME", "ANTHROPIC_DEFAULT_MODEL",
                 "ANTHROPIC_CUSTOM_MODEL_OPTION", "ANTHROPIC_CUSTOM_MODEL_OPTION_NAME",
                 "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY", "ANTHROPIC_SMALL_FAST_MODEL"):
        assert name in vocab.MODEL_VARS
    assert set(vocab.STALE_VARS) <= set(vocab.MODEL_VARS)
    assert not set(vocab.STALE_VARS) & set(vocab.TIER_MODEL_VARS), "tier variables are stale only per profile"
    assert len(set(vocab.MODEL_VARS)) == len(vocab.MODEL_VARS)
    assert vocab.KEY_VARS == ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY")
    assert vocab.TARGETS == ("claude-code", "claude-desktop", "shell")


def test_the_fable_tier_is_accepted_by_profiles() -> None:
    assert parse_model_option("fable=deepseek-flash") == ("fable", "deepseek-flash")


# --- Resolved: what `use` needs -------------------------------------------------------------------------------


def test_resolved_names_every_tier_and_fable_follows_opus() -> None:
    r = ds()
    assert r.tier_models() == {
        "main": "deepseek-flash[1m]", "opus": "deepseek-flash[1m]", "sonnet": "deepseek-flash[1m]",
        "haiku": "deepseek-flash", "fable": "deepseek-flash[1m]", "subagent": "deepseek-flash",
    }
    assert ds(fable="deepseek-v4-pro").tier_models()["fable"] == "deepseek-v4-pro"


def test_a_gateway_without_models_leaves_tiers_to_be_removed_and_opus_carries_fable() -> None:
    tpl = load_template("custom")
    r = resolve(Profile(name="gw", provider="custom"), tpl)
    assert set(r.tier_models()) == set(vocab.TIER_NAMES) and not any(r.tier_models().values())
    variables = r.model_variables()
    assert set(variables) == set(vocab.TIER_MODEL_VARS) | set(vocab.TIER_COMPANION_VARS)
    assert all(v is None for v in variables.values()), "None: `use` removes every tier variable and companion"
    r = resolve(Profile(name="gw", provider="custom", models={"opus": "big"}), tpl)
    assert r.tier_models()["fable"] == "big"


def test_display_names_only_while_the_tier_keeps_the_templates_model() -> None:
    assert ds().model_variables()["ANTHROPIC_DEFAULT_OPUS_MODEL_NAME"] == "DeepSeek Flash (1M)"
    changed = ds(opus="deepseek-v4-pro").model_variables()
    assert changed["ANTHROPIC_DEFAULT_OPUS_MODEL"] == "deepseek-v4-pro"
    assert changed["ANTHROPIC_DEFAULT_OPUS_MODEL_NAME"] is None, "the template's label would name the wrong model"
    assert changed["ANTHROPIC_DEFAULT_OPUS_MODEL_DESCRIPTION"] is None


# --- the provider's model list -------------------------------------------------------------------------------


def test_current_deepseek_profile_has_no_drift() -> None:
    assert drift.model_drift(ds(), LISTED) == []


def test_a_legacy_name_is_a_warning_naming_its_replacement() -> None:
    [found] = drift.model_drift(ds(haiku="deepseek-v4-flash", subagent="deepseek-v4-flash"), LISTED)
    assert found.kind == drift.LEGACY and found.model == "deepseek-v4-flash"
    assert found.tiers == ("haiku", "subagent")
    assert found.replacement == "deepseek-flash"
    assert found.fix == "dsconfig profile edit ds --model haiku=deepseek-flash --model subagent=deepseek-flash"
    assert "legacy" in found.message and "'deepseek-flash'" in found.message


def test_a_model_the_provider_does_not_list_names_the_listed_ones_and_the_fix() -> None:
    [found] = drift.model_drift(ds(haiku="deepseek-chat"), LISTED)
    assert found.kind == drift.NOT_LISTED
    assert found.listed == LISTED and "deepseek-v4-pro, deepseek-flash" in found.message
    assert found.fix == "dsconfig profile edit ds --model haiku=deepseek-flash", "the template's own haiku model"


def test_a_1m_replacement_is_quoted_for_the_shell() -> None:
    [found] = drift.model_drift(ds(main="deepseek-v4-flash[1m]"), LISTED)
    assert found.fix == "dsconfig profile edit ds --model 'main=deepseek-flash[1m]'"


def test_not_offered_gives_the_same_fix() -> None:
    message, fix = drift.not_offered(ds(haiku="deepseek-v4-flsh"), "deepseek-v4-flsh", LISTED)
    assert message.startswith("model not offered: ")
    assert "'deepseek-v4-flsh' (used by haiku)" in message and "deepseek-v4-pro, deepseek-flash" in message
    assert fix == "dsconfig profile edit ds --model haiku=deepseek-flash"
    _, fix = drift.not_offered(ds(haiku="deepseek-v4-flsh"), "deepseek-v4-flsh", None)
    assert fix == "dsconfig profile edit ds --model haiku=deepseek-flash", "the template model is trusted without a list"


# --- applied settings against the profile ----------------------------------------------------------------------


def _applied(r: Resolved) -> dict[str, str]:
    return {**r.claude_env(), "ANTHROPIC_AUTH_TOKEN": "", "ANTHROPIC_API_KEY": "", "HOOKS_ARE_MINE": "1"}


def test_settings_written_for_the_profile_do_not_lag() -> None:
    assert drift.settings_drift(_applied(ds()), ds()) is None


def test_an_old_template_applied_lags_and_use_refreshes_it() -> None:
    old = {"ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic", "ANTHROPIC_MODEL": "deepseek-v4-pro[1m]",
           "ANTHROPIC_DEFAULT_OPUS_MODEL": "deepseek-v4-pro[1m]", "ANTHROPIC_DEFAULT_SONNET_MODEL": "deepseek-v4-pro[1m]",
           "ANTHROPIC_DEFAULT_HAIKU_MODEL": "deepseek-v4-flash", "CLAUDE_CODE_SUBAGENT_MODEL": "deepseek-v4-flash",
           "CLAUDE_CODE_EFFORT_LEVEL": "max", "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "786432"}
    found = drift.settings_drift(old, ds())
    assert found is not None and found.fix == "dsconfig use ds"
    changed = {d.variable: (d.applied, d.wanted) for d in found.differences}
    assert changed["ANTHROPIC_MODEL"] == ("deepseek-v4-pro[1m]", "deepseek-flash[1m]")
    assert changed["ANTHROPIC_DEFAULT_FABLE_MODEL"] == (None, "deepseek-flash[1m]")
    assert "ANTHROPIC_DEFAULT_OPUS_MODEL_NAME" not in changed, "a missing label is the target's choice, not drift"
    assert found.to_doc()["fix"] == "dsconfig use ds"


def test_another_switchers_leftover_label_and_a_profile_edit_are_drift() -> None:
    applied = {**_applied(ds()), "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Kimi K2", "ANTHROPIC_DEFAULT_FABLE_MODEL": "kimi-k2"}
    found = drift.settings_drift(applied, ds())
    assert found is not None
    assert {d.variable for d in found.differences} == {"ANTHROPIC_DEFAULT_SONNET_MODEL_NAME", "ANTHROPIC_DEFAULT_FABLE_MODEL"}
    edited = ds(haiku="deepseek-v4-pro")
    found = drift.settings_drift(_applied(ds()), edited)
    assert found is not None and [d.variable for d in found.differences] == ["ANTHROPIC_DEFAULT_HAIKU_MODEL"]


# --- through verify, against the fake DeepSeek -----------------------------------------------------------------


@pytest.fixture
def ctx(memory_keyring: MemoryKeyring) -> actions.Context:
    return actions.Context(secrets=memory_keyring)


def test_verify_warns_about_a_legacy_model_and_names_the_fix(fake_deepseek: FakeDeepSeek, ctx: actions.Context) -> None:
    actions.profile_add("ds", "deepseek", base_url=fake_deepseek.base_url, models={"haiku": "deepseek-v4-flash"},
                        key=DEFAULT_KEY, ctx=ctx)
    [p] = verify.run("ds", ctx=ctx, timeout=5).profiles
    assert p.ok, p.failures()  # still accepted: a warning, not a failure
    assert p.model_list is not None
    [found] = p.model_list.drift
    assert (found.kind, found.model, found.replacement) == (drift.LEGACY, "deepseek-v4-flash", "deepseek-flash")
    assert "dsconfig profile edit ds --model haiku=deepseek-flash" in p.model_list.detail
    assert p.model_list.to_doc()["drift"][0]["fix"] == "dsconfig profile edit ds --model haiku=deepseek-flash"


def test_verify_classifies_a_400_for_an_unknown_model_as_not_offered(fake_deepseek: FakeDeepSeek, ctx: actions.Context) -> None:
    actions.profile_add("ds", "deepseek", base_url=fake_deepseek.base_url, models={"haiku": "deepseek-chat"},
                        key=DEFAULT_KEY, ctx=ctx)
    [p] = verify.run("ds", ctx=ctx, timeout=5).profiles
    bad = next(m for m in p.models if m.model == "deepseek-chat")
    assert bad.status == 400 and bad.failure is not None and bad.failure.kind == "unknown_model"
    assert bad.failure.message.startswith("model not offered: ")
    assert f"the provider has: {PRO_MODEL}, {FLASH_MODEL}" in bad.failure.message
    assert bad.failure.hint == "dsconfig profile edit ds --model haiku=deepseek-flash"


def test_doctor_names_tier_leftovers_of_another_switcher(run_dsconfig, home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: a project file (not written by dsconfig) keeps a Kimi fable model and a Kimi /model label; after
    `use ds` at user scope doctor names both instead of "no variables left by other switchers"."""
    import json

    proj = tmp_path / "proj"
    (proj / ".claude").mkdir(parents=True)
    (proj / ".claude" / "settings.json").write_text(json.dumps({"env": {
        "ANTHROPIC_DEFAULT_FABLE_MODEL": "kimi-k2-turbo-preview", "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME": "Kimi K2"}}))
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    assert run_dsconfig("profile", "add", "ds", "--provider", "deepseek", env=env, cwd=proj).returncode == 0
    assert run_dsconfig("use", "ds", env=env, cwd=proj).returncode == 0
    proc = run_dsconfig("doctor", "--json", "--no-verify", env=env, cwd=proj)
    findings = [f for f in json.loads(proc.stdout)["findings"] if f["check"] == "stale-variables"]
    text = " ".join(f["message"] for f in findings)
    assert "ANTHROPIC_DEFAULT_FABLE_MODEL=kimi-k2-turbo-preview" in text
    assert "ANTHROPIC_DEFAULT_SONNET_MODEL_NAME=Kimi K2" in text
    user_file = str(home / ".claude" / "settings.json")
    assert all(user_file not in f["message"] for f in findings)  # dsconfig's own file holds no leftover


def test_status_and_doctor_say_when_applied_settings_lag_the_profile(run_dsconfig, home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 13: `profile edit` without `use` (or a template changed by an upgrade): status and doctor name the
    difference and the one command that refreshes it."""
    import json

    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    assert run_dsconfig("profile", "add", "ds", "--provider", "deepseek", env=env).returncode == 0
    assert run_dsconfig("use", "ds", env=env).returncode == 0
    assert json.loads(run_dsconfig("status", "--json", env=env).stdout)["applied_lag"] == []
    assert run_dsconfig("profile", "edit", "ds", "--model", "haiku=deepseek-v4-pro", env=env).returncode == 0

    doc = json.loads(run_dsconfig("status", "--json", env=env).stdout)
    [lag] = doc["applied_lag"]
    assert lag["profile"] == "ds" and lag["fix"] == "dsconfig use ds" and lag["scope"] == "user"
    assert {"variable": "ANTHROPIC_DEFAULT_HAIKU_MODEL", "applied": "deepseek-flash", "wanted": "deepseek-v4-pro"} \
        in lag["differences"]
    text = run_dsconfig("status", env=env).stdout
    assert "lag profile 'ds' (ANTHROPIC_DEFAULT_HAIKU_MODEL, ANTHROPIC_DEFAULT_HAIKU_MODEL_NAME)" in text  # the label too
    assert "fix: dsconfig use ds" in text
    findings = json.loads(run_dsconfig("doctor", "--json", "--no-verify", env=env).stdout)["findings"]
    assert any(f["check"] == "applied-lag" and f["severity"] == "warning" and "dsconfig use ds" in f["fix"] for f in findings)

    assert run_dsconfig("use", "ds", env=env).returncode == 0  # the one command that refreshes it
    assert json.loads(run_dsconfig("status", "--json", env=env).stdout)["applied_lag"] == []
