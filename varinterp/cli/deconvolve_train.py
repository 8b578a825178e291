"""`varinterp deconvolve train`: fit a DeepDETAILS model to a prepared data.h5.

Registered on the `deconvolve` group by `varinterp.cli.deconvolve`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, milestone, progress_bar, require_file, set_threads
from varinterp.cli._options import (
    Device,
    OutDir,
    Quiet,
    Seed,
    Threads,
    Verbose,
)
from varinterp.errors import InputError


class ScalePlacement(StrEnum):
    late_ch = "late-ch"
    late = "late"
    early = "early"
    disable = "disable"


class CountsStart(StrEnum):
    split = "split"
    random = "random"


class PenaltyWeighting(StrEnum):
    counts = "counts"
    none = "none"


def train(
    data: Annotated[
        Path, typer.Option("--data", metavar="FILE", help="data.h5 from `deconvolve prep`.")
    ],
    out: OutDir,
    seq_only: Annotated[
        bool, typer.Option("--seq-only", help="Seq-only model (default fused).")
    ] = False,
    filters: Annotated[int, typer.Option("--filters", min=1, help="Trunk width (512).")] = 512,
    gru_layers: Annotated[int, typer.Option("--gru-layers", min=1, help="GRU layers.")] = 2,
    profile_shrinkage: Annotated[
        int, typer.Option("--profile-shrinkage", min=1, help="GRU hidden = filters / this.")
    ] = 8,
    scale_placement: Annotated[
        ScalePlacement,
        typer.Option("--scale-placement", help="Where the counts scale enters the network."),
    ] = ScalePlacement.late_ch,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Maximum epochs.")] = 50,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Batch size.")] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 1e-3,
    lr_decay: Annotated[float, typer.Option("--lr-decay", help="LR factor per epoch.")] = 0.1,
    alpha: Annotated[
        float, typer.Option("--alpha", min=0.0, help="Redundancy penalty weight.")
    ] = 1.0,
    redundancy_gradient: Annotated[
        bool,
        typer.Option(
            "--redundancy-gradient/--no-redundancy-gradient",
            help="Let the redundancy penalty's gradient train the model (default). "
            "--no-redundancy-gradient is the ablation: the penalty is only logged, as in the "
            "reference code, which detaches it.",
        ),
    ] = True,
    penalty_weighting: Annotated[
        PenaltyWeighting,
        typer.Option(
            "--penalty-weighting",
            help="counts (default): each window's penalty is weighted by its predicted "
            "share of the bulk (capped at 1); none: unweighted.",
        ),
    ] = PenaltyWeighting.counts,
    redundancy_warmup: Annotated[
        float,
        typer.Option(
            "--redundancy-warmup",
            min=0.0,
            help="Epochs (fractions allowed) of plain RMSLE before the penalty's gradient starts.",
        ),
    ] = 0.0,
    redundancy_ramp: Annotated[
        float,
        typer.Option(
            "--redundancy-ramp",
            min=0.0,
            help="Epochs over which the penalty's weight then rises linearly from 0 to alpha "
            "(default 1).",
        ),
    ] = 1.0,
    count_scale: Annotated[
        float | None,
        typer.Option(
            "--count-scale",
            min=0.0,
            help="Counts-head scale (default: a tenth of the typical window count; 1 = plain).",
        ),
    ] = None,
    counts_start: Annotated[
        CountsStart,
        typer.Option(
            "--counts-start",
            help="split (default): the counts heads start at the scale function's split of "
            "the bulk (their last weights at zero); random: the reference's random start.",
        ),
    ] = CountsStart.split,
    split_anchor: Annotated[
        float | None,
        typer.Option(
            "--split-anchor",
            min=0.0,
            help="Weight of the split anchor: the variance across cell types of "
            "ln(predicted total / scale) per window, which keeps the counts dividing as the "
            "scale function unless the bulk pays for more (default: 10 for windows without "
            "sequence, 0 with sequence; 0 = off).",
        ),
    ] = None,
    patience: Annotated[
        int, typer.Option("--patience", min=1, help="Early-stopping patience.")
    ] = 2,
    holdout: Annotated[
        bool, typer.Option("--holdout", help="Hold out chr22 (validation) and chr19 (test).")
    ] = False,
    max_retry: Annotated[int, typer.Option("--max-retry", min=0, help="Retries on collapse.")] = 3,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            "--no-resume",
            help="Start afresh, ignoring a checkpoint, and replace a finished run.",
        ),
    ] = False,
    seed: Seed = 0,
    device: Device = "auto",
    threads: Threads = 1,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Train a DeepDETAILS model; writes OUT/model, metrics.jsonl, checkpoint.pt, train.json.

    Started again with the same --out, a killed run resumes from its checkpoint; a
    finished one is refused unless --overwrite (which starts afresh).
    """
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv

    require_file(data, "deconvolution data")
    if (out / "train.json").is_file() and not overwrite:
        msg = f"output {out} holds a finished run; remove it or pass --overwrite"
        raise InputError(msg)
    set_threads(threads)
    settings = TrainSettings(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_decay=lr_decay,
        alpha=alpha,
        redundancy=redundancy_gradient,
        redundancy_warmup=redundancy_warmup,
        redundancy_ramp=redundancy_ramp,
        penalty_sample_weight=penalty_weighting.value,
        count_scale=count_scale or None,
        counts_start=counts_start.value,
        **({} if split_anchor is None else {"split_anchor": split_anchor}),
        patience=patience,
        seed=seed,
        max_retry=max_retry,
        holdout=holdout,
    )
    architecture = {
        "seq_only": seq_only,
        "filters": filters,
        "gru_layers": gru_layers,
        "profile_shrinkage": profile_shrinkage,
        "scale_placement": scale_placement.value,
    }
    with progress_bar("training (this epoch)", quiet=quiet, unit="batches") as on_progress:
        result = train_deconv(
            data=data,
            config=architecture,
            out=out,
            settings=settings,
            device=device,
            resume=not overwrite,
            on_progress=on_progress,
            on_epoch=_epoch_printer(quiet),
        )
    if not quiet:
        qc = "passed" if result.qc_passed else "FAILED (collapsed branch)"
        console.print(
            f"trained {result.epochs} epochs (attempt {result.attempts}), best loss "
            f"{result.best_loss:.4g}, self-check {qc}; model in {result.model_dir}"
        )


def _epoch_printer(quiet: bool):
    """A milestone line per epoch: epoch, learning rate, losses, whether it is the best."""

    def show(log, history) -> None:
        del history
        attempt = f"attempt {log.attempt} " if log.attempt else ""
        val = log.metrics.get("val_loss")
        val_text = f"  val loss {val:.4f}" if val is not None else ""
        best = "  *best" if log.best else ""
        milestone(
            f"{attempt}epoch {log.epoch}  lr {log.lr:.3g}  train loss "
            f"{log.metrics['train_loss']:.4f}{val_text}{best}",
            quiet=quiet,
        )

    return show
