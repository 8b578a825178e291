"""Simulated worlds with known truth, for demos, tests and benchmarks.

A world is a synthetic reference genome (human-like GC and CpG depletion) with planted
promoters and enhancers built from known motifs, a phased cohort VCF with a neutral
allele-frequency spectrum and founder-mosaic LD, and designed SNPs that break, create or
leave intact planted motifs, listed in a truth table.

    from varinterp.simulate import make_world, write_world
    world = make_world(seed=1, n_individuals=60, genome_size=1_500_000)
    write_world(world, "world/")

Modules: `motifs` (consensus motifs and PWMs), `reference` (background genome),
`elements` (promoter / enhancer grammar), `variants` (designed motif SNPs), `cohort`
(SNPs, haplotypes), `truth`, `world` (`World`, `make_world`), `writers`, `store`.
Later parts: `procap` (PRO-cap libraries), `celltypes` (cell types, scATAC, a bulk),
`mixture` and `mixture_folder` (bulk thinning, pseudo-bulk scATAC references), `gwas`.
Coordinates are 0-based half-open inside; the VCF and truth TSV use 1-based positions.

The package imports nothing above `varinterp.io` and `varinterp.genome`, and no stage
imports it; the demo that runs the stages on a world is `varinterp.demo`.
"""

from __future__ import annotations

from varinterp.simulate.cohort import Cohort, make_cohort
from varinterp.simulate.elements import TSS, Element, MotifSite, plant_elements
from varinterp.simulate.motifs import MOTIFS, Motif, register_motif
from varinterp.simulate.reference import Reference, make_reference
from varinterp.simulate.store import load_world, simulate_world
from varinterp.simulate.truth import TRUTH_COLUMNS, make_truth
from varinterp.simulate.variants import PlantedVariant, plant_motif_variants
from varinterp.simulate.world import World, WorldParams, make_world
from varinterp.simulate.writers import WorldFiles, write_world

__all__ = [
    "MOTIFS",
    "TRUTH_COLUMNS",
    "TSS",
    "Cohort",
    "Element",
    "Motif",
    "MotifSite",
    "PlantedVariant",
    "Reference",
    "World",
    "WorldFiles",
    "WorldParams",
    "load_world",
    "make_cohort",
    "make_reference",
    "make_truth",
    "make_world",
    "plant_elements",
    "plant_motif_variants",
    "register_motif",
    "simulate_world",
    "write_world",
]
