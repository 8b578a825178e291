"""Motif hits in region sequences (memelite's FIMO) and their per-cluster summary.

**Hits.** `scan_hits` runs memelite's FIMO on one-hot region sequences ``(n, 4, L)``
(``float``; a diploid two-hot window divided by 2 gives a het 0.5 + 0.5, scored as the
mean of both alleles' letters). A hit's score is FIMO's log-odds score in bits against a
uniform background, ``sum_i log2(p[b_i, i] + eps) - log2(0.25)``, and its p-value comes
from the exact score distribution of the matrix (binned at ``bin_size``); hits with a
p-value below `threshold` are kept, on both strands. Coordinates are 0-based half-open
within the region; a hit running past a region's own length (into padding) is dropped.

**Cluster scores** (GET's motif features). Per region and motif cluster, hits of the
cluster's motifs that overlap each other (chains of overlapping intervals, either
strand) count once, with the best score among them; the scores of the non-overlapping
groups are summed (`cluster_scores`). Negative scores count as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.motifs.meme import MotifSet
from varinterp.progress import ProgressCallback, report

__all__ = ["HIT_COLUMNS", "cluster_scores", "scan_hits"]

HIT_COLUMNS = ("region", "motif", "start", "end", "strand", "score", "pvalue")


def scan_hits(
    motifs: MotifSet,
    x: np.ndarray,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    threshold: float = 1e-4,
    bin_size: float = 0.1,
    eps: float = 1e-4,
    batch: int = 2048,
    on_progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """FIMO hits of every motif in sequences ``x`` ``(n, 4, L)`` (one-hot, any float).

    `lengths` ``(n,)`` are the regions' own lengths (default ``L``); hits past them are
    dropped. Returns a table of `HIT_COLUMNS`: ``region`` (row of `x`, int64), ``motif``
    (index into `motifs`, int64), ``start``/``end`` (0-based half-open in the region),
    ``strand`` (``+``/``-``), ``score`` (bits), ``pvalue``; sorted by region, motif, start.
    """
    from memelite import fimo

    if not 0 < threshold < 1:
        raise InputError(f"motif p-value threshold must be in (0, 1), got {threshold}")
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1] != 4:
        raise InputError(f"sequences have shape {x.shape}; need (n, 4, length)")
    n, _, width = x.shape
    lens = np.full(n, width, np.int64) if lengths is None else np.asarray(lengths, np.int64)
    pwms = {str(i): m for i, m in enumerate(motifs.matrices)}
    parts = []
    for lo in range(0, n, batch):
        hi = min(lo + batch, n)
        xb = np.ascontiguousarray(x[lo:hi], dtype=np.float32)
        found = fimo(pwms, xb, threshold=threshold, bin_size=bin_size, eps=eps, dim=0)
        for frame in found:
            if len(frame):
                parts.append(
                    pd.DataFrame(
                        {
                            "region": frame["sequence_name"].to_numpy(np.int64) + lo,
                            "motif": frame["motif_name"].astype(int).to_numpy(np.int64),
                            "start": frame["start"].to_numpy(np.int64),
                            "end": frame["end"].to_numpy(np.int64),
                            "strand": frame["strand"].astype(str).to_numpy(),
                            "score": frame["score"].to_numpy(np.float64),
                            "pvalue": frame["p-value"].to_numpy(np.float64),
                        }
                    )
                )
        report(on_progress, hi, n)
    if not parts:
        return pd.DataFrame(
            {
                c: pd.Series(dtype=t)
                for c, t in zip(
                    HIT_COLUMNS,
                    ("int64", "int64", "int64", "int64", "object", "float64", "float64"),
                    strict=True,
                )
            }
        )
    hits = pd.concat(parts, ignore_index=True)
    hits = hits[hits["end"].to_numpy() <= lens[hits["region"].to_numpy()]]
    return hits.sort_values(["region", "motif", "start", "strand"], kind="stable").reset_index(
        drop=True
    )


@numba.njit(cache=True)
def _collapse(region, cluster, start, end, score, out):  # pragma: no cover - numba
    n = region.shape[0]
    i = 0
    while i < n:
        r, c = region[i], cluster[i]
        best = max(score[i], 0.0)
        group_end = end[i]
        j = i + 1
        while j < n and region[j] == r and cluster[j] == c:
            if start[j] < group_end:
                best = max(best, score[j])
                group_end = max(group_end, end[j])
            else:
                out[r, c] += best
                best = max(score[j], 0.0)
                group_end = end[j]
            j += 1
        out[r, c] += best
        i = j


def cluster_scores(
    hits: pd.DataFrame, cluster_of: np.ndarray, *, n_regions: int, n_clusters: int
) -> np.ndarray:
    """Summed best-of-overlapping hit scores per region and cluster (module docstring).

    `cluster_of` ``(n_motifs,) int64`` maps a motif index to its cluster index (-1: the
    motif belongs to no cluster and is ignored). Returns ``(n_regions, n_clusters)
    float64``.
    """
    out = np.zeros((n_regions, n_clusters), dtype=np.float64)
    if len(hits) == 0:
        return out
    cl = np.asarray(cluster_of, dtype=np.int64)[hits["motif"].to_numpy(np.int64)]
    keep = cl >= 0
    region = hits["region"].to_numpy(np.int64)[keep]
    cl = cl[keep]
    start = hits["start"].to_numpy(np.int64)[keep]
    end = hits["end"].to_numpy(np.int64)[keep]
    score = hits["score"].to_numpy(np.float64)[keep]
    order = np.lexsort((end, start, cl, region))
    _collapse(region[order], cl[order], start[order], end[order], score[order], out)
    return out
