"""Where numba caches compiled kernels, when neither the package folder nor HOME can.

Numba looks for a writable cache folder at the moment a ``cache=True`` kernel is
defined: ``NUMBA_CACHE_DIR`` when set, else ``__pycache__`` beside the source, else
the user's cache folder (``~/.cache/numba``). On a read-only installation run by a
service account without a writable HOME none exists, and numba refuses to define the
kernel ("cannot cache function ..."). `ensure_numba_cache` is called by the kernel
modules before their kernels: when no folder numba would use is writable, it points
numba's own ``config.CACHE_DIR`` at a private folder in the temporary directory. It
changes nothing else, and nothing at all when numba has a folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

import numba

__all__ = ["ensure_numba_cache", "fallback_cache_dir"]


def _writable(folder: Path) -> bool:
    """Whether files can be made in `folder` (created if missing), as numba tests it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _user_cache_dir() -> Path | None:
    try:
        from numba.misc.appdirs import AppDirs

        return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    except Exception:  # pragma: no cover - numba internals moved
        return None


def fallback_cache_dir() -> Path:
    """A cache folder in the temporary directory that only this user can write.

    ``<tmp>/varinterp-numba-<uid>`` when it is (or can be made) a real folder owned by
    this user and closed to others; else a fresh private folder. (Numba's cache files
    are loaded as code, so a folder someone else could write into is never used.)
    """
    base = Path(tempfile.gettempdir()) / f"varinterp-numba-{os.getuid()}"
    with contextlib.suppress(OSError):
        base.mkdir(mode=0o700, exist_ok=True)
    try:
        info = os.lstat(base)
        private = (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        )
    except OSError:
        private = False
    if private and _writable(base):
        return base
    return Path(tempfile.mkdtemp(prefix="varinterp-numba-"))


def ensure_numba_cache(source: str | os.PathLike) -> None:
    """Make sure numba can cache the kernels of the module file `source` (see above)."""
    if numba.config.CACHE_DIR:  # NUMBA_CACHE_DIR: the user decided
        return
    if _writable(Path(source).parent / "__pycache__"):
        return
    user = _user_cache_dir()
    if user is not None and _writable(user):
        return
    numba.config.CACHE_DIR = str(fallback_cache_dir())
