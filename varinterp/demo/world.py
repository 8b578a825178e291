"""Demo steps: simulate the world, build its personal-genome store, export personal windows.

`world_step` writes the seeded world (`DEMO_WORLD`) into ``world/``; `store_step` builds
``cohort.vgs`` from its VCF and FASTA; `windows_step` exports 1-kb windows around the
first five planted promoters (``promoter_windows.bed``) as IUPAC FASTA for three people
and as two-hot NPZ for everyone.
"""

from __future__ import annotations

import numpy as np

from varinterp.demo.context import DemoContext
from varinterp.io.atomic import atomic_write_text

__all__ = ["DEMO_WORLD", "WINDOW", "store_step", "windows_step", "world_step"]

#: Width of the exported promoter windows, bp.
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


def world_step(ctx: DemoContext) -> list[str]:
    """Simulate the demo world into ``world/``; sets ``ctx.objects['world']`` and
    ``ctx.files`` ``fasta``, ``vcf``, ``elements``."""
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


def store_step(ctx: DemoContext) -> list[str]:
    """Build the personal-genome store ``cohort.vgs``; sets ``ctx.files['store']``."""
    from varinterp.genome.build import build_store

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


def windows_step(ctx: DemoContext) -> list[str]:
    """Export personal windows around the first five promoters (module docstring)."""
    from varinterp.genome.export import export_sequences
    from varinterp.genome.store import GenomeStore

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
