"""`varinterp finemap` through typer's CliRunner on simulated loci, incl. bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.finemap import finemap_command


@pytest.fixture
def run():
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.command("finemap")(finemap_command)
    root.command("noop")(lambda: None)

    def invoke(*args):
        return CliRunner().invoke(root, ["finemap", *map(str, args)])

    return invoke


def _one_line_error(r, text):
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("varinterp: error:"), r.output
    assert text in lines[0]


def test_susie_with_plink_writes_tables(run, small_locus, tmp_path):
    loc, prefix, ss, table = small_locus
    out = tmp_path / "fm"
    r = run("--sumstats", ss, "--plink", prefix, "-L", 5, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    v = pd.read_csv(out / "variants.tsv", sep="\t")
    assert list(v.columns[:9]) == [
        "chrom",
        "pos",
        "ref",
        "alt",
        "variant_id",
        "z",
        "p",
        "prior_weight",
        "pip",
    ]
    assert len(v) == len(table)
    cs = pd.read_csv(out / "credible_sets.tsv", sep="\t")
    c95 = cs[cs["coverage"] == 0.95]
    assert len(c95) >= 1 and (c95["purity_min_abs_r"] >= 0.5).all()
    causal = set(table["SNP"].iloc[loc.causal])
    assert causal & set(",".join(c95["variants"]).split(","))
    info = json.loads((out / "run.json").read_text())
    assert info["converged"] and info["n_finemapped"] == len(table)
    assert (out / "dropped.tsv").read_text().startswith("chrom\tpos")


def test_flipped_sumstats_give_same_pips_and_report_input_alleles(run, small_locus, tmp_path):
    _loc, prefix, ss, table = small_locus
    run("--sumstats", ss, "--plink", prefix, "--out", tmp_path / "a", "-q")
    flipped = table.copy()
    swap = np.arange(len(table)) % 2 == 0
    flipped.loc[swap, ["A1", "A2"]] = table.loc[swap, ["A2", "A1"]].to_numpy()
    flipped.loc[swap, "Z"] *= -1
    f = tmp_path / "flipped.tsv"
    flipped.to_csv(f, sep="\t", index=False)
    r = run("--sumstats", f, "--plink", prefix, "--out", tmp_path / "b", "-q")
    assert r.exit_code == 0, r.output
    a = pd.read_csv(tmp_path / "a" / "variants.tsv", sep="\t")
    b = pd.read_csv(tmp_path / "b" / "variants.tsv", sep="\t")
    np.testing.assert_allclose(a["pip"], b["pip"], atol=1e-9)
    np.testing.assert_allclose(a["post_mean"], np.where(swap, -1, 1) * b["post_mean"], atol=1e-9)
    assert b["ld_flipped"].tolist() == swap.tolist()
    assert b["alt"].tolist() == flipped["A1"].tolist()


def test_absent_variants_dropped_or_refused(run, small_locus, tmp_path):
    _loc, prefix, _ss, table = small_locus
    extra = pd.concat([table, table.iloc[[0]].assign(BP=5, SNP="rsX")])
    f = tmp_path / "extra.tsv"
    extra.to_csv(f, sep="\t", index=False)
    r = run("--sumstats", f, "--plink", prefix, "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    d = pd.read_csv(tmp_path / "o" / "dropped.tsv", sep="\t")
    assert d["variant_id"].tolist() == ["rsX"] and d["reason"].tolist() == ["absent_from_ld_panel"]
    r = run("--sumstats", f, "--plink", prefix, "--out", tmp_path / "o2", "--unmatched", "error")
    _one_line_error(r, "could not be matched to the LD panel, first rsX")


def test_ambiguous_swap_refused(run, small_locus, tmp_path):
    loc, _prefix, _ss, table = small_locus
    from bed_reader import to_bed

    to_bed(
        tmp_path / "amb.bed",
        loc.X[:, :3].astype(np.float32),
        properties={
            "chromosome": ["1"] * 3,
            "bp_position": table["BP"][:3],
            "allele_1": ["A", "C", "G"],
            "allele_2": ["T", "G", "A"],
        },
    )
    t = table.iloc[:3].assign(A1=["T", "C", "G"], A2=["A", "G", "A"])
    f = tmp_path / "amb.tsv"
    t.to_csv(f, sep="\t", index=False)
    r = run("--sumstats", f, "--plink", tmp_path / "amb", "--out", tmp_path / "o")
    _one_line_error(r, "strand-ambiguous")
    r = run(
        "--sumstats",
        f,
        "--plink",
        tmp_path / "amb",
        "--out",
        tmp_path / "o",
        "--ambiguous",
        "drop",
        "-L",
        2,
    )
    assert r.exit_code == 0, r.output


def test_ld_matrix_not_psd_refused_or_regularised(run, tmp_path):
    vt = tmp_path / "v.tsv"
    vt.write_text("chrom pos ref alt\n1 10 A G\n1 20 C T\n1 30 A C\n")
    ss = tmp_path / "s.tsv"
    ss.write_text("chrom pos ref alt z n\n1 10 A G 6 5000\n1 20 C T 5 5000\n1 30 A C -5 5000\n")
    bad = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]])
    np.save(tmp_path / "r.npy", bad)
    args = ["--sumstats", ss, "--ld-matrix", tmp_path / "r.npy", "--ld-variants", vt, "-L", 2]
    r = run(*args, "--out", tmp_path / "o")
    _one_line_error(r, "not positive semi-definite")
    r = run(*args, "--out", tmp_path / "o", "--ld-fix", "regularise")
    assert r.exit_code == 0, r.output
    assert "shrunk toward identity" in " ".join(r.output.split())
    info = json.loads((tmp_path / "o" / "run.json").read_text())
    assert info["ld_shrinkage"] > 0


def test_abf_from_beta_se_without_ld(run, tmp_path):
    ss = tmp_path / "s.tsv"
    ss.write_text(
        "CHR BP A2 A1 BETA SE\n1 10 A G 0.5 0.05\n1 20 C T 0.1 0.05\n1 30 A C 0.49 0.05\n"
    )
    out = tmp_path / "o"
    r = run("--sumstats", ss, "--method", "abf", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    v = pd.read_csv(out / "variants.tsv", sep="\t")
    assert v["pip"].sum() == pytest.approx(1.0, abs=1e-5)
    assert v["pip"].iloc[0] > v["pip"].iloc[2] > v["pip"].iloc[1]
    cs = pd.read_csv(out / "credible_sets.tsv", sep="\t")
    assert cs.loc[cs["coverage"] == 0.95, "cs_size"].tolist() == [2]
    r = run("--sumstats", ss, "--method", "abf", "--out", out, "-q")
    _one_line_error(r, "already exists")
    r = run("--sumstats", ss, "--method", "abf", "--out", out, "-q", "--overwrite")
    assert r.exit_code == 0


@pytest.mark.parametrize("args", [["--method", "finemap"], ["--ld-fix", "maybe"]])
def test_bad_choices_are_usage_errors(run, tmp_path, args):
    ss = tmp_path / "s.tsv"
    ss.write_text("CHR BP A2 A1 Z\n1 10 A G 3\n")
    r = run("--sumstats", ss, "--out", tmp_path / "o", *args)
    assert r.exit_code == 2
    assert "Invalid value" in r.output and args[1] in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--columns", "alt"], "is not ROLE=NAME"),
        (["--columns", "z=NOPE"], "'NOPE' given for z"),
        ([], "SuSiE needs LD"),
    ],
)
def test_bad_options(run, tmp_path, args, message):
    ss = tmp_path / "s.tsv"
    ss.write_text("CHR BP A2 A1 Z\n1 10 A G 3\n")
    r = run("--sumstats", ss, "--out", tmp_path / "o", *args)
    _one_line_error(r, message)


def test_missing_inputs(run, tmp_path):
    r = run("--sumstats", tmp_path / "nope.tsv", "--out", tmp_path / "o")
    _one_line_error(r, "does not exist")
    ss = tmp_path / "s.tsv"
    ss.write_text("CHR BP A1 Z\n1 10 G 3\n")
    r = run("--sumstats", ss, "--out", tmp_path / "o", "--method", "abf")
    _one_line_error(r, "lack column(s) ref")
    ss.write_text("CHR BP A2 A1 Z\n1 10 A G 3\n")
    r = run("--sumstats", ss, "--out", tmp_path / "o", "--method", "abf")
    _one_line_error(r, "ABF needs beta and se")
    r = run("--sumstats", ss, "--out", tmp_path / "o", "--plink", tmp_path / "none")
    _one_line_error(r, "PLINK file")


def test_monomorphic_panel_variant_dropped_and_no_n_uses_z_scale(run, small_locus, tmp_path):
    loc, _prefix, _ss, table = small_locus
    from bed_reader import to_bed

    g = loc.X.astype(np.float32).copy()
    g[:, 3] = 0
    to_bed(
        tmp_path / "mono.bed",
        g,
        properties={
            "chromosome": ["1"] * len(table),
            "bp_position": table["BP"],
            "allele_1": table["A1"],
            "allele_2": table["A2"],
        },
    )
    f = tmp_path / "non.tsv"
    table.drop(columns="N").to_csv(f, sep="\t", index=False)
    out = tmp_path / "o"
    r = run("--sumstats", f, "--plink", tmp_path / "mono", "--out", out, "-q", "-L", 3)
    assert r.exit_code == 0, r.output
    d = pd.read_csv(out / "dropped.tsv", sep="\t")
    assert d["reason"].tolist() == ["monomorphic_in_ld_panel"]
    info = json.loads((out / "run.json").read_text())
    assert info["n"] is None and info["effect_scale"] == "z scale"
    assert info["n_finemapped"] == len(table) - 1


def test_abf_with_ld_reports_purity_and_nothing_matched_is_an_error(run, small_locus, tmp_path):
    _loc, prefix, ss, table = small_locus
    out = tmp_path / "o"
    r = run("--sumstats", ss, "--plink", prefix, "--method", "abf", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    cs = pd.read_csv(out / "credible_sets.tsv", sep="\t")
    assert len(cs) == 2 and cs["purity_min_abs_r"].notna().all()
    v = pd.read_csv(out / "variants.tsv", sep="\t")
    assert v["pip"].sum() == pytest.approx(1.0, abs=1e-4)
    elsewhere = tmp_path / "elsewhere.tsv"
    table.assign(CHR="2").to_csv(elsewhere, sep="\t", index=False)
    r = run("--sumstats", elsewhere, "--plink", prefix, "--out", tmp_path / "o2")
    _one_line_error(r, "none of the")
