"""The end-to-end demo on a simulated world: one function, a list of steps.

`run_demo` makes a seeded world, builds the personal-genome store, exports personal
windows around planted promoters, and summarises what it did. Each capability of
varinterp adds a step here; a step reads and writes files under the demo folder and
returns lines for the summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from varinterp.effects.demo_step import qtl_step, scoring_step
from varinterp.genome.build import build_store
from varinterp.genome.export import export_sequences
from varinterp.genome.store import GenomeStore
from varinterp.io.atomic import atomic_write_text
from varinterp.report.demo_step import locus_report_step
from varinterp.simulate.celltypes_demo import deconvolution_step
from varinterp.training.demo_step import clipnet_step

__all__ = ["DEMO_WORLD", "DemoContext", "DemoStep", "run_demo"]

WINDOW = 1000

#: The demo's world: five 500-kb chromosomes with a promoter every 5 kb and an enhancer
#: every 6 kb (the `simulate world` defaults plant one per 25 and 12 kb). A fold model
#: then trains on three chromosomes, ~470 PRO-cap peaks: with the default density
#: (~60 training peaks) the small CLIPNET memorised its training peaks and learnt
#: nothing that carried over to held-out chromosomes.
DEMO_WORLD = {
    "n_chromosomes": 5,
    "genome_size": 2_500_000,
    "promoter_spacing": 5_000,
    "enhancer_spacing": 6_000,
}


@dataclass
class DemoContext:
    """What the steps share: the demo folder, the seed, and what earlier steps made."""

    out: Path
    seed: int
    threads: int
    files: dict[str, Path] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    name: str
    run: Callable[[DemoContext], list[str]]


def _world(ctx: DemoContext) -> list[str]:
    from varinterp.simulate.store import simulate_world

    world, files = simulate_world(
        out=ctx.out / "world", seed=ctx.seed, overwrite=True, **DEMO_WORLD
    )
    ctx.objects["world"] = world
    ctx.files.update(fasta=files.fasta, vcf=files.vcf, elements=files.elements_bed)
    n_prom = sum(e.kind == "promoter" for e in world.elements)
    causal = int((world.truth["causal"] == "true").sum())
    return [
        f"{world.reference.size:,} bp over {len(world.reference.names)} chromosomes, "
        f"{n_prom} promoters, {len(world.elements) - n_prom} enhancers",
        f"{world.cohort.n_variants:,} SNPs in {world.cohort.n_samples} individuals, "
        f"{causal} designed causal SNPs in motifs",
    ]


def _store(ctx: DemoContext) -> list[str]:
    out = ctx.out / "cohort.vgs"
    summary = build_store(
        vcf=ctx.files["vcf"], fasta=ctx.files["fasta"], out=out, strict=True, overwrite=True
    )
    ctx.files["store"] = out
    vcf_bytes = ctx.files["vcf"].stat().st_size
    return [
        f"{summary.n_variants:,} SNVs x {summary.n_samples} samples; store "
        f"{summary.size_bytes / 1e6:.2f} MB (VCF.gz {vcf_bytes / 1e6:.2f} MB, reference "
        f"{summary.reference_bases / 1e6:.2f} Mb at one byte per base)",
    ]


def _windows(ctx: DemoContext) -> list[str]:
    world = ctx.objects["world"]
    promoters = [e for e in world.elements if e.kind == "promoter"][:5]
    lines = []
    for e in promoters:
        centre = e.tss[0].pos if e.tss else (e.start + e.end) // 2
        start = max(centre - WINDOW // 2, 0)
        lines.append(f"{e.chrom}\t{start}\t{start + WINDOW}\t{e.element_id}\n")
    bed = ctx.out / "promoter_windows.bed"
    atomic_write_text(bed, "".join(lines))
    store = GenomeStore.open(ctx.files["store"])
    samples = store.samples[:3]
    fasta = ctx.out / "promoter_windows.iupac.fa"
    npz = ctx.out / "promoter_windows.npz"
    export_sequences(store=ctx.files["store"], regions=bed, out=fasta, samples=samples)
    export_sequences(store=ctx.files["store"], regions=bed, out=npz, fmt="npz")
    two_hot = np.load(npz)["two_hot"]  # (samples, regions, 4, length)
    het = int((two_hot == 1).any(axis=2).sum())
    return [
        f"{two_hot.shape[1]} promoter windows x {two_hot.shape[0]} people -> {npz.name} "
        f"(two-hot {tuple(two_hot.shape)} uint8), {fasta.name} (IUPAC, {len(samples)} people)",
        f"{het:,} heterozygous positions across those windows",
    ]


STEPS: list[DemoStep] = [
    DemoStep("simulate a world", _world),
    DemoStep("build the personal-genome store", _store),
    DemoStep("export personal promoter windows", _windows),
    DemoStep("train a small CLIPNET on simulated PRO-cap", clipnet_step),
    DemoStep("score causal vs non-causal SNPs", scoring_step),
    DemoStep("QTL benchmark: personal vs reference-only", qtl_step),
    DemoStep("simulate cell types and deconvolve a bulk", deconvolution_step),
    DemoStep("simulate, fine-map and report a PSC-like locus", locus_report_step),
]


def run_demo(
    *,
    out: str | os.PathLike,
    seed: int = 0,
    threads: int = 1,
    on_step: Callable[[str, list[str]], None] | None = None,
) -> dict[str, list[str]]:
    """Run every demo step into the folder `out` (created; reused when present).

    `on_step(name, lines)` is called after each step. Returns the lines of every step.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(out=out, seed=seed, threads=threads)
    results: dict[str, list[str]] = {}
    for step in STEPS:
        lines = step.run(ctx)
        results[step.name] = lines
        if on_step is not None:
            on_step(step.name, lines)
    summary = "".join(
        f"## {name}\n" + "".join(f"- {x}\n" for x in lines) for name, lines in results.items()
    )
    atomic_write_text(out / "SUMMARY.md", f"# varinterp demo (seed {seed})\n\n{summary}")
    return results
