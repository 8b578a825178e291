"""Opening a user's file: a library's own failure becomes one `InputError` line.

The readers of varinterp go through these wrappers, so that a truncated, garbled or
wrong-format file gives the same kind of message whatever library reads it: the file,
what is wrong with it, and a command that checks it (``bcftools view``, ``bigWigInfo``,
``h5ls``). C libraries that print their own complaints straight to the process's
standard error (htslib's ``[E::...]``, libBigWig's ``[bwHdrRead] ...``) are silenced
while a file is opened, so a user sees one line, not three.

`reading` is the context manager underneath; the rest open one format each.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import pickle
import sys
import threading
import tomllib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from varinterp.errors import InputError

__all__ = [
    "load_checkpoint",
    "load_npy",
    "npy_problem",
    "open_bigwig",
    "open_hdf5",
    "read_csv",
    "read_json",
    "read_text",
    "read_toml",
    "reading",
    "require_readable",
    "silenced_stderr",
]

_SILENCE_LOCK = threading.Lock()


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Send what C code writes to file descriptor 2 to /dev/null for the duration.

    Python's own ``sys.stderr`` is flushed first, so nothing written before is lost.
    Does nothing when descriptor 2 is not open (a daemon without stderr).
    """
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no stderr at all
        yield
        return
    with _SILENCE_LOCK:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(devnull)
            os.close(saved)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _problem(exc: BaseException, kind: str) -> str | None:
    """What an exception raised while reading says about the file, or None when it is
    not a reading problem (then it propagates unchanged)."""
    import pandas as pd

    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "cannot be read (permission denied); check its permissions with: ls -l"
    if isinstance(exc, FileNotFoundError):
        return "does not exist"
    if isinstance(exc, UnicodeDecodeError):
        return "is not a text file (binary, compressed or not UTF-8)"
    if isinstance(exc, pd.errors.EmptyDataError):
        return "is empty"
    if isinstance(exc, pd.errors.ParserError):
        return f"is not a tab-separated table ({_first_line(exc)})"
    if isinstance(exc, EOFError | gzip.BadGzipFile | zlib.error):
        return f"is truncated or not valid gzip ({_first_line(exc)})"
    if isinstance(exc, pickle.UnpicklingError):
        return "is not a file of this format (garbled or truncated)"
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"is not valid TOML ({_first_line(exc)})"
    if isinstance(exc, json.JSONDecodeError):
        return f"is not valid JSON ({_first_line(exc)})"
    if type(exc).__name__ == "SafetensorError":
        return f"is not a readable safetensors file ({_first_line(exc)})"
    if isinstance(exc, OSError) and exc.errno is None:  # h5py and friends: format errors
        return f"is not a readable {kind} file ({_first_line(exc)})"
    return None


@contextlib.contextmanager
def reading(
    path: str | os.PathLike, what: str, *, kind: str = "", check: str | None = None
) -> Iterator[Path]:
    """Read `path` inside the block; a reading failure becomes an `InputError`.

    The message is ``"{what} {path} {problem}; check it with: {check} {path}"`` (or
    ``"...; check the file"`` without `check`). `InputError` passes unchanged, and so
    does any exception that is not about the file (a bug stays a bug).
    """
    path = Path(path)
    try:
        yield path
    except InputError:
        raise
    except Exception as exc:
        problem = _problem(exc, kind or what)
        if problem is None:
            raise
        how = f"check it with: {check} {path}" if check else "check the file"
        msg = f"{what} {path} {problem}; {how}"
        raise InputError(msg) from None


def require_readable(path: str | os.PathLike, what: str) -> Path:
    """`path` as a Path when it is a file this user can read; else an `InputError` that
    says which: missing, a folder, or not readable (permission denied)."""
    path = Path(path)
    if not path.exists():
        msg = f"{what} {path} does not exist; check the path"
        raise InputError(msg)
    if path.is_dir():
        msg = f"{what} {path} is a folder, not a file; check the path"
        raise InputError(msg)
    if not os.access(path, os.R_OK):
        msg = (
            f"{what} {path} cannot be read (permission denied); check its permissions "
            "with: ls -l (its owner can make it readable with: chmod a+r)"
        )
        raise InputError(msg)
    return path


def _exists(path: Path, what: str) -> None:
    require_readable(path, what)


def read_text(path: str | os.PathLike, what: str) -> str:
    """The UTF-8 text of `path` (gzipped files are decompressed)."""
    path = Path(path)
    _exists(path, what)
    with reading(path, what):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data.decode("utf-8")


def read_toml(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """The TOML document in `path`."""
    text = read_text(path, what)
    with reading(path, what):
        return tomllib.loads(text)


def read_json(path: str | os.PathLike, what: str) -> Any:
    """The JSON document in `path`."""
    text = read_text(path, what)
    with reading(path, what):
        return json.loads(text)


def read_csv(path: str | os.PathLike, what: str, **kwargs: Any):
    """`pandas.read_csv` of `path` (gzip by suffix or content), reading errors named."""
    import pandas as pd

    path = Path(path)
    _exists(path, what)
    if "compression" not in kwargs:
        with path.open("rb") as fh:
            kwargs["compression"] = "gzip" if fh.read(2) == b"\x1f\x8b" else None
    with reading(path, what, kind="table"):
        return pd.read_csv(path, **kwargs)


def load_npy(path: str | os.PathLike, what: str, *, mmap_mode: str | None = None) -> np.ndarray:
    """A numeric ``.npy`` array (never pickled objects), memory-mapped with `mmap_mode`.

    A truncated file, an object array or anything else that is not a plain ``.npy`` is
    an `InputError` naming the file.
    """
    path = Path(path)
    _exists(path, what)
    with path.open("rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            msg = f"{what} {path} is not a .npy array (garbled or another format); rebuild it"
            raise InputError(msg)
    try:
        array = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        msg = f"{what} {path} is not a readable numeric .npy array ({npy_problem(exc)}); rebuild it"
        raise InputError(msg) from None
    if not isinstance(array, np.ndarray) or array.dtype.hasobject:
        msg = f"{what} {path} is not a numeric .npy array; rebuild it"
        raise InputError(msg)
    return array


def npy_problem(exc: BaseException) -> str:
    """What a failed `numpy.load` says about the file, in a user's words (numpy's advice
    to unpickle untrusted files is not passed on)."""
    text = str(exc)
    if "pickle" in text or "object" in text.lower():
        return "it holds Python objects, which are never loaded"
    if isinstance(exc, EOFError) or any(
        s in text for s in ("mmap length", "read all data", "EOF: reading")
    ):
        return "truncated"
    return f"garbled: {_first_line(exc)}"


_BIGWIG_MAGIC = 0x888FFC26
#: bytes of an R-tree index header (bbiFile's cirTree): what an index offset must leave
_RTREE_HEADER = 48


def _bigwig_cut_short(path: Path) -> bool:
    """Whether the bigWig `path` is truncated: it ends before an index its header points
    to, or without the magic number every bigWig ends with. libBigWig reads such a file
    without complaint, the lost part as missing data."""
    import struct

    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(64)
        if len(head) < 64:
            return True
        for order in "<>":
            if struct.unpack(f"{order}I", head[:4])[0] == _BIGWIG_MAGIC:
                break
        else:
            return False  # not a bigWig at all: pyBigWig says so
        n_zooms = struct.unpack(f"{order}H", head[6:8])[0]
        offsets = [struct.unpack(f"{order}Q", head[24:32])[0]]
        zooms = fh.read(24 * n_zooms)
        if len(zooms) < 24 * n_zooms:
            return True
        offsets += [struct.unpack(f"{order}Q", zooms[k + 16 : k + 24])[0]
                    for k in range(0, len(zooms), 24)]  # fmt: skip
        fh.seek(size - 4)
        tail = fh.read(4)
    return tail != head[:4] or any(o + _RTREE_HEADER > size for o in offsets)


def open_bigwig(path: str | os.PathLike, what: str = "bigWig"):
    """An open pyBigWig handle of the bigWig `path` (libBigWig's own messages silenced);
    a file cut short before its indexes is an `InputError` too."""
    import pyBigWig

    path = Path(path)
    _exists(path, what)
    try:
        with silenced_stderr():
            handle = pyBigWig.open(str(path))
    except RuntimeError:
        handle = None
    if handle is not None and _bigwig_cut_short(path):
        handle.close()
        handle = None
    if handle is None or not handle.isBigWig():
        if handle is not None:
            handle.close()
        msg = (
            f"{what} {path} is not a readable bigWig (garbled, truncated or another format); "
            f"check it with: bigWigInfo {path}"
        )
        raise InputError(msg)
    return handle


def open_hdf5(path: str | os.PathLike, what: str):
    """An open read-only `h5py.File` of `path`."""
    import h5py

    path = Path(path)
    _exists(path, what)
    try:
        with silenced_stderr():
            return h5py.File(path, "r")
    except OSError as exc:
        msg = (
            f"{what} {path} is not a readable HDF5 file (garbled, truncated or another "
            f"format: {_first_line(exc)}); check it with: h5ls {path}"
        )
        raise InputError(msg) from None


def load_checkpoint(path: str | os.PathLike, what: str, *, fix: str) -> Any:
    """`torch.load` of a checkpoint with ``weights_only=True`` (no code runs).

    Any failure to read it is an `InputError` naming the file and ending with `fix`;
    torch's own advice (to allow arbitrary code with ``weights_only=False``) is never
    passed on.
    """
    import torch

    path = Path(path)
    _exists(path, what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # garbled, truncated, or a pickle needing code: all unreadable
        reason = type(exc).__name__
        if isinstance(exc, RuntimeError | EOFError | pickle.UnpicklingError):
            reason = "garbled or truncated"
        msg = f"{what} {path} is unreadable ({reason}); {fix}"
        raise InputError(msg) from None
