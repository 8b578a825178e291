"""Signal over regions from bigWig tracks or per-region count bedGraphs."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.bigwig import BigWig
from varinterp.io.intervals import require_within_contigs
from varinterp.io.readers import read_csv

__all__ = ["is_bigwig", "read_region_counts", "region_sums", "track_total"]

_BIGWIG_SUFFIXES = (".bw", ".bigwig")


def is_bigwig(path: str | os.PathLike) -> bool:
    """Whether `path` names a bigWig (by its extension)."""
    return str(path).lower().endswith(_BIGWIG_SUFFIXES)


def region_sums(
    path: str | os.PathLike,
    regions: pd.DataFrame,
    *,
    bins: int = 1,
    tick: Callable[[], None] | None = None,
) -> np.ndarray:
    """Sum of |signal| of a bigWig in each region, split into `bins` equal parts.

    Returns ``(n_regions, bins) float64`` (regions x bins, bins in genomic order; a region
    shorter than `bins` gets empty bins). Contigs the bigWig lacks give zeros; a region
    past the end of its contig is an `InputError` (a genome-build mismatch).
    """
    out = np.zeros((len(regions), bins), dtype=np.float64)
    with BigWig(path, absolute=True) as bw:
        require_within_contigs(
            regions, bw.lengths, source="the regions", against=f"bigWig {Path(path).name}"
        )
        for k, (chrom, start, end) in enumerate(
            zip(regions["chrom"], regions["start"], regions["end"], strict=True)
        ):
            if bw.has_contig(chrom):
                vals = bw.values(chrom, int(start), int(end)).astype(np.float64)
                edges = np.linspace(0, vals.size, bins + 1).astype(np.int64)
                out[k] = np.add.reduceat(vals, edges[:-1]) if vals.size else 0.0
                out[k][edges[:-1] == edges[1:]] = 0.0
            if tick is not None:
                tick()
    return out


def track_total(path: str | os.PathLike) -> float:
    """Sum of |signal| over the whole bigWig (its sequencing depth for CPM)."""
    with BigWig(path, absolute=True) as bw:
        return float(bw.total())


def read_region_counts(path: str | os.PathLike, regions: pd.DataFrame) -> np.ndarray:
    """Counts per region from a 4-column bedGraph (chrom, start, end, count) -> ``(n,) float64``.

    Every region must appear in the file with the same coordinates (as ABC's
    ``CountReads.bedgraph`` files list the candidate elements).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"count file {path} does not exist; check the sample table"
        raise InputError(msg)
    try:
        table = read_csv(
            path, "count file", sep="\t", header=None, comment="#", usecols=[0, 1, 2, 3]
        )
    except ValueError as exc:  # fewer than 4 columns
        if isinstance(exc, InputError):
            raise
        msg = f"count file {path} is not a 4-column bedGraph (chrom, start, end, count); fix it"
        raise InputError(msg) from None
    table.columns = ["chrom", "start", "end", "count"]
    table["chrom"] = table["chrom"].astype(str)
    table = table.drop_duplicates(["chrom", "start", "end"])
    merged = regions[["chrom", "start", "end"]].merge(
        table, on=["chrom", "start", "end"], how="left"
    )
    missing = merged["count"].isna().to_numpy()
    if missing.any():
        row = regions.iloc[int(np.flatnonzero(missing)[0])]
        msg = (
            f"count file {path} has no line for region {row['chrom']}:{row['start']}-"
            f"{row['end']} ({int(missing.sum())} regions missing); count over the same regions"
        )
        raise InputError(msg)
    return merged["count"].to_numpy(np.float64)
