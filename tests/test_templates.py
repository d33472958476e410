"""Provider templates: the built-in ones, the user's own, and how malformed ones are reported.

`dsconfig providers --json` contract (checked below): one object with
- `providers`: a list in PROVIDER_ORDER (deepseek first), each with the keys in PROVIDER_KEYS; `docs_url` is the
  provider page the template follows, `checked` the day it was checked (YYYY-MM-DD, null when it could not be);
  `model_names` tier -> label; `legacy` retired id -> replacement; `desktop` has `supported`, `reason`,
  `models` (each `id`, `label`, `tier`, `supports_1m`); `source` is "built-in" or the user template's path;
- `errors`: one entry per user template that did not load: `file`, `message`, `hint`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from helpers import RunDsconfig

from dsconfig import actions, paths, vocab
from dsconfig.errors import EXIT_INVALID_FILE, InvalidFileError, NotFoundError
from dsconfig.templates import PROVIDER_ORDER, TIERS, load_template, load_template_file, load_templates

DEEPSEEK_URL = "https://api.deepseek.com/anthropic"
REQUIRED_IDS = {
    "deepseek", "anthropic", "kimi", "kimi-code", "glm", "minimax", "qwen", "openrouter", "custom", "ollama", "lmstudio",
    "vllm", "mimo", "volcengine",
}
PROVIDER_KEYS = {
    "id", "name", "description", "base_url", "regions", "auth", "key_url", "docs_url", "checked", "models", "model_names",
    "legacy", "env", "desktop", "source",
}
BUILTIN_FILES = sorted(paths.builtin_templates_dir().glob("*.toml"))
GOOD_USER_TEMPLATE = 'schema_version = 1\nid = "mygw"\nname = "My gateway"\nbase_url = "https://gw.example.test/anthropic"\n'


@pytest.fixture
def user_templates() -> Path:
    folder = Path(os.environ["DSCONFIG_HOME"]) / "templates"
    folder.mkdir(parents=True)
    return folder


def _write(folder: Path, stem: str, text: str) -> Path:
    path = folder / f"{stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- built-in templates -----------------------------------------------------------------------------------


def test_builtin_folder_holds_every_required_provider() -> None:
    assert {p.stem for p in BUILTIN_FILES} >= REQUIRED_IDS


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.stem)
def test_every_builtin_template_loads(path: Path) -> None:
    tpl = load_template_file(path, builtin=True)
    assert tpl.id == path.stem
    assert tpl.builtin
    assert tpl.base_url.startswith(("https://", "http://"))
    assert set(tpl.models) <= set(TIERS)
    assert tpl.desktop_supported == bool(tpl.desktop_models)
    if not tpl.desktop_supported:
        assert tpl.desktop_reason, "a template without Desktop support says why"
    assert all(m.id.startswith("claude-") for m in tpl.desktop_models)


def test_at_least_twelve_builtin_templates_each_naming_its_source() -> None:
    assert len(BUILTIN_FILES) >= 12
    for path in BUILTIN_FILES:
        tpl = load_template_file(path, builtin=True)
        assert tpl.docs_url and tpl.docs_url.startswith("https://"), f"{path.name}: docs_url missing"
        text = path.read_text(encoding="utf-8")
        if tpl.checked is None:
            # No check date claimed: the file must say what could not be confirmed, and set no model of its own.
            assert re.search(r"(?i)could not be confirmed|no check date|not confirmed", text), path.name
            assert not tpl.models, f"{path.name}: models without a checked source page"
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", tpl.checked)


def test_builtin_templates_are_in_the_one_provider_order() -> None:
    found = load_templates()
    assert set(PROVIDER_ORDER) == {p.stem for p in BUILTIN_FILES}, "every built-in template has its place in PROVIDER_ORDER"
    assert [t.id for t in found.ordered()] == list(PROVIDER_ORDER)
    assert [p["id"] for p in actions.providers_doc()["providers"]] == list(PROVIDER_ORDER)


def test_deepseek_template_follows_deepseeks_current_guide() -> None:
    """TARGETS.md section 1: DeepSeek's Claude Code guide, newest version, plus the fable tier (= opus)."""
    tpl = load_template("deepseek")
    assert tpl.builtin
    assert tpl.base_url == DEEPSEEK_URL
    assert tpl.auth == "both"
    assert {t: tpl.models.get(t) for t in TIERS} == {
        "main": "deepseek-flash[1m]", "opus": "deepseek-flash[1m]", "sonnet": "deepseek-flash[1m]",
        "haiku": "deepseek-flash", "fable": "deepseek-flash[1m]", "subagent": "deepseek-flash",
    }
    assert dict(tpl.env) == {"CLAUDE_CODE_EFFORT_LEVEL": "max", "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "786432"}
    assert dict(tpl.legacy) == {"deepseek-v4-flash": "deepseek-flash", "deepseek-v4-flash-vision-exp": "deepseek-flash"}
    assert tpl.docs_url == "https://api-docs.deepseek.com/quick_start/agent_integrations/claude_code"
    assert tpl.checked == "2026-11-30"
    assert tpl.models_path == "/models"
    assert tpl.desktop_supported
    assert all(m.supports_1m for m in tpl.desktop_models), "DeepSeek's models have a 1M context"
    assert {m.tier for m in tpl.desktop_models} == {"opus", "sonnet", "haiku"}
    assert tpl.key_url and tpl.key_url.startswith("https://")
    # The shape check is what triggers the "does not look like" warning: assembled at runtime, never a literal.
    assert tpl.key_matches_shape("sk-" + "ab12" * 8)
    assert not tpl.key_matches_shape("sk-test-0123456789abcdefXYZ")


def test_providers_doc_lists_deepseek_first_with_documented_keys() -> None:
    doc = actions.providers_doc()
    assert set(doc) == {"providers", "errors"}
    assert doc["errors"] == []
    first = doc["providers"][0]
    assert first["id"] == "deepseek"
    assert first["base_url"] == DEEPSEEK_URL
    assert first["source"] == "built-in"
    assert {p["id"] for p in doc["providers"]} >= REQUIRED_IDS
    for p in doc["providers"]:
        assert set(p) == PROVIDER_KEYS
        assert set(p["desktop"]) == {"supported", "reason", "models"}
        assert p["checked"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", p["checked"])
        for model in p["desktop"]["models"]:
            assert set(model) == {"id", "label", "tier", "supports_1m"}
    assert (first["docs_url"] or "").startswith("https://api-docs.deepseek.com/") and first["checked"] == "2026-11-30"


def test_providers_command_text_lists_deepseek_first(run_dsconfig: RunDsconfig) -> None:
    proc = run_dsconfig("providers", input="")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:2] == ["ID", "NAME"]
    assert lines[1].split()[0] == "deepseek"
    assert DEEPSEEK_URL in lines[1].split()
    listed = {line.split()[0] for line in lines[1:]}
    assert listed >= REQUIRED_IDS
    assert lines[0].split()[-2:] == ["CHECKED", "SOURCE"]
    assert lines[1].split()[-2:] == ["2026-11-30", "https://api-docs.deepseek.com/quick_start/agent_integrations/claude_code"]


def test_providers_command_json(run_dsconfig: RunDsconfig) -> None:
    proc = run_dsconfig("providers", "--json", input="")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # one document and nothing else on stdout
    assert set(doc) == {"providers", "errors"}
    assert doc["providers"][0]["id"] == "deepseek"
    assert doc["providers"][0]["base_url"] == DEEPSEEK_URL
    assert all(set(p) == PROVIDER_KEYS for p in doc["providers"])
    assert doc["errors"] == []


# --- the user's own templates -------------------------------------------------------------------------------


def test_user_template_adds_a_provider(user_templates: Path) -> None:
    path = _write(user_templates, "mygw", GOOD_USER_TEMPLATE)
    found = load_templates()
    assert found.errors == ()
    assert {"mygw", "deepseek"} <= set(found.templates)
    tpl = load_template("mygw")
    assert tpl.base_url == "https://gw.example.test/anthropic"
    assert not tpl.builtin
    assert tpl.source == path
    doc = actions.providers_doc()
    mine = [p for p in doc["providers"] if p["id"] == "mygw"]
    assert mine and mine[0]["source"] == str(path)
    assert doc["providers"][0]["id"] == "deepseek"


def test_user_template_overrides_builtin(user_templates: Path) -> None:
    _write(user_templates, "deepseek", 'id = "deepseek"\nname = "DeepSeek via proxy"\nbase_url = "https://proxy.example.test/anthropic"\n')
    found = load_templates()
    assert found.templates["deepseek"].base_url == "https://proxy.example.test/anthropic"
    assert not found.templates["deepseek"].builtin
    assert load_template("deepseek").name == "DeepSeek via proxy"
    assert actions.providers_doc()["providers"][0]["base_url"] == "https://proxy.example.test/anthropic"


# (file stem, contents, what the message must name, what the hint must say)
MALFORMED = {
    "unknown-key": ("gw", 'base_url = "https://gw.test"\ncolour = "red"\n', ["'colour'", "not a template key"], "known keys"),
    "missing-base-url": ("gw", 'name = "Gateway"\n', ["'base_url'", "missing"], "add base_url"),
    "base-url-not-a-url": ("gw", 'base_url = "notaurl"\n', ["'base_url'", "notaurl"], 'base_url = "https://'),
    "base-url-ftp": ("gw", 'base_url = "ftp://gw.test/x"\n', ["'base_url'", "ftp://gw.test/x"], 'base_url = "https://'),
    "base-url-number": ("gw", "base_url = 42\n", ["'base_url'", "42"], 'base_url = "https://'),
    "bad-auth": ("gw", 'base_url = "https://gw.test"\nauth = "basic"\n', ["'auth'", "basic"], 'auth = "bearer"'),
    "bad-tier": ("gw", 'base_url = "https://gw.test"\n[models]\nturbo = "m1"\n', ["'models.turbo'", "not a tier"], "tiers are main"),
    "id-mismatch": ("mine", 'id = "yours"\nbase_url = "https://gw.test"\n', ["'id'", "yours", "mine.toml"], "yours.toml"),
    "bad-id": ("gw", 'id = "Bad Id"\nbase_url = "https://gw.test"\n', ["'id'", "Bad Id"], "lowercase"),
    "newer-schema": ("gw", 'schema_version = 2\nbase_url = "https://gw.test"\n', ["'schema_version'", "2", "newer"], "upgrade dsconfig"),
    "bad-region-url": ("gw", 'base_url = "https://gw.test"\n[regions]\neu = "nope"\n', ["'regions.eu'", "nope"], "https://"),
    "bad-env-name": ("gw", 'base_url = "https://gw.test"\n[env]\n"1BAD" = "x"\n', ["'env.1BAD'"], "letters"),
    "bad-key-shape": ("gw", 'base_url = "https://gw.test"\nkey_shape = "sk-("\n', ["'key_shape'", "regular expression"], "fix the pattern"),
    "checked-not-a-date": ("gw", 'base_url = "https://gw.test"\nchecked = "last week"\n', ["'checked'", "last week"], '"2026-11-30"'),
    "checked-toml-date": ("gw", 'base_url = "https://gw.test"\nchecked = 2026-11-30\n', ["'checked'"], "quoted date"),
    "docs-url-not-a-url": ("gw", 'base_url = "https://gw.test"\ndocs_url = "the website"\n', ["'docs_url'"], "https://"),
    "model-names-bad-tier": ("gw", 'base_url = "https://gw.test"\n[model_names]\nturbo = "T"\n', ["'model_names.turbo'"], "tiers are main"),
    "legacy-not-text": ("gw", 'base_url = "https://gw.test"\n[legacy]\nold = 1\n', ["'legacy.old'"], "quote"),
    "desktop-not-claude": ("gw", 'base_url = "https://gw.test"\n[desktop]\nsupported = true\nmodels = [{ id = "gpt-4", label = "x" }]\n',
                           ["'desktop.models[0].id'", "gpt-4"], "claude-"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_user_template_names_file_key_and_fix(user_templates: Path, case: str) -> None:
    stem, text, must_name, fix = MALFORMED[case]
    path = _write(user_templates, stem, text)
    with pytest.raises(InvalidFileError) as info:
        load_template(stem)
    err = info.value
    assert err.exit_code == EXIT_INVALID_FILE
    assert Path(str(err.path)) == path
    assert str(err).startswith(str(path))
    for needle in must_name:
        assert needle in err.message, (needle, err.message)
    assert err.hint and fix in err.hint, err.hint
    assert err.render().splitlines()[1].startswith("hint: ")


def test_bad_toml_reports_line_and_column(user_templates: Path) -> None:
    path = _write(user_templates, "gw", 'id = "gw"\nbase_url = "https://gw.test\nauth = "both"\n')
    with pytest.raises(InvalidFileError) as info:
        load_template("gw")
    err = info.value
    assert err.line == 2
    assert err.column is not None and err.column > 1
    assert str(err).startswith(f"{path}:2:{err.column}: ")
    assert "not valid TOML" in err.message
    assert err.hint and str(path) in err.hint


def test_non_utf8_template_is_refused(user_templates: Path) -> None:
    path = user_templates / "gw.toml"
    path.write_bytes(b'base_url = "https://gw.test"\nname = "\xff"\n')
    with pytest.raises(InvalidFileError, match="UTF-8") as info:
        load_template("gw")
    assert Path(str(info.value.path)) == path


def test_one_bad_user_template_does_not_hide_the_others(user_templates: Path) -> None:
    _write(user_templates, "mygw", GOOD_USER_TEMPLATE)
    bad = [
        _write(user_templates, "badauth", MALFORMED["bad-auth"][1]),
        _write(user_templates, "broken", "base_url = [\n"),
        _write(user_templates, *MALFORMED["id-mismatch"][:2]),
    ]
    found = load_templates()
    assert "mygw" in found.templates
    assert set(found.templates) >= REQUIRED_IDS
    assert sorted(str(e.path) for e in found.errors) == sorted(str(p) for p in bad)
    doc = actions.providers_doc()
    assert [set(e) for e in doc["errors"]] == [{"file", "message", "hint"}] * len(bad)


def test_load_template_of_a_bad_one_raises_invalid_file(user_templates: Path) -> None:
    _write(user_templates, "bad", 'base_url = "notaurl"\n')
    with pytest.raises(InvalidFileError):
        load_template("bad")
    with pytest.raises(InvalidFileError):
        load_templates().get("bad")  # the set remembers why "bad" is missing instead of saying "unknown"


def test_unknown_provider_is_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        load_template("nosuchprovider")
    assert info.value.hint and "deepseek" in info.value.hint


def test_broken_builtin_template_is_a_packaging_error(tmp_path: Path) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "x.toml").write_text('base_url = "nope"\n')
    with pytest.raises(InvalidFileError):
        load_templates(user_dir=tmp_path / "none", builtin_dir=builtin)


def test_base_url_with_trailing_newline_is_refused(user_templates: Path) -> None:
    _write(user_templates, "gw", 'base_url = "https://gw.test/anthropic\\n"\n')
    with pytest.raises(InvalidFileError):
        load_template("gw")


def test_a_template_without_a_fable_model_gets_its_opus_model(user_templates: Path) -> None:
    _write(user_templates, "gw", 'base_url = "https://gw.test"\n[models]\nopus = "big"\nhaiku = "small"\n')
    assert dict(load_template("gw").models) == {"opus": "big", "fable": "big", "haiku": "small"}
    _write(user_templates, "gw2", 'base_url = "https://gw.test"\n[models]\nopus = "big"\nfable = "story"\n')
    assert load_template("gw2").models["fable"] == "story"
    _write(user_templates, "gw3", 'base_url = "https://gw.test"\n[models]\nmain = "m"\n')
    assert "fable" not in load_template("gw3").models


def test_template_tiers_are_the_vocabulary_tiers() -> None:
    assert TIERS == vocab.TIER_NAMES == ("main", "opus", "sonnet", "haiku", "fable", "subagent")


# --- through the command ------------------------------------------------------------------------------------


def test_providers_command_survives_bad_user_templates(run_dsconfig: RunDsconfig, user_templates: Path) -> None:
    _write(user_templates, "mygw", GOOD_USER_TEMPLATE)
    bad_toml = _write(user_templates, "broken", 'base_url = "https://gw.test\n')
    bad_url = _write(user_templates, "badurl", 'base_url = "notaurl"\n')
    proc = run_dsconfig("providers", input="")
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[0] for line in proc.stdout.splitlines()[1:]]
    assert listed[0] == "deepseek"
    assert "mygw" in listed and "broken" not in listed and "badurl" not in listed
    assert str(bad_toml) in proc.stderr and str(bad_url) in proc.stderr
    assert "warning" in proc.stderr and "hint:" in proc.stderr
    assert "Traceback" not in proc.stderr

    proc = run_dsconfig("providers", "--json", input="")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert "mygw" in [p["id"] for p in doc["providers"]]
    assert sorted(e["file"] for e in doc["errors"]) == sorted([str(bad_toml), str(bad_url)])


def test_profile_add_with_a_bad_template_exits_4_and_writes_nothing(run_dsconfig: RunDsconfig, user_templates: Path) -> None:
    bad = _write(user_templates, "bad", 'base_url = "notaurl"\n')
    proc = run_dsconfig("profile", "add", "x", "--provider", "bad", input="")
    assert proc.returncode == EXIT_INVALID_FILE
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"error: {bad}")
    assert "'base_url'" in proc.stderr and "\nhint: " in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (user_templates.parent / "profiles.toml").exists()
