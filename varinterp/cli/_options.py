"""Options shared by every command, defined once. No logic lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli import _state


def _device_name(value: str | None) -> str | None:
    if value is None:
        return None
    from varinterp.training.devices import check_device_name

    try:
        return check_device_name(str(value))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


Device = Annotated[
    str,
    typer.Option(
        "--device",
        metavar="auto|cpu|cuda|cuda:N",
        callback=_device_name,
        help="Where models run: auto (CUDA when present, else the CPU), cpu, cuda or cuda:N.",
    ),
]
#: `Device` without a default value: the run config's ``device`` decides.
DeviceOrConfig = Annotated[
    str | None,
    typer.Option(
        "--device",
        metavar="auto|cpu|cuda|cuda:N",
        callback=_device_name,
        help="auto, cpu, cuda or cuda:N (default: the run config's device).",
    ),
]
Threads = Annotated[
    int,
    typer.Option("--threads", "-t", min=1, help="CPU threads for numba kernels and torch."),
]
Seed = Annotated[int, typer.Option("--seed", help="Random seed; same seed, same output on CPU.")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Output path.")]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bars or summary; errors still print."),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="More detail, and the full traceback when something fails.",
        callback=_state.set_verbose,
        is_eager=True,
    ),
]
Strict = Annotated[
    bool,
    typer.Option("--strict", help="Make REF-allele mismatches against the FASTA fatal."),
]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing output (only once complete).")
]
