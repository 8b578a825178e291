"""`varinterp simulate mixture`: bulk mixtures and pseudo-bulk scATAC references.

A command function only; the `simulate` group attaches it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, err_console, progress_bar, require_file, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose
from varinterp.errors import InputError

__all__ = ["mixture"]


class Quality(StrEnum):
    """scATAC depth levels of the DeepDETAILS paper (fragments per cell, mean and sd)."""

    excellent = "excellent"
    good = "good"
    acceptable = "acceptable"


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise InputError(f"{option} {value!r} is not NAME=VALUE, e.g. {option} K562=...")
        if name in out:
            raise InputError(f"cell type {name} is given twice in {option}")
        out[name] = rest
    return out


def mixture(
    out: OutDir,
    track: Annotated[
        list[str] | None,
        typer.Option(
            "--track",
            metavar="NAME=PLUS[,MINUS]",
            help="NAME=plus.bw,minus.bw (or NAME=track.bw unstranded): a cell type's raw "
            "count track; repeat per cell type.",
        ),
    ] = None,
    proportion: Annotated[
        list[str] | None,
        typer.Option(
            "--proportion",
            metavar="NAME=X",
            help="NAME=x mixture proportion per cell type (normalised to sum 1; default equal).",
        ),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=1, help="Bulk depth: expected total counts over strands."),
    ] = None,
    fragments: Annotated[
        Path | None,
        typer.Option(
            "--fragments", metavar="FILE", help="scATAC fragments to sample a reference from."
        ),
    ] = None,
    barcodes: Annotated[
        Path | None,
        typer.Option("--barcodes", metavar="TSV", help="barcode<TAB>cell_type table."),
    ] = None,
    quality: Annotated[
        Quality,
        typer.Option(
            "--quality",
            help="Reference depth: excellent (10000 +- 833 fragments per cell), good (5000 +- "
            "333), acceptable (1000 +- 167).",
        ),
    ] = Quality.good,
    cells_per_type: Annotated[
        int | None,
        typer.Option("--cells-per-type", min=1, help="Cells drawn per cell type (default all)."),
    ] = None,
    chrom_sizes: Annotated[
        Path | None,
        typer.Option(
            "--chrom-sizes", metavar="FILE", help="chrom<TAB>length (default: the first track's)."
        ),
    ] = None,
    seed: Seed = 0,
    strict: Annotated[
        bool, typer.Option("--strict", help="Too few cells or unknown contigs are errors.")
    ] = False,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Simulate a bulk mixture (binomial thinning) and/or a pseudo-bulk scATAC reference.

    With --track and --depth, writes <out>/bulk/: bulk.pl.bw + bulk.mn.bw (the exact sum of
    the thinned tracks; minus strand negative), <cell type>.ds.pl.bw / .ds.mn.bw (ground
    truth) and mixture.tsv. With --fragments and --barcodes, writes <out>/reference/:
    fragments.tsv.gz + .tbi (cells, then fragments per cell, sampled without replacement),
    barcodes.tsv and reference.tsv. Same inputs and --seed give the same files.
    """
    from varinterp.simulate.mixture_folder import simulate_mixture_folder

    tracks: dict[str, tuple[str, str | None]] = {}
    for name, spec in _pairs(track or [], "--track").items():
        parts = spec.split(",")
        if len(parts) > 2:
            raise InputError(f"--track {name}={spec}: give plus.bw,minus.bw or one bigWig")
        for p in parts:
            require_file(Path(p), f"track of {name}")
        tracks[name] = (parts[0], parts[1] if len(parts) == 2 else None)
    props = None
    if proportion:
        try:
            props = {k: float(v) for k, v in _pairs(proportion, "--proportion").items()}
        except ValueError:
            raise InputError("--proportion values must be numbers, e.g. K562=0.6") from None
    if fragments is not None:
        require_file(fragments, "fragments file")
    if barcodes is not None:
        require_file(barcodes, "barcode table")
    if chrom_sizes is not None:
        require_file(chrom_sizes, "chrom sizes file")
    set_threads(threads)
    with progress_bar("simulating mixture", quiet=quiet) as on_progress:
        result = simulate_mixture_folder(
            out=out,
            tracks=tracks,
            proportions=props,
            depth=depth,
            fragments=fragments,
            barcodes=barcodes,
            quality=quality.value,
            cells_per_type=cells_per_type,
            chrom_sizes=chrom_sizes,
            seed=seed,
            strict=strict,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if result.reference is not None:
        for warning in result.reference.warnings:
            err_console.print(f"warning: {warning}")
    if quiet:
        return
    if result.mixture is not None:
        for row in result.mixture.table.itertuples(index=False):
            console.print(
                f"{row.cell_type}: proportion {row.proportion:.3f}, p {row.sampling_p:.4f}, "
                f"{row.thinned_total} of {row.input_total} counts kept"
            )
    if result.reference is not None:
        for row in result.reference.table.itertuples(index=False):
            console.print(f"{row.cell_type}: {row.n_cells} cells, {row.n_fragments} fragments")
    console.print(f"wrote {out}")
