"""What `use` and `off` print (issue 12 items 10 and 11): no key in a --dry-run diff, whoever wrote it into the
file, and a warning for a profile that sends the key over plain http to another machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .reliability_support import profiled_world

OTHER_TOOLS_TOKEN = "sk-" + "7e" * 16  # shaped like a DeepSeek key, made up


def test_dry_run_diffs_mask_an_inline_key_another_tool_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    world.settings.write_text(json.dumps({"env": {"ANTHROPIC_BASE_URL": "https://x.example",
                                                  "ANTHROPIC_AUTH_TOKEN": OTHER_TOOLS_TOKEN}}, indent=2))
    for args in (("use", "a", "--dry-run"), ("use", "b", "--dry-run")):
        assert world.cli(*args) == 0
        out = capsys.readouterr()
        assert OTHER_TOOLS_TOKEN not in out.out + out.err
        assert "ANTHROPIC_AUTH_TOKEN" in out.out  # the diff is there, masked
    assert world.cli("use", "a") == 0
    capsys.readouterr()
    assert world.cli("off", "--dry-run") == 0  # `off` would put the token back: its diff shows it, masked
    out = capsys.readouterr()
    assert OTHER_TOOLS_TOKEN not in out.out + out.err and "sk-…7e7e" in out.out


@pytest.mark.parametrize(("url", "warned"), [("http://192.0.2.7:8080/anthropic", True),
                                              ("http://gateway.example.com/anthropic", True),
                                              ("http://127.0.0.1:4000/anthropic", False),
                                              ("http://localhost:4000", False),
                                              ("https://gateway.example.com/anthropic", False)])
def test_use_warns_about_plain_http_to_another_machine(tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str,
                                                       warned: bool) -> None:
    world = profiled_world(tmp_path)
    assert world.cli("profile", "add", "gw", "--provider", "custom", "--base-url", url) == 0
    capsys.readouterr()
    assert world.cli("use", "gw") == 0
    err = capsys.readouterr().err
    assert ("plain http to another machine" in err) == warned, err


def test_use_of_an_env_source_profile_with_the_variable_unset_warns_and_applies(tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The variable may be set where Claude Code starts (direnv, CI): `use` writes the helper and warns."""
    world = profiled_world(tmp_path)
    assert world.cli("profile", "add", "ci", "--provider", "deepseek", "--key-source", "env:DSCONFIG_TEST_UNSET_KEY") == 0
    capsys.readouterr()
    assert world.cli("use", "ci") == 0
    err = capsys.readouterr().err
    assert "DSCONFIG_TEST_UNSET_KEY" in err and "key helper will fail" in err
    assert json.loads(world.settings.read_bytes())["apiKeyHelper"].endswith("key get ci")


@pytest.mark.parametrize("where", ["project settings", "journal"])
def test_a_lone_surrogate_in_a_file_is_shown_escaped_never_a_traceback(tmp_path: Path, where: str) -> None:
    """Found by the outside tester: `"\\ud800"` is valid JSON (a cloned repo's settings, a damaged journal) but no
    stream can encode it; status, detect and doctor crashed with UnicodeEncodeError."""
    from .reliability_support import TRACEBACK

    world = profiled_world(tmp_path)
    if where == "project settings":
        (world.proj / ".claude").mkdir()
        (world.proj / ".claude" / "settings.json").write_text('{"env": {"ANTHROPIC_BASE_URL": "https://x.example/\\ud800"}}')
    else:
        assert world.cli("use", "a") == 0
        doc = json.loads(world.journal.read_text())
        for record in doc["files"].values():
            record["owner"]["profile"] = "\ud800"
        world.journal.write_text(json.dumps(doc))
    for args in (("status",), ("status", "--json"), ("detect", "--json"), ("doctor", "--no-verify"),
                 ("doctor", "--json", "--no-verify")):
        proc = world.run(*args)
        assert TRACEBACK not in proc.stdout + proc.stderr, (args, proc.stderr[-2000:])
        if where == "project settings" and args[0] in ("status", "detect"):
            assert "\\ud800" in proc.stdout, args  # shown, escaped


def test_json_errors_name_json_types_and_the_duplicate_s_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the outside tester: `null` at the top level was "a JSON NoneType" with the hint "wrap the content in
    { ... }", and a duplicate key had no line."""
    world = profiled_world(tmp_path)
    world.settings.parent.mkdir()
    for text, expected in (("null", "top level is a JSON null"), ('"x"', "top level is a JSON string"),
                           ('{"a": 1,\n  "a": 2}', "settings.json:2:3: key 'a' appears twice")):
        world.settings.write_text(text)
        assert world.cli("use", "a") == 4
        err = capsys.readouterr().err
        assert expected in err and "NoneType" not in err and " str," not in err, err
