"""Wakefield's approximate Bayes factors (ABF) under one causal variant per locus.

Wakefield (2009, Genet Epidemiol 33:79) approximates the Bayes factor of association
for an effect estimate ``beta`` with variance ``V = se^2`` under the prior
``beta ~ N(0, W)``:

    log ABF = 0.5 * log(1 - r) + 0.5 * r * z^2,   r = W / (V + W),   z = beta / se.

With exactly one causal variant, the posterior probability that variant j is the one is
``pi_j ABF_j / sum_k pi_k ABF_k``. Given it is causal, its effect is normal with mean
``r * beta`` and variance ``r * V``. The prior SD (``sqrt(W)``) is 0.15 by default, a
common choice for a log odds ratio; for a quantitative trait set it in trait units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from varinterp.errors import InputError

__all__ = ["AbfFit", "wakefield_abf"]


@dataclass(frozen=True)
class AbfFit:
    """ABF fine-mapping result; every array is ``(p,) float64`` in input order.

    ``log_abf`` is the natural-log ABF of each variant; ``pip`` the posterior probability
    of being the causal variant; ``posterior_mean``/``posterior_sd`` are the moments of
    the effect averaged over being causal or not; ``lbf`` is the natural-log Bayes factor
    of the locus (one causal variant against none).
    """

    log_abf: np.ndarray
    pip: np.ndarray
    posterior_mean: np.ndarray
    posterior_sd: np.ndarray
    lbf: float


def wakefield_abf(
    *,
    beta: np.ndarray,
    se: np.ndarray,
    prior_sd: float = 0.15,
    prior_weights: np.ndarray | None = None,
) -> AbfFit:
    """Wakefield ABF and single-causal-variant PIPs from `beta` and `se` (both (p,))."""
    beta = np.asarray(beta, dtype=np.float64).ravel()
    se = np.asarray(se, dtype=np.float64).ravel()
    if beta.shape != se.shape:
        raise InputError(f"beta has {beta.shape[0]} values but se has {se.shape[0]}")
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(se)) and np.all(se > 0)):
        raise InputError("ABF needs finite beta and positive finite se for every variant")
    if not prior_sd > 0:
        raise InputError(f"the ABF prior SD must be positive, got {prior_sd}")
    p = beta.shape[0]
    if prior_weights is None:
        log_pi = np.full(p, -np.log(p))
    else:
        w = np.asarray(prior_weights, dtype=np.float64).ravel()
        if w.shape[0] != p or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("prior weights must be p finite non-negative numbers, not all 0")
        with np.errstate(divide="ignore"):
            log_pi = np.log(w / w.sum())
    v = se**2
    w_ = prior_sd**2
    r = w_ / (v + w_)
    z = beta / se
    log_abf = 0.5 * np.log1p(-r) + 0.5 * r * z**2
    logw = log_pi + log_abf
    total = float(logsumexp(logw))
    pip = np.exp(logw - total)
    m = r * beta
    second = r * v + m**2
    mean = pip * m
    sd = np.sqrt(np.maximum(pip * second - mean**2, 0.0))
    return AbfFit(log_abf=log_abf, pip=pip, posterior_mean=mean, posterior_sd=sd, lbf=total)
