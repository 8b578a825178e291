"""`varinterp models`: the model zoo and model directories (import published weights)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file
from varinterp.cli._options import OutDir, Overwrite, Quiet, Verbose
from varinterp.cli.data import Cache, Manifests

app = typer.Typer(
    help=(
        "Model directories: a folder with config.json, one fold_*.safetensors per fold "
        "model and a README.md model card. 'list' and 'fetch' use the model zoo (models "
        "shipped with varinterp, and pointers to published weights); 'import-clipnet' "
        "converts published weights into that format."
    ),
    no_args_is_help=True,
)

Zoo = Annotated[
    Path | None,
    typer.Option(
        "--zoo",
        metavar="DIR",
        help="Model zoo folder (default: $VARINTERP_ZOO or the zoo installed with varinterp).",
    ),
]


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@app.command("list")
def list_cmd(
    zoo: Zoo = None,
    manifests: Manifests = None,
    cache: Cache = None,
    verbose: Verbose = False,
) -> None:
    """Show the model zoo: each model, shipped (usable in place) or fetched (published weights).

    For a fetched model: the dataset and files that hold its weights, and how many are cached.
    """
    from varinterp.models.zoo import IMPORTERS, list_zoo

    entries = list_zoo(zoo, manifest_dir=manifests, cache=cache)
    for entry in entries:
        console.print(f"[bold]{entry.name}[/]  {entry.title}")
        if entry.shipped:
            console.print(f"    shipped: {entry.path}")
        else:
            reads, command = IMPORTERS[entry.importer]
            console.print(
                f"    fetched: {len(entry.files)} file(s) of dataset {entry.dataset} "
                f"({reads}, imported as '{command}'); cached: {entry.n_cached}"
            )
            if verbose:
                console.print(f"    files: {', '.join(entry.files)}")
    n_shipped = sum(e.shipped for e in entries)
    console.print(
        f"{len(entries)} models ({n_shipped} shipped, {len(entries) - n_shipped} fetched); "
        "'varinterp models fetch NAME --out DIR' puts one into a model directory"
    )


@app.command("fetch")
def fetch_cmd(
    name: Annotated[
        str,
        typer.Argument(help="Zoo model name (see 'varinterp models list').", show_default=False),
    ],
    out: OutDir,
    overwrite: Overwrite = False,
    zoo: Zoo = None,
    manifests: Manifests = None,
    cache: Cache = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Put a zoo model (see 'varinterp models list') into the model directory OUT.

    Published weights are downloaded into the data cache, as 'varinterp data fetch' does.

    Downloads resume, each file's md5 is checked, and files already cached are not fetched again.

    They are then imported (CLIPNET Keras files as 'varinterp models import-clipnet').

    A shipped model is copied.

    OUT gets config.json, one safetensors file per member and README.md (import + zoo card).
    """
    from varinterp.models.zoo import fetch_zoo_model

    with progress_bar(f"fetching {name}", quiet=quiet) as on_progress:
        result = fetch_zoo_model(
            name,
            out=out,
            root=zoo,
            manifest_dir=manifests,
            cache=cache,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(
            f"wrote {name} ({len(result.members)} member(s): {', '.join(result.members)}) to "
            f"{result.out}; {result.n_downloaded} file(s) downloaded "
            f"({_mb(result.downloaded_bytes)}), {result.n_cached} already cached"
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
    out: OutDir,
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
    from varinterp.models.clipnet.keras import import_clipnet_keras

    with progress_bar("converting Keras weights", quiet=quiet) as on_progress:
        result = import_clipnet_keras(
            h5_files, out=out, overwrite=overwrite, on_progress=on_progress
        )
    if not quiet:
        console.print(
            f"wrote {len(result.folds)} fold model(s) ({', '.join(result.folds)}; "
            f"{result.n_params:,} parameters each) to {result.out}"
        )


@app.command("upgrade")
def upgrade(
    model: Annotated[
        Path,
        typer.Argument(help="Model directory of an earlier release.", show_default=False),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="DIR", help="Write here instead of in place."),
    ] = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Rewrite a model directory of an earlier release in the current format.

    The previous release wrote DeepDETAILS models as config.json + model.safetensors
    without a format field; they still load, and this rewrites them as a model directory
    like every other family's (config.json with format, member model.safetensors,
    README.md). In place (atomically) unless --out is given. A directory that is already
    current is left as it is.
    """
    from varinterp.errors import InputError
    from varinterp.training.modeldir import upgrade_model_dir

    if not model.is_dir():
        msg = f"model directory {model} does not exist; pass a folder with config.json"
        raise InputError(msg)
    result = upgrade_model_dir(model, out=out, overwrite=overwrite)
    if not quiet:
        if result.upgraded:
            console.print(f"upgraded {model} -> {result.out} ({', '.join(result.members)})")
        else:
            console.print(f"{model} is already in the current format; nothing to do")
