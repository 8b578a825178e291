"""Cell-type specificity of each pair's activity (the paper's section 4.6).

For a pair and a cell type ``t``: the two-sided Mann-Whitney U test
(`scipy.stats.mannwhitneyu`, asymptotic p-values with tie correction) of the activity in
the cells of ``t`` against the cells of every other type, and the difference of the two
means. P-values are corrected per cell type over all pairs with Benjamini-Hochberg
(`statsmodels.stats.multitest.multipletests`). A pair is specific to ``t`` when ``q <
max_q`` (1e-4) and ``mean_t - mean_rest > min_difference`` (0.01).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

__all__ = ["MAX_Q", "MIN_DIFFERENCE", "bh_per_type", "type_tests"]

MAX_Q = 1e-4
MIN_DIFFERENCE = 0.01


def type_tests(
    values: np.ndarray, cell_type: np.ndarray, n_types: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``values`` ``(C, n)`` (cells x pairs) and each cell's type ``(C,)``: the means
    in each type ``(T, n)``, the means over the other types' cells ``(T, n)`` and the
    Mann-Whitney p-values ``(T, n)`` (1 where a group is empty or every value is tied)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[1]
    mean_in = np.full((n_types, n), np.nan)
    mean_out = np.full((n_types, n), np.nan)
    pvalue = np.ones((n_types, n))
    for t in range(n_types):
        inside = cell_type == t
        if not inside.any():
            continue
        a, b = values[inside], values[~inside]
        mean_in[t] = a.mean(axis=0)
        if b.shape[0] == 0:
            continue
        mean_out[t] = b.mean(axis=0)
        varies = np.ptp(values, axis=0) > 0
        if varies.any():
            res = stats.mannwhitneyu(
                a[:, varies], b[:, varies], alternative="two-sided", method="asymptotic", axis=0
            )
            pvalue[t, varies] = np.nan_to_num(res.pvalue, nan=1.0)
    return mean_in, mean_out, pvalue


def bh_per_type(pvalue: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of ``pvalue`` ``(T, n)``, per row."""
    q = np.ones_like(pvalue, dtype=np.float64)
    for t in range(pvalue.shape[0]):
        if pvalue.shape[1]:
            q[t] = multipletests(pvalue[t], method="fdr_bh")[1]
    return q
