"""The count test of cell-type specificity: calibrated under null simulations, exact
against scipy's binomial and beta-binomial, powered on planted specific regions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from varinterp.errors import InputError
from varinterp.regulatory.specificity import count_tests, share_dispersion, share_pvalues

LIBRARIES = np.array([2e6, 5e6, 1e6])


def _null_counts(rng, n_regions: int, log_sd: float = 0.0) -> np.ndarray:
    """Reads per region x cell type with no specificity: a region's rate per read is the
    same in every cell type (times log-normal noise of sd `log_sd`)."""
    level = rng.lognormal(np.log(30e-6), 1.2, n_regions)
    noise = np.exp(rng.normal(0.0, log_sd, (n_regions, LIBRARIES.size)))
    return rng.poisson(level[:, None] * LIBRARIES[None, :] * noise)


def test_pvalues_are_uniform_under_the_poisson_null():
    rng = np.random.default_rng(11)
    table = count_tests(_null_counts(rng, 3000), LIBRARIES, ["a", "b", "c"])
    for _, grp in table.groupby("cell_type"):
        p = grp.loc[grp["count"] + grp["count_rest"] > 0, "pvalue"]
        assert stats.kstest(p, "uniform").pvalue > 0.01
        assert grp["dispersion"].iloc[0] < 0.002
    assert not table["specific"].any()


def test_pvalues_are_uniform_under_a_beta_binomial_null():
    """Extra-Poisson variation of the share (rho = 0.05): estimated, and p-values stay
    uniform; the Poisson test on the same counts is far from it."""
    rng = np.random.default_rng(12)
    n_regions, rho, p0 = 3000, 0.05, 0.25
    totals = rng.integers(5, 3000, n_regions)
    scale = (1 - rho) / rho
    share = rng.beta(p0 * scale, (1 - p0) * scale, n_regions)
    y = rng.binomial(totals, share)
    counts = np.stack([y, totals - y], axis=1)
    table = count_tests(counts, np.array([1e6, 3e6]), ["a", "b"])
    a = table[table["cell_type"] == "a"]
    assert a["dispersion"].iloc[0] == pytest.approx(rho, rel=0.25)
    assert stats.kstest(a["pvalue"], "uniform").pvalue > 0.01
    poisson = count_tests(counts, np.array([1e6, 3e6]), ["a", "b"], dispersion=0.0)
    assert stats.kstest(poisson.query("cell_type == 'a'")["pvalue"], "uniform").pvalue < 1e-6


def test_log_normal_biological_noise_keeps_the_level():
    """Region x cell type log-normal noise (sd 0.3): the estimated dispersion keeps the
    share of p < 0.05 near 5% (the Poisson test would call far more)."""
    rng = np.random.default_rng(13)
    counts = _null_counts(rng, 4000, log_sd=0.3)
    est = count_tests(counts, LIBRARIES, ["a", "b", "c"])
    poisson = count_tests(counts, LIBRARIES, ["a", "b", "c"], dispersion=0.0)
    for ct in "abc":
        p = est.loc[est["cell_type"] == ct, "pvalue"]
        assert 0.02 < (p < 0.05).mean() < 0.08
        assert (poisson.loc[poisson["cell_type"] == ct, "pvalue"] < 0.05).mean() > 0.15


def test_share_pvalues_match_scipy_mid_p():
    y, n = np.array([0, 3, 10, 40]), np.array([0, 10, 20, 50])
    got = share_pvalues(y, n, 0.3, 0.0)
    want = [1.0] + [stats.binom.sf(k, m, 0.3) + 0.5 * stats.binom.pmf(k, m, 0.3) for k, m in
                    zip(y[1:], n[1:], strict=True)]  # fmt: skip
    assert np.allclose(got, want)
    rho = 0.1
    a, b = 0.3 * (1 - rho) / rho, 0.7 * (1 - rho) / rho
    got = share_pvalues(y[1:], n[1:], 0.3, rho)
    want = [stats.betabinom.sf(k, m, a, b) + 0.5 * stats.betabinom.pmf(k, m, a, b) for k, m in
            zip(y[1:], n[1:], strict=True)]  # fmt: skip
    assert np.allclose(got, want)


def test_dispersion_ignores_a_minority_of_specific_regions():
    rng = np.random.default_rng(3)
    totals = rng.integers(50, 2000, 2000)
    y = rng.binomial(totals, 0.3)
    y[:200] = totals[:200]  # 10% entirely in this cell type
    lfc = np.log2((y / 0.3 + 1) / ((totals - y) / 0.7 + 1))
    assert share_dispersion(y, totals, 0.3, exclude=np.abs(lfc) > 2) < 0.002
    assert share_dispersion(y[200:], totals[200:], 0.3) < 0.002


def test_planted_specific_regions_are_found_and_nulls_are_not():
    """3 cell types, 2,000 regions, 5% planted 10x higher in one cell type, negative-binomial
    counts (gamma biological noise, dispersion 0.1, as DESeq2 and edgeR model it): the
    planted regions are called with FDR control."""
    rng = np.random.default_rng(5)
    n_regions = 2000
    level = rng.lognormal(np.log(50e-6), 1.0, n_regions)
    fold = np.ones((n_regions, 3))
    planted = rng.choice(n_regions, 100, replace=False)
    owner = rng.integers(0, 3, planted.size)
    fold[planted, owner] = 10.0
    noise = rng.gamma(10.0, 0.1, fold.shape)
    mu = level[:, None] * LIBRARIES[None, :] * fold * noise
    table = count_tests(rng.poisson(mu), LIBRARIES, ["a", "b", "c"])
    truth = {(int(r), "abc"[o]) for r, o in zip(planted, owner, strict=True)}
    called = {
        (int(r), c)
        for r, c, s in zip(table["region"], table["cell_type"], table["specific"], strict=True)
        if s
    }
    power = len(called & truth) / len(truth)
    false = len(called - truth) / max(len(called), 1)
    assert power > 0.7
    assert false < 0.1


def test_bad_inputs():
    with pytest.raises(InputError, match="two cell types"):
        count_tests(np.ones((3, 2)), np.ones(2), ["a", "a"])
    with pytest.raises(InputError, match="non-negative"):
        count_tests(-np.ones((3, 2)), np.ones(2), ["a", "b"])
    with pytest.raises(InputError, match="positive library size"):
        count_tests(np.ones((3, 2)), np.array([1.0, 0.0]), ["a", "b"])
