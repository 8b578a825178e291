"""`varinterp deconvolve pseudobulk` and `varinterp deconvolve preflight`: scATAC inputs.

Command functions only; the `deconvolve` group attaches them.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, err_console, progress_bar, require_file, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose
from varinterp.errors import InputError

__all__ = ["preflight", "pseudobulk"]


class TrackMode(StrEnum):
    """How fragments become a track."""

    coverage = "coverage"
    cutsites = "cutsites"


Fragments = Annotated[
    Path,
    typer.Option(
        "--fragments",
        metavar="FILE",
        help="scATAC fragments: chrom, start, end, barcode[, count] (TSV, plain or bgzipped).",
    ),
]
Barcodes = Annotated[
    Path,
    typer.Option(
        "--barcodes", metavar="TSV", help="Barcode table: barcode<TAB>cell_type, no header."
    ),
]
BulkPl = Annotated[
    Path | None,
    typer.Option(
        "--bulk-pl", metavar="FILE", help="Bulk plus-strand bigWig (preflight; contig names)."
    ),
]
BulkMn = Annotated[
    Path | None,
    typer.Option("--bulk-mn", metavar="FILE", help="Bulk minus-strand bigWig (preflight)."),
]
ChromSizes = Annotated[
    Path | None,
    typer.Option(
        "--chrom-sizes", metavar="FILE", help="chrom<TAB>length file (default: the bulk's header)."
    ),
]
Peaks = Annotated[
    Path | None,
    typer.Option(
        "--peaks", metavar="BED", help="ATAC peaks (BED) for the preflight's signature regions."
    ),
]
Cutoff = Annotated[
    float,
    typer.Option("--cutoff", min=0.0, max=1.0, help="Preflight: drop types under this fraction."),
]
MergeInto = Annotated[
    str | None,
    typer.Option(
        "--merge-into",
        metavar="NAME",
        help="Preflight: merge low-fraction types into one type of this name (e.g. others) "
        "instead of dropping them.",
    ),
]
MinCells = Annotated[
    int, typer.Option("--min-cells", min=1, help="Drop cell types with fewer cells than this.")
]
StrictInput = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Make small cell types, fragments on unknown contigs and bad fragments errors.",
    ),
]


def _check(*paths: tuple[Path | None, str]) -> None:
    for path, what in paths:
        if path is not None:
            require_file(path, what)


def pseudobulk(
    fragments: Fragments,
    barcodes: Barcodes,
    out: OutDir,
    bulk_pl: BulkPl = None,
    bulk_mn: BulkMn = None,
    chrom_sizes: ChromSizes = None,
    peaks: Peaks = None,
    skip_preflight: Annotated[
        bool, typer.Option("--skip-preflight", help="Keep every cell type; no --peaks needed.")
    ] = False,
    mode: Annotated[
        TrackMode,
        typer.Option(
            "--mode",
            help="coverage: whole-fragment coverage (DeepDETAILS); cutsites: the two Tn5 "
            "insertion sites per fragment.",
        ),
    ] = TrackMode.coverage,
    min_cells: MinCells = 20,
    cutoff: Cutoff = 0.035,
    merge_into: MergeInto = None,
    seed: Seed = 0,
    strict: StrictInput = False,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Per-cell-type pseudo-bulk accessibility bigWigs from scATAC fragments.

    Writes into the folder --out: <cell type>.bw (raw counts per base), library_sizes.tsv
    (cell_type, n_cells, n_fragments, norm = 1e6 / n_fragments, bigwig), tracks.tsv (the
    track table: accessibility and accessibility_depth per cell type, docs/tracks.md)
    and, unless --skip-preflight, preflight/ (preflight.tsv, signatures.tsv,
    signatures.png, barcodes.tsv). The preflight needs --peaks and --bulk-pl. Pass the
    tracks to `deconvolve prep` as --tracks <out>/tracks.tsv.
    """
    _check(
        (fragments, "fragments file"),
        (barcodes, "barcode table"),
        (bulk_pl, "bulk plus-strand bigWig"),
        (bulk_mn, "bulk minus-strand bigWig"),
        (chrom_sizes, "chrom sizes file"),
        (peaks, "peaks BED"),
    )
    if not skip_preflight and (peaks is None or bulk_pl is None):
        msg = "the preflight needs --peaks (ATAC peaks) and --bulk-pl; or pass --skip-preflight"
        raise InputError(msg)
    from varinterp.deconv.pseudobulk import make_pseudobulk

    set_threads(threads)
    with progress_bar("writing pseudo-bulk tracks", quiet=quiet) as on_progress:
        result = make_pseudobulk(
            fragments=fragments,
            barcodes=barcodes,
            out=out,
            chrom_sizes=chrom_sizes,
            bulk=bulk_pl,
            bulk_mn=bulk_mn,
            peaks=None if skip_preflight else peaks,
            mode=mode.value,
            min_cells=min_cells,
            strict=strict,
            seed=seed,
            cutoff=cutoff,
            merge_into=merge_into,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if result.dropped:
        listed = ", ".join(f"{k} ({n} cells)" for k, n in result.dropped.items())
        err_console.print(f"warning: dropped cell types with < {min_cells} cells: {listed}")
    if result.off_contig:
        listed = ", ".join(f"{k} ({n})" for k, n in result.off_contig.items())
        err_console.print(f"warning: fragments on contigs not in the chrom sizes: {listed}")
    if quiet:
        return
    pf = result.preflight
    if pf is not None:
        for row in pf.table.itertuples(index=False):
            console.print(f"preflight {row.cell_type}: fraction {row.fraction:.3f} ({row.status})")
    console.print(
        f"{result.n_unmatched_fragments} of {result.n_lines} fragments "
        f"({result.n_unmatched_barcodes} barcodes) are not in the barcode table"
    )
    for row in result.table.itertuples(index=False):
        console.print(f"{row.cell_type}: {row.n_cells} cells, {row.n_fragments} fragments")
    console.print(f"wrote {len(result.tracks)} tracks to {out}")


def preflight(
    fragments: Fragments,
    barcodes: Barcodes,
    peaks: Annotated[
        Path, typer.Option("--peaks", metavar="BED", help="ATAC peaks (BED): candidate regions.")
    ],
    bulk_pl: Annotated[
        Path, typer.Option("--bulk-pl", metavar="FILE", help="Bulk plus-strand bigWig.")
    ],
    out: OutDir,
    bulk_mn: BulkMn = None,
    chrom_sizes: ChromSizes = None,
    cutoff: Cutoff = 0.035,
    merge_into: MergeInto = None,
    min_cells: MinCells = 20,
    replicates: Annotated[
        int, typer.Option("--replicates", min=2, help="Pseudo-replicates per cell type.")
    ] = 5,
    max_per_type: Annotated[
        int, typer.Option("--max-per-type", min=1, help="Most signature regions per type.")
    ] = 1000,
    q_cutoff: Annotated[
        float,
        typer.Option(
            "--fdr",
            "--q",
            min=0.0,
            max=1.0,
            help="Benjamini-Hochberg FDR cut-off for signature regions (q < FDR).",
        ),
    ] = 0.01,
    fold_change: Annotated[float, typer.Option("--fold-change", help="Fold-change cutoff.")] = 2.0,
    nu: Annotated[float, typer.Option("--nu", min=0.01, max=1.0, help="NuSVR nu.")] = 0.85,
    seed: Seed = 0,
    strict: StrictInput = False,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Estimate cell-type fractions in the bulk and flag types absent from it.

    Writes into the folder --out: preflight.tsv (cell_type, n_cells, fraction, status:
    kept / dropped / merged / too_few_cells), signatures.tsv (signature regions with
    mean CPM per cell type and the bulk), signatures.png and barcodes.tsv (the barcode
    table after dropping / merging, for `deconvolve pseudobulk --skip-preflight`).
    """
    _check(
        (fragments, "fragments file"),
        (barcodes, "barcode table"),
        (peaks, "peaks BED"),
        (bulk_pl, "bulk plus-strand bigWig"),
        (bulk_mn, "bulk minus-strand bigWig"),
        (chrom_sizes, "chrom sizes file"),
    )
    from varinterp.deconv.preflight import preflight_files

    set_threads(threads)
    with progress_bar("preflight", quiet=quiet) as on_progress:
        result = preflight_files(
            fragments=fragments,
            barcodes=barcodes,
            peaks=peaks,
            bulk_pl=bulk_pl,
            bulk_mn=bulk_mn,
            out=out,
            chrom_sizes=chrom_sizes,
            strict=strict,
            cutoff=cutoff,
            overwrite=overwrite,
            on_progress=on_progress,
            seed=seed,
            n_replicates=replicates,
            q_cutoff=q_cutoff,
            fc_cutoff=fold_change,
            max_per_type=max_per_type,
            nu=nu,
            min_cells=min_cells,
            merge_into=merge_into,
        )
    for warning in result.warnings:
        err_console.print(f"warning: {warning}")
    if quiet:
        return
    for row in result.table.itertuples(index=False):
        console.print(f"{row.cell_type}: fraction {row.fraction:.3f} ({row.status})")
    console.print(
        f"{len(result.signatures)} signature regions (up to {result.per_type} per type), "
        f"nu-SVR R^2 {result.r2:.3f}; wrote {out}"
    )
