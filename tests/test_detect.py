"""`dsconfig detect`: Claude Code installs on Linux, macOS and Windows layouts (laid out in temp folders on
Linux), broken programs reported not fatal, and which settings file supplies the base URL and the credential."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bounded import process_gone, returns_within, wait_until

from dsconfig import detect
from dsconfig.errors import DsconfigError
from dsconfig.journal import Journal
from dsconfig.targets import claude_code as cc
from dsconfig.targets.context import TargetContext

SECRET = "sk-exported-0123456789abcdef0123456789"


def program(path: Path, body: str, *, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(mode)
    return path


def version_script(version: str) -> str:
    return f"#!/bin/sh\necho '{version} (Claude Code)'\n"


def link(path: Path, target: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def ctx_for(home: Path, tmp_path: Path, platform: str, environ: dict[str, str], cwd: Path | None = None) -> TargetContext:
    return TargetContext(home=home, platform=platform, environ=environ, cwd=cwd or tmp_path,
                         journal=Journal(tmp_path / "journal.json"), dsconfig_command=("/opt/dsconfig/bin/dsconfig",))


def by_kind(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["kind"] + (":" + Path(i["path"]).name if i["kind"] == "npm" else ""): i for i in doc["installs"]}


# --- installs -----------------------------------------------------------------------------------------------


def test_linux_every_install_kind_with_broken_ones_reported(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "root"
    native = program(home / ".local" / "share" / "claude" / "versions" / "2.1.90", version_script("2.1.90"))
    link(home / ".local" / "bin" / "claude", native)
    npm_prefix = tmp_path / "npm-global"
    cli = program(npm_prefix / "lib" / "node_modules" / "@anthropic-ai" / "claude-code" / "cli.js", version_script("2.1.88"))
    link(npm_prefix / "bin" / "claude", cli)
    program(home / ".claude" / "local" / "claude", "#!/bin/sh\necho 'Error: Cannot find module' >&2\nexit 1\n")
    program(root / "home" / "linuxbrew" / ".linuxbrew" / "bin" / "claude", version_script("2.1.1"), mode=0o644)
    program(root / "usr" / "local" / "bin" / "claude", "\x7fELF garbage, not a program")
    program(home / ".bun" / "bin" / "claude", "#!/bin/sh\nsleep 30\n")
    environ = {"PATH": f"{home / '.local' / 'bin'}:{npm_prefix / 'bin'}:/usr/bin:/bin", "NPM_CONFIG_PREFIX": str(npm_prefix)}
    # The hanging one (sleep 30) is cut at its timeout, children included: bounded well below its 30 s.
    doc = returns_within(20, "detect with a claude that hangs",
                         lambda: cc.detect(ctx_for(home, tmp_path, "linux", environ), root=root, version_timeout=0.5))
    found = {i["kind"]: i for i in doc["installs"]}
    assert doc["installed"] is True and doc["version"] == "2.1.90"
    assert found["native"] == {"path": str(home / ".local" / "bin" / "claude"), "kind": "native", "on_path": True,
                               "active": True, "version": "2.1.90", "error": None}
    npm = [i for i in doc["installs"] if i["kind"] == "npm"]
    assert [(i["version"], i["on_path"], i["active"]) for i in npm if i["path"].startswith(str(npm_prefix))] == [("2.1.88", True, False)]
    assert "exited with status 1: Error: Cannot find module" in (found["local"]["error"] or "")
    assert found["homebrew"]["version"] is None and "cannot be run" in (found["homebrew"]["error"] or "")
    usr_local = next(i for i in npm if i["path"] == str(root / "usr" / "local" / "bin" / "claude"))
    assert usr_local["version"] is None and "cannot be run" in (usr_local["error"] or "")
    assert "did not answer within 0.5 s" in (found["bun"]["error"] or "")
    assert len(doc["installs"]) == 6  # the native link found on PATH and at its known place is listed once


def test_npmrc_prefix_and_nvm(tmp_path: Path, home: Path) -> None:
    (home / ".npmrc").write_text("fund=false\nprefix=~/.npm-custom\n")
    program(home / ".npm-custom" / "bin" / "claude", version_script("2.0.1"))
    program(home / ".nvm" / "versions" / "node" / "v20.11.0" / "bin" / "claude", version_script("2.0.2"))
    doc = cc.detect(ctx_for(home, tmp_path, "linux", {"PATH": "/nonexistent"}), root=tmp_path / "root")
    got = sorted((i["kind"], i["version"], i["on_path"]) for i in doc["installs"])
    assert got == [("npm", "2.0.1", False), ("nvm", "2.0.2", False)]


def test_macos_homebrew_cask_and_npm_in_usr_local(tmp_path: Path, home: Path) -> None:
    root = tmp_path / "root"
    cask = program(root / "opt" / "homebrew" / "Caskroom" / "claude-code" / "2.1.91" / "claude", version_script("2.1.91"))
    link(root / "opt" / "homebrew" / "bin" / "claude", cask)
    npm = program(root / "usr" / "local" / "lib" / "node_modules" / "@anthropic-ai" / "claude-code" / "bin" / "claude.exe",
                  version_script("2.1.80"))
    link(root / "usr" / "local" / "bin" / "claude", npm)
    environ = {"PATH": f"{root / 'opt' / 'homebrew' / 'bin'}:{root / 'usr' / 'local' / 'bin'}"}
    doc = cc.detect(ctx_for(home, tmp_path, "darwin", environ), root=root)
    got = [(i["kind"], i["version"], i["active"]) for i in doc["installs"]]
    assert got == [("homebrew", "2.1.91", True), ("npm", "2.1.80", False)]


def test_windows_layout(tmp_path: Path, home: Path) -> None:
    appdata, local = tmp_path / "AppData" / "Roaming", tmp_path / "AppData" / "Local"
    program(home / ".local" / "bin" / "claude.exe", version_script("2.1.92"))
    program(appdata / "npm" / "claude.cmd", version_script("2.1.70"))
    winget = program(local / "Microsoft" / "WinGet" / "Packages" / "Anthropic.ClaudeCode_Microsoft.Winget.Source_8wekyb3d8bbwe" / "claude.exe",
                     version_script("2.1.93"))
    link(local / "Microsoft" / "WinGet" / "Links" / "claude.exe", winget)
    environ = {"Path": f"{appdata / 'npm'};{home / '.local' / 'bin'}", "PATHEXT": ".COM;.EXE;.BAT;.CMD",
               "APPDATA": str(appdata), "LOCALAPPDATA": str(local)}
    doc = cc.detect(ctx_for(home, tmp_path, "win32", environ), root=tmp_path / "root")
    got = [(Path(i["path"]).name, i["kind"], i["version"], i["on_path"], i["active"]) for i in doc["installs"]]
    assert got == [("claude.cmd", "npm", "2.1.70", True, True), ("claude.exe", "native", "2.1.92", True, False),
                   ("claude.exe", "winget", "2.1.93", False, False)]


def test_nothing_installed(tmp_path: Path, home: Path) -> None:
    doc = cc.detect(ctx_for(home, tmp_path, "linux", {"PATH": "/nonexistent"}), root=tmp_path / "root")
    assert doc["installed"] is False and doc["installs"] == [] and doc["version"] is None


def test_dangling_link_reported(tmp_path: Path, home: Path) -> None:
    link(home / ".local" / "bin" / "claude", home / ".local" / "share" / "claude" / "versions" / "gone")
    doc = cc.detect(ctx_for(home, tmp_path, "linux", {"PATH": "/nonexistent"}), root=tmp_path / "root")
    assert doc["installs"][0]["error"] == "a link to a file that does not exist"


@pytest.mark.claude
def test_real_claude_version(tmp_path: Path, home: Path, claude_bin: Path) -> None:
    doc = cc.detect(ctx_for(home, tmp_path, "linux", {"PATH": str(claude_bin.parent), "HOME": str(home)}), root=tmp_path / "root")
    assert doc["version"] == "2.1.332"
    assert doc["installs"][0]["kind"] == "npm" and doc["installs"][0]["active"]


# --- which file supplies what -------------------------------------------------------------------------------


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.fixture
def layered(tmp_path: Path, home: Path) -> Callable[..., dict[str, Any]]:
    proj = tmp_path / "proj"
    proj.mkdir()

    def run(environ: dict[str, str] | None = None, root: Path | None = None) -> dict[str, Any]:
        return dict(cc.detect(ctx_for(home, tmp_path, "linux", {"PATH": "/nonexistent", **(environ or {})}, cwd=proj),
                              root=root or tmp_path / "root"))

    return run


def test_precedence_of_base_url(tmp_path: Path, home: Path, layered: Callable[..., dict[str, Any]]) -> None:
    proj = tmp_path / "proj"
    user = write(home / ".claude" / "settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://user"}})
    shared = write(proj / ".claude" / "settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://project"}})
    local = write(proj / ".claude" / "settings.local.json", {"env": {"ANTHROPIC_BASE_URL": "https://local"}})
    managed = write(tmp_path / "root" / "etc" / "claude-code" / "managed-settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://managed"}})
    environ = {"ANTHROPIC_BASE_URL": "https://exported"}
    for expected, source, drop in [("https://managed", managed, managed), ("https://local", local, local),
                                   ("https://project", shared, shared), ("https://user", user, user)]:
        assert layered(environ)["base_url"] == {"value": expected, "source": str(source)}
        drop.unlink()
    assert layered(environ)["base_url"] == {"value": "https://exported", "source": "environment"}
    assert layered()["base_url"] == {"value": None, "source": None}


def test_managed_drop_ins_beat_the_main_file(tmp_path: Path, layered: Callable[..., dict[str, Any]]) -> None:
    folder = tmp_path / "root" / "etc" / "claude-code"
    write(folder / "managed-settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://main"}})
    drop = write(folder / "managed-settings.d" / "20-proxy.json", {"env": {"ANTHROPIC_BASE_URL": "https://drop-in"}})
    assert layered()["base_url"]["source"] == str(drop)


def test_credential_precedence_and_masking(tmp_path: Path, home: Path, layered: Callable[..., dict[str, Any]]) -> None:
    write(home / ".claude" / "settings.json", {"apiKeyHelper": "/opt/dsconfig/bin/dsconfig key get ds", "env": {}})
    doc = layered()
    assert doc["credential"] == {"kind": "apiKeyHelper", "source": str(home / ".claude" / "settings.json"),
                                 "value": "/opt/dsconfig/bin/dsconfig key get ds", "dsconfig_profile": "ds"}
    assert doc["other_credentials"] == []
    doc = layered({"ANTHROPIC_AUTH_TOKEN": SECRET})
    assert doc["credential"] == {"kind": "ANTHROPIC_AUTH_TOKEN", "source": "environment", "value": "sk-…6789"}
    assert [c["kind"] for c in doc["other_credentials"]] == ["apiKeyHelper"]
    assert SECRET not in json.dumps(doc)
    # "" in a settings file clears the exported token: the helper is what Claude Code uses then.
    write(tmp_path / "proj" / ".claude" / "settings.local.json", {"env": {"ANTHROPIC_AUTH_TOKEN": ""}})
    assert layered({"ANTHROPIC_AUTH_TOKEN": SECRET})["credential"]["kind"] == "apiKeyHelper"


def test_oauth_login_when_nothing_else(home: Path, layered: Callable[..., dict[str, Any]]) -> None:
    assert layered()["credential"] is None
    write(home / ".claude" / ".credentials.json", {"claudeAiOauth": {}})
    assert layered()["credential"]["kind"] == "oauth"


def test_models_cloud_switch_environment_and_state(home: Path, layered: Callable[..., dict[str, Any]]) -> None:
    write(home / ".claude" / "settings.json", {"env": {"ANTHROPIC_MODEL": "m1", "CLAUDE_CODE_USE_BEDROCK": "true"}})
    write(home / ".claude.json", {"hasCompletedOnboarding": True})
    doc = layered({"ANTHROPIC_DEFAULT_HAIKU_MODEL": "h1", "ANTHROPIC_API_KEY": SECRET, "UNRELATED": "x"})
    assert doc["models"]["ANTHROPIC_MODEL"]["value"] == "m1"
    assert doc["models"]["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == {"value": "h1", "source": "environment"}
    assert doc["cloud_provider"] == "CLAUDE_CODE_USE_BEDROCK"
    assert doc["environment"] == {"ANTHROPIC_API_KEY": "sk-…6789", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "h1"}
    assert doc["state_file"]["has_completed_onboarding"] is True


def test_malformed_settings_reported_not_fatal(tmp_path: Path, home: Path, layered: Callable[..., dict[str, Any]]) -> None:
    bad = home / ".claude" / "settings.json"
    bad.parent.mkdir()
    bad.write_text('{"env": {"A": "1",}}')
    write(tmp_path / "proj" / ".claude" / "settings.json", {"env": {"API_TIMEOUT_MS": 600000}})
    (home / ".claude.json").write_text("{")
    doc = layered()
    files = {f["scope"]: f for f in doc["settings_files"]}
    assert "trailing comma" in files["user"]["error"] and files["user"]["exists"]
    assert "env.API_TIMEOUT_MS is a JSON number" in files["project"]["error"]
    assert files["project-local"] == {"scope": "project-local", "path": str(tmp_path / "proj" / ".claude" / "settings.local.json"),
                                      "exists": False, "error": None, "sets": {}, "notes": []}
    assert doc["state_file"]["error"] is not None


def test_claude_config_dir(tmp_path: Path, home: Path) -> None:
    cfg = tmp_path / "cfg"
    write(cfg / "settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://cfg"}})
    doc = cc.detect(ctx_for(home, tmp_path, "linux", {"PATH": "", "CLAUDE_CONFIG_DIR": str(cfg)}), root=tmp_path / "root")
    assert doc["base_url"]["source"] == str(cfg / "settings.json")
    assert doc["state_file"]["path"] == str(cfg / ".claude.json")


# --- the combined document and the command ------------------------------------------------------------------


def test_combined_document_survives_a_failing_target(tmp_path: Path, home: Path) -> None:
    def broken(_ctx: TargetContext) -> dict[str, Any]:
        raise DsconfigError("cannot read the registry", "run as your own user")

    ctx = ctx_for(home, tmp_path, "linux", {"PATH": ""})
    doc = detect.detect(ctx, claude_code=lambda c: cc.detect(c, root=tmp_path / "root"), claude_desktop=broken)
    assert doc["claude_code"]["target"] == "claude-code"
    assert doc["claude_desktop"] == {"target": "claude-desktop", "error": "cannot read the registry", "hint": "run as your own user"}
    json.dumps(doc)
    assert "error: cannot read the registry" in detect.render_text(doc)


def test_detect_command_json_contract(run_dsconfig: Any, home: Path, tmp_path: Path) -> None:
    write(home / ".claude" / "settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://x", "ANTHROPIC_AUTH_TOKEN": SECRET}})
    proc = run_dsconfig("detect", "--json", env={"PATH": os.environ["PATH"]})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"claude_code", "claude_desktop"}
    code = doc["claude_code"]
    assert {"target", "platform", "installed", "version", "installs", "settings_files", "state_file", "environment",
            "base_url", "credential", "other_credentials", "models", "cloud_provider"} <= set(code)
    assert code["credential"]["value"] == "sk-…6789" and SECRET not in proc.stdout
    text = run_dsconfig("detect")
    assert text.returncode == 0 and "Claude Code:" in text.stdout and "base URL:   https://x" in text.stdout
    assert SECRET not in text.stdout


def test_version_timeout_kills_grandchildren(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"  # a background child that would outlive a kill of the script alone
    script = program(tmp_path / "claude", f"#!/bin/sh\nsh -c 'echo $$ > {pid_file}; exec sleep 30' &\nsleep 30\n")
    # The timeout leaves the child ample time to start and write its pid; the bound fails a claude_version that
    # waited for the script's 30 s.
    version, problem = returns_within(10, "claude_version of a claude that hangs",
                                      lambda: cc.claude_version(script, {"PATH": os.environ["PATH"]}, timeout=1.0))
    assert version is None and problem is not None
    wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() != "", 5, "the background child's pid")
    child = int(pid_file.read_text())
    wait_until(lambda: process_gone(child), 10, f"the background child (pid {child}) going with the program")
