"""``varinterp data list`` and ``varinterp data path``: what the manifests offer, where it is."""

from __future__ import annotations

import os
from pathlib import Path

from varinterp.errors import InputError
from varinterp.manifests.outcomes import DatasetSummary
from varinterp.manifests.schema import load_manifests
from varinterp.manifests.selection import select_datasets
from varinterp.manifests.store import dataset_dir, read_lock

__all__ = ["list_datasets", "path"]


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
    ds = select_datasets(load_manifests(manifest_dir), [name])[0]
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
