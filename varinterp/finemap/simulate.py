"""Simulated fine-mapping loci with known causal variants (for tests and benchmarks).

Haplotypes come from a thresholded Gaussian process: along the locus, a latent AR(1)
series with correlation `rho` between neighbours restarts at block boundaries (LD blocks
of random length); a haplotype carries the alt allele where the latent value falls below
the quantile of its allele frequency. Two haplotypes make a genotype (0, 1, 2). A trait
is the sum of a few causal effects plus noise, and marginal regressions give the GWAS
summary statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

__all__ = ["SimulatedLocus", "simulate_genotypes", "simulate_locus"]


def simulate_genotypes(
    *, n_samples: int, n_variants: int, rho: float = 0.95, mean_block: int = 200, seed: int = 0
) -> np.ndarray:
    """-> (n_samples, n_variants) float64 alt-allele dosages in {0, 1, 2}, blocks of LD."""
    rng = np.random.default_rng(seed)
    maf = rng.uniform(0.05, 0.5, n_variants)
    cut = norm.ppf(maf)
    starts = np.zeros(n_variants, dtype=bool)
    starts[0] = True
    starts[1:] = rng.random(n_variants - 1) < 1.0 / mean_block
    g = np.zeros((n_samples, n_variants))
    for _ in range(2):
        latent = np.empty((n_samples, n_variants))
        eps = rng.standard_normal((n_samples, n_variants))
        latent[:, 0] = eps[:, 0]
        s = np.sqrt(1.0 - rho**2)
        for j in range(1, n_variants):
            latent[:, j] = eps[:, j] if starts[j] else rho * latent[:, j - 1] + s * eps[:, j]
        g += latent < cut[None, :]
    return g


@dataclass(frozen=True)
class SimulatedLocus:
    """A simulated locus: ``z`` (p,), ``beta``/``se`` (p,) marginal OLS estimates for
    standardised genotypes, in-sample LD ``R`` (p, p), ``causal`` (k,) column indices,
    the GWAS sample size ``n`` and the genotypes ``X`` (n, p)."""

    X: np.ndarray
    R: np.ndarray
    z: np.ndarray
    beta: np.ndarray
    se: np.ndarray
    causal: np.ndarray
    n: int


def simulate_locus(
    *,
    n_samples: int = 1000,
    n_variants: int = 500,
    n_causal: int = 3,
    pve: float = 0.05,
    rho: float = 0.95,
    mean_block: int = 200,
    seed: int = 0,
) -> SimulatedLocus:
    """Simulate genotypes, a trait with `n_causal` causal variants explaining `pve` of its
    variance, and the GWAS summary statistics with in-sample LD."""
    rng = np.random.default_rng(seed + 1)
    g = simulate_genotypes(
        n_samples=n_samples, n_variants=n_variants, rho=rho, mean_block=mean_block, seed=seed
    )
    x = g - g.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    x = x / sd
    poly = np.flatnonzero(g.std(axis=0) > 0)
    causal = np.sort(rng.choice(poly, size=n_causal, replace=False))
    b = np.zeros(n_variants)
    b[causal] = rng.choice([-1.0, 1.0], n_causal) * np.sqrt(pve / n_causal)
    y = x @ b + rng.standard_normal(n_samples) * np.sqrt(1.0 - pve)
    y = y - y.mean()
    d = np.sum(x**2, axis=0)
    d[d == 0] = 1.0
    beta = x.T @ y / d
    resid = np.sum(y**2) - beta**2 * d
    se = np.sqrt(np.maximum(resid, 1e-12) / (n_samples - 2) / d)
    R = np.corrcoef(x, rowvar=False)
    R = np.nan_to_num(R)
    np.fill_diagonal(R, 1.0)
    return SimulatedLocus(X=g, R=R, z=beta / se, beta=beta, se=se, causal=causal, n=n_samples)
