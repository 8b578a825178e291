"""GWAS enrichment: counts against a naive loop, Fisher against scipy, CI against Woolf."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from typer.testing import CliRunner

from varinterp.errors import InputError
from varinterp.regulatory.enrichment import enrichment_tests, read_variants


@pytest.fixture
def world(tmp_path):
    rng = np.random.default_rng(3)
    peaks = pd.DataFrame(
        {
            "chrom": "chr1",
            "start": np.arange(0, 100_000, 1000),
            "end": np.arange(0, 100_000, 1000) + 500,
        }
    )
    spec = {
        "hep": peaks.iloc[0:20].reset_index(drop=True),
        "mac": peaks.iloc[20:35].reset_index(drop=True),
    }
    rows = []
    for _ in range(600):
        pos0 = int(rng.integers(0, 100_000))
        # trait QT sits mostly in hep-specific peaks
        in_hep = pos0 < 20_000 and pos0 % 1000 < 500
        trait = "QT" if (in_hep and rng.random() < 0.7) or rng.random() < 0.1 else "other"
        rows.append(("chr1", pos0 + 1, trait))
    variants = pd.DataFrame(rows, columns=["chrom", "pos", "trait"])
    variants.to_csv(tmp_path / "gwas.tsv", sep="\t", index=False)
    peaks.to_csv(tmp_path / "peaks.bed", sep="\t", header=False, index=False)
    listing = []
    for ct, regs in spec.items():
        regs.to_csv(tmp_path / f"{ct}.bed", sep="\t", header=False, index=False)
        listing.append((ct, f"{ct}.bed"))
    pd.DataFrame(listing, columns=["cell_type", "bed"]).to_csv(
        tmp_path / "spec.tsv", sep="\t", index=False
    )
    return {"dir": tmp_path, "variants": variants, "peaks": peaks, "spec": spec}


def _naive(variants, peaks, spec, ct, trait):
    def inside(pos0, regs):
        return any(s <= pos0 < e for s, e in zip(regs["start"], regs["end"], strict=True))

    sites = {}
    for _, v in variants.iterrows():
        sites.setdefault(v["pos"] - 1, set()).add(v["trait"])
    a = b = c = d = 0
    for pos0, traits in sites.items():
        if not inside(pos0, peaks):
            continue
        in_ct = inside(pos0, spec[ct])
        in_any = any(inside(pos0, r) for r in spec.values())
        has = trait in traits
        if in_ct:
            a, b = a + has, b + (not has)
        elif not in_any:
            c, d = c + has, d + (not has)
    return a, b, c, d


def test_counts_pvalues_and_ci(world):
    variants = read_variants(world["dir"] / "gwas.tsv")
    res = enrichment_tests(variants, world["peaks"], world["spec"])
    assert len(res) == 4
    for _, row in res.iterrows():
        table = _naive(
            world["variants"], world["peaks"], world["spec"], row["cell_type"], row["trait"]
        )
        assert (row["a"], row["b"], row["c"], row["d"]) == table
        odds, p = fisher_exact(np.array(table).reshape(2, 2))
        assert row["pvalue"] == pytest.approx(p)
        assert row["odds_ratio"] == pytest.approx(odds)
        a, b, c, d = (x + 0.5 for x in table) if 0 in table else table
        se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        woolf = np.exp(np.log(a * d / (b * c)) + np.array([-1, 1]) * 1.959963984540054 * se)
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(woolf)
    # BH by hand over the four tests
    p = res["pvalue"].to_numpy()
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    expect = np.empty_like(q)
    expect[order] = np.minimum(q, 1)
    assert np.allclose(res["qvalue"], expect)
    qt_hep = res.query("trait == 'QT' and cell_type == 'hep'").iloc[0]
    assert qt_hep["odds_ratio"] > 3 and qt_hep["significant"]


def test_rest_background_and_untested(world):
    variants = read_variants(world["dir"] / "gwas.tsv")
    only = {"hep": world["spec"]["hep"], "none": world["spec"]["hep"].iloc[:0]}
    res = enrichment_tests(variants, world["peaks"], only, background="rest")
    none = res[res["cell_type"] == "none"]
    assert not none["tested"].any() and none["qvalue"].isna().all()
    assert not none["significant"].any()


def test_cli_enrich_with_heatmap_and_bad_inputs(world, cli):
    d = world["dir"]
    runner = CliRunner()
    base = [
        "elements",
        "enrich",
        "--variants",
        str(d / "gwas.tsv"),
        "--peaks",
        str(d / "peaks.bed"),
    ]
    ok = runner.invoke(
        cli,
        [
            *base,
            "--elements",
            str(d / "spec.tsv"),
            "--out",
            str(d / "enr.tsv"),
            "--heatmap",
            str(d / "enr.png"),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert (d / "enr.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(d / "enr.tsv", sep="\t")) == 4

    world["variants"].drop(columns="trait").to_csv(d / "notrait.tsv", sep="\t", index=False)
    bad = runner.invoke(
        cli,
        [
            "elements",
            "enrich",
            "--variants",
            str(d / "notrait.tsv"),
            "--peaks",
            str(d / "peaks.bed"),
            "--elements",
            str(d / "spec.tsv"),
            "--out",
            str(d / "x.tsv"),
        ],
    )
    assert bad.exit_code == 2 and "lacks column(s) trait" in bad.output
    assert not (d / "x.tsv").exists()

    world["variants"].assign(pos=0).to_csv(d / "zero.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="not valid"):
        read_variants(d / "zero.tsv")
