"""Part 4b: fuzz the parsers and the merge path; count the inputs; any exception that is not one of dsconfig's
own errors (DsconfigError and its subclasses, which the CLI prints as `error: ...` with a hint) is a crash.

- Mutation fuzzing (seeded, fast): valid files (settings, Claude Code's state file, the Desktop library index and
  MCP config, profiles.toml, a template) mutated with bytes that matter to JSON and TOML (brackets, quotes,
  escapes, lone surrogates, NaN, BOMs, NULs, huge numbers...), fed to the strict JSON reader, the Claude Code and
  Desktop planners (which read, validate, merge and serialize), the profile store and the template parser.
- Property fuzzing (hypothesis): arbitrary JSON objects in arbitrary layouts through the engine: planning edits
  gives valid JSON holding exactly the edited document, applying then undoing gives the original bytes, undoing
  after someone else changed the file keeps their change; the format-preserving splice always yields text that
  parses to the new document.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsconfig.errors import DsconfigError
from dsconfig.keypaths import KeyPath

from .reliability_support import (
    ORIGINAL_APP_CONFIG,
    ORIGINAL_META,
    ORIGINAL_SETTINGS,
    ORIGINAL_STATE,
    PROFILES_TOML,
    World,
    contexts,
    profiled_world,
)

TOKENS = [b"{", b"}", b"[", b"]", b'"', b"\\", b",", b":", b"\\u00", b"\\ud800", b"\\udfff", b'"\\ud83d"', b"NaN",
          b"Infinity", b"-0", b"1e400", b"1e-400", b"true", b"null", b"\n", b"\r\n", b"\t", b"\xef\xbb\xbf", b"\x00",
          "é".encode(), "💥".encode(), b"\xff", b"\xc3", b"=", b"[[", b"]]", b"'''", b'"""', b"#", b".", b"[profiles.",
          b'"env"', b'"apiKeyHelper"', b'"appliedId"', b'"entries"', b'"deploymentMode"', b'"hasCompletedOnboarding"',
          b"123456789012345678901234567890", b"0x1F", b"+1", b"//", b"/*", b"  ", b"\x1b[31m"]
TEMPLATE = b"""schema_version = 1
id = "fz"
name = "Fuzz"
base_url = "https://fz.example.com/anthropic"
auth = "both"
key_shape = '^sk-[a-z]+$'

[models]
main = "fz-1"
haiku = "fz-h"

[env]
FZ = "1"

[desktop]
supported = true
models = [{ id = "claude-opus-4-5", label = "L", tier = "opus" }]
"""


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randint(0, len(out))
        if op == 0 and out:
            out[min(pos, len(out) - 1)] = rng.randrange(256)
        elif op == 1:
            out[pos:pos] = rng.choice(TOKENS)
        elif op == 2 and out:
            del out[pos:pos + rng.randint(1, 16)]
        elif op == 3 and out:
            start = rng.randrange(len(out))
            out[pos:pos] = out[start:start + rng.randint(1, 40)]
        elif op == 4:
            del out[pos:]
        else:
            out[pos:pos] = rng.choice(TOKENS) * rng.randint(2, 50)
    return bytes(out)


class Crashes:
    def __init__(self) -> None:
        self.inputs = 0
        self.found: list[str] = []

    @contextlib.contextmanager
    def guard(self, label: str, data: bytes) -> Iterator[None]:
        self.inputs += 1
        try:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                yield
        except DsconfigError:
            pass
        except Exception as exc:  # noqa: BLE001 - the finding
            if len(self.found) < 20:
                self.found.append(f"{label}: {type(exc).__name__}: {str(exc)[:160]} on input {data[:300]!r}")


# --- mutation fuzzing of every reader ---------------------------------------------------------------------------


def fuzz_world(tmp: Path) -> World:
    return profiled_world(tmp)


def json_targets(world: World) -> list[tuple[str, Path, bytes, Callable[[], Any]]]:
    from dsconfig import actions, jsonfile
    from dsconfig.journal import Journal
    from dsconfig.targets import claude_code as cc
    from dsconfig.targets import claude_desktop as cd

    actx, tctx = contexts(world)
    resolved = actions.resolved_profile("a", actx)
    system = cd.System(root=world.root / "sysroot", run=lambda argv: None, registry=list)

    def code_plan() -> Any:
        plans = cc.plan_use(resolved, tctx, root=world.root / "sysroot")
        for plan in plans:
            if plan.after is not None:
                jsonfile.parse_json_object(plan.path, plan.after)  # what it would write is valid JSON
        return plans

    def desktop_plan() -> Any:
        plans = cd.plan_use(resolved, tctx, system=system, warn=lambda text: None)
        for plan in plans:
            if plan.after is not None and plan.path.suffix == ".json":
                jsonfile.parse_json_object(plan.path, plan.after)
        return plans

    def read(path: Path) -> Callable[[], Any]:
        return lambda: jsonfile.parse_json_object(path, path.read_bytes())

    return [
        ("settings.json", world.settings, ORIGINAL_SETTINGS, code_plan),
        (".claude.json", world.state, ORIGINAL_STATE, code_plan),
        ("strict reader", world.root / "any.json", ORIGINAL_SETTINGS, read(world.root / "any.json")),
        ("_meta.json", world.meta, ORIGINAL_META, desktop_plan),
        ("claude_desktop_config.json", world.app_configs[0], ORIGINAL_APP_CONFIG, desktop_plan),
        ("journal.json", world.journal, b'{"schema_version": 1, "files": {}}\n', lambda: Journal(world.journal).load()),
    ]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # re's warning about a fuzzed key_shape like "[[", not ours
def test_mutated_files_never_crash_a_reader_or_planner(tmp_path: Path, figures: Any, slow: bool) -> None:
    per_target = 15000 if slow else 1200
    rng = random.Random(20240611)
    crashes = Crashes()
    world = fuzz_world(tmp_path)
    with world.activated():
        from dsconfig import templates, tomlread
        from dsconfig.profiles import ProfileStore

        for label, path, seed, action in json_targets(world):
            path.parent.mkdir(parents=True, exist_ok=True)
            for _ in range(per_target):
                data = mutate(seed, rng)
                path.write_bytes(data)
                with crashes.guard(label, data):
                    action()
            path.write_bytes(seed)
        store = ProfileStore(world.profiles)
        template_path = world.root / "fz.toml"
        for _ in range(per_target * 2):
            data = mutate(PROFILES_TOML.encode(), rng)
            world.profiles.write_bytes(data)
            with crashes.guard("profiles.toml", data):
                store.load()
            data = mutate(TEMPLATE, rng)
            template_path.write_bytes(data)
            with crashes.guard("template", data):
                templates.load_template_file(template_path, builtin=False)
            with crashes.guard("tomlread", data):
                tomlread.loads(template_path, data.decode("utf-8", "surrogateescape"), hint="-")
        for _ in range(per_target // 5):  # the profile store's edit path (tomlkit round trip)
            data = mutate(PROFILES_TOML.encode(), rng)
            world.profiles.write_bytes(data)
            with crashes.guard("profiles.toml edit", data):
                store.set_active("a")
    figures.add("fuzz_inputs", crashes.inputs)
    print(f"{crashes.inputs} mutated inputs, {len(crashes.found)} crashes")
    assert not crashes.found, "\n".join(crashes.found)


# --- property fuzzing of the merge path -------------------------------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=False, allow_infinity=False), _text)
_value = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
                      max_leaves=10)
_object = st.dictionaries(_text, _value, max_size=6)
_style = st.fixed_dictionaries({"indent": st.sampled_from([None, 0, 2, 4, "\t"]), "ascii": st.booleans(),
                                "compact": st.booleans(), "newline": st.booleans(), "crlf": st.booleans()})


def render(doc: dict[str, Any], style: dict[str, Any]) -> bytes:
    separators = (",", ":") if style["compact"] else None
    text = json.dumps(doc, indent=style["indent"], ensure_ascii=style["ascii"], separators=separators)
    if style["crlf"]:
        text = text.replace("\n", "\r\n")
    return (text + ("\n" if style["newline"] else "")).encode()


@st.composite
def edits(draw: st.DrawFn, doc: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    """Key paths to set (or remove: ABSENT), existing ones and new ones, one or two levels deep."""
    from dsconfig.keypaths import ABSENT

    keys = list(doc) + draw(st.lists(_text, max_size=2))
    out: dict[tuple[str, ...], Any] = {}
    for key in draw(st.lists(st.sampled_from(keys), max_size=4)) if keys else []:
        inner = doc.get(key)
        if isinstance(inner, dict) and inner and draw(st.booleans()):
            path: tuple[str, ...] = (key, draw(st.sampled_from(list(inner) + ["new"])))
        elif not isinstance(inner, dict) and key in doc and draw(st.booleans()):
            continue  # a path through a non-object is not something a target asks for
        else:
            path = (key, "ours") if draw(st.booleans()) and not (key in doc and not isinstance(inner, dict)) else (key,)
        if any(p[: len(path)] == path or path[: len(p)] == p for p in out):
            continue  # one key and a key inside it: no target asks for both
        out[path] = draw(st.one_of(st.just(ABSENT), _value))
    return out


def expected(doc: dict[str, Any], wanted: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    from dsconfig.keypaths import ABSENT

    out: dict[str, Any] = json.loads(json.dumps(doc))
    for path, value in wanted.items():
        node = out
        for seg in path[:-1]:
            if seg not in node:
                if value is ABSENT:
                    break
                node[seg] = {}
            node = node[seg]
        else:
            if value is ABSENT:
                node.pop(path[-1], None)
            else:
                node[path[-1]] = json.loads(json.dumps(value))
    return out


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dsconfig-fuzz-") as tmp:
        yield Path(tmp)


def test_engine_merges_exactly_and_undoes_to_the_byte(scratch: Path, figures: Any, slow: bool) -> None:
    from dsconfig import apply, changes, jsonfile
    from dsconfig.journal import Journal

    count = 0

    @settings(max_examples=2000 if slow else 250, deadline=None, derandomize=not slow,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data(), doc=_object, style=_style)
    def prop(data: st.DataObject, doc: dict[str, Any], style: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        folder = Path(tempfile.mkdtemp(dir=scratch))
        path = folder / "settings.json"
        original = render(doc, style)
        path.write_bytes(original)
        journal = Journal(folder / "journal.json")
        wanted = data.draw(edits(doc))
        owner = {"target": "fuzz", "scope": "user", "profile": "x"}
        # The same pairs typed as the engine's key paths (a dict is invariant in its key type).
        key_paths: dict[KeyPath, Any] = {key_path: value for key_path, value in wanted.items()}
        plan = changes.plan_json(path, key_paths, owner=owner, journal=journal)
        if plan.after is not None:
            assert jsonfile.parse_json_object(path, plan.after) == expected(doc, wanted) or plan.after == original
        apply.apply(plan, journal=journal)
        if data.draw(st.booleans()):  # someone else adds a key of their own meanwhile
            now = json.loads(path.read_bytes()) if path.exists() else {}
            now["someoneElse"] = data.draw(_value)
            path.write_bytes(render(now, style))
            apply.apply(changes.plan_undo(path, journal=journal), journal=journal)
            assert json.loads(path.read_bytes()).get("someoneElse") == now["someoneElse"]
        else:
            apply.apply(changes.plan_undo(path, journal=journal), journal=journal)
            assert path.read_bytes() == original

    try:
        prop()
    finally:
        figures.add("fuzz_inputs", count)


def test_format_preserving_splice_always_parses_to_the_new_document(figures: Any, slow: bool) -> None:
    from dsconfig import jsonfile

    count = 0

    @settings(max_examples=3000 if slow else 400, deadline=None, derandomize=not slow, suppress_health_check=list(HealthCheck))
    @given(old=_object, new_members=_object, drop=st.lists(_text, max_size=3), style=_style)
    def prop(old: dict[str, Any], new_members: dict[str, Any], drop: list[str], style: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        text = render(old, style)
        new = {k: v for k, v in {**old, **new_members}.items() if k not in drop}
        written = jsonfile.rewrite(Path("fuzzed.json"), text, old, new)
        assert json.loads(written) == json.loads(json.dumps(new)), written[:500]

    try:
        prop()
    finally:
        figures.add("fuzz_inputs", count)


def test_a_journal_with_a_wrong_schema_version_type_is_a_clear_error(tmp_path: Path) -> None:
    from dsconfig.journal import Journal

    path = tmp_path / "journal.json"
    path.write_text('{"schema_version": "1", "files": {}}\n')
    with pytest.raises(DsconfigError):
        Journal(path).load()
