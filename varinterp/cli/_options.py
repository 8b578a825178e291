"""Options shared by every command, defined once (the vocabulary of ``docs/cli.md``).

No logic lives here. An option's first long name is its name; a further long name is an
old spelling kept for one release (`varinterp.cli._conventions`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli import _state

#: The one default of ``--threads``.
THREADS_DEFAULT = 1
#: What ``--out`` names: a file, a folder, or a prefix that several files share.
OUT_KINDS = ("FILE", "DIR", "PREFIX")


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
OutFile = Annotated[
    Path, typer.Option("--out", "-o", metavar="FILE", help="Output file (written when complete).")
]
OutDir = Annotated[
    Path,
    typer.Option("--out", "-o", metavar="DIR", help="Output folder (appears only when complete)."),
]
OutPrefix = Annotated[
    Path,
    typer.Option(
        "--out", "-o", metavar="PREFIX", help="Output prefix: the files written start with it."
    ),
]
#: Deprecated: say what --out is with `OutFile`, `OutDir` or `OutPrefix`.
Out = Annotated[Path, typer.Option("--out", "-o", metavar="PATH", help="Output path.")]
Model = Annotated[
    Path,
    typer.Option("--model", "-m", metavar="DIR", help="Model directory (config.json + weights)."),
]
Store = Annotated[
    Path,
    typer.Option(
        "--store", "-s", metavar="DIR", help="Genome store folder (from varinterp genome build)."
    ),
]
Fasta = Annotated[
    Path, typer.Option("--fasta", metavar="FILE", help="Reference genome FASTA (+ .fai).")
]
Regions = Annotated[
    Path, typer.Option("--regions", metavar="BED", help="BED of regions (0-based half-open).")
]
#: Sample IDs everywhere: a comma-separated list or a file of IDs.
SAMPLES_METAVAR = "ID,ID...|FILE"
Samples = Annotated[
    str | None,
    typer.Option(
        "--samples",
        metavar=SAMPLES_METAVAR,
        help="Sample IDs: a comma-separated list or a file of IDs, one per line (default: all).",
    ),
]
Fdr = Annotated[
    float,
    typer.Option(
        "--fdr",
        min=0.0,
        max=1.0,
        help="Benjamini-Hochberg FDR cut-off: a test is significant when q < FDR.",
    ),
]
Tracks = Annotated[
    Path,
    typer.Option(
        "--tracks",
        metavar="TSV",
        help="Track table (docs/tracks.md): cell_type, plus, minus, depth, "
        "accessibility, ... one row per library.",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress or summary; errors still print."),
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
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Go on when the REF alleles disagree with the FASTA at a high rate "
        "(the wrong genome build, most likely).",
    ),
]
Overwrite = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing output (only once complete).")
]
