"""Atomic writes: a result appears whole under its final name, or not at all.

Files are written to a temporary name in the destination folder and renamed into place
(`os.replace` is atomic on one file system). Folders are built under a temporary name
and renamed the same way, so a crash never leaves a half-written result that looks whole.

Temporary names are ``.NAME.<host>-<pid>.<random>.tmp``: when a writer is killed
(``kill -9``, a node lost), the next process that writes into the same folder on that
host removes the leftovers of processes that no longer run. `check_output` checks an output location
before any work starts: its parent must be (or become) a folder that can be written,
on a disk that is not full.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from varinterp.errors import InputError

__all__ = [
    "MIN_FREE_BYTES",
    "atomic_dir",
    "atomic_path",
    "atomic_write_text",
    "check_output",
    "remove_stale_temporaries",
]

#: An output location with less free space than this is refused before work starts.
MIN_FREE_BYTES = 1 << 20

#: Errors of writing that are the location's fault, not the program's.
_LOCATION_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


#: A temporary name: ``.NAME.<host>-<pid>.<random>.tmp[suffixes]``.
_TEMPORARY = re.compile(
    r"\.(?P<name>.+)\.(?P<host>[^./-]+)-(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp(?:\.[^/]*)?"
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _host() -> str:
    return socket.gethostname().split(".")[0].replace("-", "_") or "host"


def _tag() -> str:
    return f"{_host()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporaries (``.NAME.<host>-<pid>.<random>.tmp*``) in `folder` that
    processes of this host left when they were killed; returns what was removed.
    Temporaries of running processes, and of other hosts, are kept."""
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".") and ".tmp" in e.name]
    except OSError:
        return removed
    host = _host()
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None or match["host"] != host:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _alive(pid):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


#: Folders this process has already cleaned of dead writers' temporaries.
_CLEANED: set[Path] = set()


def _clean_once(folder: Path) -> None:
    """`remove_stale_temporaries` on the first write into `folder` in this process (a
    folder of many outputs is listed once, not once per output)."""
    key = folder.resolve()
    if key not in _CLEANED:
        remove_stale_temporaries(folder)
        _CLEANED.add(key)


def check_output(path: str | os.PathLike, *, option: str = "--out") -> Path:
    """Check that `path` can be written before any work starts; return it as a Path.

    An ancestor that is a file, a folder this user cannot write, or a disk with less
    than `MIN_FREE_BYTES` free is an `InputError` naming `option`. An existing `path`
    is not an error here (each writer decides about --overwrite and resuming); an
    existing folder `path` must itself be writable.
    """
    path = Path(path)
    where = path if path.is_dir() else path.parent
    existing = where
    while not existing.exists():
        if existing.is_symlink():  # a dangling link in the way
            msg = f"{option} {path}: {existing} is a broken symbolic link; choose another {option}"
            raise InputError(msg)
        existing = existing.parent
    if not existing.is_dir():
        msg = f"{option} {path}: {existing} is a file, not a folder; choose another {option}"
        raise InputError(msg)
    if not os.access(existing, os.W_OK | os.X_OK):
        msg = (
            f"{option} {path}: cannot write in {existing} (permission denied or read-only); "
            f"choose a folder you can write to"
        )
        raise InputError(msg)
    try:
        usage = shutil.disk_usage(existing)
    except OSError:
        return path
    if usage.total > 0 and usage.free < MIN_FREE_BYTES:
        msg = (
            f"{option} {path}: the disk of {existing} is full ({usage.free:,} bytes free); "
            f"free some space or choose another {option}"
        )
        raise InputError(msg)
    return path


def _location_error(exc: OSError, path: Path) -> InputError | None:
    """An `InputError` for a write that failed because of where it writes, else None."""
    if isinstance(exc, NotADirectoryError | FileExistsError) or exc.errno in _LOCATION_ERRNOS:
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        return InputError(f"cannot write {path} ({reason}); choose another output location")
    return None


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        check_output(path, option="output")
        error = _location_error(exc, path)
        if error is None:
            raise
        raise error from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`.

    On an exception the temporary file is removed and `path` is left untouched; a
    full disk or a read-only location becomes an `InputError` naming `path`.
    `suffix` (default: the final suffixes of `path`) is kept so that writers that
    choose a format from the file name (``.vcf.gz``, ``.bw``) still do.
    """
    path = Path(path)
    _make_parent(path)
    _clean_once(path.parent)
    if suffix is None:
        suffix = "".join(path.suffixes)
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.{_tag()}.", suffix=f".tmp{suffix}", dir=path.parent
        )
    except OSError as exc:
        error = _location_error(exc, path)
        if error is None:
            raise
        raise error from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600, and so do writers that recreate the file (safetensors):
        # results get the usual mode
        tmp_path.chmod(0o666 & ~_umask())
        tmp_path.replace(path)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _location_error(exc, path) from None
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _usual_modes(folder: Path) -> None:
    """Give `folder` and everything in it the modes of a new file or folder under the
    umask (mkdtemp makes 0700, and some writers, safetensors among them, make 0600), so
    that a result shared between users is readable as any other file."""
    mask = _umask()
    folder.chmod(0o777 & ~mask)
    for dirpath, dirnames, filenames in os.walk(folder):
        for d in dirnames:
            (Path(dirpath) / d).chmod(0o777 & ~mask)
        for f in filenames:
            p = Path(dirpath) / f
            if not p.is_symlink():
                p.chmod(0o666 & ~mask)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; on success move it to `path`.

    With `overwrite`, an existing `path` is replaced only once the new folder is complete.
    On an exception the temporary folder is removed and `path` is left untouched; a
    full disk or a read-only location becomes an `InputError` naming `path`.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        msg = f"output {path} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    _make_parent(path)
    _clean_once(path.parent)
    try:
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{path.name}.{_tag()}.", suffix=".tmp", dir=path.parent)
        )
    except OSError as exc:
        error = _location_error(exc, path)
        if error is None:
            raise
        raise error from None
    try:
        yield tmp
        _usual_modes(tmp)
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.replace(old)
            tmp.replace(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.replace(path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _location_error(exc, path) from None
        raise
