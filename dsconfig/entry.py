"""The `dsconfig` console script.

`dsconfig key get NAME` runs at every Claude Code start (apiKeyHelper) and `dsconfig env` at every shell
start, so those two are answered here without importing click or anything else a full command needs; every
other command line goes to cli.py. Both paths share the same core functions (actions.py), so they cannot
drift apart.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    fast = _fast_path(args)
    if fast is not None:
        return fast
    from dsconfig.cli import main as cli_main

    return cli_main(args)


def _fast_path(args: list[str]) -> int | None:
    if args in (["--help"], ["-h"]):
        from dsconfig.help_text import TOP_LEVEL_HELP

        sys.stdout.write(TOP_LEVEL_HELP)
        return 0
    if len(args) == 3 and args[:2] == ["key", "get"] and not args[2].startswith("-"):
        return _run(lambda: _key_get(args[2]))
    if args and args[0] == "env":
        parsed = _parse_env_args(args[1:])
        if parsed is not None:
            return _run(lambda: _env(*parsed))
    return None


def _parse_env_args(rest: list[str]) -> tuple[str | None, str | None, bool] | None:
    """`[NAME] [--shell S] [--unset]`; anything else (--help, typos) -> None: let click handle and explain it."""
    name: str | None = None
    shell: str | None = None
    unset = False
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--unset":
            unset = True
        elif arg == "--shell" and i + 1 < len(rest):
            shell = rest[i + 1]
            i += 1
        elif arg.startswith("--shell="):
            shell = arg.split("=", 1)[1]
        elif not arg.startswith("-") and name is None:
            name = arg
        else:
            return None
        i += 1
    from dsconfig.targets.shell import SHELLS

    if shell is not None and shell not in SHELLS:
        return None
    return name, shell, unset


def _key_get(name: str) -> None:
    # The profile's key source decides (keysources.py): profiles.toml is parsed only when it names one, and
    # an `env:` or `command:` profile never imports keyring.
    from dsconfig.keyget import profile_key

    sys.stdout.write(profile_key(name) + "\n")


def _env(name: str | None, shell: str | None, unset: bool) -> None:
    # From the index the last parsing `env` recorded when it still matches the files (envfast.py), which
    # loads neither the profile model nor tomllib; else parse, print, and record for the next shell.
    from dsconfig import envfast

    answer = envfast.answer(name, shell, unset)
    if answer is not None:
        sys.stdout.write(answer)
        return
    from dsconfig import actions

    sys.stdout.write(actions.env(name, shell=shell, unset=unset))
    envfast.remember(name)


def _run(action: object) -> int:
    from dsconfig.errors import DsconfigError

    try:
        action()  # type: ignore[operator]
    except DsconfigError as err:
        from dsconfig import output

        output.error(err.render())  # cleaned like every other line: registered keys masked, controls escaped
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    return 0
