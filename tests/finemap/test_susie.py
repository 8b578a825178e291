"""SuSiE-RSS against independent answers: exact Gaussian algebra, susieR, invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from varinterp.errors import InputError
from varinterp.finemap.credsets import credible_sets
from varinterp.finemap.simulate import simulate_locus
from varinterp.finemap.susie import susie_rss, susie_suff_stat


def _ar_ld(p: int, rho: float) -> np.ndarray:
    idx = np.arange(p)
    return rho ** np.abs(idx[:, None] - idx[None, :])


def test_single_effect_matches_multivariate_normal_bayes_factors():
    # RSS model z ~ N(R b, R); one effect b_j ~ N(0, V): the exact marginal is
    # N(0, R + V R e_j e_j' R); posterior probabilities follow from the densities.
    rng = np.random.default_rng(0)
    p, v = 8, 3.0
    R = _ar_ld(p, 0.6)
    z = rng.multivariate_normal(R[:, 3] * 4.0, R)
    pi = rng.uniform(0.5, 2.0, p)
    fit = susie_rss(
        z=z, R=R, L=1, prior_weights=pi, prior_variance=v, estimate_prior_variance=False
    )
    null = multivariate_normal(np.zeros(p), R).logpdf(z)
    lbf = np.array(
        [
            multivariate_normal(np.zeros(p), R + v * np.outer(R[:, j], R[:, j])).logpdf(z) - null
            for j in range(p)
        ]
    )
    post = pi / pi.sum() * np.exp(lbf - lbf.max())
    post /= post.sum()
    np.testing.assert_allclose(fit.alpha[0], post, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fit.lbf_variable[0], lbf, rtol=1e-8, atol=1e-10)
    # posterior mean given j: V z_j / (1 + V) on the z scale (R_jj = 1)
    np.testing.assert_allclose(fit.mu[0], v * z / (1 + v), rtol=1e-10)


def test_prior_variance_estimate_maximises_ser_likelihood():
    rng = np.random.default_rng(1)
    p = 10
    R = _ar_ld(p, 0.3)
    z = rng.multivariate_normal(R[:, 2] * 6.0, R)
    fit = susie_rss(z=z, R=R, L=1)
    v_hat = fit.prior_variance[0]
    null = multivariate_normal(np.zeros(p), R).logpdf(z)

    def loglik(v):
        lbf = [
            multivariate_normal(np.zeros(p), R + v * np.outer(R[:, j], R[:, j])).logpdf(z)
            for j in range(p)
        ]
        return np.log(np.mean(np.exp(np.array(lbf) - null)))

    assert v_hat > 1.0
    for v in (v_hat * 0.8, v_hat * 1.25):
        assert loglik(v_hat) >= loglik(v) - 1e-9


def test_null_effects_get_zero_prior_variance_and_no_sets():
    rng = np.random.default_rng(2)
    R = _ar_ld(30, 0.5)
    z = rng.multivariate_normal(np.zeros(30), R) * 0.3
    fit = susie_rss(z=z, R=R, n=10_000, L=5)
    assert np.all(fit.prior_variance == 0)
    assert np.all(fit.pip == 0)
    assert credible_sets(fit.alpha, R=R, lbf=fit.lbf, active=fit.active) == []


def test_finds_planted_causal_variants():
    loc = simulate_locus(
        n_samples=800, n_variants=200, n_causal=3, pve=0.2, rho=0.85, mean_block=40, seed=5
    )
    fit = susie_rss(z=loc.z, R=loc.R, n=loc.n, L=10)
    sets = credible_sets(fit.alpha, R=loc.R, lbf=fit.lbf, active=fit.active)
    assert fit.converged
    hit = {c for c in loc.causal if any(c in s.variants for s in sets)}
    assert len(hit) >= 2
    assert all(s.min_abs_r >= 0.5 for s in sets)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), flip=st.lists(st.booleans(), min_size=40, max_size=40))
def test_allele_flip_invariance_and_elbo_monotone(seed, flip):
    loc = simulate_locus(
        n_samples=300, n_variants=40, n_causal=2, pve=0.3, rho=0.7, mean_block=10, seed=seed
    )
    s = np.where(flip, -1.0, 1.0)
    a = susie_rss(z=loc.z, R=loc.R, n=loc.n, L=4)
    b = susie_rss(z=loc.z * s, R=loc.R * np.outer(s, s), n=loc.n, L=4)
    np.testing.assert_allclose(a.pip, b.pip, atol=1e-8)
    np.testing.assert_allclose(a.posterior_mean, b.posterior_mean * s, atol=1e-10)
    # IBSS is coordinate ascent: with fixed residual variance the ELBO never decreases
    assert np.all(np.diff(a.elbo) > -1e-6)


def test_residual_variance_estimate_is_expected_rss_over_n():
    loc = simulate_locus(n_samples=500, n_variants=50, n_causal=2, pve=0.3, seed=9)
    fit = susie_rss(z=loc.z, R=loc.R, n=loc.n, L=5, estimate_residual_variance=True)
    assert 0.6 < fit.residual_variance < 0.95  # 30% of the variance is explained


def test_zero_prior_weight_excludes_variant():
    R = np.eye(5)
    z = np.array([0.0, 9.0, 0.0, 0.0, 0.0])
    w = np.array([1.0, 0.0, 1.0, 1.0, 1.0])
    fit = susie_rss(z=z, R=R, L=2, prior_weights=w)
    assert fit.pip[1] == 0
    fit = susie_rss(z=z, R=R, L=2)
    assert fit.pip[1] > 0.999


def test_bad_inputs():
    with pytest.raises(InputError, match="z-scores"):
        susie_rss(z=np.array([1.0, np.nan]), R=np.eye(2))
    with pytest.raises(InputError, match="agree"):
        susie_suff_stat(xtx=np.eye(3), xty=np.ones(2), yty=1.0, n=10)
    with pytest.raises(InputError, match="prior weights"):
        susie_rss(z=np.ones(2), R=np.eye(2), prior_weights=np.array([-1.0, 1.0]))
    with pytest.raises(InputError, match="sample size"):
        susie_rss(z=np.ones(2), R=np.eye(2), estimate_residual_variance=True)
