"""`varinterp attribute`: which bases drive a model ensemble's prediction."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, require_file, set_threads
from varinterp.cli._options import (
    Device,
    Fasta,
    Model,
    Overwrite,
    Quiet,
    Seed,
    Threads,
    Verbose,
)

__all__ = ["attribute_command"]


class Method(StrEnum):
    ixg = "ixg"
    deepshap = "deepshap"
    ism = "ism"


class Target(StrEnum):
    quantity = "quantity"
    profile = "profile"


def attribute_command(
    model: Model,
    fasta: Fasta,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="FILE", help="Attributions (.npz; see below)."),
    ],
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            metavar="CHROM:START-END",
            help="1-based; a window centred on it. Repeat.",
        ),
    ] = None,
    bed: Annotated[
        Path | None,
        typer.Option(
            "--regions", "--bed", metavar="BED", help="BED of regions; one window per row."
        ),
    ] = None,
    variants: Annotated[
        list[str] | None,
        typer.Option(
            "--variants",
            "--variant",
            metavar="FILE|CHROM:POS:REF:ALT",
            help="Variants: ref and alt windows of each. A VCF/BCF, a TSV/BED list "
            "(chrom pos ref alt, 1-based) or chrom:pos:ref:alt strings (repeat or "
            "comma-separate).",
        ),
    ] = None,
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            help="ixg (input x gradient), deepshap (DeepLIFT/SHAP, shuffled references), "
            "ism (in-silico saturation mutagenesis).",
        ),
    ] = Method.deepshap,
    target: Annotated[
        Target,
        typer.Option("--target", help="Explain the quantity, or the weighted profile."),
    ] = Target.quantity,
    n_shuffles: Annotated[
        int, typer.Option("--n-shuffles", min=1, help="DeepSHAP dinucleotide-shuffled refs.")
    ] = 20,
    bigwig: Annotated[
        Path | None,
        typer.Option(
            "--bigwig", metavar="FILE", help="Also write per-base attributions as a bigWig (.bw)."
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Windows per forward pass.")
    ] = 32,
    task: Annotated[
        str | None,
        typer.Option(
            "--task", metavar="NAME", help="Multi-task models: the task (cell type) to explain."
        ),
    ] = None,
    device: Device = "auto",
    threads: Threads = 1,
    seed: Seed = 0,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Attribute an ensemble's prediction to the bases of region or variant windows.

    Writes an npz (attributions and hypothetical scores (N, 4, L), one-hot x, chrom,
    start, label; for tfmodisco-lite and plots) and, with --bigwig, a bigWig of the
    observed bases' scores (ALT windows of --variants in NAME.alt.bw). bpAI-TAC models
    are explained with their Tn5 bias zeroed.
    """
    require_file(fasta, "reference FASTA")
    if bed is not None:
        require_file(bed, "BED of regions")
    set_threads(threads)
    from varinterp.effects.attribute_run import run_attribution

    result = run_attribution(
        model=model, fasta=fasta, out=out, regions=region, bed=bed, variants=variants,
        method=method.value, target=target.value, n_shuffles=n_shuffles, seed=seed,
        bigwig=bigwig, batch_size=batch_size, device=device, task=task, overwrite=overwrite,
    )  # fmt: skip
    if not quiet:
        console.print(
            f"{method.value} attributions of {result.n_windows} windows -> {result.out}"
            + (f" and {result.bigwig}" if result.bigwig else "")
        )
