"""Scoring gives the previous release's tables for CLIPNET, to the printed digit.

``tests/data/pinned_scoring`` holds a small two-fold CLIPNET model directory, a FASTA, a
VCF and the effect tables the previous release's `score_variants` wrote for three sets
of options (``runs.json``); the model files predate the family move, so this also checks
that those directories still load.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from varinterp.effects.frame import score_frame
from varinterp.effects.score import score_variants
from varinterp.training.inference import load_model

PINNED = Path(__file__).resolve().parents[1] / "data" / "pinned_scoring"
RUNS = json.loads((PINNED / "runs.json").read_text())


@pytest.mark.parametrize("name", sorted(RUNS))
def test_score_variants_reproduces_the_pinned_table(name, tmp_path):
    out = tmp_path / f"{name}.tsv"
    score_variants(
        vcf=PINNED / "variants.vcf.gz", model=PINNED / "model", fasta=PINNED / "ref.fa",
        out=out, device="cpu", **RUNS[name],
    )  # fmt: skip
    assert out.read_text() == (PINNED / f"effects_{name}.tsv").read_text()


def test_score_frame_matches_the_streamed_table():
    pinned = pd.read_csv(PINNED / "effects_composite_het.tsv", sep="\t")
    ens = load_model(PINNED / "model", device="cpu")
    variants = pinned[["chrom", "pos", "id", "ref", "alt"]]
    table = score_frame(ens, variants, fasta=PINNED / "ref.fa", **RUNS["composite_het"])
    assert list(table.columns) == list(pinned.columns)
    got = pd.read_csv(
        pd.io.common.StringIO(table.to_csv(sep="\t", index=False, float_format="%.6g")), sep="\t"
    )
    pd.testing.assert_frame_equal(got, pinned)
