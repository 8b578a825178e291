"""The demo's bpAI-TAC step (shrunk, and with the zoo's shipped weights) and the
per-cell-type effects it hands to the locus report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from varinterp.demo import bpaitac as demo_bpaitac
from varinterp.demo.context import DemoContext

ZOO = Path(__file__).resolve().parents[2] / "models"


def test_quick_step_measures_the_shipped_model(tmp_path, monkeypatch):
    monkeypatch.setitem(demo_bpaitac.DEMO_ATAC, "genome_size", 300_000)
    ctx = DemoContext(out=tmp_path, seed=0, threads=1, quick=True, zoo=ZOO)
    lines = demo_bpaitac.bpaitac_step(ctx)
    assert "shipped weights of the zoo's bpaitac-demo" in lines[1]
    assert ctx.files["bpaitac_model"] == ZOO / "bpaitac-demo"
    m = ctx.objects["bpaitac_metrics"]
    assert m["snp_pearson_with_truth"] > 0.1  # the effects follow the planted truth
    # the locus step's hook: per-cell-type effects of fine-mapped variants, long format
    world = tmp_path / "atac" / "world"
    truth = pd.read_csv(world / "variant_effects.tsv", sep="\t").drop_duplicates("id")
    variants = truth.rename(columns={"id": "variant_id"}).assign(pip=1.0)
    ctx.files["fasta"] = world / "reference.fa"
    out = demo_bpaitac.celltype_effects_for(ctx, variants, tmp_path / "ct.tsv", top=5)
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 5 * 11 and table["task"].nunique() == 11
    line = demo_bpaitac.effects_line(out, str(table["id"].iloc[0]))
    assert line.startswith("bpAI-TAC log2FC of the causal SNP by cell type")


def test_step_trains_when_not_quick(tmp_path, monkeypatch):
    monkeypatch.setitem(demo_bpaitac.DEMO_ATAC, "genome_size", 200_000)
    monkeypatch.setitem(demo_bpaitac.DEMO_TRAINING, "max_epochs", 1)
    monkeypatch.setitem(demo_bpaitac.BIAS_TRAINING, "max_epochs", 1)
    ctx = DemoContext(out=tmp_path, seed=1, threads=1)
    lines = demo_bpaitac.bpaitac_step(ctx)
    assert "trained here: 1 epochs" in lines[1]
    assert (tmp_path / "atac" / "model" / "config.json").is_file()
    assert (tmp_path / "atac" / "bias" / "config.json").is_file()
    no_model = DemoContext(out=tmp_path, seed=1, threads=1)
    assert demo_bpaitac.celltype_effects_for(no_model, pd.DataFrame(), tmp_path / "x") is None
