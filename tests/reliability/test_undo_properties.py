"""Part 3: undo is exact, for any file a user may have, at the target level (switch.run_use / switch.run_off in-process).

Hypothesis generates whole machines: Claude Code's user settings, project settings, its state file, Claude
Desktop's config library (with the user's own entries) and both MCP config files, as *text*: nested objects,
unicode (raw and \\u-escaped, astral characters), large files, compact or 2/4-space or tab indentation, CRLF
line ends, with and without a final newline, values of keys dsconfig owns already present (stale models, a
cloud-provider switch, another tool's apiKeyHelper). For each:

- `use a` then `off` gives back every file byte for byte (and absent files stay absent);
- `use a`, `use b`, `off` does too, at user scope with all targets, and at project scope;
- while a profile is applied, every key dsconfig does not own holds exactly what it held (parsed), and every
  top-level member dsconfig does not own is byte-identical in the file's text.

tests/test_changes.py and tests/test_claude_code_target.py cover the engine and the Claude Code target alone;
this goes through switch (both targets, both scopes, switching) with the state file and Desktop included.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .reliability_support import World, add_profiles, contexts

OWNED_TOP = {"env", "apiKeyHelper"}
ROUTING = ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_MODEL",
           "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_SMALL_FAST_MODEL", "CLAUDE_CODE_USE_BEDROCK",
           "CLAUDE_CODE_SUBAGENT_MODEL", "API_TIMEOUT_MS", "B_ONLY", "CLAUDE_CODE_EFFORT_LEVEL"]

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                    st.floats(allow_nan=False, allow_infinity=False), _text)
_json = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(_text, inner, max_size=4)), max_leaves=12)
_env = st.dictionaries(st.one_of(st.sampled_from(ROUTING), st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True)),
                       _text, max_size=6)


@st.composite
def layout(draw: st.DrawFn) -> dict[str, Any]:
    return {"indent": draw(st.sampled_from([None, 0, 1, 2, 4, "\t", "  \t"])),
            "compact": draw(st.booleans()),
            "ascii": draw(st.booleans()),
            "newline": draw(st.sampled_from(["", "\n", "\n\n", " \n"])),
            "crlf": draw(st.booleans())}


def render(doc: Any, style: dict[str, Any]) -> bytes:
    separators = (",", ":") if style["compact"] and style["indent"] is None else None
    text = json.dumps(doc, indent=style["indent"], ensure_ascii=style["ascii"], separators=separators)
    if style["crlf"]:
        text = text.replace("\n", "\r\n")
    newline: str = style["newline"]
    return (text + newline).encode("utf-8")


@st.composite
def settings_doc(draw: st.DrawFn) -> dict[str, Any]:
    doc = draw(st.dictionaries(st.one_of(_text, st.sampled_from(["hooks", "permissions", "model", "statusLine"])),
                               _json, max_size=5))
    for key in OWNED_TOP:
        doc.pop(key, None)
    if draw(st.booleans()):
        doc["env"] = draw(_env)
    if draw(st.booleans()):
        doc["apiKeyHelper"] = draw(st.sampled_from(["~/bin/get-key.sh", "echo sk-not-a-key", ""]))
    size = draw(st.sampled_from([0, 0, 0, 0, 0, 0, 300, 6000]))
    if size:  # a large file: hundreds of KB of the user's own data
        doc["largeHistory"] = [{"id": i, "text": "lorem ipsum dolor sit amet " * 3} for i in range(size)]
    return doc


@st.composite
def machine(draw: st.DrawFn) -> dict[str, bytes | None]:
    """Relative path -> bytes (None: absent) of every file dsconfig may touch."""
    files: dict[str, bytes | None] = {}
    files["home/.claude/settings.json"] = draw(st.one_of(st.none(), st.builds(render, settings_doc(), layout())))
    files["proj/.claude/settings.local.json"] = draw(st.one_of(st.none(), st.builds(render, settings_doc(), layout())))
    state = draw(st.dictionaries(_text, _json, max_size=4))
    if draw(st.booleans()):
        state["hasCompletedOnboarding"] = draw(st.sampled_from([True, False]))
    state["tipsHistory"] = {"x": 1e-7}
    files["home/.claude.json"] = draw(st.one_of(st.none(), st.just(render(state, draw(layout())))))
    foreign = [{"id": f"0000000{i}-aaaa-4bbb-8ccc-dddddddddddd", "name": draw(_text)} for i in range(draw(st.integers(0, 2)))]
    meta: dict[str, Any] = {"entries": foreign}
    if len(foreign) > 0 and draw(st.booleans()):
        meta["appliedId"] = foreign[0]["id"]
    meta.update(draw(st.dictionaries(st.sampled_from(["version", "ui"]), _json, max_size=1)))
    if draw(st.booleans()):
        files["home/.config/Claude-3p/configLibrary/_meta.json"] = render(meta, draw(layout()))
        for entry in foreign:
            files[f"home/.config/Claude-3p/configLibrary/{entry['id']}.json"] = render(
                {"inferenceProvider": "gateway", "inferenceGatewayBaseUrl": "https://gw.example"}, draw(layout()))
    for folder in ("Claude", "Claude-3p"):
        if draw(st.booleans()):
            config: dict[str, Any] = {"mcpServers": draw(st.dictionaries(_text, _json, max_size=2))}
            mode = draw(st.sampled_from([None, "1p", "3p", "other"]))
            if mode is not None:
                config["deploymentMode"] = mode
            config.update(draw(st.dictionaries(_text, _json, max_size=2)))
            files[f"home/.config/{folder}/claude_desktop_config.json"] = render(config, draw(layout()))
    return files


def lay_out(root: Path, files: dict[str, bytes | None]) -> World:
    world = World(root)
    world.home.mkdir(parents=True)
    world.proj.mkdir(parents=True)
    for rel, data in files.items():
        if data is not None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
    add_profiles(world)
    return world


def user_files(world: World) -> dict[str, bytes]:
    return {p.relative_to(world.root).as_posix(): p.read_bytes()
            for base in world.user_roots() for p in sorted(base.rglob("*")) if p.is_file()}


def top_members(text: str) -> dict[str, str]:
    """The exact text of each top-level member's value."""
    decoder = json.JSONDecoder()
    out: dict[str, str] = {}
    i = text.index("{") + 1
    while True:
        while text[i] in " \t\r\n,":
            i += 1
        if text[i] == "}":
            return out
        key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = text.index(":", i) + 1
        while text[i] in " \t\r\n":
            i += 1
        _, end = decoder.raw_decode(text, i)
        out[key] = text[i:end]
        i = end


def check_foreign_untouched(world: World, original: dict[str, bytes | None], where: str) -> None:
    for rel in ("home/.claude/settings.json", "proj/.claude/settings.local.json"):
        before = original.get(rel)
        path = world.root / rel
        if before is None or not path.exists():
            continue
        old_doc, new_doc = json.loads(before), json.loads(path.read_bytes())
        for key in set(old_doc) - OWNED_TOP:
            assert key in new_doc and json.dumps(new_doc[key]) == json.dumps(old_doc[key]), f"{where}: {rel}: {key} changed"
        old_env, new_env = old_doc.get("env") or {}, new_doc.get("env") or {}
        for var in set(old_env) - set(ROUTING):
            if not var.startswith(("ANTHROPIC_", "CLAUDE_CODE_")):
                assert new_env.get(var) == old_env[var], f"{where}: {rel}: env.{var} changed"
        old_text, new_text = top_members(before.decode()), top_members(path.read_bytes().decode())
        for key in set(old_text) - OWNED_TOP:
            assert new_text[key] == old_text[key], f"{where}: {rel}: the text of {key!r} changed"


def run_scenario(files: dict[str, bytes | None], steps: list[tuple[str, dict[str, Any]]]) -> None:
    with tempfile.TemporaryDirectory(prefix="dsconfig-prop-") as tmp:
        world = lay_out(Path(tmp) / "w", files)
        original = user_files(world)
        with world.activated():
            from dataclasses import replace

            from dsconfig import switch
            from dsconfig.context import AppContext

            actx, tctx = contexts(world)
            for step, kwargs in steps:
                if step == "use":
                    request = switch.UseRequest(kwargs["name"], **{k: v for k, v in kwargs.items() if k != "name"})
                    switch.run_use(request, AppContext.of(actx, replace(tctx, root=world.root / "sysroot")))
                    for path in (world.root / rel for rel in user_files(world)):
                        if path.suffix == ".json":
                            json.loads(path.read_bytes())  # every file stays valid JSON
                    check_foreign_untouched(world, files, f"after use {kwargs}")
                else:
                    switch.run_off(switch.OffRequest(**kwargs), AppContext.of(actx, tctx))
        after = user_files(world)
        assert sorted(after) == sorted(original), "files appeared or disappeared"
        for rel in original:
            assert after[rel] == original[rel], f"{rel} is not byte-identical after off"


def examples(slow: bool, default: int) -> int:
    return default * 10 if slow else default


SCENARIOS = {
    "user-all": [("use", {"name": "a", "target": "all"}), ("off", {"target": "all"})],
    "switch-all": [("use", {"name": "a", "target": "all"}), ("use", {"name": "b", "target": "all"}), ("off", {"target": "all"})],
    "switch-code-then-desktop": [("use", {"name": "b"}), ("use", {"name": "a", "target": "claude-desktop"}),
                                 ("use", {"name": "a"}), ("off", {"target": "all"})],
    "project": [("use", {"name": "a", "scope": "project"}), ("use", {"name": "b", "scope": "project"}),
                ("off", {"scope": "project"})],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_use_then_off_gives_back_every_byte(scenario: str, figures: Any, slow: bool) -> None:
    count = 0

    @settings(max_examples=examples(slow, 25), deadline=None, derandomize=not slow,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
    @given(files=machine())
    def prop(files: dict[str, bytes | None]) -> None:
        nonlocal count
        count += 1
        run_scenario(files, SCENARIOS[scenario])

    try:
        prop()
    finally:
        figures.add("property_examples", count)
    # Every example ran the whole scenario (run_scenario checks each one): the property was not vacuous.
    assert count >= examples(slow, 25), count
