"""Helpers shared by the regulatory modules: sample tables, interval overlap, TSV output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path

__all__: list[str] = []

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file-name-safe form of a cell-type name (other characters become ``_``)."""
    out = _SAFE.sub("_", str(name)).strip("._")
    return out or "unnamed"


def read_sample_table(
    path: str | os.PathLike, *, required: tuple[str, ...], what: str
) -> pd.DataFrame:
    """Read a TSV with a header; check `required` columns; return it with str cells.

    Empty cells are ``""``. Path-like cells are left as given (see `resolve_path`).
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except pd.errors.EmptyDataError:
        msg = f"{what} {path} is empty; it needs a header line with {', '.join(required)}"
        raise InputError(msg) from None
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        msg = (
            f"{what} {path} lacks column(s) {', '.join(missing)} (has "
            f"{', '.join(table.columns)}); add a header line naming them"
        )
        raise InputError(msg)
    if table.empty:
        msg = f"{what} {path} has a header but no rows"
        raise InputError(msg)
    return table


def resolve_path(value: str, table_path: str | os.PathLike) -> Path:
    """`value` as a path; relative paths are taken from the table's own folder."""
    p = Path(value)
    return p if p.is_absolute() else Path(table_path).parent / p


def any_overlap(
    q_chrom: np.ndarray,
    q_start: np.ndarray,
    q_end: np.ndarray,
    chrom: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
) -> np.ndarray:
    """For each query interval, whether it overlaps any target interval (half-open).

    Returns ``(n_queries,) bool``. Overlap means ``q_start < end and q_end > start``.
    """
    out = np.zeros(len(q_chrom), dtype=bool)
    q_chrom = np.asarray(q_chrom).astype(str)
    chrom = np.asarray(chrom).astype(str)
    for c in np.unique(q_chrom):
        sel = chrom == c
        if not sel.any():
            continue
        order = np.argsort(start[sel], kind="stable")
        s = np.asarray(start[sel])[order]
        e_max = np.maximum.accumulate(np.asarray(end[sel])[order])
        qi = np.flatnonzero(q_chrom == c)
        idx = np.searchsorted(s, np.asarray(q_end)[qi], side="left")
        hit = idx > 0
        hit[hit] = e_max[idx[hit] - 1] > np.asarray(q_start)[qi][hit]
        out[qi] = hit
    return out


def points_in_intervals(
    p_chrom: np.ndarray, pos: np.ndarray, chrom: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """For each 0-based position, whether it lies in any interval -> ``(n_points,) bool``."""
    pos = np.asarray(pos, dtype=np.int64)
    return any_overlap(p_chrom, pos, pos + 1, chrom, start, end)


def write_tsv(
    table: pd.DataFrame, path: str | os.PathLike, *, header: bool = True, float_format: str = "%.6g"
) -> Path:
    """Write `table` as TSV atomically (gzip when the name ends in ``.gz``)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        table.to_csv(
            tmp,
            sep="\t",
            index=False,
            header=header,
            float_format=float_format,
            compression="gzip" if path.name.endswith(".gz") else None,
        )
    return path
