"""Do the z-scores agree with the LD panel? The checks of susieR's RSS diagnostics.

Fine-mapping from summary statistics trusts that the LD matrix ``R`` is the LD of the
GWAS sample. When it is not (a reference panel of another population, a subset of the
samples) or when some alleles are flipped between the GWAS and the panel, SuSiE-RSS
finds spurious effects. Two checks, as susieR 0.12 computes them (`estimate_s_rss`,
`kriging_rss`), with z first adjusted for the variance a variant explains when ``n`` is
known (``z sqrt((n-1)/(z^2+n-2))``, as in the fit):

* **s** (`estimate_s`): under no effects, ``z ~ N(0, (1-s) R + s I)``; ``s`` in [0, 1] is
  the maximum-likelihood share of the z-scores' covariance that ``R`` does not explain
  (0 for a panel that matches; near 1 when it does not).
* **expected z from the neighbours** (`expected_z`): with the precision matrix
  ``P = ((1-s) R + s I)^+`` (eigenvalues below ``r_tol`` set to 0 first), the
  conditional mean of each z given all the others is ``z_i - (P z)_i / P_ii``, its
  variance ``1 / P_ii``, and ``z_std_diff`` the standardised difference. The
  log-likelihood ratio ``logLR`` compares the variant's z with the sign flipped against
  as it is, each under a scale mixture of normals around the conditional mean (grid of
  scales from 0.8 to twice the largest ``|z_std_diff|`` in steps of 5%, mixture weights
  fitted by maximum likelihood over all variants). A variant is an **outlier** (likely an
  allele flip or a panel mismatch at that variant) when ``logLR > 2`` and ``|z| > 2``,
  susieR's rule.

Mixture weights: susieR uses ``mixsqp``; here an EM to the same (concave) maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "LdDiagnostics",
    "adjust_z",
    "estimate_s",
    "expected_z",
    "ld_diagnostics",
    "plot_ld_diagnostics",
]

#: susieR's rule for a likely flip: logLR above this and |z| above `OUTLIER_Z`.
OUTLIER_LOGLR = 2.0
OUTLIER_Z = 2.0


@dataclass(frozen=True)
class LdDiagnostics:
    """The checks of one locus: `s`, and `table` with one row per variant (input order)
    with columns ``z`` (adjusted), ``condmean``, ``condvar``, ``z_std_diff``, ``logLR``,
    ``outlier``."""

    s: float
    table: pd.DataFrame

    @property
    def n_outliers(self) -> int:
        return int(self.table["outlier"].sum())


def adjust_z(z: np.ndarray, n: float | None) -> np.ndarray:
    """``z sqrt((n-1)/(z^2+n-2))`` (unchanged when `n` is None) -> ``(p,) float64``."""
    z = np.nan_to_num(np.asarray(z, dtype=np.float64), nan=0.0)
    if n is None:
        return z
    return z * np.sqrt((n - 1) / (z * z + n - 2))


def _eigen(R: np.ndarray, r_tol: float) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(np.asarray(R, dtype=np.float64))
    values = np.where(values < r_tol, 0.0, values)
    return values, vectors


def estimate_s(
    z: np.ndarray, R: np.ndarray, n: float | None = None, *, r_tol: float = 1e-8, eigen=None
) -> float:
    """Maximum-likelihood `s` of ``z ~ N(0, (1-s) R + s I)`` on [0, 1] (susieR's
    ``estimate_s_rss`` with ``method = "null-mle"``). `eigen` may pass ``(values, vectors)``
    of `R` (values already floored)."""
    zt = adjust_z(z, n)
    d, vectors = eigen if eigen is not None else _eigen(R, r_tol)
    proj = vectors.T @ zt

    def negloglik(s: float) -> float:
        v = (1 - s) * d + s
        with np.errstate(divide="ignore"):
            return 0.5 * float(np.sum(np.log(v))) + 0.5 * float(np.sum(proj * proj / v))

    res = optimize.minimize_scalar(
        negloglik, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-10}
    )
    return float(res.x)


def _mixture_weights(lik: np.ndarray, *, max_iter: int = 5000, tol: float = 1e-10) -> np.ndarray:
    """Maximum-likelihood mixture weights of ``lik`` ``(p, k)`` (rows scaled) by EM."""
    k = lik.shape[1]
    w = np.full(k, 1.0 / k)
    last = -np.inf
    for _ in range(max_iter):
        mix = lik @ w
        ll = float(np.sum(np.log(mix)))
        w = w * (lik / mix[:, None]).mean(axis=0)
        if ll - last < tol * max(1.0, abs(ll)):
            break
        last = ll
    return w


def expected_z(
    z: np.ndarray,
    R: np.ndarray,
    n: float | None = None,
    *,
    s: float | None = None,
    r_tol: float = 1e-8,
) -> LdDiagnostics:
    """Each z against its expectation from its neighbours (susieR's ``kriging_rss``).

    `s` defaults to `estimate_s`. Returns `LdDiagnostics` (module docstring).
    """
    eigen = _eigen(R, r_tol)
    if s is None:
        s = estimate_s(z, R, n, r_tol=r_tol, eigen=eigen)
    s = 0.8 if s > 1 else float(s)
    zt = adjust_z(z, n)
    d, vectors = eigen
    with np.errstate(divide="ignore"):
        dinv = 1.0 / ((1 - s) * d + s)
    dinv[~np.isfinite(dinv)] = 0.0
    # diag(P) and P z straight from the eigenvectors: O(p^2), P itself is never formed
    diag = (vectors * vectors) @ dinv
    pz = vectors @ (dinv * (vectors.T @ zt))
    condmean = zt - pz / diag
    condvar = 1.0 / diag
    z_std_diff = (zt - condmean) / np.sqrt(condvar)
    a_min = 0.8
    a_max = 2.0 if np.max(z_std_diff**2) < 1 else 2.0 * np.sqrt(np.max(z_std_diff**2))
    npoint = int(np.ceil(np.log2(a_max / a_min) / np.log2(1.05)))
    grid = 1.05 ** np.arange(-npoint, 1) * a_max
    sd = np.sqrt(condvar)[:, None] * grid[None, :]

    def loglik_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ll = stats.norm.logpdf(x[:, None], scale=sd)
        top = ll.max(axis=1)
        return np.exp(ll - top[:, None]), top

    lik0, top0 = loglik_rows(zt - condmean)
    w = _mixture_weights(lik0)
    logl0 = np.log(lik0 @ (w + 1e-15)) + top0
    lik1, top1 = loglik_rows(zt + condmean)
    logl1 = np.log(lik1 @ (w + 1e-15)) + top1
    log_lr = logl1 - logl0
    table = pd.DataFrame(
        {
            "z": zt,
            "condmean": condmean,
            "condvar": condvar,
            "z_std_diff": z_std_diff,
            "logLR": log_lr,
            "outlier": (log_lr > OUTLIER_LOGLR) & (np.abs(zt) > OUTLIER_Z),
        }
    )
    return LdDiagnostics(s=float(s), table=table)


def ld_diagnostics(
    z: np.ndarray, R: np.ndarray, n: float | None = None, *, r_tol: float = 1e-8
) -> LdDiagnostics:
    """`estimate_s` then `expected_z` with it: both checks of one locus."""
    return expected_z(z, R, n, r_tol=r_tol)


def plot_ld_diagnostics(
    diag: LdDiagnostics, path: str | Path, *, labels: list[str] | None = None, title: str = ""
) -> Path:
    """Observed against expected z (outliers in red, labelled), written to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = diag.table
    fig, ax = plt.subplots(figsize=(5.0, 5.0))
    ax.scatter(t["condmean"], t["z"], s=8, color="0.4", label="variants")
    out = t["outlier"].to_numpy()
    if out.any():
        ax.scatter(t.loc[out, "condmean"], t.loc[out, "z"], s=18, color="red", label="outlier")
        if labels is not None:
            for i in np.flatnonzero(out)[:20]:
                ax.annotate(labels[i], (t["condmean"].iloc[i], t["z"].iloc[i]), fontsize=6)
    lo = float(min(t["condmean"].min(), t["z"].min(), -1.0))
    hi = float(max(t["condmean"].max(), t["z"].max(), 1.0))
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8)
    ax.set_xlabel("expected z from LD neighbours")
    ax.set_ylabel("observed z")
    ax.set_title(title or f"LD check: s = {diag.s:.3g}, {diag.n_outliers} outlier(s)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
