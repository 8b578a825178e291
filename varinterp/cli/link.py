"""`varinterp link`: enhancer-gene links (the activity-by-contact model)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Threads, Verbose

app = typer.Typer(
    help=(
        "Enhancer-gene links. 'candidates' makes ABC's candidate elements from a peak file "
        "and accessibility (strongest peaks, 500 bp around summits, merged, blocklist "
        "removed, promoters added); 'abc' runs the activity-by-contact model per cell type "
        "from candidate elements, genes and per-cell-type accessibility (+ H3K27ac) tracks, "
        "with power-law or Hi-C contact, and writes ABC-style TSVs and BEDPE links."
    ),
    no_args_is_help=True,
)


class AccessKind(StrEnum):
    ATAC = "ATAC"
    DHS = "DHS"


class HicKind(StrEnum):
    intact_hic = "intact_hic"
    avg = "avg"


@app.command("abc")
def abc(
    elements: Annotated[
        Path, typer.Option("--elements", metavar="BED", help="Candidate elements (BED).")
    ],
    genes: Annotated[
        Path,
        typer.Option("--genes", metavar="BED", help="Genes (BED6 with unique names and strand)."),
    ],
    samples: Annotated[
        Path,
        typer.Option(
            "--tracks",
            "--samples",
            metavar="TSV",
            help="Track table (docs/tracks.md), one row per cell type: cell_type, "
            "accessibility, optional h3k27ac, accessibility_depth, h3k27ac_depth, and plus / "
            "minus (initiation, for pruning). Signals are bigWigs or per-element count "
            "bedGraphs (which need *_depth).",
        ),
    ],
    out: OutDir,
    accessibility_kind: Annotated[
        AccessKind, typer.Option("--accessibility-kind", help="What the accessibility is.")
    ] = AccessKind.ATAC,
    qnorm: Annotated[
        Path | None,
        typer.Option(
            "--qnorm", metavar="FILE", help="Quantile-normalisation reference (ABC format)."
        ),
    ] = None,
    hic: Annotated[
        str | None,
        typer.Option(
            "--hic",
            metavar="FILE[::/resolutions/N]",
            help="Hi-C: .cool, .mcool::/resolutions/N, or a BEDPE contact table "
            "(chr1 x1 x2 chr2 y1 y2 contact). Omit for the power law.",
        ),
    ] = None,
    hic_resolution: Annotated[int, typer.Option("--hic-resolution", help="Hi-C bin size.")] = 5000,
    hic_kind: Annotated[
        HicKind, typer.Option("--hic-kind", help="Hi-C kind, for --threshold-from-table.")
    ] = HicKind.intact_hic,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Keep links with ABC.Score above this.")
    ] = 0.02,
    threshold_from_table: Annotated[
        bool,
        typer.Option(
            "--threshold-from-table", help="Use ABC's recommended threshold for the input kind."
        ),
    ] = False,
    window: Annotated[int, typer.Option("--window", help="Max element-TSS distance.")] = 5_000_000,
    min_initiation_cpm: Annotated[
        float,
        typer.Option(
            "--min-initiation-cpm",
            help="Prune links whose element has less initiation (CPM) when an initiation "
            "track is given.",
        ),
    ] = 20.0,
    all_putative: Annotated[
        bool, typer.Option("--all-putative", help="Also write every pair, unfiltered.")
    ] = False,
    threads: Threads = 1,
    expression_cutoff: Annotated[
        float,
        typer.Option(
            "--expression-cutoff", help="A gene with expression >= this is expressed (ABC: 1)."
        ),
    ] = 1.0,
    promoter_activity_quantile_cutoff: Annotated[
        float,
        typer.Option(
            "--promoter-activity-quantile-cutoff",
            help="A gene without expression data is expressed when its promoter activity "
            "quantile is >= this (ABC: 0.4).",
        ),
    ] = 0.4,
    expressed_only: Annotated[
        bool,
        typer.Option(
            "--expressed-only",
            help="Keep links of expressed genes only (TargetGeneIsExpressed), as the ABC "
            "pipeline's predictions do.",
        ),
    ] = False,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """ABC scores per cell type. Writes OUT/<cell_type>.abc.tsv (ABC columns) and
    OUT/<cell_type>.abc.bedpe (OUT is a folder)."""
    require_file(elements, "element BED")
    require_file(genes, "gene BED")
    require_file(samples, "track table")
    if qnorm is not None:
        require_file(qnorm, "quantile reference")
    from varinterp.regulatory.abc import AbcParams
    from varinterp.regulatory.abc_run import link_abc

    set_threads(threads)
    with progress_bar("scoring", quiet=quiet, unit="cell types") as on_progress:
        result = link_abc(
            elements=elements,
            genes=genes,
            samples=samples,
            out=out,
            accessibility_kind=accessibility_kind.value,
            qnorm=qnorm,
            hic=hic,
            hic_kind=hic_kind.value,
            threshold=None if threshold_from_table else threshold,
            min_initiation_cpm=min_initiation_cpm,
            params=AbcParams(window=window, hic_resolution=hic_resolution),
            all_putative=all_putative,
            expression_cutoff=expression_cutoff,
            promoter_activity_quantile_cutoff=promoter_activity_quantile_cutoff,
            expressed_only=expressed_only,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        counts = ", ".join(
            f"{k}: {v} (pruned {result.n_pruned[k]})" for k, v in result.n_links.items()
        )
        console.print(
            f"{result.n_pairs} candidate pairs; threshold {result.threshold}; links {counts}"
        )
        console.print(f"wrote {out}")


@app.command("candidates")
def candidates(
    peaks: Annotated[
        Path,
        typer.Option(
            "--peaks",
            metavar="BED",
            help="Accessibility peaks: narrowPeak (column 10 = summit offset) or BED.",
        ),
    ],
    accessibility: Annotated[
        Path,
        typer.Option(
            "--accessibility",
            metavar="FILE",
            help="ATAC/DHS signal: a bigWig, or a count bedGraph listing every peak.",
        ),
    ],
    chrom_sizes: Annotated[
        Path,
        typer.Option("--chrom-sizes", metavar="FILE", help="Chromosome sizes (name, length)."),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="FILE", help="Candidate regions (BED3) to write."),
    ],
    genes: Annotated[
        Path | None,
        typer.Option(
            "--genes", metavar="BED", help="Genes (BED6): their TSS +- --promoter-slop are added."
        ),
    ] = None,
    blocklist: Annotated[
        Path | None, typer.Option("--blocklist", metavar="BED", help="Regions to remove (BED).")
    ] = None,
    n_strongest: Annotated[
        int, typer.Option("--n-strongest", min=1, help="Strongest merged peaks kept.")
    ] = 150_000,
    peak_extend: Annotated[
        int, typer.Option("--peak-extend", min=0, help="bp each side of a summit.")
    ] = 250,
    promoter_slop: Annotated[
        int, typer.Option("--promoter-slop", min=0, help="bp each side of a TSS.")
    ] = 250,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """ABC candidate elements from peaks and accessibility, as the ABC pipeline makes them.

    Counts accessibility in each peak, keeps the --n-strongest merged peaks, takes their
    summits +- --peak-extend, merges, removes --blocklist, adds promoters (TSS +-
    --promoter-slop) and merges again. Writes OUT (BED3, 0-based half-open).
    """
    require_file(peaks, "peak file")
    require_file(chrom_sizes, "chromosome sizes")
    for path, what in ((genes, "gene BED"), (blocklist, "blocklist BED")):
        if path is not None:
            require_file(path, what)
    set_threads(threads)
    from varinterp.regulatory.abc_candidates import write_candidate_regions

    result = write_candidate_regions(
        out=out, overwrite=overwrite, peaks=peaks, accessibility=accessibility,
        chrom_sizes=chrom_sizes, genes=genes, blocklist=blocklist, n_strongest=n_strongest,
        peak_extend=peak_extend, promoter_slop=promoter_slop,
    )  # fmt: skip
    if not quiet:
        steps = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        console.print(f"{steps}; wrote {out}")
