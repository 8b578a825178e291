"""Statistics of the MPRA benchmark: auPRC with bootstraps, effect agreement.

- **auPRC**: `sklearn.metrics.average_precision_score` of the label (emVar = 1, active
  non-emVar = 0) against the score ``log2FC ** 2`` of each model.
- **Bootstrap**: draw ``b`` takes ``rng.integers(0, n, size=n)`` (rows with
  replacement) from ``numpy.random.default_rng(seed)``, draws in order, and computes
  every model's auPRC on the same rows; a draw with only one class gives NaN and is
  left out of the summaries.
- **Comparison** with a baseline model: per draw ``delta = auPRC(model) -
  auPRC(baseline)``; reported are its mean, 2.5 % and 97.5 % quantiles and
  ``P(delta > 0)``, the fraction of draws in which the model beats the baseline.
- **Agreement** of predicted with observed log2 fold changes: Pearson's r
  (`scipy.stats.pearsonr`) and the sign-mismatch rate (the fraction of variants, among
  those with a non-zero predicted and observed effect, whose signs differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from varinterp.progress import ProgressCallback, report

__all__ = ["Agreement", "auprc", "bootstrap_auprc", "compare_to_baseline", "effect_agreement"]


def auprc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision of ``scores`` for binary ``labels`` (NaN with one class only)."""
    from sklearn.metrics import average_precision_score

    y = np.asarray(labels)
    if y.size == 0 or y.min() == y.max():
        return float("nan")
    return float(average_precision_score(y, np.asarray(scores, dtype=np.float64)))


def bootstrap_auprc(
    labels: np.ndarray,
    scores: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
) -> np.ndarray:
    """auPRC of each score column on bootstrap resamples -> ``(n_boot, n_models) float64``.

    ``labels`` ``(n,)`` 0/1; ``scores`` ``(n, n_models)``. See the module docstring for
    the draws.
    """
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = s[:, None]
    n = y.size
    rng = np.random.default_rng(seed)
    out = np.full((n_boot, s.shape[1]), np.nan)
    if n == 0:
        return out
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        yb = y[idx]
        if yb.min() != yb.max():
            for m in range(s.shape[1]):
                out[b, m] = auprc(yb, s[idx, m])
        report(on_progress, b + 1, n_boot)
    return out


def compare_to_baseline(boot: np.ndarray, names: Sequence[str], baseline: str) -> list[dict]:
    """Per model: mean delta auPRC against `baseline`, its 95 % interval and P(delta > 0).

    ``boot`` is `bootstrap_auprc`'s ``(n_boot, n_models)`` with columns named `names`.
    """
    j = list(names).index(baseline)
    rows = []
    for m, name in enumerate(names):
        ok = np.isfinite(boot[:, m]) & np.isfinite(boot[:, j])
        d = boot[ok, m] - boot[ok, j]
        a = boot[np.isfinite(boot[:, m]), m]
        rows.append(
            {
                "model": name,
                "auprc_boot_mean": float(a.mean()) if a.size else float("nan"),
                "auprc_ci_low": float(np.quantile(a, 0.025)) if a.size else float("nan"),
                "auprc_ci_high": float(np.quantile(a, 0.975)) if a.size else float("nan"),
                "delta_vs_baseline": float(d.mean()) if d.size else float("nan"),
                "delta_ci_low": float(np.quantile(d, 0.025)) if d.size else float("nan"),
                "delta_ci_high": float(np.quantile(d, 0.975)) if d.size else float("nan"),
                "p_delta_gt_0": float((d > 0).mean()) if d.size else float("nan"),
                "n_boot_used": int(d.size),
            }
        )
    return rows


@dataclass
class Agreement:
    """Pearson r (p-value) and sign-mismatch rate of predicted vs observed effects."""

    n: int
    pearson: float
    pearson_p: float
    sign_mismatch: float
    n_signed: int


def effect_agreement(predicted: np.ndarray, observed: np.ndarray) -> Agreement:
    """Compare predicted and observed log2 fold changes over their finite pairs."""
    from scipy.stats import pearsonr

    p = np.asarray(predicted, dtype=np.float64)
    o = np.asarray(observed, dtype=np.float64)
    keep = np.isfinite(p) & np.isfinite(o)
    p, o = p[keep], o[keep]
    r = pv = float("nan")
    if p.size >= 3 and np.ptp(p) > 0 and np.ptp(o) > 0:
        res = pearsonr(p, o)
        r, pv = float(res.statistic), float(res.pvalue)
    signed = (p != 0) & (o != 0)
    k = int(signed.sum())
    mismatch = float((np.sign(p[signed]) != np.sign(o[signed])).mean()) if k else float("nan")
    return Agreement(int(p.size), r, pv, mismatch, k)
