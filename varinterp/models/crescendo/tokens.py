"""Each gene's tokens: its promoter peak, then its candidate peaks within 300 kb.

For a gene with TSS ``t`` (0-based) and a peak with centre ``m = (start + end) // 2``:

- **promoter peak**: among peaks on the TSS's contig with ``t - 500 < m < t + 500``, the
  one with the smallest ``|m - t|`` (the lowest peak index on a tie);
- **candidates**: every other peak on the contig with ``t - 300,000 < m < t + 300,000``,
  in coordinate order (start, then end, then peak index);
- **distance feature** of a token: ``((start + end) / 2 - t) / 300,000``.

A gene without a promoter peak, or without a candidate, has no tokens (the paper drops
it). `gene_tokens` returns the tokens as a ragged array (`GeneTokens`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["DISTANCE_SCALE", "PROMOTER_WINDOW", "TOKEN_WINDOW", "GeneTokens", "gene_tokens"]

TOKEN_WINDOW = 300_000
PROMOTER_WINDOW = 500
DISTANCE_SCALE = 300_000.0


@dataclass
class GeneTokens:
    """Ragged tokens of the genes that have them.

    ``genes``: ``gene chrom tss promoter n_tokens`` (promoter = peak index), in the order
    of the TSS table; ``offsets`` ``(n_genes + 1,) int64``; ``peaks`` ``(n_tokens_total,)
    int64`` peak indices, each gene's promoter first; ``distance`` ``(n_tokens_total,)
    float64`` scaled distances; ``dropped``: reason (``no_promoter``, ``no_candidate``) ->
    gene names.
    """

    genes: pd.DataFrame
    offsets: np.ndarray
    peaks: np.ndarray
    distance: np.ndarray
    dropped: dict[str, list[str]] = field(default_factory=dict)

    def of(self, i: int) -> np.ndarray:
        """Peak indices of gene ``i`` (``(n,) int64``, promoter first)."""
        return self.peaks[self.offsets[i] : self.offsets[i + 1]]

    @property
    def max_tokens(self) -> int:
        return int(np.diff(self.offsets).max()) if len(self.offsets) > 1 else 0

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(peaks (n_genes, max_tokens) int64 with -1 padding, distance (n_genes,
        max_tokens) float32 with 0 padding)``."""
        n, width = len(self.offsets) - 1, self.max_tokens
        idx = np.full((n, width), -1, dtype=np.int64)
        dist = np.zeros((n, width), dtype=np.float32)
        for i in range(n):
            lo, hi = self.offsets[i], self.offsets[i + 1]
            idx[i, : hi - lo] = self.peaks[lo:hi]
            dist[i, : hi - lo] = self.distance[lo:hi]
        return idx, dist


def gene_tokens(
    peaks: pd.DataFrame,
    tss: pd.DataFrame,
    *,
    window: int = TOKEN_WINDOW,
    promoter_window: int = PROMOTER_WINDOW,
) -> GeneTokens:
    """Tokens of every gene of `tss` (``gene chrom tss``) over `peaks` (``chrom start
    end``, any order; indices are row positions) (module docstring)."""
    chrom = peaks["chrom"].astype(str).to_numpy()
    start = peaks["start"].to_numpy(np.int64)
    end = peaks["end"].to_numpy(np.int64)
    centre = (start + end) // 2
    by_chrom: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for c in np.unique(chrom):
        rows = np.flatnonzero(chrom == c)
        order = rows[np.lexsort((rows, centre[rows]))]
        by_chrom[str(c)] = (order, centre[order])
    kept, offsets, tokens, dist = [], [0], [], []
    dropped: dict[str, list[str]] = {"no_promoter": [], "no_candidate": []}
    for gene, c, t in zip(
        tss["gene"].astype(str),
        tss["chrom"].astype(str),
        tss["tss"].to_numpy(np.int64),
        strict=True,
    ):
        if c not in by_chrom:
            dropped["no_promoter"].append(gene)
            continue
        order, cen = by_chrom[c]
        lo = np.searchsorted(cen, t - window, side="right")
        hi = np.searchsorted(cen, t + window, side="left")
        near = order[lo:hi]
        off = np.abs(centre[near] - t)
        close = near[off < promoter_window]
        if close.size == 0:
            dropped["no_promoter"].append(gene)
            continue
        gap = np.abs(centre[close] - t)
        promoter = int(close[np.lexsort((close, gap))[0]])
        distal = near[near != promoter]
        if distal.size == 0:
            dropped["no_candidate"].append(gene)
            continue
        distal = distal[np.lexsort((distal, end[distal], start[distal]))]
        ids = np.concatenate([[promoter], distal]).astype(np.int64)
        kept.append((gene, c, int(t), promoter, ids.size))
        tokens.append(ids)
        dist.append(((start[ids] + end[ids]) / 2.0 - t) / DISTANCE_SCALE)
        offsets.append(offsets[-1] + ids.size)
    genes = pd.DataFrame(kept, columns=["gene", "chrom", "tss", "promoter", "n_tokens"])
    return GeneTokens(
        genes=genes,
        offsets=np.asarray(offsets, dtype=np.int64),
        peaks=np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64),
        distance=np.concatenate(dist) if dist else np.zeros(0),
        dropped=dropped,
    )
