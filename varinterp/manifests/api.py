"""The four operations behind ``varinterp data``: list, fetch, verify, path.

All take keyword arguments only. `fetch` downloads what the manifests describe into the
cache (resumable, checksum-verified before the atomic move, archives unpacked safely),
`verify` re-reads cached files and compares them with the manifest and the lock record,
`path` says where a fetched file is (for use in shell command lines), and
`list_datasets` summarises every manifest with what it feeds.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text
from varinterp.manifests.archive import unpack
from varinterp.manifests.schema import Dataset, FileEntry, load_manifests
from varinterp.manifests.sources import lookup
from varinterp.manifests.store import dataset_dir, file_state, read_lock, write_lock_entry
from varinterp.manifests.transfer import ChecksumMismatch, download, hash_file
from varinterp.progress import ProgressCallback, report

__all__ = [
    "DatasetSummary",
    "FetchReport",
    "FileOutcome",
    "VerifyReport",
    "fetch",
    "list_datasets",
    "path",
    "verify",
]


@dataclass(frozen=True)
class DatasetSummary:
    """One line of ``varinterp data list``."""

    name: str
    title: str
    feeds: tuple[str, ...]
    licence: str
    n_files: int
    n_optional: int
    known_bytes: int
    n_unknown_size: int
    n_present: int
    manifest: Path


@dataclass(frozen=True)
class FileOutcome:
    """What happened (or would happen, in a dry run) to one file."""

    dataset: str
    name: str
    path: Path
    action: str  # downloaded, cached, planned, ok, mismatch, missing, unrecorded, skipped
    detail: str = ""
    bytes: int = 0


@dataclass
class FetchReport:
    """Result of `fetch`: one outcome per selected file."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def downloaded_bytes(self) -> int:
        return sum(o.bytes for o in self.outcomes if o.action == "downloaded")


@dataclass
class VerifyReport:
    """Result of `verify`; `ok` is False when a file is missing or differs."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.action in ("mismatch", "missing")]

    @property
    def ok(self) -> bool:
        return not self.problems


def _select(datasets: dict[str, Dataset], names: Sequence[str] | None) -> list[Dataset]:
    if not names:
        return list(datasets.values())
    chosen = []
    for name in names:
        if name not in datasets:
            known = ", ".join(datasets)
            msg = f"unknown dataset {name!r}; known datasets: {known} (see 'varinterp data list')"
            raise InputError(msg)
        chosen.append(datasets[name])
    return chosen


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _files(
    ds: Dataset, patterns: Sequence[str] | None, include_optional: bool
) -> tuple[list[FileEntry], bool]:
    """The selected entries, and whether the manifest's sample table is selected too."""
    if not patterns:
        return [f for f in ds.files if include_optional or not f.optional], True
    chosen = [f for f in ds.files if _matches(f.name, patterns)]
    samples = ds.samples is not None and _matches(ds.samples.file, patterns)
    if not chosen and not samples:
        msg = f"no file of dataset {ds.name!r} matches {', '.join(patterns)}"
        raise InputError(msg)
    return chosen, samples


def list_datasets(
    *, manifest_dir: str | os.PathLike | None = None, cache: str | os.PathLike | None = None
) -> list[DatasetSummary]:
    """Summaries of every manifest: what it is, what it feeds, how much is cached."""
    out = []
    for ds in load_manifests(manifest_dir).values():
        lock = read_lock(dataset_dir(ds, cache))
        present = sum(
            1 for f in ds.files if f.name in lock and (dataset_dir(ds, cache) / f.name).exists()
        )
        out.append(
            DatasetSummary(
                name=ds.name,
                title=ds.title,
                feeds=ds.feeds,
                licence=ds.licence,
                n_files=len(ds.files),
                n_optional=sum(f.optional for f in ds.files),
                known_bytes=ds.known_size,
                n_unknown_size=sum(f.size is None for f in ds.files),
                n_present=present,
                manifest=ds.path,
            )
        )
    return out


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
    for ds in _select(datasets, names):
        folder = dataset_dir(ds, cache)
        entries, with_samples = _files(ds, files, include_optional)
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


def verify(
    *,
    names: Sequence[str] | None = None,
    manifest_dir: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    on_progress: ProgressCallback | None = None,
) -> VerifyReport:
    """Re-hash cached files and compare them with the manifest and the lock record.

    Without `names`, every dataset that has a cache folder is checked. A missing
    required file or any difference is a problem (`VerifyReport.ok` is False); a missing
    optional file is reported as ``skipped``.
    """
    datasets = load_manifests(manifest_dir)
    chosen = _select(datasets, names)
    if not names:
        chosen = [ds for ds in chosen if dataset_dir(ds, cache).is_dir()]
    out = VerifyReport()
    for ds in chosen:
        folder = dataset_dir(ds, cache)
        lock = read_lock(folder)
        for entry in ds.files:
            dest = folder / entry.name
            rec = lock.get(entry.name)
            if not dest.exists():
                action = "skipped" if entry.optional else "missing"
                out.outcomes.append(FileOutcome(ds.name, entry.name, dest, action, "not fetched"))
                continue
            hashes = hash_file(dest, on_progress=on_progress)
            problems = []
            if entry.md5 and hashes.md5 != entry.md5:
                problems.append(f"md5 {hashes.md5} != manifest {entry.md5}")
            if entry.size is not None and hashes.size != entry.size:
                problems.append(f"size {hashes.size} != manifest {entry.size}")
            if rec:
                if rec.get("sha256") and hashes.sha256 != rec["sha256"]:
                    problems.append("sha256 differs from the one recorded at download")
                if rec.get("md5") and hashes.md5 != rec["md5"]:
                    problems.append("md5 differs from the one recorded at download")
            if problems:
                action, detail = "mismatch", "; ".join(problems)
            elif rec or entry.md5:
                action, detail = "ok", f"md5 {hashes.md5}"
            else:
                action, detail = "unrecorded", "present, but no checksum to compare with"
            out.outcomes.append(FileOutcome(ds.name, entry.name, dest, action, detail))
        if ds.samples is not None:
            target = folder / ds.samples.file
            if target.exists():
                same = target.read_text(encoding="utf-8") == ds.samples.to_tsv()
                action = "ok" if same else "mismatch"
                detail = "matches the manifest" if same else "differs from the manifest table"
            else:
                action, detail = "missing", "written by 'varinterp data fetch'"
            out.outcomes.append(FileOutcome(ds.name, ds.samples.file, target, action, detail))
        report(on_progress, len(out.outcomes), None)
    return out


def path(
    *,
    name: str,
    file: str | None = None,
    manifest_dir: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> Path:
    """Where dataset `name` (or its `file`, or a path inside an unpacked archive) is cached.

    Raises `InputError` when it has not been fetched yet, saying which command fetches it.
    """
    ds = _select(load_manifests(manifest_dir), [name])[0]
    folder = dataset_dir(ds, cache)
    if file is None:
        target, hint = folder, f"varinterp data fetch {name}"
    else:
        rel = Path(file)
        if rel.is_absolute() or ".." in rel.parts:
            msg = f"file {file!r} must be a path inside dataset {name!r}"
            raise InputError(msg)
        known = {f.name for f in ds.files} | {f.unpacked_name for f in ds.files if f.unpacked_name}
        if ds.samples is not None:
            known.add(ds.samples.file)
        if not any(file == k or file.startswith(f"{k}/") for k in known):
            ds.file(file)  # raises with the list of names
        target = folder / rel
        owner = next(
            (
                f.name
                for f in ds.files
                if file in (f.name, f.unpacked_name) or file.startswith(f"{f.unpacked_name}/")
            ),
            None,
        )
        hint = f"varinterp data fetch {name}" + (f" --file '{owner}'" if owner else "")
    if not target.exists():
        msg = f"{target} is not in the cache yet; run: {hint}"
        raise InputError(msg)
    return target
