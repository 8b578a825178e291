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
from varinterp.simulate.motifs import MOTIFS, allowed_mask, reverse_complement, sample_instance
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

PIONEERS = ("SPI1", "CEBP", "HNF4A", "NFKB", "ETS", "NRF1")
ACTIVATOR = "AP1"
UBIQUITOUS = "SP1"
CELL_TYPE_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
_BASE_LOGIT = -3.0
_W_PIONEER = 2.4
_W_ACTIVATOR = 0.9
_W_UBIQUITOUS = 1.8
_SITE_SLOTS = 14  # motif slots of 32 bp across the central 448 bp of a peak


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


def accessibility_logits(
    pioneer: np.ndarray,
    pioneer_type: np.ndarray,
    activator: np.ndarray,
    ubiquitous: np.ndarray,
    n_types: int,
) -> np.ndarray:
    """Accessibility logits ``(n_peaks, n_types) float64`` from motif copy counts (module
    docstring); `pioneer_type` is each peak's pioneer type index (-1: none)."""
    logits = np.full((pioneer.size, n_types), _BASE_LOGIT)
    logits += (_W_ACTIVATOR * activator + _W_UBIQUITOUS * ubiquitous)[:, None]
    rows = np.flatnonzero(pioneer_type >= 0)
    logits[rows, pioneer_type[rows]] += _W_PIONEER * pioneer[rows]
    return logits


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _gene_positions(p: MultiomeParams, rng: np.random.Generator) -> tuple[list, dict[str, int]]:
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


def _distance(p: MultiomeParams, rng: np.random.Generator) -> int:
    return int(min(2_000 + rng.exponential(p.causal_distance), 280_000)) * int(rng.choice([-1, 1]))


def _peak_rows(p: MultiomeParams, rng: np.random.Generator, genes: list, lengths: dict) -> list:
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


def _plant(
    reference: Reference, rows: list, p: MultiomeParams, rng: np.random.Generator, n_types: int
) -> list:
    """Write the motif sites of every peak into the reference; returns the sites as
    ``(chrom, start, motif, strand)``."""
    sites = []
    slot_width = 32
    for chrom, centre, _, k, _, n_pio, n_act, n_ubi in rows:
        names = [PIONEERS[k]] * n_pio + [ACTIVATOR] * n_act + [UBIQUITOUS] * n_ubi
        if not names:
            continue
        slots = rng.choice(_SITE_SLOTS, size=len(names), replace=False)
        seq = reference.sequences[chrom]
        for name, slot in zip(names, slots, strict=True):
            motif = MOTIFS[name]
            start = centre - _SITE_SLOTS * slot_width // 2 + int(slot) * slot_width
            start += int(rng.integers(0, slot_width - motif.length + 1))
            inst = sample_instance(motif, rng)
            strand = "+" if rng.random() < 0.5 else "-"
            seq[start : start + motif.length] = inst if strand == "+" else reverse_complement(inst)
            sites.append((chrom, start, name, strand))
    del n_types
    return sites


def _break_site(reference: Reference, site: tuple, rng: np.random.Generator) -> tuple[int, int]:
    """A position inside a motif site and an ALT base code that breaks it."""
    chrom, start, name, strand = site
    mask = allowed_mask(name)
    fixed = np.flatnonzero(mask.sum(axis=1) == 1)
    i = int(rng.choice(fixed))
    pos = start + i if strand == "+" else start + mask.shape[0] - 1 - i
    ref = int(reference.sequences[chrom][pos])
    choices = [b for b in range(4) if b != ref]
    return pos, int(rng.choice(choices))


def simulate_multiome_world(
    params: MultiomeParams | None = None, *, seed: int = 0
) -> MultiomeWorld:
    """Draw a multiome world (module docstring)."""
    p = params or MultiomeParams()
    rng = np.random.default_rng(seed)
    types = p.cell_types
    genes, lengths = _gene_positions(p, rng)
    genome = int(sum(lengths.values()))
    reference = make_reference(rng=rng, genome_size=genome, n_chromosomes=p.n_chromosomes)
    # make_reference splits the genome its own way: re-cut it to our contig lengths
    whole = np.concatenate(list(reference.sequences.values()))
    seqs, at = {}, 0
    for chrom, length in lengths.items():
        seqs[chrom] = whole[at : at + length].copy()
        at += length
    reference = Reference(sequences=seqs)
    rows = _peak_rows(p, rng, genes, lengths)
    sites = _plant(reference, rows, p, rng, len(types))

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
    prob = _sigmoid(logits)
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
    atac_p = _sigmoid(logits[:, cell_type] + depth[None, :])
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

    pairs = _pairs(peaks, gene_table, p)
    variants = _variants(reference, peaks, sites, prob, logits, gene_names, types, p, rng)
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


def _pairs(peaks: pd.DataFrame, genes: pd.DataFrame, p: MultiomeParams) -> pd.DataFrame:
    rows = []
    centre = ((peaks["start"] + peaks["end"]) / 2).to_numpy()
    for g, gene in genes.iterrows():
        on = (peaks["chrom"] == gene["chrom"]).to_numpy()
        d = centre - gene["tss"]
        near = np.flatnonzero(on & (np.abs(d) < 300_000))
        for i in near:
            cls, owner = peaks["class"].iat[i], peaks["gene_index"].iat[i]
            role = cls if (owner == g and cls in ("promoter", "causal", "decoy")) else "other"
            rows.append(
                (
                    gene["gene"],
                    peaks["peak_id"].iat[i],
                    float(d[i]),
                    role,
                    peaks["cell_type"].iat[i] if role in ("causal", "decoy") else ".",
                    p.effect if role == "causal" else 0.0,
                )
            )
    return pd.DataFrame(
        rows, columns=["gene", "peak_id", "distance", "role", "cell_type", "effect"]
    )


def _variants(reference, peaks, sites, prob, logits, gene_names, types, p, rng) -> pd.DataFrame:
    half = p.peak_width // 2
    pioneer_sites = [s for s in sites if s[2] in PIONEERS]
    site_chrom = np.array([s[0] for s in pioneer_sites], dtype=object)
    site_start = np.array([s[1] for s in pioneer_sites], dtype=np.int64)
    rows = []
    for i, row in peaks.iterrows():
        if row["class"] not in ("causal", "decoy"):
            continue
        own = np.flatnonzero(
            (site_chrom == row["chrom"])
            & (site_start >= row["centre"] - half)
            & (site_start < row["centre"] + half)
        )
        if own.size == 0:
            continue
        site = pioneer_sites[int(own[rng.integers(own.size)])]
        pos, alt = _break_site(reference, site, rng)
        k = int(row["type_index"])
        delta = 0.0
        if row["class"] == "causal":
            new = _sigmoid(np.array(logits[i, k] - _W_PIONEER))
            delta = p.effect * (float(new) - float(prob[i, k]))
        ref = int(reference.sequences[row["chrom"]][pos])
        rows.append(
            (
                f"sim{len(rows) + 1:05d}",
                row["chrom"],
                pos + 1,
                "ACGT"[ref],
                "ACGT"[alt],
                row["peak_id"],
                row["class"],
                gene_names[int(row["gene_index"])],
                types[k],
                delta,
            )
        )
    cols = [
        "id",
        "chrom",
        "pos",
        "ref",
        "alt",
        "peak_id",
        "peak_class",
        "gene",
        "cell_type",
        "true_delta",
    ]
    table = pd.DataFrame(rows, columns=cols)
    order = {c: j for j, c in enumerate(reference.names)}
    return (
        table.assign(_o=table["chrom"].map(order))
        .sort_values(["_o", "pos"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
