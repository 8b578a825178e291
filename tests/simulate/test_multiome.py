"""The simulated multiome world: same seed same bytes, and the planted truth holds in the
data it writes (motifs in the right peaks, accessibility and expression by cell type)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.models.crescendo.conftest import simulate_tiny
from varinterp.errors import InputError
from varinterp.io.fasta import Reference
from varinterp.io.tenx import read_10x_h5
from varinterp.simulate.motifs import MOTIFS, allowed_mask
from varinterp.simulate.multiome import (
    ACTIVATOR,
    PIONEERS,
    MultiomeParams,
    accessibility_logits,
    simulate_multiome_world,
)


@pytest.fixture(scope="module")
def world():
    return simulate_multiome_world(
        MultiomeParams(n_cells=600, n_genes=10, n_chromosomes=1, gene_spacing=40_000), seed=3
    )


def _count_sites(seq: np.ndarray, motif: str) -> int:
    mask = allowed_mask(motif)
    n = mask.shape[0]
    hits = 0
    for strand_seq in (seq, (3 - seq[::-1])):
        for i in range(strand_seq.size - n + 1):
            s = strand_seq[i : i + n]
            if (s < 4).all() and mask[np.arange(n), s].all():
                hits += 1
    return hits


def test_same_seed_same_files(tmp_path):
    a = simulate_tiny(tmp_path / "a", seed=5)
    b = simulate_tiny(tmp_path / "b", seed=5)
    ja = json.loads((a.out_dir / "simulation.json").read_text())["files"]
    jb = json.loads((b.out_dir / "simulation.json").read_text())["files"]
    assert ja == jb


def test_causal_and_decoy_peaks_carry_their_motifs(world):
    p = world.peaks
    for row in p[p["class"].isin(["causal", "decoy"])].head(12).itertuples():
        k = world.params.cell_types.index(row.cell_type)
        seq = world.reference.sequences[row.chrom][row.start : row.end]
        assert _count_sites(seq, PIONEERS[k]) >= 2
        has_ap1 = _count_sites(seq, ACTIVATOR) >= 2
        assert has_ap1 == (row._5 == "causal")  # column "class"


def test_accessibility_and_expression_follow_the_truth(world):
    p, cells = world.peaks, world.cells
    types = world.params.cell_types
    atac = world.atac.toarray()
    for t in types:
        inside = (cells["cell_type"] == t).to_numpy()
        observed = atac[:, inside].mean(axis=1)
        # depth offsets are N(0, 0.3) on the logit scale: the mean stays close to p
        assert np.corrcoef(observed, p[f"p_{t}"])[0, 1] > 0.95
    decoys = p[p["class"] == "decoy"]
    for row in decoys.head(5).itertuples():
        causal = p[
            (p["class"] == "causal") & (p["gene"] == row.gene) & (p["cell_type"] == row.cell_type)
        ].index[0]
        r = np.corrcoef(atac[row.Index], atac[causal])[0, 1]
        assert r > 0.3  # co-accessible through the shared cell type
    rna = world.rna.toarray()
    for g, gene in world.genes.iterrows():
        for t in types:
            inside = (cells["cell_type"] == t).to_numpy()
            lib = np.exp(0.25**2 / 2)
            assert rna[g, inside].mean() == pytest.approx(gene[f"rate_{t}"] * lib, rel=0.35)


def test_variant_truth_breaks_a_site_of_the_right_motif(world):
    v = world.variants
    assert set(v["peak_class"]) == {"causal", "decoy"}
    assert (v.loc[v["peak_class"] == "decoy", "true_delta"] == 0).all()
    assert (v.loc[v["peak_class"] == "causal", "true_delta"] < 0).all()
    logits = accessibility_logits(
        np.array([2, 1]), np.array([0, 0]), np.array([2, 2]), np.array([0, 0]), 2
    )
    expected = world.params.effect * (
        1 / (1 + np.exp(-logits[1, 0])) - 1 / (1 + np.exp(-logits[0, 0]))
    )
    assert v.loc[v["peak_class"] == "causal", "true_delta"].iloc[0] == pytest.approx(expected)


def test_written_files_read_back(tmp_path):
    files = simulate_tiny(tmp_path / "w", seed=1)
    m = read_10x_h5(files.h5)
    assert m.feature_types() == {"Gene Expression": files.n_genes, "Peaks": files.n_peaks}
    truth = pd.read_csv(files.truth_dir / "variants.tsv", sep="\t")
    ref = Reference(files.fasta)
    assert all(ref.base(r.chrom, r.pos - 1) == r.ref for r in truth.itertuples())
    assert MOTIFS[ACTIVATOR].consensus == "TGASTCA"


def test_bad_parameters_are_input_errors():
    with pytest.raises(InputError, match="n_cell_types"):
        MultiomeParams(n_cell_types=9)
