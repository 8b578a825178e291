"""Evaluation of deconvolved tracks against a ground truth, as in the DeepDETAILS paper.

Inputs are per-cell-type tracks over the predicted centre windows,
``(n_regions, K, S, L)`` (non-negative; the minus strand as absolute values).

- **1-kb counts**: each region's track summed over strands and positions ->
  ``(n_regions, K)``, then ``log1p``.
- **CCC within cell type**: Lin's concordance correlation coefficient of the log counts
  across regions, one value per cell type.
- **CCC across cell types**: Lin's CCC across the K cell types within each region, one
  value per region (NaN where both sides are constant).
- **RMSE**: root mean squared error of the log counts across cell types, per region.
- **Pearson r at 128 bp**: per cell type, 128-bp bin means (the last bin may be shorter),
  values below 1e-4 set to 0, ``log1p``, bins of all regions and both strands pooled.

Lin's CCC is ``2 cov(x, y) / (var x + var y + (mean x - mean y)^2)``; moments use
``ddof=1`` by default, as torchmetrics' ``concordance_corrcoef`` (the tool the paper used).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "ccc_across_cell_types",
    "ccc_within_cell_types",
    "evaluate_predictions",
    "lins_ccc",
    "log_counts",
    "pearson_binned",
    "rmse_per_region",
    "summarize",
]


def lins_ccc(x: np.ndarray, y: np.ndarray, *, ddof: int = 1) -> float:
    """Lin's concordance correlation coefficient of two 1-D arrays; NaN if undefined."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y differ in length: {x.size} vs {y.size}")
    n = x.size
    if n - ddof <= 0:
        return float("nan")
    mx, my = x.mean(), y.mean()
    cov = ((x - mx) * (y - my)).sum() / (n - ddof)
    vx = ((x - mx) ** 2).sum() / (n - ddof)
    vy = ((y - my) ** 2).sum() / (n - ddof)
    denom = vx + vy + (mx - my) ** 2
    return float(2 * cov / denom) if denom > 0 else float("nan")


def log_counts(tracks: np.ndarray) -> np.ndarray:
    """``log1p`` of region totals: ``(n, K, S, L)`` -> ``(n, K) float64``."""
    tracks = np.asarray(tracks)
    return np.log1p(np.abs(tracks).sum(axis=(2, 3), dtype=np.float64))


def ccc_within_cell_types(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """CCC across regions for each cell type: ``(n, K)`` log counts -> ``(K,) float64``."""
    return np.array([lins_ccc(pred[:, k], truth[:, k]) for k in range(pred.shape[1])])


def ccc_across_cell_types(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """CCC across cell types within each region: ``(n, K)`` -> ``(n,) float64``."""
    return np.array([lins_ccc(pred[i], truth[i]) for i in range(pred.shape[0])])


def rmse_per_region(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """RMSE across cell types per region: ``(n, K)`` -> ``(n,) float64``."""
    return np.sqrt(np.mean((np.asarray(pred) - np.asarray(truth)) ** 2, axis=1))


def _bin_means(tracks: np.ndarray, width: int) -> np.ndarray:
    starts = np.arange(0, tracks.shape[-1], width)
    sums = np.add.reduceat(tracks.astype(np.float64), starts, axis=-1)
    sizes = np.diff(np.append(starts, tracks.shape[-1]))
    return sums / sizes


def pearson_binned(
    pred: np.ndarray, truth: np.ndarray, *, width: int = 128, floor: float = 1e-4
) -> np.ndarray:
    """Pearson r per cell type at `width`-bp bins: ``(n, K, S, L)`` x2 -> ``(K,) float64``."""
    out = np.full(pred.shape[1], np.nan)
    for k in range(pred.shape[1]):
        a = _bin_means(np.abs(pred[:, k]), width).ravel()
        b = _bin_means(np.abs(truth[:, k]), width).ravel()
        a[a < floor] = 0.0
        b[b < floor] = 0.0
        a, b = np.log1p(a), np.log1p(b)
        if a.size >= 2 and a.std() > 0 and b.std() > 0:
            out[k] = stats.pearsonr(a, b).statistic
    return out


def evaluate_predictions(
    predictions: Mapping[str, np.ndarray],
    truth: np.ndarray,
    *,
    cell_types: Sequence[str],
    region_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """All metrics for each method, in long form.

    `predictions` maps a method name to ``(n, K, S, L)`` tracks; `truth` has the same
    shape. Returns columns ``method, metric, unit, value``: ``unit`` is the cell type for
    ``ccc_within`` and ``pearson_128bp``, and the region name for ``ccc_across`` and
    ``rmse``.
    """
    truth = np.asarray(truth)
    n = truth.shape[0]
    names = list(region_names) if region_names is not None else [f"r{i}" for i in range(n)]
    t_log = log_counts(truth)
    rows: list[tuple[str, str, str, float]] = []
    for method, pred in predictions.items():
        pred = np.asarray(pred)
        if pred.shape != truth.shape:
            raise ValueError(f"{method}: predictions {pred.shape} vs truth {truth.shape}")
        p_log = log_counts(pred)
        for ct, v in zip(cell_types, ccc_within_cell_types(p_log, t_log), strict=True):
            rows.append((method, "ccc_within", ct, v))
        for ct, v in zip(cell_types, pearson_binned(pred, truth), strict=True):
            rows.append((method, "pearson_128bp", ct, v))
        for r, v in zip(names, ccc_across_cell_types(p_log, t_log), strict=True):
            rows.append((method, "ccc_across", r, v))
        for r, v in zip(names, rmse_per_region(p_log, t_log), strict=True):
            rows.append((method, "rmse", r, v))
    return pd.DataFrame(rows, columns=["method", "metric", "unit", "value"])


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Median (NaN skipped) of each metric per method: rows methods, columns metrics."""
    return table.groupby(["method", "metric"], sort=False)["value"].median().unstack("metric")
