"""Choosing datasets by name and their files by shell-style patterns."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from varinterp.errors import InputError
from varinterp.manifests.dataset import Dataset, FileEntry

__all__ = ["select_datasets", "select_files"]


def select_datasets(datasets: dict[str, Dataset], names: Sequence[str] | None) -> list[Dataset]:
    """The datasets called `names`, in that order (all of them when `names` is empty)."""
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


def select_files(
    ds: Dataset, patterns: Sequence[str] | None, include_optional: bool
) -> tuple[list[FileEntry], bool]:
    """The entries of `ds` matching `patterns`, and whether its sample table matches too.

    Without `patterns`: every entry (optional ones only with `include_optional`) and the
    sample table.
    """
    if not patterns:
        return [f for f in ds.files if include_optional or not f.optional], True
    chosen = [f for f in ds.files if _matches(f.name, patterns)]
    samples = ds.samples is not None and _matches(ds.samples.file, patterns)
    if not chosen and not samples:
        msg = f"no file of dataset {ds.name!r} matches {', '.join(patterns)}"
        raise InputError(msg)
    return chosen, samples
