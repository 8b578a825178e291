"""`varinterp finetune` and `varinterp evaluate`: top-level commands on model directories."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import Model, OutDir, Overwrite, Quiet, Threads, Verbose
from varinterp.cli.train import ConfigPath, DeviceOpt, FoldsOpt, epoch_printer, parse_folds

__all__ = ["evaluate", "finetune"]

ModelPath = Model
ReferenceOnly = Annotated[
    bool,
    typer.Option(
        "--reference-only",
        help="Use the reference sequence for every library (targets without genotypes).",
    ),
]


def _model_dir(path: Path) -> Path:
    from varinterp.errors import InputError

    if not path.is_dir():
        msg = f"model directory {path} does not exist; pass a folder with config.json"
        raise InputError(msg)
    return path


def finetune(
    source: Annotated[
        Path,
        typer.Option(
            "--from", metavar="DIR", help="Source model directory (e.g. a trained LCL CLIPNET)."
        ),
    ],
    config: ConfigPath,
    out: OutDir,
    folds: FoldsOpt = None,
    reference_only: ReferenceOnly = False,
    device: DeviceOpt = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Fine-tune every fold model of --from on the target data of --config into --out.

    Fold k starts from the source's fold k weights, all weights trainable, with the
    source's folds (no leakage); the first epoch runs at lr/10 and early stopping waits
    20 epochs (both overridable in \\[training]). The config has \\[data] and
    \\[training] only. Writes a model directory like train clipnet; a killed run resumes.
    """
    _model_dir(source)
    require_file(config, "run config")
    set_threads(threads)
    from varinterp.models.clipnet.finetune import finetune_clipnet

    with progress_bar("fine-tuning", quiet=quiet, unit="batches") as on_progress:
        result = finetune_clipnet(
            source=source,
            config=config,
            out=out,
            folds=parse_folds(folds),
            reference_only=reference_only,
            device=device,
            overwrite=overwrite,
            on_progress=on_progress,
            on_status=epoch_printer(quiet),
        )
    if not quiet:
        console.print(f"wrote {len(result.folds)} fine-tuned fold model(s) to {result.out}")


def evaluate(
    model: ModelPath,
    config: ConfigPath,
    out: OutDir,
    reference_only: ReferenceOnly = False,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Default: the config's.")
    ] = None,
    examples: Annotated[
        int | None,
        typer.Option("--examples", min=0, help="CLIPNET: loci drawn in tracks.png (default 6)."),
    ] = None,
    device: DeviceOpt = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Evaluate a model directory on the data of --config (its family's evaluation).

    CLIPNET: the ensemble (mean of fold models) and each fold model on fold 0, and each
    fold model on its own test fold; writes metrics.tsv (median profile Pearson,
    log-quantity Pearson, directionality and TSS-position Pearson per model and fold),
    windows_fold0.tsv, tracks.png and quantity_scatter.png.

    bpAI-TAC: every window of the config, per split; writes metrics.tsv (per-OCR Pearson
    across cell types, by CV quartile, per-cell-type Pearson across OCRs, profile JSD
    and Pearson), per_ocr.tsv, per_task.tsv and evaluation.json.
    """
    _model_dir(model)
    require_file(config, "run config")
    set_threads(threads)
    from varinterp.training.recipes import run_recipe

    with progress_bar("predicting", quiet=quiet, unit="windows") as on_progress:
        result = run_recipe(
            "evaluate",
            model=model,
            config=config,
            out=out,
            reference_only=reference_only,
            device=device,
            batch_size=batch_size,
            n_examples=examples,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(result.summary_line())
