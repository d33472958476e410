"""Shell startup files: which files each shell reads when it starts, and how a line there exports a variable.

The one place that knows it (per platform, $ZDOTDIR and $XDG_CONFIG_HOME honoured). `off`'s note about a base
URL still exported (targets/shell.py's `still_exported`), `doctor`'s startup-files check and the startup file
`setup` names all ask here, so they see the same lines the same way. The forms understood:

  bash, zsh:   export A=1 VAR=x (several on one line), declare -x / typeset -gx VAR=x, and the two-line form
               VAR=x ... export VAR (either order, anywhere in the same file); `export -n` / `+x` do not count
  fish:        set -x / -gx / -Ux / --export VAR x, and set -g VAR x after an earlier `set -gx VAR` (fish keeps a
               variable exported; the other order sets it empty); -u / --unexport do not count
  PowerShell:  $env:VAR = 'x', [Environment]::SetEnvironmentVariable('VAR', 'x', ...)

Comment lines, and plain assignments never exported in their file, do not count. A value the shell computes
($VAR, $(...), `...`, fish's (...)) has no literal. Only stdlib imports at the top: `re` loads only for the
PowerShell forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StartupExport:
    """One line of a shell startup file that exports a variable to every new shell (and so to Claude Code)."""

    path: Path
    line: int
    value: str  # the first value word, unquoted; a value the shell computes, as written (outer "..." dropped)
    var: str = ""
    syntax: str = "bash"  # bash, zsh, fish or powershell: the file's
    literal: str | None = None  # the value when it is a plain literal; None when the shell computes it

    def where(self) -> str:
        return f"{self.path} line {self.line}"


@dataclass(frozen=True)
class StartupLoader:
    """A startup file line that runs `dsconfig env` (loads a profile into every new shell)."""

    path: Path
    line: int
    syntax: str
    text: str


def startup_files(home: Path, environ: Mapping[str, str], platform: str | None = None) -> list[tuple[Path, str]]:
    """(file, syntax) of every startup file of bash, zsh (in $ZDOTDIR when set), fish and PowerShell that can
    export a variable to new shells: login and interactive files alike, in the order each shell reads them."""
    import sys

    platform = platform or sys.platform
    config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    zdot = Path(environ.get("ZDOTDIR") or home)
    found = [(home / name, "bash") for name in (".bash_profile", ".bash_login", ".profile", ".bashrc")]
    found += [(zdot / name, "zsh") for name in (".zshenv", ".zprofile", ".zshrc", ".zlogin")]
    found += [(p, "fish") for p in sorted((config / "fish" / "conf.d").glob("*.fish"))]
    found.append((config / "fish" / "config.fish", "fish"))
    pwsh = [home / "Documents" / d for d in ("PowerShell", "WindowsPowerShell")] if platform.startswith("win") \
        else [config / "powershell"]
    found += [(d / name, "powershell") for d in pwsh for name in ("Microsoft.PowerShell_profile.ps1", "profile.ps1")]
    return found


def startup_file_for(kind: str, home: Path, environ: Mapping[str, str], platform: str | None = None) -> str:
    """Where a line for every new `kind` shell belongs, as a person would write it (`~/.zshrc`, `$PROFILE`)."""
    import sys

    if kind == "powershell":
        return "$PROFILE"
    # macOS terminals start login shells, which read ~/.bash_profile and not ~/.bashrc
    name = ".bash_profile" if kind == "bash" and (platform or sys.platform) == "darwin" else \
        {"bash": ".bashrc", "zsh": ".zshrc", "fish": "config.fish"}.get(kind)
    path = next((p for p, syntax in startup_files(home, environ, platform) if syntax == kind and p.name == name), None)
    if path is None:
        return "your shell's startup file"
    return f"~/{path.relative_to(home).as_posix()}" if path.is_relative_to(home) else str(path)


def scan_startup_files(wanted: Callable[[str], bool], home: Path, environ: Mapping[str, str],
                       platform: str | None = None) -> list[StartupExport | StartupLoader]:
    """Every startup file line that exports a variable `wanted` accepts, or runs `dsconfig env`, in the order
    the shells read them. Files are read quietly (a FIFO or an unreadable file is skipped, never waited on)."""
    from dsconfig.fileio import read_text_quietly

    out: list[StartupExport | StartupLoader] = []
    for path, syntax in startup_files(home, environ, platform):
        text = read_text_quietly(path)
        if text is not None:
            out += _scan(path, syntax, text, wanted)
    return out


def startup_exports(var: str, home: Path, environ: Mapping[str, str], platform: str | None = None) -> list[StartupExport]:
    """Every startup file line that exports `var` to new shells (the forms above)."""
    found = scan_startup_files(lambda name: name == var, home, environ, platform)
    return [f for f in found if isinstance(f, StartupExport)]


def _scan(path: Path, syntax: str, text: str, wanted: Callable[[str], bool]) -> list[StartupExport | StartupLoader]:
    """One file's `dsconfig env` lines and exports of `wanted` variables, in line order."""
    seen: list[tuple[int, str, str | None, bool]] = []  # (line, var, raw value or None, exported by itself)
    marked: dict[str, int] = {}  # var -> position of its first valueless export (`export VAR`, `set -gx VAR`)
    out: list[StartupExport | StartupLoader] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        if "dsconfig env" in line:
            seen.append((number, "", line, False))
            continue
        for var, raw, exported in _assignments(line, syntax):
            if raw is None and exported:
                marked.setdefault(var, len(seen))
            seen.append((number, var, raw, exported))
    for position, (number, var, raw, exported) in enumerate(seen):
        if not var and raw is not None:
            out.append(StartupLoader(path, number, syntax, raw))
        elif raw is not None and wanted(var) and (exported or (
                var in marked and (syntax != "fish" or marked[var] < position))):  # fish: only once exported
            literal = _pwsh_literal(raw) if syntax == "powershell" else _literal(raw, fish=syntax == "fish")
            shown = literal if literal is not None else raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == '"' else raw
            out.append(StartupExport(path, number, shown, var, syntax, literal))
    return out


def _assignments(line: str, syntax: str) -> list[tuple[str, str | None, bool]]:
    """(var, raw first value word or None, exported) for each variable `line` sets or exports."""
    if syntax == "powershell":
        import re

        match = re.match(r"\s*\$env:([A-Za-z_]\w*)\s*=\s*(.*)$", line, re.IGNORECASE) or re.search(
            r"SetEnvironmentVariable\(\s*[\"']([A-Za-z_]\w*)[\"']\s*,\s*([^,)]*)", line, re.IGNORECASE)
        first = _statements(match.group(2), fish=False)[:1] if match else []
        return [(match.group(1), first[0][0], True)] if match and first else []
    out: list[tuple[str, str | None, bool]] = []
    for words in _statements(line, fish=syntax == "fish"):
        out += _fish_assignment(words) if syntax == "fish" else _posix_assignments(words)
    return out


def _posix_assignments(words: list[str]) -> list[tuple[str, str | None, bool]]:
    cmd, args = words[0], words[1:]
    if cmd in ("export", "declare", "typeset"):
        minus = "".join(w[1:] for w in args if w.startswith("-"))
        if (cmd == "export" and set("nf") & set(minus)) or any(w.startswith("+") for w in args):
            return []  # `export -n`, `declare +x`: un-exports (or functions), never exports
        exported = cmd == "export" or "x" in minus
        pairs = [w.partition("=") for w in args if not w.startswith("-")]
        return [(var, raw if eq else None, exported) for var, eq, raw in pairs if _is_name(var)]
    pairs = [w.partition("=") for w in words]
    if all(eq and _is_name(var) for var, eq, _ in pairs):  # `A=1 cmd` sets A for cmd only: not counted
        return [(var, raw, False) for var, _, raw in pairs]
    return []


def _fish_assignment(words: list[str]) -> list[tuple[str, str | None, bool]]:
    if words[0] != "set":
        return []
    n = 1
    while n < len(words) and words[n].startswith("-"):
        n += 1
    flags, args = words[1:n], words[n:]
    short = "".join(f[1:] for f in flags if not f.startswith("--"))
    if not args or not _is_name(args[0]) or set("eqnSu") & set(short) or \
            {"--erase", "--query", "--names", "--show", "--unexport"} & set(flags):
        return []  # erasing, asking, or un-exporting: never exports
    exported = "x" in short or "--export" in flags
    return [(args[0], args[1] if len(args) > 1 else None, exported)]


def _is_name(text: str) -> bool:
    return text.isascii() and text.isidentifier()


def _statements(line: str, *, fish: bool) -> list[list[str]]:
    """The words of each statement on `line` (split at unquoted ; & |), quotes kept, up to a comment."""
    statements: list[list[str]] = [[]]
    word: str | None = None  # None: between words
    quote, depth, i = "", 0, 0
    while i < len(line):
        c = line[i]
        if c == "\\" and (not quote and not depth or quote == '"' or (fish and quote == "'")):
            word = (word or "") + line[i:i + 2]
            i += 2
            continue
        if quote or depth:
            word = (word or "") + c
            if quote and c == quote:
                quote = ""
            elif not quote:
                depth += {"(": 1, ")": -1}.get(c, 0)
        elif c.isspace() or c in ";&|":
            if word is not None:
                statements[-1].append(word)
                word = None
            if c in ";&|" and statements[-1]:
                statements.append([])
        elif c == "#" and word is None:
            break
        else:
            word = (word or "") + c
            quote = c if c in "'\"`" else ""
            depth = 1 if c == "(" else 0
        i += 1
    if word is not None:
        statements[-1].append(word)
    return [s for s in statements if s]


def _literal(raw: str, *, fish: bool) -> str | None:
    """`raw` without its quotes and escapes, as the shell would assign it; None when the shell computes it."""
    out, quote, i = "", "", 0
    while i < len(raw):
        c, nxt = raw[i], raw[i + 1:i + 2]
        escapes = "'\\" if quote == "'" else '"\\$`'
        if c == "\\" and nxt and (not quote or nxt in escapes) and (quote != "'" or fish):
            out += nxt
            i += 2
            continue
        if quote == "'":
            quote, out = ("", out) if c == "'" else (quote, out + c)
        elif c in "$`(":
            return None
        elif c == quote:
            quote = ""
        elif not quote and c in "'\"":
            quote = c
        else:
            out += c
        i += 1
    return out


def _pwsh_literal(raw: str) -> str | None:
    if len(raw) > 1 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    inner = raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == '"' else raw
    return None if any(c in inner for c in "$`(") else inner
