"""Helpers shared by the regulatory modules: safe file names, interval overlap, TSV output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.io.atomic import atomic_path

__all__: list[str] = []

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file-name-safe form of a cell-type name (other characters become ``_``)."""
    out = _SAFE.sub("_", str(name)).strip("._")
    return out or "unnamed"


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
