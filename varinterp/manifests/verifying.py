"""``varinterp data verify``: re-hash cached files, compare with the manifest and lock record."""

from __future__ import annotations

import os
from collections.abc import Sequence

from varinterp.manifests.outcomes import FileOutcome, VerifyReport
from varinterp.manifests.schema import load_manifests
from varinterp.manifests.selection import select_datasets
from varinterp.manifests.store import dataset_dir, read_lock
from varinterp.manifests.transfer import hash_file
from varinterp.progress import ProgressCallback, report

__all__ = ["verify"]


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
    chosen = select_datasets(datasets, names)
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
