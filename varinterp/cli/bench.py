"""`varinterp bench`: variant-effect benchmarks (QTL and MPRA) of sequence models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import Device, OutDir, Overwrite, Quiet, Seed, Threads, Verbose
from varinterp.errors import InputError

app = typer.Typer(
    help=(
        "Benchmark variant-effect predictions of model directories against observed "
        "effects: initiation QTLs (personal genomes + observed PRO-cap tracks) and MPRA "
        "emVars (reporter constructs). Each command writes a folder with a per-variant "
        "TSV, a per-model summary TSV and PNG plots."
    ),
    no_args_is_help=True,
)

ModelOpt = Annotated[
    list[str],
    typer.Option(
        "--model",
        "-m",
        metavar="[LABEL=]DIR",
        help=(
            "LABEL=MODEL_DIR (repeatable), e.g. personal=models/clipnet-lcl "
            "reference=models/clipnet-ref; a bare MODEL_DIR is labelled by its folder name."
        ),
        show_default=False,
    ),
]
Composite = Annotated[
    bool,
    typer.Option(
        "--holdout-composite/--full-ensemble",
        help=(
            "Score each variant with the fold model that held out its chromosome (the "
            "ensemble for fold 0 and unassigned contigs), as in the paper; or with the "
            "whole ensemble."
        ),
    ),
]
RcAverage = Annotated[
    bool,
    typer.Option(
        "--rc-average/--no-rc-average",
        help="Average each prediction with that of the reverse complement.",
    ),
]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, help="Windows per model call.")]


def _labelled(specs: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        label, sep, value = spec.partition("=")
        if not sep:
            label, value = Path(spec).name or spec, spec
        label, value = label.strip(), value.strip()
        if not label or not value or not label.replace("-", "_").replace(".", "_").isidentifier():
            msg = f"{what} {spec!r}: write LABEL=VALUE with a label of letters, digits, _ - ."
            raise InputError(msg)
        if label in out:
            msg = f"{what} label {label!r} is given twice; labels must be distinct"
            raise InputError(msg)
        out[label] = value
    return out


def _model_dirs(specs: list[str]) -> dict[str, str]:
    models = _labelled(specs, "--model")
    for label, path in models.items():
        if not (Path(path) / "config.json").is_file():
            msg = f"--model {label}={path}: not a model directory (no config.json)"
            raise InputError(msg)
    return models


@app.command("qtl")
def qtl(
    qtls: Annotated[
        Path,
        typer.Option(
            "--qtls",
            metavar="FILE",
            help=(
                "QTL list: one rsID (a VCF ID) or chrom:pos (1-based) or chrom:pos:ref:alt "
                "per line, or a TSV with a 'qtl' column."
            ),
        ),
    ],
    store: Annotated[
        Path,
        typer.Option(
            "--store",
            "-s",
            metavar="DIR",
            help="Genome store (varinterp genome build) of the cohort.",
        ),
    ],
    sample_sheet: Annotated[
        Path,
        typer.Option(
            "--tracks",
            "--sample-sheet",
            metavar="TSV",
            help=(
                "Track table (docs/tracks.md), one row per library: library, sample (store "
                "sample), plus, minus (bigWigs; minus may be negative), optional depth "
                "(reads for RPM)."
            ),
        ),
    ],
    model: ModelOpt,
    out: OutDir,
    holdout_composite: Composite = True,
    rc_average: RcAverage = True,
    device: Device = "auto",
    batch_size: BatchSize = 256,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """tiQTL / diQTL benchmark: L2 effect of genotype groups, predicted vs observed.

    For each QTL, averages the predicted tracks of the homozygous-reference and of the
    homozygous-alternative individuals (their personal windows centred on the SNV) and
    takes the L2 norm of the difference; the same on the observed RPM tracks averaged
    over each group's libraries. Reports Pearson's r of log10(L2 + 1e-3) per model.

    Writes OUT/qtl_effects.tsv (one row per QTL, 1-based pos), OUT/summary.tsv (one row
    per model) and OUT/scatter.png.
    """
    require_file(qtls, "QTL list")
    require_file(sample_sheet, "track table")
    if not store.is_dir():
        msg = f"genome store {store} does not exist; build it with varinterp genome build"
        raise InputError(msg)
    models = _model_dirs(model)
    set_threads(threads)
    from varinterp.effects.qtl import qtl_benchmark

    with progress_bar("QTL benchmark", quiet=quiet, unit="steps") as on_progress:
        result = qtl_benchmark(
            qtls=qtls,
            store=store,
            sample_sheet=sample_sheet,
            models=models,
            out=out,
            holdout_composite=holdout_composite,
            rc_average=rc_average,
            device=device,
            batch_size=batch_size,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        counts = result.table["status"].value_counts().to_dict()
        console.print(f"QTLs: {', '.join(f'{k} {v}' for k, v in counts.items())}")
        for row in result.summary.itertuples():
            console.print(
                f"{row.model}: Pearson log10(L2) r = {row.pearson_log10_l2:.3f} "
                f"(n = {row.n_scored})"
            )
        console.print(f"wrote {result.out}")


@app.command("mpra")
def mpra(
    oligos: Annotated[
        Path,
        typer.Option(
            "--oligos",
            metavar="TSV",
            help=(
                "Oligo table (TSV): id, chrom, pos (1-based), ref, alt, oligo (ref-allele "
                "sequence); optional offset, active, emvar, log2fc and other columns."
            ),
        ),
    ],
    backbone: Annotated[
        Path,
        typer.Option(
            "--backbone",
            metavar="FILE",
            help="Reporter plasmid FASTA (e.g. pMPRAv3:minP-GFP, Addgene #109035), circular.",
        ),
    ],
    insert_at: Annotated[
        int,
        typer.Option(
            "--insert-at", min=0, help="0-based backbone position where the oligo is inserted."
        ),
    ],
    out: OutDir,
    model: ModelOpt = [],  # noqa: B006 - typer needs a list default
    score_column: Annotated[
        list[str],
        typer.Option(
            "--score-column",
            metavar="LABEL=COLUMN",
            help=(
                "LABEL=COLUMN (repeatable): an oligo-table column with another model's "
                "predicted log2FC (ref/alt), compared like the models."
            ),
            show_default=False,
        ),
    ] = [],  # noqa: B006
    insert_end: Annotated[
        int | None,
        typer.Option(
            "--insert-end",
            min=0,
            help="Replace backbone\\[insert-at:insert-end] by the oligo (default: insert only).",
        ),
    ] = None,
    backbone_record: Annotated[
        str | None,
        typer.Option(
            "--backbone-record",
            metavar="NAME",
            help="FASTA record of the backbone (if several).",
        ),
    ] = None,
    upstream: Annotated[
        int | None,
        typer.Option(
            "--upstream",
            min=0,
            help=(
                "Keep this many backbone bases before the oligo in the model window (the "
                "published CLIPNET K562 pipeline used 325); default: window centred on the "
                "variant."
            ),
        ),
    ] = None,
    chroms: Annotated[
        str | None,
        typer.Option(
            "--chroms",
            metavar="CHROM,CHROM...",
            help="Comma-separated chromosomes to keep, e.g. the held-out chr9,chr13,chr20,chr21.",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", metavar="LABEL", help="Label that auPRC differences are taken against."
        ),
    ] = None,
    n_boot: Annotated[
        int, typer.Option("--bootstraps", min=0, help="Bootstrap draws for auPRC.")
    ] = 1000,
    pseudocount: Annotated[
        float,
        typer.Option("--pseudocount", min=0.0, help="Added to both quantities before log2."),
    ] = 1e-3,
    flip_observed: Annotated[
        bool,
        typer.Option(
            "--flip-observed", help="The table's log2fc is alt/ref: negate it to ref/alt."
        ),
    ] = False,
    write_constructs: Annotated[
        bool,
        typer.Option("--write-constructs", help="Also write OUT/constructs.fa (first model)."),
    ] = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Make oligos without the ref allele at the offset fatal."),
    ] = False,
    holdout_composite: Composite = True,
    rc_average: RcAverage = True,
    seed: Seed = 0,
    device: Device = "auto",
    batch_size: BatchSize = 256,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """MPRA benchmark: reporter constructs, emVar auPRC with bootstraps, log2FC agreement.

    Inserts each oligo (ref and alt allele) into the backbone, cuts each model's input
    window, predicts log2(q_ref / q_alt), and compares emVars with active non-emVars
    (precision-recall, score log2FC^2, bootstrapped auPRC differences) and predicted
    with observed log2FC (Pearson, sign mismatches).

    Writes OUT/mpra_effects.tsv, OUT/summary.tsv, OUT/bootstrap_auprc.tsv,
    OUT/pr_curves.png, OUT/scatter.png and OUT/auprc_delta.png.
    """
    require_file(oligos, "oligo table")
    require_file(backbone, "backbone FASTA")
    models = _model_dirs(model)
    columns = _labelled(score_column, "--score-column")
    chrom_list = [c.strip() for c in chroms.split(",") if c.strip()] if chroms else None
    set_threads(threads)
    from varinterp.effects.mpra import mpra_benchmark

    with progress_bar("MPRA benchmark", quiet=quiet, unit="steps") as on_progress:
        result = mpra_benchmark(
            oligos=oligos,
            backbone=backbone,
            insert_start=insert_at,
            insert_end=insert_end,
            backbone_record=backbone_record,
            out=out,
            models=models,
            score_columns=columns,
            upstream=upstream,
            baseline=baseline,
            chroms=chrom_list,
            holdout_composite=holdout_composite,
            rc_average=rc_average,
            pseudocount=pseudocount,
            flip_observed=flip_observed,
            n_boot=n_boot,
            seed=seed,
            device=device,
            batch_size=batch_size,
            strict=strict,
            write_constructs=write_constructs,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        for w in result.warnings:
            console.print(f"[yellow]warning:[/yellow] {w}")
        for row in result.summary.itertuples():
            console.print(
                f"{row.model}: auPRC {row.auprc:.3f} (n = {row.n_eval}, base rate "
                f"{row.base_rate:.3f})"
            )
        console.print(f"wrote {result.out}")
