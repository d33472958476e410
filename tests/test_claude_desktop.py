"""dsconfig.targets.claude_desktop: the config library, helper and deploymentMode on every OS layout, exact undo.

Golden files: tests/data/claude_desktop/<layout>/before/ is laid into a temp home; after `use` the home (plus
the helper, under `_helpers/`) must equal <layout>/after/ byte for byte once the temp paths are replaced by
@HOME@ and @HELPERS@; after `off` it must equal before/ again. UPDATE_GOLDEN=1 rewrites after/
(review the diff before committing it).
"""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dsconfig import apply, changes, fileio, jsonfile, output
from dsconfig.changes import FilePlan
from dsconfig.errors import EXIT_CONFLICT, InvalidFileError, UsageError
from dsconfig.journal import Journal
from dsconfig.keypaths import ABSENT
from dsconfig.profiles import Profile, Resolved, resolve
from dsconfig.targets import claude_desktop as cd
from dsconfig.targets.claude_desktop import DesktopUnsupportedError, ManagedConfigError, Ran, System
from dsconfig.targets.context import TargetContext
from dsconfig.templates import DesktopModel, load_template

DATA = Path(__file__).parent / "data" / "claude_desktop"
FAKE_DSCONFIG = ("/opt/dsconfig/bin/dsconfig",)
# Shaped like no real provider key (a DeepSeek key is sk- and 32 hex digits): it cannot be anyone's secret.
KEY = "sk-dsconfig-desktop-test-" + "not-a-real-key-QZ"
FOREIGN = "3f2a8c1e-5b7d-4e9a-8c6f-1d2e3f4a5b6c"
OTHER = "9b1c2d3e-4f50-4a61-b7c8-d9e0f1a2b3c4"
DS_ID = "80de6937-c9cc-573e-93de-970c3f6f5260"  # entry_id("ds"), pinned: changing it orphans users' entries


# --- helpers ---------------------------------------------------------------------------------------------


def nothing_outside_home(tmp_path: Path) -> System:
    """A machine with no managed source, no processes and no package manager answering."""
    root = tmp_path / "sysroot"
    (root / "proc").mkdir(parents=True, exist_ok=True)
    return System(root=root, run=lambda argv: None, registry=list)


def make_ctx(home: Path, platform: str = "linux", env: dict[str, str] | None = None, **kw: Any) -> TargetContext:
    environ = {"HOME": str(home), "DSCONFIG_HOME": os.environ["DSCONFIG_HOME"], **(env or {})}
    kw.setdefault("dsconfig_command", FAKE_DSCONFIG)
    return TargetContext(home=home, platform=platform, environ=environ, journal=Journal(), **kw)


def profile(name: str = "ds", provider: str = "deepseek", base_url: str | None = None) -> Resolved:
    return resolve(Profile(name=name, provider=provider, base_url=base_url), load_template(provider))


# Planning returns its warnings as data; these helpers hand them to the renderer, as switch's caller does.
def use(ctx: TargetContext, r: Resolved, system: System, inline_key: str | None = None) -> list[FilePlan]:
    return apply.apply_all(lambda: cd.plan_use(r, ctx, scope="user", inline_key=inline_key, system=system, warn=output.warn),
                             journal=ctx.journal, modes=cd.file_modes(ctx, r.name, inline_key=inline_key is not None))


def off(ctx: TargetContext, system: System, force: bool = False) -> list[FilePlan]:
    return apply.apply_all(lambda: cd.plan_off(ctx, scope="user", force=force, system=system, warn=output.warn),
                           journal=ctx.journal)


def tree(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def helpers(ctx: TargetContext) -> Path:
    return cd.helper_path("x", ctx).parent


def snapshot(home: Path, ctx: TargetContext) -> dict[str, bytes]:
    """Every file of the home, plus the helpers; the journal too, so "nothing written" covers it."""
    files = tree(home)
    files.update({f"_helpers/{k}": v for k, v in tree(helpers(ctx)).items()})
    journal = fileio.read_bytes(ctx.journal.path)
    if journal is not None:
        files["_journal"] = journal
    return files


def lay_out(case: str, home: Path) -> dict[str, bytes]:
    before = tree(DATA / case / "before")
    for rel, data in before.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_bytes(data)
    return before


def normalised(files: dict[str, bytes], home: Path, ctx: TargetContext) -> dict[str, bytes]:
    subs = [(str(helpers(ctx)).encode(), b"@HELPERS@"), (ctx.environ["DSCONFIG_HOME"].encode(), b"@DSCONFIG_HOME@"),
            (str(home).encode(), b"@HOME@")]
    out = {}
    for rel, data in files.items():
        for real, placeholder in subs:
            data = data.replace(real, placeholder)
        out[rel] = data
    return out


def files_containing(needle: str, *roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes())


# --- golden files, every OS layout -------------------------------------------------------------------------

LAYOUTS = {
    # case: (platform, environment beyond HOME, expected variant, library folder relative to the home)
    "macos": ("darwin", {}, "macos", "Library/Application Support/Claude-3p/configLibrary"),
    "linux-xdg": ("linux", {"XDG_CONFIG_HOME": "{home}/xdg"}, "linux", "xdg/Claude-3p/configLibrary"),
    "linux-default": ("linux", {}, "linux", ".config/Claude-3p/configLibrary"),
    "windows-localappdata": ("win32", {"LOCALAPPDATA": "{home}/AppData/Local", "APPDATA": "{home}/AppData/Roaming"},
                             "windows-localappdata", "AppData/Local/Claude-3p/configLibrary"),
    "windows-appdata": ("win32", {"LOCALAPPDATA": "{home}/AppData/Local", "APPDATA": "{home}/AppData/Roaming"},
                        "windows-appdata", "AppData/Roaming/Claude-3p/configLibrary"),
    "windows-msix-local": ("win32", {"localappdata": "{home}/AppData/Local", "AppData": "{home}/AppData/Roaming"},
                           "windows-msix-local", "AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Local/Claude-3p/configLibrary"),
    "windows-msix-roaming": ("win32", {"LOCALAPPDATA": "{home}/AppData/Local", "APPDATA": "{home}/AppData/Roaming"},
                             "windows-msix-roaming", "AppData/Local/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude-3p/configLibrary"),
}


def layout_ctx(case: str, home: Path) -> TargetContext:
    platform, env, _, _ = LAYOUTS[case]
    return make_ctx(home, platform, {k: v.format(home=home) for k, v in env.items()})


@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_golden_use_then_off_per_layout(case: str, home: Path, tmp_path: Path) -> None:
    before = lay_out(case, home)
    ctx = layout_ctx(case, home)
    system = nothing_outside_home(tmp_path)
    lay = cd.layout(ctx)
    assert (lay.variant, lay.library) == (LAYOUTS[case][2], home / LAYOUTS[case][3])

    use(ctx, profile(), system)
    after = normalised({k: v for k, v in snapshot(home, ctx).items() if k != "_journal"}, home, ctx)
    golden = DATA / case / "after"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        for rel, data in after.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_bytes(data)
    assert after == tree(golden)
    _assert_owner_only(home, before, ctx)
    for path in lay.app_configs:  # every key the user had is still there
        doc = json.loads(path.read_bytes())
        assert doc["deploymentMode"] == "3p"
        if (path.relative_to(home).as_posix()) in before:
            old = json.loads(before[path.relative_to(home).as_posix()])
            assert {k: v for k, v in doc.items() if k != "deploymentMode"} == {k: v for k, v in old.items() if k != "deploymentMode"}

    off(ctx, system)
    assert tree(home) == before
    assert tree(helpers(ctx)) == {}
    assert ctx.journal.owned_by(target=cd.TARGET) == []


def _assert_owner_only(home: Path, before: dict[str, bytes], ctx: TargetContext) -> None:
    for path in home.rglob("*"):
        rel = path.relative_to(home).as_posix()
        if path.is_file() and rel not in before:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, rel
            assert not path.read_bytes().startswith(jsonfile.BOM)
        if path.is_dir() and not any(k.startswith(rel + "/") for k in before):
            assert stat.S_IMODE(path.stat().st_mode) == 0o700, rel
    helper = next(helpers(ctx).iterdir())
    assert stat.S_IMODE(helper.stat().st_mode) == cd.HELPER_MODE


def test_golden_helper_scripts_are_the_reviewed_ones(home: Path) -> None:
    # The golden trees hold them too; this also pins the exact command (absolute path, exec, quoting).
    unix = (DATA / "linux-default" / "after" / "_helpers" / "claude-desktop-ds").read_bytes()
    assert unix == b"".join([
        b"#!/bin/sh\n",
        b"# Claude Desktop credential helper for the dsconfig profile ds: prints its key from the OS keyring.\n",
        b"# Written by dsconfig; `dsconfig off --target claude-desktop` removes it.\n",
        # The tests run with DSCONFIG_HOME set: the app runs the helper without it, so the helper sets it.
        b"export DSCONFIG_HOME=@DSCONFIG_HOME@\n",
        b"exec /opt/dsconfig/bin/dsconfig key get ds\n",
    ])
    windows = (DATA / "windows-localappdata" / "after" / "_helpers" / "claude-desktop-ds.cmd").read_bytes()
    assert b'set "DSCONFIG_HOME=@DSCONFIG_HOME@"\r\n"/opt/dsconfig/bin/dsconfig" "key" "get" "ds"\r\n' in windows


# --- the entry -----------------------------------------------------------------------------------------------


def test_entry_id_is_stable_lowercase_uuid5_per_profile() -> None:
    assert cd.entry_id("ds") == DS_ID
    assert cd.entry_id("ds") == str(uuid.uuid5(cd.ENTRY_NAMESPACE, "ds"))
    assert cd.entry_id("work") != DS_ID
    assert cd.entry_id("DS") == cd.entry_id("DS").lower()


def test_entry_content_matches_the_template(home: Path) -> None:
    r = profile()
    doc = cd.entry_document(r, helper=Path("/h/claude-desktop-ds"), inline_key=None)
    assert doc["inferenceProvider"] == "gateway"
    assert doc["inferenceGatewayBaseUrl"] == "https://api.deepseek.com/anthropic"
    assert doc["inferenceGatewayAuthScheme"] == r.template.desktop_auth_scheme
    assert (doc["inferenceCredentialKind"], doc["inferenceCredentialHelper"]) == ("helper-script", "/h/claude-desktop-ds")
    assert doc["inferenceGatewayApiKey"] == cd.HELPER_KEY_PLACEHOLDER  # never empty, never a key
    assert doc["modelDiscoveryEnabled"] is False and doc["disableDeploymentModeChooser"] is True
    models = doc["inferenceModels"]
    assert [m["name"] for m in models] == [m.id for m in r.template.desktop_models]
    assert all(m["name"].startswith("claude-") for m in models)
    assert models[0] == {"name": "claude-opus-4-5", "labelOverride": "DeepSeek V4 Pro", "supports1m": True,
                         "anthropicFamilyTier": "opus", "isFamilyDefault": True}


def test_first_model_of_each_tier_is_its_family_default(home: Path) -> None:
    r = profile()
    template = replace(r.template, desktop_models=(
        DesktopModel("claude-opus-4-5", "Pro", "opus", True),
        DesktopModel("claude-opus-4-1", "Pro (older)", "opus"),
        DesktopModel("claude-sonnet-4-5", "claude-sonnet-4-5"),
    ))
    got = cd.inference_models(replace(r, template=template))
    assert got == [
        {"name": "claude-opus-4-5", "labelOverride": "Pro", "supports1m": True, "anthropicFamilyTier": "opus", "isFamilyDefault": True},
        {"name": "claude-opus-4-1", "labelOverride": "Pro (older)", "supports1m": False, "anthropicFamilyTier": "opus"},
        {"name": "claude-sonnet-4-5", "supports1m": False},
    ]


# --- switch, re-apply, foreign entries ------------------------------------------------------------------------


def test_foreign_entry_and_mcp_servers_survive_use_switch_and_off(home: Path, tmp_path: Path) -> None:
    before = lay_out("macos", home)
    ctx = layout_ctx("macos", home)
    system = nothing_outside_home(tmp_path)
    lay = cd.layout(ctx)
    foreign_entry = lay.entry(FOREIGN).read_bytes()
    mcp = json.loads(lay.app_configs[0].read_bytes())["mcpServers"]

    use(ctx, profile("ds"), system)
    use(ctx, profile("work", base_url="https://gateway.example.org/anthropic"), system)
    work = cd.entry_id("work")
    meta = json.loads(lay.meta.read_bytes())
    assert meta == {"appliedId": work, "entries": [{"id": FOREIGN, "name": "Company LiteLLM"},
                                                   {"id": work, "name": "dsconfig: work (DeepSeek)"}]}
    assert not lay.entry(DS_ID).exists() and not cd.helper_path("ds", ctx).exists()
    assert json.loads(lay.entry(work).read_bytes())["inferenceGatewayBaseUrl"] == "https://gateway.example.org/anthropic"
    assert cd.helper_path("work", ctx).exists()
    assert lay.entry(FOREIGN).read_bytes() == foreign_entry
    assert json.loads(lay.app_configs[0].read_bytes())["mcpServers"] == mcp

    off(ctx, system)
    assert tree(home) == before
    assert tree(helpers(ctx)) == {}


def test_reapplying_the_same_profile_writes_nothing(home: Path, tmp_path: Path) -> None:
    lay_out("macos", home)
    ctx = layout_ctx("macos", home)
    system = nothing_outside_home(tmp_path)
    use(ctx, profile(), system)
    first = snapshot(home, ctx)
    again = cd.plan_use(profile(), ctx, scope="user", inline_key=None, system=system)
    assert [p.path for p in again if p.changed] == []
    use(ctx, profile(), system)
    assert snapshot(home, ctx) == first


def test_user_switching_in_the_app_is_kept_by_off_with_a_warning(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = lay_out("linux-xdg", home)  # no appliedId before: "None" was picked in the app
    ctx = layout_ctx("linux-xdg", home)
    system = nothing_outside_home(tmp_path)
    lay = cd.layout(ctx)
    use(ctx, profile(), system)
    st = cd.status(ctx, system=system)
    assert (st["dsconfig_entry_applied"], st["applied_profile"], st["applied_name"]) == (True, "ds", "dsconfig: ds (DeepSeek)")
    meta = json.loads(lay.meta.read_bytes())
    meta["appliedId"] = OTHER  # the user picks their own configuration in the app, which rewrites the file
    lay.meta.write_text(json.dumps(meta, indent=2))
    st = cd.status(ctx, system=system)
    assert (st["dsconfig_entry_applied"], st["applied_id"], st["applied_name"], st["applied_profile"]) == (False, OTHER, "Local Ollama", None)
    capsys.readouterr()

    off(ctx, system)
    assert "appliedId was changed after dsconfig set it; kept your value" in capsys.readouterr().err
    expected = json.loads(before["xdg/Claude-3p/configLibrary/_meta.json"]) | {"appliedId": OTHER}
    assert json.loads(lay.meta.read_bytes()) == expected
    assert not lay.entry(DS_ID).exists()
    # The kept key stays in the journal, so the `--force` the warning suggests still restores the original.
    off(ctx, system, force=True)
    assert json.loads(lay.meta.read_bytes()) == json.loads(before["xdg/Claude-3p/configLibrary/_meta.json"])
    assert cd.plan_off(ctx, scope="user", force=True, system=system) == []  # nothing of dsconfig's is left


def test_inline_key_then_helper_then_off(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = make_ctx(home)
    system = nothing_outside_home(tmp_path)
    lay = cd.layout(ctx)
    use(ctx, profile(), system, inline_key=KEY)
    assert "--inline-key" in capsys.readouterr().err
    doc = json.loads(lay.entry(DS_ID).read_bytes())
    assert (doc["inferenceCredentialKind"], doc["inferenceGatewayApiKey"]) == ("static", KEY)
    assert "inferenceCredentialHelper" not in doc
    assert tree(helpers(ctx)) == {}
    # Only the entry holds the key: the journal keeps hashes of whole files, not their content.
    assert files_containing(KEY, home, Path(os.environ["DSCONFIG_HOME"])) == [lay.entry(DS_ID)]

    use(ctx, profile(), system)
    assert files_containing(KEY, home, Path(os.environ["DSCONFIG_HOME"])) == []
    assert cd.status(ctx, system=system)["credential"] == "helper-script"
    off(ctx, system)
    assert tree(home / ".config") == {}


def test_warnings_can_be_collected_instead_of_printed(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    system = nothing_outside_home(tmp_path)
    _proc(system.root, 7, "/opt/claude-desktop/claude-desktop")
    collected: list[str] = []
    cd.plan_use(profile(), make_ctx(home), scope="user", inline_key=KEY, system=system, warn=collected.append)
    assert [w.split(":")[0] for w in collected] == ["--inline-key", "Claude Desktop is running"]
    assert capsys.readouterr().err == ""
    assert KEY not in " ".join(collected)


def test_only_the_helper_needs_a_mode_of_its_own(home: Path) -> None:
    ctx = make_ctx(home)
    assert cd.file_modes(ctx, "ds") == {cd.helper_path("ds", ctx): 0o700}
    assert cd.file_modes(ctx, "ds", scope="user", inline_key=True) == {}


def test_inline_key_is_trimmed_and_an_empty_one_refused(home: Path, tmp_path: Path) -> None:
    ctx = make_ctx(home)
    with pytest.raises(UsageError):
        cd.plan_use(profile(), ctx, scope="user", inline_key="  \n", system=nothing_outside_home(tmp_path))
    plans = cd.plan_use(profile(), ctx, scope="user", inline_key=f" {KEY}\n", system=nothing_outside_home(tmp_path))
    entry = next(p for p in plans if p.path.name == f"{DS_ID}.json")
    assert entry.after is not None and json.loads(entry.after)["inferenceGatewayApiKey"] == KEY


# --- refusals: unsupported profiles, managed sources -------------------------------------------------------


def test_template_without_desktop_support_is_refused_with_its_reason(home: Path, tmp_path: Path) -> None:
    kimi = profile("kimi", "kimi")
    with pytest.raises(DesktopUnsupportedError) as err:
        cd.plan_use(kimi, make_ctx(home), scope="user", inline_key=None, system=nothing_outside_home(tmp_path))
    assert kimi.template.desktop_reason and kimi.template.desktop_reason in err.value.message
    assert "--target claude-code" in (err.value.hint or "")
    assert tree(home) == {}


@pytest.mark.parametrize("url", ["http://example.com/anthropic", "http://10.0.0.5:4000", "http://localhost.evil.example"])
def test_plain_http_to_a_remote_host_is_refused(home: Path, tmp_path: Path, url: str) -> None:
    with pytest.raises(DesktopUnsupportedError) as err:
        cd.plan_use(profile(base_url=url), make_ctx(home), scope="user", inline_key=None, system=nothing_outside_home(tmp_path))
    assert "https://" in err.value.message and "--base-url https://" in (err.value.hint or "")


@pytest.mark.parametrize("url", ["http://localhost:4000", "http://127.0.0.1:8765/anthropic", "http://[::1]:4000", "https://x.example"])
def test_https_and_loopback_http_are_accepted(home: Path, tmp_path: Path, url: str) -> None:
    plans = cd.plan_use(profile(base_url=url), make_ctx(home), scope="user", inline_key=None, system=nothing_outside_home(tmp_path))
    entry = next(p for p in plans if p.path.name == f"{DS_ID}.json")
    assert entry.after is not None and json.loads(entry.after)["inferenceGatewayBaseUrl"] == url


def _managed(tmp_path: Path, platform: str) -> tuple[System, str]:
    system = nothing_outside_home(tmp_path)
    if platform == "linux":
        path = system.root / "etc/claude-desktop/managed-settings.json"
        path.parent.mkdir(parents=True)
        path.write_text('{"inferenceProvider": "gateway"}\n')
        return system, str(path)
    if platform == "darwin":
        path = system.root / "Library/Managed Preferences/alice/com.anthropic.claudefordesktop.plist"
        path.parent.mkdir(parents=True)
        path.write_bytes(plistlib.dumps({"inferenceProvider": "gateway"}))
        return system, str(path)
    key = r"HKLM\SOFTWARE\Policies\Claude"
    return replace(system, registry=lambda: [key]), key


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_managed_source_refuses_and_writes_nothing(home: Path, tmp_path: Path, platform: str) -> None:
    system, where = _managed(tmp_path, platform)
    ctx = make_ctx(home, platform, {"USER": "alice", "LOCALAPPDATA": str(home / "L"), "APPDATA": str(home / "R")})
    with pytest.raises(ManagedConfigError) as err:
        cd.plan_use(profile(), ctx, scope="user", inline_key=None, system=system)
    assert err.value.exit_code == EXIT_CONFLICT
    assert where in err.value.message and "wins" in err.value.message
    assert "administrator" in (err.value.hint or "")
    assert snapshot(home, ctx) == {}
    assert cd.detect(ctx, system=system)["managed"] == [{"kind": {"linux": "file", "darwin": "plist", "win32": "registry"}[platform], "path": where}]
    assert cd.status(ctx, system=system)["managed_overrides"] is True


def test_macos_system_wide_managed_preferences_count_too(home: Path, tmp_path: Path) -> None:
    system = nothing_outside_home(tmp_path)
    plist = system.root / "Library/Managed Preferences/com.anthropic.claudefordesktop.plist"
    plist.parent.mkdir(parents=True)
    plist.write_bytes(plistlib.dumps({}))
    other_user = system.root / "Library/Managed Preferences/bob/com.anthropic.claudefordesktop.plist"
    other_user.parent.mkdir(parents=True)
    other_user.write_bytes(plistlib.dumps({}))
    found = cd.managed_sources(make_ctx(home, "darwin", {"USER": "alice"}), system)
    assert [s.where for s in found] == [str(plist)]  # bob's policy is not alice's


def test_registry_is_only_probed_on_real_windows() -> None:
    if sys.platform != "win32":
        assert cd.policy_registry_keys() == []


# --- malformed files: a clear error, nothing written --------------------------------------------------------

MALFORMED = [
    # (which file, content, fragment of message or hint, line)
    ("meta", b'{\n  "appliedId": "x",\n  "entries": [],\n}\n', "trailing comma", 4),
    ("meta", b'{\n  "appliedId": "x",\n  "entries": {"id": "x"}\n}\n', "'entries' must be a list", 3),
    ("meta", b'{"entries": [1, 2]}', "'entries' must be a list", 1),
    ("meta", b'{"entries": [{"id": 7}]}', "id is not a string", 1),
    ("meta", b'{\n  "entries": [],\n  "appliedId": 42\n}', "'appliedId' must be a string", 3),
    ("meta", jsonfile.BOM + b'{"entries": []}', "byte-order mark", 1),
    ("claude", b'{\n  // my servers\n  "mcpServers": {}\n}\n', "no comments", 2),
    ("claude-3p", b'{\n  "deploymentMode": 3\n}\n', "'deploymentMode' must be a string", 2),
    ("claude-3p", b"", "empty", 1),
]


def _malformed_path(lay: cd.Layout, which: str) -> Path:
    return {"meta": lay.meta, "claude": lay.app_configs[0], "claude-3p": lay.app_configs[1]}[which]


@pytest.mark.parametrize(("which", "content", "fragment", "line"), MALFORMED)
def test_malformed_file_is_refused_with_position_and_nothing_written(
    home: Path, tmp_path: Path, which: str, content: bytes, fragment: str, line: int
) -> None:
    lay_out("macos", home)
    ctx = layout_ctx("macos", home)
    path = _malformed_path(cd.layout(ctx), which)
    path.write_bytes(content)
    before = snapshot(home, ctx)
    with pytest.raises(InvalidFileError) as err:
        use(ctx, profile(), nothing_outside_home(tmp_path))
    assert str(path) in err.value.message
    assert fragment in err.value.message + " " + (err.value.hint or "")
    assert err.value.line == line and err.value.column is not None
    assert err.value.hint
    assert snapshot(home, ctx) == before


def test_malformed_own_entry_stops_a_second_use(home: Path, tmp_path: Path) -> None:
    ctx = make_ctx(home)
    system = nothing_outside_home(tmp_path)
    use(ctx, profile(), system)
    entry = cd.layout(ctx).entry(DS_ID)
    entry.write_text('{"inferenceProvider": "gateway",,}')
    before = snapshot(home, ctx)
    with pytest.raises(InvalidFileError) as err:
        use(ctx, profile(), system)
    assert str(entry) in err.value.message and (err.value.line, err.value.column) == (1, 33)
    assert snapshot(home, ctx) == before


def test_switching_away_from_an_entry_the_user_edited_leaves_it_with_a_warning(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctx = make_ctx(home)
    system = nothing_outside_home(tmp_path)
    use(ctx, profile(), system)
    entry = cd.layout(ctx).entry(DS_ID)
    entry.write_text(entry.read_text().replace("DeepSeek V4 Pro", "My label"))  # edited in the app
    use(ctx, profile("work"), system)
    assert "left in place" in capsys.readouterr().err
    assert "My label" in entry.read_text()
    assert [e["id"] for e in json.loads(cd.layout(ctx).meta.read_bytes())["entries"]] == [cd.entry_id("work")]


def test_an_entry_the_user_edited_stays_working_and_dsconfig_s_after_off(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Second outside tester: `off` left the edited entry in place but removed the helper it runs, and forgot the
    # entry, so every later `use` refused it ("exists and was not made by dsconfig").
    ctx = make_ctx(home)
    system = nothing_outside_home(tmp_path)
    use(ctx, profile(), system)
    entry = cd.layout(ctx).entry(DS_ID)
    helper = cd.helper_path("ds", ctx)
    doc = json.loads(entry.read_text())
    doc["userNote"] = "x"
    entry.write_text(json.dumps(doc))
    off(ctx, system)
    assert "left in place" in capsys.readouterr().err
    assert json.loads(entry.read_text())["userNote"] == "x" and helper.exists()  # the kept entry still works
    use(ctx, profile(), system)  # dsconfig's again: written anew, with a note
    assert "was changed since dsconfig wrote it" in capsys.readouterr().err
    assert "userNote" not in json.loads(entry.read_text()) and helper.exists()
    entry.write_text(json.dumps(doc))
    off(ctx, system, force=True)
    assert not entry.exists() and not helper.exists()


def test_malformed_meta_stops_off_and_nothing_is_written(home: Path, tmp_path: Path) -> None:
    lay_out("macos", home)
    ctx = layout_ctx("macos", home)
    system = nothing_outside_home(tmp_path)
    use(ctx, profile(), system)
    lay = cd.layout(ctx)
    lay.meta.write_bytes(lay.meta.read_bytes().replace(b'"entries"', b"entries"))
    before = snapshot(home, ctx)
    with pytest.raises(InvalidFileError):
        off(ctx, system)
    assert snapshot(home, ctx) == before
    assert "is not valid JSON" in cd.status(ctx, system=system)["problems"][0]


# --- the app running -----------------------------------------------------------------------------------------


def _proc(root: Path, pid: int, *argv: str) -> None:
    folder = root / "proc" / str(pid)
    folder.mkdir(parents=True)
    (folder / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")


def test_running_app_on_linux_gets_a_quit_and_reopen_warning(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    system = nothing_outside_home(tmp_path)
    _proc(system.root, 100, "/usr/bin/claude", "--print")  # Claude Code, not the app
    _proc(system.root, 101, "vim", str(home / ".config/Claude/claude_desktop_config.json"))
    ctx = make_ctx(home)
    use(ctx, profile(), system)
    assert cd.is_running(ctx, system) is False
    assert "running" not in capsys.readouterr().err
    _proc(system.root, 4242, "/usr/lib/claude-desktop/node_modules/electron/dist/electron", "--type=renderer")
    use(ctx, profile("work"), system)
    err = capsys.readouterr().err
    assert "Claude Desktop is running" in err and "only when it starts" in err and "open it again" in err
    off(ctx, system)
    assert "Claude Desktop is running" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "expected"), [
    (["/usr/lib/claude-desktop/claude-desktop"], True),
    (["/usr/bin/electron", "/usr/lib/claude-desktop/app.asar"], True),
    (["/bin/bash", "/usr/bin/claude-desktop", "--no-sandbox"], True),
    (["/home/a/Applications/Claude-Desktop-0.13.11-x86_64.AppImage"], True),
    (["/Applications/Claude.app/Contents/MacOS/Claude"], True),
    (["/home/a/.local/bin/claude", "-p", "hi"], False),
    (["less", "/var/log/claude-desktop.log"], False),
    (["python3", "-m", "claude_desktop"], False),
    ([], False),
])
def test_which_processes_count_as_the_app(argv: list[str], expected: bool) -> None:
    assert cd._is_desktop_command(argv) is expected


@pytest.mark.parametrize(("platform", "ran", "expected"), [
    ("darwin", Ran(0, "812\n"), True),
    ("darwin", Ran(1, ""), False),
    ("darwin", None, None),
    ("win32", Ran(0, '"Claude.exe","9120","Console","1","181,232 K"\n'), True),
    ("win32", Ran(0, "INFO: No tasks are running which match the specified criteria.\n"), False),
    ("win32", None, None),
])
def test_process_probes_on_macos_and_windows(home: Path, tmp_path: Path, platform: str, ran: Ran | None, expected: bool | None) -> None:
    seen: list[list[str]] = []

    def run(argv: Any) -> Ran | None:
        seen.append(list(argv))
        return ran

    system = replace(nothing_outside_home(tmp_path), run=run)
    assert cd.is_running(make_ctx(home, platform), system) is expected
    assert seen[0][0] == {"darwin": "pgrep", "win32": "tasklist"}[platform]


def test_probes_never_crash_or_hang() -> None:
    assert cd.run_quietly(["/nonexistent/dsconfig-probe"]) is None
    # The sleeping child is the slow probe this timeout is about; an unbounded wait would return its result.
    assert cd.run_quietly([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.3) is None
    ran = cd.run_quietly([sys.executable, "-c", "print('ok')"])
    assert ran == Ran(0, "ok\n")


# --- detection -----------------------------------------------------------------------------------------------


def test_detect_macos_bundle_version(home: Path, tmp_path: Path) -> None:
    system = nothing_outside_home(tmp_path)
    bundle = home / "Applications/Claude.app/Contents"
    bundle.mkdir(parents=True)
    (bundle / "Info.plist").write_bytes(plistlib.dumps({"CFBundleShortVersionString": "0.14.10", "CFBundleName": "Claude"}))
    broken = system.root / "Applications/Claude.app/Contents"
    broken.mkdir(parents=True)
    (broken / "Info.plist").write_bytes(b"not a plist")
    found = cd.detect(make_ctx(home, "darwin"), system=system)
    assert found["installed"] is True and found["version"] == "0.14.10"
    assert [(i["kind"], i["version"]) for i in found["installs"]] == [("app-bundle", None), ("app-bundle", "0.14.10")]
    assert found["library"] == {"path": str(home / "Library/Application Support/Claude-3p/configLibrary"), "exists": False}


def test_detect_windows_installer_and_msix(home: Path, tmp_path: Path) -> None:
    local = home / "AppData/Local"
    for version in ("0.9.3", "0.10.1", "0.10.0"):
        (local / "AnthropicClaude" / f"app-{version}").mkdir(parents=True)
    (local / "Packages/Claude_pzs8sxrjxfjjc").mkdir(parents=True)
    ctx = make_ctx(home, "win32", {"LOCALAPPDATA": str(local), "APPDATA": str(home / "AppData/Roaming")})
    found = cd.detect(ctx, system=nothing_outside_home(tmp_path))
    assert [(i["kind"], i["version"]) for i in found["installs"]] == [("installer", "0.10.1"), ("msix", None)]
    assert found["version"] == "0.10.1"
    assert found["layout"] == "windows-msix-local"  # the package redirects the app's AppData


def test_windows_prefers_an_existing_library_and_the_current_folder(home: Path) -> None:
    local, roaming = home / "AppData/Local", home / "AppData/Roaming"
    ctx = make_ctx(home, "win32", {"LOCALAPPDATA": str(local), "APPDATA": str(roaming)})
    (roaming / "Claude-3p/configLibrary").mkdir(parents=True)
    assert cd.layout(ctx).variant == "windows-appdata"
    (local / "Claude-3p/configLibrary").mkdir(parents=True)
    assert cd.layout(ctx).variant == "windows-localappdata"
    assert cd.layout(ctx).data_1p == roaming / "Claude"


def test_detect_linux_packages_and_community_builds(home: Path, tmp_path: Path) -> None:
    answers = {"dpkg-query": Ran(0, "ii |0.13.11-1\n")}
    system = replace(nothing_outside_home(tmp_path), run=lambda argv: answers.get(argv[0]))
    (home / "Applications").mkdir()
    (home / "Applications/Claude_Desktop-0.12.28-x86_64.AppImage").write_bytes(b"")
    (home / "Applications/unrelated.AppImage").write_bytes(b"")
    found = cd.detect(make_ctx(home, "linux"), system=system)
    assert [(i["kind"], i["version"]) for i in found["installs"]] == [("deb", "0.13.11-1"), ("appimage", "0.12.28")]
    answers["dpkg-query"] = Ran(0, "rc |0.13.11-1\n")  # removed, config files left
    (system.root / "usr/lib/claude-desktop").mkdir(parents=True)
    found = cd.detect(make_ctx(home, "linux"), system=system)
    assert [i["kind"] for i in found["installs"]] == ["files", "appimage"]


def test_detect_nothing_installed(home: Path, tmp_path: Path) -> None:
    found = cd.detect(make_ctx(home, "linux"), system=nothing_outside_home(tmp_path))
    assert (found["installed"], found["version"], found["installs"], found["managed"]) == (False, None, [], [])
    assert found["running"] is False
    assert [c["exists"] for c in found["config_files"]] == [False, False]
    json.dumps(found)  # JSON-ready


# --- helper scripts ------------------------------------------------------------------------------------------


def test_unix_helper_quotes_an_awkward_dsconfig_path(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my tools" / "it's $HOME; `x`"
    folder.mkdir(parents=True)
    fake = folder / "dsconfig"
    fake.write_text('#!/bin/sh\nprintf "%s|" "$@"\n')
    fake.chmod(0o700)
    ctx = make_ctx(home, dsconfig_command=(str(fake),))
    use(ctx, profile(), nothing_outside_home(tmp_path))
    helper = cd.helper_path("ds", ctx)
    proc = subprocess.run([str(helper)], check=False, capture_output=True, text=True, timeout=10)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "key|get|ds|", "")


def test_windows_helper_is_a_cmd_file_with_safe_quoting(home: Path) -> None:
    ctx = make_ctx(home, "win32", dsconfig_command=(r"C:\Program Files (x86)\R&D 100%!\python.exe", "-m", "dsconfig"))
    assert cd.helper_path("ds", ctx).name == "claude-desktop-ds.cmd"
    script = cd.helper_script("ds", ctx).decode()
    assert script.endswith("\r\n") and "\n" not in script.replace("\r\n", "")
    lines = script.split("\r\n")
    assert lines[0] == "@echo off" and "setlocal DisableDelayedExpansion" in lines
    assert r'"C:\Program Files (x86)\R&D 100%%!\python.exe" "-m" "dsconfig" "key" "get" "ds"' in lines
    assert lines[-2] == "exit /b %ERRORLEVEL%"
    assert "chcp" not in script
    assert "chcp 65001 >nul" in cd.helper_script("ds", make_ctx(home, "win32", dsconfig_command=(r"C:\Users\José\dsconfig.exe",))).decode()


# --- the real Secret Service ---------------------------------------------------------------------------------


@pytest.fixture
def stored_key(secret_service: Any, run_dsconfig: Any) -> Iterator[str]:
    added = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin", input=KEY)
    assert added.returncode == 0, added.stderr
    assert secret_service.lookup("ds") == KEY
    yield KEY


@pytest.mark.secret_service
def test_helper_prints_the_key_from_the_real_secret_service_and_nothing_else(stored_key: str, home: Path, tmp_path: Path) -> None:
    ctx = TargetContext(home=home, platform=sys.platform, environ=dict(os.environ), journal=Journal())
    assert Path(ctx.dsconfig_command[0]).name == "dsconfig"  # the installed console script
    use(ctx, profile(), nothing_outside_home(tmp_path))
    helper = cd.helper_path("ds", ctx)
    assert ctx.dsconfig_command[0] in helper.read_text()
    # The app runs it with its own environment: no DSCONFIG_HOME, some other working folder. `key get` answers
    # for a profile of profiles.toml only: the profile is made where that environment finds it.
    env = {k: v for k, v in os.environ.items() if k != "DSCONFIG_HOME"}
    made = subprocess.run([ctx.dsconfig_command[0], "profile", "add", "ds", "--provider", "deepseek"], check=False,
                          capture_output=True, text=True, timeout=30, env=env)
    assert made.returncode == 0, made.stderr
    proc = subprocess.run([str(helper)], check=False, capture_output=True, text=True, timeout=30, env=env, cwd="/")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, stored_key + "\n", "")
    assert files_containing(stored_key, home, Path(os.environ["DSCONFIG_HOME"])) == []


@pytest.mark.secret_service
def test_helper_fails_loudly_without_a_key(secret_service: Any, home: Path, tmp_path: Path) -> None:
    ctx = TargetContext(home=home, platform=sys.platform, environ=dict(os.environ), journal=Journal())
    use(ctx, profile("nokey"), nothing_outside_home(tmp_path))
    proc = subprocess.run([str(cd.helper_path("nokey", ctx))], check=False, capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and proc.stdout == "" and "nokey" in proc.stderr


# --- engine gaps found while building this target (changes.py is not this module's file) -------------------


def test_off_in_a_clean_home_leaves_no_folders_behind(home: Path, tmp_path: Path) -> None:
    ctx = make_ctx(home)
    system = nothing_outside_home(tmp_path)
    use(ctx, profile(), system)
    off(ctx, system)
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []


def test_removing_keys_from_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.json")
    plan = changes.plan_json(tmp_path / "claude_desktop_config.json", {("deploymentMode",): ABSENT},
                             owner=cd._owner("ds"), journal=journal)
    assert plan.after is None and not plan.changed
