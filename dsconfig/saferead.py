"""Read a file someone else controls: never block, never read without bound, never raise a traceback.

Every file dsconfig reads (its own profiles and templates, Claude's settings, shell startup files) can be
something other than a regular file: a symlink loop, a named pipe (opening or reading one waits for a writer
that never comes), a link to /dev/zero (an endless read), a socket or a device. Each is refused with the path
and what it is, before any read.

Kept to the standard library's `os` and `stat`: `dsconfig env` and `dsconfig key get` read profiles and
templates through here on every shell and Claude Code start.
"""

from __future__ import annotations

import errno
import os
import stat

from dsconfig.errors import InvalidFileError

TYPE_CHECKING = False  # not typing's: this module is on the `key get` path (type checkers take any such name)
if TYPE_CHECKING:
    from pathlib import Path

# Claude Code keeps its prompt history in ~/.claude.json, and files of 65-100 MB are reported in its issue
# tracker: they must be read (`use` sets a member there, `off` puts it back). Far beyond that, a file is a mistake
# (or /dev/zero's cousin, a sparse file) and reading it whole would cost the memory of the machine.
MAX_BYTES = 256 * 1024 * 1024

# O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer. O_NOCTTY: a terminal device must not
# become our controlling terminal. Both are absent on Windows, where neither problem exists.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
               | getattr(os, "O_BINARY", 0))
_NOT_REGULAR_HINT = "dsconfig reads only regular files: replace it with a regular file (or remove it), then run again"


def read_bytes(path: Path | str, *, limit: int = MAX_BYTES) -> bytes | None:
    """The bytes of the regular file at `path` (links followed), or None when nothing is there.

    Anything else is an InvalidFileError naming the path and what it is: a dangling link, a link loop, a folder,
    a FIFO, a socket, a device, a file over `limit` bytes (FileTooLarge), an unreadable file.

    Raises:
        InvalidFileError: any of those, naming the path and what it is.
    """
    try:
        # stat first: a device or FIFO is refused without even being opened (opening a device can have effects).
        before = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InvalidFileError(path, "is a symlink to a file that does not exist",
                                   "fix or remove the link, then run again") from None
        return None
    except OSError as exc:
        raise _open_error(path, exc) from None
    _check_kind(path, before)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None  # removed between the two calls: as if it had never been there
    except OSError as exc:
        raise _open_error(path, exc) from None
    try:
        # The file may have been swapped for something else since the stat: judge what was actually opened.
        opened = os.fstat(fd)
        _check_kind(path, opened)
        if opened.st_size > limit:
            raise _too_big(path, limit)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # growing while we read
                raise _too_big(path, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise InvalidFileError(path, f"cannot be read ({exc.strerror or exc})", f"check the file: ls -l '{path}'") from None
    finally:
        os.close(fd)


def read_text_quietly(path: Path | str, *, limit: int = MAX_BYTES) -> str | None:
    """For files read only to give advice (shell startup files, .npmrc): their text, or None for anything
    unusual (missing, not a regular file, unreadable, too big). Never blocks, never raises."""
    try:
        data = read_bytes(path, limit=limit)
    except InvalidFileError:
        return None
    return None if data is None else data.decode("utf-8", "replace")


def describe_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _check_kind(path: Path | str, st: os.stat_result) -> None:
    kind = describe_kind(st.st_mode)
    if kind is None:
        return
    if kind == "a folder":
        raise InvalidFileError(path, "is a folder, expected a file", "move the folder away")
    where = ""
    if os.path.islink(path):
        where = f" (it is a symlink to {os.path.realpath(path)})"
    raise InvalidFileError(path, f"is {kind}, not a regular file{where}", _NOT_REGULAR_HINT)


class FileTooLarge(InvalidFileError):
    """A regular file over the read cap: not damaged, only more than dsconfig reads (advice differs)."""


def _too_big(path: Path | str, limit: int) -> InvalidFileError:
    return FileTooLarge(path, f"is larger than {limit // (1024 * 1024)} MiB, more than dsconfig reads",
                            f"check what it is (ls -l '{path}'); if it is a program's file, let that program trim it")


def _open_error(path: Path | str, exc: OSError) -> InvalidFileError:
    if exc.errno == errno.ELOOP:
        return InvalidFileError(path, "is a symlink loop (a link that leads back to itself)",
                                f"fix or remove the link: ls -l '{path}'")
    if isinstance(exc, PermissionError):
        return InvalidFileError(path, "cannot be read (permission denied)", f"check the file's owner and mode: ls -l '{path}'")
    if isinstance(exc, IsADirectoryError):
        return InvalidFileError(path, "is a folder, expected a file", "move the folder away")
    if exc.errno == errno.ENOTDIR:
        return InvalidFileError(path, "cannot be read: a part of its path is a file, not a folder",
                                f"check the folders above it: ls -ld '{os.path.dirname(path)}'")
    if exc.errno == errno.ENXIO:  # opening a socket, or a device without its driver
        return InvalidFileError(path, "is a socket or device, not a regular file", _NOT_REGULAR_HINT)
    return InvalidFileError(path, f"cannot be read ({exc.strerror or exc})", f"check the file: ls -l '{path}'")
