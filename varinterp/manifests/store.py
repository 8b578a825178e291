"""The data cache: where fetched files live and what is known about them.

Layout: ``$VARINTERP_DATA`` (default ``~/.cache/varinterp``) holds one folder per
dataset; inside, each file sits under its manifest ``name``, unpacked archives beside it,
and ``.varinterp-lock.json`` records for every file the size, md5 and sha256 measured
when it was fetched, where the expected md5 came from (``manifest``, ``published`` or
``recorded`` at first download), the URL and the date. ``verify`` checks files against
this record (and the manifest), so a file whose source publishes no checksum is still
verified after its first download.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text
from varinterp.manifests.schema import Dataset, FileEntry

__all__ = [
    "LOCK_NAME",
    "FileState",
    "cache_root",
    "dataset_dir",
    "file_state",
    "read_lock",
    "write_lock_entry",
]

LOCK_NAME = ".varinterp-lock.json"


def cache_root(cache: str | os.PathLike | None = None) -> Path:
    """`cache` if given, else ``$VARINTERP_DATA``, else ``~/.cache/varinterp``."""
    if cache is not None:
        root = Path(cache).expanduser()
    elif os.environ.get("VARINTERP_DATA"):
        root = Path(os.environ["VARINTERP_DATA"]).expanduser()
    else:
        root = Path.home() / ".cache" / "varinterp"
    if root.exists() and not root.is_dir():
        msg = f"data cache {root} is a file, not a folder; pass --cache a folder"
        raise InputError(msg)
    return root


def dataset_dir(dataset: Dataset, cache: str | os.PathLike | None = None) -> Path:
    """The folder holding `dataset`'s files."""
    return cache_root(cache) / dataset.name


def read_lock(folder: Path) -> dict[str, dict[str, Any]]:
    """The lock record of a dataset folder (empty when none)."""
    path = folder / LOCK_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        msg = f"lock file {path} is damaged; delete it and run 'varinterp data fetch' again"
        raise InputError(msg) from None
    files = data.get("files", {}) if isinstance(data, dict) else {}
    return files if isinstance(files, dict) else {}


def write_lock_entry(folder: Path, name: str, entry: dict[str, Any]) -> None:
    """Record (or replace) what is known about file `name` in the folder's lock."""
    files = read_lock(folder)
    files[name] = dict(entry, fetched=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    text = json.dumps({"format": 1, "files": dict(sorted(files.items()))}, indent=2)
    atomic_write_text(folder / LOCK_NAME, text + "\n")


@dataclass(frozen=True)
class FileState:
    """Where one manifest file stands in the cache."""

    entry: FileEntry
    path: Path
    status: str  # "missing", "partial", "present" (with a lock record), "unrecorded"
    recorded: dict[str, Any] | None


def file_state(
    dataset: Dataset, entry: FileEntry, cache: str | os.PathLike | None = None
) -> FileState:
    """The state of `entry` in the cache, without reading the file's bytes."""
    folder = dataset_dir(dataset, cache)
    path = folder / entry.name
    record = read_lock(folder).get(entry.name)
    if path.exists():
        status = "present" if record else "unrecorded"
    elif path.with_name(path.name + ".part").exists():
        status = "partial"
    else:
        status = "missing"
    return FileState(entry=entry, path=path, status=status, recorded=record)
