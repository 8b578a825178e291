"""The command line from a simulated world to a LoRA-adapted model, scores and effects."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from varinterp.cli.main import app

TINY = [
    "--n-regions",
    "16",
    "--d-model",
    "16",
    "--n-layers",
    "1",
    "--n-heads",
    "2",
    "--device",
    "cpu",
    "--quiet",
]


def _ok(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def _bad(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 2, res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
    return res.output


@pytest.fixture(scope="module")
def cli_world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("get_cli")
    w = tmp / "world"
    _ok(
        "simulate",
        "expression",
        "--out",
        w,
        "--seed",
        "4",
        "--n-chromosomes",
        "3",
        "--chrom-length",
        "300000",
        "--mean-spacing",
        "3000",
        "--n-snps",
        "6",
        "--quiet",
    )
    meta = json.loads((w / "world.json").read_text())
    assert meta["held_out_cell_type"] == "heldout" and (w / "snps.vcf.gz.tbi").is_file()
    _ok(
        "motifs",
        "scan",
        "--peaks",
        w / "peaks.bed",
        "--fasta",
        w / "genome.fa",
        "--motifs",
        w / "motifs.meme",
        "--clusters",
        w / "clusters.tsv",
        "--counts",
        w / "counts.tsv",
        "--out",
        w / "features.h5",
        "--quiet",
    )
    return tmp, w


def test_train_lora_merge_enhancers_and_score(cli_world):
    tmp, w = cli_world
    inputs = [
        "--features",
        w / "features.h5",
        "--expression",
        w / "expression.tsv",
        "--tss",
        w / "genes.bed",
    ]
    _ok(
        "get",
        "train",
        *inputs,
        "--out",
        tmp / "base",
        "--held-out-chroms",
        "chr3",
        "--held-out-cell-types",
        "heldout",
        "--epochs",
        "2",
        *TINY,
    )
    assert "pearson_heldout" in (tmp / "base" / "README.md").read_text()
    _ok(
        "get",
        "lora",
        "--base",
        tmp / "base",
        *inputs,
        "--cell-types",
        "heldout",
        "--out",
        tmp / "adapter",
        "--epochs",
        "1",
        "--rank",
        "2",
        "--device",
        "cpu",
        "--quiet",
    )
    _ok(
        "get",
        "merge",
        "--base",
        tmp / "base",
        "--adapter",
        tmp / "adapter",
        "--out",
        tmp / "merged",
        "--quiet",
    )
    _ok(
        "get",
        "enhancers",
        "-m",
        tmp / "merged",
        "--cell-type",
        "heldout",
        "--genes",
        "g1,g2",
        "--out",
        tmp / "enh.tsv",
        "--quiet",
    )
    enh = pd.read_csv(tmp / "enh.tsv", sep="\t")
    assert set(enh["gene"]) == {"g1", "g2"} and (enh.groupby("gene")["rank"].min() == 1).all()
    _ok(
        "score",
        "--vcf",
        w / "snps.vcf.gz",
        "--model",
        tmp / "merged",
        "--fasta",
        w / "genome.fa",
        "--out",
        tmp / "eff.tsv",
        "--vcf-out",
        tmp / "eff.vcf.gz",
        "--device",
        "cpu",
        "--quiet",
    )
    eff = pd.read_csv(tmp / "eff.tsv", sep="\t")
    assert {"gene", "peak", "expression_delta"} <= set(eff.columns)
    assert set(eff["task"]) == {"heldout"}


def test_bad_inputs(cli_world):
    tmp, w = cli_world
    expr = pd.read_csv(w / "expression.tsv", sep="\t")
    expr.loc[len(expr)] = ["nogene", *[1.0] * (expr.shape[1] - 1)]
    expr.to_csv(tmp / "expr_extra.tsv", sep="\t", index=False)
    out = _bad(
        "get",
        "train",
        "--features",
        w / "features.h5",
        "--expression",
        tmp / "expr_extra.tsv",
        "--tss",
        w / "genes.bed",
        "--out",
        tmp / "never",
        "--epochs",
        "1",
        *TINY,
    )
    assert "no TSS" in out and not (tmp / "never").exists()
    inputs = [
        "--features",
        w / "features.h5",
        "--expression",
        w / "expression.tsv",
        "--tss",
        w / "genes.bed",
    ]
    for name, seed in (("b1", "1"), ("b2", "2")):
        _ok("get", "train", *inputs, "--out", tmp / name, "--epochs", "1", "--seed", seed, *TINY)
    _ok(
        "get",
        "lora",
        "--base",
        tmp / "b1",
        *inputs,
        "--out",
        tmp / "a1",
        "--epochs",
        "1",
        "--rank",
        "2",
        "--device",
        "cpu",
        "--quiet",
    )
    out = _bad("get", "merge", "--base", tmp / "b2", "--adapter", tmp / "a1", "--out", tmp / "m")
    assert "another base model" in out and not (tmp / "m").exists()
