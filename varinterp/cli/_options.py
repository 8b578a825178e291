"""Options shared by every command, defined once. No logic lives here."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli import _state


class DeviceChoice(StrEnum):
    """Where models run: ``auto`` picks CUDA when present, else the CPU."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


Device = Annotated[
    DeviceChoice,
    typer.Option("--device", help="Where models run: auto (CUDA when present), cpu or cuda."),
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
