"""The only way dsconfig writes a file: locked, atomic, durable, through symlinks, keeping modes, with backups.

Bytes in, bytes out: what the bytes mean (JSON, TOML) is the business of dsconfig.jsonfile and the profile
store. Reading goes through dsconfig.saferead (no FIFO, device or oversized file can hang or flood a command).
"""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dsconfig import paths, saferead
from dsconfig.errors import DsconfigError


class WriteError(DsconfigError):
    """A file or folder cannot be written (read-only, permissions, a folder where a file should be)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def real_target(path: Path) -> Path:
    """The file a write to `path` must replace: the end of its symlink chain, so the link survives."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist.

    Raises:
        InvalidFileError: anything but a readable regular file (a folder, a FIFO, a device, a link loop, a
            dangling link, a file over saferead.MAX_BYTES, 256 MiB), naming what it is.
    """
    return saferead.read_bytes(path)


def read_text_quietly(path: Path) -> str | None:
    """For files read only to give advice (shell startup files, .npmrc): their text, or None for anything
    unusual (missing, a FIFO or device, unreadable, over 256 MiB). Never blocks, never raises."""
    return saferead.read_text_quietly(path)


# --- locks ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(path: Path, *, timeout: float = 30.0) -> Iterator[None]:
    """Serialize dsconfig processes that change `path` (or, for a name that is no file, that do one job).

    The lock file lives in dsconfig's own private state folder (named after the file's real path), never beside
    the user's file nor in a shared folder such as /tmp, where another account could pre-create, hold or
    redirect it. It is an OS lock (flock, through the `filelock` package): the kernel releases it when its holder
    dies, so a killed process never leaves a stale lock behind. The holder writes its pid into the file so a
    waiter that gives up can name it.

    Raises:
        DsconfigError: another dsconfig held the lock for `timeout` seconds (naming its pid when known).
        WriteError: the lock file or dsconfig's lock folder cannot be used.
    """
    import filelock  # writing commands only: keeps `dsconfig env` and `key get` light

    target = os.path.realpath(path)
    folder = private_dir(paths.locks_dir())
    lock_path = folder / (hashlib.sha256(target.encode()).hexdigest()[:32] + ".lock")
    # No soft (marker-file) fallback where the file system lacks flock: the pid written below would overwrite
    # its marker, and a marker outlives a killed holder. Such a file system gets a clear error instead.
    lock = filelock.FileLock(str(lock_path), timeout=timeout, mode=0o600, fallback_to_soft=False)
    try:
        lock.acquire()
        try:
            _stamp_lock(lock_path, folder)
        except BaseException:
            lock.release()
            raise
    except filelock.Timeout:
        pid = _lock_holder(lock_path)
        who = f" (pid {pid})" if pid else ""
        raise DsconfigError(
            f"another dsconfig is running{who} and has been changing {path} for {timeout:.0f} s",
            f"wait for it to finish, or look at it with `ps -p {pid}`" if pid else
            "wait for it to finish, or find it with `ps aux | grep dsconfig`",
        ) from None
    except OSError as exc:
        raise WriteError(f"cannot take the lock {lock_path}: {exc.strerror or exc}",
                         f"check dsconfig's lock folder: ls -la '{folder}'") from None
    try:
        yield
    finally:
        lock.release()


def _stamp_lock(lock_path: Path, folder: Path) -> None:
    """Once the lock is held: write our pid into the lock file and give it the folder's owner.

    Through a descriptor of our own (closing it does not release a flock), opened without following a link;
    a hard link to another file (nlink > 1) or a special file is refused before the truncation could touch
    whatever it stands for.
    """
    if os.name == "nt":  # pragma: no cover - Windows locks a byte range per handle: a second handle cannot write
        return
    fd = os.open(lock_path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            raise OSError(errno.EPERM, "it is not a plain file of dsconfig's (a hard link or a special file)")
        _give_to_owner_of(fd, st, os.stat(folder))
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    finally:
        os.close(fd)


def _lock_holder(lock_path: Path) -> int | None:
    """The pid the current holder wrote into the lock file, when it can be read safely."""
    try:
        fd = os.open(lock_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)
    return int(text) if text.isdigit() else None


def private_dir(folder: Path) -> Path:
    """`folder` (one of dsconfig's own, e.g. the lock folder), created 0700 if missing, and checked: it and its
    parent (the state folder) are folders of ours that no other account can write.

    Made only when a writing command takes a lock: read-only commands and --dry-run never create it.

    Raises:
        WriteError: it cannot be created or examined, belongs to another account or others can write it.
    """
    ensure_dir(folder)
    for item in (folder, folder.parent):
        try:
            st = os.stat(item)
        except OSError as exc:
            raise WriteError(f"cannot use dsconfig's folder {item}: {exc.strerror}", f"check it: ls -ld '{item}'") from None
        if os.name == "nt":  # pragma: no cover - POSIX owners and modes do not apply
            continue
        euid = os.geteuid()
        # Root may work on a user's HOME (sudo keeping HOME): the folders are then the user's, which is as
        # trusted as the files root came to change. Anyone else must own them.
        if st.st_uid != euid and euid != 0:
            raise WriteError(
                f"dsconfig's folder {item} belongs to another account (uid {st.st_uid}), not to you (uid {euid})",
                f"if it is yours, take it back: sudo chown -R {euid} '{item}'; or set DSCONFIG_HOME to a folder of your own",
            )
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise WriteError(
                f"dsconfig's folder {item} can be written by other accounts (mode {stat.S_IMODE(st.st_mode):o})",
                f"make it private: chmod 700 '{item}'",
            )
    return folder


# --- ownership --------------------------------------------------------------------------------------------


def _give_to_owner_of(fd: int, current: os.stat_result, model: os.stat_result) -> None:
    """Give the open file `fd` the owner and group of `model` when they differ and we are allowed to.

    Root working on a user's HOME (sudo keeping HOME, as macOS and `sudo -E` do) must not leave root-owned
    files behind: the user could no longer read their own 0600 settings. An ordinary user cannot give a file
    away; for them this changes nothing (a group they belong to is kept when the OS allows it).
    """
    if os.name == "nt" or (current.st_uid, current.st_gid) == (model.st_uid, model.st_gid):  # pragma: no cover
        return
    if os.geteuid() != 0 and model.st_uid != current.st_uid:
        return
    with contextlib.suppress(OSError):
        os.fchown(fd, model.st_uid, model.st_gid)


# --- writing ----------------------------------------------------------------------------------------------


def _is_root() -> bool:
    return os.name != "nt" and os.geteuid() == 0


def ensure_dir(folder: Path) -> None:
    """Create `folder` and missing parents; folders dsconfig creates are 0700 (they may hold secrets).

    A folder created inside another account's folder (root on a user's HOME) gets that folder's owner.

    Raises:
        WriteError: a folder cannot be created, or `folder` is a file or a dangling symlink.
    """
    missing = []
    current = folder
    while not _lexists(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for item in reversed(missing):
        try:
            item.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise WriteError(f"cannot create folder {item}: {exc.strerror}", f"check the permissions of {item.parent}") from None
        _adopt_parent_owner(item)
    try:
        if not folder.is_dir():
            if folder.is_symlink():
                raise WriteError(f"{folder} is a symlink to a folder that does not exist", "fix or remove the link")
            raise WriteError(f"{folder} is a file, expected a folder", "move the file away")
    except OSError as exc:  # a link loop on the way, for one
        raise WriteError(f"cannot use folder {folder}: {exc.strerror}", f"check it: ls -ld '{folder}'") from None


def _lexists(path: Path) -> bool:
    # A symlink (even dangling, even a loop) exists: mkdir over it would fail anyway, and is_dir() reports it.
    return os.path.lexists(path)


def _adopt_parent_owner(item: Path) -> None:
    """A folder just made by root inside a user's folder becomes the user's (see _give_to_owner_of)."""
    if not _is_root():  # only root can give a folder away
        return
    with contextlib.suppress(OSError):
        parent = os.stat(item.parent)
        fd = os.open(item, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
        try:
            _give_to_owner_of(fd, os.fstat(fd), parent)
        finally:
            os.close(fd)


class ChangedMeanwhile(Exception):
    """atomic_write(expect=...): the file no longer holds what the caller planned from."""


_UNSET: Any = object()


def atomic_write(path: Path, data: bytes, *, mode: int | None = None, expect: bytes | None = _UNSET) -> None:
    """Replace `path` with `data` atomically: temp file in the same folder, fsync, os.replace, fsync folder.

    Writes through a symlink (the link stays, its target changes). Keeps the existing file's permission bits,
    owner and group; a new file gets `mode` (default 0600: dsconfig's files may reference secrets) and, inside
    another account's folder, that folder's owner.

    Raises:
        WriteError: the file or its folder cannot be written (read-only, permissions, a full disk, not a file),
            with a hint by cause.
        ChangedMeanwhile: `expect` was given and the file no longer holds it just before the rename.
        InvalidFileError: `expect` was given and the file became something that cannot be read (a FIFO).
    """
    target = real_target(path)
    ensure_dir(target.parent)
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:  # a link loop, a folder on the way that is a file
        raise WriteError(f"cannot write {target}: {exc.strerror}", f"check it: ls -l '{target}'") from None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise WriteError(f"{target} is a folder, expected a file", "move the folder away")
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise WriteError(f"{target} is {saferead.describe_kind(old.st_mode)}, not a regular file",
                         "replace it with a regular file (or remove it), then run again")
    if old is None:
        keep_mode = 0o600 if mode is None else mode
    else:
        keep_mode = stat.S_IMODE(old.st_mode)
        # os.replace needs only the folder's permission; a file its owner made read-only is a decision to respect
        # (root would otherwise write it regardless).
        if not keep_mode & stat.S_IWUSR:
            raise WriteError(f"{target} is read-only", f"make it writable if dsconfig may change it: chmod u+w '{target}'")
    folder_st = os.stat(target.parent)
    if not stat.S_IMODE(folder_st.st_mode) & stat.S_IWUSR:
        raise WriteError(f"the folder {target.parent} is read-only", f"make it writable: chmod u+w '{target.parent}'")
    if mode is not None:
        keep_mode = mode
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".dsconfig-tmp", dir=target.parent)
    except OSError as exc:
        raise WriteError(
            f"cannot write in {target.parent}: {exc.strerror}", f"check the folder's permissions: ls -ld '{target.parent}'"
        ) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # Owner before mode (a chown may clear mode bits), both through the descriptor: the temp file's
            # name could be swapped in a folder others can write; the open file cannot.
            # A replaced file keeps its owner; a new one takes the folder's only when root makes it (an
            # ordinary user's new file is theirs, as any program would make it).
            model = old if old is not None else folder_st if _is_root() else None
            if model is not None:
                _give_to_owner_of(handle.fileno(), os.fstat(handle.fileno()), model)
            if os.name != "nt":
                os.fchmod(handle.fileno(), keep_mode)
            os.fsync(handle.fileno())
        if os.name == "nt":  # pragma: no cover - no fchmod there
            os.chmod(tmp, keep_mode)
        # Last look before the rename: another program (Claude Code takes no lock) may have saved the file
        # while the temp file was written and flushed. Only the instant between this read and the rename is left.
        if expect is not _UNSET and read_bytes(target) != expect:
            raise ChangedMeanwhile(str(target))
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WriteError(f"cannot write {target}: {exc.strerror}", _write_hint(exc, target)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # pragma: no cover
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_stale_temp_files(path: Path) -> None:
    """Remove temp files an earlier, killed dsconfig left beside `path`.

    Called under `path`'s lock, so no other dsconfig is writing one of these right now: any that exist are
    leftovers of a process that died between creating its temp file and renaming it.
    """
    target = real_target(path)
    try:
        leftovers = list(target.parent.glob(f".{glob.escape(target.name)}.*.dsconfig-tmp"))
    except OSError:
        return
    for leftover in leftovers:
        with contextlib.suppress(OSError):
            leftover.unlink()


def remove_file(path: Path) -> None:
    """Remove `path` (the end of its symlink chain, as a write would replace it); a missing file is fine.

    Raises:
        WriteError: it cannot be removed, with a hint by cause.
    """
    target = real_target(path)
    try:
        target.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WriteError(f"cannot remove {target}: {exc.strerror}", _write_hint(exc, target)) from None
    _fsync_dir(target.parent)


def backup(path: Path, data: bytes) -> Path:
    """Copy the bytes a file held before dsconfig's first change into the backups folder (0600); its path.

    Raises:
        WriteError: the backups folder or the copy cannot be written.
    """
    folder = paths.backups_dir()
    ensure_dir(folder)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(path).strip("/\\"))[-120:]
    dest = folder / f"{stamp}-{slug}"
    n = 1
    while dest.exists():
        n += 1
        dest = folder / f"{stamp}-{slug}.{n}"
    atomic_write(dest, data, mode=0o600)
    return dest


def _write_hint(exc: OSError, target: Path) -> str:
    """The fix for a failed write, by its cause: a full disk is not a permission problem."""
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"free some space on the disk that holds {target.parent} (df -h '{target.parent}'), then run again"
    if exc.errno == errno.EROFS:
        return f"{target.parent} is on a read-only file system: remount it read-write, or run where it is writable"
    if exc.errno == errno.EPERM:
        return f"the file may be immutable or append-only: lsattr '{target}' (chattr -i to allow changes)"
    return f"check its permissions: ls -l '{target}'"

