"""`varinterp report`: reports that combine fine-mapping with regulatory evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file
from varinterp.cli._options import Out, Overwrite, Quiet, Verbose

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
        Path, _Opt("--finemap", help="Output folder of 'varinterp finemap' (variants.tsv ...).")
    ],
    out: Out,
    candidates: Annotated[
        Path | None,
        _Opt("--candidates", help="Candidate TSV (default: OUT with .candidates.tsv)."),
    ] = None,
    region: Annotated[
        str | None, _Opt("--region", help="CHROM:START-END, 1-based inclusive (default: all).")
    ] = None,
    lead: Annotated[
        str | None,
        _Opt(
            "--lead",
            help="Lead variant id (default: smallest p); without --region the "
            "report covers lead +- --flank.",
        ),
    ] = None,
    flank: Annotated[int, _Opt("--flank", help="bp either side of --lead.")] = 250_000,
    tracks: Annotated[
        Path | None,
        _Opt(
            "--tracks", help="TSV: cell_type plus_bigwig minus_bigwig, optional color (any source)."
        ),
    ] = None,
    elements: Annotated[
        Path | None,
        _Opt(
            "--elements",
            help="elements.tsv of 'elements call' (or its folder), or a TSV of cell_type and bed.",
        ),
    ] = None,
    abc: Annotated[
        Path | None, _Opt("--abc", help="Folder of 'link abc' (*.abc.tsv / *.abc.bedpe) or a file.")
    ] = None,
    effects: Annotated[
        Path | None, _Opt("--effects", help="effects.tsv of 'varinterp score' (log2fc ...).")
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
        Path | None, _Opt("--ld-matrix", help="LD matrix (.npy/.npz/text) for r² colouring.")
    ] = None,
    ld_variants: Annotated[
        Path | None, _Opt("--ld-variants", help="Variants of --ld-matrix in row order.")
    ] = None,
    ld_plink: Annotated[
        Path | None, _Opt("--ld-plink", help="PLINK 1 prefix (.bed/.bim/.fam) for r² colouring.")
    ] = None,
    genes: Annotated[Path | None, _Opt("--genes", help="Genes BED6 (name, strand).")] = None,
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
    title: Annotated[str | None, _Opt("--title", help="Page title.")] = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write a locus report: OUT (HTML, self-contained) and the candidate TSV.

    Candidates (PIP >= --min-pip or in a credible set) are ranked by score = PIP x (1 +
    in a cell-type-specific element + ABC-linked + min(|log2FC| / --effect-scale, 1)).

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

    with progress_bar("writing locus report", quiet=quiet) as on_progress:
        result = locus_report(
            finemap_dir=finemap_dir, out=out, candidates_out=candidates, region=region,
            lead=lead, flank=flank, tracks=tracks, elements=elements, abc=abc,
            effects=effects, celltype_effects=celltype_effects, ld_matrix=ld_matrix,
            ld_variants=ld_variants, ld_plink=ld_plink,
            genes=genes,
            top=top, track_flank=track_flank, min_pip=min_pip, effect_scale=effect_scale,
            title=title, overwrite=overwrite, on_progress=on_progress,
        )  # fmt: skip
    if not quiet:
        c = result.candidates
        top_line = f"; top {c['variant_id'].iloc[0]} ({c['reason'].iloc[0]})" if len(c) else ""
        console.print(
            f"wrote {result.html} and {result.candidates_tsv}: {len(c)} candidates{top_line}"
        )
