"""`varinterp crescendo`: per-cell cis-regulatory elements from 10x multiome RNA + ATAC.

Commands: ``prep`` (matrix + FASTA + TSS -> prepared run), ``train`` (encoder, then gene
model), ``activity`` (DeepLIFT per cell -> store, labels, per-cell-type BED / bigWig),
``h5ad`` (the matrix as an .h5ad). Variant effects: ``varinterp score --model
<train OUT>/model``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import (
    Device,
    OutDir,
    OutFile,
    Overwrite,
    Quiet,
    Seed,
    Threads,
    Verbose,
)

__all__ = ["app"]

app = typer.Typer(
    help=(
        "cREscENDO (Murakami, Iida and Okada 2025): which peaks act as each gene's "
        "enhancers in which cells, from a 10x Multiome run.\n\n"
        "[bold]prep[/] filters and normalises the matrix and builds each gene's tokens; "
        "[bold]train[/] fits the peak encoder then the per-gene model; [bold]activity[/] "
        "attributes each gene's predicted expression to its peaks in every cell (DeepLIFT) "
        "and summarises per cell type; [bold]h5ad[/] exports the matrix. Score SNVs with "
        "`varinterp score --model TRAIN_OUT/model`. Walk-through: docs/crescendo.md."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)


class TssPosition(StrEnum):
    five_prime = "five_prime"
    center = "center"


class Split(StrEnum):
    paper = "paper"
    code = "code"


class Preset(StrEnum):
    published = "published"
    small = "small"


class Target(StrEnum):
    pca = "pca"
    gene = "gene"


class Precision(StrEnum):
    float64 = "float64"
    float32 = "float32"


class StoreDtype(StrEnum):
    float32 = "float32"
    float16 = "float16"


Matrix = Annotated[
    Path,
    typer.Option(
        "--matrix",
        metavar="FILE|DIR",
        help="10x filtered_feature_bc_matrix.h5, or its MatrixMarket folder (RNA, or RNA + "
        "ATAC with feature types).",
    ),
]
AtacMatrix = Annotated[
    Path | None,
    typer.Option(
        "--atac-matrix", metavar="DIR", help="A second MatrixMarket folder holding the ATAC peaks."
    ),
]
CellTypes = Annotated[
    Path | None,
    typer.Option("--cell-types", metavar="TSV", help="TSV with columns barcode and cell_type."),
]


@app.command("prep")
def prep(
    matrix: Matrix,
    tss: Annotated[
        Path,
        typer.Option(
            "--tss", metavar="FILE", help="TSS table: a GTF (gene records) or a BED with names."
        ),
    ],
    out: OutDir,
    fasta: Annotated[
        Path | None,
        typer.Option("--fasta", "-f", metavar="FILE", help="Genome FASTA of the peaks."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            "-s",
            metavar="DIR",
            help="Genome store instead of --fasta: its reference, or with --sample that "
            "person's sequence (homozygous SNVs and MNPs applied).",
        ),
    ] = None,
    sample: Annotated[
        str | None, typer.Option("--sample", metavar="ID", help="The store's sample (donor).")
    ] = None,
    atac_matrix: AtacMatrix = None,
    cell_types: CellTypes = None,
    drop_untyped: Annotated[
        bool, typer.Option("--drop-untyped", help="Drop cells the cell-type table lacks.")
    ] = False,
    tss_position: Annotated[
        TssPosition,
        typer.Option("--tss-position", help="For a BED: the 5' end or the centre of a record."),
    ] = TssPosition.five_prime,
    min_genes: Annotated[
        int, typer.Option("--min-genes", min=0, help="Keep cells with this many genes (500).")
    ] = 500,
    min_cell_fraction: Annotated[
        float,
        typer.Option("--min-cell-fraction", help="Keep genes/peaks seen in this share of cells."),
    ] = 0.05,
    all_contigs: Annotated[
        bool, typer.Option("--all-contigs", help="Keep peaks off the autosomes and X/Y too.")
    ] = False,
    max_cells: Annotated[
        int | None, typer.Option("--max-cells", help="Keep a seeded random subset of cells.")
    ] = None,
    split: Annotated[
        Split,
        typer.Option(
            "--split",
            help="Cell split: paper (seeded random 80/20) or code (first 90% in "
            "file order, as the public code).",
        ),
    ] = Split.paper,
    train_fraction: Annotated[
        float | None, typer.Option("--train-fraction", help="Share of training cells.")
    ] = None,
    n_folds: Annotated[
        int, typer.Option("--n-folds", min=0, help="Contiguous peak blocks (10; 0: none held out).")
    ] = 10,
    gene_fold: Annotated[
        int, typer.Option("--gene-fold", min=0, help="Which block is held out (0).")
    ] = 0,
    n_pcs: Annotated[int, typer.Option("--n-pcs", min=1, help="PCA components (50).")] = 50,
    allow_missing_tss: Annotated[
        bool,
        typer.Option("--allow-missing-tss", help="Drop genes the TSS table lacks (else an error)."),
    ] = False,
    seed: Seed = 0,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Filter, normalise and tokenise a multiome run into OUT (prep.h5, prep.json)."""
    from varinterp.models.crescendo.prep import PrepSettings, prepare_multiome

    set_threads(threads)
    settings = PrepSettings(
        min_cell_fraction=min_cell_fraction,
        min_genes=min_genes,
        standard_contigs_only=not all_contigs,
        max_cells=max_cells,
        cell_split=split.value,
        train_fraction=train_fraction,
        n_folds=n_folds,
        gene_fold=gene_fold,
        n_pcs=n_pcs,
        tss_position=tss_position.value,
        allow_missing_tss=allow_missing_tss,
        untyped_cells="drop" if drop_untyped else "error",
        seed=seed,
    )
    with progress_bar("preparing", quiet=quiet) as on_progress:
        r = prepare_multiome(
            matrix=matrix,
            atac_matrix=atac_matrix,
            fasta=fasta,
            store=store,
            sample=sample,
            tss=tss,
            out=out,
            cell_types=cell_types,
            settings=settings,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        lost = ", ".join(f"{k} {v}" for k, v in r.dropped.items() if v) or "nothing"
        console.print(
            f"prepared {r.n_cells:,} cells ({r.n_train_cells:,} training), {r.n_genes:,} genes "
            f"({r.n_train_genes:,} training), {r.n_peaks:,} peaks (up to {r.max_tokens} "
            f"tokens a gene), cell types {', '.join(r.cell_types)} into {r.out}; dropped {lost}"
        )


@app.command("train")
def train(
    prep_dir: Annotated[
        Path, typer.Option("--prep", metavar="DIR", help="Folder written by crescendo prep.")
    ],
    out: OutDir,
    preset: Annotated[
        Preset, typer.Option("--preset", help="published, or small (a CPU-sized model).")
    ] = Preset.published,
    encoder_epochs: Annotated[int, typer.Option("--encoder-epochs", min=1)] = 1000,
    encoder_patience: Annotated[
        int | None, typer.Option("--encoder-patience", help="Default: no early stopping.")
    ] = None,
    encoder_lr: Annotated[float, typer.Option("--encoder-lr")] = 1e-2,
    encoder_batch: Annotated[int, typer.Option("--encoder-batch", min=1)] = 128,
    gene_epochs: Annotated[int, typer.Option("--gene-epochs", min=1)] = 500,
    gene_patience: Annotated[int, typer.Option("--gene-patience", min=1)] = 10,
    attention_lr: Annotated[float, typer.Option("--attention-lr")] = 1e-5,
    decoder_lr: Annotated[float, typer.Option("--decoder-lr")] = 1e-3,
    gene_batch: Annotated[int, typer.Option("--gene-batch", min=1)] = 8,
    target: Annotated[
        Target,
        typer.Option("--target", help="pca (published: every cell's PCA coordinates) or gene."),
    ] = Target.pca,
    seed: Seed = 0,
    device: Device = "auto",
    threads: Threads = 1,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            "--no-resume",
            help="Start afresh, ignoring checkpoints, and replace a finished model.",
        ),
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Train the peak encoder, then the per-gene model; writes OUT/model and logs."""
    from varinterp.models.crescendo.train import CrescendoSettings, train_crescendo

    set_threads(threads)
    settings = CrescendoSettings(
        preset=preset.value,
        encoder_epochs=encoder_epochs,
        encoder_patience=encoder_patience,
        encoder_lr=encoder_lr,
        encoder_batch=encoder_batch,
        gene_epochs=gene_epochs,
        gene_patience=gene_patience,
        attention_lr=attention_lr,
        decoder_lr=decoder_lr,
        gene_batch=gene_batch,
        target=target.value,
        seed=seed,
    )
    with progress_bar("training", quiet=quiet) as on_progress:
        r = train_crescendo(
            prep_dir,
            out=out,
            settings=settings,
            device=device,
            resume=not overwrite,
            overwrite=overwrite,
            on_progress=on_progress,
            on_epoch=None if quiet else _print_epoch,
        )
    if not quiet:
        m = r.metrics
        console.print(
            f"encoder {r.encoder_epochs} epochs (held-out peaks AUROC "
            f"{m['encoder_val_auroc']:.3f}), gene model {r.gene_epochs} epochs (median "
            f"Spearman on held-out cells: test genes {m['spearman_test_genes']:.3f}, training "
            f"genes {m['spearman_train_genes']:.3f}); model in {r.model_dir}"
        )


def _print_epoch(step: str, log) -> None:
    val = log.metrics.get("val_loss")
    val_text = f"  val loss {val:.4f}" if val is not None else ""
    console.print(
        f"{step} epoch {log.epoch}  train loss {log.metrics['train_loss']:.4f}{val_text}"
        f"{'  *best' if log.best else ''}",
        highlight=False,
    )


@app.command("activity")
def activity(
    model: Annotated[
        Path, typer.Option("--model", "-m", metavar="DIR", help="crescendo train's OUT/model.")
    ],
    out: OutDir,
    genes: Annotated[
        str | None,
        typer.Option(
            "--genes", metavar="GENE[,GENE...]", help="Comma-separated genes (default: all)."
        ),
    ] = None,
    cell_types: CellTypes = None,
    chunk_cells: Annotated[
        int, typer.Option("--chunk-cells", min=1, help="Cells per DeepLIFT call (1000).")
    ] = 1000,
    precision: Annotated[
        Precision, typer.Option("--precision", help="The dtype DeepLIFT runs in.")
    ] = Precision.float64,
    store_dtype: Annotated[
        StoreDtype, typer.Option("--store-dtype", help="The dtype of the activity store.")
    ] = StoreDtype.float32,
    device: Device = "auto",
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Per-cell cRE activity (DeepLIFT) of every gene-peak pair, with labels and per-cell-type
    summaries (activity.h5, pairs.tsv, celltypes.tsv, elements.tsv, BED, bigWig)."""
    from varinterp.models.crescendo.activity import cre_activity

    set_threads(threads)
    chosen = [g for g in genes.split(",") if g] if genes else None
    with progress_bar("attributing genes", quiet=quiet) as on_progress:
        r = cre_activity(
            model,
            out=out,
            genes=chosen,
            cell_types=cell_types,
            chunk_cells=chunk_cells,
            precision=precision.value,
            store_dtype=store_dtype.value,
            device=device,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        labels = ", ".join(f"{k} {v:,}" for k, v in r.labels.items())
        spec = ", ".join(f"{k} {v}" for k, v in r.specific.items())
        console.print(
            f"{r.n_pairs:,} gene-peak pairs of {r.n_genes:,} genes in {r.n_cells:,} cells "
            f"({labels}); cell-type-specific pairs: {spec}; largest DeepLIFT delta "
            f"{r.max_delta:.2g}; wrote {r.out}"
        )


@app.command("h5ad")
def h5ad(
    matrix: Matrix,
    out: OutFile,
    atac_matrix: AtacMatrix = None,
    cell_types: CellTypes = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write a 10x multiome matrix as an .h5ad (cells x features) for scanpy / muon."""
    from varinterp.io.h5ad import export_h5ad

    path = export_h5ad(
        matrix=matrix, out=out, atac_matrix=atac_matrix, cell_types=cell_types, overwrite=overwrite
    )
    if not quiet:
        console.print(f"wrote {path}")
