"""A simulated 10x multiome world (RNA + ATAC in the same cells) with planted enhancers.

Part 8 of the simulated world: the truth against which cREscENDO's claims are measured.

**Genome and genes.** A dinucleotide-Markov reference (`varinterp.simulate.reference`)
on ``n_chromosomes`` contigs holds ``n_genes`` genes about ``gene_spacing`` bp apart
(random strand). Every gene has a **promoter peak** centred within 150 bp of its TSS.

**Cell types and motifs.** Cell type ``k`` expresses one pioneer factor whose motif
(`PIONEERS`: SPI1, CEBP, HNF4A, NFKB, ETS, NRF1, in that order) opens a peak in that type
only; the activator motif ``AP1`` (`ACTIVATOR`) opens any peak a little in every type and
is what makes an element act on a gene; ``SP1`` (`UBIQUITOUS`) opens a peak everywhere.
A peak's accessibility logit in type ``k`` is ``-3 + 2.4 x (its copies of type k's pioneer
motif) + 0.9 x (AP1 copies) + 1.8 x (SP1 copies)`` (`accessibility_logits`).

**Peak classes** (``peaks.tsv`` ``class``):

- ``promoter``: three SP1 sites (open in every type);
- ``causal``: an enhancer of one gene, active in one cell type ``k``: two copies of type
  k's pioneer motif plus two AP1 sites; 0-3 per gene (``causal_per_gene`` weights), at
  ``2 kb + Exponential(causal_distance)`` (at most 280 kb) from the TSS, either side;
- ``decoy``: ``decoys_per_causal`` per causal enhancer, near the same gene at distances
  drawn from the same law, with the same two pioneer sites but **no AP1**: co-accessible
  with the causal enhancer (open in the same cell type) yet without effect on expression;
- ``background``: one per ``background_spacing`` bp: two sites of a random type's pioneer
  (70%), one SP1 site (20%), or nothing (10%); no effect on expression.

**Cells.** ``n_cells`` cells split evenly over the types (in a shuffled order). Cell ``c``
has an ATAC depth offset ``N(log depth, 0.3)`` on the logit scale and an RNA library size
``LogNormal(0, 0.25)``. ATAC: a peak is seen in a cell with probability
``sigmoid(logit[peak, type] + depth offset)`` (0/1 cut-site counts). RNA: gene ``g`` in a
cell of type ``k`` has mean ``library x base_g x exp(effect x sum over its causal
enhancers e of p[e, k])`` with ``p = sigmoid(logit)`` at depth 1 and ``base_g ~
LogNormal(log(umis_per_gene), 0.5)``; counts are negative binomial (dispersion
``theta``, a gamma-Poisson draw).

**Variants.** One SNV per causal enhancer and per decoy breaks one of its pioneer sites
(a base its consensus fixes is changed): truth is the change of the type's log
expression rate of the target gene (``effect x (p_alt - p_ref)`` in that type, 0 in the
others and for decoys).

Everything is drawn from one ``numpy.random.Generator`` seeded with ``seed``: the same
parameters give the same world. `varinterp.simulate.multiome_files` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.simulate.celltypes_atac import make_barcodes
from varinterp.simulate.multiome_grammar import (
    ACTIVATOR,
    CELL_TYPE_NAMES,
    PIONEERS,
    UBIQUITOUS,
    accessibility_logits,
    sigmoid,
)
from varinterp.simulate.multiome_layout import gene_positions, peak_rows, plant_sites
from varinterp.simulate.multiome_truth import pair_table, variant_table
from varinterp.simulate.reference import Reference, make_reference

__all__ = [
    "ACTIVATOR",
    "CELL_TYPE_NAMES",
    "PIONEERS",
    "UBIQUITOUS",
    "MultiomeParams",
    "MultiomeWorld",
    "accessibility_logits",
    "simulate_multiome_world",
]


@dataclass(frozen=True)
class MultiomeParams:
    """Parameters of `simulate_multiome_world` (module docstring)."""

    n_cells: int = 2000
    n_cell_types: int = 4
    n_genes: int = 100
    n_chromosomes: int = 2
    gene_spacing: int = 150_000
    background_spacing: int = 12_000
    causal_per_gene: tuple[float, float, float, float] = (0.15, 0.4, 0.35, 0.1)
    decoys_per_causal: int = 2
    causal_distance: float = 60_000.0
    peak_width: int = 500
    depth: float = 1.0
    umis_per_gene: float = 2.0
    effect: float = 2.0
    theta: float = 5.0

    def __post_init__(self) -> None:
        checks = [
            (self.n_cells >= 20, "n_cells must be >= 20"),
            (2 <= self.n_cell_types <= len(PIONEERS), f"n_cell_types must be 2-{len(PIONEERS)}"),
            (self.n_genes >= 2, "n_genes must be >= 2"),
            (1 <= self.n_chromosomes <= 22, "n_chromosomes must be 1-22"),
            (self.gene_spacing >= 20_000, "gene_spacing must be >= 20 kb"),
            (self.background_spacing >= 2_000, "background_spacing must be >= 2 kb"),
            (
                len(self.causal_per_gene) == 4
                and min(self.causal_per_gene) >= 0
                and sum(self.causal_per_gene) > 0,
                "causal_per_gene: four weights (0-3) >= 0",
            ),
            (self.decoys_per_causal >= 0, "decoys_per_causal must be >= 0"),
            (self.causal_distance > 0, "causal_distance must be > 0"),
            (200 <= self.peak_width <= 1344, "peak_width must be 200-1344 bp"),
            (self.depth > 0 and self.umis_per_gene > 0, "depth and umis_per_gene must be > 0"),
            (self.theta > 0, "theta must be > 0"),
        ]
        for ok, what in checks:
            if not ok:
                raise InputError(f"multiome simulation: {what}")

    @property
    def cell_types(self) -> tuple[str, ...]:
        return CELL_TYPE_NAMES[: self.n_cell_types]


@dataclass(eq=False)
class MultiomeWorld:
    """A simulated multiome world (module docstring).

    ``peaks`` (one row per peak, genome order): ``peak_id chrom start end class
    cell_type gene pioneer_sites activator_sites ubiquitous_sites`` plus ``p_<type>``
    (accessibility at depth 1). ``genes``: ``gene gene_id chrom tss strand base``
    plus ``rate_<type>`` (mean count at library size 1). ``pairs``: every gene x peak
    with the peak centre within 300 kb of the TSS: ``gene peak_id distance role``
    (``promoter causal decoy other``) ``cell_type effect``. ``cells``: ``barcode
    cell_type``. ``variants``: ``id chrom pos ref alt peak_id peak_class gene cell_type
    true_delta`` (1-based ``pos``). ``atac`` ``(n_peaks, n_cells)`` and ``rna`` ``(n_genes,
    n_cells)`` are CSC count matrices (int32).
    """

    params: MultiomeParams
    seed: int
    reference: Reference
    peaks: pd.DataFrame
    genes: pd.DataFrame
    pairs: pd.DataFrame
    cells: pd.DataFrame
    variants: pd.DataFrame
    atac: sp.csc_matrix
    rna: sp.csc_matrix
    sites: list[tuple[str, int, str, str]] = field(default_factory=list)


def simulate_multiome_world(
    params: MultiomeParams | None = None, *, seed: int = 0
) -> MultiomeWorld:
    """Draw a multiome world (module docstring)."""
    p = params or MultiomeParams()
    rng = np.random.default_rng(seed)
    types = p.cell_types
    genes, lengths = gene_positions(p, rng)
    genome = int(sum(lengths.values()))
    reference = make_reference(rng=rng, genome_size=genome, n_chromosomes=p.n_chromosomes)
    # make_reference splits the genome its own way: re-cut it to our contig lengths
    whole = np.concatenate(list(reference.sequences.values()))
    seqs, at = {}, 0
    for chrom, length in lengths.items():
        seqs[chrom] = whole[at : at + length].copy()
        at += length
    reference = Reference(sequences=seqs)
    rows = peak_rows(p, rng, genes, lengths)
    sites = plant_sites(reference, rows, p, rng, len(types))

    half = p.peak_width // 2
    peaks = pd.DataFrame(
        rows,
        columns=[
            "chrom",
            "centre",
            "class",
            "type_index",
            "gene_index",
            "pioneer_sites",
            "activator_sites",
            "ubiquitous_sites",
        ],
    )
    peaks["start"] = peaks["centre"] - half
    peaks["end"] = peaks["start"] + p.peak_width
    peaks["peak_id"] = [
        f"{c}:{s}-{e}" for c, s, e in zip(peaks["chrom"], peaks["start"], peaks["end"], strict=True)
    ]
    logits = accessibility_logits(
        peaks["pioneer_sites"].to_numpy(),
        peaks["type_index"].to_numpy(),
        peaks["activator_sites"].to_numpy(),
        peaks["ubiquitous_sites"].to_numpy(),
        len(types),
    )
    prob = sigmoid(logits)
    gene_names = [f"GENE{g + 1:04d}" for g in range(len(genes))]
    peaks["cell_type"] = [
        types[k] if k >= 0 else ("all" if u else "none")
        for k, u in zip(peaks["type_index"], peaks["ubiquitous_sites"], strict=True)
    ]
    peaks["gene"] = [gene_names[g] if g >= 0 else "." for g in peaks["gene_index"]]
    for k, t in enumerate(types):
        peaks[f"p_{t}"] = prob[:, k]

    # cells
    n = p.n_cells
    cell_type = np.repeat(np.arange(len(types)), -(-n // len(types)))[:n]
    cell_type = cell_type[rng.permutation(n)]
    barcodes = make_barcodes(rng, n)
    depth = rng.normal(np.log(p.depth), 0.3, n)
    library = rng.lognormal(0.0, 0.25, n)

    # ATAC: Bernoulli per peak and cell
    atac_p = sigmoid(logits[:, cell_type] + depth[None, :])
    atac = (rng.random(atac_p.shape) < atac_p).astype(np.int32)

    # RNA
    base = rng.lognormal(np.log(p.umis_per_gene), 0.5, len(genes))
    drive = np.zeros((len(genes), len(types)))
    causal = peaks[peaks["class"] == "causal"]
    for g, k_row in zip(causal["gene_index"], causal.index, strict=True):
        drive[g] += p.effect * prob[k_row]
    rate = base[:, None] * np.exp(drive)
    mean = rate[:, cell_type] * library[None, :]
    rna = rng.poisson(rng.gamma(p.theta, mean / p.theta)).astype(np.int32)

    gene_table = pd.DataFrame(
        {
            "gene": gene_names,
            "gene_id": [f"ENSGSIM{g + 1:07d}" for g in range(len(genes))],
            "chrom": [c for c, _, _ in genes],
            "tss": np.array([t for _, t, _ in genes], dtype=np.int64),
            "strand": [s for _, _, s in genes],
            "base": base,
        }
    )
    for k, t in enumerate(types):
        gene_table[f"rate_{t}"] = rate[:, k]

    pairs = pair_table(peaks, gene_table, p)
    variants = variant_table(reference, peaks, sites, prob, logits, gene_names, types, p, rng)
    peaks = peaks[
        [
            "peak_id",
            "chrom",
            "start",
            "end",
            "class",
            "cell_type",
            "gene",
            "pioneer_sites",
            "activator_sites",
            "ubiquitous_sites",
            *[f"p_{t}" for t in types],
        ]
    ]
    cells = pd.DataFrame({"barcode": barcodes, "cell_type": [types[k] for k in cell_type]})
    return MultiomeWorld(
        params=p,
        seed=seed,
        reference=reference,
        peaks=peaks.reset_index(drop=True),
        genes=gene_table,
        pairs=pairs,
        cells=cells,
        variants=variants,
        atac=sp.csc_matrix(atac),
        rna=sp.csc_matrix(rna),
        sites=sites,
    )
