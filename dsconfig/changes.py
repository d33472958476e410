"""Planning key-level edits of other programs' JSON files, and their exact undo: `FilePlan`s, pure data.

Every target (Claude Code, Claude Desktop) describes what it wants as *key edits*: "this key path should
hold this value" (or be absent). This module turns them, on the file as it is now, into a `FilePlan`: old
bytes -> new bytes, the journal record to keep, a diff for --dry-run. It reads the file and the journal and
writes nothing; dsconfig.apply writes plans (lock, backup, journal, atomic write, all-or-nothing).

Undo is key-level, always, on the file as it is now: `off` puts back only the members dsconfig owns, to what
they held before dsconfig first set them, with the format-preserving splice, and touches nothing else. Others
write between dsconfig's commands (the user, Claude Code itself, other tools): their changes survive. With
no foreign change since, the result is the original bytes (the journal keeps the original text of every
top-level member it touched). A whole-file backup is kept as the user's safety copy; it is never how `off`
works.
"""

from __future__ import annotations

import copy
import difflib
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dsconfig import fileio, jsonfile, jsonsplice
from dsconfig.errors import InvalidFileError
from dsconfig.journal import FileRecord, Journal, KeyRecord
from dsconfig.keypaths import (
    ABSENT,
    KeyPath,
    NotAContainer,
    check_containers,
    get_at,
    json_type,
    path_text,
    previous_sibling,
    same,
    set_at,
)


@dataclass(frozen=True)
class FilePlan:
    """The bytes a file holds now and the bytes it will hold (None: absent). Pure data, shown by --dry-run."""

    path: Path
    before: bytes | None
    after: bytes | None
    record: FileRecord | None  # the journal record after applying (None: drop it)
    notes: tuple[str, ...] = ()
    mode: int | None = None  # permission bits to give the file (None: it keeps its own); `off` restoring them

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        def lines(data: bytes | None) -> list[str]:
            return [] if data is None else data.decode("utf-8", "replace").splitlines(keepends=True)

        shown = str(self.path).lstrip("/")  # git's a/ b/ prefixes, without a doubled slash
        a = f"a/{shown}" if self.before is not None else "/dev/null"
        b = f"b/{shown}" if self.after is not None else "/dev/null"
        text = "".join(difflib.unified_diff(lines(self.before), lines(self.after), a, b))
        return text if text.endswith("\n") or not text else text + "\n\\ No newline at end of file\n"


def _read_doc(path: Path, data: bytes | None, what: str) -> dict[str, Any]:
    return {} if data is None else jsonfile.check_depth(path, jsonfile.parse_json_object(path, data, what=what), what)


def _not_a_container(path: Path, exc: NotAContainer) -> InvalidFileError:
    where = path_text(exc.at)
    return InvalidFileError(path, f"{where} holds a JSON {json_type(exc.found)} where an object is expected",
                            f"fix {where} by hand (an object such as {{}}), or remove it, then run again")


def _check_paths(path: Path, doc: dict[str, Any], key_paths: Iterable[KeyPath]) -> None:
    for kpath in key_paths:
        try:
            check_containers(doc, kpath)
        except NotAContainer as exc:
            raise _not_a_container(path, exc) from None


@dataclass(frozen=True)
class _Restore:
    """In plan_json's wanted edits: this member is no longer wanted; put back what it held before dsconfig."""

    key: KeyRecord


def plan_json(
    path: Path,
    edits: Mapping[KeyPath, Any],
    *,
    owner: Mapping[str, str],
    journal: Journal,
    what: str = "settings file",
    validate: Callable[[Path, dict[str, Any]], None] | None = None,
    new_file_style: jsonfile.JsonStyle | None = None,
) -> FilePlan:
    """Plan setting `edits` (key path -> value or ABSENT) in the JSON object file `path`, as it is now.

    What each member held before dsconfig is recorded once, at the first change, and kept by later switches.
    Members this owner set earlier and no longer wants go back to what they held before dsconfig (switching
    from profile A to B leaves nothing of A), unless someone changed them since (then they are theirs). Every
    other member stays as it is, byte for byte.

    Raises:
        InvalidFileError: the file is not a readable JSON object, holds a scalar where an object is needed, or
            holds a number JSON cannot spell (1e999) where dsconfig must write or in a value it must record before
            replacing it (with line and column); or whatever `validate` raises.
    """
    before = fileio.read_bytes(path)
    doc = _read_doc(path, before, what)
    if validate:
        validate(path, doc)
    record = journal.get(path)
    if record is not None and before is None:
        # Removed since dsconfig wrote it: what it recorded went with the file (the removal is the user's).
        record = None
    _check_paths(path, doc, edits)
    new_doc = copy.deepcopy(doc)
    created: list[KeyPath] = list(record.created_containers) if record else []
    notes: list[str] = []
    wanted: dict[KeyPath, Any] = dict(edits)
    for owned in record.keys if record else []:
        if owned.path not in wanted:
            wanted[owned.path] = _Restore(owned)
    keys: list[KeyRecord] = []
    restoring: list[KeyRecord] = []
    raw = dict(record.raw) if record else {}
    owned_tops = {k.path[0] for k in record.keys} if record else set()
    current_text = before.decode("utf-8", "surrogatepass") if before is not None else ""
    members: dict[str, jsonsplice.RawMember] | None = None  # scanned when first needed (a big file's cost)
    for kpath, value in wanted.items():
        now = get_at(doc, kpath)
        if isinstance(value, _Restore):
            owned = value.key
            if _is_ours(owned, now):
                restoring.append(owned)
            else:
                notes.append(f"{path}: {path_text(kpath)} was changed by someone else since dsconfig set it; left as it is")
            continue
        previous = record.key(kpath) if record else None
        if previous is not None:
            original, prev, first = previous.before, previous.prev, previous.first
            if not _is_ours(previous, now) and not same(now, value):
                notes.append(f"{path}: {path_text(kpath)} was changed by hand since dsconfig set it; replaced by the "
                             "profile's value (`dsconfig off` puts back what it held before dsconfig)")
        else:
            jsonfile.check_recordable(path, current_text, kpath, now, path_text(kpath))
            original, prev = now, previous_sibling(doc, kpath)
            first = now is not ABSENT and prev is None and isinstance(kpath[-1], str)
            top = kpath[0]
            if isinstance(top, str) and top not in owned_tops and top not in raw and top in doc:
                if members is None:
                    members = jsonsplice.top_members(current_text) or {}
                if top in members:
                    raw[top] = members[top]
        set_at(new_doc, kpath, value, created)
        keys.append(KeyRecord(kpath, original, value, prev=prev, first=first))
    _restore_in_order(new_doc, restoring, created)
    _prune_containers(new_doc, created)
    if before is None and new_doc == {}:
        return FilePlan(path, None, None, None)  # nothing to set in a file that does not exist: leave it absent
    if before is None:
        after: bytes | None = (new_file_style or jsonfile.JsonStyle()).dump(new_doc)
    elif _same_doc(new_doc, doc):
        after = before
    else:
        after = jsonfile.rewrite(path, before, doc, new_doc, raw, record.frame if record else None)
    new_record = FileRecord(
        path=path,
        owner=dict(owner),
        kind="json",
        created=record.created if record else before is None,
        original_sha256=record.original_sha256 if record else (fileio.sha256(before) if before is not None else None),
        backup=record.backup if record else None,
        written_sha256=fileio.sha256(after) if after is not None else None,
        keys=keys,
        created_containers=created,
        created_dirs=list(record.created_dirs) if record else [],
        raw=raw,
        empty_text=record.empty_text if record else (current_text if before is not None and doc == {} else None),
        frame=record.frame if record else (jsonsplice.top_frame(current_text) if before is not None else None),
        mode_before=record.mode_before if record else None,
        mode_set=record.mode_set if record else None,
    )
    return FilePlan(path, before, after, new_record, tuple(notes))


def _restore_in_order(doc: dict[str, Any], keys: Sequence[KeyRecord], created: list[KeyPath] | None = None) -> None:
    """Put each key's `before` value back, a member after the member that preceded it originally: when both come
    back, the earlier one first, so `{"0": .., "1": ..}` does not come back as `{"1": .., "0": ..}`."""
    pending = list(keys)
    while pending:
        ready = [k for k in pending if not (k.prev is not None and k.before is not ABSENT and any(
            o is not k and o.before is not ABSENT and o.path == (*k.path[:-1], k.prev) for o in pending))]
        for key in ready or pending:  # none ready: a cycle cannot happen, but never loop for ever
            set_at(doc, key.path, key.before, created if created is not None else [], after=key.prev, first=key.first)
        pending = [k for k in pending if k not in (ready or pending)]


def _same_doc(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """`same` for whole documents: Python's == first (in C, and false at once when a member was added or
    removed), so a ~/.claude.json of tens of MB is not serialized twice just to learn that it changed."""
    return a == b and same(a, b)


def _is_ours(key: KeyRecord, now: Any) -> bool:
    """Whether the member holds a value dsconfig wrote there (or its original): nobody else changed it."""
    return same(now, key.wrote) or same(now, key.before) or any(same(now, v) for v in key.also)


def _prune_containers(doc: dict[str, Any], created: list[KeyPath]) -> None:
    """Remove containers dsconfig created that are now empty (deepest first)."""
    for container in sorted(set(created), key=len, reverse=True):
        if get_at(doc, container) in ({}, []):
            set_at(doc, container, ABSENT, [])


def plan_whole(path: Path, data: bytes, *, owner: Mapping[str, str], journal: Journal) -> FilePlan:
    """Plan creating (or updating) a file dsconfig owns whole, such as a credential helper script.

    Raises:
        InvalidFileError: the file exists and dsconfig did not make it, or it is not a readable regular file.
    """
    before = fileio.read_bytes(path)
    record = journal.get(path)
    if before is not None and record is None:
        raise InvalidFileError(path, "exists and was not made by dsconfig", "move it away, then run again")
    rec = FileRecord(path=path, owner=dict(owner), kind="whole", created=True, original_sha256=None, backup=None,
                     written_sha256=fileio.sha256(data), created_dirs=list(record.created_dirs) if record else [])
    notes: tuple[str, ...] = ()
    if before is not None and record is not None and before != data and \
            fileio.sha256(before) not in {record.written_sha256, record.pending_sha256} - {None}:
        notes = ((f"{path} was changed since dsconfig wrote it (by you or the app); dsconfig made it and writes "
                 "it again"),)
    return FilePlan(path, before, data, rec, notes)


def plan_undo(path: Path, *, journal: Journal, force: bool = False, what: str = "settings file") -> FilePlan:
    """Plan putting back the members dsconfig owns in `path`, on the file as it is now. Returns a plan whose
    record is None (or, when the user changed an owned member since, a record keeping just those members, so
    `off --force` can still restore them).

    Raises:
        InvalidFileError: the file is not a readable JSON object, or holds a scalar where dsconfig's members live.
    """
    record = journal.get(path)
    current = fileio.read_bytes(path)
    if record is None:
        return FilePlan(path, current, current, None)
    if current is None:
        return FilePlan(path, None, None, None, (f"{path} was removed by someone else; nothing to restore",))
    if record.kind == "whole":
        # A kill between the journal's "pending" entry and its confirmation leaves the old or the new bytes.
        if force or fileio.sha256(current) in {record.written_sha256, record.pending_sha256} - {None}:
            return FilePlan(path, current, None, None)
        # Still dsconfig's (the record stays, kept for `off --force`, and the next `use` may write it again).
        return FilePlan(path, current, current, replace(record, kept_only=True),
                        ((f"{path} was changed by someone else since dsconfig wrote it; left in place "
                         "(`off --force` removes it)"),))
    doc = _read_doc(path, current, what)
    _check_paths(path, doc, (k.path for k in record.keys))
    new_doc = copy.deepcopy(doc)
    notes: list[str] = []
    kept: list[KeyRecord] = []
    restoring: list[KeyRecord] = []
    for key in record.keys:
        now = get_at(doc, key.path)
        if not force and not _is_ours(key, now):
            notes.append(f"{path}: {path_text(key.path)} was changed after dsconfig set it; kept your value "
                         "(use --force to restore the original)")
            # Still what dsconfig wrote as `wrote`: a later `off` keeps the person's value again; only --force restores.
            kept.append(KeyRecord(key.path, key.before, key.wrote, also=key.also, prev=key.prev, first=key.first))
            continue
        restoring.append(key)
    _restore_in_order(new_doc, restoring)
    _prune_containers(new_doc, list(record.created_containers))
    after: bytes | None
    if record.created and new_doc == {} and path.is_symlink():
        after = b"{}\n"  # someone made it a link since: the link and its target are theirs, the content was ours
    elif record.created and new_doc == {}:
        after = None  # dsconfig made this file and nobody put anything else in it
    elif new_doc == {} and record.empty_text is not None and not kept:
        after = record.empty_text.encode("utf-8", "surrogatepass")
    elif _same_doc(new_doc, doc):
        after = current
    else:
        after = jsonfile.rewrite(path, current, doc, new_doc, record.raw, record.frame)
    remaining = None
    if kept:
        remaining = copy.copy(record)
        remaining.keys = kept
        remaining.written_sha256 = fileio.sha256(after) if after is not None else None
        remaining.pending_sha256 = None
        remaining.kept_only = True
    return FilePlan(path, current, after, remaining, tuple(notes), mode=_mode_to_restore(path, record, after, kept))


def _mode_to_restore(path: Path, record: FileRecord, after: bytes | None, kept: Sequence[KeyRecord]) -> int | None:
    """The permission bits the file had before dsconfig tightened them, when `off` gives back everything it wrote
    (a member kept by hand may be a key: the file then stays 0600) and nobody changed the bits since."""
    if record.mode_before is None or after is None or kept:
        return None
    try:
        now = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return record.mode_before if now == record.mode_set else None
