"""`varinterp elements`: cell-type-specific elements and GWAS enrichment in them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._conventions import refuse_existing
from varinterp.cli._options import Fdr, OutDir, OutFile, Overwrite, Quiet, Threads, Verbose

app = typer.Typer(
    help=(
        "Cell-type-specific regulatory elements from per-cell-type tracks (deconvolved or "
        "measured bigWigs) over regions, and enrichment of GWAS-trait variants in them. "
        "'call' writes a TSV of every region x cell type test and a BED of specific regions "
        "per cell type; 'enrich' writes a TSV of Fisher tests per trait x cell type and a "
        "heatmap."
    ),
    no_args_is_help=True,
)


class Alternative(StrEnum):
    greater = "greater"
    two_sided = "two-sided"


class Test(StrEnum):
    auto = "auto"
    counts = "counts"
    welch = "welch"


class Background(StrEnum):
    nonspecific = "nonspecific"
    rest = "rest"


@app.command("call")
def call(
    tracks: Annotated[
        Path,
        typer.Option(
            "--tracks",
            metavar="TSV",
            help="Track table (docs/tracks.md): cell_type, plus (bigWig), optional minus, "
            "depth (total for CPM) and reads (library read count, for the count test of "
            "tracks not in read counts). Several rows per cell type are replicates.",
        ),
    ],
    regions: Annotated[
        Path, typer.Option("--regions", metavar="BED", help="Regions to test (BED).")
    ],
    out: OutDir,
    fdr: Fdr = 0.05,
    log2fc: Annotated[
        float, typer.Option("--log2fc", help="log2 fold change cutoff (cell type vs rest, >).")
    ] = 2.0,
    bins: Annotated[
        int,
        typer.Option(
            "--bins",
            min=1,
            help="Welch only: split each region into N bins used as samples "
            "(pseudo-replicates; the count test needs none).",
        ),
    ] = 1,
    pseudocount: Annotated[
        float, typer.Option("--pseudocount", help="CPM added to both means in the fold change.")
    ] = 0.01,
    alternative: Annotated[
        Alternative, typer.Option("--alternative", help="Welch t-test alternative.")
    ] = Alternative.greater,
    threads: Threads = 1,
    test: Annotated[
        Test,
        typer.Option(
            "--test",
            help="counts: beta-binomial test of the cell type's share of each region's reads "
            "(one track per cell type); welch: t-test over replicate tracks (or --bins); "
            "auto: counts when a cell type has one track, else welch.",
        ),
    ] = Test.auto,
    dispersion: Annotated[
        float | None,
        typer.Option(
            "--dispersion",
            help="Count test: fix the beta-binomial dispersion rho (0 = Poisson); default: "
            "estimated per cell type across regions.",
        ),
    ] = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Test each cell type against the others over each region (a count test with one track
    per cell type, Welch's t-test with replicates), BH FDR per cell type. Writes
    OUT/elements.tsv and OUT/<cell_type>.specific.bed (OUT is a folder)."""
    require_file(tracks, "track table")
    require_file(regions, "region BED")
    from varinterp.regulatory.elements import call_elements

    set_threads(threads)
    with progress_bar("reading tracks", quiet=quiet, unit="region sums") as on_progress:
        result = call_elements(
            tracks=tracks,
            regions=regions,
            out=out,
            fdr=fdr,
            log2fc=log2fc,
            bins=bins,
            pseudocount=pseudocount,
            alternative=alternative.value,
            test=test.value,
            dispersion=dispersion,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        counts = ", ".join(f"{k}: {v}" for k, v in result.n_specific.items())
        console.print(
            f"tested {result.n_regions} regions ({result.test} test); specific per cell "
            f"type: {counts}"
        )
        console.print(f"wrote {out}/elements.tsv and one BED per cell type")


@app.command("enrich")
def enrich(
    variants: Annotated[
        Path,
        typer.Option(
            "--variants",
            metavar="TSV",
            help="GWAS variants (TSV with header): chrom, pos (1-based) or start (0-based), "
            "trait. One row per variant and trait.",
        ),
    ],
    peaks: Annotated[Path, typer.Option("--peaks", metavar="BED", help="Bulk peak regions (BED).")],
    elements: Annotated[
        Path,
        typer.Option(
            "--elements",
            metavar="TSV",
            help="elements.tsv from 'elements call', or a TSV with cell_type and bed columns.",
        ),
    ],
    out: OutFile,
    heatmap: Annotated[
        Path | None,
        typer.Option("--heatmap", metavar="FILE", help="Heatmap image (.png, .pdf or .svg)."),
    ] = None,
    background: Annotated[
        Background,
        typer.Option(
            "--background",
            help="nonspecific: variants in no cell type's specific regions; rest: all others.",
        ),
    ] = Background.nonspecific,
    alternative: Annotated[
        Alternative, typer.Option("--alternative", help="Fisher exact test alternative.")
    ] = Alternative.two_sided,
    fdr: Annotated[
        float,
        typer.Option(
            "--fdr",
            "--alpha",
            min=0.0,
            max=1.0,
            help="Benjamini-Hochberg FDR cut-off over trait x cell type (q < FDR).",
        ),
    ] = 0.05,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Fisher exact tests of trait variants in cell-type-specific vs non-specific bulk-peak
    regions, odds ratios with 95% CIs, BH over trait x cell type. Writes the TSV OUT."""
    require_file(variants, "variant table")
    require_file(peaks, "peak BED")
    require_file(elements, "elements table")
    refuse_existing(out, overwrite=overwrite)
    if heatmap is not None:
        refuse_existing(heatmap, overwrite=overwrite)
    from varinterp.regulatory.enrichment import enrich as run_enrich

    set_threads(threads)
    result = run_enrich(
        variants=variants,
        peaks=peaks,
        elements=elements,
        out=out,
        heatmap=heatmap,
        background=background.value,
        alternative=alternative.value,
        alpha=fdr,
    )
    if not quiet:
        console.print(
            f"{result.n_significant} of {result.n_tests} trait x cell type tests significant; "
            f"wrote {result.table}" + (f" and {result.heatmap}" if result.heatmap else "")
        )
