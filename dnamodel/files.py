"""Files in and out: inputs read with one clear error, outputs written so that no one sees half of one.

:func:`read_input` reads a data or spec file, and turns every way a path can fail to be a
readable file (missing, a folder, a symbolic link that loops, a device, unreadable, too large)
into a :class:`~dnamodel.errors.DataError` naming the file. :func:`check_output_folder` and
:func:`check_output_file` say, before any long work, whether an output path can be written,
without creating anything.

Each output file is written to a temporary file in the same folder, flushed to disk,
and renamed over the target (:func:`atomic_write_bytes`; :func:`atomic_write_files` writes a set
of files all or none). A crash or Ctrl-C leaves either the old file or the new one, never a
mixture. An operating system's refusal while writing (no space left, permission denied, a
read-only file system, a folder that is gone) becomes one :class:`~dnamodel.errors.UsageError`
naming the file and the reason, and the temporary files are removed. A temporary file left by a
process that was killed is removed by the next write into its folder
(:func:`remove_stale_temporaries`); :func:`make_folder` creates an output folder with the same
handling of errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
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
    else:
        _check_file_system(folder, path, what)


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
    _check_file_system(ancestor, path, what)


def _check_file_system(folder: Path, path: str | Path, what: str) -> None:
    """Refuse a folder on a read-only file system, or on one that holds no files (``/proc``, ``/sys``).

    ``os.access`` says yes to the superuser there; the file system's own flags say no, without
    writing anything to find out.
    """
    try:
        info = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs here: the write will say why it fails
        return
    if info.f_flag & getattr(os, "ST_RDONLY", 1):
        raise UsageError(f"{what} {path}: cannot write in {folder} (the file system is read-only)")
    if info.f_blocks == 0:
        raise UsageError(f"{what} {path}: cannot write in {folder} (its file system takes no files)")


INTERRUPTED = threading.Event()
"""Set on Ctrl-C by the command line (:func:`dnamodel.cli.main`'s handler of SIGINT): from then on nothing
is written or printed as a result. A sampler interrupted may hand back the draws it has (nutpie does),
and what is computed from them would be a partial result in a whole result's place."""


def check_interrupted() -> None:
    """Raise :class:`KeyboardInterrupt` if Ctrl-C was pressed (:data:`INTERRUPTED`): nothing partial goes out."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


def os_error(error: OSError) -> UsageError:
    """The one-line error for an operating system's refusal anywhere (the command line's backstop).

    Examples
    --------
    >>> str(os_error(PermissionError(errno.EACCES, "Permission denied", "/root/x")))
    '/root/x: permission denied'
    """
    reason = REASONS.get(error.errno or -1) or error.strerror or str(error)
    if error.errno == errno.ENOENT:
        reason = "no such file or folder"
    where = error.filename if error.filename is not None else "the operating system"
    return UsageError(f"{_cut(str(where))}: {reason}")


def atomic_write_bytes(path: str | Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically: a temporary file in its folder, flushed, then renamed.

    Parameters
    ----------
    path : str or Path
        The file to create or replace. Its folder must exist.
    content : bytes
        The whole content.

    Raises
    ------
    UsageError
        If the operating system refuses the write (no space left, permission denied, a read-only
        file system, no such folder), naming the file and the reason; the temporary file is
        removed and the file at ``path`` is as it was.

    Examples
    --------
    >>> atomic_write_bytes("nowhere/fit.csv", b"x")
    Traceback (most recent call last):
    ...
    dnamodel.errors.UsageError: cannot write nowhere/fit.csv: its folder nowhere does not exist; nothing was written
    """
    atomic_write_files({path: content})


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, as UTF-8 (:func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_files(contents: Mapping[str | Path, bytes]) -> list[Path]:
    """Write a set of files all or none: every one to a temporary file first, then each renamed.

    Parameters
    ----------
    contents : mapping of path to bytes
        Each file's whole content; each folder must exist.

    Returns
    -------
    list of Path
        The files written, in the order given.

    Raises
    ------
    UsageError
        If the folders lack the space for them all (checked first), or the operating system
        refuses any write, naming the file and the reason. Every temporary file is then removed,
        and every file of the set is as it was: a rename that fails after others have been made
        puts those back (a file that was replaced is restored from a hard link kept until the set
        is complete, where the file system has them).
    """
    files = [(Path(path), bytes(content)) for path, content in contents.items()]
    if not files:
        return []
    check_interrupted()
    _check_space(files)
    staged: list[tuple[Path, Path]] = []
    try:
        for target, content in files:
            remove_stale_temporaries(target.parent)
            try:
                temporary = _temporary(target)
                staged.append((temporary, target))
                _fill(temporary, content)
            except OSError as error:
                raise write_error(target, error, len(files)) from None
        _commit(staged, len(files))
    except BaseException:
        for temporary, _ in staged:
            _remove(temporary)
        raise
    return [target for target, _ in files]


def _temporary(target: Path) -> Path:
    """A new empty temporary file beside ``target``, named as :data:`TEMPORARY` matches."""
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    os.close(handle)
    return Path(name)


def _fill(temporary: Path, content: bytes) -> None:
    with temporary.open("wb") as stream:
        stream.write(content)
        stream.flush()
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.fchmod(stream.fileno(), 0o666 & ~_umask())
        os.fsync(stream.fileno())


def _commit(staged: list[tuple[Path, Path]], count: int) -> None:
    """Rename each temporary file over its target; if one fails, put back those already renamed.

    Raises :class:`UsageError` (:func:`write_error`) naming the file whose rename failed.

    A rename that fails after temporary files were written in the same folder is rare (a folder
    put where a file was, a file system gone read-only); for a set of files, each target that
    exists is first given a second name (a hard link, with a temporary file's name), from which it
    is restored.
    """
    backups: dict[Path, Path | None] = {}
    if count > 1:
        for _, target in staged:
            backups[target] = _link_backup(target)
    done: list[Path] = []
    try:
        for temporary, target in staged:
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise write_error(target, error, count) from None
            done.append(target)
    except BaseException:
        for target in done:
            with contextlib.suppress(OSError):
                backup = backups.get(target)
                if backup is not None:
                    os.replace(backup, target)
                else:
                    os.unlink(target)
        for backup in backups.values():
            if backup is not None:
                _remove(backup)
        raise
    for backup in backups.values():
        if backup is not None:
            _remove(backup)


def _link_backup(target: Path) -> Path | None:
    """A second name for ``target`` (a hard link), or ``None`` when it does not exist or cannot be linked."""
    if not os.path.isfile(target) or os.path.islink(target):
        return None
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
    for _ in range(100):
        random = "".join(secrets.choice(alphabet) for _ in range(8))
        backup = target.parent / f".{target.name}.{os.getpid()}.{random}.tmp"
        try:
            os.link(target, backup)
        except FileExistsError:
            continue
        except OSError:  # a file system without hard links: this file cannot be restored
            return None
        return backup
    return None


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _check_space(files: list[tuple[Path, bytes]]) -> None:
    """Refuse, before writing anything, a set of files larger than the free space of its folders.

    Each file takes whole blocks of its file system; what the file system adds beyond that
    (its records of the files) is not counted, so a write can still find no space, and says so.
    """
    needed: dict[Path, list[int]] = {}
    for target, content in files:
        needed.setdefault(target.parent, []).append(len(content))
    for folder, sizes in needed.items():
        space = _space(folder)
        if space is None:
            continue
        free, block = space
        size = sum(-(-n // block) * block for n in sizes)
        if size > free:
            first = next(target for target, _ in files if target.parent == folder)
            reason = f"it needs {size:,} bytes and {_cut(folder)} has {free:,} free (no space left on the device)"
            raise UsageError(f"cannot write {_cut(first)}: {reason}; {_nothing(len(files))}")


def free_space(folder: str | Path) -> int | None:
    """Bytes files in ``folder`` may still take; ``None`` when the file system does not say.

    Blocks kept for the superuser count when the process is the superuser.
    """
    space = _space(folder)
    return None if space is None else space[0]


def _space(folder: str | Path) -> tuple[int, int] | None:
    """The free bytes of ``folder``'s file system and its block size."""
    try:
        info = os.statvfs(folder)
    except (OSError, AttributeError):  # no such folder (the write then says so), or no statvfs
        return None
    if info.f_blocks == 0:  # a file system of no blocks (/proc, /sys) says nothing of space: the write will say why
        return None
    superuser = getattr(os, "geteuid", lambda: -1)() == 0
    return info.f_frsize * (info.f_bfree if superuser else info.f_bavail), max(info.f_frsize, 1)


REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of its path is a file, not a folder",
    errno.ENAMETOOLONG: "the name is too long for the file system",
    errno.EIO: "an input/output error of the device",
}
"""The words for the operating system's common refusals; any other is given as it says it."""


def write_error(path: str | Path, error: OSError, count: int = 1) -> UsageError:
    """The one-line error for an ``OSError`` while writing ``path`` (one of ``count`` files).

    Examples
    --------
    >>> import errno
    >>> str(write_error("results/fit.nc", OSError(errno.ENOSPC, "No space left on device")))
    'cannot write results/fit.nc: no space left on the device; nothing was written'
    """
    target = Path(path)
    if error.errno == errno.ENOENT and not os.path.isdir(target.parent):
        reason = f"its folder {_cut(target.parent)} does not exist"
    elif error.errno == errno.ENOENT:  # a folder that takes no new files (/proc)
        reason = f"{_cut(target.parent)} takes no new files ({error.strerror})"
    else:
        reason = REASONS.get(error.errno or -1) or error.strerror or str(error)
    return UsageError(f"cannot write {_cut(path)}: {reason}; {_nothing(count)}")


def _nothing(count: int) -> str:
    return "nothing was written" if count == 1 else f"none of the {count} files was written"


def make_folder(path: str | Path, what: str = "output folder") -> list[Path]:
    """Create the folder ``path`` and its missing parents; return those it created, outermost first.

    A caller whose writes then fail can remove them (:func:`remove_folders`), leaving nothing behind.

    Raises
    ------
    UsageError
        If the operating system refuses (permission denied, a file in the way, no space), naming
        ``what`` and the reason.
    """
    check_interrupted()
    target = Path(path)
    missing = []
    folder = target
    while not os.path.isdir(folder) and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        remove_folders(reversed(missing))
        reason = REASONS.get(error.errno or -1) or error.strerror or str(error)
        if error.errno == errno.EEXIST:
            reason = "a file is in the way"
        raise UsageError(f"{what} {_cut(path)}: cannot be created ({reason})") from None
    return list(reversed(missing))


def remove_folders(folders: Iterable[Path]) -> None:
    """Remove the folders (innermost first) that :func:`make_folder` created, if they are still empty."""
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


# --- temporary files left behind ---------------------------------------------------------------

TEMPORARY = re.compile(r"\.(?P<target>.+?)\.(?:(?P<pid>[0-9]+)\.)?[a-z0-9_]{8}\.tmp")
"""The name of a temporary file of ours: ``.NAME.PID.XXXXXXXX.tmp`` (:func:`atomic_write_files`), or
``.NAME.XXXXXXXX.tmp`` as dnamodel named them before it recorded the writing process."""


def _process_start() -> float:
    """When this process started, from ``/proc`` where there is one, else now (dnamodel's import)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime, the 22nd field: clock ticks after boot
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration, AttributeError):
        return time.time()


STARTED = _process_start()
"""When this process started: a temporary file last written before then is not being written by it."""

_cleaned: set[str] = set()
_cleaning = threading.Lock()


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files a killed dnamodel process left in ``folder``; return those removed.

    Only files of our own naming (:data:`TEMPORARY`) are touched, and only those last written
    before this process started whose writer is no longer running (its process id, in the name,
    is not a live process; a name without one is from an earlier dnamodel). Each folder is
    cleaned once per process, at its first write: a file left after that is some other process's.
    Nothing that cannot be listed or removed stops the write that called it.
    """
    key = os.path.abspath(folder)
    with _cleaning:
        if key in _cleaned:
            return []
        _cleaned.add(key)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = TEMPORARY.fullmatch(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_mtime >= STARTED:
                continue
        except OSError:
            continue
        pid = match.group("pid")
        if pid is not None and (int(pid) == os.getpid() or _running(int(pid))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether a process with this id is running (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # another user's process, or an id no process can have: kept
        return True
    return True


def _umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    current = os.umask(0o022)
    os.umask(current)
    return current
