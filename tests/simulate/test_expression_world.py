"""The expression world (part 7): its files agree with its planted truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from varinterp.io.fasta import Reference
from varinterp.simulate.expression import (
    ExpressionWorldParams,
    make_expression_world,
    simulate_expression,
)


def test_truth_tables_agree_with_the_files(tmp_path):
    out = tmp_path / "w"
    world = simulate_expression(
        out=out, seed=5, n_chromosomes=2, chrom_length=300_000, mean_spacing=3_000, n_snps=8
    )
    meta = json.loads((out / "world.json").read_text())
    ref = Reference(out / "genome.fa")
    sites = pd.read_csv(out / "truth" / "sites.tsv", sep="\t")
    peaks = pd.read_csv(out / "peaks.bed", sep="\t", header=None)
    for s in sites.itertuples(index=False):
        cons = meta["factors"][s.factor]
        seq = ref.sequence(peaks.iloc[s.region, 0], s.start, s.start + len(cons))
        want = cons if s.strand == "+" else cons[::-1].translate(str.maketrans("ACGT", "TGCA"))
        assert seq == want
        assert peaks.iloc[s.region, 1] <= s.start and s.start + len(cons) <= peaks.iloc[s.region, 2]
    enh = pd.read_csv(out / "truth" / "enhancers.tsv", sep="\t")
    snps = pd.read_csv(out / "truth" / "snps.tsv", sep="\t")
    assert len(snps) == 8
    for s in snps.itertuples(index=False):
        assert ref.base(s.chrom, s.pos - 1) == s.ref != s.alt
        causal_genes = set(enh.loc[enh["causal"] & (enh["region"] == s.region), "gene"])
        if s.genes != ".":
            assert set(s.genes.split(",")) <= causal_genes
    # promoters carry the CORE element, and every gene's TSS is its promoter's centre
    core = sites[sites["factor"] == "CORE"]
    genes = pd.read_csv(out / "genes.bed", sep="\t", header=None)
    assert len(core) == len(genes) == meta["n_genes"]
    centres = (
        peaks.iloc[core["region"], 1].to_numpy() + peaks.iloc[core["region"], 2].to_numpy()
    ) // 2
    np.testing.assert_array_equal(np.sort(centres), np.sort(genes[1].to_numpy()))
    counts = pd.read_csv(out / "counts.tsv", sep="\t")
    assert list(counts.columns[3:]) == world.cell_types and world.held_out == "heldout"


def test_seeded_and_the_held_out_mix_is_new():
    p = ExpressionWorldParams(seed=9, n_chromosomes=1, chrom_length=300_000, mean_spacing=3_000)
    a, b = make_expression_world(p), make_expression_world(p)
    np.testing.assert_array_equal(a.tpm, b.tpm)
    active = a.activity[:, :-1] > 0  # without CORE
    held = active[-1]
    assert not any((row == held).all() for row in active[:-1])
