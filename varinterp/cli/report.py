"""`varinterp report`: reports that combine fine-mapping with regulatory evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import Overwrite, Quiet, Threads, Verbose

app = typer.Typer(
    help=(
        "Reports for a GWAS locus. [bold]locus[/] combines a fine-mapping folder with "
        "whatever else is given (cell-type-specific elements, ABC links, per-cell-type "
        "tracks, variant effect scores, LD, genes), ranks the candidate variants with the "
        "reason for each and writes one self-contained HTML page (figures inlined, opens "
        "offline) plus a TSV of candidates."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

_Opt = typer.Option


@app.command("locus")
def locus(
    finemap_dir: Annotated[
        Path,
        _Opt(
            "--finemap",
            metavar="DIR",
            help="Output folder of 'varinterp finemap' (variants.tsv ...).",
        ),
    ],
    out: Annotated[
        Path,
        _Opt(
            "--out",
            "-o",
            metavar="FILE",
            help="The report (.html); its figures are also written beside it as SVG and PDF.",
        ),
    ],
    candidates: Annotated[
        Path | None,
        _Opt(
            "--candidates",
            metavar="FILE",
            help="Candidate TSV (default: OUT with .candidates.tsv).",
        ),
    ] = None,
    region: Annotated[
        str | None,
        _Opt(
            "--region",
            metavar="CHROM:START-END",
            help="1-based inclusive (default: all).",
        ),
    ] = None,
    lead: Annotated[
        str | None,
        _Opt(
            "--lead",
            metavar="ID",
            help="Lead variant id (default: smallest p); without --region the "
            "report covers lead +- --flank.",
        ),
    ] = None,
    flank: Annotated[int, _Opt("--flank", help="bp either side of --lead.")] = 250_000,
    tracks: Annotated[
        Path | None,
        _Opt(
            "--tracks",
            metavar="TSV",
            help="Track table (docs/tracks.md): cell_type, plus, minus, optional color.",
        ),
    ] = None,
    elements: Annotated[
        Path | None,
        _Opt(
            "--elements",
            metavar="PATH",
            help="elements.tsv of 'elements call' (or its folder), or a TSV of cell_type and bed.",
        ),
    ] = None,
    abc: Annotated[
        Path | None,
        _Opt(
            "--abc",
            metavar="PATH",
            help="Folder of 'link abc' (*.abc.tsv / *.abc.bedpe) or a file.",
        ),
    ] = None,
    effects: Annotated[
        Path | None,
        _Opt(
            "--effects",
            metavar="FILE",
            help="Output of 'varinterp score': TSV, scored VCF (.vcf.gz) or Parquet.",
        ),
    ] = None,
    celltype_effects: Annotated[
        Path | None,
        _Opt(
            "--celltype-effects",
            help="'varinterp score' output of a multi-task model (a task column): effects "
            "per cell type.",
        ),
    ] = None,
    ld_matrix: Annotated[
        Path | None,
        _Opt("--ld-matrix", metavar="FILE", help="LD matrix (.npy/.npz/text) for r² colouring."),
    ] = None,
    ld_variants: Annotated[
        Path | None,
        _Opt("--ld-variants", metavar="FILE", help="Variants of --ld-matrix in row order."),
    ] = None,
    ld_plink: Annotated[
        Path | None,
        _Opt(
            "--ld-plink",
            metavar="PREFIX",
            help="PLINK 1 prefix (.bed/.bim/.fam) for r² colouring.",
        ),
    ] = None,
    genes: Annotated[
        Path | None, _Opt("--genes", metavar="BED", help="Genes BED6 (name, strand).")
    ] = None,
    get_enhancers: Annotated[
        Path | None,
        _Opt(
            "--get-enhancers",
            metavar="FILE",
            help="'varinterp get enhancers' table (GET section).",
        ),
    ] = None,
    cres: Annotated[
        Path | None,
        _Opt(
            "--cres",
            metavar="DIR",
            help="Folder of 'crescendo activity' (per-cell-type cREs).",
        ),
    ] = None,
    top: Annotated[int, _Opt("--top", min=1, help="Candidates with track panels.")] = 3,
    track_flank: Annotated[
        int, _Opt("--track-flank", min=10, help="bp either side of a candidate in track panels.")
    ] = 1000,
    min_pip: Annotated[
        float, _Opt("--min-pip", help="PIP for a variant to be a candidate.")
    ] = 0.01,
    effect_scale: Annotated[
        float, _Opt("--effect-scale", help="|log2FC| that counts as full effect evidence.")
    ] = 1.0,
    title: Annotated[str | None, _Opt("--title", metavar="TEXT", help="Page title.")] = None,
    genome_build: Annotated[
        str,
        _Opt(
            "--genome-build",
            metavar="UCSC_DB",
            help="The assembly's UCSC name, for the links that open the locus (hg38, hg19...).",
        ),
    ] = "hg38",
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write a locus report: OUT (HTML, self-contained), the candidate TSV, and every
    figure as SVG and PDF in OUT_figures/ beside it.

    Candidates (PIP >= --min-pip or in a credible set) are ranked by score = PIP x (1 +
    in a cell-type-specific element + ABC-linked + min(|log2FC| / --effect-scale, 1));
    variants added only for context are marked so and not ranked.

    The TSV has the evidence and the reason for each candidate. Every input but
    --finemap is optional; a missing one is shown as 'not provided'.
    """
    require_file(finemap_dir / "variants.tsv", "fine-mapping table (--finemap folder)")
    for path, what in ((tracks, "track table"), (effects, "effects table"), (genes, "gene BED"),
                       (celltype_effects, "per-cell-type effects"),
                       (ld_matrix, "LD matrix"), (ld_variants, "LD variants table")):  # fmt: skip
        if path is not None:
            require_file(path, what)
    from varinterp.report.locus import locus_report

    set_threads(threads)
    with progress_bar("writing locus report", quiet=quiet, unit="steps") as on_progress:
        result = locus_report(
            finemap_dir=finemap_dir, out=out, candidates_out=candidates, region=region,
            lead=lead, flank=flank, tracks=tracks, elements=elements, abc=abc,
            effects=effects, celltype_effects=celltype_effects, ld_matrix=ld_matrix,
            ld_variants=ld_variants, ld_plink=ld_plink,
            genes=genes, get_enhancers=get_enhancers, cres=cres,
            top=top, track_flank=track_flank, min_pip=min_pip, effect_scale=effect_scale,
            title=title, genome_build=genome_build, overwrite=overwrite,
            on_progress=on_progress,
        )  # fmt: skip
    if not quiet:
        c = result.candidates
        top_line = f"; top {c['variant_id'].iloc[0]} ({c['reason'].iloc[0]})" if len(c) else ""
        console.print(
            f"wrote {result.html} and {result.candidates_tsv}: {len(c)} candidates{top_line}"
        )
