"""Statistical baselines that every DeepDETAILS report is compared with.

Both split the observed bulk ``(n, S, L)`` base by base into K cell types with one
fraction per region and cell type, so their tracks keep the bulk's shape:

- **proportional**: fractions in proportion to each cell type's depth-normalised
  accessibility over the region's centre (the scale function s(k, r) alone);
- **nnls**: a linear mixing model over regions, ``bulk_counts(r) ~ sum_k beta_k *
  load(k, r)`` with ``beta >= 0`` fitted by non-negative least squares
  (`scipy.optimize.nnls`); fractions ``beta_k load(k, r) / sum_i beta_i load(i, r)``.

A region with no accessibility in any cell type (or with all fitted contributions 0) is
split equally.

The same depth-normalised accessibility gives DeepDETAILS its scale function
``s(k, r) = load(k, r) / sum_i load(i, r)`` (`scale_weights`, `window_scale`), the
model's ``scale`` input.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

__all__ = [
    "accessibility_load",
    "nnls_split",
    "proportional_split",
    "scale_weights",
    "split_bulk",
    "window_scale",
]


def accessibility_load(acc: np.ndarray, norm: np.ndarray, *, center: int = 1000) -> np.ndarray:
    """Depth-normalised accessibility over each window's centre.

    `acc`: ``(n, K, L_in)``; `norm`: ``(K,)`` (e.g. 1e6 / library size). Returns
    ``(n, K) float64``: the mean of ``|acc|`` over the centre `center` bp times `norm`.
    """
    acc = np.asarray(acc)
    start = (acc.shape[-1] - center) // 2
    window = np.abs(acc[..., start : start + center]).astype(np.float64)
    return window.mean(axis=-1) * np.asarray(norm, dtype=np.float64)[None, :]


def scale_weights(load, *, eps: float = 1e-16):
    """The scale function s(k, r) = RPM(k, r) / (sum_i RPM(i, r) + eps).

    `load`: ``(..., K)`` depth-normalised accessibility of each cell type over the centre
    of each region (a NumPy array or a torch tensor, any float dtype). Returns the same
    shape, type and dtype; a region with no accessibility in any cell type gets all zeros.
    """
    return load / (load.sum(-1)[..., None] + eps)


def window_scale(
    acc: np.ndarray,
    norm: np.ndarray,
    *,
    center: int,
    contributions: np.ndarray | None = None,
    exponent: float = 1.0,
) -> np.ndarray:
    """DeepDETAILS' ``scale`` input of windows: ``(n, K) float32``.

    `acc` ``(n, K, L_in)`` and `norm` ``(K,)`` as for `accessibility_load`; `center` is
    the model's output length. The load is raised to `exponent` and weighed by
    `contributions` ``(K,)`` (the bulk's response, `varinterp.deconv.contributions`;
    the defaults are the reference's scale). Computed in float64 (as torch does it in
    training), then cast.
    """
    import torch

    load = accessibility_load(acc, norm, center=center)
    if exponent != 1.0:
        load = np.power(load, exponent)
    if contributions is not None:
        load = load * np.asarray(contributions, np.float64)[None, :]
    return scale_weights(torch.from_numpy(load)).numpy().astype(np.float32)


def _normalize(weights: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=1, keepdims=True)
    k = weights.shape[1]
    return np.where(total > 0, weights / np.where(total > 0, total, 1.0), 1.0 / k)


def split_bulk(bulk: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """``(n, S, L)`` bulk x ``(n, K)`` fractions -> ``(n, K, S, L) float32`` tracks."""
    return (np.abs(bulk)[:, None] * fractions[:, :, None, None]).astype(np.float32)


def proportional_split(bulk: np.ndarray, load: np.ndarray) -> np.ndarray:
    """Split `bulk` ``(n, S, L)`` by accessibility `load` ``(n, K)`` -> ``(n, K, S, L)``."""
    return split_bulk(bulk, _normalize(np.asarray(load, dtype=np.float64)))


def nnls_split(bulk: np.ndarray, load: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NNLS deconvolution over regions.

    Returns the tracks ``(n, K, S, L) float32`` and the fitted coefficients
    ``beta (K,) float64`` (bulk counts per unit of normalised accessibility).
    """
    load = np.asarray(load, dtype=np.float64)
    counts = np.abs(bulk).sum(axis=(1, 2), dtype=np.float64)
    beta, _ = nnls(load, counts)
    return split_bulk(bulk, _normalize(load * beta[None, :])), beta
