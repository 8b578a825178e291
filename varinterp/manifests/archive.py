"""Safe unpacking of downloaded archives (tar, zip, gzip).

Every member is checked before anything is written: no absolute paths, no ``..``
components, no Windows drive letters, no device files or FIFOs, and no symbolic or hard
link whose target would land outside the destination folder. Zip symlinks are refused
outright. The archive is unpacked into a temporary folder beside the destination and
renamed into place only when every member is out, so a refused or broken archive
leaves nothing behind.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from varinterp.errors import VarinterpError
from varinterp.io.atomic import atomic_dir, atomic_path

__all__ = ["UnsafeArchive", "gunzip_file", "safe_extract", "unpack"]


class UnsafeArchive(VarinterpError):
    """An archive member would escape the destination or is of a forbidden kind."""


def _check_name(name: str, archive: Path) -> PurePosixPath:
    if not name or "\x00" in name:
        msg = f"archive {archive.name} has a member with an empty or invalid name"
        raise UnsafeArchive(msg)
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or (len(name) > 1 and name[1] == ":") or ".." in posix.parts:
        msg = f"archive {archive.name} is refused: member {name!r} points outside the folder"
        raise UnsafeArchive(msg)
    return posix


def _inside(root: Path, path: str | os.PathLike) -> bool:
    """Whether `path`, normalised lexically, is `root` or below it."""
    normal = Path(os.path.normpath(path))
    return normal == root or root in normal.parents


def _check_tar_member(member: tarfile.TarInfo, archive: Path, root: Path) -> None:
    posix = _check_name(member.name, archive)
    if member.isdev() or member.isfifo():
        msg = f"archive {archive.name} is refused: member {member.name!r} is a device or FIFO"
        raise UnsafeArchive(msg)
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        # a symlink is relative to its own folder, a hard link to the archive root
        base = root / posix.parent if member.issym() else root
        if target.is_absolute() or not _inside(root, base / target):
            kind = "symlink" if member.issym() else "hard link"
            msg = (
                f"archive {archive.name} is refused: {kind} {member.name!r} -> "
                f"{member.linkname!r} escapes the folder"
            )
            raise UnsafeArchive(msg)


def _extract_tar(archive: Path, dest: Path) -> int:
    root = dest.resolve()
    count = 0
    with tarfile.open(archive, mode="r:*") as tar:
        members = tar.getmembers()
        for member in members:  # check all first: nothing is written from a bad archive
            _check_tar_member(member, archive, root)
        for member in members:
            parent = (root / PurePosixPath(member.name).parent).resolve()
            if not _inside(root, parent):  # written through a link placed earlier
                msg = f"archive {archive.name} is refused: {member.name!r} resolves outside"
                raise UnsafeArchive(msg)
            member.mode &= 0o755  # no setuid/setgid/sticky, no world-writable files
            if hasattr(tarfile, "data_filter"):
                tar.extract(member, root, set_attrs=not member.issym(), filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tar.extract(member, root, set_attrs=not member.issym())
            count += 1
    return count


def _extract_zip(archive: Path, dest: Path) -> int:
    count = 0
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            _check_name(info.filename, archive)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                msg = f"archive {archive.name} is refused: member {info.filename!r} is a link"
                raise UnsafeArchive(msg)
        for info in infos:
            target = dest / PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            count += 1
    return count


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike, *, kind: str) -> Path:
    """Unpack a ``tar`` (any compression) or ``zip`` archive into the folder `dest`.

    `dest` is replaced only once the whole archive is out; an unsafe member raises
    `UnsafeArchive` and leaves `dest` untouched.
    """
    archive, dest = Path(archive), Path(dest)
    extract = {"tar": _extract_tar, "zip": _extract_zip}.get(kind)
    if extract is None:
        msg = f"unknown archive kind {kind!r}"
        raise ValueError(msg)
    try:
        with atomic_dir(dest, overwrite=True) as tmp:
            extract(archive, tmp)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        msg = f"archive {archive.name} could not be read ({exc}); delete it and fetch again"
        raise UnsafeArchive(msg) from None
    return dest


def gunzip_file(src: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Decompress a gzip (or bgzip) file `src` to `dest`, atomically."""
    src, dest = Path(src), Path(dest)
    try:
        with gzip.open(src, "rb") as fin, atomic_path(dest, suffix="") as tmp:
            with tmp.open("wb") as out:
                shutil.copyfileobj(fin, out, 1 << 20)
    except (OSError, EOFError) as exc:
        msg = f"{src.name} is not a readable gzip file ({exc}); delete it and fetch again"
        raise UnsafeArchive(msg) from None
    return dest


def unpack(path: str | os.PathLike, dest: str | os.PathLike, *, kind: str) -> Path:
    """Unpack `path` to `dest` by `kind` (``gunzip``, ``tar`` or ``zip``)."""
    if kind == "gunzip":
        return gunzip_file(path, dest)
    return safe_extract(path, dest, kind=kind)
