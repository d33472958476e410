"""Planned, journaled, key-level edits of other programs' JSON files, and their exact undo.

Every target (Claude Code, Claude Desktop) describes what it wants as *key edits*: "this key path should
hold this value" (or be absent). This module turns them into a `FilePlan` (pure: old bytes -> new bytes, a
diff) and applies it (I/O: lock, backup, atomic write, journal).

Undo is key-level, always, on the file as it is now: `off` puts back only the members dsconfig owns, to what
they held before dsconfig first set them, with the format-preserving splice, and touches nothing else. Others
write between dsconfig's commands (the user, Claude Code itself, other tools): their changes survive. With
no foreign change since, the result is the original bytes (the journal keeps the original text of every
top-level member it touched). A whole-file backup is kept as the user's safety copy; it is never how `off`
works.

A command that changes several files is all-or-nothing: when a later file fails (disk full, permissions,
Ctrl-C), the files this command already switched are put back (`apply_all`); a kill leaves the journal's
switch marker behind, and the next command says so.

The journal (dsconfig.journal) is written *before* the file: if dsconfig is killed in between, the record
lists both the old and the new value as dsconfig's, so undo is right whichever of the two the file holds.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsconfig import fileio, jsonsplice
from dsconfig.errors import DsconfigError, InvalidFileError
from dsconfig.journal import SECRET_NAMES, FileRecord, Hashed, Journal, KeyRecord
from dsconfig.keypaths import (
    ABSENT,
    KeyPath,
    Match,
    NotAContainer,
    get_at,
    json_type,
    path_text,
    previous_sibling,
    same,
    set_at,
)

__all__ = [
    "ABSENT", "SECRET_NAMES", "ConcurrentChange", "FilePlan", "FileRecord", "Hashed", "Journal", "KeyPath",
    "KeyRecord", "Match", "SwitchFailed", "apply", "apply_all", "forget_originals", "get_at", "path_text",
    "plan_json", "plan_undo", "plan_whole", "set_at",
]


# --- plans ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilePlan:
    """The bytes a file holds now and the bytes it will hold (None: absent). Pure data, shown by --dry-run."""

    path: Path
    before: bytes | None
    after: bytes | None
    record: FileRecord | None  # the journal record after applying (None: drop it)
    notes: tuple[str, ...] = ()

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
    return {} if data is None else fileio.check_depth(path, fileio.parse_json_object(path, data, what=what), what)


def _not_a_container(path: Path, exc: NotAContainer) -> InvalidFileError:
    where = path_text(exc.at)
    return InvalidFileError(path, f"{where} holds a JSON {json_type(exc.found)} where an object is expected",
                            f"fix {where} by hand (an object such as {{}}), or remove it, then run again")


def _check_paths(path: Path, doc: dict[str, Any], key_paths: Iterable[KeyPath]) -> None:
    from dsconfig.keypaths import check_containers

    for kpath in key_paths:
        try:
            check_containers(doc, kpath)
        except NotAContainer as exc:
            raise _not_a_container(path, exc) from None


def _rewrite(path: Path, before: bytes, old: dict[str, Any], new: dict[str, Any],
             raw: Mapping[str, jsonsplice.RawMember], frame: jsonsplice.Frame | None = None) -> bytes:
    """`new` as text, keeping the bytes of every member of `before` (parsed: `old`) that did not change, and the
    original text (`raw`) of members that are back to their original value. Raises InvalidFileError when a
    value that must be written anew holds a number JSON cannot spell (1e999)."""
    style = fileio.JsonStyle.of(before)
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
    new_file_style: fileio.JsonStyle | None = None,
) -> FilePlan:
    """Plan setting `edits` (key path -> value or ABSENT) in the JSON object file `path`, as it is now.

    What each member held before dsconfig is recorded once, at the first change, and kept by later switches.
    Members this owner set earlier and no longer wants go back to what they held before dsconfig (switching
    from profile A to B leaves nothing of A), unless someone changed them since (then they are theirs). Every
    other member stays as it is, byte for byte. Raises InvalidFileError for a file that is not a JSON object or
    holds a scalar where an object is needed.
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
    members = (jsonsplice.top_members(current_text) or {}) if before is not None else {}
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
            original, prev = now, previous_sibling(doc, kpath)
            first = now is not ABSENT and prev is None and isinstance(kpath[-1], str)
            top = kpath[0]
            if isinstance(top, str) and top not in owned_tops and top not in raw and top in members:
                raw[top] = members[top]
        set_at(new_doc, kpath, value, created)
        keys.append(KeyRecord(kpath, original, value, prev=prev, first=first))
    _restore_in_order(new_doc, restoring, created)
    _prune_containers(new_doc, created)
    if before is None and new_doc == {}:
        return FilePlan(path, None, None, None)  # nothing to set in a file that does not exist: leave it absent
    if before is None:
        after: bytes | None = (new_file_style or fileio.JsonStyle()).dump(new_doc)
    elif same(new_doc, doc):
        after = before
    else:
        after = _rewrite(path, before, doc, new_doc, raw, record.frame if record else None)
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


def _is_ours(key: KeyRecord, now: Any) -> bool:
    """Whether the member holds a value dsconfig wrote there (or its original): nobody else changed it."""
    return same(now, key.wrote) or same(now, key.before) or any(same(now, v) for v in key.also)


def _prune_containers(doc: dict[str, Any], created: list[KeyPath]) -> None:
    """Remove containers dsconfig created that are now empty (deepest first)."""
    for container in sorted(set(created), key=len, reverse=True):
        if get_at(doc, container) in ({}, []):
            set_at(doc, container, ABSENT, [])


def plan_whole(path: Path, data: bytes, *, owner: Mapping[str, str], journal: Journal) -> FilePlan:
    """Plan creating (or updating) a file dsconfig owns whole, such as a credential helper script."""
    before = fileio.read_bytes(path)
    record = journal.get(path)
    if before is not None and record is None:
        raise InvalidFileError(path, "exists and was not made by dsconfig", "move it away, then run again")
    rec = FileRecord(path=path, owner=dict(owner), kind="whole", created=True, original_sha256=None, backup=None,
                     written_sha256=fileio.sha256(data), created_dirs=list(record.created_dirs) if record else [])
    return FilePlan(path, before, data, rec)


def plan_undo(path: Path, *, journal: Journal, force: bool = False, what: str = "settings file") -> FilePlan:
    """Plan putting back the members dsconfig owns in `path`, on the file as it is now. Returns a plan whose
    record is None (or, when the user changed an owned member since, a record keeping just those members, so
    `off --force` can still restore them). Raises InvalidFileError for a file that is not valid JSON or holds a
    scalar where dsconfig's members live."""
    record = journal.get(path)
    current = fileio.read_bytes(path)
    if record is None:
        return FilePlan(path, current, current, None)
    if current is None:
        return FilePlan(path, None, None, None, (f"{path} was removed by someone else; nothing to restore",))
    if record.kind == "whole":
        # A kill between the journal's "pending" entry and its confirmation leaves the old or the new bytes.
        if fileio.sha256(current) in {record.written_sha256, record.pending_sha256} - {None}:
            return FilePlan(path, current, None, None)
        return FilePlan(path, current, current, None, (f"{path} was changed by someone else since dsconfig wrote it; left in place",))
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
    elif same(new_doc, doc):
        after = current
    else:
        after = _rewrite(path, current, doc, new_doc, record.raw, record.frame)
    remaining = None
    if kept:
        remaining = copy.copy(record)
        remaining.keys = kept
        remaining.written_sha256 = fileio.sha256(after) if after is not None else None
        remaining.pending_sha256 = None
        remaining.kept_only = True
    return FilePlan(path, current, after, remaining, tuple(notes))


# --- applying -------------------------------------------------------------------------------------------


class ConcurrentChange(Exception):
    """The file changed between planning and writing (another program wrote it): plan again."""


def apply(plan: FilePlan, *, journal: Journal, mode: int | None = None) -> None:
    """Write one plan: under the file's lock, check nobody wrote it since planning, back up, journal, write.

    Raises ConcurrentChange when the file changed since planning, fileio.WriteError when it cannot be written.
    """
    with fileio.locked(plan.path):
        fileio.remove_stale_temp_files(plan.path)
        if fileio.read_bytes(plan.path) != plan.before:
            raise ConcurrentChange(str(plan.path))
        record = plan.record
        old = journal.get(plan.path)
        if record is not None and plan.before is not None and record.backup is None and not record.created:
            record.backup = str(fileio.backup(plan.path, plan.before))
        if record is None:
            if plan.changed:
                _write(plan, mode)
            if old is not None and plan.after is None:
                _remove_empty_dirs(old.created_dirs)
            if old is not None:
                journal.drop(plan.path)
            return
        if not plan.changed:
            if old is not None or plan.before is None:
                journal.put(record)
            return
        if plan.before is None and record.created and not record.created_dirs:
            record.created_dirs = [str(d) for d in _missing_dirs(fileio.real_target(plan.path).parent)]
        journal.put(_pending(record, old))  # journal first: a kill before the write leaves a record undo can use
        if fileio.read_bytes(plan.path) != plan.before:  # another program wrote it during backup and journal
            raise ConcurrentChange(str(plan.path))
        _write(plan, mode)
        journal.put(record)


def _pending(record: FileRecord, old: FileRecord | None) -> FileRecord:
    """The record to journal while the write is under way: both the old and the new value of every member
    count as dsconfig's, and members this write gives back stay listed until it is done."""
    pending = copy.deepcopy(record)
    pending.written_sha256 = None
    pending.pending_sha256 = record.written_sha256
    if old is None:
        return pending
    for key in pending.keys:
        previous = old.key(key.path)
        if previous is not None:
            key.also = (*previous.also, previous.wrote)
    listed = {k.path for k in pending.keys}
    pending.keys += [KeyRecord(k.path, k.before, k.before, also=(*k.also, k.wrote), prev=k.prev, first=k.first)
                     for k in old.keys if k.path not in listed]
    return pending


def _missing_dirs(folder: Path) -> list[Path]:
    """The folders `fileio.ensure_dir(folder)` is about to create, deepest first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty_dirs(folders: Iterable[str]) -> None:
    for folder in folders:  # deepest first, as recorded
        try:
            Path(folder).rmdir()
        except OSError:
            return  # not empty (someone put something there) or already gone: stop climbing


def _write(plan: FilePlan, mode: int | None) -> None:
    if plan.after is None:
        fileio.remove_file(plan.path)
        return
    try:
        fileio.atomic_write(plan.path, plan.after, mode=mode, expect=plan.before)
    except fileio.ChangedMeanwhile:
        raise ConcurrentChange(str(plan.path)) from None


class SwitchFailed(DsconfigError):
    """A multi-file change stopped part way; the message says which files were put back and which were not."""

    put_back_all = True  # False: some files stay switched (the journal's switch marker then stays too)


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Hold Ctrl-C (SIGINT) while files are switched; yields a function telling whether one arrived.

    A KeyboardInterrupt raised half-way through a write or between two files would leave a half-switched
    machine; instead apply_all looks at the flag between files and puts back what it already switched.
    Only the main thread can own signal handlers: elsewhere this defers nothing.
    """
    arrived: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: arrived.append(signum))
    try:
        yield lambda: bool(arrived)
    finally:
        signal.signal(signal.SIGINT, previous)


def apply_all(
    make_plans: Callable[[], Iterable[FilePlan]], *, journal: Journal, modes: Mapping[Path, int] | None = None, attempts: int = 5,
    plans: Sequence[FilePlan] | None = None, interrupted: Callable[[], bool] = lambda: False,
    finish: Callable[[], None] | None = None,
) -> list[FilePlan]:
    """Plan and apply several files, all or nothing; when another program writes one meanwhile, plan it again.

    Plans are all made (and so all validated) before the first write: a malformed file stops the command
    with nothing written. When a write fails part way (disk full, permissions, `interrupted()` turning true,
    any exception), the files already switched are put back and SwitchFailed says so; its message names any
    file that could not be put back. `finish` is the command's last step (recording the active profile): when it
    fails, the files are put back too. Pass `plans` when the caller has just made them (a dry run).
    """
    plans = list(make_plans()) if plans is None else list(plans)
    done: list[tuple[FilePlan, FileRecord | None]] = []
    in_flight: tuple[FilePlan, FileRecord | None] | None = None
    try:
        for plan in plans:
            if interrupted():
                raise KeyboardInterrupt
            for attempt in range(attempts):
                old = journal.get(plan.path)
                in_flight = (plan, old)
                try:
                    apply(plan, journal=journal, mode=(modes or {}).get(plan.path))
                    done.append((plan, old))
                    in_flight = None
                    break
                except ConcurrentChange:
                    if attempt == attempts - 1:
                        raise fileio.WriteError(f"{plan.path} kept changing while dsconfig wrote it",
                                                "close the program writing it and run again") from None
                    replanned = next((p for p in make_plans() if p.path == plan.path), None)
                    if replanned is None:  # the other writer made this file's change unnecessary
                        break
                    plan = replanned
        if interrupted():
            raise KeyboardInterrupt
        if finish is not None:
            finish()
    except (Exception, KeyboardInterrupt) as exc:  # not SystemExit and the like: a process on its way out
        switched = [(p, o) for p, o in done if p.changed]
        if in_flight is not None and in_flight[0].changed and _holds(in_flight[0].path, in_flight[0].after):
            switched.append(in_flight)  # written, then its journal confirmation failed (a full state folder)
        if not switched:
            if isinstance(exc, DsconfigError) and not isinstance(exc, SwitchFailed):
                refused = SwitchFailed(f"{exc.message}: nothing was changed", exc.hint)
                refused.exit_code = exc.exit_code
                raise refused from None
            raise
        raise _rolled_back(exc, switched, journal) from None
    return [p for p, _ in done]


def _holds(path: Path, data: bytes | None) -> bool:
    try:
        return fileio.read_bytes(path) == data
    except DsconfigError:
        return False


def _rolled_back(exc: BaseException, switched: list[tuple[FilePlan, FileRecord | None]], journal: Journal) -> SwitchFailed:
    cause = "interrupted" if isinstance(exc, KeyboardInterrupt) else (
        exc.message if isinstance(exc, DsconfigError) else f"{type(exc).__name__}: {exc}")
    hint = exc.hint if isinstance(exc, DsconfigError) and exc.hint else ""
    left: list[Path] = []
    for plan, old in reversed(switched):
        try:
            _put_back(plan, old, journal)
        except (DsconfigError, OSError, ConcurrentChange):
            left.append(plan.path)
    code = 130 if isinstance(exc, KeyboardInterrupt) else (exc.exit_code if isinstance(exc, DsconfigError) else 1)
    if not left:
        err = SwitchFailed(f"{cause}: nothing was changed (the {len(switched)} file(s) already switched were put back)",
                           hint or "fix the cause above, then run the same command again")
    else:
        others = [str(p.path) for p, _ in switched if p.path not in left]
        err = SwitchFailed(
            f"{cause}; these files were switched and could not be put back: {', '.join(map(str, left))}"
            + (f" (put back: {', '.join(others)})" if others else ""),
            "run the same command again to finish, or `dsconfig off` to undo what was switched")
    err.exit_code = code
    err.put_back_all = not left
    return err


def _put_back(plan: FilePlan, old: FileRecord | None, journal: Journal) -> None:
    """Undo one file this command just wrote, if nobody wrote it since; restore its journal record."""
    with fileio.locked(plan.path):
        if fileio.read_bytes(plan.path) != plan.after:
            raise ConcurrentChange(str(plan.path))
        if plan.before is None:
            fileio.remove_file(plan.path)
            record = journal.get(plan.path)
            if record is not None and old is None:
                _remove_empty_dirs(record.created_dirs)
        else:
            fileio.atomic_write(plan.path, plan.before, expect=plan.after)
        # The file is back; a journal that cannot be written now (a full state folder) still lists both values
        # of every member as dsconfig's, so a later `off` is right whichever the file holds.
        with contextlib.suppress(DsconfigError, OSError):
            journal.restore(plan.path, old)


def forget_originals(path: Path, key_paths: Iterable[KeyPath], *, journal: Journal) -> None:
    """Make `key_paths` count as absent before dsconfig: in the journal, its original texts and the backup.

    For adoption (`dsconfig setup` moving an inline key from a settings file into the keyring): once the key is
    in the keyring, `off` must not write it back in plain text, and dsconfig's backup must not keep a copy.
    Both are edited with the format-preserving splice: every other member keeps its exact text.
    """
    paths_set = set(key_paths)
    with fileio.locked(path):
        record = journal.get(path)
        if record is None:
            return
        for key in record.keys:
            if key.path in paths_set:
                key.before = ABSENT
        for kpath in paths_set:
            top = kpath[0]
            if not isinstance(top, str) or top not in record.raw:
                continue
            if len(kpath) == 1:
                del record.raw[top]
                continue
            key_text, value_text = record.raw[top]
            scrubbed = _without(value_text, [kpath[1:]])
            if scrubbed is None:
                del record.raw[top]
            else:
                record.raw[top] = (key_text, scrubbed)
        if record.backup is not None:
            backup_path = Path(record.backup)
            data = fileio.read_bytes(backup_path)
            if data is not None:
                cleaned = _without(data.decode("utf-8", "surrogatepass"), list(paths_set))
                if cleaned is not None:
                    encoded = cleaned.encode("utf-8", "surrogatepass")
                    fileio.atomic_write(backup_path, encoded, mode=0o600)
                    record.original_sha256 = fileio.sha256(encoded)
        journal.put(record)


def _without(text: str, key_paths: Sequence[KeyPath]) -> str | None:
    """The JSON object `text` without the members at `key_paths`, every other byte kept (None: not an object)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    new = copy.deepcopy(doc)
    for kpath in key_paths:
        try:
            set_at(new, kpath, ABSENT, [])
        except NotAContainer:
            continue
    if same(new, doc):
        return text
    style = fileio.JsonStyle.of(text.encode("utf-8", "surrogatepass"))
    try:
        return jsonsplice.splice(text, doc, new, indent=style.indent, ensure_ascii=True)
    except ValueError:
        return None
