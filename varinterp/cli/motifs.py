"""`varinterp motifs`: motif features of peaks (GET's region x motif-cluster matrix)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import Overwrite, Quiet, Threads, Verbose

__all__ = ["app"]

app = typer.Typer(
    help=(
        "Motif features. 'scan' scans peaks with memelite's FIMO (the shipped 2,179-matrix "
        "archetype collection and varinterp's clustering of it by default), sums each "
        "cluster's best-of-overlapping hit scores per peak, normalises each column by its "
        "maximum, adds each cell type's accessibility (log10 CPM) and writes .h5 or .npz."
    ),
    no_args_is_help=True,
)


@app.command("scan")
def scan(
    peaks: Annotated[
        Path, typer.Option("--peaks", metavar="BED", help="Peaks (BED, 0-based half-open).")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="FILE", help="Features file to write: .h5 or .npz."),
    ],
    fasta: Annotated[
        Path | None,
        typer.Option("--fasta", metavar="FILE", help="Reference FASTA to read the peaks from."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", "-s", metavar="DIR", help="Genome store (a person's sequence)."),
    ] = None,
    sample: Annotated[
        str | None, typer.Option("--sample", metavar="ID", help="The store's sample to scan.")
    ] = None,
    motifs: Annotated[
        Path | None,
        typer.Option(
            "--motifs",
            metavar="FILE",
            help="MEME file of letter-probability matrices (default: "
            "the shipped archetype collection).",
        ),
    ] = None,
    clusters: Annotated[
        Path | None,
        typer.Option(
            "--clusters",
            metavar="TSV",
            help="motif<TAB>cluster table (default: varinterp's "
            "clustering; with --motifs and no table, one cluster per motif).",
        ),
    ] = None,
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts",
            metavar="TSV",
            help="Counts table: chrom start end + one column per cell type.",
        ),
    ] = None,
    bigwigs: Annotated[
        Path | None,
        typer.Option(
            "--tracks",
            "--bigwigs",
            metavar="TSV",
            help=(
                "Track table (docs/tracks.md): cell_type and accessibility (or plus) "
                "bigWig; counts = sum over a peak."
            ),
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="FIMO p-value threshold for a hit.")
    ] = 1e-4,
    scaler: Annotated[
        float, typer.Option("--scaler", help="Column scaler before clipping at 1 (GET: 1.0).")
    ] = 1.0,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Scan peaks for motifs and write the region x cluster matrix (+ accessibility)."""
    from varinterp.motifs.pipeline import scan_peaks

    for path, what in (
        (peaks, "peaks"),
        (fasta, "FASTA"),
        (motifs, "motif file"),
        (clusters, "cluster table"),
        (counts, "counts table"),
        (bigwigs, "track table"),
    ):
        if path is not None:
            require_file(path, what)
    set_threads(threads)
    with progress_bar("scanning peaks", quiet=quiet) as on_progress:
        result = scan_peaks(
            peaks=peaks,
            out=out,
            fasta=fasta,
            store=store,
            sample=sample,
            motifs=motifs,
            clusters=clusters,
            counts=counts,
            bigwigs=bigwigs,
            threshold=threshold,
            scaler=scaler,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        types = (
            f", accessibility of {len(result.cell_types)} cell type(s)" if result.cell_types else ""
        )
        console.print(
            f"wrote {result.out}: {result.n_regions:,} regions x {result.n_clusters} clusters "
            f"({result.n_motifs:,} motifs, {result.n_hits:,} hits, "
            f"{result.nonzero_fraction:.1%} non-zero){types}"
        )
