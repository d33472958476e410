"""state/journal.json: what dsconfig changed in other programs' files, enough to undo it key by key.

One `FileRecord` per file dsconfig has changed and not yet undone. For every member it owns, the record keeps
the value it held before dsconfig first set it (`before`), recorded once, at the first change; later switches
keep it. `raw` keeps the original text of each top-level member dsconfig touched, so that `off` on a file
nobody else changed gives back its exact bytes by splicing, never by copying a backup over the file.

While a switch is under way the journal also holds a `switch` marker: a kill between two files leaves it
behind, and the next command can say exactly what state the user is in.

Everything loaded is validated: a damaged journal is an InvalidFileError naming the file and the way out,
never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsconfig import fileio, jsonfile, paths, vocab
from dsconfig.errors import InvalidFileError
from dsconfig.keypaths import ABSENT, KeyPath, decode_path, encode_path

JOURNAL_VERSION = 1

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
        return isinstance(other, str) and fileio.sha256(other.encode("utf-8", "surrogatepass")) == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)


@dataclass
class KeyRecord:
    """One member dsconfig owns in a file."""

    path: KeyPath
    before: Any  # ABSENT when the member did not exist before dsconfig
    wrote: Any  # what dsconfig last wrote there (ABSENT: it removed the member)
    also: tuple[Any, ...] = ()  # while a write is pending: the value the previous write left (also dsconfig's)
    prev: str | None = None  # the member just before it in the original object (where `off` puts it back)
    first: bool = False  # it was the first member of its object


@dataclass
class FileRecord:
    """What dsconfig did to one file: enough to undo it exactly."""

    path: Path
    owner: dict[str, str]
    kind: str  # "json" (key edits) or "whole" (a file dsconfig created whole, e.g. a helper script)
    created: bool  # the file did not exist before dsconfig
    original_sha256: str | None
    backup: str | None  # the user's safety copy of the original (never the mechanism of undo)
    written_sha256: str | None
    keys: list[KeyRecord] = field(default_factory=list)
    created_containers: list[KeyPath] = field(default_factory=list)
    created_dirs: list[str] = field(default_factory=list)  # folders made for this file, removed with it when empty
    pending_sha256: str | None = None  # while a write is under way: the bytes it is writing
    raw: dict[str, tuple[str, str]] = field(default_factory=dict)  # member -> (key text with colon, value text)
    empty_text: str | None = None  # the original text when the file held an object with no members
    frame: tuple[str, str, str] | None = None  # the original top-level object's lead, separator, tail
    kept_only: bool = False  # left by `off`: only members a person changed by hand, kept for `off --force`
    # When dsconfig tightened the file's permission bits (0600 for a key written into it): the bits it had
    # before (recorded once, at that first change) and the bits dsconfig set. `off` puts the first back.
    mode_before: int | None = None
    mode_set: int | None = None

    def key(self, path: KeyPath) -> KeyRecord | None:
        return next((k for k in self.keys if k.path == path), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "kind": self.kind,
            "created": self.created,
            "original_sha256": self.original_sha256,
            "backup": self.backup,
            "written_sha256": self.written_sha256,
            "keys": [_key_json(k) for k in self.keys],
            "created_containers": [encode_path(p) for p in self.created_containers],
            "created_dirs": self.created_dirs,
            "pending_sha256": self.pending_sha256,
            "raw": {k: list(v) for k, v in self.raw.items()},
            "empty_text": self.empty_text,
            "frame": list(self.frame) if self.frame is not None else None,
            "kept_only": self.kept_only,
            **({"mode_before": self.mode_before, "mode_set": self.mode_set} if self.mode_before is not None else {}),
        }

    @classmethod
    def from_json(cls, path: str, raw: Any) -> FileRecord:
        """The record of file `path` from its journal form.

        Raises:
            ValueError, TypeError: naming the first member that is not what dsconfig writes.
        """
        _expect(raw, dict, path)
        owner = raw.get("owner")
        if not isinstance(owner, dict) or not all(isinstance(v, str) for v in owner.values()):
            raise ValueError(f"{path}: owner is not an object of strings")
        kind = raw.get("kind", "json")
        if kind not in ("json", "whole"):
            raise ValueError(f"{path}: kind {kind!r} is unknown")
        for name in ("original_sha256", "backup", "written_sha256", "pending_sha256", "empty_text"):
            if raw.get(name) is not None and not isinstance(raw[name], str):
                raise ValueError(f"{path}: {name} is not a string")
        for name in ("mode_before", "mode_set"):
            value = raw.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0o7777):
                raise ValueError(f"{path}: {name} is not permission bits")
        if not isinstance(raw.get("created"), bool):
            raise TypeError(f"{path}: created is not true or false")
        keys = raw.get("keys", [])
        dirs = raw.get("created_dirs", [])
        containers = raw.get("created_containers", [])
        texts = raw.get("raw", {})
        _expect(keys, list, f"{path}: keys")
        _expect(containers, list, f"{path}: created_containers")
        _expect(texts, dict, f"{path}: raw")
        if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise ValueError(f"{path}: created_dirs is not a list of strings")
        frame = raw.get("frame")
        if frame is not None and not (isinstance(frame, list) and len(frame) == 3 and all(isinstance(p, str) for p in frame)):
            raise ValueError(f"{path}: frame is not three strings")
        for member, pair in texts.items():
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise ValueError(f"{path}: raw.{member} is not a pair of strings")
        return cls(
            path=Path(path),
            owner=dict(owner),
            kind=kind,
            created=raw["created"],
            original_sha256=raw.get("original_sha256"),
            backup=raw.get("backup"),
            written_sha256=raw.get("written_sha256"),
            keys=[_key_from(k, path) for k in keys],
            created_containers=[decode_path(p) for p in containers],
            created_dirs=list(dirs),
            pending_sha256=raw.get("pending_sha256"),
            raw={k: (v[0], v[1]) for k, v in texts.items()},
            empty_text=raw.get("empty_text"),
            frame=(frame[0], frame[1], frame[2]) if frame is not None else None,
            kept_only=raw.get("kept_only") is True,
            mode_before=raw.get("mode_before"),
            mode_set=raw.get("mode_set"),
        )


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{where} is not a JSON {'object' if kind is dict else 'array'}")


def is_secret(path: KeyPath) -> bool:
    return bool(path) and isinstance(path[-1], str) and path[-1] in SECRET_NAMES


def _value_json(name: str, value: Any, secret: bool) -> dict[str, Any]:
    if value is ABSENT:
        return {f"{name}_absent": True}
    if isinstance(value, Hashed):
        return {f"{name}_sha256": value.sha256}
    if secret and isinstance(value, str) and value:
        return {f"{name}_sha256": fileio.sha256(value.encode("utf-8", "surrogatepass"))}
    return {name: value}


def _key_json(k: KeyRecord) -> dict[str, Any]:
    secret = is_secret(k.path)
    doc: dict[str, Any] = {"path": encode_path(k.path), **_value_json("before", k.before, False),
                           **_value_json("wrote", k.wrote, secret)}
    if k.also:
        doc["also"] = [_value_json("value", v, secret) for v in k.also]
    if k.prev is not None:
        doc["prev"] = k.prev
    if k.first:
        doc["first"] = True
    return doc


def _value_from(raw: Mapping[str, Any], name: str) -> Any:
    if f"{name}_sha256" in raw:
        if not isinstance(raw[f"{name}_sha256"], str):
            raise ValueError(f"{name}_sha256 is not a string")
        return Hashed(raw[f"{name}_sha256"])
    return ABSENT if raw.get(f"{name}_absent") is True else raw.get(name)


def _key_from(raw: Any, where: str) -> KeyRecord:
    _expect(raw, dict, f"{where}: a key")
    also = raw.get("also", [])
    _expect(also, list, f"{where}: also")
    prev = raw.get("prev")
    if prev is not None and not isinstance(prev, str):
        raise ValueError(f"{where}: prev is not a string")
    return KeyRecord(decode_path(raw.get("path")), _value_from(raw, "before"), _value_from(raw, "wrote"),
                     tuple(_value_from(_as_dict(v, where), "value") for v in also), prev, raw.get("first") is True)


def _as_dict(value: Any, where: str) -> Mapping[str, Any]:
    _expect(value, dict, where)
    return dict(value)


@dataclass(frozen=True)
class SwitchMarker:
    """A `use`/`off` under way (left behind only when it was killed between files)."""

    command: str
    profile: str | None
    scope: str
    targets: tuple[str, ...]
    started: float

    def to_json(self) -> dict[str, Any]:
        return {"command": self.command, "profile": self.profile, "scope": self.scope,
                "targets": list(self.targets), "started": self.started}

    @classmethod
    def from_json(cls, raw: Any) -> SwitchMarker:
        """Raises ValueError when `doc` is not a record this version wrote (the journal reports it as damaged)."""
        _expect(raw, dict, "switch")
        if raw.get("command") not in ("use", "off") or not isinstance(raw.get("scope"), str) \
                or not (raw.get("profile") is None or isinstance(raw.get("profile"), str)) \
                or not isinstance(raw.get("targets"), list) or not isinstance(raw.get("started", 0), (int, float)):
            raise ValueError("switch: not a switch marker")
        return cls(raw["command"], raw.get("profile"), raw["scope"], tuple(str(t) for t in raw["targets"]),
                   float(raw.get("started", 0)))

    def describe(self) -> str:
        """The command, as typed: `dsconfig use b --target all`, `dsconfig off --scope project`."""
        what = f"`dsconfig use {self.profile}" if self.command == "use" else "`dsconfig off"
        what += self.target_option() + (" --scope project" if self.scope == "project" else "") + "`"
        return what

    def target_option(self) -> str:
        """The `--target` that covers every target of this switch: none for Claude Code alone (the default),
        the one target's id, or `all`."""
        if set(self.targets) <= {vocab.TARGET_CLAUDE_CODE}:
            return ""
        return f" --target {self.targets[0]}" if len(self.targets) == 1 else " --target all"

    def undo_command(self) -> str:
        """The `off` that undoes what this switch switched: `dsconfig off --target all`."""
        return "dsconfig off" + self.target_option() + (" --scope project" if self.scope == "project" else "")

    def covered_by(self, targets: Sequence[str], scope: str) -> bool:
        """Whether a switch of `targets` at `scope` settles this one: only then may it clear the marker (a plain
        `off` after a killed `use --target all` leaves Claude Desktop half switched)."""
        return scope == self.scope and set(self.targets) <= set(targets)


@dataclass
class State:
    files: dict[str, FileRecord]
    switch: SwitchMarker | None = None


class Journal:
    """The journal file; every read validates it, every change happens under its lock.

    Raises (every method that reads, so every method but the constructor):
        InvalidFileError: the journal is damaged, unreadable, or written by a newer dsconfig.
    Raises (methods that change it: put, drop, restore, begin_switch, end_switch):
        fileio.WriteError: it cannot be written (a full disk, permissions).
        DsconfigError: another dsconfig held its lock too long.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.journal_file()

    def _damaged(self, problem: str) -> InvalidFileError:
        return InvalidFileError(
            self.path, f"is damaged ({problem})",
            f"move it away (mv '{self.path}' '{self.path}.damaged'): dsconfig then forgets what it changed, and "
            f"undoes nothing; the files as they were before dsconfig are in {paths.backups_dir()}")

    def state(self) -> State:
        """The whole journal.

        Raises:
            InvalidFileError: it is not what dsconfig writes (naming the way out), or a newer dsconfig wrote it.
        """
        data = fileio.read_bytes(self.path)
        if data is None:
            return State({})
        doc = jsonfile.parse_json_object(self.path, data, what="journal")
        version = doc.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            raise self._damaged("schema_version is not a number")
        if version > JOURNAL_VERSION:
            raise InvalidFileError(self.path, "was written by a newer dsconfig", "upgrade dsconfig: pip install -U dsconfig")
        files = doc.get("files", {})
        if not isinstance(files, dict):
            raise self._damaged("files is not an object")
        try:
            records = {p: FileRecord.from_json(p, r) for p, r in files.items()}
            marker = SwitchMarker.from_json(doc["switch"]) if doc.get("switch") is not None else None
        except (ValueError, TypeError) as exc:
            raise self._damaged(str(exc)) from None
        return State(records, marker)

    def load(self) -> dict[str, FileRecord]:
        return self.state().files

    def get(self, path: Path) -> FileRecord | None:
        return self.load().get(str(path))

    def put(self, record: FileRecord) -> None:
        self._update(lambda s: s.files.__setitem__(str(record.path), record))

    def drop(self, path: Path) -> None:
        self._update(lambda s: s.files.pop(str(path), None))

    def restore(self, path: Path, record: FileRecord | None) -> None:
        """Put back the record a file had (None: none), for a rollback."""
        if record is None:
            self.drop(path)
        else:
            self.put(record)

    def switch(self) -> SwitchMarker | None:
        return self.state().switch

    def begin_switch(self, command: str, profile: str | None, scope: str, targets: tuple[str, ...]) -> None:
        marker = SwitchMarker(command, profile, scope, targets, time.time())
        self._update(lambda s: setattr(s, "switch", marker))

    def end_switch(self) -> None:
        if self.path.exists() and self.switch() is not None:
            self._update(lambda s: setattr(s, "switch", None))

    def _update(self, change: Callable[[State], object]) -> None:
        with fileio.locked(self.path):
            fileio.remove_stale_temp_files(self.path)
            state = self.state()
            change(state)
            doc: dict[str, Any] = {"schema_version": JOURNAL_VERSION,
                                   "files": {p: r.to_json() for p, r in state.files.items()}}
            if state.switch is not None:
                doc["switch"] = state.switch.to_json()
            # ASCII escapes: values copied from users' files may hold lone surrogates that UTF-8 cannot encode.
            # allow_nan=False: a number JSON cannot spell (1e999 read as infinity) would make the journal invalid
            # JSON, and every later command would refuse it. Planning refuses such values first; this is the net.
            try:
                text = json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False)
            except ValueError:
                raise fileio.WriteError(
                    f"{self.path} was not written: a value to record holds a number JSON cannot spell (such as 1e999)",
                    "replace that number in the file dsconfig was changing, then run again") from None
            fileio.atomic_write(self.path, (text + "\n").encode(), mode=0o600)

    def owned_by(self, *, applied_only: bool = False, **owner: str) -> list[FileRecord]:
        """Records whose owner matches; `applied_only` leaves out what `off` kept for `off --force`."""
        return [r for r in self.load().values() if all(r.owner.get(k) == v for k, v in owner.items())
                and not (applied_only and r.kept_only)]


def switch_lock(journal_path: Path | None = None, *, timeout: float = 120) -> contextlib.AbstractContextManager[None]:
    """The one lock of every command that changes what a program uses: `use`, `off`, and profile and key changes.

    Two racing switches could otherwise end with the files on one profile and `active` on the other; a `profile
    add` racing another could delete the key the winner stored; `use x` racing `profile rm x` could leave
    Claude Code on a removed profile. In dsconfig's private lock folder (fileio.locked). Not reentrant.
    """
    return fileio.locked((journal_path or paths.journal_file()).with_name("switch"), timeout=timeout)

