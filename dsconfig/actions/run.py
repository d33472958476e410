"""`dsconfig env` and `dsconfig exec`: a profile's variables for a shell, or for one command run with them."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from dsconfig import notices
from dsconfig.actions.base import Context, _ctx, _require_profile_key, _tell, in_effect, resolved_profile


def env(name: str | None, *, shell: str | None = None, unset: bool = False, ctx: Context | None = None) -> str:
    """The statements `dsconfig env` prints: set (or unset) the profile's variables for `shell`.

    Raises: NotFoundError (no such profile, or no key), KeyringUnavailableError, KeySourceError."""
    from dsconfig.targets import shell as sh

    c = _ctx(ctx)
    r = resolved_profile(in_effect(name, c), c)
    chosen, note = (shell, None) if shell else sh.choose_shell(c.environ, sys.platform)
    if note and c.notices is not None:
        c.notices.append(notices.note(note))
    elif note:  # entry.py's fast path: no renderer loaded; the note as it always was (kept until entry.py passes a list)
        sys.stderr.write(note + "\n")
    if unset:
        return sh.render_unset(list(r.process_env("-")), chosen)
    variables = r.process_env(_require_profile_key(r.profile, c))
    to_set = {k: v for k, v in variables.items() if v is not None}
    to_unset = [k for k, v in variables.items() if v is None]
    return sh.render_set(to_set, chosen) + (sh.render_unset(to_unset, chosen) if to_unset else "")


def exec_environment(name: str | None, command: list[str], ctx: Context | None = None) -> tuple[list[str], dict[str, str]]:
    """The argv and full environment `dsconfig exec [NAME] -- COMMAND...` runs with (no NAME: the profile in
    effect in this folder, see `in_effect`). The key is only in memory; a managed-settings warning about `claude`
    goes to the caller's notices.

    Raises: NotFoundError (no such profile, or no key), KeyringUnavailableError, KeySourceError."""
    c = _ctx(ctx)
    r = resolved_profile(in_effect(name, c), c)
    environ = dict(c.environ)
    for var, value in r.process_env(_require_profile_key(r.profile, c)).items():
        if value is None:
            environ.pop(var, None)
        else:
            environ[var] = value
    argv = list(command)
    if argv and os.path.basename(argv[0]) in ("claude", "claude.exe"):
        from dsconfig import targets
        from dsconfig.targets.context import TargetContext

        overrides = targets.get("claude-code").run_overrides(r, TargetContext(environ=environ))
        argv = [argv[0], *overrides.argv, *argv[1:]]
        environ.update(overrides.env)
        for notice in overrides.notices:
            _tell(c, notice)
    return argv, environ


def run_exec(argv: list[str], environ: Mapping[str, str]) -> int:
    """Replace this process with the command (POSIX), so signals, stdin/stdout and the exit code are its own.

    Raises: NotFoundError when the command is not on PATH."""
    import shutil

    program = shutil.which(argv[0], path=environ.get("PATH"))
    if program is None:
        from dsconfig.errors import NotFoundError

        raise NotFoundError(f"command not found: {argv[0]}", "check the name, or give its full path")
    if os.name == "nt":  # pragma: no cover - no exec() semantics on Windows
        import subprocess

        return subprocess.call([program, *argv[1:]], env=dict(environ))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(program, argv, dict(environ))
    return 127  # unreachable: execve does not return
