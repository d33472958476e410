"""Shell startup files: which files each shell reads when it starts, and how a line there exports a variable.

The one place that knows it (per platform, $ZDOTDIR and $XDG_CONFIG_HOME honoured). `off`'s note about a base
URL still exported (targets/shell.py's `still_exported`), `doctor`'s startup-files check and the startup file
`setup` names all ask here, so they see the same lines the same way. The forms understood:

  bash, zsh:   export A=1 VAR=x (several on one line), declare -x / typeset -gx VAR=x, the two-line form
               VAR=x ... export VAR (either order, anywhere in the same file), VAR=y after an `export VAR=x`,
               VAR=x between `set -a` (`set -o allexport`, zsh `setopt allexport`) and `set +a`, and in bash
               (and sh) `VAR=x export VAR` on one line (zsh keeps that x for the command only: not counted)
  fish:        set -x / -gx / -Ux / --export VAR x, and set -g VAR x after an earlier `set -gx VAR` (fish keeps a
               variable exported; the other order sets it empty)
  PowerShell:  $env:VAR = 'x', [Environment]::SetEnvironmentVariable('VAR', 'x', ...), also inside { } blocks

The file is read as the shell runs it, line after line, and each line is split into statements at ; & | (and at
; { } for PowerShell). The keywords before a command do not hide it (`then export VAR=x`, `if ...; then export
VAR=x; fi`, `do`, `else`, `{`, fish's `and` / `or` / `if`). An export is undone by a later `unset VAR`, bash's
`export -n VAR`, `declare +x` / `typeset +x VAR`, fish's `set -e VAR` / `set -u VAR`, PowerShell's `Remove-Item
Env:VAR` or `$env:VAR = $null` (or ''): then the earlier lines no longer count, unless they are exported again
after it. Conservative where a line may not run: an export counts wherever it stands (inside an if, a loop, a
function, after && or ||), an unset undoes only at the top level (not inside a block if/case/loop/function/{ },
fish's if/while/for/function/switch/begin, PowerShell's { }, nor after && / || / a pipe, nor in a ( subshell )).
Not commands, and skipped: comment lines, the lines of a here-document (`<<EOF`, `<<-'EOF'`, until the delimiter
line) and of a PowerShell here-string (@' ... '@). Plain assignments never exported in their file do not count.

Not understood, read line by line as before: a quoted string or a $(...) spanning several lines (a line inside
it that looks like an export counts), a backslash-continued line, a here-document opened inside $(...), `case`
patterns before a command (`a) export VAR=x;;` is not seen), `eval`, `source` of another file, and anything
that depends on the environment at start (`[ -n "$X" ]` is taken as true and false alike). A value the shell
computes ($VAR, $(...), `...`, fish's (...)) has no literal. Only stdlib imports at the top: `re` loads only
for the PowerShell forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
class StartupUnreadable:
    """A startup file that exists but could not be read (a FIFO, a device, unreadable, too big): what it exports
    is unknown. `line` is 0."""

    path: Path
    reason: str
    line: int = 0


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
                       platform: str | None = None) -> list[StartupExport | StartupLoader | StartupUnreadable]:
    """Every startup file line that exports a variable `wanted` accepts, or runs `dsconfig env`, in the order
    the shells read them, and every startup file that exists but could not be read (a FIFO or device, never
    waited on; unreadable; too big), whose exports are unknown."""
    from dsconfig import saferead
    from dsconfig.errors import InvalidFileError

    out: list[StartupExport | StartupLoader | StartupUnreadable] = []
    for path, syntax in startup_files(home, environ, platform):
        try:
            data = saferead.read_bytes(path)
        except InvalidFileError as err:
            out.append(StartupUnreadable(path, err.message))
            continue
        if data is not None:
            out += _scan(path, syntax, data.decode("utf-8", "replace"), wanted)
    return out


def startup_exports(var: str, home: Path, environ: Mapping[str, str], platform: str | None = None) -> list[StartupExport]:
    """Every startup file line that exports `var` to new shells (the forms above)."""
    found = scan_startup_files(lambda name: name == var, home, environ, platform)
    return [f for f in found if isinstance(f, StartupExport)]


def _scan(path: Path, syntax: str, text: str, wanted: Callable[[str], bool]) -> list[StartupExport | StartupLoader]:
    """One file's `dsconfig env` lines and exports of `wanted` variables, in line order."""
    reading = _File(syntax)
    for number, line in enumerate(text.splitlines(), 1):
        reading.read(number, line)
    seen, marked, since = reading.seen, reading.marked, reading.exported_since
    out: list[StartupExport | StartupLoader] = []
    for position, (number, var, raw, exported) in enumerate(seen):
        if position in reading.dropped:
            continue
        if not var and raw is not None:
            out.append(StartupLoader(path, number, syntax, raw))
        elif raw is not None and wanted(var) and (exported or since.get(var, position) < position or (
                var in marked and syntax != "fish")):  # bash, zsh: `VAR=x` then `export VAR` exports x; fish: empty
            literal = _pwsh_literal(raw) if syntax == "powershell" else _literal(raw, fish=syntax == "fish")
            shown = literal if literal is not None else raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == '"' else raw
            out.append(StartupExport(path, number, shown, var, syntax, literal))
    return out


Found = tuple[str, str | None, bool]  # (var, raw first value word or None, exported by itself)


@dataclass
class _File:
    """One file read line by line, with what a line's meaning depends on from the lines before it."""

    syntax: str
    seen: list[tuple[int, str, str | None, bool]] = field(default_factory=list)  # (line, *Found); var "": a loader
    marked: dict[str, int] = field(default_factory=dict)  # var -> position of its first valueless export
    exported_since: dict[str, int] = field(default_factory=dict)  # var -> position of its first export of any form
    dropped: set[int] = field(default_factory=set)  # positions in `seen` undone by a later unset / un-export
    live: dict[str, list[int]] = field(default_factory=dict)  # var -> its positions in `seen` not yet undone
    depth: int = 0  # blocks open (if, loops, case, functions, braces): an unset inside one may not run
    allexport: bool = False  # between `set -a` and `set +a` a plain assignment exports
    heredocs: list[tuple[str, bool]] = field(default_factory=list)  # (delimiter, tabs stripped): lines to skip
    herestring: str = ""  # PowerShell: the line start that ends the here-string being skipped ('@ or "@)

    def read(self, number: int, line: str) -> None:
        if self.heredocs:
            delimiter, tabs = self.heredocs[0]
            if (line.lstrip("\t") if tabs else line) == delimiter:
                self.heredocs.pop(0)
            return
        if self.herestring:
            self.herestring = "" if line.startswith(self.herestring) else self.herestring
            return
        if line.lstrip().startswith("#"):
            return
        loader = "dsconfig env" in line
        if loader:
            self.seen.append((number, "", line, False))
        if self.syntax == "powershell":
            found = self._powershell(line)
        else:
            statements, self.heredocs = _split(line, fish=self.syntax == "fish")
            found = [f for chained, words in statements for f in self._statement(words, chained)]
        for var, raw, exported in [] if loader else found:
            if exported:  # a later plain assignment keeps the variable exported, with its new value
                self.exported_since.setdefault(var, len(self.seen))
            if raw is None and exported:
                self.marked.setdefault(var, len(self.seen))
            self.live.setdefault(var, []).append(len(self.seen))
            self.seen.append((number, var, raw, exported))

    def _undo(self, names: list[str], conditional: bool) -> list[Found]:
        """`unset VAR`, `set -e VAR`, `export -n VAR`...: the variable is not exported after this line, so earlier
        exports of it in this file no longer count. Not when it may not run (inside a block, after && or ||)."""
        if not conditional:
            for var in names:
                self.dropped.update(self.live.pop(var, ()))
                self.marked.pop(var, None)
                self.exported_since.pop(var, None)
        return []

    def _statement(self, words: list[str], chained: bool) -> list[Found]:
        words, chained = (_fish_lead if self.syntax == "fish" else _posix_lead)(self, words, chained)
        if not words:
            return []
        conditional = chained or self.depth > 0
        if self.syntax == "fish":
            return _fish_assignment(words, lambda names: self._undo(names, conditional))
        cmd, args = words[0], words[1:]
        if cmd == "set":
            for i, word in enumerate(args):
                if word == "--":
                    break
                if word in ("-o", "+o") and args[i + 1:i + 2] == ["allexport"]:
                    self.allexport = word == "-o"
                elif word[:1] in "-+" and word[1:2] not in "-+" and "a" in word[1:]:
                    self.allexport = word[0] == "-"
            return []
        if cmd in ("setopt", "unsetopt") and any(w.lower().replace("_", "") == "allexport" for w in args):
            self.allexport = cmd == "setopt"  # zsh's own spelling of set -a
            return []
        if cmd == "unset":
            return [] if any(w.startswith("-") and "f" in w for w in args) else \
                self._undo([w for w in args if _is_name(w)], conditional)
        if cmd in ("export", "declare", "typeset") and (any(w.startswith("+") for w in args) or (
                cmd == "export" and any(w.startswith("-") and "n" in w for w in args))):
            # zsh has no `export -n` (measured: an error, the variable stays exported); `typeset +x` it has
            undone = self.syntax == "bash" or any(w.startswith("+") for w in args)
            names = [w.partition("=")[0] for w in args if _is_name(w.partition("=")[0])]
            return self._undo(names, conditional) if undone else []
        prefix = 0
        while prefix < len(words) and "=" in words[prefix] and _is_name(words[prefix].partition("=")[0]):
            prefix += 1
        if 0 < prefix < len(words) and words[prefix] in ("export", "declare", "typeset"):
            if self.syntax != "bash":
                return []  # zsh: `A=1 export A` keeps A=1 for that command only (measured: nothing exported)
            given = dict(w.partition("=")[::2] for w in words[:prefix])  # bash, sh: `A=1 export A` exports A=1
            return [(var, given[var] if raw is None and exported and var in given else raw, exported)
                    for var, raw, exported in _posix_assignments(words[prefix:], False)]
        return _posix_assignments(words, self.allexport)

    def _powershell(self, line: str) -> list[Found]:
        import re

        pieces, opened = _pwsh_pieces(line)
        found: list[Found] = []
        for depth, text in pieces:
            conditional = self.depth + depth > 0
            removed = re.match(r"\s*(?:Remove-Item|ri|rm|del|erase)\s+(?:-(?:Literal)?Path\s+)?[\"']?Env:[\\/]?"
                               r"([A-Za-z_]\w*)[\"']?\s*$", text, re.IGNORECASE)
            match = re.match(r"\s*\$env:([A-Za-z_]\w*)\s*=\s*(.*)$", text, re.IGNORECASE) or re.search(
                r"SetEnvironmentVariable\(\s*[\"']([A-Za-z_]\w*)[\"']\s*,\s*([^,)]*)", text, re.IGNORECASE)
            first = _statements(match.group(2), fish=False)[:1] if match else []
            if removed is not None:
                self._undo([removed.group(1)], conditional)
            elif match and first and first[0][0].lower() in ("$null", "''", '""'):  # assigning nothing deletes it
                self._undo([match.group(1)], conditional)
            elif match and first:
                found.append((match.group(1), first[0][0], True))
        self.depth = max(0, self.depth + opened)
        if line.rstrip().endswith(("@'", '@"')):
            self.herestring = line.rstrip()[-1] + "@"
        return found


_POSIX_OPEN = ("if", "case", "do", "{")
_POSIX_LEAD = (*_POSIX_OPEN, "then", "else", "elif", "while", "until", "!", "time")


def _posix_lead(f: _File, words: list[str], chained: bool) -> tuple[list[str], bool]:
    """`words` without the keywords and function header before the command (`then export A=1`), keeping the
    count of open blocks; a closing word (fi, done, esac, }) ends the statement."""
    while words:
        first = words[0]
        if first.endswith("(){"):  # `name(){`, one word
            f.depth += 1
            words = words[1:]
        elif first == "function" or first.endswith("()"):
            words = words[1:] if first.endswith("()") else words[2:]
        elif len(words) > 1 and words[1] == "()" and _is_name(first):
            words = words[2:]
        elif first in ("fi", "done", "esac", "}"):
            f.depth = max(0, f.depth - 1)
            return [], chained
        elif first in _POSIX_LEAD:
            f.depth += first in _POSIX_OPEN
            words = words[1:]
        else:
            break
    return words, chained


def _fish_lead(f: _File, words: list[str], chained: bool) -> tuple[list[str], bool]:
    """The same for fish: `and` / `or` make what follows conditional; if, while, begin, for, function and switch
    open a block that `end` closes (`else if` continues one)."""
    previous = ""
    while words:
        first = words[0]
        if first == "end":
            f.depth = max(0, f.depth - 1)
            return [], chained
        if first in ("for", "function", "switch"):
            f.depth += 1
            return [], chained
        if first not in ("and", "or", "not", "if", "else", "while", "begin", "command", "builtin"):
            break
        f.depth += first in ("if", "while", "begin") and previous != "else"
        chained = chained or first in ("and", "or")
        previous, words = first, words[1:]
    return words, chained


def _posix_assignments(words: list[str], allexport: bool) -> list[Found]:
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
        return [(var, raw, allexport) for var, _, raw in pairs]
    return []


def _fish_assignment(words: list[str], undo: Callable[[list[str]], list[Found]]) -> list[Found]:
    if words[0] != "set":
        return []
    n = 1
    while n < len(words) and words[n].startswith("-"):
        n += 1
    flags, args = words[1:n], words[n:]
    short = "".join(f[1:] for f in flags if not f.startswith("--"))
    if set("eu") & set(short) or {"--erase", "--unexport"} & set(flags):
        return undo([a for a in (args if "e" in short or "--erase" in flags else args[:1]) if _is_name(a)])
    if not args or not _is_name(args[0]) or set("qnS") & set(short) or {"--query", "--names", "--show"} & set(flags):
        return []  # asking: never exports
    exported = "x" in short or "--export" in flags
    return [(args[0], args[1] if len(args) > 1 else None, exported)]


def _is_name(text: str) -> bool:
    return text.isascii() and text.isidentifier()


def _statements(line: str, *, fish: bool) -> list[list[str]]:
    """The words of each statement on `line` (split at unquoted ; & |), quotes kept, up to a comment."""
    return [words for _, words in _split(line, fish=fish)[0]]


def _split(line: str, *, fish: bool) -> tuple[list[tuple[bool, list[str]]], list[tuple[str, bool]]]:
    """(chained, words) of each statement on `line` (split at unquoted ; & |, quotes kept, up to a comment):
    chained when it follows & or | (after && or ||, in a pipeline: it may not run, or not in this shell). And the
    here-documents the line opens (bash, zsh: `<<EOF`, `<<-'EOF'`): (delimiter, leading tabs stripped)."""
    statements: list[tuple[bool, list[str]]] = [(False, [])]
    heredocs: list[tuple[str, bool]] = []
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
                statements[-1][1].append(word)
                word = None
            if c in ";&|" and statements[-1][1]:
                statements.append((c != ";", []))
        elif c == "#" and word is None:
            break
        elif not fish and line.startswith("<<", i) and not line.startswith("<<<", i) and "=" not in (word or ""):
            end, delimiter, tabs = _heredoc(line, i)
            heredocs += [(delimiter, tabs)] if delimiter else []
            word = (word or "") + line[i:end]
            i = end
            continue
        else:
            word = (word or "") + c
            quote = c if c in "'\"`" else ""
            depth = 1 if c == "(" else 0
        i += 1
    if word is not None:
        statements[-1][1].append(word)
    return [s for s in statements if s[1]], heredocs


def _heredoc(line: str, i: int) -> tuple[int, str, bool]:
    """At `<<` in `line`: (where its delimiter word ends, the delimiter unquoted, whether `<<-` strips tabs)."""
    j = i + 2
    tabs = line.startswith("-", j)
    j += tabs
    while j < len(line) and line[j] in " \t":
        j += 1
    delimiter, quote = "", ""
    while j < len(line) and (quote or not (line[j].isspace() or line[j] in ";&|<>()")):
        c = line[j]
        if c == quote:
            quote = ""
        elif quote:
            delimiter += c
        elif c in "'\"":
            quote = c
        elif c != "\\":
            delimiter += c
        j += 1
    return j, delimiter, tabs


def _pwsh_pieces(line: str) -> tuple[list[tuple[int, str]], int]:
    """PowerShell: ([(blocks opened before it on this line, text)] of each statement, split at unquoted ; { },
    up to a comment), and the blocks the line leaves open (negative when it closes more)."""
    pieces: list[tuple[int, str]] = []
    depth, start, quote = 0, 0, ""
    for i, c in enumerate(line):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return [*pieces, (depth, line[start:i])], depth
        elif c in ";{}":
            pieces.append((depth, line[start:i]))
            start = i + 1
            depth += {"{": 1, "}": -1}.get(c, 0)
    return [*pieces, (depth, line[start:])], depth


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
