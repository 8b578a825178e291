"""Safe unpacking: traversal, absolute paths, escaping links and devices are refused."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile

import pytest

from varinterp.manifests.archive import UnsafeArchive, gunzip_file, safe_extract


def _tar(path, members):
    """members: (name, kind, payload-or-linkname)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, value
                tar.addfile(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                tar.addfile(info)
    return path


def test_good_tar_is_unpacked(tmp_path):
    archive = _tar(
        tmp_path / "ok.tar.gz",
        [
            ("pkg", "dir", None),
            ("pkg/a.txt", "file", b"alpha"),
            ("pkg/sub/b.txt", "file", b"beta"),
            ("pkg/link", "sym", "sub/b.txt"),
            ("pkg/hard", "hard", "pkg/a.txt"),
        ],
    )
    dest = safe_extract(archive, tmp_path / "out", kind="tar")
    assert (dest / "pkg/a.txt").read_bytes() == b"alpha"
    assert (dest / "pkg/sub/b.txt").read_bytes() == b"beta"
    assert (dest / "pkg/link").read_bytes() == b"beta"
    assert (dest / "pkg/hard").read_bytes() == b"alpha"


@pytest.mark.parametrize(
    "members",
    [
        [("../evil.txt", "file", b"x")],
        [("ok/../../evil.txt", "file", b"x")],
        [("/tmp/evil.txt", "file", b"x")],
        [("link", "sym", "../outside")],
        [("link", "sym", "/etc/passwd")],
        [("d/link", "sym", "../../outside")],
        [("hard", "hard", "../outside")],
        [("pipe", "fifo", None)],
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "absolute",
        "symlink-up",
        "symlink-abs",
        "symlink-deep",
        "hardlink-up",
        "fifo",
    ],
)
def test_unsafe_tar_is_refused_and_nothing_written(tmp_path, members):
    archive = _tar(tmp_path / "bad.tar.gz", [("fine.txt", "file", b"ok"), *members])
    dest = tmp_path / "sub" / "out"
    with pytest.raises(UnsafeArchive, match="refused"):
        safe_extract(archive, dest, kind="tar")
    assert not dest.exists()
    assert not (tmp_path / "evil.txt").exists()
    leftovers = (
        [p.name for p in (tmp_path / "sub").iterdir()] if (tmp_path / "sub").exists() else []
    )
    assert leftovers == []


def test_existing_destination_survives_a_refused_archive(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("old")
    archive = _tar(tmp_path / "bad.tar.gz", [("../x", "file", b"x")])
    with pytest.raises(UnsafeArchive):
        safe_extract(archive, dest, kind="tar")
    assert (dest / "keep.txt").read_text() == "old"


def test_setuid_bits_are_dropped(tmp_path):
    path = tmp_path / "s.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("tool")
        info.size, info.mode = 2, 0o4777
        tar.addfile(info, io.BytesIO(b"hi"))
    dest = safe_extract(path, tmp_path / "out", kind="tar")
    mode = (dest / "tool").stat().st_mode
    assert not mode & stat.S_ISUID and not mode & stat.S_IWOTH


def test_zip_good_and_traversal(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("dir/a.tsv", "x\ty\n")
    out = safe_extract(good, tmp_path / "good", kind="zip")
    assert (out / "dir/a.tsv").read_text() == "x\ty\n"

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../../evil.txt", "x")
    with pytest.raises(UnsafeArchive, match="outside"):
        safe_extract(bad, tmp_path / "bad", kind="zip")
    assert not (tmp_path / "bad").exists() and not (tmp_path.parent / "evil.txt").exists()


def test_zip_symlink_is_refused(tmp_path):
    bad = tmp_path / "link.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../etc/passwd")
    with pytest.raises(UnsafeArchive, match="link"):
        safe_extract(bad, tmp_path / "out", kind="zip")


def test_broken_archive_is_an_error(tmp_path):
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(b"not a tar at all")
    with pytest.raises(UnsafeArchive, match="could not be read"):
        safe_extract(bad, tmp_path / "out", kind="tar")
    assert not (tmp_path / "out").exists()


def test_gunzip(tmp_path):
    src = tmp_path / "x.fa.gz"
    src.write_bytes(gzip.compress(b">chr1\nACGT\n"))
    out = gunzip_file(src, tmp_path / "x.fa")
    assert out.read_bytes() == b">chr1\nACGT\n"
    (tmp_path / "y.gz").write_bytes(b"plain")
    with pytest.raises(UnsafeArchive, match="gzip"):
        gunzip_file(tmp_path / "y.gz", tmp_path / "y")
    assert not (tmp_path / "y").exists()
