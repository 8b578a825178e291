"""`varinterp simulate multiome` and `varinterp crescendo ...` through the CLI, end to end
on a tiny world, and their bad inputs (exit 2, one line, nothing left behind)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from varinterp.cli.main import app

runner = CliRunner()
TINY_WORLD = [
    "--cells",
    "120",
    "--cell-types",
    "2",
    "--genes",
    "8",
    "--chromosomes",
    "1",
    "--gene-spacing",
    "40000",
    "--background-spacing",
    "9000",
    "--causal-distance",
    "15000",
]


def _ok(args):
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _bad(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1, result.output
    return result


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("crescli")
    _ok(["simulate", "multiome", "--out", str(root / "w"), "--quiet", *TINY_WORLD])
    w = root / "w"
    _ok(
        [
            "crescendo",
            "prep",
            "--matrix",
            str(w / "multiome.h5"),
            "--fasta",
            str(w / "genome.fa"),
            "--tss",
            str(w / "tss.bed"),
            "--cell-types",
            str(w / "cell_types.tsv"),
            "--min-genes",
            "1",
            "--n-pcs",
            "5",
            "--n-folds",
            "0",
            "--out",
            str(root / "prep"),
        ]
    )
    _ok(
        [
            "crescendo",
            "train",
            "--prep",
            str(root / "prep"),
            "--out",
            str(root / "train"),
            "--preset",
            "small",
            "--encoder-epochs",
            "1",
            "--gene-epochs",
            "1",
            "--encoder-batch",
            "64",
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    return root


def test_the_commands_chain(run):
    model = run / "train" / "model"
    assert (model / "config.json").is_file()
    res = _ok(
        [
            "crescendo",
            "activity",
            "--model",
            str(model),
            "--out",
            str(run / "act"),
            "--genes",
            "GENE0002,GENE0003",
            "--chunk-cells",
            "40",
        ]
    )
    assert "gene-peak pairs of 2 genes" in res.output
    for name in (
        "activity.h5",
        "pairs.tsv",
        "celltypes.tsv",
        "elements.tsv",
        "tracks.tsv",
        "alpha.cre.bed",
        "beta.activity.bw",
        "activity.json",
    ):
        assert (run / "act" / name).is_file(), name
    _ok(
        [
            "score",
            "--vcf",
            str(run / "w" / "variants.vcf.gz"),
            "--model",
            str(model),
            "--fasta",
            str(run / "w" / "genome.fa"),
            "--out",
            str(run / "effects.tsv"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    effects = pd.read_csv(run / "effects.tsv", sep="\t")
    assert {"gene", "task", "log2fc", "peak", "expression_delta_z"} <= set(effects.columns)
    assert set(effects["task"]) == {"alpha", "beta"}
    truth = pd.read_csv(run / "w" / "truth" / "variants.tsv", sep="\t")
    assert set(effects["id"]) == set(truth["id"])
    _ok(
        [
            "crescendo",
            "h5ad",
            "--matrix",
            str(run / "w" / "multiome.h5"),
            "--out",
            str(run / "m.h5ad"),
            "--cell-types",
            str(run / "w" / "cell_types.tsv"),
        ]
    )
    assert (run / "m.h5ad").is_file()


def test_bad_inputs_exit_2_with_one_line(run, tmp_path):
    w = run / "w"
    (tmp_path / "junk.h5").write_text("x")
    base = ["--fasta", str(w / "genome.fa"), "--tss", str(w / "tss.bed")]
    _bad(
        [
            "crescendo",
            "prep",
            "--matrix",
            str(tmp_path / "junk.h5"),
            *base,
            "--out",
            str(tmp_path / "p"),
        ],
        "not an HDF5 file",
    )
    _bad(
        [
            "crescendo",
            "prep",
            "--matrix",
            str(w / "multiome.h5"),
            *base,
            "--out",
            str(tmp_path / "p"),
            "--split",
            "random",
        ],
        "'random' is not one of 'paper', 'code'",
    )
    _bad(
        ["crescendo", "train", "--prep", str(tmp_path), "--out", str(tmp_path / "t")],
        "not a prepared multiome run",
    )
    _bad(
        ["crescendo", "activity", "--model", str(run / "prep"), "--out", str(tmp_path / "a")],
        "not a model directory",
    )
    _bad(
        [
            "crescendo",
            "activity",
            "--model",
            str(run / "train" / "model"),
            "--out",
            str(tmp_path / "a"),
            "--genes",
            "NOPE",
        ],
        "not in the model",
    )
    _bad(
        ["simulate", "multiome", "--out", str(tmp_path / "s"), "--gene-spacing", "10"],
        "gene_spacing",
    )
    for name in ("p", "t", "a", "s"):
        assert not (tmp_path / name).exists()
