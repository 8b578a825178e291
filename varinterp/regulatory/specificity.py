"""A count test of cell-type specificity for one track per cell type.

With one track per cell type (the common case: one deconvolved track each) there are no
replicates to estimate variance from, and splitting a region into bins to make samples
is pseudo-replication (neighbouring bins of punctate PRO-cap are mostly zero). This test
uses the counts themselves.

For a region with ``y_c`` reads in cell type c and ``y_rest`` reads in all other cell
types together, and library sizes ``N_c`` and ``N_rest``, Poisson counts with equal rates
per read (no specificity) make c's count, given the region's total ``n = y_c + y_rest``,
binomial with the library-size share ``p0 = N_c / (N_c + N_rest)``. Conditioning on the
total removes the region's unknown level exactly, at any depth. Regions also differ
between cell types for biological reasons the test should not call specific; that extra
variation of c's share is absorbed by a **beta-binomial** with mean ``p0`` and
intra-region correlation ``rho`` (variance ``n p0 (1 - p0) (1 + (n - 1) rho)``),
``rho`` estimated per cell type across regions (`share_dispersion`). The one-sided
p-value is the mid-p ``P(Y > y) + P(Y = y) / 2``, which is close to uniform under the
null even for small counts.

Counts are read sums rounded to integers; tracks in other units (RPM) need their
library's read count to be turned back into counts (the ``reads`` column of
`varinterp.regulatory.elements.call_elements`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from varinterp.errors import InputError

__all__ = ["count_tests", "share_dispersion", "share_pvalues"]

#: Median of chi-square with one degree of freedom: the median of z**2 under the null.
_CHI2_MEDIAN = float(stats.chi2.ppf(0.5, 1))


def share_dispersion(
    counts: np.ndarray,
    totals: np.ndarray,
    p0: float,
    *,
    min_total: int = 20,
    exclude: np.ndarray | None = None,
) -> float:
    """Intra-region correlation ``rho`` of a cell type's share, robustly across regions.

    `counts` and `totals` are ``(n_regions,)`` (c's count, the region's total). Over the
    regions with ``totals >= min_total`` and not `exclude` (``(n_regions,) bool``; the
    regions beyond the fold-change cutoff, which are candidates, not null), the
    standardized residuals ``z = (y - n p0) / sqrt(n p0 (1 - p0))`` have
    ``E[z**2] = 1 + (n - 1) rho`` under the beta-binomial. ``rho`` solves
    ``median(z**2 / (1 + (n - 1) rho)) = median of chi-square(1)`` (0.455), a moment
    estimate that a minority of truly specific regions barely moves. Returns 0 when the
    residuals are no wider than binomial, or when fewer than 10 regions qualify.
    """
    y = np.asarray(counts, dtype=np.float64)
    n = np.asarray(totals, dtype=np.float64)
    keep = n >= min_total
    if exclude is not None:
        keep &= ~np.asarray(exclude, dtype=bool)
    if keep.sum() < 10 or not 0 < p0 < 1:
        return 0.0
    y, n = y[keep], n[keep]
    z2 = (y - n * p0) ** 2 / (n * p0 * (1 - p0))

    def excess(rho: float) -> float:
        return float(np.median(z2 / (1 + (n - 1) * rho))) - _CHI2_MEDIAN

    if excess(0.0) <= 0:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def share_pvalues(counts: np.ndarray, totals: np.ndarray, p0: float, rho: float) -> np.ndarray:
    """One-sided mid-p of c's share being above `p0` -> ``(n_regions,) float64``.

    ``P(Y > y) + P(Y = y) / 2`` with ``Y ~ BetaBinomial(n, p0, rho)`` (binomial when
    ``rho`` is 0); 1 where the region has no reads.
    """
    y = np.asarray(counts, dtype=np.int64)
    n = np.asarray(totals, dtype=np.int64)
    if rho <= 0:
        dist = stats.binom(n, p0)
    else:
        scale = (1 - rho) / rho
        dist = stats.betabinom(n, p0 * scale, (1 - p0) * scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = dist.sf(y) + 0.5 * dist.pmf(y)
    return np.where(n > 0, np.clip(p, 0.0, 1.0), 1.0)


def count_tests(
    counts: np.ndarray,
    library_sizes: np.ndarray,
    cell_types: Sequence[str],
    *,
    fdr: float = 0.05,
    log2fc: float = 2.0,
    pseudocount: float = 0.01,
    dispersion: float | None = None,
    min_total: int = 20,
) -> pd.DataFrame:
    """Test every region x cell type by c's share of the region's reads (module docstring).

    `counts` is ``(n_regions, n_tracks)`` reads per region and track (rounded to
    integers for the test; CPM and fold changes use them as given), `library_sizes`
    ``(n_tracks,)`` the tracks' read totals, `cell_types` the cell type of each track
    (tracks of one cell type are summed). `dispersion` fixes
    ``rho`` for every cell type (0: Poisson); None estimates it per cell type
    (`share_dispersion`, leaving out regions with ``|log2fc|`` above the cutoff).

    Returns one row per region and cell type (region-major) with columns ``region``,
    ``cell_type``, ``mean_cpm`` (c's reads per million), ``mean_cpm_rest`` (the other
    cell types' pooled reads per million of their pooled library), ``log2fc`` (of the two,
    with `pseudocount` CPM), ``count``, ``count_rest``, ``dispersion`` (the ``rho``
    used), ``pvalue``, ``qvalue`` (BH per cell type over regions with reads) and
    ``specific`` (``q < fdr`` and ``log2fc > cutoff``).
    """
    raw = np.asarray(counts, dtype=np.float64)
    y = np.rint(raw)
    lib = np.asarray(library_sizes, dtype=np.float64)
    labels = np.asarray(cell_types)
    if y.ndim != 2 or y.shape[1] != lib.shape[0] or labels.shape[0] != lib.shape[0]:
        msg = "counts must be (regions, tracks) with one library size and cell type per track"
        raise InputError(msg)
    if (y < 0).any():
        msg = "counts must be non-negative; give read counts (|signal|) per region"
        raise InputError(msg)
    if not (lib > 0).all():
        msg = "every track needs a positive library size; an empty track cannot be tested"
        raise InputError(msg)
    names = list(dict.fromkeys(labels.tolist()))
    if len(names) < 2:
        msg = "need at least two cell types to test one against the others"
        raise InputError(msg)
    n_regions = y.shape[0]
    total = y.sum(axis=1)
    raw_total = raw.sum(axis=1)
    frames = []
    for name in names:
        own = labels == name
        y_c = y[:, own].sum(axis=1)
        n_c, n_rest = lib[own].sum(), lib[~own].sum()
        p0 = n_c / (n_c + n_rest)
        raw_c = raw[:, own].sum(axis=1)
        cpm = 1e6 * raw_c / n_c
        cpm_rest = 1e6 * (raw_total - raw_c) / n_rest
        lfc = np.log2((cpm + pseudocount) / (cpm_rest + pseudocount))
        rho = (
            share_dispersion(y_c, total, p0, min_total=min_total, exclude=np.abs(lfc) > log2fc)
            if dispersion is None
            else float(dispersion)
        )
        p = share_pvalues(y_c, total, p0, rho)
        tested = total > 0
        q = np.ones(n_regions)
        if tested.any():
            q[tested] = multipletests(p[tested], method="fdr_bh")[1]
        frames.append(
            pd.DataFrame(
                {
                    "region": np.arange(n_regions),
                    "cell_type": name,
                    "mean_cpm": cpm,
                    "mean_cpm_rest": cpm_rest,
                    "log2fc": lfc,
                    "count": y_c.astype(np.int64),
                    "count_rest": (total - y_c).astype(np.int64),
                    "dispersion": rho,
                    "pvalue": p,
                    "qvalue": q,
                    "specific": (q < fdr) & (lfc > log2fc),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["region", "cell_type"], kind="stable").reset_index(drop=True)
