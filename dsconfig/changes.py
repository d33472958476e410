"""Planned, journaled, exactly reversible edits of other programs' JSON files.

Every target (Claude Code, Claude Desktop) describes what it wants as *key edits*: "this key path should
hold this value" (or be absent). This module turns them into a `FilePlan` (pure: old bytes -> new bytes, a
diff) and applies it (I/O: lock, backup, atomic write, journal). It remembers, per file, what every key it
touched held before, so `undo` puts back exactly that, and when nobody touched the file since dsconfig wrote
it, puts back the original bytes.

Key paths are tuples of segments: a string is an object key; `Match("id", value)` is the element of a list
whose `id` equals value (Claude Desktop's `_meta.json` entries list).

The journal (state/journal.json) is written *before* the file: if dsconfig is killed in between, the
journal knows more than the file holds, and undo restores keys to their recorded "before" values, which is
correct whichever of the two states the file is in.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import fileio, paths
from dsconfig.errors import InvalidFileError


class _Absent:
    """The value of a key that does not exist."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Match:
    """A key-path segment selecting the list element whose `field` equals `value`."""

    field: str
    value: str


Segment = str | Match
KeyPath = tuple[Segment, ...]

JOURNAL_VERSION = 1


# --- key paths over JSON documents --------------------------------------------------------------------------


def get_at(doc: Any, path: KeyPath) -> Any:
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


def set_at(doc: dict[str, Any], path: KeyPath, value: Any, created: list[KeyPath]) -> None:
    """Set (or, for ABSENT, delete) the value at `path`; containers made on the way are added to `created`."""
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


def _encode_path(path: KeyPath) -> list[Any]:
    return [{"match": s.field, "value": s.value} if isinstance(s, Match) else s for s in path]


def _decode_path(raw: Sequence[Any]) -> KeyPath:
    return tuple(Match(s["match"], s["value"]) if isinstance(s, dict) else str(s) for s in raw)


def path_text(path: KeyPath) -> str:
    return ".".join(f"[{s.field}={s.value}]" if isinstance(s, Match) else s for s in path)


# --- the journal ------------------------------------------------------------------------------------------


@dataclass
class KeyRecord:
    path: KeyPath
    before: Any  # ABSENT when the key did not exist
    wrote: Any


@dataclass
class FileRecord:
    """What dsconfig did to one file: enough to undo it exactly."""

    path: Path
    owner: dict[str, str]
    kind: str  # "json" (key edits) or "whole" (a file dsconfig created whole, e.g. a helper script)
    created: bool
    original_sha256: str | None
    backup: str | None
    written_sha256: str | None
    keys: list[KeyRecord] = field(default_factory=list)
    created_containers: list[KeyPath] = field(default_factory=list)
    sticky: bool = False  # undo only when untouched since (Claude Code's own state file)
    created_dirs: list[str] = field(default_factory=list)  # folders made for this file, removed with it when empty
    pending_sha256: str | None = None  # while a write is under way: the bytes it is writing

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "kind": self.kind,
            "created": self.created,
            "original_sha256": self.original_sha256,
            "backup": self.backup,
            "written_sha256": self.written_sha256,
            "sticky": self.sticky,
            "keys": [
                {"path": _encode_path(k.path), **_value_json("before", k.before), **_wrote_json(k)}
                for k in self.keys
            ],
            "created_containers": [_encode_path(p) for p in self.created_containers],
            "created_dirs": self.created_dirs,
            "pending_sha256": self.pending_sha256,
        }

    @classmethod
    def from_json(cls, path: str, raw: Mapping[str, Any]) -> FileRecord:
        return cls(
            path=Path(path),
            owner=dict(raw["owner"]),
            kind=raw.get("kind", "json"),
            created=bool(raw["created"]),
            original_sha256=raw.get("original_sha256"),
            backup=raw.get("backup"),
            written_sha256=raw.get("written_sha256"),
            sticky=bool(raw.get("sticky", False)),
            keys=[KeyRecord(_decode_path(k["path"]), _value_from(k, "before"), _value_from(k, "wrote")) for k in raw.get("keys", [])],
            created_containers=[_decode_path(p) for p in raw.get("created_containers", [])],
            created_dirs=list(raw.get("created_dirs", [])),
            pending_sha256=raw.get("pending_sha256"),
        )

    def key(self, path: KeyPath) -> KeyRecord | None:
        return next((k for k in self.keys if k.path == path), None)


# Values dsconfig writes under these names are API keys (`use --inline-key`): the journal keeps only their hash,
# enough to notice a later change, so the journal never becomes one more file holding the key.
SECRET_NAMES = frozenset({"ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY", "inferenceGatewayApiKey"})


@dataclass(frozen=True)
class Hashed:
    """A written secret as the journal remembers it."""

    sha256: str

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Hashed):
            return other.sha256 == self.sha256
        return isinstance(other, str) and fileio.sha256(other.encode()) == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)


def _is_secret(path: KeyPath) -> bool:
    return bool(path) and isinstance(path[-1], str) and path[-1] in SECRET_NAMES


def _wrote_json(k: KeyRecord) -> dict[str, Any]:
    if isinstance(k.wrote, Hashed):
        return {"wrote_sha256": k.wrote.sha256}
    if _is_secret(k.path) and isinstance(k.wrote, str) and k.wrote:
        return {"wrote_sha256": fileio.sha256(k.wrote.encode())}
    return _value_json("wrote", k.wrote)


def _value_json(name: str, value: Any) -> dict[str, Any]:
    return {f"{name}_absent": True} if value is ABSENT else {name: value}


def _value_from(raw: Mapping[str, Any], name: str) -> Any:
    if f"{name}_sha256" in raw:
        return Hashed(raw[f"{name}_sha256"])
    return ABSENT if raw.get(f"{name}_absent") else raw.get(name)


class Journal:
    """state/journal.json: one FileRecord per file dsconfig has changed and not yet undone."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.journal_file()

    def load(self) -> dict[str, FileRecord]:
        data = fileio.read_bytes(self.path)
        if data is None:
            return {}
        doc = fileio.parse_json_object(self.path, data, what="journal")
        version = doc.get("schema_version", 1)
        if not isinstance(version, int) or version > JOURNAL_VERSION:
            raise InvalidFileError(self.path, "was written by a newer dsconfig", "upgrade dsconfig: pip install -U dsconfig")
        try:
            return {p: FileRecord.from_json(p, r) for p, r in doc.get("files", {}).items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidFileError(self.path, f"has an unexpected shape ({exc})", "restore it from a backup, or see README, Backups") from None

    def get(self, path: Path) -> FileRecord | None:
        return self.load().get(str(path))

    def put(self, record: FileRecord) -> None:
        self._update(lambda files: files.__setitem__(str(record.path), record))

    def drop(self, path: Path) -> None:
        self._update(lambda files: files.pop(str(path), None))

    def _update(self, change: Callable[[dict[str, FileRecord]], object]) -> None:
        with fileio.locked(self.path):
            fileio.remove_stale_temp_files(self.path)
            files = self.load()
            change(files)
            doc = {"schema_version": JOURNAL_VERSION, "files": {p: r.to_json() for p, r in files.items()}}
            # ASCII escapes: values copied from users' files may hold lone surrogates that UTF-8 cannot encode.
            fileio.atomic_write(self.path, (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode(), mode=0o600)

    def owned_by(self, **owner: str) -> list[FileRecord]:
        return [r for r in self.load().values() if all(r.owner.get(k) == v for k, v in owner.items())]


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


def plan_json(
    path: Path,
    edits: Mapping[KeyPath, Any],
    *,
    owner: Mapping[str, str],
    journal: Journal,
    what: str = "settings file",
    validate: Callable[[Path, dict[str, Any]], None] | None = None,
    sticky: bool = False,
    new_file_style: fileio.JsonStyle | None = None,
) -> FilePlan:
    """Plan setting `edits` (path -> value or ABSENT) in the JSON object file `path`.

    Keys this owner set earlier and no longer wants go back to what they held before dsconfig (switching
    from profile A to B leaves nothing of A). Every other key stays as it is, in its order.
    """
    before = fileio.read_bytes(path)
    doc = _read_doc(path, before, what)
    if validate:
        validate(path, doc)
    record = journal.get(path)
    new_doc = copy.deepcopy(doc)
    created: list[KeyPath] = list(record.created_containers) if record else []
    keys: list[KeyRecord] = []
    wanted = dict(edits)
    for owned in record.keys if record else []:
        if owned.path not in wanted:
            wanted[owned.path] = owned.before  # no longer ours: back to the original
    for kpath, value in wanted.items():
        previous = record.key(kpath) if record else None
        original = previous.before if previous else get_at(doc, kpath)
        set_at(new_doc, kpath, value, created)
        keys.append(KeyRecord(kpath, original, value))
    _prune_containers(new_doc, created, keys)
    if before is None and new_doc == {}:
        return FilePlan(path, None, None, None)  # nothing to set in a file that does not exist: leave it absent
    style = fileio.JsonStyle.of(before) if before is not None else (new_file_style or fileio.JsonStyle())
    after = style.rewrite(before, doc, new_doc)
    if after == before or (before is not None and new_doc == doc):
        after = before
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
        sticky=sticky,
        created_dirs=list(record.created_dirs) if record else [],
    )
    return FilePlan(path, before, after, new_record)


def _prune_containers(doc: dict[str, Any], created: list[KeyPath], keys: list[KeyRecord]) -> None:
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
    """Plan putting `path` back as it was before dsconfig. Returns a plan whose record is None."""
    record = journal.get(path)
    current = fileio.read_bytes(path)
    if record is None:
        return FilePlan(path, current, current, None)
    # A kill between the journal's "pending" entry and its confirmation leaves either the old or the new bytes;
    # the new ones are ours exactly as if the write had been confirmed.
    ours = {record.written_sha256, record.pending_sha256} - {None}
    untouched = current is not None and fileio.sha256(current) in ours
    if current is None:
        return FilePlan(path, None, None, None, (f"{path} was removed by someone else; nothing to restore",))
    if untouched:
        return FilePlan(path, current, None if record.created else _original_bytes(record), None)
    if record.kind == "whole":
        return FilePlan(path, current, current, None, (f"{path} was changed by someone else since dsconfig wrote it; left in place",))
    doc = _read_doc(path, current, what)
    if record.sticky:
        return FilePlan(path, current, current, None, ())
    new_doc = copy.deepcopy(doc)
    notes: list[str] = []
    kept: list[KeyRecord] = []
    confirmed = record.written_sha256 is not None
    for key in record.keys:
        now = get_at(doc, key.path)
        if confirmed and now != key.wrote and now != key.before and not force:
            notes.append(f"{path}: {path_text(key.path)} was changed after dsconfig set it; kept your value (use --force to restore the original)")
            kept.append(KeyRecord(key.path, key.before, now))
            continue
        set_at(new_doc, key.path, key.before, [])
    _prune_containers(new_doc, list(record.created_containers), record.keys)
    original = _original_bytes(record) if not record.created else None
    if original is not None and fileio.parse_json_object(path, original, what=what) == new_doc:
        return FilePlan(path, current, original, None, tuple(notes))
    if record.created and new_doc == {}:
        return FilePlan(path, current, None, None, tuple(notes))
    after = current if new_doc == doc else fileio.JsonStyle.of(current).rewrite(current, doc, new_doc)
    # Keys kept for the user stay in the journal (with their original values), so a later `off --force`
    # can still restore them.
    remaining = None
    if kept:
        remaining = copy.copy(record)
        remaining.keys = kept
        remaining.written_sha256 = fileio.sha256(after)
    return FilePlan(path, current, after, remaining, tuple(notes))


def _original_bytes(record: FileRecord) -> bytes | None:
    if record.backup is None:
        return None
    data = fileio.read_bytes(Path(record.backup))
    if data is None or fileio.sha256(data) != record.original_sha256:
        raise InvalidFileError(record.backup, "the backup of the original file is missing or changed",
                               f"restore {record.path} by hand; the journal is {paths.journal_file()}")
    return data


# --- applying -------------------------------------------------------------------------------------------


class ConcurrentChange(Exception):
    """The file changed between planning and writing (another program wrote it): plan again."""


def apply(plan: FilePlan, *, journal: Journal, mode: int | None = None) -> None:
    """Write one plan: under the file's lock, check nobody wrote it since planning, back up, journal, write."""
    with fileio.locked(plan.path):
        fileio.remove_stale_temp_files(plan.path)
        if fileio.read_bytes(plan.path) != plan.before:
            raise ConcurrentChange(str(plan.path))
        record = plan.record
        if record is not None and plan.before is not None and record.backup is None and not record.created:
            record.backup = str(fileio.backup(plan.path, plan.before))
        if record is None:
            old = journal.get(plan.path)
            if plan.changed:
                _write(plan, mode)
            if old is not None and plan.after is None:
                _remove_empty_dirs(old.created_dirs)
            journal.drop(plan.path)
            return
        if not plan.changed:
            if journal.get(plan.path) is not None or plan.before is None:
                journal.put(record)
            return
        if plan.before is None and record.created and not record.created_dirs:
            record.created_dirs = [str(d) for d in _missing_dirs(fileio.real_target(plan.path).parent)]
        pending = copy.copy(record)
        pending.written_sha256 = None  # journal first: a kill before the write leaves a record undo can use
        pending.pending_sha256 = record.written_sha256
        journal.put(pending)
        if fileio.read_bytes(plan.path) != plan.before:  # another program wrote it during backup and journal
            raise ConcurrentChange(str(plan.path))
        _write(plan, mode)
        journal.put(record)


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


def apply_all(
    make_plans: Callable[[], Iterable[FilePlan]], *, journal: Journal, modes: Mapping[Path, int] | None = None, attempts: int = 5,
    plans: Sequence[FilePlan] | None = None,
) -> list[FilePlan]:
    """Plan and apply several files; when another program writes one meanwhile, plan that one again.

    Plans are all made (and so all validated) before the first write: a malformed file stops the command
    with nothing written. Pass `plans` when the caller has just made them (a dry run, or warnings it showed),
    so planning's side effects are not repeated.
    """
    plans = list(make_plans()) if plans is None else list(plans)
    done: list[FilePlan] = []
    for plan in plans:
        for attempt in range(attempts):
            try:
                apply(plan, journal=journal, mode=(modes or {}).get(plan.path))
                done.append(plan)
                break
            except ConcurrentChange:
                if attempt == attempts - 1:
                    raise fileio.WriteError(f"{plan.path} kept changing while dsconfig wrote it", "close the program writing it and run again") from None
                replanned = next((p for p in make_plans() if p.path == plan.path), None)
                if replanned is None:  # the other writer made this file's change unnecessary
                    break
                plan = replanned
    return done


def forget_originals(path: Path, key_paths: Iterable[KeyPath], *, journal: Journal) -> None:
    """Make `key_paths` count as absent before dsconfig, in the journal and in the file's backup.

    For adoption (`dsconfig setup` moving an inline key from a settings file into the keyring): once the key is
    in the keyring, `off` must not write it back in plain text, and dsconfig's backup must not keep a copy.
    The backup is rewritten without those keys (same layout) and becomes the new "original" that `off`
    restores byte for byte.
    """
    paths_set = set(key_paths)
    with fileio.locked(path):
        record = journal.get(path)
        if record is None:
            return
        for key in record.keys:
            if key.path in paths_set:
                key.before = ABSENT
        if record.backup is not None:
            backup_path = Path(record.backup)
            data = fileio.read_bytes(backup_path)
            if data is not None:
                doc = fileio.parse_json_object(backup_path, data, what="backup")
                for kpath in paths_set:
                    set_at(doc, kpath, ABSENT, [])
                cleaned = fileio.JsonStyle.of(data).dump(doc)
                fileio.atomic_write(backup_path, cleaned, mode=0o600)
                record.original_sha256 = fileio.sha256(cleaned)
        journal.put(record)
