"""`varinterp atac`: ATAC-seq reads to per-cell-type Tn5 insertion tracks, and footprints."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import (
    Device,
    Model,
    OutDir,
    OutFile,
    Overwrite,
    Quiet,
    Seed,
    Threads,
    Verbose,
)

__all__ = ["app", "footprint", "insertions"]

app = typer.Typer(
    help=(
        "ATAC-seq for base-resolution models (bpAI-TAC).\n\n"
        "[bold]insertions[/] turns a fragments file or BAM (with a barcode -> cell type "
        "table) or one file per cell type into per-cell-type Tn5 insertion bigWigs, "
        "insertion totals and an OCR set. [bold]footprint[/] predicts a motif's footprint "
        "in every cell type with a bpAI-TAC model, the Tn5 bias zeroed."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class Unknown(StrEnum):
    drop = "drop"
    error = "error"


@app.command("insertions")
def insertions(
    out: OutDir,
    chrom_sizes: Annotated[
        Path,
        typer.Option(
            "--chrom-sizes",
            metavar="FILE",
            help="chrom<TAB>length file, or the reference FASTA (contigs kept, in order).",
        ),
    ],
    fragments: Annotated[
        Path | None,
        typer.Option(
            "--fragments",
            metavar="FILE",
            help="Fragments file (chrom start end barcode [count]; .gz ok).",
        ),
    ] = None,
    bam: Annotated[
        Path | None,
        typer.Option("--bam", metavar="FILE", help="Coordinate-sorted BAM (barcode in --tag)."),
    ] = None,
    barcodes: Annotated[
        Path | None,
        typer.Option(
            "--barcodes",
            metavar="TSV",
            help="barcode<TAB>cell_type table (with --fragments/--bam).",
        ),
    ] = None,
    inputs: Annotated[
        Path | None,
        typer.Option(
            "--inputs",
            "--samples",
            metavar="TSV",
            help="cell_type<TAB>path table: one fragments file or BAM per row.",
        ),
    ] = None,
    peaks: Annotated[
        Path | None,
        typer.Option("--peaks", metavar="BED", help="OCR BED to use instead of calling peaks."),
    ] = None,
    shift: Annotated[
        bool,
        typer.Option(
            "--shift/--no-shift",
            help="Tn5 shift fragment ends +4/-4 (--no-shift for fragments already shifted, "
            "as 10x Cell Ranger and ArchR write them). BAM reads are always 5'-end sites.",
        ),
    ] = True,
    unknown_barcodes: Annotated[
        Unknown,
        typer.Option(
            "--unknown-barcodes", help="Records of barcodes not in the table: drop or error."
        ),
    ] = Unknown.drop,
    min_fragments: Annotated[
        int,
        typer.Option("--min-fragments", min=0, help="Fewest records a cell type may have."),
    ] = 1000,
    tag: Annotated[
        str, typer.Option("--tag", metavar="TAG", help="BAM tag of the cell barcode.")
    ] = "CB",
    min_mapq: Annotated[int, typer.Option("--min-mapq", min=0, help="BAM reads kept.")] = 30,
    call_peaks: Annotated[
        bool, typer.Option("--call-peaks/--no-peaks", help="Call and merge peaks.")
    ] = True,
    peak_width: Annotated[
        int, typer.Option("--peak-width", min=2, help="Width of called peaks, bp.")
    ] = 500,
    min_log10p: Annotated[
        float, typer.Option("--min-log10p", help="Summit threshold, -log10 Poisson p.")
    ] = 5.0,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Count Tn5 insertions per cell type into the folder --out.

    insertions/CELLTYPE.bw: insertions per base (both fragment ends). tasks.tsv: task,
    bigwig, insertions, records, cells (the tasks table of a bpAI-TAC run config).
    peaks.bed: the --peaks BED, or peaks called per cell type and merged (narrowPeak;
    docs/bpaitac.md says how). insertions.json: counts, unknown barcodes, contigs
    dropped. Inputs must be sorted by position; the input is read once, streaming.
    """
    require_file(chrom_sizes, "chrom sizes")
    for path, what in ((fragments, "fragments file"), (bam, "BAM"), (barcodes, "barcode table"),
                       (inputs, "input table"), (peaks, "peak BED")):  # fmt: skip
        if path is not None:
            require_file(path, what)
    set_threads(threads)
    from varinterp.atac.insertions import count_insertions

    with progress_bar("reading records", quiet=quiet) as on_progress:
        result = count_insertions(
            out=out, chrom_sizes=chrom_sizes, fragments=fragments, bam=bam, barcodes=barcodes,
            samples=inputs, peaks=peaks, shift=shift, unknown_barcodes=unknown_barcodes.value,
            min_fragments=min_fragments, barcode_tag=tag, min_mapq=min_mapq,
            call_peaks=call_peaks, peak_width=peak_width, min_log10p=min_log10p,
            overwrite=overwrite, on_progress=on_progress,
        )  # fmt: skip
    if not quiet:
        t = result.table
        console.print(
            f"{len(t)} cell types, {int(t['insertions'].sum()):,} insertions "
            f"(min {int(t['insertions'].min()):,}), {result.n_peaks:,} OCRs -> {result.out}"
        )


@app.command("footprint")
def footprint(
    model: Model,
    motif: Annotated[
        str, typer.Option("--motif", metavar="IUPAC", help="Motif (IUPAC), e.g. TGACTCA.")
    ],
    out: OutFile,
    n: Annotated[int, typer.Option("--n", min=1, help="Background sequences.")] = 200,
    gc: Annotated[float, typer.Option("--gc", help="GC share of the backgrounds.")] = 0.41,
    device: Device = "auto",
    threads: Threads = 1,
    seed: Seed = 0,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Footprint a motif in every cell type (bias zeroed) into the TSV --out.

    Columns: task, position (output window), offset (from the motif centre), with_motif
    and without (mean predicted profiles over --n random backgrounds), log2_ratio.
    """
    set_threads(threads)
    from varinterp.models.bpaitac.footprint import footprint_to_tsv

    with progress_bar("footprinting", quiet=quiet) as on_progress:
        fp = footprint_to_tsv(
            model=model, motif=motif, out=out, overwrite=overwrite, n=n, gc=gc, seed=seed,
            device=device, on_progress=on_progress,
        )  # fmt: skip
    if not quiet:
        dips = ", ".join(f"{t or 'model'} {fp.dip_offset(i):+.1f}" for i, t in
                         enumerate(fp.tasks[:6]))  # fmt: skip
        console.print(f"{fp.motif}: dip offsets from the motif centre (bp): {dips} -> {out}")
