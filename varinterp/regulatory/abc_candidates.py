"""ABC candidate regions from a peak file and accessibility, as the ABC pipeline makes them.

The ABC pipeline's candidate step (``makeCandidateRegions``, "from summits"), with its
defaults:

1. count accessibility reads in every peak (a bigWig summed over the peak, or a count
   bedGraph listing the peaks);
2. merge overlapping or touching peaks, each merged region keeping its largest count;
3. keep the `n_strongest` (150,000) merged regions by count;
4. take every original peak that overlaps a kept region and its summit (narrowPeak
   column 10, an offset from the start; the peak's midpoint when it is -1 or absent);
   the summit is a point, so the region is ``[summit - extend, summit + extend)``
5. extend each summit by `peak_extend` (250) bp on both sides (a 500-bp region; clipped
   to the chromosome), then sort and merge;
6. remove regions overlapping the `blocklist` (any overlap);
7. add the promoters (`genes`' TSS +- `promoter_slop`, 250 bp: ABC's 500-bp TSS
   "includelist"; the TSS is a BED6 gene's start on ``+`` and end on ``-``, ABC's
   convention; promoters on chromosomes absent from the sizes are left out), then sort
   and merge again.

Merging follows ``bedtools merge``: intervals that overlap or touch (end == next start)
join. Coordinates are 0-based half-open; chromosomes keep the order of `chrom_sizes`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text, check_output
from varinterp.io.chrom_sizes import read_chrom_sizes
from varinterp.io.intervals import read_bed
from varinterp.io.readers import read_csv
from varinterp.regulatory.signal import is_bigwig, read_region_counts, region_sums

__all__ = [
    "CandidateResult",
    "candidate_regions",
    "merge_intervals",
    "read_peaks",
    "write_candidate_regions",
]


@dataclass(frozen=True)
class CandidateResult:
    """The candidate regions ``(chrom, start, end)`` and what each step kept."""

    regions: pd.DataFrame
    counts: dict[str, int]


def read_peaks(path: str | os.PathLike) -> pd.DataFrame:
    """A narrowPeak (or BED) file -> ``chrom, start, end, summit`` (absolute 0-based summit).

    The summit is ``start + column 10`` when the file has 10 columns and it is not -1,
    else the midpoint ``(start + end) // 2``.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"peak file {path} does not exist; check --peaks"
        raise InputError(msg)
    raw = read_csv(path, "peak file", sep="\t", header=None, comment="#", dtype={0: str})
    if raw.shape[1] < 3:
        msg = f"peak file {path} needs at least 3 tab-separated columns (chrom start end)"
        raise InputError(msg)
    coords = raw[[1, 2]].apply(pd.to_numeric, errors="coerce")
    if coords.isna().any().any() or (coords % 1 != 0).any().any():
        line = int(np.flatnonzero(coords.isna().any(axis=1) | (coords % 1 != 0).any(axis=1))[0])
        msg = (
            f"peak file {path}: start and end must be whole numbers (row {line + 1} has "
            f"{raw.iloc[line, 1]!r}, {raw.iloc[line, 2]!r}); give a BED or narrowPeak file"
        )
        raise InputError(msg)
    peaks = pd.DataFrame(
        {
            "chrom": raw[0].astype(str),
            "start": coords[1].astype(np.int64),
            "end": coords[2].astype(np.int64),
        }
    )
    if (peaks["end"] <= peaks["start"]).any() or (peaks["start"] < 0).any():
        msg = f"peak file {path} has a peak with end <= start or a negative start"
        raise InputError(msg)
    mid = (peaks["start"] + peaks["end"]) // 2
    if raw.shape[1] >= 10:
        offset = pd.to_numeric(raw[9], errors="coerce").fillna(-1).astype(np.int64)
        peaks["summit"] = np.where(offset >= 0, peaks["start"] + offset, mid)
    else:
        peaks["summit"] = mid
    return peaks


def merge_intervals(
    table: pd.DataFrame, *, order: list[str], value: str | None = None
) -> pd.DataFrame:
    """Merge overlapping or touching intervals per chromosome (``bedtools merge``).

    `table` has ``chrom, start, end`` (and `value` when given: the merged row keeps its
    maximum). Rows on chromosomes not in `order` are dropped. Returns ``chrom, start, end
    [, value]`` sorted by (`order`, start).
    """
    rank = {c: i for i, c in enumerate(order)}
    t = table[table["chrom"].isin(rank)].copy()
    t["_rank"] = t["chrom"].map(rank)
    t = t.sort_values(["_rank", "start", "end"], kind="stable")
    rows = []
    for chrom, grp in t.groupby("_rank", sort=True):
        starts, ends = grp["start"].to_numpy(), grp["end"].to_numpy()
        vals = grp[value].to_numpy() if value else None
        reach = np.maximum.accumulate(ends)
        new = np.ones(len(starts), dtype=bool)
        new[1:] = starts[1:] > reach[:-1]
        first = np.flatnonzero(new)
        last_reach = np.maximum.reduceat(ends, first)
        part = {"chrom": order[int(chrom)], "start": starts[first], "end": last_reach}
        if value:
            part[value] = np.maximum.reduceat(vals, first)
        rows.append(pd.DataFrame(part))
    cols = ["chrom", "start", "end"] + ([value] if value else [])
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(rows, ignore_index=True)[cols]


def _overlaps_any(regions: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    """``(n,) bool``: whether each of `regions` overlaps any interval of `other` (>= 1 bp)."""
    hit = np.zeros(len(regions), dtype=bool)
    for chrom, idx in regions.groupby("chrom").indices.items():
        o = other[other["chrom"] == chrom]
        if o.empty:
            continue
        o = o.sort_values("start")
        starts = o["start"].to_numpy()
        reach = np.maximum.accumulate(o["end"].to_numpy())
        s = regions["start"].to_numpy()[idx]
        e = regions["end"].to_numpy()[idx]
        # the last interval starting before e; overlap iff the furthest end so far > s
        j = np.searchsorted(starts, e, side="left") - 1
        hit[idx] = (j >= 0) & (reach[np.maximum(j, 0)] > s)
    return hit


def candidate_regions(
    *,
    peaks: str | os.PathLike,
    accessibility: str | os.PathLike,
    chrom_sizes: str | os.PathLike,
    genes: str | os.PathLike | None = None,
    blocklist: str | os.PathLike | None = None,
    n_strongest: int = 150_000,
    peak_extend: int = 250,
    promoter_slop: int = 250,
) -> CandidateResult:
    """Candidate elements of the ABC model from `peaks` (module docstring).

    `accessibility` is a bigWig, or a count bedGraph listing every peak (chrom, start,
    end, count). `genes` is a BED6 (the TSS is ``start`` on ``+``, ``end`` on ``-``).
    Returns the regions and the number of rows after each step.
    """
    if n_strongest < 1 or peak_extend < 0 or promoter_slop < 0:
        msg = "n_strongest must be >= 1 and the extensions >= 0"
        raise InputError(msg)
    sizes = read_chrom_sizes(chrom_sizes)
    order = list(sizes)
    table = read_peaks(peaks)
    acc = Path(accessibility)
    if is_bigwig(acc):
        table["count"] = region_sums(acc, table).sum(axis=1)
    else:
        table["count"] = read_region_counts(acc, table)
    counts = {"peaks": len(table)}
    merged = merge_intervals(table, order=order, value="count")
    counts["merged_peaks"] = len(merged)
    top = merged.sort_values("count", ascending=False, kind="stable").head(n_strongest)
    chosen = table[_overlaps_any(table, top)]
    counts["peaks_in_strongest"] = len(chosen)
    length = chosen["chrom"].map(sizes).to_numpy(np.int64)
    summit = chosen["summit"].to_numpy(np.int64)
    extended = pd.DataFrame(
        {
            "chrom": chosen["chrom"].to_numpy(),
            "start": np.maximum(summit - peak_extend, 0),
            "end": np.minimum(summit + peak_extend, length),
        }
    )
    regions = merge_intervals(extended, order=order)
    counts["extended_merged"] = len(regions)
    if blocklist is not None:
        block = read_bed(blocklist)[["chrom", "start", "end"]]
        regions = regions[~_overlaps_any(regions, block)].reset_index(drop=True)
    counts["after_blocklist"] = len(regions)
    if genes is not None:
        g = read_bed(genes)
        if "strand" not in g.columns:
            msg = f"genes {genes} need a strand column (BED6) to place the TSS"
            raise InputError(msg)
        tss = np.where(g["strand"] == "-", g["end"], g["start"]).astype(np.int64)
        prom = pd.DataFrame(
            {
                "chrom": g["chrom"].astype(str),
                "start": tss - promoter_slop,
                "end": tss + promoter_slop,
            }
        )
        prom = prom[prom["chrom"].isin(sizes)]
        prom["start"] = prom["start"].clip(lower=0)
        prom["end"] = np.minimum(prom["end"], prom["chrom"].map(sizes))
        regions = merge_intervals(pd.concat([regions, prom], ignore_index=True), order=order)
    counts["candidates"] = len(regions)
    return CandidateResult(regions=regions.reset_index(drop=True), counts=counts)


def write_candidate_regions(
    *, out: str | os.PathLike, overwrite: bool = False, **options
) -> CandidateResult:
    """`candidate_regions` (`options` are its keywords) written to `out` as a BED3.

    `out` is checked before any input is read; an existing `out` is an `InputError`
    unless `overwrite`.
    """
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    result = candidate_regions(**options)
    atomic_write_text(out, result.regions.to_csv(sep="\t", header=False, index=False))
    return result
