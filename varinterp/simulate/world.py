"""The simulated world: a reference with planted elements, a phased cohort, and the truth.

`make_world` composes the builders, each fed by its own named random stream derived from
the seed (``SeedSequence([seed, crc32(name)])``). A part added later (tracks, cell types,
a GWAS locus) takes a new stream name, so it never changes the parts already built: the
same seed keeps giving the same reference and cohort.

To extend the world, write a builder ``make_<part>(*, rng, world, ...)`` that returns the
new part, add a field with a default of None to `World`, and attach it with
``dataclasses.replace(world, part=...)``; give it a writer in `writers`.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.progress import ProgressCallback, report
from varinterp.simulate.cohort import Cohort, make_cohort
from varinterp.simulate.elements import Element, MotifSite, plant_elements
from varinterp.simulate.indels import PlantedIndel, add_indels, background_indels, plant_indels
from varinterp.simulate.reference import Reference, make_reference
from varinterp.simulate.truth import make_truth
from varinterp.simulate.variants import PlantedVariant, plant_motif_variants

__all__ = ["World", "WorldParams", "make_world", "stream"]

_LIMITS = {
    "n_individuals": (2, 2_000),
    "genome_size": (20_000, 50_000_000),
    "n_chromosomes": (1, 50),
    "n_founders": (2, 200),
}


@dataclass(frozen=True)
class WorldParams:
    """Everything that decides a world; the same params give the same world."""

    seed: int = 0
    n_individuals: int = 60
    genome_size: int = 1_500_000
    n_chromosomes: int = 3
    snp_density: float = 1 / 300
    n_motif_variants: int | None = None  # None: one per 30 kb of genome
    n_founders: int = 10
    switch_length: float = 30_000.0
    causal_min_maf: float = 0.05
    gc: float = 0.41
    cpg_oe: float = 0.25
    promoter_spacing: int = 25_000  # one promoter per this many bp of each chromosome
    enhancer_spacing: int = 12_000  # one enhancer per this many bp
    n_indel_qtls: int = 0  # designed indels (`simulate.indels`); 0: none
    indel_density: float = 0.0  # background indels per bp; 0: none

    def motif_variant_count(self) -> int:
        if self.n_motif_variants is not None:
            return self.n_motif_variants
        return max(6, round(self.genome_size / 30_000))

    def validate(self) -> WorldParams:
        """Raise `InputError` naming the first parameter out of range; return self."""
        if self.seed < 0:
            msg = f"--seed must be >= 0, got {self.seed}"
            raise InputError(msg)
        for name, (lo, hi) in _LIMITS.items():
            value = getattr(self, name)
            if not lo <= value <= hi:
                flag = "--" + name.replace("_", "-")
                msg = f"{flag} must be between {lo} and {hi}, got {value}"
                raise InputError(msg)
        if self.genome_size / self.n_chromosomes < 10_000:
            msg = (
                f"chromosomes would be under 10 kb ({self.genome_size} bp over "
                f"{self.n_chromosomes}); raise --genome-size or lower --n-chromosomes"
            )
            raise InputError(msg)
        if not 0 < self.snp_density <= 0.05:
            msg = f"snp density must be in (0, 0.05], got {self.snp_density}"
            raise InputError(msg)
        if self.n_indel_qtls < 0 or not 0 <= self.indel_density <= 0.01:
            msg = (
                f"--n-indel-qtls must be >= 0 and --indel-density in [0, 0.01], got "
                f"{self.n_indel_qtls}, {self.indel_density}"
            )
            raise InputError(msg)
        if self.n_motif_variants is not None and self.n_motif_variants < 0:
            msg = f"--n-motif-variants must be >= 0, got {self.n_motif_variants}"
            raise InputError(msg)
        if not 0 <= self.causal_min_maf < 0.5:
            msg = f"causal minimum MAF must be in [0, 0.5), got {self.causal_min_maf}"
            raise InputError(msg)
        for name in ("promoter_spacing", "enhancer_spacing"):
            if not 2_000 <= getattr(self, name) <= 10_000_000:
                flag = "--" + name.replace("_", "-")
                msg = f"{flag} must be between 2000 and 10000000 bp, got {getattr(self, name)}"
                raise InputError(msg)
        if not 0.2 <= self.gc <= 0.7 or not 0.05 <= self.cpg_oe <= 1.0:
            msg = f"gc must be in [0.2, 0.7] and cpg_oe in [0.05, 1], got {self.gc}, {self.cpg_oe}"
            raise InputError(msg)
        return self


@dataclass(frozen=True, eq=False)
class World:
    """A simulated world. Coordinates are 0-based half-open throughout.

    ``reference``: the genome with elements planted (and motif-gain sites broken);
    ``elements``: promoters and enhancers with TSSs and motif sites;
    ``planted``: the designed motif SNPs; ``cohort``: all SNPs and phased haplotypes;
    ``truth``: one row per cohort variant (see `varinterp.simulate.truth`);
    ``indels``: the designed indel QTLs (empty unless `WorldParams.n_indel_qtls`).
    """

    params: WorldParams
    reference: Reference
    elements: tuple[Element, ...]
    planted: tuple[PlantedVariant, ...]
    cohort: Cohort
    truth: pd.DataFrame
    indels: tuple[PlantedIndel, ...] = ()

    def element(self, element_id: str) -> Element:
        """The element called `element_id` (KeyError when absent)."""
        for el in self.elements:
            if el.element_id == element_id:
                return el
        raise KeyError(element_id)

    @property
    def sites(self) -> tuple[MotifSite, ...]:
        """All motif sites, in element order."""
        return tuple(site for el in self.elements for site in el.sites)


def stream(seed: int, name: str) -> np.random.Generator:
    """The random generator of world part `name` for `seed` (independent of other parts)."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


def make_world(
    *,
    seed: int = 0,
    n_individuals: int = 60,
    genome_size: int = 1_500_000,
    n_chromosomes: int = 3,
    n_motif_variants: int | None = None,
    params: WorldParams | None = None,
    on_progress: ProgressCallback | None = None,
) -> World:
    """Build a world: reference -> elements -> designed motif SNPs -> cohort -> (indels,
    when `WorldParams` asks for them) -> truth.

    Pass either the common knobs or a full `params` (which then wins). Raises
    `InputError` for parameters out of range.
    """
    if params is None:
        params = WorldParams(
            seed=seed,
            n_individuals=n_individuals,
            genome_size=genome_size,
            n_chromosomes=n_chromosomes,
            n_motif_variants=n_motif_variants,
        )
    params.validate()
    total = 5
    report(on_progress, 0, total)
    reference = make_reference(
        rng=stream(params.seed, "reference"),
        genome_size=params.genome_size,
        n_chromosomes=params.n_chromosomes,
        gc=params.gc,
        cpg_oe=params.cpg_oe,
    )
    report(on_progress, 1, total)
    reference, elements = plant_elements(
        rng=stream(params.seed, "elements"),
        reference=reference,
        promoter_spacing=params.promoter_spacing,
        enhancer_spacing=params.enhancer_spacing,
    )
    report(on_progress, 2, total)
    reference, elements, planted = plant_motif_variants(
        rng=stream(params.seed, "motif_variants"),
        reference=reference,
        elements=elements,
        n_variants=params.motif_variant_count(),
    )
    report(on_progress, 3, total)
    cohort = make_cohort(
        rng=stream(params.seed, "cohort"),
        reference=reference,
        elements=elements,
        planted=planted,
        n_individuals=params.n_individuals,
        snp_density=params.snp_density,
        n_founders=params.n_founders,
        switch_length=params.switch_length,
        causal_min_maf=params.causal_min_maf,
    )
    indels: tuple[PlantedIndel, ...] = ()
    if params.n_indel_qtls or params.indel_density:
        indels = plant_indels(
            rng=stream(params.seed, "indels"), reference=reference, elements=elements,
            planted=planted, n_indels=params.n_indel_qtls,
        )  # fmt: skip
        background = background_indels(
            rng=stream(params.seed, "indels.background"), reference=reference,
            elements=elements, planted=planted, indels=indels, density=params.indel_density,
        )  # fmt: skip
        cohort = add_indels(
            rng=stream(params.seed, "indels.cohort"), cohort=cohort, reference=reference,
            indels=indels, background=background, causal_min_maf=params.causal_min_maf,
        )  # fmt: skip
    report(on_progress, 4, total)
    truth = make_truth(cohort=cohort, elements=elements, planted=(*planted, *indels))
    report(on_progress, 5, total)
    return World(
        params=params,
        reference=reference,
        elements=elements,
        planted=planted,
        cohort=cohort,
        truth=truth,
        indels=indels,
    )


def params_from_dict(data: dict) -> WorldParams:
    """`WorldParams` from a dict (e.g. ``world.json``), ignoring unknown keys."""
    names = {f.name for f in dataclasses.fields(WorldParams)}
    return WorldParams(**{k: v for k, v in data.items() if k in names})
