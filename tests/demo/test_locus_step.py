"""The demo's locus step on a small context built here (the demo module is not run)."""

from __future__ import annotations

import pandas as pd

from varinterp.demo import DemoContext
from varinterp.demo.locus import locus_report_step


def test_locus_report_step(sim_locus, tmp_path) -> None:
    ctx = DemoContext(out=tmp_path, seed=0, threads=1)
    ctx.objects["world"] = sim_locus.world
    lines = locus_report_step(ctx)
    assert (tmp_path / "report.html").is_file()
    assert ctx.files["report"] == tmp_path / "report.html"
    cands = pd.read_csv(tmp_path / "report.candidates.tsv", sep="\t")
    truth = sim_locus.truth  # same world and seed: the same causal SNP
    causal = truth["causal"]["variant_id"]
    assert causal in lines[0] and "myeloid" in lines[0]
    assert cands["variant_id"].iloc[0] == causal
    assert cands["abc_top_gene"].iloc[0] != "."
    assert "from the planted programs" in lines[2]
    html = (tmp_path / "report.html").read_text()
    assert 'id="tracks-1"' in html and 'id="abc-arcs"' in html


def test_step_derives_evidence_from_given_tracks(sim_locus, tmp_path) -> None:
    ctx = DemoContext(out=tmp_path, seed=0, threads=1)
    ctx.objects["world"] = sim_locus.world
    ctx.files["celltype_tracks"] = sim_locus.evidence["tracks"]
    lines = locus_report_step(ctx)
    assert "planted" not in lines[2] and "from the given cell-type tracks" in lines[2]
    called = pd.read_csv(tmp_path / "gwas_evidence_tracks/specific/elements.tsv", sep="\t")
    assert set(called["cell_type"]) == {"hepatocyte", "Kupffer-like"}
    assert (tmp_path / "gwas_evidence_tracks/abc/Kupffer-like.abc.tsv").is_file()
    # the planted myeloid enhancers come out Kupffer-like-specific from the tracks
    world = sim_locus.world
    myeloid = {e.element_id for e in world.elements if e.program == "myeloid"}
    spec = called[called["specific"] & (called["cell_type"] == "Kupffer-like")]
    assert len(spec) > 0 and set(spec["name"]) <= myeloid
    cands = pd.read_csv(tmp_path / "report.candidates.tsv", sep="\t")
    assert cands["variant_id"].iloc[0] == sim_locus.truth["causal"]["variant_id"]
    assert cands["specific_in"].iloc[0] == "Kupffer-like"
