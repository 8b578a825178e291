"""`varinterp train`: train sequence-to-function models on one's own cohort."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, milestone, progress_bar, require_file, set_threads
from varinterp.cli._options import DeviceOrConfig, OutDir, Overwrite, Quiet, Threads, Verbose
from varinterp.errors import InputError

app = typer.Typer(
    help=(
        "Train models from a genome store, per-library PRO-cap bigWigs, a peak BED and a "
        "sample sheet, all named in a TOML run config (see docs/training.md).\n\n"
        "[bold]clipnet[/] trains the 9 chromosome-fold CLIPNET models (fold 0 held out) "
        "into a model directory: config.json, fold_{1..9}.safetensors, metrics.jsonl and "
        "a README.md model card. A killed run resumes when started again with the same "
        "--out. Several GPUs or nodes: launch with torchrun (see docs/training.md)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

ConfigPath = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        metavar="TOML",
        help="TOML run config (\\[data], \\[model], \\[training] tables; docs/training.md).",
    ),
]
FoldsOpt = Annotated[
    str | None,
    typer.Option(
        "--folds",
        metavar="K,K-K...",
        help="Model folds to train, e.g. 1,2,5 or 1-3 (default: 1-9).",
    ),
]
DeviceOpt = DeviceOrConfig


def parse_folds(text: str | None) -> list[int] | None:
    """``"1,3-5"`` -> [1, 3, 4, 5]; None stays None."""
    if text is None:
        return None
    out: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                out.extend(range(lo, hi + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        msg = f"--folds {text!r}: give fold numbers like 1,2,5 or 1-3"
        raise InputError(msg) from None
    return sorted(set(out))


def epoch_printer(quiet: bool):
    """A status callback: one milestone line per epoch or fold (stdout unless quiet, and
    the --log-file)."""

    def say(msg: str) -> None:
        milestone(msg, quiet=quiet)

    return say


@app.command("clipnet")
def clipnet(
    config: ConfigPath,
    out: OutDir,
    folds: FoldsOpt = None,
    reference_only: Annotated[
        bool,
        typer.Option(
            "--reference-only",
            help="Ablation: train on the reference sequence (variants masked) for every library.",
        ),
    ] = False,
    subsample_individuals: Annotated[
        int | None,
        typer.Option(
            "--subsample-individuals",
            min=1,
            help="Ablation: keep the libraries of N randomly drawn individuals.",
        ),
    ] = None,
    replicate: Annotated[
        int,
        typer.Option("--replicate", min=0, help="Which random draw of --subsample-individuals."),
    ] = 0,
    device: DeviceOpt = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Train CLIPNET fold models into the folder --out (a model directory).

    Reads the run config, builds each library's two-hot windows on the fly from the
    genome store, and trains model k on folds other than k and (k mod 9)+1 with early
    stopping on fold (k mod 9)+1. Writes metrics.jsonl after every epoch and the model
    directory when the requested folds are done. Started again with the same --out, a
    killed run resumes; --overwrite starts from scratch.
    """
    require_file(config, "run config")
    set_threads(threads)
    from varinterp.models.clipnet.train import train_clipnet

    with progress_bar("training (this epoch)", quiet=quiet, unit="batches") as on_progress:
        result = train_clipnet(
            config=config,
            out=out,
            folds=parse_folds(folds),
            reference_only=reference_only,
            subsample_individuals=subsample_individuals,
            replicate=replicate,
            device=device,
            overwrite=overwrite,
            on_progress=on_progress,
            on_status=epoch_printer(quiet),
        )
    if not quiet:
        console.print(
            f"wrote {len(result.folds)} fold model(s) ({', '.join(result.folds)}) to {result.out}"
        )
