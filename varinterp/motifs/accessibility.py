"""Per-region accessibility counts for each cell type: from a counts table or bigWigs.

**Counts table** (TSV with a header): ``chrom start end`` then one column of read or
fragment counts per cell type, one row per peak (rows are matched to the peaks by
coordinates; every peak must have a row).

**bigWigs**: a two-column table ``cell_type<TAB>path`` (header optional; relative paths
are read from the table's folder); a peak's count is the sum of the track over it.

Both give ``(n_peaks, K) float64`` in peak order and the cell-type names.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.bigwig import BigWig
from varinterp.io.tables import resolve_path

__all__ = ["counts_from_bigwigs", "counts_from_table"]


def counts_from_table(
    path: str | os.PathLike, peaks: pd.DataFrame
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Counts of `peaks` from a counts table -> ``((n, K) float64, cell types)``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"counts table {path} does not exist; check the path")
    table = pd.read_csv(path, sep="\t")
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
    """Sum of each cell type's bigWig over every peak -> ``((n, K) float64, cell types)``."""
    tracks = Path(tracks)
    if not tracks.is_file():
        raise InputError(f"bigWig table {tracks} does not exist; check the path")
    rows = [
        line.rstrip("\n").split("\t")
        for line in tracks.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if rows and rows[0][:2] == ["cell_type", "path"]:
        rows = rows[1:]
    if not rows or any(len(r) < 2 for r in rows):
        raise InputError(f"bigWig table {tracks} needs lines 'cell_type<TAB>path'")
    out = np.zeros((len(peaks), len(rows)), dtype=np.float64)
    chroms = peaks["chrom"].astype(str).tolist()
    starts = peaks["start"].to_numpy(np.int64)
    ends = peaks["end"].to_numpy(np.int64)
    for k, (_, value, *_) in enumerate(rows):
        with BigWig(resolve_path(value, tracks)) as bw:
            for i, (c, s, e) in enumerate(zip(chroms, starts, ends, strict=True)):
                out[i, k] = float(bw.values(c, int(s), int(e)).sum(dtype=np.float64))
    return out, tuple(r[0] for r in rows)
