"""A small expression world, scanned, shared by the GET tests."""

from __future__ import annotations

from pathlib import Path

from varinterp.models.get.data import build_get_data
from varinterp.models.get.expression import read_expression, read_tss
from varinterp.motifs.files import read_features
from varinterp.motifs.pipeline import scan_peaks
from varinterp.simulate.expression import simulate_expression


def make_world(root: Path, seed: int = 3):
    folder = root / "world"
    world = simulate_expression(
        out=folder, seed=seed, n_chromosomes=3, chrom_length=400_000, mean_spacing=3_000, n_snps=12
    )
    scan_peaks(
        peaks=folder / "peaks.bed",
        fasta=folder / "genome.fa",
        motifs=folder / "motifs.meme",
        clusters=folder / "clusters.tsv",
        counts=folder / "counts.tsv",
        out=folder / "features.h5",
    )
    data = build_get_data(
        read_features(folder / "features.h5"),
        read_expression(folder / "expression.tsv"),
        read_tss(folder / "genes.bed"),
    )
    return folder, world, data
