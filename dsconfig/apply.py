"""Applying planned file changes: one file under its lock, several files all or nothing.

`apply` writes one `FilePlan` (dsconfig.changes): under the file's lock it checks nobody wrote the file since
planning, backs it up before dsconfig's first change, journals, then writes. The journal (dsconfig.journal) is
written *before* the file: if dsconfig is killed in between, the record lists both the old and the new value
as dsconfig's, so undo is right whichever of the two the file holds.

`apply_all` is a command that changes several files: when a later file fails (disk full, permissions,
Ctrl-C), the files this command already switched are put back; a kill leaves the journal's switch marker
behind, and the next command says so.
"""

from __future__ import annotations

import contextlib
import copy
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from dsconfig import fileio
from dsconfig.changes import FilePlan
from dsconfig.errors import DsconfigError
from dsconfig.journal import FileRecord, Journal, KeyRecord


class ConcurrentChange(Exception):
    """The file changed between planning and writing (another program wrote it): plan again."""


def apply(plan: FilePlan, *, journal: Journal, mode: int | None = None) -> None:
    """Write one plan: under the file's lock, check nobody wrote it since planning, back up, journal, write.

    Raises:
        ConcurrentChange: the file changed since planning (plan again).
        fileio.WriteError: the file, its backup or the journal cannot be written.
        DsconfigError: another dsconfig held the file's lock too long.
        InvalidFileError: the file became something that cannot be read (a FIFO, a folder).
    """
    with fileio.locked(plan.path):
        fileio.remove_stale_temp_files(plan.path)
        if fileio.read_bytes(plan.path) != plan.before:
            raise ConcurrentChange(str(plan.path))
        record = plan.record
        old = journal.get(plan.path)
        if record is not None and plan.before is not None and mode is not None and record.mode_before is None:
            _record_mode(plan.path, record, mode)
        if record is not None and plan.before is not None and record.backup is None and not record.created:
            record.backup = str(fileio.backup(plan.path, plan.before))
        if record is None:
            if plan.changed or plan.mode is not None:  # same bytes, yet the permission bits go back
                _write(plan, plan.mode if mode is None else mode)
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


def _record_mode(path: Path, record: FileRecord, mode: int) -> None:
    """Before dsconfig first changes an existing file's permission bits (0600 for a key written into it): what
    they were, so `off` can put them back, as it puts back the members' before-values."""
    try:
        now = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return  # the write below reports what is wrong with the file
    if now != mode:
        record.mode_before, record.mode_set = now, mode


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

    Raises:
        SwitchFailed: a DsconfigError or an interrupt, saying whether anything was changed and what was put back
            (exit code 130 for Ctrl-C, else the cause's).
        Exception: whatever `make_plans` raises (InvalidFileError for a malformed file) or any other failure
            before the first file was switched, unchanged.
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
            # The file is gone whatever the journal says: a journal that cannot be read now must not turn a
            # file put back into one reported as "could not be put back".
            try:
                record = journal.get(plan.path)
            except DsconfigError:
                record = plan.record
            if record is not None and old is None:
                _remove_empty_dirs(record.created_dirs)
        else:
            # Bits this command tightened go back with the bytes.
            mode = plan.record.mode_before if plan.record is not None and (old is None or old.mode_before is None) else None
            fileio.atomic_write(plan.path, plan.before, expect=plan.after, mode=mode)
        # The file is back; a journal that cannot be written now (a full state folder) still lists both values
        # of every member as dsconfig's, so a later `off` is right whichever the file holds.
        with contextlib.suppress(DsconfigError, OSError):
            journal.restore(plan.path, old)

