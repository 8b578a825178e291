"""Where the simulated multiome world puts its genes and peaks, and the motif sites it
plants (`varinterp.simulate.multiome`): genes about ``gene_spacing`` bp apart, a promoter
peak per gene, causal enhancers and their decoys near their gene, background peaks; no
two peaks closer than 300 bp."""

from __future__ import annotations

import numpy as np

from varinterp.errors import InputError
from varinterp.simulate.motifs import MOTIFS, reverse_complement, sample_instance
from varinterp.simulate.multiome_grammar import ACTIVATOR, PIONEERS, UBIQUITOUS
from varinterp.simulate.reference import Reference

__all__ = ["SITE_SLOTS", "gene_positions", "peak_rows", "plant_sites"]

SITE_SLOTS = 14  # motif slots of 32 bp across the central 448 bp of a peak


def gene_positions(p, rng: np.random.Generator) -> tuple[list, dict[str, int]]:
    per_chrom = [
        p.n_genes // p.n_chromosomes + (i < p.n_genes % p.n_chromosomes)
        for i in range(p.n_chromosomes)
    ]
    genes, lengths = [], {}
    for c, n in enumerate(per_chrom):
        chrom = f"chr{c + 1}"
        pos = 60_000
        for _ in range(n):
            pos += int(p.gene_spacing * rng.uniform(0.7, 1.3))
            genes.append((chrom, pos, "+" if rng.random() < 0.5 else "-"))
        lengths[chrom] = pos + 120_000
    return genes, lengths


class _Layout:
    """Peaks placed without overlap (at least 300 bp apart), in priority order."""

    def __init__(self, lengths: dict[str, int], width: int) -> None:
        self.lengths = lengths
        self.width = width
        self.taken: dict[str, list[tuple[int, int]]] = {c: [] for c in lengths}

    def place(self, chrom: str, centre: int, rng: np.random.Generator) -> int | None:
        half = self.width // 2
        for attempt in range(40):
            c = centre + (0 if attempt == 0 else int(rng.integers(-3000, 3001)))
            lo, hi = c - half, c - half + self.width
            if lo < 900 or hi > self.lengths[chrom] - 900:
                continue
            if all(hi + 300 <= s or lo >= e + 300 for s, e in self.taken[chrom]):
                self.taken[chrom].append((lo, hi))
                return c
        return None


def _distance(p, rng: np.random.Generator) -> int:
    return int(min(2_000 + rng.exponential(p.causal_distance), 280_000)) * int(rng.choice([-1, 1]))


def peak_rows(p, rng: np.random.Generator, genes: list, lengths: dict) -> list:
    layout = _Layout(lengths, p.peak_width)
    rows = []  # chrom, centre, class, type index, gene index, pioneer, activator, ubiquitous
    for g, (chrom, tss, _) in enumerate(genes):
        centre = layout.place(chrom, tss + int(rng.integers(-150, 151)), rng)
        if centre is None:
            raise InputError("multiome simulation: promoters overlap; raise gene_spacing")
        rows.append((chrom, centre, "promoter", -1, g, 0, 0, 3))
    weights = np.asarray(p.causal_per_gene, dtype=float)
    for g, (chrom, tss, _) in enumerate(genes):
        for _ in range(int(rng.choice(4, p=weights / weights.sum()))):
            k = int(rng.integers(p.n_cell_types))
            centre = layout.place(chrom, tss + _distance(p, rng), rng)
            if centre is None:
                continue
            rows.append((chrom, centre, "causal", k, g, 2, 2, 0))
            for _ in range(p.decoys_per_causal):
                dc = layout.place(chrom, tss + _distance(p, rng), rng)
                if dc is not None:
                    rows.append((chrom, dc, "decoy", k, g, 2, 0, 0))
    for chrom, length in lengths.items():
        for _ in range(int(length // p.background_spacing)):
            centre = layout.place(chrom, int(rng.integers(1_000, length - 1_000)), rng)
            if centre is None:
                continue
            u = rng.random()
            if u < 0.7:
                rows.append(
                    (chrom, centre, "background", int(rng.integers(p.n_cell_types)), -1, 2, 0, 0)
                )
            elif u < 0.9:
                rows.append((chrom, centre, "background", -1, -1, 0, 0, 1))
            else:
                rows.append((chrom, centre, "background", -1, -1, 0, 0, 0))
    order = {c: i for i, c in enumerate(lengths)}
    rows.sort(key=lambda r: (order[r[0]], r[1]))
    return rows


def plant_sites(
    reference: Reference, rows: list, p, rng: np.random.Generator, n_types: int
) -> list:
    """Write the motif sites of every peak into the reference; returns the sites as
    ``(chrom, start, motif, strand)``."""
    sites = []
    slot_width = 32
    for chrom, centre, _, k, _, n_pio, n_act, n_ubi in rows:
        names = [PIONEERS[k]] * n_pio + [ACTIVATOR] * n_act + [UBIQUITOUS] * n_ubi
        if not names:
            continue
        slots = rng.choice(SITE_SLOTS, size=len(names), replace=False)
        seq = reference.sequences[chrom]
        for name, slot in zip(names, slots, strict=True):
            motif = MOTIFS[name]
            start = centre - SITE_SLOTS * slot_width // 2 + int(slot) * slot_width
            start += int(rng.integers(0, slot_width - motif.length + 1))
            inst = sample_instance(motif, rng)
            strand = "+" if rng.random() < 0.5 else "-"
            seq[start : start + motif.length] = inst if strand == "+" else reverse_complement(inst)
            sites.append((chrom, start, name, strand))
    del n_types
    return sites
