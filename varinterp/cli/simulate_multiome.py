"""`varinterp simulate multiome`: a 10x multiome world with planted enhancers and decoys.

A command function only; the `simulate` group attaches it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose

__all__ = ["multiome"]


def multiome(
    out: OutDir,
    seed: Seed = 0,
    cells: Annotated[int, typer.Option("--cells", min=20, help="Cells (2000).")] = 2000,
    cell_types: Annotated[
        int, typer.Option("--cell-types", min=2, max=6, help="Cell types (4).")
    ] = 4,
    genes: Annotated[int, typer.Option("--genes", min=2, help="Genes (100).")] = 100,
    chromosomes: Annotated[int, typer.Option("--chromosomes", min=1, max=22)] = 2,
    gene_spacing: Annotated[
        int, typer.Option("--gene-spacing", help="Mean bp between TSSs (150 kb).")
    ] = 150_000,
    background_spacing: Annotated[
        int, typer.Option("--background-spacing", help="One background peak per this many bp.")
    ] = 12_000,
    decoys_per_causal: Annotated[
        int, typer.Option("--decoys-per-causal", min=0, help="Co-accessible decoys (2).")
    ] = 2,
    causal_distance: Annotated[
        float, typer.Option("--causal-distance", help="Mean enhancer-TSS distance (60 kb).")
    ] = 60_000.0,
    depth: Annotated[
        float, typer.Option("--depth", help="ATAC depth factor (odds multiplier, 1).")
    ] = 1.0,
    umis_per_gene: Annotated[
        float, typer.Option("--umis-per-gene", help="Typical UMIs of a gene in a cell (2).")
    ] = 2.0,
    effect: Annotated[
        float, typer.Option("--effect", help="Log-rate gain of a fully open causal enhancer (2).")
    ] = 2.0,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Simulate a 10x multiome run with known enhancers into the folder --out.

    multiome.h5 (10x filtered_feature_bc_matrix.h5), genome.fa, tss.bed, cell_types.tsv,
    variants.vcf.gz and truth/ (peaks, genes, gene-peak pairs, variants). Causal
    enhancers carry their cell type's pioneer motif and AP-1 and raise their gene's
    expression; decoys carry the pioneer motif only: co-accessible, no effect.
    """
    set_threads(threads)
    from varinterp.simulate.multiome_files import simulate_multiome

    with progress_bar("simulating multiome", quiet=quiet) as on_progress:
        files = simulate_multiome(
            out=out,
            seed=seed,
            n_cells=cells,
            n_cell_types=cell_types,
            n_genes=genes,
            n_chromosomes=chromosomes,
            gene_spacing=gene_spacing,
            background_spacing=background_spacing,
            decoys_per_causal=decoys_per_causal,
            causal_distance=causal_distance,
            depth=depth,
            umis_per_gene=umis_per_gene,
            effect=effect,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(
            f"wrote {files.n_cells:,} cells, {files.n_genes} genes, {files.n_peaks:,} peaks "
            f"({files.n_causal} causal enhancers, {files.n_decoys} decoys) and "
            f"{files.n_variants} variants to {files.out_dir}"
        )
