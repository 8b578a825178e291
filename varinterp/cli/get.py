"""`varinterp get`: GET models (train, LoRA-adapt, merge) and their enhancer scores."""

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

__all__ = ["app"]

app = typer.Typer(
    help=(
        "GET: expression per gene and cell type from motif features and accessibility "
        "(varinterp motifs scan). 'train' fits a model (optionally after masked "
        "pretraining), 'lora' adapts one to a new cell type with LoRA, 'merge' bakes an "
        "adapter into its base, 'enhancers' writes Jacobian enhancer scores. Variant "
        "effects: varinterp score --model <GET model directory>."
    ),
    no_args_is_help=True,
)


class Units(StrEnum):
    tpm = "tpm"
    counts = "counts"


Features = Annotated[
    Path,
    typer.Option(
        "--features",
        metavar="FILE",
        help="Features file of varinterp motifs scan (with accessibility).",
    ),
]
Expression = Annotated[
    Path,
    typer.Option(
        "--expression", metavar="TSV", help="Expression TSV: gene + one column per cell type."
    ),
]
Tss = Annotated[
    Path, typer.Option("--tss", metavar="FILE", help="Gene TSS: BED6 (name, strand) or GTF.")
]
UnitsOpt = Annotated[Units, typer.Option("--units", help="Expression units.")]
HeldOut = Annotated[
    str,
    typer.Option(
        "--held-out-chroms", metavar="CHROM[,CHROM...]", help="Comma-separated validation contigs."
    ),
]
CellTypes = Annotated[
    str,
    typer.Option(
        "--cell-types",
        metavar="NAME[,NAME...]",
        help="Comma-separated cell types to adapt to (default all).",
    ),
]


def _csv(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


@app.command("train")
def train(
    features: Features,
    expression: Expression,
    tss: Tss,
    out: OutDir,
    held_out_chroms: HeldOut = "",
    held_out_cell_types: Annotated[
        str,
        typer.Option(
            "--held-out-cell-types",
            metavar="NAME[,NAME...]",
            help="Comma-separated cell types left out of training.",
        ),
    ] = "",
    n_regions: Annotated[int, typer.Option("--n-regions", help="Regions per window.")] = 200,
    d_model: Annotated[int, typer.Option("--d-model", help="Embedding width.")] = 768,
    n_layers: Annotated[int, typer.Option("--n-layers", help="Encoder blocks.")] = 12,
    n_heads: Annotated[int, typer.Option("--n-heads", help="Attention heads.")] = 12,
    positional: Annotated[
        bool, typer.Option("--positional", help="Learned position embeddings.")
    ] = False,
    binary_atac: Annotated[
        bool, typer.Option("--binary-atac", help="Accessibility column set to 1.")
    ] = False,
    epochs: Annotated[int, typer.Option("--epochs")] = 100,
    pretrain_epochs: Annotated[
        int, typer.Option("--pretrain-epochs", help="Masked pretraining epochs first.")
    ] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 8,
    lr: Annotated[float, typer.Option("--lr")] = 1e-3,
    init: Annotated[
        Path | None,
        typer.Option("--init", metavar="DIR", help="Start from this GET model's weights."),
    ] = None,
    units: UnitsOpt = Units.tpm,
    device: Device = "auto",
    threads: Threads = 1,
    seed: Seed = 0,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Train a GET model directory from features, expression and TSS."""
    for p, what in (
        (features, "features file"),
        (expression, "expression table"),
        (tss, "TSS file"),
    ):
        require_file(p, what)
    set_threads(threads)
    from varinterp.models.get.pipeline import train_get_model

    with progress_bar("training GET", quiet=quiet) as on_progress:
        result = train_get_model(
            features=features,
            expression=expression,
            tss=tss,
            out=out,
            units=units.value,
            config={
                "n_regions": n_regions,
                "d_model": d_model,
                "n_layers": n_layers,
                "n_heads": n_heads,
                "positional": positional,
            },
            recipe={
                "epochs": epochs,
                "batch_size": batch_size,
                "lr": lr,
                "binary_atac": binary_atac,
                "held_out_chroms": _csv(held_out_chroms),
                "held_out_cell_types": _csv(held_out_cell_types),
            },
            pretrain_epochs=pretrain_epochs,
            init=init,
            device=device,
            seed=seed,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(
            f"wrote {result.out} ({result.parameters:,} parameters, "
            f"{result.epochs} epochs): {result.metrics}"
        )


@app.command("lora")
def lora(
    base: Annotated[
        Path, typer.Option("--base", metavar="DIR", help="GET model directory to adapt.")
    ],
    features: Features,
    expression: Expression,
    tss: Tss,
    out: OutDir,
    cell_types: CellTypes = "",
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank.")] = 8,
    held_out_chroms: HeldOut = "",
    epochs: Annotated[int, typer.Option("--epochs")] = 20,
    lr: Annotated[float, typer.Option("--lr")] = 1e-3,
    merged: Annotated[
        Path | None,
        typer.Option("--merged", metavar="DIR", help="Also write the merged model here."),
    ] = None,
    units: UnitsOpt = Units.tpm,
    device: Device = "auto",
    threads: Threads = 1,
    seed: Seed = 0,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Adapt a GET model to new cell types with LoRA; write the adapter directory."""
    for p, what in (
        (features, "features file"),
        (expression, "expression table"),
        (tss, "TSS file"),
    ):
        require_file(p, what)
    set_threads(threads)
    from varinterp.models.get.pipeline import lora_get_model

    with progress_bar("LoRA fine-tuning", quiet=quiet) as on_progress:
        result = lora_get_model(
            base=base,
            features=features,
            expression=expression,
            tss=tss,
            out=out,
            cell_types=_csv(cell_types) or None,
            rank=rank,
            merged=merged,
            units=units.value,
            recipe={"epochs": epochs, "lr": lr, "held_out_chroms": _csv(held_out_chroms)},
            device=device,
            seed=seed,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(
            f"wrote {result.out} ({result.parameters:,} adapter parameters): "
            f"{result.metrics}" + (f"; merged model {merged}" if merged else "")
        )


@app.command("merge")
def merge(
    base: Annotated[Path, typer.Option("--base", metavar="DIR", help="GET model directory.")],
    adapter: Annotated[
        Path,
        typer.Option("--adapter", metavar="DIR", help="LoRA adapter directory of that base."),
    ],
    out: OutDir,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write a GET model directory with an adapter's updates merged into its base."""
    set_threads(threads)
    from varinterp.models.get.files import merge_adapter

    path = merge_adapter(base=base, adapter=adapter, out=out, overwrite=overwrite)
    if not quiet:
        console.print(f"wrote {path}")


@app.command("enhancers")
def enhancers(
    model: Model,
    cell_type: Annotated[
        str, typer.Option("--cell-type", metavar="NAME", help="Cell type to score in.")
    ],
    out: OutFile,
    genes: Annotated[
        str,
        typer.Option(
            "--genes", metavar="GENE[,GENE...]", help="Comma-separated genes (default all)."
        ),
    ] = "",
    device: Device = "auto",
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Jacobian enhancer scores (||dE/d embedding|| x accessibility) per gene -> TSV."""
    set_threads(threads)
    from varinterp.models.get.pipeline import write_enhancer_scores

    n = write_enhancer_scores(
        model=model,
        out=out,
        cell_type=cell_type,
        genes=_csv(genes) or None,
        device=device,
        overwrite=overwrite,
    )
    if not quiet:
        console.print(f"wrote {out}: {n:,} gene-region scores")
