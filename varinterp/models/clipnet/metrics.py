"""Evaluation metrics of CLIPNET-style profile + quantity predictions (NumPy).

Profiles are ``(n, n_strands * L)`` arrays laid out as the model outputs them: the plus
strand's L values, then the minus strand's, both non-negative and in genomic order.
Quantities are ``(n,)`` or ``(n, 1)`` totals (linear, e.g. RPM).

- `profile_pearson`: Pearson r between predicted and observed profile of each window
  (NaN where either is constant); `clipnet_metrics` reports its median over windows
  with a defined value.
- `log_quantity_pearson`: Pearson r of ``log1p(pred)`` vs ``log1p(obs)`` across windows.
- `directionality`: ``log1p(sum(plus)) - log1p(sum(minus))`` per window.
- `tss_position`: argmax position per strand (0-based, within the output window).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from varinterp.errors import InputError

__all__ = [
    "clipnet_metrics",
    "directionality",
    "log_quantity_pearson",
    "profile_pearson",
    "tss_position",
]


def _as_2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        msg = f"{name} must be a (windows, values) array, got shape {x.shape}"
        raise InputError(msg)
    return x


def _strands(profile: np.ndarray, n_strands: int) -> np.ndarray:
    n, p = profile.shape
    if p % n_strands:
        msg = f"profile width {p} is not a multiple of n_strands={n_strands}"
        raise InputError(msg)
    return profile.reshape(n, n_strands, p // n_strands)


def profile_pearson(pred: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Per-window Pearson r of two ``(n, P)`` arrays -> ``(n,) float64`` (NaN if constant)."""
    pred = _as_2d(pred, "predicted profile")
    obs = _as_2d(obs, "observed profile")
    if pred.shape != obs.shape:
        msg = f"predicted profile {pred.shape} and observed profile {obs.shape} differ in shape"
        raise InputError(msg)
    a = pred - pred.mean(axis=1, keepdims=True)
    b = obs - obs.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / den
    r[den == 0] = np.nan
    return np.clip(r, -1.0, 1.0)


def log_quantity_pearson(pred: np.ndarray, obs: np.ndarray) -> float:
    """Pearson r of ``log1p(pred)`` vs ``log1p(obs)`` over windows (quantities ``(n,)``)."""
    a = np.log1p(np.asarray(pred, dtype=np.float64).reshape(-1))
    b = np.log1p(np.asarray(obs, dtype=np.float64).reshape(-1))
    if a.shape != b.shape or a.size < 2:
        msg = f"need two equally long quantity vectors of length >= 2, got {a.size} and {b.size}"
        raise InputError(msg)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b)[0])


def directionality(profile: np.ndarray, n_strands: int = 2) -> np.ndarray:
    """``log1p(sum(plus)) - log1p(sum(minus))`` per window: ``(n, 2L) -> (n,) float64``."""
    s = _strands(_as_2d(profile, "profile"), n_strands).sum(axis=2)
    return np.log1p(s[:, 0]) - np.log1p(s[:, 1])


def tss_position(profile: np.ndarray, n_strands: int = 2) -> np.ndarray:
    """Argmax position per strand: ``(n, n_strands * L) -> (n, n_strands) int64``.

    Positions are 0-based within the output window; ties go to the leftmost position.
    """
    return _strands(_as_2d(profile, "profile"), n_strands).argmax(axis=2).astype(np.int64)


def _pearson_or_nan(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(stats.pearsonr(a, b)[0])


def clipnet_metrics(
    pred_profile: np.ndarray,
    obs_profile: np.ndarray,
    pred_quantity: np.ndarray,
    obs_quantity: np.ndarray | None = None,
    *,
    n_strands: int = 2,
) -> dict[str, float]:
    """Summary metrics over windows, as in the CLIPNET paper.

    `obs_quantity` defaults to the observed profile's sum (``(n,)``). Returns a dict:
    ``median_profile_pearson``, ``n_profile_defined`` (windows with a defined r),
    ``log_quantity_pearson``, ``directionality_pearson`` and ``tss_position_pearson``
    (Pearson over the concatenated per-strand argmax positions).
    """
    obs_profile = _as_2d(obs_profile, "observed profile")
    r = profile_pearson(pred_profile, obs_profile)
    defined = r[~np.isnan(r)]
    if obs_quantity is None:
        obs_quantity = obs_profile.sum(axis=1)
    tp = tss_position(pred_profile, n_strands).T.reshape(-1)
    to = tss_position(obs_profile, n_strands).T.reshape(-1)
    return {
        "median_profile_pearson": float(np.median(defined)) if defined.size else float("nan"),
        "n_profile_defined": float(defined.size),
        "log_quantity_pearson": log_quantity_pearson(pred_quantity, obs_quantity),
        "directionality_pearson": _pearson_or_nan(
            directionality(pred_profile, n_strands), directionality(obs_profile, n_strands)
        ),
        "tss_position_pearson": _pearson_or_nan(tp.astype(float), to.astype(float)),
    }
