"""Resumable, verified downloads against a local HTTP server."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest

from varinterp.manifests.transfer import ChecksumMismatch, DownloadError, download, hash_file


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_plain_download_verified_and_moved(server, payload, tmp_path):
    server.files["a.bin"] = payload
    seen = []
    dest = tmp_path / "out" / "a.bin"
    result = download(
        [f"{server.url}/files/a.bin"],
        dest,
        size=len(payload),
        md5=_md5(payload),
        backoff=0,
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert dest.read_bytes() == payload
    assert result.hashes.md5 == _md5(payload)
    assert result.hashes.sha256 == hashlib.sha256(payload).hexdigest()
    assert result.transferred == len(payload) and result.resumed_from == 0
    assert seen[-1] == (len(payload), len(payload))
    assert sorted(p.name for p in dest.parent.iterdir()) == ["a.bin"]  # no .part left


def test_dropped_connection_resumes_with_range(server, payload, tmp_path):
    server.files["b.bin"] = payload
    dest = tmp_path / "b.bin"
    result = download([f"{server.url}/flaky/b.bin"], dest, md5=_md5(payload), backoff=0)
    assert dest.read_bytes() == payload
    half = len(payload) // 2
    assert server.log[0] == ("/flaky/b.bin", None)
    assert server.log[1] == ("/flaky/b.bin", f"bytes={half}-")
    assert result.resumed_from == half
    assert result.transferred == len(payload) - half


def test_interrupted_run_leaves_partial_and_next_run_resumes(server, payload, tmp_path):
    server.files["c.bin"] = payload
    dest = tmp_path / "c.bin"
    url = f"{server.url}/flaky/c.bin"
    with pytest.raises(DownloadError, match=r"partial file is kept|closed after"):
        download([url], dest, retries=0, backoff=0)
    part = tmp_path / "c.bin.part"
    assert not dest.exists()
    assert part.read_bytes() == payload[: len(payload) // 2]
    note = json.loads((tmp_path / "c.bin.part.json").read_text())
    assert note["url"] == url and note["etag"]
    result = download([url], dest, md5=_md5(payload), backoff=0)
    assert dest.read_bytes() == payload
    assert result.resumed_from == len(payload) // 2
    assert not part.exists()


def test_server_without_range_support_restarts_cleanly(server, payload, tmp_path):
    server.files["d.bin"] = payload
    url = f"{server.url}/norange/d.bin"
    dest = tmp_path / "d.bin"
    (tmp_path / "d.bin.part").write_bytes(payload[:1000])
    (tmp_path / "d.bin.part.json").write_text(json.dumps({"url": url}))
    result = download([url], dest, md5=_md5(payload), backoff=0)
    assert server.log[-1] == ("/norange/d.bin", "bytes=1000-")  # asked, was ignored
    assert dest.read_bytes() == payload
    assert result.resumed_from == 0 and result.transferred == len(payload)


def test_changed_file_is_not_spliced(server, payload, tmp_path):
    old, new = payload, payload[::-1]
    server.files["e.bin"] = new
    url = f"{server.url}/files/e.bin"
    dest = tmp_path / "e.bin"
    stale_etag = '"' + _md5(old) + '"'
    (tmp_path / "e.bin.part").write_bytes(old[:5000])
    (tmp_path / "e.bin.part.json").write_text(json.dumps({"url": url, "etag": stale_etag}))
    download([url], dest, backoff=0)
    assert dest.read_bytes() == new  # If-Range failed, so the whole new file came


def test_redirect_is_followed_and_range_kept(server, payload, tmp_path):
    server.files["f.bin"] = payload
    url = f"{server.url}/redirect/f.bin"
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(payload[:777])
    (tmp_path / "f.bin.part.json").write_text(json.dumps({"url": url}))
    result = download([url], dest, md5=_md5(payload), backoff=0)
    assert dest.read_bytes() == payload
    assert ("/files/f.bin", "bytes=777-") in server.log
    assert result.resumed_from == 777


def test_corrupt_download_is_rejected_and_removed(server, payload, tmp_path):
    server.files["g.bin"] = payload
    dest = tmp_path / "g.bin"
    with pytest.raises(ChecksumMismatch, match=r"corrupt.*md5"):
        download([f"{server.url}/files/g.bin"], dest, md5=_md5(b"something else"), backoff=0)
    assert list(tmp_path.iterdir()) == []


def test_wrong_size_is_rejected(server, payload, tmp_path):
    server.files["h.bin"] = payload
    with pytest.raises(ChecksumMismatch, match="size"):
        download(
            [f"{server.url}/files/h.bin"], tmp_path / "h.bin", size=len(payload) + 1, backoff=0
        )
    assert list(tmp_path.iterdir()) == []


def test_404_is_a_clear_error_and_not_retried(server, tmp_path):
    with pytest.raises(
        DownloadError, match=r"HTTP 404 Not Found for http://127\.0\.0\.1:\d+/files/nope"
    ):
        download([f"{server.url}/files/nope"], tmp_path / "x", retries=3, backoff=0)
    assert len(server.log) == 1


def test_connection_refused_is_a_clear_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match=r"connection refused by 127\.0\.0\.1"):
        download([f"http://127.0.0.1:{port}/x"], tmp_path / "x", retries=1, backoff=0)


def test_transient_503_is_retried(server, payload, tmp_path):
    server.files["i.bin"] = payload
    download([f"{server.url}/busy/i.bin"], tmp_path / "i.bin", md5=_md5(payload), backoff=0)
    assert [p for p, _ in server.log] == ["/busy/i.bin", "/busy/i.bin"]


def test_next_mirror_is_tried_after_404(server, payload, tmp_path):
    server.files["j.bin"] = payload
    urls = [f"{server.url}/files/gone.bin", f"{server.url}/files/j.bin"]
    result = download(urls, tmp_path / "j.bin", md5=_md5(payload), backoff=0)
    assert result.url == urls[1]


def test_hash_file_matches_hashlib(tmp_path, payload):
    path = tmp_path / "p"
    path.write_bytes(payload)
    h = hash_file(path)
    assert (h.size, h.md5, h.sha256) == (
        len(payload),
        _md5(payload),
        hashlib.sha256(payload).hexdigest(),
    )


def test_concurrent_download_of_the_same_file_is_refused(server, payload, tmp_path):
    from varinterp.manifests.transfer import _exclusive

    server.files["k.bin"] = payload
    dest = tmp_path / "k.bin"
    with _exclusive(dest), pytest.raises(DownloadError, match="another process"):
        download([f"{server.url}/files/k.bin"], dest, backoff=0)
    assert server.log == []
    download([f"{server.url}/files/k.bin"], dest, backoff=0)  # lock released
    assert dest.read_bytes() == payload
