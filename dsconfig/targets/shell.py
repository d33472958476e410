"""Render statements that set or unset environment variables, for a shell to evaluate.

`dsconfig env` runs on every new shell start, so this module is pure (its only I/O: reading the parent
process's name from /proc, a few microseconds) and imports nothing beyond the stdlib modules the CLI loads
anyway.

How each shell consumes the output (startup files always name the shell: the syntax is never guessed there):

    bash:           eval "$(dsconfig env --shell bash)"
    zsh:            eval "$(dsconfig env --shell zsh)"
    fish:           dsconfig env --shell fish | source
    PowerShell:     dsconfig env --shell powershell | Invoke-Expression
    cmd.exe:        for /f "delims=" %L in ('dsconfig env --shell cmd') do @%L
                    (inside a .cmd/.bat file write %%L instead of %L)

Without `--shell` the syntax is the parent process's (the shell evaluating the output runs dsconfig), read
from /proc on Linux; elsewhere, or when the parent is no shell dsconfig knows, it is guessed from `$SHELL` (the
login shell, which need not be the one running) and a note on stderr names `--shell`: a value quoted for the
wrong shell can run as a command.

Every value is rendered so that, once evaluated, the variable holds exactly that string and
nothing in it is ever executed or expanded. Values that a shell cannot hold, or that cannot
be quoted reliably for it, are refused with `UnsafeValueError` rather than emitted. Error
messages name the variable and the shell, never the value: it may be an API key.

bash/zsh/sh: `export NAME='value'`. Inside POSIX single quotes every byte is literal except
`'` itself, written as `'\\''` (close, escaped quote, reopen). That also disarms `$`, backticks,
`!` history expansion and newlines, in any locale encoding.

fish: `set -gx NAME 'value'`. In fish single quotes `\\'` and `\\\\` are escapes (a lone
backslash before anything else is literal), so both `\\` and `'` are backslash-escaped.
`-g` so the variable outlives `source`'s block; unset uses `set -e -g` so that it can never
erase a persistent universal variable of the same name.

PowerShell: `$env:NAME = 'value'`. Only printable ASCII goes inside the single-quoted literal
(`'` doubled); every other character is appended as `[char]0xHHHH` (one per UTF-16 code
unit). Doubling quotes alone is not enough: PowerShell also treats the typographic quotes U+2018-201B
as single quotes, `Invoke-Expression` receives native output line by line (a newline inside
a literal would split the statement and run its second half as a command), and PowerShell
decodes our output with the console code page, where e.g. the UTF-8 bytes of "Ē" read as
"Ä’" under Windows-1252. ASCII-only output is immune to all three. An empty value is refused:
assigning '' to `$env:NAME` deletes the variable.

cmd.exe: `set "NAME=value"`. The output is meant for `for /f` (above), but is kept safe even
when saved to a .cmd file and run: inside the quotes `& | < > ^ ( )` are literal in both
contexts, and the characters whose meaning differs between them, or that no quoting
disarms, are refused instead of escaped: `%` (expanded in a batch file, literal in `for /f`),
`!` (expanded when delayed expansion is on), `"` (ends the quoted span), and control
characters other than tab (a line feed ends the statement, and cmd's batch reader treats
Ctrl-Z as one). An empty value is refused: `set "NAME="` deletes the variable. Non-ASCII is
emitted as is; it arrives intact only if the console code page matches the output encoding
(e.g. `chcp 65001` for UTF-8), but a mismatch can garble it, never unquote it, because no
legacy code page decodes bytes outside ASCII into `"`, `%` or `!`.
"""

from __future__ import annotations

import os

from dsconfig.errors import EXIT_USAGE, DsconfigError, UsageError

# `dsconfig env` imports this module on every shell start: nothing at import beyond os (no typing, no pathlib).
# Type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

SHELLS = ("bash", "zsh", "fish", "powershell", "cmd")


class UnsafeValueError(DsconfigError):
    """A variable's value cannot be written safely for the chosen shell."""

    exit_code = EXIT_USAGE


# Basename of $SHELL -> the syntax we emit. sh and its relatives take bash syntax, since
# `export NAME='value'` and `unset -v NAME` are plain POSIX.
_SHELL_BY_PROGRAM = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "pwsh": "powershell",
    "powershell": "powershell",
    "sh": "bash",
    "dash": "bash",
    "ash": "bash",
    "ksh": "bash",
    "mksh": "bash",
    "busybox": "bash",
}

# PowerShell prepends the user's module directory, <Documents>\WindowsPowerShell\Modules
# (Windows PowerShell 5.1) or <Documents>\PowerShell\Modules (PowerShell 7), to PSModulePath
# in its own environment, which its children inherit. The machine-wide PSModulePath that
# cmd.exe sees has no per-user entry.
_USER_MODULE_DIRS = ("\\documents\\windowspowershell\\modules", "\\documents\\powershell\\modules")


def detect_shell(environ: Mapping[str, str], platform: str) -> str:
    """Guess the shell that will evaluate our output; one of SHELLS. `--shell` overrides it.

    1. `$SHELL`, on any platform: its basename, ignoring a directory, a login-style leading
       `-` and a `.exe` suffix (Git Bash, MSYS2 and Cygwin set it on Windows too); sh, dash,
       ksh and similar get bash syntax. `$SHELL` is the login shell, so running fish from a
       bash login is not noticed.
    2. On Windows ("win32") without a recognised `$SHELL`: PowerShell if
       PSExecutionPolicyPreference is set (powershell.exe -ExecutionPolicy ...) or PSModulePath
       holds a per-user entry (one ending in Documents\\[Windows]PowerShell\\Modules, or lying
       under %USERPROFILE%, for relocated Documents folders); otherwise cmd. A cmd.exe started
       from PowerShell inherits those markers and is taken for PowerShell.
    3. Anywhere else: bash, whose syntax every POSIX shell accepts.
    """
    program = environ.get("SHELL", "").replace("\\", "/").rsplit("/", 1)[-1].lower()
    program = program.lstrip("-").removesuffix(".exe")
    shell = _SHELL_BY_PROGRAM.get(program)
    if shell is not None:
        return shell
    if platform == "win32":
        return "powershell" if _inside_powershell(environ) else "cmd"
    return "bash"


def parent_shell(platform: str, ppid: int | None = None, proc: str = "/proc") -> str | None:
    """The syntax of the parent process when it is a shell we know (one of SHELLS), else None.

    Linux only: /proc/<ppid>/comm, then the name of /proc/<ppid>/exe. Nothing is run (no `ps`), so this
    costs microseconds on every shell start; on other platforms the parent stays unknown.
    """
    if not platform.startswith("linux"):
        return None
    pid = os.getppid() if ppid is None else ppid
    names: list[str] = []
    try:
        with open(f"{proc}/{pid}/comm", encoding="utf-8", errors="replace") as comm:
            names.append(comm.read(64).strip())
    except OSError:
        pass
    try:
        names.append(os.path.basename(os.readlink(f"{proc}/{pid}/exe")).removesuffix(" (deleted)"))
    except OSError:
        pass
    for name in names:
        shell = _SHELL_BY_PROGRAM.get(name.lstrip("-").lower())
        if shell is not None:
            return shell
    return None


def choose_shell(environ: Mapping[str, str], platform: str,
                 parent: Callable[[], str | None] | None = None) -> tuple[str, str | None]:
    """(syntax, note) for `dsconfig env` without `--shell`: the parent process's shell when it is known (no
    note), else detect_shell's guess and a note for stderr that names the `--shell` to use."""
    found = parent() if parent is not None else parent_shell(platform)
    if found is not None:
        return found, None
    guess = detect_shell(environ, platform)
    origin = f"$SHELL={environ['SHELL']}" if environ.get("SHELL") else "no $SHELL: the platform's default"
    return guess, (f"note: the shell running dsconfig is unknown; printing {guess} syntax (guessed from {origin}). "
                   f"Say which shell evaluates it: dsconfig env --shell {guess}")


# --- startup files: what every new shell exports --------------------------------------------------------
# Which files each shell reads at start, and how a line there exports a variable: targets/shell_startup.py.


def unset_command(var: str, shell: str) -> str:
    """The command a person types to drop `var` from the shell they are in, in that shell's syntax (fish has no
    `unset`, PowerShell and cmd neither). Shorter than render_unset's, which is written to be evaluated."""
    return _UNSET_HINTS.get(shell, _UNSET_HINTS["bash"]).format(name=var)


def user_shell(environ: Mapping[str, str], platform: str | None = None) -> str:
    """The syntax of the shell the person runs dsconfig from (choose_shell's, without its note)."""
    import sys

    return choose_shell(environ, platform or sys.platform)[0]


def still_exported(var: str, home: Path, environ: Mapping[str, str], *, follower: str = "Claude Code",
                   shell: str | None = None) -> list[str]:
    """Sentences for `off`: where `var` is still exported (this process's environment, each startup file line:
    every form shell_startup knows, the same lines `dsconfig doctor` names), so that `follower` started from
    such a shell follows that value now that no settings file sets one. `shell`: the syntax the fix is named
    in, by default the shell dsconfig runs from (user_shell)."""
    from dsconfig.targets.shell_startup import startup_exports

    out = []
    if environ.get(var):
        unset = unset_command(var, shell or user_shell(environ))
        out.append(f"{var}={environ[var]} is exported in this shell: {follower} started from it now follows that "
                   f"value (no settings file sets {var} any more); `{unset}` to stop it")
    for found in startup_exports(var, home, environ):
        out.append(f"{found.where()} exports {var}={found.value}: {follower} started from a new shell now follows "
                   f"that value (no settings file sets {var} any more); delete that line, or `dsconfig use NAME` "
                   "(a settings file beats it)")
    return out


def _inside_powershell(environ: Mapping[str, str]) -> bool:
    # Windows variable names are case-insensitive, but a plain dict copy of os.environ has
    # them upper-cased, so look them up by upper-case name.
    upper = {key.upper(): value for key, value in environ.items()}
    if upper.get("PSEXECUTIONPOLICYPREFERENCE"):
        return True
    profile = upper.get("USERPROFILE", "").replace("/", "\\").rstrip("\\").lower()
    for entry in upper.get("PSMODULEPATH", "").split(";"):
        entry = entry.strip().replace("/", "\\").rstrip("\\").lower()
        if entry.endswith(_USER_MODULE_DIRS) or (profile and entry.startswith(profile + "\\")):
            return True
    return False


def render_set(variables: Mapping[str, str], shell: str) -> str:
    """Statements setting each variable, in the given order, one per line.

    Raises UsageError for an unknown shell or an invalid name, UnsafeValueError for a value
    the shell cannot hold safely; nothing is rendered unless every variable is valid.
    """
    setter = _setter(shell)
    lines = []
    for name, value in variables.items():
        _check_name(name)
        _check_value(name, value, shell)
        lines.append(setter(name, value) + "\n")
    return "".join(lines)


def render_unset(names: Iterable[str], shell: str) -> str:
    """Statements removing each variable, in the given order, one per line.

    Removing a variable that is not set is not an error in any shell.

    Raises UsageError (exit 2) for a shell that is not one of SHELLS.
    """
    template = _UNSET_TEMPLATES.get(shell)
    if template is None:
        raise _unknown_shell(shell)
    lines = []
    for name in names:
        _check_name(name)
        lines.append(template.format(name=name) + "\n")
    return "".join(lines)


def _setter(shell: str) -> Callable[[str, str], str]:
    try:
        return _SETTERS[shell]
    except KeyError:
        raise _unknown_shell(shell) from None


def _unknown_shell(shell: str) -> UsageError:
    return UsageError(f"unknown shell {shell!r}", hint=f"choose one of: {', '.join(SHELLS)}")


def _check_name(name: str) -> None:
    # For ASCII text, str.isidentifier() is exactly [A-Za-z_][A-Za-z0-9_]*: a name every
    # shell accepts unquoted, with no characters PowerShell's Env: drive treats as wildcards.
    if not (name.isascii() and name.isidentifier()):
        raise UsageError(
            f"invalid environment variable name {name!r}",
            hint="names use letters, digits and underscores, and do not start with a digit",
        )


def _check_value(name: str, value: str, shell: str) -> None:
    if not value and shell in ("powershell", "cmd"):
        raise UnsafeValueError(
            f"the value of {name} is empty, and {shell} cannot hold an empty environment variable"
            " (setting one to empty deletes it)",
            hint=f"give {name} a value in the profile, or remove it with `dsconfig env --unset`",
        )
    for char in value:
        code = ord(char)
        if code == 0:
            raise UnsafeValueError(
                f"the value of {name} contains a NUL character, which no environment variable"
                f" can hold (shell: {shell})",
                hint=f"correct {name} in the profile",
            )
        if 0xD800 <= code <= 0xDFFF:
            # A lone surrogate (from undecodable bytes) cannot be written out as UTF-8.
            raise UnsafeValueError(
                f"the value of {name} is not valid Unicode (it contains U+{code:04X}); cannot render it for {shell}",
                hint=f"re-enter {name}, it was probably read from mis-encoded bytes",
            )
        if shell == "cmd" and (char in '"%!' or (code < 0x20 and char != "\t")):
            raise UnsafeValueError(
                f"the value of {name} contains {_describe(char)}, which cmd.exe cannot quote reliably",
                hint='in cmd.exe values cannot contain ", %, ! or line breaks; use `--shell powershell` instead',
            )


def _describe(char: str) -> str:
    if char == "\n":
        return "a line feed"
    if char == "\r":
        return "a carriage return"
    if char.isprintable():
        return f"the character {char!r}"
    return f"the control character U+{ord(char):04X}"


def _posix_set(name: str, value: str) -> str:
    return f"export {name}='" + value.replace("'", "'\\''") + "'"


def _fish_set(name: str, value: str) -> str:
    return f"set -gx {name} '" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell_set(name: str, value: str) -> str:
    return f"$env:{name} = {_powershell_expression(value)}"


def _powershell_expression(value: str) -> str:
    """An ASCII-only, single-line PowerShell string expression equal to `value`."""
    pieces: list[str] = []
    literal = ""
    for char in value:
        if " " <= char <= "~":
            literal += "''" if char == "'" else char
            continue
        # Start with a string literal (even '') so `+` concatenates: [char] + [char] would
        # add the two code points as numbers.
        if literal or not pieces:
            pieces.append(f"'{literal}'")
            literal = ""
        code = ord(char)
        if code > 0xFFFF:
            # [char] is one UTF-16 code unit: split astral characters into a surrogate pair.
            code -= 0x10000
            pieces.append(f"[char]0x{0xD800 + (code >> 10):04X}")
            code = 0xDC00 + (code & 0x3FF)
        pieces.append(f"[char]0x{code:04X}")
    if literal or not pieces:
        pieces.append(f"'{literal}'")
    return " + ".join(pieces)


def _cmd_set(name: str, value: str) -> str:
    return f'set "{name}={value}"'


_SETTERS: dict[str, Callable[[str, str], str]] = {
    "bash": _posix_set,
    "zsh": _posix_set,
    "fish": _fish_set,
    "powershell": _powershell_set,
    "cmd": _cmd_set,
}

# `unset -v`: without -v, bash unsets a function of that name when no variable exists.
_UNSET_TEMPLATES = {
    "bash": "unset -v {name}",
    "zsh": "unset -v {name}",
    "fish": "set -e -g {name}",
    "powershell": "Remove-Item -LiteralPath Env:{name} -ErrorAction SilentlyContinue",
    "cmd": 'set "{name}="',
}

# What a person types (unset_command); fish's `set -e` erases the variable from the scope that holds it.
_UNSET_HINTS = {
    "bash": "unset {name}",
    "zsh": "unset {name}",
    "fish": "set -e {name}",
    "powershell": "Remove-Item Env:{name}",
    "cmd": "set {name}=",
}
