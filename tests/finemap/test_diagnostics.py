"""LD diagnostics: planted allele flips and mismatched panels, against live susieR's
``estimate_s_rss`` and ``kriging_rss`` where R is installed."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from varinterp.finemap.diagnostics import estimate_s, expected_z, ld_diagnostics
from varinterp.finemap.simulate import simulate_genotypes, simulate_locus


def _locus(seed: int = 3):
    return simulate_locus(
        n_samples=1500, n_variants=120, n_causal=2, pve=0.08, rho=0.9, mean_block=30, seed=seed
    )


def _panel_r(seed: int, n_variants: int = 120, n_samples: int = 500) -> np.ndarray:
    g = simulate_genotypes(
        n_samples=n_samples, n_variants=n_variants, rho=0.9, mean_block=30, seed=seed
    )
    r = np.nan_to_num(np.corrcoef(g, rowvar=False))
    np.fill_diagonal(r, 1.0)
    return r


def test_in_sample_ld_gives_small_s_and_no_outliers():
    loc = _locus()
    diag = ld_diagnostics(loc.z, loc.R, loc.n)
    assert diag.s < 0.02
    assert diag.n_outliers == 0


def test_planted_allele_flip_is_flagged():
    loc = _locus()
    z = loc.z.copy()
    # the strongest associated variant that has a strongly correlated neighbour
    order = np.argsort(-np.abs(z))
    j = next(int(i) for i in order if np.sort(np.abs(loc.R[i]))[-2] > 0.6)
    z[j] = -z[j]
    diag = ld_diagnostics(z, loc.R, loc.n)
    assert bool(diag.table["outlier"].iloc[j])
    assert diag.table["logLR"].iloc[j] > 2
    assert diag.n_outliers <= 3
    assert diag.s > ld_diagnostics(loc.z, loc.R, loc.n).s


def test_mismatched_panel_raises_s():
    """LD of another population (other genotype draws) does not explain the z-scores."""
    loc = _locus()
    matched = estimate_s(loc.z, loc.R, loc.n)
    other = estimate_s(loc.z, _panel_r(seed=99), loc.n)
    assert other > 0.1 > matched


def test_estimate_s_maximises_the_likelihood():
    """Against a direct grid of the multivariate-normal log-likelihood (scipy)."""
    from scipy.stats import multivariate_normal

    loc = _locus()
    r = _panel_r(seed=99)
    s_hat = estimate_s(loc.z, r, None)
    grid = np.linspace(0.02, 0.98, 33)
    ll = [multivariate_normal(cov=(1 - s) * r + s * np.eye(len(r))).logpdf(loc.z) for s in grid]
    assert abs(grid[int(np.argmax(ll))] - s_hat) <= 0.031


def test_conditional_mean_matches_the_gaussian_formula():
    """condmean_i = Sigma_{i,-i} Sigma_{-i,-i}^-1 z_{-i} for a full-rank Sigma."""
    loc = _locus()
    s = 0.1
    sigma = (1 - s) * loc.R + s * np.eye(len(loc.R))
    diag = expected_z(loc.z, loc.R, None, s=s)
    for i in (0, 17, 60):
        rest = np.delete(np.arange(len(loc.z)), i)
        want = sigma[i, rest] @ np.linalg.solve(sigma[np.ix_(rest, rest)], loc.z[rest])
        var = sigma[i, i] - sigma[i, rest] @ np.linalg.solve(
            sigma[np.ix_(rest, rest)], sigma[rest, i]
        )
        assert diag.table["condmean"].iloc[i] == pytest.approx(want, rel=1e-6, abs=1e-9)
        assert diag.table["condvar"].iloc[i] == pytest.approx(var, rel=1e-6)


def _has_susier() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(["Rscript", "-e", "library(susieR)"], capture_output=True, check=False)
    return r.returncode == 0


_SCRIPT = """
suppressMessages(library(susieR))
a <- commandArgs(TRUE); p <- as.integer(a[3]); n <- as.numeric(a[4])
z <- readBin(a[1], "double", p); R <- matrix(readBin(a[2], "double", p * p), p, p)
s <- estimate_s_rss(z, R, n = n)
k <- kriging_rss(z, R, n = n, s = s)$conditional_dist
cat(s, "\\n"); cat(k$condmean, "\\n"); cat(k$z_std_diff, "\\n"); cat(k$logLR, "\\n")
"""


@pytest.mark.skipif(not _has_susier(), reason="Rscript with susieR not installed")
@pytest.mark.parametrize(("flip", "panel_seed"), [(True, None), (True, 99)])
def test_matches_live_susier(tmp_path, flip, panel_seed):
    """Side by side with susieR 0.12's estimate_s_rss and kriging_rss on one locus."""
    loc = _locus()
    z = loc.z.copy()
    if flip:
        j = int(np.argmax(np.abs(z)))
        z[j] = -z[j]
    r = loc.R if panel_seed is None else _panel_r(seed=panel_seed)
    p = len(z)
    (tmp_path / "z.bin").write_bytes(z.astype("<f8").tobytes())
    (tmp_path / "R.bin").write_bytes(r.astype("<f8").tobytes(order="F"))
    (tmp_path / "s.R").write_text(_SCRIPT)
    out = subprocess.run(
        ["Rscript", str(tmp_path / "s.R"), str(tmp_path / "z.bin"), str(tmp_path / "R.bin"),
         str(p), str(loc.n)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = out.stdout.strip().splitlines()
    s_r = float(lines[0])
    condmean_r, std_r, loglr_r = (np.array(x.split(), dtype=float) for x in lines[1:4])
    ours = ld_diagnostics(z, r, loc.n)
    assert ours.s == pytest.approx(s_r, abs=1e-5)
    np.testing.assert_allclose(ours.table["condmean"], condmean_r, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.table["z_std_diff"], std_r, rtol=1e-4, atol=1e-4)
    # mixture weights: mixsqp there, EM here (the same concave optimum, to their
    # tolerances); the weights' last digits move only far-out log-likelihood ratios
    np.testing.assert_allclose(ours.table["logLR"], loglr_r, rtol=0.05, atol=0.05)
    flagged_r = (loglr_r > 2) & (np.abs(z * np.sqrt((loc.n - 1) / (z**2 + loc.n - 2))) > 2)
    assert ours.table["outlier"].tolist() == flagged_r.tolist()
