"""`varinterp train bpaitac` and `varinterp train tn5-bias`: the bpAI-TAC family."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Threads, Verbose
from varinterp.cli.train import ConfigPath, DeviceOpt, epoch_printer

__all__ = ["bpaitac", "tn5_bias"]


class Loss(StrEnum):
    ce = "ce"
    mnll = "mnll"
    poisson = "poisson"


def bpaitac(
    config: ConfigPath,
    out: OutDir,
    bias_model: Annotated[
        str | None,
        typer.Option(
            "--bias-model",
            metavar="DIR",
            help="Tn5 bias model directory (varinterp train tn5-bias); default: the "
            "config's [training] bias_model.",
        ),
    ] = None,
    no_bias: Annotated[
        bool, typer.Option("--no-bias", help="Train without a Tn5 bias model.")
    ] = False,
    lam: Annotated[
        float | None,
        typer.Option("--lambda", help="Profile share of the loss, in [0, 1] (default 0.5)."),
    ] = None,
    loss: Annotated[
        Loss | None, typer.Option("--loss", help="Profile loss (default: the config's, else ce).")
    ] = None,
    replicates: Annotated[
        int | None, typer.Option("--replicates", min=1, help="Members (seeds) to train.")
    ] = None,
    device: DeviceOpt = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Train a bpAI-TAC model into the folder --out (a model directory).

    Reads the run config (data: FASTA, task table of insertion bigWigs, OCR BED;
    docs/bpaitac.md), splits by chromosome, trains with lambda x CE(profile) +
    (1 - lambda) x MSE(log counts) and early stopping, and writes config.json,
    replicate_*.safetensors (with the frozen Tn5 bias network), metrics.jsonl and a
    README.md card. A killed run resumes when started again with the same --out.
    """
    require_file(config, "run config")
    set_threads(threads)
    from varinterp.models.bpaitac.train import train_bpaitac

    with progress_bar("training (batches of this epoch)", quiet=quiet) as on_progress:
        result = train_bpaitac(
            config=config, out=out, bias_model=bias_model, no_bias=no_bias, lam=lam,
            loss=loss.value if loss else None, replicates=replicates, device=device,
            overwrite=overwrite, on_progress=on_progress, on_status=epoch_printer(quiet),
        )  # fmt: skip
    if not quiet and result.members:  # under torchrun only rank 0 assembles the directory
        console.print(f"wrote {', '.join(result.members)} to {result.out}")


def tn5_bias(
    config: ConfigPath,
    out: OutDir,
    device: DeviceOpt = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Train a Tn5 bias model (bpAI-TAC body, one task, profile only) into --out.

    The config's [data] peaks are closed (or background) regions; the tasks' insertions
    there are summed over cell types and windows with fewer than 10 are dropped. The
    model directory is the --bias-model of varinterp train bpaitac.
    """
    require_file(config, "run config")
    set_threads(threads)
    from varinterp.models.bpaitac.train import train_tn5_bias

    with progress_bar("training (batches of this epoch)", quiet=quiet) as on_progress:
        result = train_tn5_bias(
            config=config, out=out, device=device, overwrite=overwrite,
            on_progress=on_progress, on_status=epoch_printer(quiet),
        )  # fmt: skip
    if not quiet and result.members:
        console.print(f"wrote the Tn5 bias model {', '.join(result.members)} to {result.out}")
