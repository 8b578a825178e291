"""Ways to break an input: each takes the valid path and a work folder, writes the broken
copy under ``work/in`` (keeping the file name, so format detection by suffix still
applies) and returns its path.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = [
    "Breaker",
    "as_folder",
    "empty",
    "garbage",
    "in_copy",
    "missing",
    "plain_text",
    "rewrite",
    "truncated",
    "under_file",
]

Breaker = Callable[[Path, Path], Path]


def _slot(src: Path, work: Path) -> Path:
    folder = work / "in"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / src.name


def missing(src: Path, work: Path) -> Path:
    """A path that does not exist."""
    return work / "in" / "absent" / src.name


def empty(src: Path, work: Path) -> Path:
    """An empty file (or an empty folder in place of a folder)."""
    path = _slot(src, work)
    if src.is_dir():
        path.mkdir()
    else:
        path.write_bytes(b"")
    return path


def garbage(src: Path, work: Path) -> Path:
    """Random bytes (4 KiB, fixed seed) under the file's name."""
    path = _slot(src, work)
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def plain_text(src: Path, work: Path) -> Path:
    """A few lines of prose under the file's name."""
    path = _slot(src, work)
    path.write_text("this is not the file you are looking for\nnor is this line\n")
    return path


def truncated(src: Path, work: Path) -> Path:
    """The first part of the file: half of it, and inside the first block when gzipped."""
    data = src.read_bytes()
    keep = len(data) // 2
    if data[:2] == b"\x1f\x8b":
        keep = min(keep, 200)  # inside the first (BGZF) block
    path = _slot(src, work)
    path.write_bytes(data[:keep])
    return path


def as_folder(src: Path, work: Path) -> Path:
    """A folder where a file is expected."""
    path = _slot(src, work)
    path.mkdir()
    return path


def under_file(src: Path, work: Path) -> Path:
    """An output path whose parent is a regular file."""
    blocker = work / "out" / "a-file"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("I am a file, not a folder\n")
    return blocker / src.name


def in_copy(rel: str, breaker: Breaker) -> Breaker:
    """Copy the folder and break the file `rel` inside it with `breaker`."""

    def apply(src: Path, work: Path) -> Path:
        copy = _slot(src, work)
        shutil.copytree(src, copy)
        target = copy / rel
        broken = breaker(target, work / "scratch")
        if broken.exists() or broken.is_symlink():
            target.unlink(missing_ok=True)
            shutil.move(broken, target) if broken.exists() else None
        else:  # the breaker made nothing: the file goes missing
            target.unlink()
        return copy

    apply.__name__ = f"{breaker.__name__} {rel}"
    return apply


def rewrite(edit: Callable[[str], str], *, name: str = "edited", index: bool = False) -> Breaker:
    """The file's text passed through `edit`; a ``.gz`` file is written back bgzipped
    (and indexed with `index`)."""

    def apply(src: Path, work: Path) -> Path:
        import pysam

        gz = src.suffix == ".gz"
        text = gzip.decompress(src.read_bytes()).decode() if gz else src.read_text()
        path = _slot(src, work)
        if not gz:
            path.write_text(edit(text))
            return path
        plain = path.with_suffix("")
        plain.write_text(edit(text))
        pysam.tabix_compress(str(plain), str(path), force=True)
        plain.unlink()
        if index:
            pysam.tabix_index(str(path), preset="vcf", force=True)
        return path

    apply.__name__ = name
    return apply


def json_edit(edit: Callable[[dict], None], *, name: str = "json edited") -> Breaker:
    """A JSON file loaded, changed in place by `edit`, written back."""

    def apply(src: Path, work: Path) -> Path:
        data = json.loads(src.read_text())
        edit(data)
        path = _slot(src, work)
        path.write_text(json.dumps(data))
        return path

    apply.__name__ = name
    return apply
