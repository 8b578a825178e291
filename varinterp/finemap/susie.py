"""SuSiE on summary statistics (SuSiE-RSS): the sum of single effects, fitted by IBSS.

The model (Wang et al. 2020, JRSS-B; Zou et al. 2022, PLoS Genetics) writes the effect
vector as a sum of `L` single effects, ``b = sum_l gamma_l * b_l`` with ``gamma_l`` one
variable drawn from the prior weights ``pi`` and ``b_l ~ N(0, V_l)``. Iterative Bayesian
stepwise selection (IBSS) updates each effect in turn by a single-effect regression (SER)
on the residual left by the others, which is coordinate ascent on the evidence lower bound
(ELBO).

Everything here works on sufficient statistics ``X'X``, ``X'y``, ``y'y`` and ``n``:

* with z-scores, an LD matrix ``R`` and the GWAS sample size ``n``, the z-scores are first
  shrunk for the variance each variant explains, ``z_adj = z * sqrt((n-1)/(z^2+n-2))``,
  and then ``X'X = (n-1) R``, ``X'y = sqrt(n-1) z_adj``, ``y'y = n-1`` (genotypes and trait
  standardised to variance 1). Effects are in trait-SD units per genotype SD.
* with z-scores and ``R`` but no ``n``, the RSS likelihood ``z ~ N(R b, sigma^2 R)`` with
  ``sigma^2 = 1`` is the same algebra with ``X'X = R`` and ``X'y = z``; effects are on the
  z scale.

Per SER with residual ``X'r`` and ``d = diag(X'X)``: ``bhat_j = (X'r)_j / d_j``,
``s2_j = sigma^2 / d_j``, the log Bayes factor of variable j is
``log N(bhat_j; 0, V + s2_j) - log N(bhat_j; 0, s2_j)``, ``alpha = softmax(log pi + lbf)``
and the posterior of ``b_l`` given variable j is normal with variance
``1 / (1/V + d_j/sigma^2)`` and mean ``var * (X'r)_j / sigma^2``. ``V_l`` is estimated by
maximising the SER marginal likelihood over ``log V`` in [-30, 15] (kept at its old value
when that is no better, and set to 0 when it does not beat ``V = 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from varinterp.errors import InputError
from varinterp.progress import ProgressCallback, report

__all__ = ["SusieFit", "susie_rss", "susie_suff_stat"]


@dataclass(frozen=True)
class SusieFit:
    """A fitted SuSiE model.

    Arrays (float64): ``alpha``, ``mu``, ``mu2``, ``lbf_variable`` are ``(L, p)`` (effect,
    variable): the posterior inclusion probabilities of each single effect, the posterior
    mean and second moment of the effect given inclusion, and the per-variable log Bayes
    factors. ``lbf`` and ``prior_variance`` are ``(L,)``. ``elbo`` is ``(n_iter,)``.
    ``scale`` is ``(p,)``: divide ``mu`` by it to get effects per unit of the input
    columns (all ones on the standardised scale).
    """

    alpha: np.ndarray
    mu: np.ndarray
    mu2: np.ndarray
    lbf_variable: np.ndarray
    lbf: np.ndarray
    prior_variance: np.ndarray
    residual_variance: float
    elbo: np.ndarray
    n_iter: int
    converged: bool
    scale: np.ndarray

    @property
    def active(self) -> np.ndarray:
        """-> (L,) bool: effects whose estimated prior variance is not zero (> 1e-9)."""
        return self.prior_variance > 1e-9

    @property
    def pip(self) -> np.ndarray:
        """-> (p,) float64: ``1 - prod_l (1 - alpha_l)`` over the active effects."""
        alpha = self.alpha[self.active]
        if alpha.shape[0] == 0:
            return np.zeros(self.alpha.shape[1])
        return 1.0 - np.prod(1.0 - alpha, axis=0)

    @property
    def posterior_mean(self) -> np.ndarray:
        """-> (p,) float64: posterior mean of each effect, ``sum_l alpha_l * mu_l / scale``."""
        return np.sum(self.alpha * self.mu, axis=0) / self.scale

    @property
    def posterior_sd(self) -> np.ndarray:
        """-> (p,) float64: posterior SD of each effect (single effects are independent)."""
        var = np.sum(self.alpha * self.mu2 - (self.alpha * self.mu) ** 2, axis=0)
        return np.sqrt(np.maximum(var, 0.0)) / self.scale


def logsumexp(x: np.ndarray) -> float:
    """log(sum(exp(x))) without overflow (-inf entries allowed)."""
    m = np.max(x)
    if not np.isfinite(m):
        return float(m)
    return float(m + np.log(np.sum(np.exp(x - m))))


def _ser_lbf(bhat: np.ndarray, s2: np.ndarray, v: float) -> np.ndarray:
    """-> (p,) float64: log BF of each variable being the effect, prior variance `v`."""
    if v <= 0:
        return np.zeros_like(bhat)
    return 0.5 * (-np.log1p(v / s2) + bhat**2 / s2 * (v / (v + s2)))


def _optimise_v(bhat: np.ndarray, s2: np.ndarray, log_pi: np.ndarray, v_old: float) -> float:
    """Maximise the SER marginal log likelihood over the prior variance (0 when null)."""

    def neg(lv: float) -> float:
        return -float(logsumexp(log_pi + _ser_lbf(bhat, s2, float(np.exp(lv)))))

    res = minimize_scalar(neg, bounds=(-30.0, 15.0), method="bounded", options={"xatol": 1e-8})
    v = float(np.exp(res.x))
    if v_old > 0 and neg(np.log(v_old)) < neg(res.x):
        v = v_old
    # log marginal likelihood at V = 0 is log(sum pi) = 0
    if -neg(np.log(v)) <= 0.0:
        v = 0.0
    return v


def susie_suff_stat(
    *,
    xtx: np.ndarray,
    xty: np.ndarray,
    yty: float,
    n: float,
    L: int = 10,
    prior_weights: np.ndarray | None = None,
    prior_variance: float = 0.2,
    estimate_prior_variance: bool = True,
    residual_variance: float = 1.0,
    estimate_residual_variance: bool = False,
    max_iter: int = 100,
    tol: float = 1e-3,
    standardize: bool = True,
    on_progress: ProgressCallback | None = None,
) -> SusieFit:
    """Fit SuSiE by IBSS on sufficient statistics ``X'X`` (p, p), ``X'y`` (p,), ``y'y``, n.

    `prior_variance` is the starting prior variance of every effect (in units of
    ``y'y/(n-1)``, the variance of y); `residual_variance` is sigma^2 (kept fixed unless
    `estimate_residual_variance`, then set to the expected residual sum of squares / n
    after each sweep). Stops when the ELBO rises by less than `tol` or after `max_iter`
    sweeps. With `standardize`, columns are scaled to ``diag(X'X) = n-1`` first and
    ``SusieFit.scale`` undoes it.
    """
    xtx = np.asarray(xtx, dtype=np.float64)
    xty = np.asarray(xty, dtype=np.float64).ravel()
    p = xty.shape[0]
    if xtx.shape != (p, p):
        raise InputError(f"X'X is {xtx.shape} but X'y has {p} entries; they must agree")
    if L < 1:
        raise InputError(f"L (number of single effects) must be at least 1, got {L}")
    L = min(L, p)
    if prior_weights is None:
        log_pi = np.full(p, -np.log(p))
    else:
        w = np.asarray(prior_weights, dtype=np.float64).ravel()
        if w.shape[0] != p or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise InputError("prior weights must be p finite non-negative numbers, not all 0")
        with np.errstate(divide="ignore"):
            log_pi = np.log(w / w.sum())
    scale = np.ones(p)
    if standardize:
        d0 = np.diag(xtx).copy()
        csd = np.sqrt(d0 / (n - 1))
        csd[csd == 0] = 1.0
        if not np.allclose(csd, 1.0, rtol=1e-12, atol=0.0):
            xtx = xtx / csd[:, None] / csd[None, :]
            xty = xty / csd
            scale = csd
    d = np.diag(xtx).copy()
    with np.errstate(divide="ignore"):
        inv_d = np.where(d > 0, 1.0 / d, np.inf)
    var_y = yty / (n - 1) if n > 1 else 1.0

    alpha = np.full((L, p), 1.0 / p)
    mu = np.zeros((L, p))
    mu2 = np.zeros((L, p))
    lbf_var = np.zeros((L, p))
    lbf = np.zeros(L)
    kl = np.zeros(L)
    v = np.full(L, float(prior_variance) * var_y)
    sigma2 = float(residual_variance)
    xtxb = np.zeros((L, p))  # X'X (alpha_l * mu_l), one row per effect
    xtxr = np.zeros(p)  # their sum
    elbo: list[float] = []
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        for l_ in range(L):
            xtr = xty - xtxr + xtxb[l_]
            bhat = xtr * inv_d
            s2 = sigma2 * inv_d
            if estimate_prior_variance:
                v[l_] = _optimise_v(bhat, s2, log_pi, v[l_])
            lbf_j = _ser_lbf(bhat, s2, v[l_])
            lbf_j[~np.isfinite(s2)] = 0.0
            logw = log_pi + lbf_j
            lbf[l_] = float(logsumexp(logw))
            a = np.exp(logw - lbf[l_])
            if v[l_] > 0:
                post_var = 1.0 / (1.0 / v[l_] + d / sigma2)
            else:
                post_var = np.zeros(p)
            m = post_var * xtr / sigma2
            alpha[l_], mu[l_], mu2[l_], lbf_var[l_] = a, m, post_var + m**2, lbf_j
            kl[l_] = -lbf[l_] + (np.dot(a * m, xtr) - 0.5 * np.dot(a * mu2[l_], d)) / sigma2
            new = xtx @ (a * m)
            xtxr += new - xtxb[l_]
            xtxb[l_] = new
        xtxr = xtxb.sum(axis=0)  # no drift from the running updates
        b = np.sum(alpha * mu, axis=0)
        erss = (
            yty
            - 2.0 * np.dot(b, xty)
            + np.dot(b, xtxr)
            + float(np.sum(alpha * mu2 * d) - np.sum(alpha * mu * xtxb))
        )
        e_loglik = -0.5 * n * np.log(2 * np.pi * sigma2) - 0.5 * erss / sigma2
        elbo.append(float(e_loglik - kl.sum()))
        report(on_progress, it, max_iter)
        if len(elbo) > 1 and elbo[-1] - elbo[-2] < tol:
            converged = True
            break
        if estimate_residual_variance:
            sigma2 = max(erss / n, 1e-12)
    return SusieFit(
        alpha=alpha,
        mu=mu,
        mu2=mu2,
        lbf_variable=lbf_var,
        lbf=lbf,
        prior_variance=v,
        residual_variance=sigma2,
        elbo=np.asarray(elbo),
        n_iter=it,
        converged=converged,
        scale=scale,
    )


def susie_rss(
    *,
    z: np.ndarray,
    R: np.ndarray,
    n: float | None = None,
    L: int = 10,
    prior_weights: np.ndarray | None = None,
    prior_variance: float | None = None,
    estimate_prior_variance: bool = True,
    estimate_residual_variance: bool = False,
    max_iter: int = 100,
    tol: float = 1e-3,
    on_progress: ProgressCallback | None = None,
) -> SusieFit:
    """Fit SuSiE-RSS from z-scores `z` (p,) and an LD correlation matrix `R` (p, p).

    With the GWAS sample size `n`, effects are on the standardised scale (trait SD per
    genotype SD) after the variance-explained adjustment of z; without it the RSS
    likelihood with residual variance 1 is used and effects are on the z scale.
    `estimate_residual_variance` needs `n` (susieR's ``susie_suff_stat`` default; its
    ``susie_rss`` keeps the residual variance at 1). `prior_variance` is the starting
    prior variance (default 0.2 of var(y) with `n`, 50 on the z scale without).
    """
    z = np.asarray(z, dtype=np.float64).ravel()
    R = np.asarray(R, dtype=np.float64)
    if not np.all(np.isfinite(z)):
        raise InputError("z-scores contain NaN or infinite values; remove those variants")
    if n is None:
        if estimate_residual_variance:
            raise InputError("estimating the residual variance needs the GWAS sample size n")
        return susie_suff_stat(
            xtx=R,
            xty=z,
            yty=0.0,
            n=1.0,
            L=L,
            prior_weights=prior_weights,
            prior_variance=50.0 if prior_variance is None else prior_variance,
            estimate_prior_variance=estimate_prior_variance,
            residual_variance=1.0,
            estimate_residual_variance=False,
            max_iter=max_iter,
            tol=tol,
            standardize=False,
            on_progress=on_progress,
        )
    if n <= 2:
        raise InputError(f"GWAS sample size n must be larger than 2, got {n}")
    z_adj = z * np.sqrt((n - 1.0) / (z**2 + n - 2.0))
    return susie_suff_stat(
        xtx=(n - 1.0) * R,
        xty=np.sqrt(n - 1.0) * z_adj,
        yty=n - 1.0,
        n=float(n),
        L=L,
        prior_weights=prior_weights,
        prior_variance=0.2 if prior_variance is None else prior_variance,
        estimate_prior_variance=estimate_prior_variance,
        residual_variance=1.0,
        estimate_residual_variance=estimate_residual_variance,
        max_iter=max_iter,
        tol=tol,
        standardize=True,
        on_progress=on_progress,
    )
