"""susieR (R package, Debian r-cran-susier) as an oracle; skipped when it is absent."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from varinterp.finemap.credsets import credible_sets
from varinterp.finemap.simulate import simulate_locus
from varinterp.finemap.susie import susie_rss


def _has_susier() -> bool:
    if shutil.which("Rscript") is None:
        return False
    r = subprocess.run(["Rscript", "-e", "library(susieR)"], capture_output=True, check=False)
    return r.returncode == 0


pytestmark = pytest.mark.skipif(not _has_susier(), reason="Rscript with susieR not installed")

_SCRIPT = """
suppressMessages(library(susieR))
a <- commandArgs(TRUE); p <- as.integer(a[3])
z <- readBin(a[1], "double", p); R <- matrix(readBin(a[2], "double", p * p), p, p)
n <- as.numeric(a[4]); L <- as.integer(a[5])
s <- if (is.na(n)) susie_rss(z, R, L = L) else susie_rss(z, R, n = n, L = L)
cat(s$pip, "\\n"); cat(s$V, "\\n")
for (cs in s$sets$cs) cat(cs - 1, "\\n")
cat("99\\n")
for (cs in susie_get_cs(s, coverage = 0.99, Xcorr = R)$cs) cat(cs - 1, "\\n")
"""


@pytest.mark.parametrize(
    ("seed", "rho", "with_n"), [(4, 0.9, False), (24, 0.98, True), (27, 0.98, False)]
)
def test_matches_susier_susie_rss(tmp_path, seed, rho, with_n):
    loc = simulate_locus(
        n_samples=600, n_variants=150, n_causal=3, pve=0.15, rho=rho, mean_block=40, seed=seed
    )
    p = loc.z.shape[0]
    (tmp_path / "z.bin").write_bytes(loc.z.astype("<f8").tobytes())
    (tmp_path / "R.bin").write_bytes(loc.R.astype("<f8").tobytes(order="F"))
    (tmp_path / "s.R").write_text(_SCRIPT)
    n = loc.n if with_n else None
    res = subprocess.run(
        [
            "Rscript",
            str(tmp_path / "s.R"),
            str(tmp_path / "z.bin"),
            str(tmp_path / "R.bin"),
            str(p),
            "NA" if n is None else str(n),
            "10",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = res.stdout.strip().splitlines()
    pip_r = np.array(lines[0].split(), dtype=float)
    v_r = np.array(lines[1].split(), dtype=float)
    cut = lines.index("99")
    sets_r = {frozenset(int(x) for x in ln.split()) for ln in lines[2:cut]}
    sets_r99 = {frozenset(int(x) for x in ln.split()) for ln in lines[cut + 1 :]}
    fit = susie_rss(z=loc.z, R=loc.R, n=n, L=10)
    ours = credible_sets(fit.alpha, R=loc.R, lbf=fit.lbf, active=fit.active)
    np.testing.assert_allclose(fit.pip, pip_r, atol=1e-5)
    np.testing.assert_allclose(fit.prior_variance, v_r, rtol=1e-3, atol=1e-6)
    assert {frozenset(c.variants.tolist()) for c in ours} == sets_r
    ours99 = credible_sets(fit.alpha, coverage=0.99, R=loc.R, lbf=fit.lbf, active=fit.active)
    assert {frozenset(c.variants.tolist()) for c in ours99} == sets_r99
    if rho > 0.95:
        assert max(len(s) for s in sets_r) > 1  # multi-variant sets are compared too
