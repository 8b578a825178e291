"""`varinterp simulate`: synthetic worlds with known truth."""

from __future__ import annotations

from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose
from varinterp.cli.simulate_atac import atac
from varinterp.cli.simulate_celltypes import celltypes
from varinterp.cli.simulate_expression import expression
from varinterp.cli.simulate_gwas import gwas
from varinterp.cli.simulate_mixture import mixture
from varinterp.cli.simulate_multiome import multiome
from varinterp.cli.simulate_procap import procap

app = typer.Typer(
    help=(
        "Synthetic worlds with known truth, for demos, tests and benchmarks.\n\n"
        "[bold]world[/] writes a seeded synthetic reference (human-like GC, CpG depletion) "
        "with planted promoters and enhancers built from known motifs, a phased cohort "
        "VCF (neutral allele-frequency spectrum, LD from founder mosaics) and a truth "
        "table of designed SNPs that break, create or leave intact planted motifs."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@app.command("world")
def world(
    out: OutDir,
    seed: Seed = 0,
    n_individuals: Annotated[
        int, typer.Option("--n-individuals", "-n", help="Cohort size (2-2000).")
    ] = 60,
    genome_size: Annotated[
        int, typer.Option("--genome-size", help="Total reference length in bp (20 kb-50 Mb).")
    ] = 1_500_000,
    n_chromosomes: Annotated[
        int, typer.Option("--n-chromosomes", help="Number of chromosomes (chr1..chrN).")
    ] = 3,
    n_motif_variants: Annotated[
        int | None,
        typer.Option(
            "--n-motif-variants",
            help="Designed SNPs in motif sites (70% break, 15% gain, 15% neutral); "
            "default one per 30 kb.",
        ),
    ] = None,
    promoter_spacing: Annotated[
        int,
        typer.Option(
            "--promoter-spacing",
            help="One planted promoter per this many bp of each chromosome (2 kb-10 Mb); "
            "lower it for more PRO-cap peaks to train on.",
        ),
    ] = 25_000,
    enhancer_spacing: Annotated[
        int,
        typer.Option("--enhancer-spacing", help="One planted enhancer per this many bp."),
    ] = 12_000,
    threads: Threads = 1,
    causal_min_maf: Annotated[
        float,
        typer.Option(
            "--causal-min-maf",
            help="Smallest minor-allele frequency of a designed motif SNP (0-0.5); raise "
            "it (with --n-motif-variants) for many causal QTLs with both homozygous groups.",
        ),
    ] = 0.05,
    n_indel_qtls: Annotated[
        int,
        typer.Option(
            "--n-indel-qtls",
            help="Designed indel QTLs (40% deletions breaking a motif, 30% insertions of an "
            "activator motif, 30% insertions between a TATA box and its TSS); default none.",
        ),
    ] = 0,
    indel_density: Annotated[
        float,
        typer.Option(
            "--indel-density", help="Neutral background indels per bp (0-0.01); default none."
        ),
    ] = 0.0,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write a simulated world into the folder --out (same seed and options: same bytes).

    reference.fa + .fai: the genome, chr1..chrN, with planted elements.
    cohort.vcf.gz + .tbi: VCFv4.2, phased GT, 1-based positions.
    elements.bed, elements.tsv: promoters and enhancers (BED is 0-based half-open).
    motifs.bed, tss.bed: planted motif sites and transcription start sites.
    truth.tsv: one row per variant (class, causal, direction, element, motif).
    world.json: parameters, counts and file checksums.
    """
    from varinterp.simulate.store import simulate_world

    set_threads(threads)
    with progress_bar("simulating world", quiet=quiet) as on_progress:
        built, files = simulate_world(
            out=out,
            seed=seed,
            n_individuals=n_individuals,
            genome_size=genome_size,
            n_chromosomes=n_chromosomes,
            n_motif_variants=n_motif_variants,
            promoter_spacing=promoter_spacing,
            enhancer_spacing=enhancer_spacing,
            causal_min_maf=causal_min_maf,
            n_indel_qtls=n_indel_qtls,
            indel_density=indel_density,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        causal = int((built.truth["causal"] == "true").sum())
        n_prom = sum(e.kind == "promoter" for e in built.elements)
        console.print(
            f"wrote a {built.reference.size:,} bp world to {files.out_dir}: "
            f"{len(built.reference.names)} chromosomes, {n_prom} promoters, "
            f"{len(built.elements) - n_prom} enhancers, {built.cohort.n_variants:,} variants "
            f"in {built.cohort.n_samples} individuals ({causal} causal"
            + (f", {len(built.indels)} designed indels)" if built.indels else ")")
        )


app.command("procap")(procap)
app.command("gwas")(gwas)
app.command("celltypes")(celltypes)
app.command("mixture")(mixture)
app.command("expression")(expression)
app.command("multiome")(multiome)
app.command("atac")(atac)
