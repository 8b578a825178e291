"""`varinterp simulate atac`: a simulated ATAC world (cell types, OCRs, Tn5, footprints)."""

from __future__ import annotations

from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose

__all__ = ["atac"]


def atac(
    out: OutDir,
    seed: Seed = 0,
    genome_size: Annotated[
        int, typer.Option("--genome-size", help="Reference length in bp (10 kb-200 Mb).")
    ] = 4_000_000,
    n_chromosomes: Annotated[
        int, typer.Option("--n-chromosomes", help="Chromosomes chr1..chrN.")
    ] = 6,
    ocr_spacing: Annotated[
        int, typer.Option("--ocr-spacing", help="One OCR per this many bp.")
    ] = 2_000,
    base_count: Annotated[
        float,
        typer.Option("--base-count", help="Typical insertions of an OCR with no active factor."),
    ] = 6.0,
    background_rate: Annotated[
        float, typer.Option("--background-rate", help="Tn5 background insertions per bp.")
    ] = 0.02,
    n_variants: Annotated[
        int | None,
        typer.Option("--n-variants", help="Designed SNPs (default one per three OCRs)."),
    ] = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write a simulated ATAC world into the folder --out (same seed: same bytes).

    11 immune-like cell types in 3 lineages (myeloid: SPI1, CEBP; B: EBF1, NFKB; T/NK:
    RUNX, TCF7, ETS; AP-1 and CTCF everywhere), OCRs built from their motifs,
    insertions drawn with footprints of bound factors and the real Tn5 preference.
    reference.fa, chrom.sizes; fragments.tsv.gz (+ .tbi, already shifted) and
    barcodes.tsv; ocrs.bed, background.bed; ocrs.tsv, sites.tsv, cell_types.tsv (truth);
    variants.vcf.gz and variant_effects.tsv (per-cell-type log2 fold change); atac.json.
    """
    set_threads(threads)
    from varinterp.simulate.atac_writers import simulate_atac

    with progress_bar("simulating the ATAC world", quiet=quiet) as on_progress:
        world, files = simulate_atac(
            out=out, overwrite=overwrite, on_progress=on_progress, seed=seed,
            genome_size=genome_size, n_chromosomes=n_chromosomes, ocr_spacing=ocr_spacing,
            base_count=base_count, background_rate=background_rate, n_variants=n_variants,
        )  # fmt: skip
    if not quiet:
        console.print(
            f"wrote {len(world.ocrs):,} OCRs, {len(world.cell_types)} cell types, "
            f"{world.fragments['start'].size:,} fragments and {len(world.variants)} SNPs to "
            f"{files.out_dir}"
        )
