"""`dsconfig status` and `dsconfig doctor`: JSON contracts, drift, and every doctor finding produced for real.

Each machine is a temp home with its own PATH, a project folder as the current directory, and a temp root for
system-wide files (Claude Code's managed settings, Claude Desktop's managed file, installs and /proc), so
every conflict is made by writing the file or exporting the variable that causes it.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fakes.server import DEFAULT_KEY, FakeDeepSeek
from helpers import MemoryKeyring, keyring_backend

from dsconfig import actions, doctor, status, switch
from dsconfig.context import AppContext
from dsconfig.doctor import Finding
from dsconfig.errors import KeyringUnavailableError
from dsconfig.journal import Journal
from dsconfig.profiles import ProfileStore
from dsconfig.targets import claude_desktop
from dsconfig.targets.context import TargetContext

KEY = DEFAULT_KEY  # made up; not shaped like a real key
MASKED = "sk-…0001"
OTHER = "sk-test-hand-made-9876"
DOCTOR_CHECKS = ["dsconfig", "claude-code", "claude-desktop", "keyring", "profile", "environment", "startup-files",
                 "managed-settings", "project-settings", "onboarding", "inline-keys", "stale-variables", "drift", "applied-lag",
                 "verify"]




@dataclass
class Machine:
    home: Path
    proj: Path
    root: Path
    bin: Path
    keyring: MemoryKeyring
    actx: actions.Context
    tctx: TargetContext

    @property
    def system(self) -> claude_desktop.System:
        # no dpkg/rpm answers, no Windows registry: only what the test lays out under root counts
        return claude_desktop.System(root=self.root, run=lambda _argv: None, registry=list)

    @property
    def settings(self) -> Path:
        return self.home / ".claude" / "settings.json"

    def exporting(self, **env: str) -> Machine:
        return replace(self, tctx=replace(self.tctx, environ={**self.tctx.environ, **env}))

    def add(self, name: str = "ds", url: str = "https://api.deepseek.com/anthropic", key: str | None = KEY) -> None:
        actions.profile_add(name, "deepseek", base_url=url, key=key, ctx=self.actx)

    def use(self, name: str = "ds", **kw: Any) -> switch.SwitchResult:
        return switch.run_use(switch.UseRequest(name, **kw), AppContext.of(self.actx, replace(self.tctx, root=self.root)))

    def status(self) -> dict[str, Any]:
        return status.status_doc(actx=self.actx, tctx=self.tctx, root=self.root, system=self.system)

    def doctor(self, *, verify: bool = False) -> doctor.Report:
        return doctor.run(actx=self.actx, tctx=self.tctx, root=self.root, system=self.system, verify=verify, timeout=10)

    def findings(self, check: str, *, verify: bool = False) -> list[Finding]:
        return [f for f in self.doctor(verify=verify).findings if f.check == check]

    def write(self, path: Path, text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def write_json(self, path: Path, doc: Any) -> Path:
        return self.write(path, json.dumps(doc, indent=2) + "\n")

    def fake_claude(self, script: str = 'echo "2.1.89 (Claude Code)"') -> Path:
        program = self.write(self.bin / "claude", f"#!/bin/sh\n{script}\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
        return program


@pytest.fixture
def m(tmp_path: Path, home: Path) -> Machine:
    memory_keyring = MemoryKeyring()
    proj, root, bin_dir = tmp_path / "proj", tmp_path / "root", tmp_path / "bin"
    for folder in (proj, root, bin_dir):
        folder.mkdir()
    actx = actions.Context(store=ProfileStore(), secrets=memory_keyring, environ={})
    tctx = TargetContext(home=home, platform="linux", cwd=proj, journal=Journal(), dsconfig_command=("/opt/bin/dsconfig",),
                         environ={"HOME": str(home), "PATH": str(bin_dir), "SHELL": "/bin/bash"})
    return Machine(home, proj, root, bin_dir, memory_keyring, actx, tctx)


def severities(findings: list[doctor.Finding]) -> list[str]:
    return [f.severity for f in findings]


def only(findings: list[doctor.Finding], severity: str) -> doctor.Finding:
    matching = [f for f in findings if f.severity == severity]
    assert len(matching) == 1, findings
    return matching[0]


# --- status -------------------------------------------------------------------------------------------


def test_status_json_contract(m: Machine) -> None:
    m.add()
    m.use()
    m.write_json(m.proj / ".claude" / "settings.json", {"env": {"ANTHROPIC_MODEL": "glm-4.7"}})
    m.write_json(m.home / ".config" / "Claude" / "claude_desktop_config.json", {"mcpServers": {}})
    m.use(target="claude-desktop")
    m.settings.write_text(m.settings.read_text().replace("https://api.deepseek.com/anthropic", "https://elsewhere.example/anthropic"))
    doc = m.exporting(ANTHROPIC_BASE_URL="https://api.deepseek.com/anthropic", ANTHROPIC_API_KEY=KEY).status()
    text = json.dumps(doc, ensure_ascii=False)
    assert KEY not in text and MASKED in text
    assert set(doc) == {"profiles_error", "interrupted_switch", "applied_lag", "active_profile", "project_profile", "claude_code",
                        "claude_desktop", "shell"}
    assert set(doc["active_profile"]) == {"name", "provider", "base_url", "key", "key_error", "key_source"}
    assert doc["active_profile"] == {"name": "ds", "provider": "deepseek", "base_url": "https://api.deepseek.com/anthropic",
                                     "key": MASKED, "key_error": None, "key_source": "keyring"}
    assert doc["project_profile"] is None  # nothing applied with `use --scope project` in this folder
    code = doc["claude_code"]
    assert set(code) == {"cwd", "effective", "files"}
    assert set(code["effective"]) == {"base_url", "credential", "other_credentials", "models", "cloud_provider"}
    assert [f["scope"] for f in code["files"]] == ["project-local", "project", "user"]
    for f in code["files"]:
        assert set(f) == {"scope", "path", "exists", "error", "sets", "profile", "state", "drift", "notes"}
    user = code["files"][2]
    assert user["state"] == "drifted" and user["profile"] == "ds"
    assert user["drift"] == [{"key": "env.ANTHROPIC_BASE_URL", "wrote": "https://api.deepseek.com/anthropic",
                              "now": "https://elsewhere.example/anthropic", "change": "changed"}]
    assert code["files"][1]["state"] == "other" and code["files"][0]["state"] == "none"
    assert code["effective"]["models"]["ANTHROPIC_MODEL"] == {"value": "glm-4.7", "source": str(m.proj / ".claude" / "settings.json")}
    desktop = doc["claude_desktop"]
    assert set(desktop) == {"installed", "library", "applied_id", "applied_name", "profile", "applied", "credential",
                            "managed", "running", "state", "drift", "problems"}
    assert desktop["state"] == "applied" and desktop["profile"] == "ds" and desktop["credential"] == "helper-script"
    shell = doc["shell"]
    assert set(shell) == {"shell", "variables", "profile", "state", "differs"}
    assert shell["variables"] == {"ANTHROPIC_API_KEY": MASKED, "ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic"}
    assert shell["profile"] == "ds" and shell["state"] == "differs"  # the models and the other variables are missing
    assert "ANTHROPIC_MODEL" in shell["differs"] and "ANTHROPIC_API_KEY" not in shell["differs"]
    assert "written by dsconfig, CHANGED since" in status.render_text(doc)


def test_status_drift_kinds_and_a_hashed_inline_key(m: Machine) -> None:
    m.add()
    m.use(inline_key=True)
    assert m.status()["claude_code"]["files"][-1]["state"] == "applied"
    doc = json.loads(m.settings.read_text())
    doc["env"]["ANTHROPIC_AUTH_TOKEN"] = OTHER  # someone pasted another key
    doc["env"]["ANTHROPIC_SMALL_FAST_MODEL"] = "old-model"  # another switcher wrote its stale variable back
    del doc["env"]["ANTHROPIC_MODEL"]
    m.write_json(m.settings, doc)
    drift = {d["key"]: d for d in m.status()["claude_code"]["files"][-1]["drift"]}
    assert drift["env.ANTHROPIC_AUTH_TOKEN"] == {"key": "env.ANTHROPIC_AUTH_TOKEN", "wrote": "(a key, stored as a hash)",
                                                 "now": "sk-…9876", "change": "changed"}
    assert drift["env.ANTHROPIC_SMALL_FAST_MODEL"]["change"] == "added"
    assert drift["env.ANTHROPIC_MODEL"]["change"] == "removed" and drift["env.ANTHROPIC_MODEL"]["now"] is None
    assert OTHER not in json.dumps(m.status())
    m.settings.unlink()
    assert m.status()["claude_code"]["files"][-1]["drift"] == [{"key": None, "wrote": None, "now": None, "change": "file-removed"}]


def test_status_shell_matches_what_dsconfig_env_sets(m: Machine) -> None:
    m.add()
    m.actx.store.set_active("ds")
    exported = {k: v for k, v in actions.resolved_profile("ds", m.actx).process_env(KEY).items() if v is not None}
    assert m.exporting(**exported).status()["shell"]["state"] == "matches"
    stale = m.exporting(**exported, ANTHROPIC_SMALL_FAST_MODEL="x").status()["shell"]
    assert stale["state"] == "differs" and stale["differs"] == ["ANTHROPIC_SMALL_FAST_MODEL"]
    other = m.exporting(**{**exported, "ANTHROPIC_AUTH_TOKEN": OTHER}).status()["shell"]
    assert other["differs"] == ["ANTHROPIC_AUTH_TOKEN"]
    assert m.status()["shell"] == {"shell": "bash", "variables": {}, "profile": None, "state": "none", "differs": []}


def test_status_cli_is_json_and_uses_no_network(run_dsconfig: Any, tmp_path: Path) -> None:
    probe = ("import sys, json; from dsconfig.cli import main; code = main(['status', '--json']); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'anthropic', 'questionary')), file=sys.stderr); "
             "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) == {"profiles_error", "interrupted_switch", "applied_lag", "active_profile", "project_profile",
                                            "claude_code", "claude_desktop", "shell"}
    assert proc.stderr.strip().splitlines()[-1] == "[]"


# --- doctor: the contract -------------------------------------------------------------------------------


def test_doctor_json_contract(m: Machine) -> None:
    report = m.doctor()
    doc = report.to_doc()
    json.dumps(doc)
    assert set(doc) == {"ok", "exit_code", "counts", "findings", "verify"}
    assert set(doc["counts"]) == {"ok", "info", "warning", "error"} and sum(doc["counts"].values()) == len(doc["findings"])
    for f in doc["findings"]:
        assert set(f) == {"check", "severity", "message", "fix", "where"}
        assert f["severity"] in doctor.SEVERITIES
        assert f["fix"] or f["severity"] in ("ok", "info")  # every problem names its fix
    order = [f["check"] for f in doc["findings"]]
    assert sorted(set(order), key=order.index) == [c for c in DOCTOR_CHECKS if c in order]
    assert doc["verify"] is None and order[-1] == "verify"
    assert (doc["ok"], doc["exit_code"]) == (not any(f["severity"] == "error" for f in doc["findings"]), 0 if doc["ok"] else 1)


def test_doctor_healthy_machine_exits_0_and_verifies(m: Machine, fake_deepseek: FakeDeepSeek) -> None:
    m.fake_claude()
    m.add(url=fake_deepseek.base_url)
    m.use()
    report = m.doctor(verify=True)
    assert report.ok and report.exit_code == 0, doctor.render_text(report)
    assert [f for f in report.findings if f.severity in ("warning", "error")] == []
    assert only([f for f in report.findings if f.check == "verify"], "ok").message.startswith(f"test call to {fake_deepseek.base_url}")
    verified = report.to_doc()["verify"]
    assert verified is not None and verified["profiles"][0]["ok"] is True
    assert "0 error(s), 0 warning(s)" in doctor.render_text(report)


# --- doctor: each finding, for real ---------------------------------------------------------------------


def test_claude_code_installs(m: Machine) -> None:
    missing = only(m.findings("claude-code"), "warning")
    assert "not installed" in missing.message and "npm install -g @anthropic-ai/claude-code" in (missing.fix or "")
    m.fake_claude()
    ok = only(m.findings("claude-code"), "ok")
    assert "Claude Code 2.1.89" in ok.message and "runs first on PATH" in ok.message
    m.fake_claude("echo boom >&2; exit 3")
    broken = only(m.findings("claude-code"), "error")
    assert "broken" in broken.message and "exited with status 3" in broken.message and "reinstall" in (broken.fix or "")


def test_keyring_backend_and_its_failure(m: Machine) -> None:
    assert only(m.findings("keyring"), "ok").message == "OS keyring usable (memory)"

    class Broken(MemoryKeyring):
        def describe(self) -> str:
            raise KeyringUnavailableError("no OS keyring is available", "install gnome-keyring")

    m.actx = actions.Context(store=m.actx.store, secrets=Broken(), environ={})
    found = only(m.findings("keyring"), "error")
    assert found.message == "no OS keyring is available" and found.fix == "install gnome-keyring"


def test_keyring_null_backend_is_an_error(m: Machine) -> None:
    from dsconfig.credentials import KeyringStore

    m.actx = actions.Context(store=m.actx.store, secrets=KeyringStore(keyring_backend("null")), environ={})
    found = only(m.findings("keyring"), "error")
    assert "discards every key" in found.message and "PYTHON_KEYRING_BACKEND" in (found.fix or "")


def test_null_keyring_backend_is_refused_when_storing(run_dsconfig: Any) -> None:
    proc = run_dsconfig("profile", "add", "ds", "--provider", "deepseek", "--api-key-stdin", input="sk-test-null-0001",
                        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert proc.returncode == 5, proc.stderr


def test_profile_findings(m: Machine) -> None:
    assert only(m.findings("profile"), "info").fix == "dsconfig setup"
    m.add(key=None)
    assert only(m.findings("profile"), "info").fix == "dsconfig use ds"
    m.use()
    no_key = only(m.findings("profile"), "error")
    assert "no API key stored" in no_key.message and no_key.fix == "dsconfig key set ds"
    m.keyring.set("ds", KEY)
    # `profile rm` refuses an applied profile, but profiles.toml can be edited by hand (or shared between
    # machines): the settings still run `dsconfig key get ds` for a profile that is gone.
    m.actx.store.remove("ds")
    orphan = only(m.findings("profile"), "error")
    assert "no profile 'ds'" in orphan.message and orphan.where == str(m.settings)


def test_environment_findings(m: Machine) -> None:
    assert only(m.findings("environment"), "ok")
    m.add()
    m.use()
    token = m.exporting(ANTHROPIC_AUTH_TOKEN=OTHER)  # use's "" in settings.json overrides it for Claude Code
    found = only(token.findings("environment"), "info")
    assert "overrides it" in found.message and "sk-…9876" in found.message and OTHER not in found.message
    headers = only(m.exporting(ANTHROPIC_CUSTOM_HEADERS="X-Team: a").findings("environment"), "warning")
    assert "on top of the profile" in headers.message and headers.fix and headers.fix.startswith("unset ANTHROPIC_CUSTOM_HEADERS")
    bedrock = only(m.exporting(CLAUDE_CODE_USE_BEDROCK="1").findings("environment"), "error")
    assert "cloud provider" in bedrock.message
    exported = {k: v for k, v in actions.resolved_profile("ds", m.actx).process_env(KEY).items() if v is not None}
    assert "profile ds's" in only(m.exporting(**exported).findings("environment"), "ok").message


def test_startup_file_findings(m: Machine) -> None:
    m.add()
    m.actx.store.set_active("ds")
    bashrc = m.write(m.home / ".bashrc", f"# export ANTHROPIC_API_KEY=commented-out\nexport ANTHROPIC_AUTH_TOKEN='{OTHER}'\n"
                     'eval "$(dsconfig env ds)"\n')
    m.write(m.home / ".zshrc", 'export ANTHROPIC_BASE_URL="https://api.moonshot.ai/anthropic"\nexport ANTHROPIC_API_KEY=$(pass show ai)\n')
    m.write(m.home / ".config" / "fish" / "config.fish", "set -gx ANTHROPIC_MODEL kimi-k2\n")
    m.write(m.home / ".config" / "powershell" / "Microsoft.PowerShell_profile.ps1", "$env:ANTHROPIC_SMALL_FAST_MODEL = 'x'\n")
    found = {f.where: f for f in m.findings("startup-files")}
    key = found[f"{bashrc}:2"]
    assert key.severity == "warning" and "plain text (sk-…9876)" in key.message and OTHER not in key.message
    assert key.fix and key.fix.startswith("dsconfig setup") and f"line 2 of {bashrc}" in key.fix
    # A loader without --shell leaves the syntax to a guess: noted, with the exact --shell to add.
    assert found[f"{bashrc}:3"].severity == "info" and "--shell bash" in (found[f"{bashrc}:3"].fix or "")
    assert f"{bashrc}:1" not in found
    assert "ANTHROPIC_BASE_URL" in found[f"{m.home / '.zshrc'}:1"].message
    assert "plain text" not in found[f"{m.home / '.zshrc'}:2"].message  # computed by the shell: not a literal key
    assert found[f"{m.home / '.config' / 'fish' / 'config.fish'}:1"].severity == "warning"
    assert "ANTHROPIC_SMALL_FAST_MODEL" in found[f"{m.home / '.config' / 'powershell' / 'Microsoft.PowerShell_profile.ps1'}:1"].message


def test_managed_settings_findings(m: Machine) -> None:
    managed = m.write_json(m.root / "etc" / "claude-code" / "managed-settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://proxy.corp"}})
    before = only(m.findings("managed-settings"), "warning")
    assert before.where == str(managed) and "ANTHROPIC_BASE_URL" in before.message
    m.add()
    m.use()
    applied = only(m.findings("managed-settings"), "error")
    assert "beat every other settings file" in applied.message and "administrator" not in applied.message
    assert "ask whoever manages this machine" in (applied.fix or "")
    managed.write_text("{not json")
    assert "cannot be read" in only(m.findings("managed-settings"), "error").message


def test_project_settings_findings(m: Machine) -> None:
    m.add()
    m.use()
    shared = m.write_json(m.proj / ".claude" / "settings.json", {"env": {"ANTHROPIC_BASE_URL": "https://open.bigmodel.cn/api/anthropic"}})
    found = only(m.findings("project-settings"), "warning")
    assert found.where == str(shared) and found.fix and found.fix.startswith("dsconfig use ds --scope project")
    m.use(scope="project")
    assert "dsconfig use --scope project" in only(m.findings("project-settings"), "info").message


def test_onboarding_findings(m: Machine) -> None:
    m.add()
    m.actx.store.set_active("ds")
    missing = only(m.findings("onboarding"), "warning")
    assert "first-run screens" in missing.message and missing.fix and missing.fix.startswith("dsconfig use ds")
    m.use()
    assert only(m.findings("onboarding"), "ok")
    (m.home / ".claude.json").write_text('{"hasCompletedOnboarding": true,')
    assert "damaged" in only(m.findings("onboarding"), "error").message


def test_inline_key_findings(m: Machine) -> None:
    m.write_json(m.settings, {"env": {"ANTHROPIC_BASE_URL": "https://api.deepseek.com/anthropic", "ANTHROPIC_AUTH_TOKEN": OTHER}})
    m.write_json(m.proj / ".claude" / "settings.local.json", {"env": {"ANTHROPIC_API_KEY": OTHER}})
    found = {f.where: f for f in m.findings("inline-keys")}
    user = found[str(m.settings)]
    assert user.severity == "warning" and "sk-…9876" in user.message and OTHER not in user.message
    assert user.fix and user.fix.startswith("dsconfig setup") and "adopts" in user.fix
    project = found[str(m.proj / ".claude" / "settings.local.json")]
    assert project.severity == "warning" and "remove env.ANTHROPIC_API_KEY" in (project.fix or "")
    m.settings.unlink()
    (m.proj / ".claude" / "settings.local.json").unlink()
    m.add()
    m.use(inline_key=True)
    assert "--inline-key" in only(m.findings("inline-keys"), "info").message
    entry = m.write_json(m.home / ".config" / "Claude-3p" / "configLibrary" / "0b7c4d8e-0000-4000-8000-000000000001.json",
                         {"inferenceProvider": "gateway", "inferenceGatewayApiKey": OTHER})
    desktop = next(f for f in m.findings("inline-keys") if f.where == str(entry))
    assert desktop.severity == "warning" and "--target claude-desktop" in (desktop.fix or "")


def test_claude_desktop_findings(m: Machine) -> None:
    assert only(m.findings("claude-desktop"), "info").message.startswith("Claude Desktop is not installed")
    (m.root / "opt" / "Claude").mkdir(parents=True)
    proc = m.root / "proc" / "4242"
    m.write(proc / "cmdline", "/opt/Claude/claude-desktop\0--no-sandbox\0")
    managed = m.write_json(m.root / "etc" / "claude-desktop" / "managed-settings.json", {"inferenceProvider": "gateway"})
    found = m.findings("claude-desktop")
    assert severities(found) == ["ok", "info", "warning"]
    assert "running" in found[1].message and "quit it completely" in (found[1].fix or "")
    assert found[2].where == str(managed) and "managed source" in found[2].message


def test_stale_variable_findings(m: Machine) -> None:
    m.write_json(m.settings, {"env": {"ANTHROPIC_SMALL_FAST_MODEL": "claude-3-5-haiku", "CLAUDE_CODE_USE_VERTEX": "1"},
                              "apiKeyHelper": "/opt/bin/dsconfig key get ds"})
    found = m.exporting(ANTHROPIC_AUTH_TOKEN=OTHER).findings("stale-variables")
    by = {f.severity: f for f in found}
    assert set(by) == {"warning", "error"} and len(found) == 3
    assert "CLAUDE_CODE_USE_VERTEX is on" in by["error"].message
    stale, creds = [f for f in found if f.severity == "warning"]
    assert "ANTHROPIC_SMALL_FAST_MODEL=claude-3-5-haiku" in stale.message and stale.where == str(m.settings)
    assert "several credentials" in creds.message and "apiKeyHelper" in creds.message
    m.settings.unlink()
    exported = only(m.exporting(ANTHROPIC_SMALL_FAST_MODEL="x").findings("stale-variables"), "warning")
    assert exported.where == "environment" and exported.fix and exported.fix.startswith("unset ANTHROPIC_SMALL_FAST_MODEL")


def test_drift_finding(m: Machine) -> None:
    m.add()
    m.use()
    assert only(m.findings("drift"), "ok")
    doc = json.loads(m.settings.read_text())
    doc["env"]["ANTHROPIC_BASE_URL"] = "https://elsewhere.example"
    m.write_json(m.settings, doc)
    found = only(m.findings("drift"), "warning")
    assert "env.ANTHROPIC_BASE_URL now holds 'https://elsewhere.example'" in found.message
    assert found.fix and found.fix.startswith("dsconfig use ds ") and "dsconfig off" in found.fix


def test_verify_findings(m: Machine, fake_deepseek: FakeDeepSeek) -> None:
    assert "no active profile" in only(m.findings("verify", verify=True), "info").message
    assert "skipped (--no-verify)" in only(m.findings("verify"), "info").message
    m.add(url=fake_deepseek.base_url)
    m.actx.store.set_active("ds")
    fake_deepseek.keys = {OTHER}
    report = m.doctor(verify=True)
    failed = only([f for f in report.findings if f.check == "verify"], "error")
    assert "auth" in failed.message and failed.fix and "dsconfig key set ds" in failed.fix
    verified = report.to_doc()["verify"]
    assert report.exit_code == 1 and verified is not None and verified["profiles"][0]["ok"] is False


# --- the commands ---------------------------------------------------------------------------------------


def test_doctor_cli_exit_codes_and_json(run_dsconfig: Any) -> None:
    proc = run_dsconfig("doctor", "--json", "--no-verify")  # no D-Bus session in tests: no keyring
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["exit_code"] == 1 and any(f["check"] == "keyring" and f["severity"] == "error" for f in doc["findings"])
    text = run_dsconfig("doctor", "--no-verify")
    assert text.returncode == 1 and "ERROR  keyring" in text.stdout and "exit status 1" in text.stdout


@pytest.mark.secret_service
def test_doctor_cli_healthy_exits_0(secret_service: Any, fake_deepseek: FakeDeepSeek, run_dsconfig: Any) -> None:
    added = run_dsconfig("profile", "add", "doc-ok", "--provider", "deepseek", "--base-url", fake_deepseek.base_url,
                         "--api-key-stdin", input=KEY)
    assert added.returncode == 0, added.stderr
    try:
        assert run_dsconfig("use", "doc-ok").returncode == 0
        proc = run_dsconfig("doctor", "--json", "--timeout", "10", env={"PATH": os.environ["PATH"]})
        doc = json.loads(proc.stdout)
        problems = [f for f in doc["findings"] if f["severity"] == "error"]
        assert proc.returncode == 0 and problems == [], proc.stdout
        assert doc["verify"]["profiles"][0]["ok"] is True
        shown = run_dsconfig("status")
        assert shown.returncode == 0 and "active profile: doc-ok" in shown.stdout and "written by dsconfig, unchanged" in shown.stdout
    finally:
        subprocess.run(["secret-tool", "clear", "service", "dsconfig", "username", "doc-ok"], capture_output=True, timeout=20, check=False)


def test_status_says_profiles_toml_cannot_be_read(run_dsconfig: Any) -> None:
    # Second outside tester: a broken profiles.toml showed "active profile: None (None, None, key ...)".
    path = Path(os.environ["DSCONFIG_HOME"]) / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('schema_version = 1\nactive = "a"\nactive = "b"\n')
    text = run_dsconfig("status").stdout
    assert "profiles: cannot be read:" in text and "profiles.toml:3:" in text and "None" not in text, text
    doc = json.loads(run_dsconfig("status", "--json").stdout)
    assert doc["active_profile"] is None and "profiles.toml:3:" in doc["profiles_error"]


def test_status_after_off_kept_a_hand_edit_says_kept_not_applied(run_dsconfig: Any, home: Path) -> None:
    # Second outside tester: after `off` kept a value changed by hand, status said "written by dsconfig,
    # unchanged (profile a)" and --json state "applied", though no profile was in use any more.
    assert run_dsconfig("profile", "add", "a", "--provider", "deepseek", "--key-source", "env:K").returncode == 0
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text('{"env": {"ANTHROPIC_MODEL": "orig"}}')
    assert run_dsconfig("use", "a").returncode == 0
    doc = json.loads(settings.read_text())
    doc["env"]["ANTHROPIC_MODEL"] = "handmade"
    settings.write_text(json.dumps(doc))
    assert run_dsconfig("off").returncode == 0
    files = json.loads(run_dsconfig("status", "--json").stdout)["claude_code"]["files"]
    mine = next(f for f in files if f["path"] == str(settings))
    assert (mine["state"], mine["profile"]) == ("kept", None), mine
    assert "off --force" in run_dsconfig("status").stdout


def test_no_lag_is_reported_for_a_project_folder_that_is_gone(run_dsconfig: Any, tmp_path: Path) -> None:
    # First outside tester: after `rm -rf` of a project folder dsconfig had switched, status and doctor said its
    # settings lag the profile, with a fix that cds into the folder that no longer exists.
    import shutil

    assert run_dsconfig("profile", "add", "b", "--provider", "openrouter", "--key-source", "env:K").returncode == 0
    project = tmp_path / "p"
    project.mkdir()
    assert run_dsconfig("use", "b", "--scope", "project", cwd=project).returncode == 0
    shutil.rmtree(project)
    assert json.loads(run_dsconfig("status", "--json", cwd=tmp_path).stdout)["applied_lag"] == []
    findings = json.loads(run_dsconfig("doctor", "--no-verify", "--json", cwd=tmp_path).stdout)["findings"]
    assert [f["severity"] for f in findings if f["check"] == "applied-lag"] == ["ok"], findings
