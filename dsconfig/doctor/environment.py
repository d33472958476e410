"""Doctor checks of the shell: variables exported here, and the startup files that export them to every new
shell (read through targets/shell_startup.py, the same lines `dsconfig off` names)."""

from __future__ import annotations

from dsconfig import status, vocab
from dsconfig.credentials import mask
from dsconfig.doctor.findings import Finding
from dsconfig.doctor.machine import Machine

KEY_VARS = vocab.KEY_VARS


def check_environment(m: Machine) -> list[Finding]:
    from dsconfig.targets import claude_code

    exported = claude_code.environment_routing(m.tctx.environ)
    if not exported:
        return [Finding("environment", "ok", "no ANTHROPIC_* (or cloud-provider) variables exported")]
    if m.resolved is not None and not status.differs_from_profile(m.tctx.environ, m.resolved, m.key):
        return [Finding("environment", "ok", f"the exported variables are profile {m.resolved.name}'s (dsconfig env)")]
    out = []
    for var, shown in exported.items():
        layer = m.layer_setting(var)
        text = f"{var}={shown} is exported in this shell"
        fix = f"{m.unset(var)}   (and remove it from your shell's startup file: see startup-files)"
        if var in claude_code.CLOUD_VARS and m.effective.get("cloud_provider") == var:
            out.append(Finding("environment", "error", text + ": Claude Code talks to that cloud provider, not to "
                               "the base URL", fix, "environment"))
        elif layer is not None:
            out.append(Finding("environment", "info", text + f"; for Claude Code {layer.path} overrides it (the SDKs "
                               "and other programs still use it)", fix, "environment"))
        elif var in KEY_VARS and m.applied:
            out.append(Finding("environment", "warning", text + ": Claude Code sends it beside the profile's key, so "
                               "the provider may see another key", fix, "environment"))
        else:
            severity = "warning" if m.applied else "info"
            out.append(Finding("environment", severity, text + ": no settings file overrides it, so Claude Code uses "
                               "it" + (" on top of the profile" if m.applied else ""), fix, "environment"))
    return out


def _routes(var: str) -> bool:
    from dsconfig.targets import claude_code

    return var.startswith("ANTHROPIC_") or var in claude_code.ROUTING_VARS


def check_startup_files(m: Machine) -> list[Finding]:
    from dsconfig.targets.shell_startup import StartupLoader, StartupUnreadable, scan_startup_files

    out = []
    for found in scan_startup_files(_routes, m.tctx.home, m.tctx.environ, m.tctx.platform):
        path, number = found.path, found.line
        where = f"{path}:{number}"
        if isinstance(found, StartupUnreadable):
            out.append(Finding("startup-files", "warning", f"{path} could not be read ({found.reason}): whether it "
                               "exports ANTHROPIC_* variables to every new shell is unknown",
                               f"make {path} a readable regular file again (or remove it)", str(path)))
        elif isinstance(found, StartupLoader):
            if "--shell" not in found.text:
                kind = found.syntax
                out.append(Finding("startup-files", "info", f"{where} loads a profile with `dsconfig env` but names no "
                                   "--shell: the syntax is then guessed (a value quoted for another shell can run as a command)",
                                   f"add --shell {kind} to line {number} of {path} (`dsconfig env NAME --shell {kind}`)", where))
            else:
                out.append(Finding("startup-files", "ok", f"{where} loads a profile with `dsconfig env`", None, where))
        elif found.var in KEY_VARS and found.literal:
            out.append(Finding("startup-files", "warning", f"{where} sets {found.var} to an API key in plain text "
                               f"({mask(found.literal)})", f"dsconfig setup   (moves the key into the keyring), then delete "
                               f"line {number} of {path} and open a new terminal", where))
        else:
            severity = "warning" if m.active or m.applied else "info"
            out.append(Finding("startup-files", severity, f"{where} exports {found.var} for every new shell: it reaches "
                               "Claude Code wherever no settings file overrides it",
                               f"delete line {number} of {path} (profiles set it now: dsconfig use / dsconfig env), "
                               "then open a new terminal", where))
    return out or [Finding("startup-files", "ok", "no shell startup file exports ANTHROPIC_* variables")]
