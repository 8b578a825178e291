"""bpAI-TAC's evaluation metrics (the paper's, vectorised NumPy).

Counts: predicted ``pred`` and observed ``obs`` ``(N, T)`` (OCRs x cell types).

- `per_ocr_pearson`: for each OCR, the Pearson correlation of its counts across cell
  types (the paper's headline metric: does the model get the differences between cell
  types right); NaN for an OCR whose observed or predicted counts are constant;
- `per_task_pearson`: for each cell type, the Pearson correlation across OCRs;
- `cv_quartile`: each OCR's quartile (0-3) of the coefficient of variation (sd / mean)
  of its observed counts across cell types (the paper stratifies by it: high-CV OCRs
  are the cell-type-specific ones);

Profiles: predicted probabilities ``(N, T, L)`` and observed counts ``(N, T, L)``:

- `profile_jsd`: Jensen-Shannon distance (base 2, in [0, 1]) of each OCR and cell
  type's profile pair; `profile_pearson`: their Pearson correlation; NaN where the
  observed profile is empty (or constant, for the Pearson).

`summarize` puts the medians (and means) of these into one flat dict.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "cv_quartile",
    "per_ocr_pearson",
    "per_task_pearson",
    "profile_jsd",
    "profile_pearson",
    "row_pearson",
    "summarize",
]


def row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching rows of ``a`` and ``b`` ``(n, k)`` -> ``(n,)
    float64``; NaN for a constant row."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a - a.mean(axis=-1, keepdims=True)
    b = b - b.mean(axis=-1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (a * b).sum(axis=-1) / den
    return np.where(den > 1e-12 * np.maximum(1.0, den.max(initial=0.0)), out, np.nan)


def per_ocr_pearson(pred: np.ndarray, obs: np.ndarray, *, log: bool = False) -> np.ndarray:
    """Pearson across cell types per OCR: ``(N, T), (N, T) -> (N,) float64`` (on
    ``log(1 + counts)`` with `log`)."""
    if log:
        pred, obs = np.log1p(np.maximum(pred, 0)), np.log1p(np.maximum(obs, 0))
    return row_pearson(pred, obs)


def per_task_pearson(pred: np.ndarray, obs: np.ndarray, *, log: bool = False) -> np.ndarray:
    """Pearson across OCRs per cell type: ``(N, T), (N, T) -> (T,) float64``."""
    if log:
        pred, obs = np.log1p(np.maximum(pred, 0)), np.log1p(np.maximum(obs, 0))
    return row_pearson(np.asarray(pred).T, np.asarray(obs).T)


def cv_quartile(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficient of variation across cell types ``(N,) float64`` and its quartile
    ``(N,) int64`` (0 lowest; -1 where the mean is 0)."""
    obs = np.asarray(obs, dtype=np.float64)
    mean = obs.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean > 0, obs.std(axis=1) / mean, np.nan)
    q = np.full(cv.size, -1, dtype=np.int64)
    ok = np.isfinite(cv)
    if ok.any():
        edges = np.quantile(cv[ok], [0.25, 0.5, 0.75])
        q[ok] = np.searchsorted(edges, cv[ok], side="right")
    return cv, q


def profile_jsd(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Base-2 Jensen-Shannon distance per profile pair: ``(N, T, L) x 2 -> (N, T)``."""
    p = np.asarray(pred, dtype=np.float64)
    q = np.asarray(obs, dtype=np.float64)
    sp, sq = p.sum(axis=-1, keepdims=True), q.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / np.where(sp > 0, sp, 1)
        q = q / np.where(sq > 0, sq, 1)
        m = 0.5 * (p + q)
        kp = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1) / np.where(m > 0, m, 1)), 0)
        kq = np.where(q > 0, q * np.log2(np.where(q > 0, q, 1) / np.where(m > 0, m, 1)), 0)
    js = np.sqrt(np.clip(0.5 * kp.sum(-1) + 0.5 * kq.sum(-1), 0, 1))
    return np.where((sp[..., 0] > 0) & (sq[..., 0] > 0), js, np.nan)


def profile_pearson(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Pearson per profile pair over positions: ``(N, T, L) x 2 -> (N, T)``."""
    pred = np.asarray(pred)
    n, t, length = pred.shape
    r = row_pearson(pred.reshape(n * t, length), np.asarray(obs).reshape(n * t, length))
    return r.reshape(n, t)


def _stats(prefix: str, values: np.ndarray) -> dict[str, float]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {f"{prefix}_median": float("nan"), f"{prefix}_mean": float("nan")}
    return {f"{prefix}_median": float(np.median(v)), f"{prefix}_mean": float(v.mean())}


def summarize(
    pred: np.ndarray,
    obs: np.ndarray,
    pred_profile: np.ndarray | None = None,
    obs_profile: np.ndarray | None = None,
) -> dict[str, float]:
    """Medians and means of every metric (module docstring) as one flat dict: OCR
    Pearson across cell types (linear and log), by CV quartile, cell-type Pearson
    across OCRs, and the profile JSD and Pearson."""
    out: dict[str, float] = {"n_ocrs": float(pred.shape[0]), "n_tasks": float(pred.shape[1])}
    r_ocr = per_ocr_pearson(pred, obs)
    out.update(_stats("ocr_pearson", r_ocr))
    out.update(_stats("ocr_pearson_log", per_ocr_pearson(pred, obs, log=True)))
    out.update(_stats("task_pearson", per_task_pearson(pred, obs)))
    out.update(_stats("task_pearson_log", per_task_pearson(pred, obs, log=True)))
    _, q = cv_quartile(obs)
    for k in range(4):
        out.update(_stats(f"ocr_pearson_cv_q{k + 1}", r_ocr[q == k]))
    if pred_profile is not None and obs_profile is not None:
        out.update(_stats("profile_jsd", profile_jsd(pred_profile, obs_profile)))
        out.update(_stats("profile_pearson", profile_pearson(pred_profile, obs_profile)))
    return out
