"""Per-region accessibility counts for each cell type: from a counts table or bigWigs.

**Counts table** (TSV with a header): ``chrom start end`` then one column of read or
fragment counts per cell type, one row per peak (rows are matched to the peaks by
coordinates; every peak must have a row).

**bigWigs**: the track table (``docs/tracks.md``: ``cell_type`` and ``accessibility``, or
``plus``; relative paths are read from the table's folder); a peak's count is the sum of
the track over it.

Both give ``(n_peaks, K) float64`` in peak order and the cell-type names.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.bigwig import BigWig
from varinterp.io.readers import read_csv
from varinterp.io.tracks import read_track_table

__all__ = ["counts_from_bigwigs", "counts_from_table"]


def counts_from_table(
    path: str | os.PathLike, peaks: pd.DataFrame
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Counts of `peaks` from a counts table -> ``((n, K) float64, cell types)``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"counts table {path} does not exist; check the path")
    table = read_csv(path, "counts table", sep="\t")
    head = [c.lower() for c in table.columns[:3]]
    if head != ["chrom", "start", "end"] or table.shape[1] < 4:
        raise InputError(
            f"counts table {path} must start with columns chrom, start, end and have one "
            "count column per cell type"
        )
    table.columns = ["chrom", "start", "end", *table.columns[3:]]
    types = tuple(str(c) for c in table.columns[3:])
    values = table[list(types)].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        raise InputError(f"counts table {path} has a non-numeric count")
    key = pd.MultiIndex.from_arrays(
        [table["chrom"].astype(str), table["start"].astype(np.int64), table["end"].astype(np.int64)]
    )
    want = pd.MultiIndex.from_arrays(
        [peaks["chrom"].astype(str), peaks["start"].astype(np.int64), peaks["end"].astype(np.int64)]
    )
    pos = pd.Series(np.arange(len(key)), index=key)
    pos = pos[~pos.index.duplicated()]
    found = want.isin(pos.index)
    if not found.all():
        i = int(np.flatnonzero(~found)[0])
        raise InputError(
            f"counts table {path} has no row for peak {want[i][0]}:{want[i][1]}-{want[i][2]} "
            f"({int((~found).sum())} peaks missing)"
        )
    rows = pos.loc[want].to_numpy()
    return values.to_numpy(np.float64)[rows], types


def counts_from_bigwigs(
    tracks: str | os.PathLike, peaks: pd.DataFrame
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Sum of each cell type's bigWig over every peak -> ``((n, K) float64, cell types)``.

    `tracks` is the track table (``docs/tracks.md``): each row's ``accessibility`` bigWig
    when the table has that column filled in, else its ``plus`` bigWig (the former
    ``cell_type<TAB>path`` table is read as ``plus``).
    """
    table = read_track_table(tracks, require=("cell_type",), what="bigWig table")
    column = "accessibility" if table["accessibility"].astype(bool).all() else "plus"
    if not table[column].astype(bool).all():
        raise InputError(
            f"bigWig table {tracks} needs a bigWig per cell type in its accessibility "
            "(or plus) column; the track table's columns are in docs/tracks.md"
        )
    out = np.zeros((len(peaks), len(table)), dtype=np.float64)
    chroms = peaks["chrom"].astype(str).tolist()
    starts = peaks["start"].to_numpy(np.int64)
    ends = peaks["end"].to_numpy(np.int64)
    for k, value in enumerate(table[column]):
        with BigWig(Path(value)) as bw:
            for i, (c, s, e) in enumerate(zip(chroms, starts, ends, strict=True)):
                out[i, k] = float(bw.values(c, int(s), int(e)).sum(dtype=np.float64))
    return out, tuple(table["cell_type"])
