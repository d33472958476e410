"""Key paths over parsed JSON documents: where in another program's file a value dsconfig owns lives.

A key path is a tuple of segments: a string is an object member's name; `Match("id", value)` is the element of
a list whose `id` equals value (Claude Desktop's `_meta.json` entries list). `ABSENT` is the value of a member
that does not exist. Pure functions, no I/O.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any


class _Absent:
    """The value of a key that does not exist."""

    def __repr__(self) -> str:
        return "ABSENT"

    # One instance: `value is ABSENT` must survive copies of records that hold it.
    def __copy__(self) -> _Absent:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Absent:
        return self


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Match:
    """A key-path segment selecting the list element whose `field` equals `value`."""

    field: str
    value: str


Segment = str | Match
KeyPath = tuple[Segment, ...]


class NotAContainer(ValueError):
    """A member on the way to a key path holds a scalar (or the wrong container): `"env": "oops"`."""

    def __init__(self, at: KeyPath, found: Any) -> None:
        super().__init__(f"{path_text(at)} holds a JSON {json_type(found)}")
        self.at = at
        self.found = found


def json_type(value: Any) -> str:
    """JSON's name for the type of a parsed value: object, array, string, number, boolean, null."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "null" if value is None else "string"


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values (1 == True and 1 == 1.0 in Python; JSON tells them apart)."""
    if a is ABSENT or b is ABSENT:
        return a is b
    try:
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (TypeError, ValueError):  # Hashed and other non-JSON stand-ins compare by their own __eq__
        return bool(a == b)


def get_at(doc: Any, path: KeyPath) -> Any:
    """The value at `path` in `doc`, or ABSENT (also when a container on the way is missing or a scalar)."""
    node = doc
    for seg in path:
        if isinstance(seg, Match):
            if not isinstance(node, list):
                return ABSENT
            node = next((x for x in node if isinstance(x, dict) and x.get(seg.field) == seg.value), ABSENT)
        else:
            if not isinstance(node, dict) or seg not in node:
                return ABSENT
            node = node[seg]
        if node is ABSENT:
            return ABSENT
    return node


def check_containers(doc: Any, path: KeyPath) -> None:
    """Check that every member on the way to `path` that exists can hold the next segment.

    Raises:
        NotAContainer: one holds a scalar (or an object where a list is matched); it names that member.
    """
    node = doc
    for i, seg in enumerate(path):
        wanted = list if isinstance(seg, Match) else dict
        if not isinstance(node, wanted):
            raise NotAContainer(path[:i], node)
        node = get_at(node, (seg,))
        if node is ABSENT:
            return


def previous_sibling(doc: Any, path: KeyPath) -> str | None:
    """The name of the member just before the last segment of `path` in its object (None: first, or absent)."""
    if not path or isinstance(path[-1], Match):
        return None
    parent = get_at(doc, path[:-1]) if len(path) > 1 else doc
    if not isinstance(parent, dict) or path[-1] not in parent:
        return None
    keys = list(parent)
    index = keys.index(path[-1])
    return keys[index - 1] if index else None


def set_at(doc: dict[str, Any], path: KeyPath, value: Any, created: list[KeyPath], *, after: str | None = None,
           first: bool = False) -> None:
    """Set (or, for ABSENT, delete) the value at `path`; containers made on the way are added to `created`.

    A member that does not exist yet is inserted right after the member named `after` when that exists (at the
    start with `first`), else at the end: `off` puts a removed member back where it was.

    Raises:
        NotAContainer: a member on the way holds a scalar.
    """
    check_containers(doc, path)
    node: Any = doc
    for i, seg in enumerate(path[:-1]):
        nxt = get_at(node, (seg,))
        if nxt is ABSENT:
            if value is ABSENT:
                return
            nxt = [] if isinstance(path[i + 1], Match) else {}
            _put(node, seg, nxt)
            created.append(path[: i + 1])
        node = nxt
    last = path[-1]
    if value is ABSENT:
        _remove(node, last)
    elif isinstance(last, str) and last not in node and (first or (after is not None and after in node)):
        items = list(node.items())
        index = 0 if first else [k for k, _ in items].index(after) + 1
        items.insert(index, (last, copy.deepcopy(value)))
        node.clear()
        node.update(items)
    else:
        _put(node, last, copy.deepcopy(value))


def _put(node: Any, seg: Segment, value: Any) -> None:
    if isinstance(seg, Match):
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get(seg.field) == seg.value:
                node[i] = value
                return
        node.append(value)
    else:
        node[seg] = value


def _remove(node: Any, seg: Segment) -> None:
    if isinstance(seg, Match):
        if isinstance(node, list):
            node[:] = [x for x in node if not (isinstance(x, dict) and x.get(seg.field) == seg.value)]
    elif isinstance(node, dict):
        node.pop(seg, None)


def encode_path(path: KeyPath) -> list[Any]:
    """The journal's JSON form of a key path."""
    return [{"match": s.field, "value": s.value} if isinstance(s, Match) else s for s in path]


def decode_path(raw: Any) -> KeyPath:
    """The key path from its journal form.

    Raises:
        ValueError: not a non-empty list.
        TypeError: a segment is neither a name nor a list match.
    """
    if not isinstance(raw, list) or not raw:
        raise ValueError("a key path must be a non-empty list")
    out: list[Segment] = []
    for s in raw:
        if isinstance(s, str):
            out.append(s)
        elif isinstance(s, dict) and isinstance(s.get("match"), str) and isinstance(s.get("value"), str):
            out.append(Match(s["match"], s["value"]))
        else:
            raise TypeError(f"bad key path segment {s!r}")
    return tuple(out)


def path_text(path: KeyPath) -> str:
    """`env.ANTHROPIC_BASE_URL`, `entries[id=...]`: a key path as people read it."""
    return ".".join(f"[{s.field}={s.value}]" if isinstance(s, Match) else s for s in path) or "(the top level)"
