"""The edit engine every target uses: merge only owned keys, journal, exact undo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsconfig.apply import apply
from dsconfig.changes import FilePlan, plan_json, plan_undo
from dsconfig.errors import InvalidFileError
from dsconfig.journal import Journal
from dsconfig.keypaths import ABSENT, Match, get_at
from dsconfig.scrub import forget_originals

OWNER = {"target": "test", "scope": "user", "profile": "a"}


def use(path: Path, edits: dict[Any, Any], journal: Journal) -> FilePlan:
    plan = plan_json(path, edits, owner=OWNER, journal=journal)
    apply(plan, journal=journal)
    return plan


def off(path: Path, journal: Journal, force: bool = False) -> FilePlan:
    plan = plan_undo(path, journal=journal, force=force)
    apply(plan, journal=journal)
    return plan


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.json")


def test_use_keeps_foreign_keys_order_and_indent_then_off_restores_bytes(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "settings.json"
    original = b'{\n    "hooks": {"PreToolUse": []},\n    "env": {"FOO": "1"},\n    "permissions": {"allow": ["Bash"]}\n}'
    f.write_bytes(original)
    use(f, {("env", "ANTHROPIC_BASE_URL"): "https://x/anthropic", ("apiKeyHelper",): "dsconfig key get a"}, journal)
    doc = json.loads(f.read_bytes())
    assert list(doc) == ["hooks", "env", "permissions", "apiKeyHelper"]
    assert doc["env"] == {"FOO": "1", "ANTHROPIC_BASE_URL": "https://x/anthropic"}
    assert f.read_bytes().startswith(b'{\n    "hooks"')
    assert not f.read_bytes().endswith(b"\n")  # no final newline before, none after
    off(f, journal)
    assert f.read_bytes() == original
    assert journal.load() == {}


def test_created_file_is_removed_on_off(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "deep" / "settings.json"
    use(f, {("env", "X"): "1"}, journal)
    assert json.loads(f.read_text()) == {"env": {"X": "1"}}
    assert (f.parent.stat().st_mode & 0o777) == 0o700
    off(f, journal)
    assert not f.exists()


def test_switch_leaves_nothing_of_the_first(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "s.json"
    f.write_text('{"env": {"KEEP": "k", "ANTHROPIC_SMALL_FAST_MODEL": "old"}}\n')
    use(f, {("env", "A_ONLY"): "a", ("env", "SHARED"): "a", ("env", "ANTHROPIC_SMALL_FAST_MODEL"): ABSENT}, journal)
    assert json.loads(f.read_text())["env"] == {"KEEP": "k", "A_ONLY": "a", "SHARED": "a"}
    use(f, {("env", "SHARED"): "b", ("env", "ANTHROPIC_SMALL_FAST_MODEL"): ABSENT}, journal)
    assert json.loads(f.read_text())["env"] == {"KEEP": "k", "SHARED": "b"}
    off(f, journal)
    assert f.read_text() == '{"env": {"KEEP": "k", "ANTHROPIC_SMALL_FAST_MODEL": "old"}}\n'


def test_reapply_is_byte_identical_and_writes_nothing(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "s.json"
    f.write_text("{}\n")
    use(f, {("env", "X"): "1"}, journal)
    first = f.read_bytes()
    mtime = f.stat().st_mtime_ns
    plan = use(f, {("env", "X"): "1"}, journal)
    assert not plan.changed
    assert f.read_bytes() == first and f.stat().st_mtime_ns == mtime


def test_user_edit_of_owned_key_is_kept_unless_forced(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "s.json"
    f.write_text('{"other": 1}\n')
    use(f, {("env", "X"): "ours"}, journal)
    doc = json.loads(f.read_text())
    doc["env"]["X"] = "theirs"
    doc["added"] = True
    f.write_text(json.dumps(doc))
    plan = off(f, journal)
    assert json.loads(f.read_text()) == {"other": 1, "env": {"X": "theirs"}, "added": True}
    assert any("kept your value" in n for n in plan.notes)


def test_forced_off_restores_owned_key_and_keeps_other_edits(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "s.json"
    f.write_text('{"other": 1}\n')
    use(f, {("env", "X"): "ours"}, journal)
    doc = json.loads(f.read_text())
    doc["env"]["X"] = "theirs"
    doc["added"] = True
    f.write_text(json.dumps(doc, indent=2))
    off(f, journal, force=True)
    assert json.loads(f.read_text()) == {"other": 1, "added": True}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"a": 1,}', "trailing comma"),
        (b'{"a": 1} // c', "comments"),
        (b"\xef\xbb\xbf{}", "byte-order mark"),
        (b"", "empty"),
        (b"[1, 2]", "expected an object"),
        (b'{"a": 1, "a": 2}', "appears twice"),
    ],
)
def test_invalid_json_is_refused_and_nothing_written(tmp_path: Path, journal: Journal, content: bytes, fragment: str) -> None:
    f = tmp_path / "s.json"
    f.write_bytes(content)
    with pytest.raises(InvalidFileError) as err:
        plan_json(f, {("env", "X"): "1"}, owner=OWNER, journal=journal)
    assert str(f) in err.value.message and (fragment in err.value.message or fragment in (err.value.hint or ""))
    assert f.read_bytes() == content
    assert not journal.path.exists()


def test_error_names_line_and_column(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "s.json"
    f.write_text('{\n  "a": 1,\n  "b": 2,\n}\n')
    with pytest.raises(InvalidFileError) as err:
        plan_json(f, {("x",): 1}, owner=OWNER, journal=journal)
    assert (err.value.line, err.value.column) == (4, 1)
    assert "trailing comma" in (err.value.hint or "")


def test_symlink_is_written_through(tmp_path: Path, journal: Journal) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    real.parent.mkdir()
    real.write_text("{}\n")
    link = tmp_path / "settings.json"
    link.symlink_to(real)
    use(link, {("env", "X"): "1"}, journal)
    assert link.is_symlink()
    assert json.loads(real.read_text()) == {"env": {"X": "1"}}
    off(link, journal)
    assert link.is_symlink() and real.read_text() == "{}\n"


def test_list_items_matched_by_id(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "_meta.json"
    f.write_text(json.dumps({"appliedId": "foreign", "entries": [{"id": "foreign", "name": "Mine"}]}))
    original = f.read_bytes()
    use(f, {("entries", Match("id", "ours")): {"id": "ours", "name": "dsconfig: ds"}, ("appliedId",): "ours"}, journal)
    doc = json.loads(f.read_text())
    assert doc == {"appliedId": "ours", "entries": [{"id": "foreign", "name": "Mine"}, {"id": "ours", "name": "dsconfig: ds"}]}
    off(f, journal)
    assert f.read_bytes() == original


def test_backup_holds_original_bytes(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "s.json"
    f.write_text('{"a": 1}')
    use(f, {("b",): 2}, journal)
    record = journal.get(f)
    assert record is not None and record.backup is not None
    assert Path(record.backup).read_bytes() == b'{"a": 1}'
    assert (Path(record.backup).stat().st_mode & 0o777) == 0o600


# --- properties -------------------------------------------------------------------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12))
json_value = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
documents = st.dictionaries(st.text(max_size=10), json_value, max_size=6)
indents = st.sampled_from([None, 1, 2, 4, "\t"])
OWNED = [("env", "ANTHROPIC_BASE_URL"), ("env", "ANTHROPIC_MODEL"), ("apiKeyHelper",), ("env", "ANTHROPIC_AUTH_TOKEN")]
edit_sets = st.dictionaries(st.sampled_from(OWNED), st.one_of(st.text(max_size=10), st.just(ABSENT)), min_size=1)


def _render(doc: dict[str, Any], indent: Any, newline: bool, ascii_: bool) -> bytes:
    return (json.dumps(doc, indent=indent, ensure_ascii=ascii_) + ("\n" if newline else "")).encode()


def _without_owned(doc: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    if isinstance(doc.get("env"), dict):
        for _, name in [k for k in OWNED if k[0] == "env"]:
            doc["env"].pop(name, None)
        if not doc["env"]:
            doc.pop("env")
    doc.pop("apiKeyHelper", None)
    doc.pop("env", None) if doc.get("env") == {} else None
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents, indent=indents, newline=st.booleans(), ascii_=st.booleans(), first=edit_sets, second=edit_sets)
def test_use_switch_off_returns_original_bytes_and_never_touches_foreign_keys(
    tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any], indent: Any, newline: bool, ascii_: bool,
    first: dict[Any, Any], second: dict[Any, Any],
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    journal = Journal(folder / "journal.json")
    f = folder / "settings.json"
    if "env" in doc and not isinstance(doc["env"], dict):
        doc["env"] = {"kept": doc["env"]}
    original = _render(doc, indent, newline, ascii_)
    f.write_bytes(original)
    use(f, first, journal)
    after_first = json.loads(f.read_bytes())
    assert _without_owned(after_first) == _without_owned(doc)
    for kpath, value in first.items():
        assert get_at(after_first, kpath) == value
    use(f, second, journal)
    after_second = json.loads(f.read_bytes())
    assert _without_owned(after_second) == _without_owned(doc)
    for kpath in first.keys() - second.keys():
        assert get_at(after_second, kpath) == get_at(doc, kpath)
    off(f, journal)
    assert f.read_bytes() == original


def test_forget_originals_drops_an_adopted_key_from_journal_backup_and_undo(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "settings.json"
    secret = "sk-test-adopted-inline-key-77"
    f.write_text(json.dumps({"env": {"ANTHROPIC_AUTH_TOKEN": secret, "KEEP": "1"}}, indent=2) + "\n")
    use(f, {("env", "ANTHROPIC_AUTH_TOKEN"): ABSENT, ("apiKeyHelper",): "dsconfig key get ds"}, journal)
    forget_originals(f, [("env", "ANTHROPIC_AUTH_TOKEN")], journal=journal)
    record = journal.get(f)
    assert record is not None and record.backup is not None
    assert secret.encode() not in journal.path.read_bytes()
    assert secret.encode() not in Path(record.backup).read_bytes()
    off(f, journal)
    assert json.loads(f.read_text()) == {"env": {"KEEP": "1"}}
    assert secret not in f.read_text()


# --- format-preserving rewrite ------------------------------------------------------------------------------

from dsconfig.jsonsplice import splice


def test_hand_formatting_of_untouched_members_survives_use(tmp_path: Path, journal: Journal) -> None:
    f = tmp_path / "settings.json"
    f.write_text('{\n  "permissions": {"allow": ["Bash(npm test)"]},\n  "n": 1e-7,\n  "env": {"FOO": "1"}\n}\n')
    use(f, {("env", "X"): "y", ("apiKeyHelper",): "cmd"}, journal)
    assert f.read_text() == (
        '{\n  "permissions": {"allow": ["Bash(npm test)"]},\n  "n": 1e-7,\n  "env": {"FOO": "1", "X": "y"},\n'
        '  "apiKeyHelper": "cmd"\n}\n'
    )


@settings(max_examples=200, deadline=None)
@given(doc=documents.filter(bool), indent=indents, newline=st.booleans(), edits=st.dictionaries(
    st.sampled_from(["env", "apiKeyHelper", "new", "x"]), st.one_of(json_value, st.just(ABSENT)), min_size=1))
def test_splice_yields_the_new_document_and_keeps_untouched_members(doc: dict[str, Any], indent: Any, newline: bool, edits: dict[str, Any]) -> None:
    text = _render(doc, indent, newline, False).decode()
    new = json.loads(text)
    for key, value in edits.items():
        if value is ABSENT:
            new.pop(key, None)
        else:
            new[key] = value
    out = splice(text, json.loads(text), new, indent=json_style(text).indent, ensure_ascii=False)
    if out is None:
        return
    assert json.loads(out) == new
    from dsconfig.jsonsplice import _scan_object

    for member in _scan_object(text, text.index("{")).members:
        if member.key in new and json.dumps(new[member.key]) == json.dumps(doc[member.key]):
            assert text[member.start : member.value_end] in out  # byte for byte, wherever it now sits


def json_style(text: str) -> Any:
    from dsconfig.jsonfile import JsonStyle

    return JsonStyle.of(text.encode())
