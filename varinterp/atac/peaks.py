"""Peak calling on Tn5 insertions: per cell type, then one merged OCR set.

Per cell type and contig (`call_summits`), from the insertion counts at their sites:

1. the insertions within ``smooth / 2`` bp of each site with insertions (a window of
   `smooth` bp, 150 by default) are its signal ``k``;
2. its expected background ``lambda`` is the largest of the genome-wide rate and the
   rates of the 5-kb and 10-kb windows around it, times `smooth` (MACS's local lambda);
3. its score is ``-log10 P(X >= k)``, ``X ~ Poisson(lambda)``; sites scoring at least
   `min_log10p` (default 5) are candidate summits;
4. candidates are taken best first, each dropping the candidates within `width` bp of
   it (iterative overlap removal), leaving summits at least `width` apart.

Merged peaks (`merge_summits`, the iterative overlap removal of ArchR): every cell
type's summits with their scores normalised to score per million (``score / sum of
the cell type's scores x 1e6``), taken best first across cell types, each dropping the
others within `width` bp; each kept summit becomes a `width`-bp peak centred on it
(clipped to the contig). A peak lists the cell types whose own summits lie within
``width / 2`` of it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from scipy.special import pdtrc

__all__ = ["Summits", "call_summits", "merge_summits", "window_sums"]


@dataclass
class Summits:
    """Summits of one cell type on one contig: ``pos`` ``(m,) int64``, ``signal``
    (insertions in the smoothing window) and ``score`` (-log10 p) ``(m,) float64``."""

    pos: np.ndarray
    signal: np.ndarray
    score: np.ndarray


def window_sums(pos: np.ndarray, counts: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """Insertions in ``[at - width // 2, at - width // 2 + width)`` for every ``at``:
    ``(len(at),) float64``; `pos` ``(m,)`` sorted sites with `counts`."""
    cum = np.concatenate([[0.0], np.cumsum(counts, dtype=np.float64)])
    lo = np.searchsorted(pos, at - width // 2, side="left")
    hi = np.searchsorted(pos, at - width // 2 + width, side="left")
    return cum[hi] - cum[lo]


def _non_overlapping(order: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
    kept: list[int] = []
    taken: list[int] = []
    for i in order:
        p = int(pos[i])
        j = bisect.bisect_left(taken, p)
        if (j < len(taken) and taken[j] - p < width) or (j > 0 and p - taken[j - 1] < width):
            continue
        taken.insert(j, p)
        kept.append(int(i))
    return np.asarray(kept, dtype=np.int64)


def call_summits(
    pos: np.ndarray,
    counts: np.ndarray,
    *,
    genome_rate: float,
    smooth: int = 150,
    width: int = 500,
    min_log10p: float = 5.0,
) -> Summits:
    """Summits of one contig's insertions (module docstring); `genome_rate` is the cell
    type's insertions per bp over the genome."""
    pos = np.asarray(pos, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    if pos.size == 0:
        empty = np.zeros(0)
        return Summits(np.zeros(0, np.int64), empty, empty)
    k = window_sums(pos, counts, pos, smooth)
    lam = np.full(pos.size, genome_rate * smooth)
    for span in (5_000, 10_000):
        lam = np.maximum(lam, window_sums(pos, counts, pos, span) / span * smooth)
    with np.errstate(divide="ignore"):
        score = -np.log10(np.maximum(pdtrc(k - 1, lam), 1e-300))
    cand = np.flatnonzero(score >= min_log10p)
    order = cand[np.lexsort((pos[cand], -score[cand]))]
    kept = np.sort(_non_overlapping(order, pos, width))
    return Summits(pos[kept], k[kept], score[kept])


def merge_summits(
    per_type: list[Summits], totals: list[float], *, width: int = 500
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """One contig's merged summits from each cell type's (module docstring); `totals`
    are each cell type's summed scores over the genome. Returns ``pos`` ``(m,) int64``,
    ``spm`` and ``score`` ``(m,) float64``, and per summit the indices of the cell types
    calling it."""
    pos, spm, score, owner = [], [], [], []
    for t, s in enumerate(per_type):
        pos.append(s.pos)
        score.append(s.score)
        owner.append(np.full(s.pos.size, t))
        spm.append(s.score / max(float(totals[t]), 1e-12) * 1e6)
    if not pos or sum(p.size for p in pos) == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0), []
    p, n, sc, own = (np.concatenate(x) for x in (pos, spm, score, owner))
    kept = _non_overlapping(np.lexsort((p, -n)), p, width)
    kept = kept[np.argsort(p[kept], kind="stable")]
    calls = []
    for i in kept:
        near = np.abs(p - p[i]) <= width // 2
        calls.append(sorted(set(own[near].tolist())))
    return p[kept], n[kept], sc[kept], calls
