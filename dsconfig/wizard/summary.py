"""What `dsconfig setup` says at the end: what it did and what to run next, and the line that loads the profile
into a shell's startup file (the file named by targets/shell_startup.py)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from dsconfig.targets.context import TargetContext
from dsconfig.templates import TIERS
from dsconfig.wizard.options import CLAUDE_DESKTOP, SetupResult


def models_summary(models: Mapping[str, str]) -> str:
    """`deepseek-v4-pro[1m] (main, opus, sonnet), deepseek-v4-flash (haiku, subagent)`: short enough for a line."""
    tiers: dict[str, list[str]] = {}
    for tier in TIERS:
        if models.get(tier):
            tiers.setdefault(models[tier], []).append(tier)
    return ", ".join(f"{model} ({', '.join(names)})" for model, names in tiers.items()) or "none set (the endpoint's default)"


def shell_kind(tctx: TargetContext) -> str:
    """The shell running setup (its parent process where that is known, else $SHELL's): the startup file's."""
    from dsconfig.targets import shell

    return shell.choose_shell(tctx.environ, tctx.platform)[0]


def shell_line(name: str, kind: str, command: Sequence[str] = ("dsconfig",)) -> str:
    """The line that loads profile `name` into a shell (for its startup file).

    It names `--shell`, so the syntax never depends on a guess at startup, and runs dsconfig by its absolute
    path (as apiKeyHelper does), so it does not depend on PATH while the startup file runs either.
    """
    if kind == "powershell":
        program = " ".join("'" + part.replace("'", "''") + "'" for part in command)
        return f"& {program} env {name} --shell powershell | Invoke-Expression"
    if kind == "cmd":
        import subprocess

        return f"for /f \"delims=\" %L in ('{subprocess.list2cmdline([*command, 'env', name, '--shell', 'cmd'])}') do @%L"
    argv = shlex.join([*command, "env", name, "--shell", kind])
    return f"{argv} | source" if kind == "fish" else f'eval "$({argv})"'


def summary_lines(result: SetupResult, tctx: TargetContext | None = None) -> list[str]:
    """What setup did and what to run next (stderr)."""
    from dsconfig import switch

    t = tctx or TargetContext()
    if not result.changed:
        lines = [f"nothing changed: profile {result.profile!r} ({result.provider}, {result.base_url}) was already set up this way"]
        lines.append({"passed": "test call: passed", "failed": "test call: FAILED (`dsconfig verify` re-checks)",
                      "skipped": "test call: skipped"}[result.verified])
        if result.shell_line:
            lines.append(f"for this shell and the SDKs, the line for your startup file:\n    {result.shell_line}")
        return lines
    lines = [f"{'created' if result.created else 'updated'} profile {result.profile!r} ({result.provider}, {result.base_url})"]
    if result.key_source.startswith(("env:", "command:")):
        lines.append(f"key source: {result.key_source} (dsconfig stores no key for this profile)")
    elif result.key_stored:
        where = "the Linux kernel keyring" if result.key_source == "kernel" else "the OS keyring"
        lines.append(f"stored the key {result.key} in {where}")
    else:
        lines.append(f"kept the stored key {result.key}")
    if result.adopted_from:
        lines.append(f"adopted the setup found in {result.adopted_from}")
        if result.adopted_from == "environment":
            lines.append("your shell still exports the old variables: remove those lines from your shell's startup "
                         "file (`dsconfig doctor` names them)")
    for r in result.switches:
        lines += [line for line in switch.summary(r) if not line.startswith("nothing to change")]
    lines.append({"passed": "test call: passed", "failed": "test call: FAILED (continued anyway; `dsconfig verify` re-checks)",
                  "skipped": "test call: skipped"}[result.verified])
    if result.shell_line:
        from dsconfig.targets.shell_startup import startup_file_for

        where = startup_file_for(shell_kind(t), t.home, t.environ, t.platform)
        lines.append(f"for this shell and the SDKs, add this line to {where}:\n    {result.shell_line}")
    lines += ["", "next:", f"  switch profiles:  dsconfig use {result.profile}", f"  undo:             {_undo_command(result)}",
              "  check:            dsconfig status   (and `dsconfig doctor` when something looks wrong)"]
    return lines


def _undo_command(result: SetupResult) -> str:
    targets = {t for r in result.switches for t in r.targets}
    project = any(r.scope == "project" for r in result.switches)
    if project:  # Desktop has no project scope: `off --target all --scope project` would skip it
        return "dsconfig off --scope project" + ("; dsconfig off --target claude-desktop" if CLAUDE_DESKTOP in targets else "")
    return "dsconfig off" + (" --target all" if CLAUDE_DESKTOP in targets else "")
