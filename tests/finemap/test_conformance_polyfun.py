"""Conformance: PolyFun's SuSiE gold output on its chr1 example (no R needed).

PolyFun ran susieR on chr1:46,000,001-49,000,001 with n = 383,290, L = 5, LD from the PLINK
genotypes, SNPVAR as prior weights and the residual variance estimated. We must give the
same credible sets and, for variants with gold PIP >= 0.5, PIPs within 0.02 (PIPs of
null variants differ between SuSiE versions, see the fixtures README).
"""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.finemap import finemap_command
from varinterp.finemap.run import finemap

REGION = "1:46000001-49000001"


@pytest.fixture(scope="module")
def polyfun(shared_fixtures):
    d = shared_fixtures / "polyfun_chr1"
    if not d.is_dir():
        pytest.skip(f"{d} not found")
    gold = pd.read_csv(d / "gold_susie.1.46000001.49000001.gz", sep="\t")
    return d, gold


def _gold_sets(gold):
    g = gold[gold["CREDIBLE_SET"] > 0]
    return {frozenset(x["SNP"]) for _, x in g.groupby("CREDIBLE_SET")}


def _check(variants: pd.DataFrame, gold: pd.DataFrame):
    assert len(variants) == len(gold) == 15
    ours = variants.set_index("variant_id")
    got = {frozenset(x.index) for k, x in ours[ours["cs95"] > 0].groupby("cs95")}
    assert got == _gold_sets(gold)
    assert len(got) == 3
    strong = gold[gold["PIP"] >= 0.5]
    assert len(strong) == 3
    diff = ours.loc[strong["SNP"], "pip"].to_numpy() - strong["PIP"].to_numpy()
    assert abs(diff).max() <= 0.02
    # posterior means on the same (standardised) scale and allele as PolyFun's BETA_MEAN
    beta = ours.loc[strong["SNP"], "post_mean"].to_numpy()
    assert beta == pytest.approx(strong["BETA_MEAN"].to_numpy(), rel=0.05)
    # alleles and z as in the input summary statistics
    assert ours.loc[gold["SNP"], "z"].to_numpy() == pytest.approx(gold["Z"].to_numpy())
    assert ours.loc[gold["SNP"], "alt"].tolist() == gold["A1"].tolist()


def test_library_reproduces_polyfun_susie_gold(polyfun, tmp_path):
    d, gold = polyfun
    res = finemap(
        sumstats=d / "chr1.finemap_sumstats.txt.gz",
        plink=d / "chr1",
        region=REGION,
        L=5,
        prior_weight_column="SNPVAR",
        estimate_residual_variance=True,
        out=tmp_path / "fm",
    )
    _check(res.variants, gold)
    assert res.info["n_flipped"] == 10  # sumstats A1 is the .bim's 6th column there
    cs = res.credible_sets
    assert set(cs.loc[cs["coverage"] == 0.95, "lead_variant"]) == {
        "rs2088102",
        "rs7528714",
        "rs7528075",
    }


def test_cli_reproduces_polyfun_susie_gold(polyfun, tmp_path):
    d, gold = polyfun
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.command("finemap")(finemap_command)
    root.command("noop")(lambda: None)
    out = tmp_path / "fm"
    r = CliRunner().invoke(
        root,
        [
            "finemap",
            "--sumstats",
            str(d / "chr1.finemap_sumstats.txt.gz"),
            "--plink",
            str(d / "chr1"),
            "--region",
            REGION,
            "-L",
            "5",
            "--prior-weights",
            "SNPVAR",
            "--estimate-residual-variance",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "3 credible set(s) at 95%" in " ".join(r.output.split())
    _check(pd.read_csv(out / "variants.tsv", sep="\t"), gold)
