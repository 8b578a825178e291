"""`varinterp models`: model directories (import published weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file
from varinterp.cli._options import Out, Overwrite, Quiet, Verbose

app = typer.Typer(
    help=(
        "Model directories: a folder with config.json, one fold_*.safetensors per fold "
        "model and a README.md model card. Import published weights into that format."
    ),
    no_args_is_help=True,
)


@app.command("import-clipnet")
def import_clipnet(
    h5_files: Annotated[
        list[Path],
        typer.Argument(
            help="Published CLIPNET Keras weight files (fold_1.h5 ... fold_9.h5), read with h5py.",
            show_default=False,
        ),
    ],
    out: Out,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Convert CLIPNET Keras .h5 files into a varinterp model directory.

    Writes OUT/config.json, one OUT/fold_N.safetensors per file and OUT/README.md.

    The fold name comes from each file name (fold_3.h5 -> fold_3), else from the order.

    TensorFlow is not needed. The model takes (batch, 4, 1000) two-hot input.

    It returns a 1000-value profile (500 plus then 500 minus strand, positions 250-749).

    It also returns a quantity: total RPM over both strands in that window.
    """
    for path in h5_files:
        require_file(path, "Keras weight file")
    from varinterp.training.checkpoint import import_clipnet_keras

    with progress_bar("converting Keras weights", quiet=quiet) as on_progress:
        result = import_clipnet_keras(
            h5_files, out=out, overwrite=overwrite, on_progress=on_progress
        )
    if not quiet:
        console.print(
            f"wrote {len(result.folds)} fold model(s) ({', '.join(result.folds)}; "
            f"{result.n_params:,} parameters each) to {result.out}"
        )
