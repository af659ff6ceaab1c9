"""Files in and out: inputs read with one clear error, outputs written so that no one sees half of one.

:func:`read_input` reads a data or spec file, and turns every way a path can fail to be a
readable file (missing, a folder, a symbolic link that loops, a device, unreadable, too large)
into a :class:`~dnamodel.errors.DataError` naming the file. :func:`check_output_folder` and
:func:`check_output_file` say, before any long work, whether an output path can be written,
without creating anything.

Each output file is written to a temporary file in the same folder, flushed to disk,
and renamed over the target. A crash or Ctrl-C leaves either the old file or
the new one, never a mixture; the temporary file is removed on failure.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from dnamodel.errors import DataError, Problem, UsageError

MAX_INPUT_BYTES = 2**30
"""The largest input file read (1 GiB): a larger one is refused before it is read into memory."""


def read_input(path: str | Path, shown: str | None = None, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of an input file.

    Parameters
    ----------
    path : str or Path
        The file.
    shown : str, optional
        How errors name it (``path`` itself by default).
    max_bytes : int
        Larger files are refused unread.

    Raises
    ------
    DataError
        With one problem naming the file: not found, a folder, a symbolic link that loops or
        leads nowhere, not a regular file (a device or a pipe, which could block or never end),
        not readable, or larger than ``max_bytes``.
    """
    target = Path(path)
    name = str(path) if shown is None else shown

    def fail(message: str) -> DataError:
        return DataError([Problem(name, None, None, message)])

    try:
        info = target.stat()
    except FileNotFoundError:
        dangling = target.is_symlink()
        raise fail("a symbolic link to a file that does not exist" if dangling else "file not found") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise fail("a symbolic link that loops back on itself") from None
        raise fail(f"cannot be read ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail("is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise fail("is not a regular file (a device, pipe or socket)")
    if info.st_size > max_bytes:
        raise fail(f"is {info.st_size:,} bytes, more than the {max_bytes:,} read at most")
    try:
        with target.open("rb") as stream:
            content = stream.read(max_bytes + 1)
    except OSError as error:
        raise fail(f"cannot be read ({error.strerror})") from None
    if len(content) > max_bytes:
        raise fail(f"is more than the {max_bytes:,} bytes read at most")
    return content


def check_output_folder(path: str | Path, what: str = "output folder") -> None:
    """Raise :class:`UsageError` unless ``path`` is a writable folder, or one that can be created.

    Nothing is created: the first part of the path that exists must be a writable folder.
    """
    target = Path(path)
    _check_name(target, path, what)
    # os.path, not Path: its exists and isdir are False, not an error, for a name too long to be a file.
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise UsageError(f"{what} {path}: is a file, not a folder")
        if not os.access(target, os.W_OK | os.X_OK):
            raise UsageError(f"{what} {path}: cannot write there (permission denied)")
        return
    _check_creatable(target, path, what)


def check_output_file(path: str | Path, what: str = "output file") -> None:
    """Raise :class:`UsageError` unless a file can be written at ``path`` (replacing one that is there).

    Nothing is created: ``path`` must not be a folder, and its folder must be writable or creatable.
    """
    target = Path(path)
    _check_name(target, path, what)
    if os.path.isdir(target):
        raise UsageError(f"{what} {path}: is a folder; give a file name")
    if os.path.lexists(target) and not os.path.exists(target):
        raise UsageError(f"{what} {path}: is a symbolic link that leads nowhere")
    folder = target.parent
    if not os.path.exists(folder):
        _check_creatable(folder, path, what)
    elif not os.path.isdir(folder):
        raise UsageError(f"{what} {path}: cannot be created, because {folder} is a file")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: cannot write in {folder} (permission denied)")


def _check_name(target: Path, path: str | Path, what: str) -> None:
    """Refuse a path the file system cannot name (too long, a NUL byte), which exists() calls absent."""
    try:
        os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):
        pass  # absent, or under a file: the callers say which
    except ValueError:
        raise UsageError(f"{what} {_cut(path)}: not a valid path (it holds a NUL byte)") from None
    except OSError as error:
        if error.errno in (errno.ENAMETOOLONG, errno.ELOOP):
            raise UsageError(f"{what} {_cut(path)}: not a usable path ({error.strerror})") from None


def _cut(path: str | Path, limit: int = 200) -> str:
    text = str(path)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_creatable(target: Path, path: str | Path, what: str) -> None:
    ancestor = target
    while not os.path.exists(ancestor):
        if os.path.lexists(ancestor):
            raise UsageError(f"{what} {path}: {ancestor} is a symbolic link that leads nowhere")
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not os.path.isdir(ancestor):
        raise UsageError(f"{what} {path}: cannot be created, because {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {path}: cannot be created in {ancestor} (permission denied)")


def atomic_write_bytes(path: str | Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
        The file to create or replace. Its folder must exist.
    content : bytes
        The whole content.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            # mkstemp makes the file private (0600); give it the mode a plain open() would.
            os.fchmod(stream.fileno(), 0o666 & ~_umask())
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    current = os.umask(0o022)
    os.umask(current)
    return current


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"))
