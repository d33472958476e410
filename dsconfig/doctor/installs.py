"""Doctor checks of what is installed: dsconfig itself, Claude Code, Claude Desktop."""

from __future__ import annotations

import sys

from dsconfig import __version__
from dsconfig.doctor.findings import Finding
from dsconfig.doctor.machine import Machine

INSTALL_FIX = "npm install -g @anthropic-ai/claude-code   (or the native installer: curl -fsSL https://claude.ai/install.sh | bash)"


def check_dsconfig(m: Machine) -> list[Finding]:
    return [Finding("dsconfig", "info", f"dsconfig {__version__} on Python {sys.version.split()[0]}; profiles in "
                    f"{m.actx.store.path}, journal and backups in {m.tctx.journal.path.parent}")]


def check_claude_code(m: Machine) -> list[Finding]:
    from dsconfig.targets import claude_code

    doc = claude_code.detect(m.tctx, root=m.root)
    installs = doc["installs"]
    if not installs:
        return [Finding("claude-code", "warning", "Claude Code (`claude`) is not installed or not found", INSTALL_FIX)]
    out = []
    for i in installs:
        where = f"{i['path']} ({i['kind']}{', runs first on PATH' if i['active'] else ''})"
        if i["error"]:
            out.append(Finding("claude-code", "error", f"`claude` at {where} is broken: {i['error']}",
                               f"reinstall it: {INSTALL_FIX}", i["path"]))
        else:
            out.append(Finding("claude-code", "ok", f"Claude Code {i['version']} at {where}", None, i["path"]))
    versions = {i["version"] for i in installs if i["version"]}
    if len(versions) > 1:
        first = next((i for i in installs if i["active"]), installs[0])
        out.append(Finding("claude-code", "info", f"{len(installs)} installs of different versions; `claude` runs "
                           f"{first['path']}", "remove the ones you do not use (`which -a claude` lists them)"))
    return out


def check_claude_desktop(m: Machine) -> list[Finding]:
    from dsconfig.targets import claude_desktop as module

    doc = module.detect(m.tctx, system=m.system)
    out = []
    if doc["installed"]:
        out.append(Finding("claude-desktop", "ok", f"Claude Desktop {doc['version'] or '(version unknown)'} installed"))
    else:
        out.append(Finding("claude-desktop", "info", "Claude Desktop is not installed (nothing to configure there)"))
    if doc["running"]:
        out.append(Finding("claude-desktop", "info", "Claude Desktop is running: it reads its configuration only when "
                           "it starts, and writes its settings when it quits",
                           "after `dsconfig use NAME --target claude-desktop`, quit it completely and open it again"))
    for managed in doc["managed"]:
        st = module.status(m.tctx, system=m.system)
        severity = "error" if st["dsconfig_entry_applied"] else "warning"
        out.append(Finding("claude-desktop", severity, f"Claude Desktop is configured by a managed source "
                           f"({managed['path']}); it wins over the local config library dsconfig writes",
                           "ask whoever manages this computer to change or remove it; dsconfig does not write it",
                           managed["path"]))
    return out
