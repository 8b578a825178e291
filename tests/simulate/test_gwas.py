"""Simulated GWAS locus (part 5): resampling, regressions, causal choice, files, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import typer
from scipy.stats import norm
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.simulate_gwas import gwas
from varinterp.errors import InputError
from varinterp.simulate import make_world, write_world
from varinterp.simulate.gwas import (
    SUMSTATS_COLUMNS,
    _regressions,
    mosaic_haplotypes,
    simulate_gwas,
    write_gwas,
)


@pytest.fixture(scope="module")
def world():
    return make_world(seed=0)  # not the package's seed-7 world: seed 0 is the demo's


def test_mosaic_without_switches_copies_whole_sources() -> None:
    rng = np.random.default_rng(1)
    src = rng.integers(0, 2, (50, 30)).astype(np.int8)
    pos = np.arange(50) * 100
    out = mosaic_haplotypes(src, pos, n_haplotypes=200, switch_length=1e15, rng=rng)
    assert out.shape == (50, 200) and out.dtype == np.int8
    cols = {tuple(c) for c in src.T}
    assert all(tuple(c) in cols for c in out.T)


def test_mosaic_keeps_frequencies_and_short_range_ld() -> None:
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2, 200)
    src = np.vstack([base, base, rng.integers(0, 2, 200)]).astype(np.int8)  # rows 0, 1 in LD
    pos = np.array([0, 10, 5_000_000])
    out = mosaic_haplotypes(src, pos, n_haplotypes=20_000, switch_length=50_000, rng=rng)
    assert abs(out[0].mean() - src[0].mean()) < 0.02
    r01 = np.corrcoef(out[0], out[1])[0, 1]
    r02 = np.corrcoef(out[0], out[2])[0, 1]
    assert r01 > 0.99  # 10 bp apart: almost never a switch
    assert abs(r02) < 0.05  # 5 Mb apart: independent sources


def test_regressions_match_statsmodels() -> None:
    rng = np.random.default_rng(3)
    G = rng.integers(0, 3, (4, 300)).astype(np.float64)
    y = 0.3 * G[1] + rng.standard_normal(300)
    beta, se, z, p = _regressions(G, y)
    for j in range(4):
        fit = sm.OLS(y, sm.add_constant(G[j])).fit()
        assert beta[j] == pytest.approx(fit.params[1], rel=1e-10)
        assert se[j] == pytest.approx(fit.bse[1], rel=1e-10)
        assert z[j] == pytest.approx(fit.tvalues[1], rel=1e-10)
        assert p[j] == pytest.approx(2 * norm.sf(abs(fit.tvalues[1])), rel=1e-8)


def test_simulated_locus(world) -> None:
    loc = simulate_gwas(world=world, seed=0, n_individuals=4000, h2=0.02)
    t = loc.truth
    ss = loc.sumstats
    assert list(ss.columns) == SUMSTATS_COLUMNS
    assert (ss["pos"].diff().dropna() > 0).all()
    assert ((ss["pos"] - 1 >= loc.start) & (ss["pos"] - 1 < loc.end)).all()
    # the causal SNP lies in a myeloid (Kupffer-like) enhancer of the world
    el = world.element(t["element"]["element_id"])
    assert el.kind == "enhancer" and el.program == "myeloid"
    assert el.start <= t["causal"]["pos"] - 1 < el.end
    row = ss.iloc[t["causal"]["row"]]
    assert row["variant_id"] == t["causal"]["variant_id"]
    assert abs(row["z"]) > 5  # expected about sqrt(n h2) = 8.9
    assert t["target_gene"]["gene"].startswith("prom")
    # LD: symmetric, unit diagonal, PSD, and matching the z pattern around the causal SNP
    R = loc.R
    assert R.shape == (len(ss), len(ss))
    assert np.allclose(R, R.T) and np.allclose(np.diag(R), 1.0)
    assert np.linalg.eigvalsh(R).min() > -1e-8
    c = t["causal"]["row"]
    expected = R[c] * row["z"]  # E[z_j] = r_jc z_c under one causal SNP
    resid = ss["z"].to_numpy() - expected
    assert 0.6 < np.mean(resid**2) < 1.6  # what is left is noise with unit variance
    assert np.mean(ss["z"].to_numpy() ** 2) > 1.3 * np.mean(resid**2)
    # seeded
    again = simulate_gwas(world=world, seed=0, n_individuals=4000, h2=0.02)
    pd.testing.assert_frame_equal(again.sumstats, ss)
    other = simulate_gwas(world=world, seed=1, n_individuals=4000, h2=0.02)
    assert not np.array_equal(other.sumstats["z"].to_numpy()[:50], ss["z"].to_numpy()[:50])


def test_case_control(world) -> None:
    loc = simulate_gwas(world=world, n_individuals=3000, trait="case-control", prevalence=0.2,
                        h2=0.03)  # fmt: skip
    assert loc.truth["n_cases"] == pytest.approx(600, abs=80)
    assert abs(loc.sumstats["z"].iloc[loc.truth["causal"]["row"]]) > 3


def test_bad_parameters(world) -> None:
    for kw, msg in (({"trait": "binary"}, "trait"), ({"h2": 1.5}, "h2"),
                    ({"program": "neuron"}, "no enhancers of program"),
                    ({"causal_variant": "chr9:1:A:C"}, "not in the world"),
                    ({"n_individuals": 10}, "at least 100")):  # fmt: skip
        with pytest.raises(InputError, match=msg):
            simulate_gwas(world=world, **kw)


def test_files_and_finemap(world, tmp_path) -> None:
    from varinterp.finemap.run import finemap

    loc = simulate_gwas(world=world, seed=0, n_individuals=4000, h2=0.02)
    out = write_gwas(loc, tmp_path / "g")
    with pytest.raises(InputError, match="already exists"):
        write_gwas(loc, tmp_path / "g")
    truth = json.loads((out / "truth.json").read_text())
    assert truth["causal"]["variant_id"] == loc.truth["causal"]["variant_id"]
    assert np.array_equal(np.load(out / "ld.npy"), loc.R)
    fm = finemap(sumstats=out / "sumstats.tsv", ld_matrix=out / "ld.npy",
                 ld_variants=out / "ld_variants.tsv", out=tmp_path / "fm", L=5)  # fmt: skip
    v = fm.variants.set_index("variant_id")
    causal = truth["causal"]["variant_id"]
    assert v.loc[causal, "cs95"] > 0 and v.loc[causal, "pip"] > 0.5
    assert fm.info["n"] == 4000


def _root() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    sim = typer.Typer()
    sim.command("gwas")(gwas)
    sim.command("noop")(lambda: None)
    root.add_typer(sim, name="simulate")
    return root


def test_cli(world, tmp_path) -> None:
    write_world(world, tmp_path / "w")
    out = tmp_path / "g"
    args = ["simulate", "gwas", "--world", str(tmp_path / "w"), "--out", str(out), "-n", "500"]
    res = CliRunner().invoke(_root(), args)
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {"sumstats.tsv", "ld.npy", "ld_variants.tsv",
                                               "truth.json"}  # fmt: skip
    assert "causal" in res.output
    again = CliRunner().invoke(_root(), args)
    assert again.exit_code == 2 and "already exists" in again.output
    bad = CliRunner().invoke(_root(), [*args[:5], str(tmp_path / "h"), "--trait", "x"])
    assert bad.exit_code == 2 and "trait" in bad.output
    bad = CliRunner().invoke(_root(), ["simulate", "gwas", "--world", str(tmp_path), "--out",
                                       str(tmp_path / "k")])  # fmt: skip
    assert bad.exit_code == 2 and "world.json" in bad.output
