"""Rewrite a JSON object's text keeping every unchanged member byte for byte.

`json.dumps` of an edited document would re-indent and re-wrap everything: a user's hand-formatted
`"permissions": {"allow": ["Bash(npm test)"]}` would come back spread over five lines. Instead, the
original text is scanned for the spans of its members; a member whose value did not change is copied as it
was, a changed member that is an object on both sides is spliced recursively, and only new or changed
values are serialized (indented to fit where they go). Formatting inside untouched values, comments-free
spacing, number spellings like `1e-7`: all kept.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dsconfig.keypaths import Match
from dsconfig.keypaths import same as _same

# A top-level member's original text, as the journal keeps it: (the key with its colon, the value).
RawMember = tuple[str, str]

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class _Member:
    key: str
    start: int  # where the key's opening quote is
    key_end: int  # just after the key's closing quote
    value_start: int
    value_end: int


@dataclass(frozen=True)
class _Object:
    start: int  # the "{"
    end: int  # just after the "}"
    members: tuple[_Member, ...]


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _scan_object(text: str, i: int) -> _Object:
    """The members of the object starting at text[i] == "{" (the text is known to be valid JSON)."""
    start = i
    i = _skip(text, i + 1)
    members: list[_Member] = []
    if text[i] == "}":
        return _Object(start, i + 1, ())
    while True:
        key_start = i
        key, key_end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = _skip(text, key_end)
        i = _skip(text, i + 1)  # the ":"
        _, end = _DECODER.raw_decode(text, i)
        members.append(_Member(key, key_start, key_end, i, end))
        i = _skip(text, end)
        if text[i] == "}":
            return _Object(start, i + 1, tuple(members))
        i = _skip(text, i + 1)  # the ","


Frame = tuple[str, str, str]  # an object's text around its members: after "{", between two members, before "}"


def top_frame(text: str) -> Frame | None:
    """The top-level object's lead, separator and tail (None: not an object, or no members to take them from)."""
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        return None
    obj = _scan_object(text, i)
    if not obj.members:
        return None
    first, last = obj.members[0], obj.members[-1]
    lead = text[obj.start + 1 : first.start]
    between = text[first.value_end : obj.members[1].start] if len(obj.members) > 1 else ("," + lead if lead else ", ")
    return lead, between, text[last.value_end : obj.end - 1]


def top_members(text: str) -> dict[str, RawMember] | None:
    """The exact text of each top-level member of the JSON object `text` (None: not an object)."""
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        return None
    obj = _scan_object(text, i)
    return {m.key: (text[m.start : m.value_start], text[m.value_start : m.value_end]) for m in obj.members}


def nonfinite_number_at(text: str, path: Sequence[str | Match]) -> int | None:
    """Where in the JSON object `text` the value at `path` holds a number Python reads as infinite (such as
    `1e999`, valid JSON that no JSON writer can spell again): the offset of the first one, or None."""
    i = _skip(text, 0)
    for part in path:
        if i >= len(text):
            return None
        if text[i] == "{" and isinstance(part, str):
            member = next((m for m in _scan_object(text, i).members if m.key == part), None)
            if member is None:
                return None
            i = member.value_start
        elif text[i] == "[" and isinstance(part, Match):
            spans, _ = _scan_array(text, i)
            found = next((s for s, _ in spans if _element_matches(text, s, part)), None)
            if found is None:
                return None
            i = found
        else:
            return None
    return _first_nonfinite(text, i)


def _element_matches(text: str, start: int, part: Match) -> bool:
    value, _ = _DECODER.raw_decode(text, start)
    return isinstance(value, dict) and value.get(part.field) == part.value


def _first_nonfinite(text: str, i: int) -> int | None:
    if text[i] == "{":
        starts = [m.value_start for m in _scan_object(text, i).members]
    elif text[i] == "[":
        starts = [s for s, _ in _scan_array(text, i)[0]]
    else:
        value, _ = _DECODER.raw_decode(text, i)
        return i if isinstance(value, float) and math.isinf(value) else None
    return next((hit for hit in (_first_nonfinite(text, s) for s in starts) if hit is not None), None)


def _line_indent(text: str, pos: int) -> str:
    line_start = text.rfind("\n", 0, pos) + 1
    j = line_start
    while j < pos and text[j] in " \t":
        j += 1
    return text[line_start:j]


def splice(text: str, old: dict[str, Any], new: dict[str, Any], *, indent: str | None, ensure_ascii: bool,
           raw: Mapping[str, RawMember] | None = None, frame: Frame | None = None) -> str | None:
    """The text of `new`, reusing `text` (whose parsed value is `old`) wherever nothing changed.

    `raw`: the original text of top-level members (from the journal); a member whose new value equals its
    original is written with that text, so undoing dsconfig's edit gives back the user's exact bytes.
    Returns None when the layout cannot be kept (not an object, or an object with no members to take the
    separators from); the caller then serializes the whole document.

    Raises:
        ValueError: a value that must be written anew holds a number JSON cannot spell (1e999 parses as infinity).
    """
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        return None
    obj = _scan_object(text, i)
    if not obj.members and frame is not None and raw and new and all(
            k in raw and _raw_equals(raw[k][1], v) for k, v in new.items()):
        # Members come back into an object dsconfig emptied: the original's frame and texts (the journal's).
        lead, between, tail = frame
        return text[:i] + "{" + lead + between.join(raw[k][0] + raw[k][1] for k in new) + tail + "}" + text[obj.end :]
    body = _render(text, obj, old, new, indent, ensure_ascii, raw=raw or {}, frame=frame)
    if body is None:
        return None
    return text[:i] + body + text[_scan_object(text, i).end :]


def _render(text: str, obj: _Object, old: dict[str, Any], new: dict[str, Any], indent: str | None, ensure_ascii: bool,
            outer_sep: str = ", ", raw: Mapping[str, RawMember] | None = None, frame: Frame | None = None) -> str | None:
    if not obj.members:
        return None
    first = obj.members[0]
    lead = text[obj.start + 1 : first.start]  # e.g. "\n  " (or "" in a one-line object)
    tail = text[obj.members[-1].value_end : obj.end]  # e.g. "\n}"
    if len(obj.members) > 1:
        second = obj.members[1]
        between = text[obj.members[0].value_end : second.start]  # e.g. ",\n  "
    elif frame is not None:
        between = frame[1]  # one member left: the original file's separator (the journal's), not a guess
    else:
        # One member: nothing to copy, so follow the enclosing object's one-line separator.
        between = "," + lead if lead else outer_sep
    by_key = {m.key: m for m in obj.members}
    member_indent = _line_indent(text, first.start) if "\n" in lead else ""
    colon = text[first.key_end : first.value_start]  # ": " or ":" as the file writes it
    inline_sep = between if "\n" not in between else ", "
    separators = (inline_sep, colon)
    parts: list[str] = []
    for key, value in new.items():
        member = by_key.get(key)
        if member is not None and key in old and _same(old[key], value):
            parts.append(text[member.start : member.value_end])
            continue
        if raw and key in raw and _raw_equals(raw[key][1], value):
            parts.append(raw[key][0] + raw[key][1])
            continue
        if member is not None and isinstance(old.get(key), dict) and isinstance(value, dict) and text[member.value_start] == "{":
            inner = _render(text, _scan_object(text, member.value_start), old[key], value, indent, ensure_ascii, inline_sep)
            if inner is not None:
                parts.append(text[member.start : member.value_start] + inner)
                continue
        if member is not None and isinstance(old.get(key), list) and isinstance(value, list) and text[member.value_start] == "[":
            items = _render_array(text, member.value_start, old[key], value, indent, ensure_ascii, separators)
            if items is not None:
                parts.append(text[member.start : member.value_start] + items)
                continue
        parts.append(json.dumps(key, ensure_ascii=ensure_ascii) + colon + _dump(value, indent, member_indent, ensure_ascii, separators))
    if not parts:
        # Everything was removed: an empty object in the file's own style.
        return "{" + ("\n" + _line_indent(text, obj.start) if "\n" in lead else "") + "}"
    return "{" + lead + between.join(parts) + tail


def _scan_array(text: str, i: int) -> tuple[list[tuple[int, int]], int]:
    """The (start, end) spans of the elements of the array starting at text[i] == "[", and its end."""
    i = _skip(text, i + 1)
    spans: list[tuple[int, int]] = []
    if text[i] == "]":
        return spans, i + 1
    while True:
        _, end = _DECODER.raw_decode(text, i)
        spans.append((i, end))
        i = _skip(text, end)
        if text[i] == "]":
            return spans, i + 1
        i = _skip(text, i + 1)  # the ","


def _render_array(text: str, start: int, old: list[Any], new: list[Any], indent: str | None, ensure_ascii: bool,
                  separators: tuple[str, str]) -> str | None:
    """The text of the list `new` at text[start:], copying every element that is still there (Desktop's
    `entries`: the user's own entries keep their exact text, numbers such as 1e999 included). None: no layout
    to follow (the array had no elements)."""
    spans, end = _scan_array(text, start)
    if not spans:
        return None
    lead = text[start + 1 : spans[0][0]]
    tail = text[spans[-1][1] : end]
    between = text[spans[0][1] : spans[1][0]] if len(spans) > 1 else ("," + lead if lead else ", ")
    item_indent = _line_indent(text, spans[0][0]) if "\n" in lead else ""
    unused = list(range(len(old)))
    parts: list[str] = []
    for value in new:
        match = next((j for j in unused if _same(old[j], value)), None)
        if match is not None:
            unused.remove(match)
            parts.append(text[spans[match][0] : spans[match][1]])
        else:
            parts.append(_dump(value, indent, item_indent, ensure_ascii, separators))
    if not parts:
        return "[" + ("\n" + _line_indent(text, start) if "\n" in lead else "") + "]"
    return "[" + lead + between.join(parts) + tail


def _raw_equals(raw_value: str, value: Any) -> bool:
    try:
        return _same(json.loads(raw_value), value)
    except ValueError:
        return False


def _dump(value: Any, indent: str | None, member_indent: str, ensure_ascii: bool, separators: tuple[str, str]) -> str:
    # allow_nan=False: a number beyond float range (1e999) parses as inf, and json would write it back as
    # `Infinity`, which no JSON reader (Claude Desktop's included) accepts. ValueError instead: the caller refuses.
    if indent is None:
        return json.dumps(value, ensure_ascii=ensure_ascii, separators=separators, allow_nan=False)
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    if "\n" not in text:
        return text
    return text.replace("\n", "\n" + member_indent)
