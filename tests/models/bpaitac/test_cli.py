"""The bpAI-TAC commands end to end on a tiny simulated world, and their bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.models.bpaitac._world import write_config
from varinterp.cli.main import app

runner = CliRunner()


def _ok(args):
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def _bad(args, match):
    res = runner.invoke(app, [str(a) for a in args])
    assert res.exit_code == 2, res.output
    lines = [x for x in res.output.strip().splitlines() if x.startswith("varinterp: error")]
    assert len(lines) == 1 and match in lines[0], res.output
    return res


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_atac, tiny_bias):
    root = tmp_path_factory.mktemp("cli")
    cfg = write_config(root / "run.toml", tiny_atac)
    _ok(["train", "bpaitac", "-c", cfg, "-o", root / "m", "--bias-model", tiny_bias, "-q"])
    return root, cfg


def test_evaluate_score_attribute_footprint(trained, tiny_atac):
    root, cfg = trained
    ev = _ok(["evaluate", "-m", root / "m", "-c", cfg, "-o", root / "ev"])
    assert "median Pearson across cell types" in ev.output
    metrics = pd.read_csv(root / "ev" / "metrics.tsv", sep="\t")
    assert {"train", "validation", "test"} == set(metrics["split"])
    assert "ocr_pearson_cv_q4_median" in set(metrics["metric"])
    per_ocr = pd.read_csv(root / "ev" / "per_ocr.tsv", sep="\t")
    assert len(per_ocr) == len(tiny_atac.world.ocrs)
    _ok(["score", "--vcf", tiny_atac.files.variants_vcf, "-m", root / "m", "--fasta",
         tiny_atac.files.fasta, "-o", root / "eff.tsv", "--pseudocount", "1"])  # fmt: skip
    eff = pd.read_csv(root / "eff.tsv", sep="\t")
    assert set(eff["task"]) == set(tiny_atac.world.cell_types)
    assert len(eff) == 11 * len(tiny_atac.world.variants)
    assert np.isfinite(eff["profile_jsd"]).all()
    v = tiny_atac.world.variants.iloc[0]
    spec = f"{v.chrom}:{v.pos0 + 1}:{v.ref}:{v.alt}"
    _ok(["attribute", "-m", root / "m", "--fasta", tiny_atac.files.fasta, "-o",
         root / "a.npz", "--variant", spec, "--method", "ism", "--task", "T8"])  # fmt: skip
    a = np.load(root / "a.npz")
    assert a["hypothetical"].shape == (2, 4, 400)
    bad_task = ["attribute", "-m", root / "m", "--fasta", tiny_atac.files.fasta, "-o",
                root / "b.npz", "--variant", spec, "--task", "Nope"]  # fmt: skip
    _bad(bad_task, "the model's tasks are")
    fp = _ok(["atac", "footprint", "-m", root / "m", "--motif", "AAAGAGGAAGTG", "-o",
              root / "fp.tsv", "--n", "10"])  # fmt: skip
    assert "dip offsets" in fp.output
    assert set(pd.read_csv(root / "fp.tsv", sep="\t")["task"]) == set(tiny_atac.world.cell_types)


def test_bad_inputs_of_the_commands(trained, tiny_atac, tiny_bias, tmp_path):
    root, cfg = trained
    _bad(["train", "bpaitac", "-c", cfg, "-o", tmp_path / "x", "--no-bias", "--lambda", "2"],
         "must be in [0, 1]")  # fmt: skip
    _bad(["train", "bpaitac", "-c", cfg, "-o", tmp_path / "x"], "needs a Tn5 bias model")
    longer = write_config(tmp_path / "l.toml", tiny_atac, model={"input_length": 500})
    _bad(["train", "bpaitac", "-c", longer, "-o", tmp_path / "x", "--bias-model", tiny_bias],
         "maps 400 -> 250 bp but this model takes 500 bp")  # fmt: skip
    _bad(["evaluate", "-m", root / "m", "-c", cfg, "-o", tmp_path / "e", "--examples", "3"],
         "--n-examples does not apply to bpaitac models")  # fmt: skip
    _bad(["evaluate", "-m", tiny_bias, "-c", cfg, "-o", tmp_path / "e"], "is a Tn5 bias model")
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text().replace("[training]", "[training]\nlambdda = 0.3"))
    _bad(["train", "bpaitac", "-c", bad, "-o", tmp_path / "x", "--no-bias"], "unknown key")


def test_simulate_atac_command(tmp_path):
    res = _ok(["simulate", "atac", "-o", tmp_path / "w", "--genome-size", "40000",
               "--n-chromosomes", "2", "--seed", "3"])  # fmt: skip
    assert "11 cell types" in res.output
    assert (tmp_path / "w" / "fragments.tsv.gz.tbi").is_file()
    _bad(["simulate", "atac", "-o", tmp_path / "w"], "already exists")
    _bad(["simulate", "atac", "-o", tmp_path / "v", "--genome-size", "100"], "genome_size")
