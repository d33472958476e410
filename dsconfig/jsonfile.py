"""Other programs' JSON files as text: the strict reader and the layout a rewrite keeps.

Reading: a settings file is parsed strictly, as Claude Code's JSON.parse would accept it and stricter (no
byte-order mark, no duplicate key, no NaN); anything else is an InvalidFileError with path, line, column and
a hint, never replaced by `{}`. Writing: `JsonStyle` is the file's indentation, final newline and escaping,
and `rewrite` gives the new document as text that keeps every unchanged member byte for byte (through
dsconfig.jsonsplice). No I/O here: dsconfig.fileio reads and writes the bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsconfig.errors import InvalidFileError

if TYPE_CHECKING:  # the splice is imported when a file is rewritten: keeps `dsconfig env` and `key get` light
    from dsconfig.jsonsplice import Frame, RawMember
    from dsconfig.keypaths import Match

BOM = b"\xef\xbb\xbf"


def parse_json_object(path: Path, data: bytes, *, what: str = "settings file") -> dict[str, Any]:
    """Parse `data` as a strict JSON object (`what` names the file in messages).

    Raises:
        InvalidFileError: a byte-order mark, text that is not UTF-8, empty text, invalid JSON (with line, column
            and a hint), NaN or Infinity, a duplicate key, nesting too deep to parse, or a top level that is not
            an object.
    """
    if data.startswith(BOM):
        raise InvalidFileError(
            path, "starts with a UTF-8 byte-order mark", "save the file as UTF-8 without BOM", line=1, column=1
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(data[: exc.start].decode("utf-8", "replace"), exc.start)
        raise InvalidFileError(path, "is not valid UTF-8 text", "save the file as UTF-8", line=line, column=col) from None
    if not text.strip():
        raise InvalidFileError(
            path,
            "is empty, expected a JSON object",
            "write {} into it or delete it, then run again",
            line=1,
            column=1,
        )
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _NonStandard as exc:
        pos = re.search(r"-?\b(NaN|Infinity)\b", text)
        line, col = _line_col(text[: pos.start()], pos.start()) if pos else (1, 1)
        raise InvalidFileError(path, f"is not valid JSON: {exc.word} is not a JSON value", "write a number or a string instead",
                               line=line, column=col) from None
    except _DuplicateKey as exc:
        where = _second_occurrence(text, exc.key)
        raise InvalidFileError(path, f"key {exc.key!r} appears twice (Claude Code would use the last one)",
                               "remove one of the two entries", line=where[0], column=where[1]) from None
    except json.JSONDecodeError as exc:
        raise InvalidFileError(
            path, f"is not valid JSON: {exc.msg}", _json_hint(text, exc), line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:
        raise InvalidFileError(path, "is nested too deeply to be a " + what, "simplify the file") from None
    if not isinstance(doc, dict):
        from dsconfig.keypaths import json_type

        kind = json_type(doc)
        raise InvalidFileError(
            path, f"top level is a JSON {kind}, expected an object",
            "replace it with {} (an empty object), then run again" if kind == "null" or not text.strip(" \t\r\n[]\"")
            else "wrap the content in { ... } as the value of a key, or replace it with {}",
        )
    return doc


def _second_occurrence(text: str, key: str) -> tuple[int | None, int | None]:
    """Line and column of the second `"key":` in the text (where the duplicate is), or Nones."""
    spelled = re.compile(re.escape(json.dumps(key)) + r"\s*:")
    hits = list(spelled.finditer(text))
    if len(hits) < 2:
        return None, None
    return _line_col(text[: hits[1].start()], hits[1].start())


def check_depth(path: Path, doc: dict[str, Any], what: str) -> dict[str, Any]:
    """`doc` itself, once it is known not too deep to copy and rewrite (the merge paths recurse).

    Raises:
        InvalidFileError: nested more than MAX_DEPTH levels (reading it was fine).
    """
    if _depth(doc) > MAX_DEPTH:
        raise InvalidFileError(path, f"is nested more than {MAX_DEPTH} levels deep", "no " + what + " needs that: simplify the file")
    return doc


# Deeper documents parse, but copying or rewriting them recursively would exhaust Python's stack; no settings
# file is anywhere near this.
MAX_DEPTH = 200


def _depth(doc: Any) -> int:
    deepest = 0
    stack = [(doc, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def check_recordable(path: Path, text: str, key_path: Sequence[str | Match], value: Any, where: str) -> None:
    """Refuse a value dsconfig must record before replacing it (the journal keeps it for `off`) when it holds a
    number JSON cannot spell: `1e999` is valid JSON that Python reads as infinity, and no JSON writer can give
    it back (the journal would hold `Infinity`, which no JSON reader accepts). `text` is the file's text.

    Raises:
        InvalidFileError: naming the file, the line and column of the number, and `where` (the member).
    """
    if not _holds_infinity(value):
        return
    from dsconfig import jsonsplice

    at = jsonsplice.nonfinite_number_at(text, key_path)
    line, col = _line_col(text[:at], at) if at is not None else (None, None)
    raise InvalidFileError(path, f"{where} holds a number too large for JSON (such as 1e999), which dsconfig would "
                           "have to record to give it back on `off`",
                           "replace that number with one within range (or a string), then run again",
                           line=line, column=col)


def _holds_infinity(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, float) and math.isinf(node):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


class _NonStandard(ValueError):
    def __init__(self, word: str) -> None:
        self.word = word


def _no_constants(word: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and Claude Code's JSON.parse) does not.
    raise _NonStandard(word)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _line_col(prefix: str, offset: int) -> tuple[int, int]:
    line = prefix.count("\n") + 1
    return line, offset - (prefix.rfind("\n") + 1) + 1


def _json_hint(text: str, exc: json.JSONDecodeError) -> str:
    before = text[: exc.pos].rstrip()
    after = text[exc.pos : exc.pos + 2]
    if after.startswith(("//", "/*")):
        return "JSON has no comments: remove the comment"
    if before.endswith(",") and after[:1] in ("}", "]"):
        return "remove the trailing comma before the closing bracket"
    if exc.msg.startswith("Expecting property name enclosed in double quotes"):
        return "JSON keys need double quotes"
    return "fix the JSON at that position (a validator such as `python -m json.tool FILE` shows it too)"


@dataclass(frozen=True)
class JsonStyle:
    """How a JSON file was laid out, so a rewrite keeps its indentation and final newline."""

    indent: str | None = "  "
    final_newline: bool = True
    ensure_ascii: bool = False

    @classmethod
    def of(cls, data: bytes | None) -> JsonStyle:
        if not data:
            return cls()
        text = data.decode("utf-8", "replace")
        match = re.search(r"^[{\[][ \t]*\r?\n([ \t]+)\S", text)
        indent: str | None = match.group(1) if match else None
        if indent is None and "\n" in text.strip():
            indent = "  "
        non_ascii_escaped = re.search(r"\\u00[89a-fA-F][0-9a-fA-F]|\\u0[1-9a-fA-F][0-9a-fA-F]{2}|\\u[1-9a-fA-F]", text)
        raw_non_ascii = not text.isascii()  # in C: ~/.claude.json can hold tens of MB of prompt history
        return cls(indent=indent, final_newline=text.endswith("\n"), ensure_ascii=bool(non_ascii_escaped) and not raw_non_ascii)

    def dump(self, doc: Any) -> bytes:
        # indent=None keeps a one-line file on one line.
        text = json.dumps(doc, indent=self.indent, ensure_ascii=self.ensure_ascii)
        if self.final_newline:
            text += "\n"
        return encode_json_text(text, doc, self.indent, self.final_newline)


def encode_json_text(text: str, doc: Any, indent: str | None, final_newline: bool) -> bytes:
    """UTF-8 bytes of serialized JSON; a lone surrogate (legal as a `\\ud800` escape) is written escaped."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(doc, indent=indent, ensure_ascii=True) + ("\n" if final_newline else "")).encode("ascii")


def rewrite(path: Path, before: bytes, old: dict[str, Any], new: dict[str, Any],
            raw: Mapping[str, RawMember] | None = None, frame: Frame | None = None) -> bytes:
    """`new` as text, keeping the bytes of every member of `before` (parsed: `old`) that did not change, and the
    original text (`raw`, the journal's) of members that are back to their original value; in `before`'s style.

    Raises:
        InvalidFileError: a value that must be written anew holds a number JSON cannot spell (1e999).
    """
    from dsconfig import jsonsplice

    style = JsonStyle.of(before)
    text = before.decode("utf-8")
    try:
        for ascii_only in (style.ensure_ascii, True):  # a lone surrogate (legal as an escape) cannot be UTF-8
            spliced = jsonsplice.splice(text, old, new, indent=style.indent, ensure_ascii=ascii_only, raw=raw,
                                        frame=frame)
            if spliced is None:
                break
            try:
                return spliced.encode("utf-8")
            except UnicodeEncodeError:
                continue
        json.dumps(new, allow_nan=False)  # the whole document is written anew below: same check
    except ValueError:
        raise InvalidFileError(path, "holds a number too large for JSON (such as 1e999) where dsconfig must write",
                               "write the number within range (or remove it), then run again") from None
    return style.dump(new)
