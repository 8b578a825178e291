"""`varinterp simulate celltypes`: cell types, scATAC and a bulk PRO-cap mixture of a world.

A command function only; the `simulate` group attaches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose
from varinterp.errors import InputError

__all__ = ["celltypes"]


def _pairs(values: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise InputError(f"{option} {value!r} is not NAME=VALUE, e.g. {option} kupffer=0.1")
        if name in out:
            raise InputError(f"cell type {name} is given twice in {option}")
        out[name] = rest
    return out


def _numbers(values: list[str] | None, option: str, kind: type) -> dict | None:
    if not values:
        return None
    out = {}
    for name, text in _pairs(values, option).items():
        try:
            out[name] = kind(text)
        except ValueError:
            raise InputError(f"{option} {name}={text}: {text!r} is not a number") from None
    return out


def celltypes(
    world: Annotated[
        Path,
        typer.Option(
            "--world",
            "-w",
            metavar="DIR",
            help="World folder written by 'varinterp simulate world'.",
        ),
    ],
    out: OutDir,
    seed: Seed = 0,
    cell_type: Annotated[
        list[str] | None,
        typer.Option(
            "--cell-type",
            metavar="NAME[=TF,TF...]",
            help="NAME (built-in: hepatocyte, kupffer, endothelial) or NAME=TF,TF,... "
            "(expressed factors among SP1 ETS NRF1 AP1 CEBP NFKB SPI1 HNF4A); repeat. "
            "Default: the three built-in types.",
        ),
    ] = None,
    proportion: Annotated[
        list[str] | None,
        typer.Option(
            "--proportion",
            metavar="NAME=X",
            help="NAME=x mixture proportion (normalised to sum 1). Default hepatocyte 0.6, "
            "kupffer 0.1, endothelial 0.3 (equal for other types).",
        ),
    ] = None,
    cells: Annotated[
        list[str] | None,
        typer.Option(
            "--cells",
            metavar="NAME=N",
            help="NAME=n scATAC cells of a type. Default 400 / 150 / 300 (else 300).",
        ),
    ] = None,
    fragments_per_cell: Annotated[
        float, typer.Option("--fragments-per-cell", help="Median scATAC fragments per cell.")
    ] = 1000.0,
    reads_per_mb: Annotated[
        float,
        typer.Option(
            "--reads-per-mb", help="Each cell type's PRO-cap library depth per Mb of genome."
        ),
    ] = 350_000.0,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            help="Bulk depth (expected reads over both strands). Default: half a "
            "cell type's library.",
        ),
    ] = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Simulate cell types of a world, their scATAC and a bulk PRO-cap mixture into --out.

    Each cell type expresses a set of transcription factors: an enhancer is open
    only where its lead factor is expressed, and a motif counts only where its
    factor is. Writes library/ (full-depth per-type PRO-cap bigWigs), truth/
    (each type's thinned share of the bulk), bulk.pl.bw / bulk.mn.bw (their
    exact sum), accessibility/ (expected per-type accessibility bigWigs),
    fragments.tsv.gz + .tbi and barcodes.tsv (scATAC), tracks.tsv, elements.tsv,
    regions.bed, chrom.sizes and celltypes.json (truth and checksums).
    """
    from varinterp.simulate.celltypes import simulate_celltypes

    types: list[str] | dict[str, list[str]] | None = None
    if cell_type:
        if any("=" in v for v in cell_type):
            pairs = _pairs(cell_type, "--cell-type")
            types = {k: [f for f in v.split(",") if f] for k, v in pairs.items()}
        else:
            types = list(dict.fromkeys(cell_type))
    set_threads(threads)
    with progress_bar("simulating cell types", quiet=quiet) as on_progress:
        result = simulate_celltypes(
            world_dir=world,
            out=out,
            seed=seed,
            cell_types=types,
            proportions=_numbers(proportion, "--proportion", float),
            n_cells=_numbers(cells, "--cells", int),
            fragments_per_cell=fragments_per_cell,
            reads_per_mb=reads_per_mb,
            depth=depth,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        mix = ", ".join(f"{c} {p:.0%}" for c, p in result.proportions.items())
        console.print(
            f"wrote {len(result.cell_types)} cell types ({mix}) to {result.out_dir}: "
            f"{sum(result.n_cells.values())} cells, {result.n_fragments:,} fragments, "
            f"bulk {result.bulk_reads:,} reads over {result.n_regions} regions"
        )
