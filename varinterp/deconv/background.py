"""GC-matched background windows for DeepDETAILS training.

Besides the windows centred on the regions, the reference trains on random background
windows whose GC content follows the regions' (``--background-sampling-ratio``; 0 by
default there, 1.0 in every benchmark of the paper). Here:

1. each region's window (`window` bp around its midpoint) gets its GC fraction, counted
   over its non-N bases;
2. candidate windows tile the chosen contigs (`window` bp, step `step`), dropping those
   overlapping any region window or an `exclude` interval, and those with more than
   `max_n` N bases;
3. the regions' GC range (widened by half a bin, at least 0.005, on each side) is cut
   into `n_bins` equal bins; each bin draws ``round(ratio x
   regions in bin)`` candidates from the same bin without replacement (seeded). A bin
   with too few candidates gives all it has; the shortfall is reported.

GC counts come from per-block cumulative sums (block = gcd(window, step)), so a whole
chromosome costs one pass over its sequence.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from varinterp.errors import InputError

__all__ = ["BackgroundResult", "candidate_gc", "gc_matched_background", "window_gc"]

SKIP_CONTIGS = {"chrM", "MT", "M", "chrEBV", "EBV"}


@dataclass
class BackgroundResult:
    """``windows``: chrom, start, end, gc of the sampled background (sorted by position);
    ``region_gc``: ``(n_regions,) float64`` GC of the region windows; ``shortfall``:
    windows asked for but not available in their GC bin."""

    windows: pd.DataFrame
    region_gc: np.ndarray
    shortfall: int


def _gc_counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ((codes == 1) | (codes == 2)).astype(np.int64), (codes == 4).astype(np.int64)


def window_gc(ref, chrom: str, starts: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """GC fraction over non-N bases and N count of windows ``[s, s + window)``.

    `ref`: a `varinterp.io.fasta.Reference`; `chrom` in its naming. Returns two
    ``(len(starts),)`` arrays: float64 GC fraction (NaN when all N) and int64 N count.
    """
    gc = np.empty(len(starts))
    nn = np.empty(len(starts), dtype=np.int64)
    for i, s in enumerate(np.asarray(starts, dtype=np.int64)):
        g, n = _gc_counts(ref.codes(chrom, int(s), int(s) + window))
        nn[i] = n.sum()
        called = window - nn[i]
        gc[i] = g.sum() / called if called > 0 else np.nan
    return gc, nn


def candidate_gc(
    codes: np.ndarray, *, window: int, step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tile one contig's base codes ``(L,)`` with windows; returns starts ``(m,) int64``,
    GC fraction over non-N bases ``(m,) float64`` (NaN when all N), N counts ``(m,)``."""
    length = codes.size
    if length < window:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty.astype(np.int64)
    block = math.gcd(window, step)
    n_blocks = length // block
    g, n = _gc_counts(codes[: n_blocks * block])
    cg = np.concatenate([[0], g.reshape(n_blocks, block).sum(axis=1).cumsum()])
    cn = np.concatenate([[0], n.reshape(n_blocks, block).sum(axis=1).cumsum()])
    starts = np.arange(0, n_blocks * block - window + 1, step, dtype=np.int64)
    lo, hi = starts // block, (starts + window) // block
    gc_count, n_count = cg[hi] - cg[lo], cn[hi] - cn[lo]
    called = window - n_count
    with np.errstate(invalid="ignore", divide="ignore"):
        gc = np.where(called > 0, gc_count / np.maximum(called, 1), np.nan)
    return starts, gc, n_count


def _blocked(starts: np.ndarray, window: int, intervals: np.ndarray) -> np.ndarray:
    """Which windows ``[s, s + window)`` overlap any of ``intervals (m, 2)``."""
    if intervals.size == 0:
        return np.zeros(starts.size, dtype=bool)
    iv = intervals[np.argsort(intervals[:, 0])]
    max_end = np.maximum.accumulate(iv[:, 1])
    # the last interval starting before the window's end must reach past its start
    j = np.searchsorted(iv[:, 0], starts + window, side="left") - 1
    return (j >= 0) & (max_end[np.maximum(j, 0)] > starts)


def gc_matched_background(
    regions: pd.DataFrame,
    *,
    fasta: str | os.PathLike,
    contigs: Mapping[str, int],
    ratio: float = 1.0,
    window: int = 4096,
    step: int = 1000,
    n_bins: int = 100,
    max_n: float = 0.1,
    exclude: pd.DataFrame | None = None,
    seed: int = 1234567,
) -> BackgroundResult:
    """Sample ``ratio x len(regions)`` background windows GC-matched to `regions`.

    `regions`: chrom, start, end (the window is centred on each midpoint); `contigs`:
    name -> length of the contigs to draw from, in the regions' naming (contigs named
    ``*_*``, chrM/MT and EBV are skipped). `exclude`: optional chrom, start, end
    intervals (e.g. a blacklist) no background window may touch.
    """
    from varinterp.io.fasta import Reference

    if ratio <= 0:
        raise InputError(f"background ratio must be > 0, got {ratio}")
    if len(regions) == 0:
        raise InputError("no regions to match background windows to")
    ref = Reference(fasta)
    cmap = ref.contig_map(source="regions")
    chroms = regions["chrom"].astype(str).to_numpy()
    mids = ((regions["start"].to_numpy() + regions["end"].to_numpy()) // 2).astype(np.int64)
    wstarts = mids - window // 2
    region_gc = np.full(len(regions), np.nan)
    for c in np.unique(chroms):
        sel = chroms == c
        region_gc[sel] = window_gc(ref, cmap(c), wstarts[sel], window)[0]
    ok = np.isfinite(region_gc)
    if not ok.any():
        raise InputError(f"every region window is all N in {fasta}; check the FASTA")
    lo, hi = float(region_gc[ok].min()), float(region_gc[ok].max())
    pad = max((hi - lo) / n_bins / 2, 0.005)
    edges = np.linspace(lo - pad, hi + pad, n_bins + 1)
    nb = edges.size - 1

    def bin_of(gc: np.ndarray) -> np.ndarray:
        b = np.searchsorted(edges, gc, side="right") - 1
        b[gc == edges[-1]] = nb - 1
        return np.where(np.isfinite(gc) & (b >= 0) & (b < nb), b, -1)

    want = np.bincount(bin_of(region_gc[ok]), minlength=nb)
    want = np.rint(want * ratio).astype(np.int64)
    blocked: dict[str, list[tuple[int, int]]] = {}
    for c, s in zip(chroms, wstarts, strict=True):
        blocked.setdefault(c, []).append((int(s), int(s) + window))
    if exclude is not None:
        for c, s, e in exclude[["chrom", "start", "end"]].itertuples(index=False):
            blocked.setdefault(str(c), []).append((int(s), int(e)))
    cand = []
    for c, length in contigs.items():
        if "_" in c or c in SKIP_CONTIGS or cmap.get(c) is None:
            continue
        codes = ref.codes(cmap(c), 0, min(int(length), ref.lengths[cmap(c)]))
        starts, gc, nn = candidate_gc(codes, window=window, step=step)
        keep = (nn <= max_n * window) & np.isfinite(gc)
        keep &= ~_blocked(starts, window, np.array(blocked.get(c, []), dtype=np.int64))
        cand.append(pd.DataFrame({"chrom": c, "start": starts[keep], "gc": gc[keep]}))
    ref.close()
    pool = (
        pd.concat(cand, ignore_index=True)
        if cand
        else pd.DataFrame({"chrom": [], "start": [], "gc": []})
    )
    pool_bin = bin_of(pool["gc"].to_numpy(dtype=np.float64))
    rng = np.random.default_rng(seed)
    picked, shortfall = [], 0
    for b in np.flatnonzero(want):
        idx = np.flatnonzero(pool_bin == b)
        take = min(int(want[b]), idx.size)
        shortfall += int(want[b]) - take
        picked.append(rng.choice(idx, size=take, replace=False))
    rows = np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)
    out = pool.iloc[rows].reset_index(drop=True)
    out["start"] = out["start"].astype(np.int64)
    out["end"] = out["start"] + window
    out = out[["chrom", "start", "end", "gc"]]
    return BackgroundResult(windows=out, region_gc=region_gc, shortfall=shortfall)
