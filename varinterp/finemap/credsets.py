"""Credible sets: the smallest set of variants whose posterior probabilities reach a coverage.

For each single effect (one row of ``alpha``), variants are sorted by decreasing posterior
probability and taken until their cumulative sum reaches the coverage (0.95, 0.99). Sets
that are identical to an earlier one are dropped. With an LD matrix, the *purity* of a set
is the smallest absolute correlation between two of its members (1 for a single variant);
sets with purity below `min_abs_corr` (0.5 by default, as in SuSiE) are not reported,
since they cannot point at one signal. Sets are numbered from 1 in order of decreasing
purity (ties keep the effect order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CredibleSet", "credible_sets", "purity"]


@dataclass(frozen=True)
class CredibleSet:
    """One credible set.

    ``variants`` are column indices, ``(k,) int64``, ordered by decreasing probability
    ``probs`` ``(k,) float64`` (the set's own posterior probabilities). ``log10bf`` is the
    effect's log10 Bayes factor against no effect.
    """

    cs_id: int
    effect: int
    coverage: float
    achieved: float
    variants: np.ndarray
    probs: np.ndarray
    log10bf: float
    min_abs_r: float
    mean_abs_r: float
    avg_r2: float
    min_r2: float

    @property
    def size(self) -> int:
        return int(self.variants.shape[0])


def purity(R: np.ndarray | None, idx: np.ndarray) -> tuple[float, float, float, float]:
    """(min |r|, mean |r|, mean r^2, min r^2) over distinct pairs of `idx`; NaN without R."""
    if idx.shape[0] == 1:
        return 1.0, 1.0, 1.0, 1.0
    if R is None:
        return float("nan"), float("nan"), float("nan"), float("nan")
    sub = R[np.ix_(idx, idx)]
    iu = np.triu_indices(idx.shape[0], k=1)
    r = np.abs(sub[iu])
    return float(r.min()), float(r.mean()), float(np.mean(r**2)), float(np.min(r**2))


def credible_sets(
    alpha: np.ndarray,
    *,
    coverage: float = 0.95,
    R: np.ndarray | None = None,
    min_abs_corr: float = 0.5,
    lbf: np.ndarray | None = None,
    active: np.ndarray | None = None,
) -> list[CredibleSet]:
    """Credible sets of each effect of `alpha` ``(L, p)`` at `coverage`.

    `lbf` ``(L,)`` are the effects' natural-log Bayes factors (reported as log10);
    `active` ``(L,) bool`` skips effects with no prior variance. Without `R`, purity is
    not known and no set is filtered on it.
    """
    alpha = np.atleast_2d(np.asarray(alpha, dtype=np.float64))
    n_eff = alpha.shape[0]
    if active is None:
        active = np.ones(n_eff, dtype=bool)
    found: list[tuple[int, np.ndarray, np.ndarray, float]] = []
    seen: set[frozenset[int]] = set()
    for l_ in range(n_eff):
        if not active[l_]:
            continue
        order = np.argsort(-alpha[l_], kind="stable")
        cum = np.cumsum(alpha[l_, order])
        k = int(np.searchsorted(cum, coverage - 1e-12)) + 1
        k = min(k, order.shape[0])
        idx = order[:k]
        key = frozenset(idx.tolist())
        if key in seen:
            continue
        seen.add(key)
        found.append((l_, idx, alpha[l_, idx], float(cum[k - 1])))
    rows = []
    for l_, idx, probs, achieved in found:
        pmin, pmean, r2mean, r2min = purity(R, idx)
        if R is not None and pmin < min_abs_corr:
            continue
        rows.append((l_, idx, probs, achieved, pmin, pmean, r2mean, r2min))
    rows.sort(key=lambda r: -r[4] if np.isfinite(r[4]) else 0.0)
    out = []
    for i, (l_, idx, probs, achieved, pmin, pmean, r2mean, r2min) in enumerate(rows, start=1):
        log10bf = float(lbf[l_] / np.log(10)) if lbf is not None else float("nan")
        out.append(
            CredibleSet(
                cs_id=i,
                effect=l_,
                coverage=coverage,
                achieved=achieved,
                variants=idx.astype(np.int64),
                probs=probs,
                log10bf=log10bf,
                min_abs_r=pmin,
                mean_abs_r=pmean,
                avg_r2=r2mean,
                min_r2=r2min,
            )
        )
    return out
