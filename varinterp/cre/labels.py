"""The paper's labels of gene-peak pairs from their per-cell activity.

For each pair the score is its **maximum activity over the cells**; the thresholds are
percentiles of the non-zero scores over every pair of every gene (promoters included, as
the published code computes them):

- ``promoter``: the gene's promoter peak (always, label 3 in the published code);
- ``active``: score above the 85th percentile ("top 15%") and a positive Pearson
  correlation over the cells between the peak's predicted accessibility and the pair's
  activity (label 4);
- ``cre``: score above the 40th percentile ("top 60%", the paper's cRE definition) and a
  positive correlation (label 2);
- ``none``: the rest (label 0).
"""

from __future__ import annotations

import numpy as np

__all__ = ["LABELS", "label_pairs", "label_thresholds"]

LABELS = ("promoter", "active", "cre", "none")


def label_thresholds(
    score: np.ndarray, *, top_active: float = 15.0, top_cre: float = 60.0
) -> tuple[float, float]:
    """``(cre threshold, active threshold)``: the ``100 - top_cre`` and ``100 -
    top_active`` percentiles of the non-zero finite `score` values (NaN when none)."""
    s = np.asarray(score, dtype=np.float64)
    s = s[np.isfinite(s) & (s != 0)]
    if s.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.percentile(s, [100.0 - top_cre, 100.0 - top_active])
    return float(lo), float(hi)


def label_pairs(
    score: np.ndarray,
    correlation: np.ndarray,
    promoter: np.ndarray,
    *,
    top_active: float = 15.0,
    top_cre: float = 60.0,
) -> np.ndarray:
    """Labels ``(n,)`` (object array of `LABELS`) of pairs with max activity `score`
    ``(n,)``, accessibility correlation `correlation` ``(n,)`` (NaN counts as not
    positive) and the `promoter` flag ``(n,) bool`` (module docstring)."""
    lo, hi = label_thresholds(score, top_active=top_active, top_cre=top_cre)
    score = np.asarray(score, dtype=np.float64)
    positive = np.nan_to_num(np.asarray(correlation, dtype=np.float64), nan=-1.0) > 0
    out = np.full(score.size, "none", dtype=object)
    out[(score > lo) & positive] = "cre"
    out[(score > hi) & positive] = "active"
    out[np.asarray(promoter, dtype=bool)] = "promoter"
    return out
