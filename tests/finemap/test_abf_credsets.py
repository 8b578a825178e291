"""Wakefield ABF against scipy densities; credible sets and purity on hand-set cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from varinterp.errors import InputError
from varinterp.finemap.abf import wakefield_abf
from varinterp.finemap.credsets import credible_sets, purity


def test_abf_is_ratio_of_normal_densities():
    rng = np.random.default_rng(0)
    beta = rng.normal(0, 0.1, 50)
    se = rng.uniform(0.02, 0.08, 50)
    w = 0.2
    fit = wakefield_abf(beta=beta, se=se, prior_sd=w)
    expected = norm.logpdf(beta, 0, np.sqrt(se**2 + w**2)) - norm.logpdf(beta, 0, se)
    np.testing.assert_allclose(fit.log_abf, expected, rtol=1e-10, atol=1e-12)
    post = np.exp(expected - expected.max())
    np.testing.assert_allclose(fit.pip, post / post.sum(), rtol=1e-10)
    assert fit.pip.sum() == pytest.approx(1.0)
    # posterior mean given causal is the normal-normal shrinkage estimate
    r = w**2 / (w**2 + se**2)
    np.testing.assert_allclose(fit.posterior_mean, fit.pip * r * beta, rtol=1e-12)


def test_abf_prior_weights_and_errors():
    beta, se = np.array([0.5, 0.5]), np.array([0.1, 0.1])
    fit = wakefield_abf(beta=beta, se=se, prior_weights=np.array([3.0, 1.0]))
    np.testing.assert_allclose(fit.pip, [0.75, 0.25])
    with pytest.raises(InputError, match="positive"):
        wakefield_abf(beta=beta, se=np.array([0.1, 0.0]))
    with pytest.raises(InputError, match="prior SD"):
        wakefield_abf(beta=beta, se=se, prior_sd=0.0)


def test_credible_set_is_smallest_reaching_coverage():
    alpha = np.array([[0.5, 0.3, 0.15, 0.05], [0.05, 0.05, 0.1, 0.8]])
    sets = credible_sets(alpha, coverage=0.95)
    assert [s.variants.tolist() for s in sets] == [[0, 1, 2], [3, 2, 0]]
    assert sets[0].achieved == pytest.approx(0.95)
    sets = credible_sets(alpha, coverage=0.99)
    assert sorted(sets[0].variants.tolist()) == [0, 1, 2, 3]


def test_purity_filter_dedup_and_order():
    R = np.array([[1.0, 0.9, 0.1, 0.0], [0.9, 1.0, 0.2, 0.0], [0.1, 0.2, 1.0, 0.0], [0, 0, 0, 1.0]])
    alpha = np.array(
        [
            [0.5, 0.48, 0.01, 0.01],  # {0,1}: purity 0.9
            [0.48, 0.5, 0.01, 0.01],  # the same set again: dropped
            [0.0, 0.0, 0.0, 1.0],  # {3}: purity 1, listed first
            [0.5, 0.0, 0.5, 0.0],  # {0,2}: purity 0.1 < 0.5, filtered
        ]
    )
    sets = credible_sets(alpha, R=R, lbf=np.array([10.0, 9.0, 20.0, 1.0]))
    assert [sorted(s.variants.tolist()) for s in sets] == [[3], [0, 1]]
    assert [s.cs_id for s in sets] == [1, 2]
    assert sets[1].min_abs_r == pytest.approx(0.9)
    assert sets[0].log10bf == pytest.approx(20 / np.log(10))
    assert purity(R, np.array([0, 1, 2])) == pytest.approx(
        (0.1, 0.4, (0.81 + 0.01 + 0.04) / 3, 0.01)
    )
    inactive = credible_sets(alpha, R=R, active=np.array([True, True, False, True]))
    assert [sorted(s.variants.tolist()) for s in inactive] == [[0, 1]]
