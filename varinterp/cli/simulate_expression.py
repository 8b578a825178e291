"""`varinterp simulate expression`: the expression world (part 7) GET is measured on.

A command function only; the `simulate` group attaches it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from varinterp.cli._common import console, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose

__all__ = ["expression"]


def expression(
    out: OutDir,
    seed: Seed = 0,
    n_chromosomes: Annotated[int, typer.Option("--n-chromosomes", help="Contigs chr1..chrN.")] = 3,
    chrom_length: Annotated[
        int, typer.Option("--chrom-length", help="Length of each contig.")
    ] = 2_000_000,
    mean_spacing: Annotated[
        int, typer.Option("--mean-spacing", help="Mean bp between peaks.")
    ] = 4_000,
    n_factors: Annotated[int, typer.Option("--n-factors", help="Transcription factors.")] = 12,
    n_cell_types: Annotated[
        int, typer.Option("--n-cell-types", help="Training cell types (plus one held out).")
    ] = 6,
    n_snps: Annotated[int, typer.Option("--n-snps", help="Motif-destroying SNPs.")] = 40,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Simulate peaks, per-cell-type accessibility, expression and motif SNPs with truth.

    Writes genome.fa, peaks.bed, counts.tsv, expression.tsv, genes.bed, motifs.meme,
    clusters.tsv, snps.vcf.gz, truth/ (factor activity, causal enhancers and decoys, SNP
    effects, planted sites) and world.json into --out (docs/simulation.md).
    """
    set_threads(threads)
    from varinterp.simulate.expression import simulate_expression

    world = simulate_expression(
        out=out,
        overwrite=overwrite,
        seed=seed,
        n_chromosomes=n_chromosomes,
        chrom_length=chrom_length,
        mean_spacing=mean_spacing,
        n_factors=n_factors,
        n_cell_types=n_cell_types,
        n_snps=n_snps,
    )
    if not quiet:
        console.print(
            f"wrote {out}: {len(world.regions):,} peaks, {len(world.genes):,} genes, "
            f"{len(world.cell_types)} cell types (held out: {world.held_out}), "
            f"{int(world.enhancers['causal'].sum()):,} causal enhancer links, "
            f"{len(world.snps)} SNPs"
        )
