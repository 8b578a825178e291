"""fetch / verify / path / list, through the library and through ``varinterp data``."""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket
import tarfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli import data as data_cli
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.errors import InputError
from varinterp.manifests import ChecksumMismatch, UnsafeArchive, fetch, list_datasets, path, verify

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "data_manifests"  # the manifests shipped with the package


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def _manifest(folder: Path, server, files: str, name: str = "toy", extra: str = "") -> Path:
    folder.mkdir(exist_ok=True)
    text = f"""
format = 1
name = "{name}"
title = "Toy data for tests"
description = "Served by the test server."
licence = "CC0"
homepage = "{server.url}/"
feeds = ["varinterp genome build --fasta: the toy reference"]
{extra}
""" + files.replace("URL", server.url)
    path_ = folder / f"{name}.toml"
    path_.write_text(text)
    return folder


def _app():
    root = typer.Typer(cls=ErrorHandlingGroup)

    @root.callback()
    def _cb() -> None:
        pass

    root.add_typer(data_cli.app, name="data")
    return root


def _run(*args):
    return CliRunner().invoke(_app(), ["data", *args], env={"COLUMNS": "200"})


@pytest.fixture
def toy(server, payload, tmp_path):
    """A manifest with an md5-checked file, a published one, a recorded one and a tarball."""
    server.files["ref.fa"] = payload
    server.files["pub.bin"] = payload[:5000]
    server.files["rec.txt"] = b"first version\n"
    server.files["bundle.tar.gz"] = _tar_bytes({"bundle/a.txt": b"A", "bundle/b/c.txt": b"C"})
    server.raw["zenodo.json"] = json.dumps(
        {"files": [{"key": "pub.bin", "checksum": "md5:" + _md5(payload[:5000]), "size": 5000}]}
    ).encode()
    files = f"""
[[files]]
name = "ref.fa"
urls = ["URL/flaky/ref.fa"]
size = {len(payload)}
md5 = "{_md5(payload)}"
checksum = "md5"

[[files]]
name = "sub/pub.bin"
urls = ["URL/redirect/pub.bin"]
size = "unknown"
md5 = ""
checksum = "published"
md5_source = {{ kind = "zenodo", url = "URL/raw/zenodo.json", key = "pub.bin" }}

[[files]]
name = "rec.txt"
urls = ["URL/norange/rec.txt"]
size = "unknown"
md5 = ""
checksum = "record-on-first-download"

[[files]]
name = "bundle.tar.gz"
urls = ["URL/files/bundle.tar.gz"]
size = "unknown"
md5 = ""
checksum = "record-on-first-download"
unpack = "tar"
optional = true
"""
    samples = """
[samples]
file = "map.tsv"
description = "library to individual"
columns = ["library", "individual"]
rows = [["L1", "NA18505"], ["L2", "NA19239"]]
"""
    return _manifest(tmp_path / "manifests", server, samples + files)


def test_fetch_verify_path_roundtrip(toy, payload, server, tmp_path):
    cache = tmp_path / "cache"
    report = fetch(names=["toy"], manifest_dir=toy, backoff=0)
    # the optional archive is skipped; the sample table is written from the manifest
    assert [o.action for o in report.outcomes] == ["downloaded"] * 3 + ["written"]
    folder = cache / "toy"
    assert (folder / "ref.fa").read_bytes() == payload
    assert (folder / "sub/pub.bin").read_bytes() == payload[:5000]
    assert (folder / "map.tsv").read_text() == "library\tindividual\nL1\tNA18505\nL2\tNA19239\n"
    lock = json.loads((folder / ".varinterp-lock.json").read_text())["files"]
    assert lock["ref.fa"]["md5_from"] == "manifest"
    assert lock["sub/pub.bin"]["md5_from"] == "published"
    assert lock["rec.txt"]["md5_from"] == "recorded at first download"
    assert lock["rec.txt"]["md5"] == _md5(b"first version\n")
    assert not list(folder.rglob("*.part"))

    n_requests = len(server.log)
    again = fetch(names=["toy"], manifest_dir=toy, backoff=0)
    assert [o.action for o in again.outcomes] == ["cached"] * 3 + ["written"]
    assert len(server.log) == n_requests  # nothing downloaded again

    assert verify(names=["toy"], manifest_dir=toy).ok
    assert path(name="toy", file="ref.fa", manifest_dir=toy) == folder / "ref.fa"
    assert path(name="toy", file="map.tsv", manifest_dir=toy) == folder / "map.tsv"
    with pytest.raises(InputError, match=r"not in the cache yet.*--file 'bundle\.tar\.gz'"):
        path(name="toy", file="bundle/a.txt", manifest_dir=toy)
    with pytest.raises(InputError, match=r"has no file 'nope\.txt'"):
        path(name="toy", file="nope.txt", manifest_dir=toy)


def test_sample_table_alone(toy, server, tmp_path):
    report = fetch(names=["toy"], files=["map.tsv"], manifest_dir=toy)
    assert [(o.name, o.action) for o in report.outcomes] == [("map.tsv", "written")]
    assert server.log == []
    assert path(name="toy", file="map.tsv", manifest_dir=toy).read_text().startswith("library")


def test_optional_archive_is_unpacked(toy, tmp_path):
    report = fetch(names=["toy"], files=["bundle*"], manifest_dir=toy, backoff=0)
    assert [o.name for o in report.outcomes] == ["bundle.tar.gz"]
    out = path(name="toy", file="bundle/bundle/b/c.txt", manifest_dir=toy)
    assert out.read_bytes() == b"C"


def test_traversal_archive_fetched_is_refused(server, tmp_path):
    server.files["evil.tar.gz"] = _tar_bytes({"ok.txt": b"x", "../../escaped.txt": b"y"})
    folder = _manifest(
        tmp_path / "m",
        server,
        """
[[files]]
name = "evil.tar.gz"
urls = ["URL/files/evil.tar.gz"]
size = "unknown"
md5 = ""
checksum = "record-on-first-download"
unpack = "tar"
""",
    )
    with pytest.raises(UnsafeArchive, match="points outside"):
        fetch(names=["toy"], manifest_dir=folder, backoff=0)
    cache = tmp_path / "cache" / "toy"
    assert not (cache / "evil").exists()
    assert not list(tmp_path.rglob("escaped.txt"))


def test_corrupt_file_is_kept_out_of_the_cache(server, payload, tmp_path):
    server.files["x.bin"] = payload
    folder = _manifest(
        tmp_path / "m",
        server,
        f"""
[[files]]
name = "x.bin"
urls = ["URL/files/x.bin"]
size = "unknown"
md5 = "{_md5(b"other")}"
checksum = "md5"
""",
    )
    with pytest.raises(ChecksumMismatch, match="corrupt"):
        fetch(names=["toy"], manifest_dir=folder, backoff=0)
    cache = tmp_path / "cache" / "toy"
    assert not (cache / "x.bin").exists() and not list(cache.glob("x.bin*"))
    result = _run("fetch", "toy", "--manifests", str(folder), "--retries", "0")
    assert result.exit_code == 1
    assert "failed (ChecksumMismatch)" in result.output and "corrupt" in result.output


def test_recorded_checksum_guards_refetch_and_refresh_renews(toy, server, tmp_path):
    fetch(names=["toy"], files=["rec.txt"], manifest_dir=toy, backoff=0)
    target = tmp_path / "cache" / "toy" / "rec.txt"
    target.unlink()
    server.files["rec.txt"] = b"second version\n"
    with pytest.raises(ChecksumMismatch):
        fetch(names=["toy"], files=["rec.txt"], manifest_dir=toy, backoff=0)
    assert not target.exists()
    fetch(names=["toy"], files=["rec.txt"], refresh=True, manifest_dir=toy, backoff=0)
    assert target.read_bytes() == b"second version\n"


def test_verify_detects_tampering_and_missing_files(toy, tmp_path):
    fetch(names=["toy"], manifest_dir=toy, backoff=0)
    ref = tmp_path / "cache" / "toy" / "ref.fa"
    data = bytearray(ref.read_bytes())
    data[100] ^= 0xFF
    ref.write_bytes(bytes(data))
    (tmp_path / "cache" / "toy" / "rec.txt").unlink()
    report = verify(names=["toy"], manifest_dir=toy)
    by_name = {o.name: o.action for o in report.outcomes}
    assert by_name["ref.fa"] == "mismatch"
    assert by_name["rec.txt"] == "missing"
    assert by_name["sub/pub.bin"] == "ok"
    assert by_name["bundle.tar.gz"] == "skipped"
    assert not report.ok
    result = _run("verify", "toy", "--manifests", str(toy))
    assert result.exit_code == 1
    assert "mismatch toy/ref.fa" in result.output


def test_dry_run_touches_nothing(toy, server, tmp_path):
    report = fetch(names=["toy"], dry_run=True, include_optional=True, manifest_dir=toy)
    assert {o.action for o in report.outcomes} == {"planned"}
    assert server.log == [] and not (tmp_path / "cache").exists()
    result = _run("fetch", "toy", "--dry-run", "--all", "--manifests", str(toy))
    assert result.exit_code == 0
    assert "planned toy/bundle.tar.gz" in result.output and "unpack (tar)" in result.output
    assert server.log == []


def test_cli_fetch_then_path(toy, tmp_path):
    result = _run("fetch", "toy", "--manifests", str(toy))
    assert result.exit_code == 0, result.output
    assert "3 file(s) downloaded" in result.output
    result = _run("path", "toy", "ref.fa", "--manifests", str(toy))
    assert result.exit_code == 0
    assert Path(result.output.strip()) == (tmp_path / "cache" / "toy" / "ref.fa").resolve()


def test_cli_bad_input_exits_2_with_one_line(toy, tmp_path):
    result = _run("fetch", "nosuch", "--manifests", str(toy))
    assert result.exit_code == 2
    assert "unknown dataset 'nosuch'; known datasets: toy" in result.output
    result = _run("path", "toy", "ref.fa", "--manifests", str(toy))
    assert result.exit_code == 2
    assert "not in the cache yet; run: varinterp data fetch toy --file 'ref.fa'" in result.output
    result = _run("fetch", "toy", "--file", "zzz*", "--manifests", str(toy))
    assert result.exit_code == 2 and "no file of dataset 'toy' matches zzz*" in result.output
    (toy / "broken.toml").write_text('format = 1\nname = "b"\nweird = 1\n')
    result = _run("list", "--manifests", str(toy))
    assert result.exit_code == 2 and "unknown key 'weird'" in result.output


def test_cli_404_and_refused_are_clear(server, tmp_path):
    folder = _manifest(
        tmp_path / "m",
        server,
        """
[[files]]
name = "gone.bin"
urls = ["URL/files/gone.bin"]
size = "unknown"
md5 = ""
checksum = "record-on-first-download"
""",
    )
    result = _run("fetch", "toy", "--manifests", str(folder), "--retries", "0")
    assert result.exit_code == 1
    assert re.search(
        r"could not download gone.bin: HTTP 404 Not Found for http://127", result.output
    )

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    text = (folder / "toy.toml").read_text().replace(server.url, f"http://127.0.0.1:{port}")
    (folder / "toy.toml").write_text(text)
    result = _run("fetch", "toy", "--manifests", str(folder), "--retries", "1")
    assert result.exit_code == 1
    assert f"connection refused by 127.0.0.1:{port}" in result.output


def test_list_shows_every_repository_dataset_with_its_use():
    rows = {r.name: r for r in list_datasets(manifest_dir=SHIPPED)}
    assert len(rows) == 11
    assert any("genome build --vcf" in f for f in rows["1kg-grch38-2019"].feeds)
    result = _run("list", "--manifests", str(SHIPPED))
    assert result.exit_code == 0
    for name in rows:
        assert name in result.output
    assert "feeds" in result.output and "genome build" in result.output


def test_no_other_module_touches_the_network():
    """Only varinterp/manifests may import an HTTP/FTP client (sockets for local DDP are fine)."""
    clients = r"urllib\.request|http\.client|ftplib|requests|httpx|urllib3|aiohttp|pooch"
    pattern = re.compile(rf"^\s*(import|from)\s+({clients})\b", re.MULTILINE)
    offenders = []
    for py in (REPO / "varinterp").rglob("*.py"):
        if "manifests" in py.relative_to(REPO / "varinterp").parts:
            continue
        if pattern.search(py.read_text(encoding="utf-8")):
            offenders.append(str(py.relative_to(REPO)))
    assert offenders == []


def test_altered_cached_file_is_downloaded_again_and_checked(toy, server, tmp_path):
    fetch(names=["toy"], files=["rec.txt"], manifest_dir=toy, backoff=0)
    target = tmp_path / "cache" / "toy" / "rec.txt"
    target.write_bytes(b"tampered with, and longer\n")
    report = fetch(names=["toy"], files=["rec.txt"], manifest_dir=toy, backoff=0)
    assert report.outcomes[0].action == "downloaded"
    assert target.read_bytes() == b"first version\n"


def test_file_placed_by_hand_is_checked_and_recorded(toy, payload, server, tmp_path):
    folder = tmp_path / "cache" / "toy"
    folder.mkdir(parents=True)
    (folder / "ref.fa").write_bytes(payload)
    report = fetch(names=["toy"], files=["ref.fa"], manifest_dir=toy, backoff=0)
    assert report.outcomes[0].detail.endswith("(manifest)")
    assert server.log == []
    (folder / "ref.fa").write_bytes(payload[:-1])
    lock = folder / ".varinterp-lock.json"
    lock.unlink()
    with pytest.raises(ChecksumMismatch, match="differs from the manifest"):
        fetch(names=["toy"], files=["ref.fa"], manifest_dir=toy, backoff=0)


def test_cli_cache_option_and_verify_ok(toy, tmp_path):
    other = tmp_path / "elsewhere"
    result = _run("fetch", "toy", "--manifests", str(toy), "--cache", str(other), "-q")
    assert result.exit_code == 0, result.output
    assert (other / "toy" / "ref.fa").exists() and not (tmp_path / "cache").exists()
    result = _run("verify", "toy", "--manifests", str(toy), "--cache", str(other))
    assert result.exit_code == 0
    assert "ok toy/ref.fa" in result.output and "no problems" in result.output
    result = _run("list", "--manifests", str(toy), "--cache", str(other), "--verbose")
    assert result.exit_code == 0 and "licence: CC0" in result.output
