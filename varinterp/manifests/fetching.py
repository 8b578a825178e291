"""``varinterp data fetch``: download what the manifests describe into the cache.

Resumable downloads, checked against the manifest md5, the md5 the source publishes or
the one recorded at the first download before the atomic move; archives are unpacked
safely and a lock record per dataset folder remembers what was fetched.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text
from varinterp.manifests.archive import unpack
from varinterp.manifests.dataset import Dataset, FileEntry
from varinterp.manifests.outcomes import FetchReport, FileOutcome
from varinterp.manifests.schema import load_manifests
from varinterp.manifests.selection import select_datasets, select_files
from varinterp.manifests.sources import lookup
from varinterp.manifests.store import dataset_dir, file_state, write_lock_entry
from varinterp.manifests.transfer import ChecksumMismatch, download, hash_file
from varinterp.progress import ProgressCallback

__all__ = ["fetch"]


def _expected(
    entry: FileEntry, record: dict | None, *, sources_cache: dict[str, bytes], net: dict
) -> tuple[str | None, int | None, str]:
    """Expected (md5, size, where the md5 came from) for `entry`."""
    if entry.checksum == "md5":
        return entry.md5, entry.size, "manifest"
    if entry.checksum == "published":
        if entry.md5_source is None:  # pragma: no cover - the schema requires it
            msg = f"{entry.name}: checksum = published without an md5_source"
            raise InputError(msg)
        pub = lookup(entry.md5_source, cache=sources_cache, **net)
        if entry.size is not None and pub.size is not None and pub.size != entry.size:
            msg = (
                f"{entry.name}: the source now publishes size {pub.size}, the manifest says "
                f"{entry.size}; the file changed upstream, so the manifest needs updating"
            )
            raise ChecksumMismatch(msg)
        return pub.md5, entry.size or pub.size, "published"
    if record and record.get("md5"):
        return record["md5"], entry.size or record.get("size"), "recorded"
    return None, entry.size, "recorded"


def _write_samples(ds: Dataset, folder: Path) -> None:
    if ds.samples is not None:
        target = folder / ds.samples.file
        text = ds.samples.to_tsv()
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            atomic_write_text(target, text)


def fetch(
    *,
    names: Sequence[str],
    files: Sequence[str] | None = None,
    include_optional: bool = False,
    dry_run: bool = False,
    refresh: bool = False,
    manifest_dir: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    retries: int = 4,
    backoff: float = 1.0,
    timeout: float = 60.0,
    on_progress: ProgressCallback | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
) -> FetchReport:
    """Download the files of datasets `names` into the cache and verify them.

    `files`: shell-style patterns on file names (an optional file named by a pattern is
    fetched). A file already cached with a lock record is not downloaded again. With
    `dry_run` nothing touches the network or the disk; the report lists the plan.
    `on_progress(done, total)` counts bytes of the current file; `on_file` is called
    after each file with its outcome.
    """
    datasets = load_manifests(manifest_dir)
    report_ = FetchReport()
    sources_cache: dict[str, bytes] = {}
    net = {"timeout": timeout, "retries": retries, "backoff": backoff}
    for ds in select_datasets(datasets, names):
        folder = dataset_dir(ds, cache)
        entries, with_samples = select_files(ds, files, include_optional)
        for entry in entries:
            outcome = _fetch_one(
                ds,
                entry,
                folder,
                cache=cache,
                dry_run=dry_run,
                refresh=refresh,
                sources_cache=sources_cache,
                net=net,
                on_progress=on_progress,
            )
            report_.outcomes.append(outcome)
            if on_file is not None:
                on_file(outcome)
        if with_samples and ds.samples is not None:
            target = folder / ds.samples.file
            if not dry_run:
                _write_samples(ds, folder)
            action = "planned" if dry_run else "written"
            outcome = FileOutcome(ds.name, ds.samples.file, target, action, ds.samples.description)
            report_.outcomes.append(outcome)
            if on_file is not None:
                on_file(outcome)
    return report_


def _fetch_one(
    ds: Dataset,
    entry: FileEntry,
    folder: Path,
    *,
    cache: str | os.PathLike | None,
    dry_run: bool,
    refresh: bool,
    sources_cache: dict[str, bytes],
    net: dict,
    on_progress: ProgressCallback | None,
) -> FileOutcome:
    state = file_state(ds, entry, cache)
    dest = state.path
    if dry_run:
        size = f"{entry.size:,} bytes" if entry.size else "size unknown"
        how = {
            "md5": f"md5 {entry.md5}",
            "published": f"md5 read from {entry.md5_source.url if entry.md5_source else '?'}",
            "record-on-first-download": "checksum recorded at first download",
        }[entry.checksum]
        action = "cached" if state.status == "present" else "planned"
        detail = f"{entry.urls[0]} -> {dest} ({size}; {how})"
        if entry.unpack != "none":
            detail += f"; unpack ({entry.unpack}) to {folder / (entry.unpacked_name or '')}"
        return FileOutcome(ds.name, entry.name, dest, action, detail)

    record = None if refresh else state.recorded
    if record is not None and (
        (entry.md5 and record.get("md5") != entry.md5)
        or (entry.size is not None and record.get("size") != entry.size)
    ):
        record = None  # the manifest changed since that download: check against it instead
    if state.status == "present" and record is not None:
        if dest.stat().st_size == record.get("size"):
            _ensure_unpacked(entry, folder, dest, record)
            return FileOutcome(ds.name, entry.name, dest, "cached", "already in the cache")
        # the cached copy was altered: download again, checked against the record
    md5, size, origin = _expected(entry, record, sources_cache=sources_cache, net=net)
    if state.status == "unrecorded" and not refresh:
        # placed there by hand: check it rather than download it again
        hashes = hash_file(dest, on_progress=on_progress)
        bad = (md5 and hashes.md5 != md5) or (size is not None and hashes.size != size)
        if bad:
            msg = (
                f"{dest} differs from the manifest (md5 {hashes.md5}, size {hashes.size}); "
                "delete it and fetch again"
            )
            raise ChecksumMismatch(msg)
        url, transferred = "(present before fetch)", 0
    else:
        result = download(entry.urls, dest, size=size, md5=md5, on_progress=on_progress, **net)
        hashes, url, transferred = result.hashes, result.url, result.transferred
    new_record = {
        "size": hashes.size,
        "md5": hashes.md5,
        "sha256": hashes.sha256,
        "md5_from": origin if md5 else "recorded at first download",
        "url": url,
    }
    write_lock_entry(folder, entry.name, new_record)
    _ensure_unpacked(entry, folder, dest, new_record)
    detail = f"{hashes.size:,} bytes, md5 {hashes.md5} ({new_record['md5_from']})"
    return FileOutcome(ds.name, entry.name, dest, "downloaded", detail, transferred)


def _ensure_unpacked(entry: FileEntry, folder: Path, dest: Path, record: dict) -> None:
    if entry.unpack == "none" or entry.unpacked_name is None:
        return
    target = folder / entry.unpacked_name
    if target.exists() and record.get("unpacked") == entry.unpacked_name:
        return
    unpack(dest, target, kind=entry.unpack)
    write_lock_entry(folder, entry.name, dict(record, unpacked=entry.unpacked_name))
