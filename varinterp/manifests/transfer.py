"""Resumable, verified HTTP(S) downloads: the only place where varinterp touches the network.

A download goes to ``<dest>.part`` beside its final place, with a small ``.part.json``
note (the URL, ETag and Last-Modified). When a transfer breaks, the next attempt asks
for the rest with a ``Range`` request guarded by ``If-Range``, so a file that changed on
the server is fetched again from the start rather than spliced. Servers that ignore
ranges (a plain ``200``) are handled by starting over. The md5 (and sha256) are
computed while the bytes stream in; only a file whose size and md5 match what is
expected is renamed into place (atomic on one file system). A mismatch removes the
partial file, so a corrupt download never lands in the cache.

Transient failures (refused or reset connections, time-outs, 5xx, short reads) are
retried with exponential backoff; a 4xx is not retried on the same URL, but the next
mirror in the list is tried.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from varinterp import __version__

try:  # POSIX advisory locks; without them concurrent fetches are simply not guarded
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None
from varinterp.errors import VarinterpError
from varinterp.progress import ProgressCallback, report

__all__ = [
    "ChecksumMismatch",
    "DownloadError",
    "DownloadResult",
    "Hashes",
    "download",
    "fetch_bytes",
    "hash_file",
]

_CHUNK = 1 << 20
_USER_AGENT = f"varinterp/{__version__} (+data manifests)"


class DownloadError(VarinterpError):
    """A file could not be downloaded from any of its URLs."""


class ChecksumMismatch(VarinterpError):
    """A downloaded file's size or md5 differs from the expected value."""


@dataclass(frozen=True)
class Hashes:
    """Size and digests of a file."""

    size: int
    md5: str
    sha256: str


@dataclass(frozen=True)
class DownloadResult:
    """What `download` did: the final path, its hashes, the URL used, bytes transferred."""

    path: Path
    hashes: Hashes
    url: str
    transferred: int
    resumed_from: int


class _Retryable(Exception):
    """A failure worth retrying on the same URL."""


class _Fatal(Exception):
    """A failure of this URL that a retry will not fix (4xx, bad Content-Range)."""


def hash_file(path: str | os.PathLike, *, on_progress: ProgressCallback | None = None) -> Hashes:
    """md5 and sha256 of `path`, read in 1 MiB chunks."""
    path = Path(path)
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            md5.update(chunk)
            sha.update(chunk)
            done += len(chunk)
            report(on_progress, done, total)
    return Hashes(size=done, md5=md5.hexdigest(), sha256=sha.hexdigest())


def _request(url: str, headers: dict[str, str] | None = None) -> urllib.request.Request:
    merged = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    merged.update(headers or {})
    return urllib.request.Request(url, headers=merged)


def _describe(exc: BaseException, url: str) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason} for {url}"
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ConnectionRefusedError):
        host = urllib.request.urlparse(url).netloc
        return f"connection refused by {host} ({url})"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"timed out talking to {url}"
    if isinstance(reason, socket.gaierror):
        host = urllib.request.urlparse(url).netloc
        return f"cannot resolve host {host} (no network or a typo in the URL?)"
    return f"{type(reason).__name__}: {reason} ({url})"


def fetch_bytes(
    url: str,
    *,
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 1.0,
    limit: int = 64 << 20,
) -> bytes:
    """GET a small document (a checksum list, a JSON record) with retries; at most `limit` bytes."""
    last = ""
    for attempt in range(retries + 1):
        try:
            req = _request(url, {"Accept": "application/json, text/plain, */*"})
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                data = resp.read(limit + 1)
            if len(data) > limit:
                msg = f"{url} is larger than {limit} bytes; not a checksum document"
                raise DownloadError(msg)
            return data
        except urllib.error.HTTPError as exc:
            last = _describe(exc, url)
            if exc.code < 500:
                break
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            last = _describe(exc, url)
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    msg = f"could not download {url}: {last}"
    raise DownloadError(msg)


def _read_note(note: Path) -> dict[str, str]:
    try:
        data = json.loads(note.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_note(note: Path, data: dict[str, str]) -> None:
    tmp = note.with_name(note.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(note)


def _hash_prefix(part: Path) -> tuple[hashlib._Hash, hashlib._Hash, int]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    n = 0
    if part.exists():
        with part.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                md5.update(chunk)
                sha.update(chunk)
                n += len(chunk)
    return md5, sha, n


def _content_range_start(value: str | None) -> int | None:
    # "bytes 100-199/200"
    if not value or not value.startswith("bytes "):
        return None
    try:
        return int(value[6:].split("-", 1)[0])
    except ValueError:
        return None


def _attempt(
    url: str,
    part: Path,
    note: Path,
    *,
    size: int | None,
    timeout: float,
    on_progress: ProgressCallback | None,
) -> tuple[Hashes, int, int]:
    """One try at completing `part` from `url`; returns (hashes, transferred, resumed_from)."""
    md5, sha, have = _hash_prefix(part)
    info = _read_note(note)
    headers: dict[str, str] = {}
    if have and info.get("url") == url:
        headers["Range"] = f"bytes={have}-"
        etag = info.get("etag") or ""
        # If-Range needs a strong validator: a weak ETag (W/...) falls back to the date
        validator = (etag if not etag.startswith("W/") else "") or info.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    elif have:  # a partial file from another URL: start over
        part.unlink()
        md5, sha, have = _hash_prefix(part)
    try:
        resp = urllib.request.urlopen(_request(url, headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have and size is not None and have == size:
            return Hashes(have, md5.hexdigest(), sha.hexdigest()), 0, have
        if exc.code == 416:  # our partial file is not a prefix of theirs: start over
            part.unlink(missing_ok=True)
            raise _Retryable(_describe(exc, url)) from None
        if exc.code >= 500 or exc.code in (408, 429):
            raise _Retryable(_describe(exc, url)) from None
        raise _Fatal(_describe(exc, url)) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Retryable(_describe(exc, url)) from None
    with resp:
        status = resp.status
        if status == 206:
            start = _content_range_start(resp.headers.get("Content-Range"))
            if start != have:
                part.unlink(missing_ok=True)
                msg = f"server sent a range starting at {start}, asked for {have} ({url})"
                raise _Retryable(msg)
            mode = "ab"
        elif status == 200:
            if have:  # range ignored, or the file changed (If-Range): start again
                md5, sha, have = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
            mode = "wb"
        else:
            msg = f"unexpected HTTP {status} for {url}"
            raise _Fatal(msg)
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else size
        _write_note(
            note,
            {
                "url": url,
                "etag": resp.headers.get("ETag") or "",
                "last_modified": resp.headers.get("Last-Modified") or "",
            },
        )
        resumed_from = have
        done = have
        report(on_progress, done, total)
        try:
            with part.open(mode) as out:
                while True:
                    chunk = resp.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    md5.update(chunk)
                    sha.update(chunk)
                    done += len(chunk)
                    report(on_progress, done, total)
        except (OSError, http.client.HTTPException) as exc:
            raise _Retryable(_describe(exc, url)) from None
    if total is not None and length and done < total:
        msg = f"connection closed after {done} of {total} bytes ({url})"
        raise _Retryable(msg)
    return Hashes(done, md5.hexdigest(), sha.hexdigest()), done - resumed_from, resumed_from


def download(
    urls: list[str] | tuple[str, ...],
    dest: str | os.PathLike,
    *,
    size: int | None = None,
    md5: str | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
    on_progress: ProgressCallback | None = None,
) -> DownloadResult:
    """Download the first URL that works to `dest`, resuming, verifying, moving atomically.

    `size` and `md5`, when given, must match or `ChecksumMismatch` is raised and nothing
    is left behind. Each URL gets ``retries`` further attempts after a transient failure,
    waiting ``backoff * 2**k`` seconds; the partial file is kept between attempts (and
    between runs), so each attempt resumes where the last one stopped.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(dest):
        return _download_locked(
            tuple(urls),
            dest,
            size=size,
            md5=md5,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            on_progress=on_progress,
        )


@contextlib.contextmanager
def _exclusive(dest: Path):
    """Hold an advisory lock on ``<dest>.lock`` so two processes never share a .part file."""
    lock_path = dest.with_name(dest.name + ".lock")
    with lock_path.open("a") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                msg = f"another process is downloading {dest}; wait for it or remove {lock_path}"
                raise DownloadError(msg) from None
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
            with contextlib.suppress(OSError):
                lock_path.unlink()


def _download_locked(
    urls: tuple[str, ...],
    dest: Path,
    *,
    size: int | None,
    md5: str | None,
    retries: int,
    backoff: float,
    timeout: float,
    on_progress: ProgressCallback | None,
) -> DownloadResult:
    part = dest.with_name(dest.name + ".part")
    note = dest.with_name(dest.name + ".part.json")
    errors: list[str] = []
    for url in urls:
        for attempt in range(retries + 1):
            try:
                hashes, transferred, resumed = _attempt(
                    url, part, note, size=size, timeout=timeout, on_progress=on_progress
                )
            except _Fatal as exc:
                errors.append(str(exc))
                break
            except _Retryable as exc:
                errors.append(str(exc))
                if attempt < retries:
                    time.sleep(backoff * 2**attempt)
                continue
            bad = []
            if size is not None and hashes.size != size:
                bad.append(f"size {hashes.size} bytes, expected {size}")
            if md5 and hashes.md5 != md5.lower():
                bad.append(f"md5 {hashes.md5}, expected {md5.lower()}")
            if bad:
                part.unlink(missing_ok=True)
                note.unlink(missing_ok=True)
                msg = (
                    f"download of {dest.name} from {url} is corrupt ({'; '.join(bad)}); "
                    "it was discarded. Rerun to try again; if it persists the source "
                    "changed and the manifest needs updating"
                )
                raise ChecksumMismatch(msg)
            part.replace(dest)
            with contextlib.suppress(OSError):
                note.unlink()
            return DownloadResult(dest, hashes, url, transferred, resumed)
    detail = errors[-1] if errors else "no URL given"
    msg = f"could not download {dest.name}: {detail}"
    if len(errors) > 1:
        msg += f" (after {len(errors)} attempts; the partial file is kept and the next run resumes)"
    raise DownloadError(msg)
