"""`varinterp deconvolve`: DeepDETAILS deconvolution of a bulk track into cell types."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, err_console, progress_bar, require_file, set_threads
from varinterp.cli._conventions import refuse_existing
from varinterp.cli._options import (
    Device,
    OutDir,
    OutFile,
    Overwrite,
    Quiet,
    Threads,
    Verbose,
)
from varinterp.cli.deconvolve_train import train
from varinterp.errors import InputError

app = typer.Typer(
    help=(
        "DeepDETAILS deconvolution: split a bulk track (PRO-cap, PRO-seq, histone ChIP; "
        "stranded bigWigs) into cell-type-specific base-resolution tracks using each cell "
        "type's accessibility (bigWig). Steps: prep (windows -> data.h5), train (model "
        "folder), predict (per-cell-type bigWigs + counts table), eval (CCC / RMSE / "
        "Pearson against a ground truth, with two statistical baselines); import-h5 reads "
        "a data.h5 prepared by the DeepDETAILS tool."
    ),
    no_args_is_help=True,
)


class Rescale(StrEnum):
    counts = "counts"
    per_bp = "per-bp"
    none = "none"


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        name, sep, rest = v.partition("=")
        if not sep or not name or not rest:
            msg = f"{what} {v!r} is not NAME=VALUE; write e.g. --{what} K562=acc.K562.bw"
            raise InputError(msg)
        if name in out:
            raise InputError(f"cell type {name} is given twice in --{what}")
        out[name] = rest
    return out


@app.command("prep")
def prep(
    bulk_pl: Annotated[
        Path, typer.Option("--bulk-pl", metavar="FILE", help="Bulk plus-strand bigWig.")
    ],
    out: OutFile,
    tracks: Annotated[
        Path | None,
        typer.Option(
            "--tracks",
            metavar="TSV",
            help="Track table (docs/tracks.md): each cell type's accessibility (+ "
            "accessibility_depth) and, for eval, its ground truth as plus/minus. Or give "
            "--acc (and --truth).",
        ),
    ] = None,
    acc: Annotated[
        list[str] | None,
        typer.Option("--acc", metavar="NAME=BW", help="NAME=accessibility.bw, once per cell type."),
    ] = None,
    bulk_mn: Annotated[
        Path | None,
        typer.Option(
            "--bulk-mn", metavar="FILE", help="Bulk minus-strand bigWig (values may be negative)."
        ),
    ] = None,
    truth: Annotated[
        list[str] | None,
        typer.Option(
            "--truth",
            metavar="NAME=PLUS[,MINUS]",
            help="NAME=plus.bw,minus.bw ground truth per cell type (for eval).",
        ),
    ] = None,
    regions: Annotated[
        Path | None,
        typer.Option(
            "--regions",
            metavar="BED",
            help="BED of regions to centre windows on; default: bulk peaks.",
        ),
    ] = None,
    n_peaks: Annotated[
        int, typer.Option("--n-peaks", min=1, help="Bulk peaks to call when no --regions.")
    ] = 2000,
    chroms: Annotated[
        list[str] | None,
        typer.Option("--chrom", metavar="CHROM", help="Contig to call peaks on (repeatable)."),
    ] = None,
    fasta: Annotated[
        Path | None,
        typer.Option("--fasta", metavar="FILE", help="Reference FASTA; without it sequence is N."),
    ] = None,
    library_size: Annotated[
        list[str] | None,
        typer.Option(
            "--library-size",
            metavar="NAME=N",
            help="NAME=N fragments per cell type (default: track total).",
        ),
    ] = None,
    library_sizes: Annotated[
        Path | None,
        typer.Option(
            "--library-sizes",
            metavar="TSV",
            help="library_sizes.tsv from `pseudobulk` (cell_type, n_fragments); instead of "
            "--library-size.",
        ),
    ] = None,
    background_ratio: Annotated[
        float,
        typer.Option(
            "--background-ratio",
            min=0.0,
            help="GC-matched background windows per region (needs --fasta; 0 = none, the "
            "reference default; the paper's benchmarks use 1).",
        ),
    ] = 0.0,
    exclude: Annotated[
        Path | None,
        typer.Option(
            "--exclude", metavar="BED", help="BED (e.g. blacklist) background windows must avoid."
        ),
    ] = None,
    tile_step: Annotated[
        int | None,
        typer.Option(
            "--tile-step",
            min=1,
            help="Sliding windows for genome-wide prediction: tile the --regions (or whole "
            "--chrom contigs) with 1000-bp targets every N bp (N <= 1000; overlaps are "
            "averaged at export) instead of centring one window per region.",
        ),
    ] = None,
    background_seed: Annotated[
        int, typer.Option("--background-seed", help="Seed of the background draw.")
    ] = 1234567,
    contributions: Annotated[
        str | None,
        typer.Option(
            "--contributions",
            metavar="auto|none",
            help="Weigh the model's scale function by each cell type's contribution to the "
            "bulk per unit of accessibility, read from 1-kb bins that only one cell type "
            "opens over the --chrom contigs (all by default): auto (default without "
            "--tile-step) or none (the reference's unweighted scale; default for tiles, "
            "which take their model's).",
        ),
    ] = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Build 4096-bp windows (bulk, accessibility, sequence, truth) into one HDF5 file."""
    from varinterp.deconv.run import prepare_data

    require_file(bulk_pl, "bulk plus-strand bigWig")
    refuse_existing(out, overwrite=overwrite)
    set_threads(threads)
    if bulk_mn is not None:
        require_file(bulk_mn, "bulk minus-strand bigWig")
    if (tracks is None) == (not acc):
        raise InputError("give the cell types' accessibility as --tracks TABLE or as --acc")
    accessibility: dict[str, str] | Path = tracks if tracks is not None else _pairs(acc, "acc")
    if isinstance(accessibility, dict):
        for name, path in accessibility.items():
            require_file(Path(path), f"accessibility bigWig of {name}")
    truth_map = None
    if truth:
        truth_map = {}
        for name, spec in _pairs(truth, "truth").items():
            parts = spec.split(",")
            if len(parts) > 2:
                raise InputError(f"--truth {name}={spec}: give plus.bw or plus.bw,minus.bw")
            for p in parts:
                require_file(Path(p), f"ground-truth bigWig of {name}")
            truth_map[name] = (parts[0], parts[1] if len(parts) == 2 else None)
    if library_size and library_sizes is not None:
        raise InputError("give either --library-size or --library-sizes, not both")
    if background_ratio > 0 and fasta is None:
        msg = (
            "--background-ratio needs --fasta: background windows are matched on GC "
            "content; add --fasta or drop --background-ratio"
        )
        raise InputError(msg)
    if tile_step is not None and background_ratio > 0:
        raise InputError("--tile-step builds prediction windows; drop --background-ratio")
    if tile_step is not None and regions is None and not chroms:
        raise InputError("--tile-step needs --regions or at least one --chrom to tile")
    sizes: dict[str, float] | Path | None = None
    if library_sizes is not None:
        sizes = require_file(library_sizes, "library sizes table")
    if library_size:
        try:
            sizes = {k: float(v) for k, v in _pairs(library_size, "library-size").items()}
        except ValueError:
            raise InputError("--library-size values must be numbers, e.g. K562=1.2e7") from None
    for path, what in ((regions, "regions BED"), (exclude, "exclusion BED"), (fasta, "FASTA")):
        if path is not None:
            require_file(path, what)
    with progress_bar("preparing windows", quiet=quiet, unit="steps") as on_progress:
        result = prepare_data(
            bulk_pl=bulk_pl,
            bulk_mn=bulk_mn,
            accessibility=accessibility,
            truth=truth_map,
            out=out,
            regions=regions,
            n_peaks=n_peaks,
            chroms=chroms,
            fasta=fasta,
            library_sizes=sizes,
            background_ratio=background_ratio,
            exclude=exclude,
            tile_step=tile_step,
            background_seed=background_seed,
            contributions=contributions,
            on_progress=on_progress,
        )
    if result.contributions_note:
        err_console.print(f"note: {result.contributions_note}")
    if not quiet:
        extra = f" ({result.n_background} GC-matched background)" if result.n_background else ""
        data = result.data
        console.print(f"wrote {data.n} windows{extra} x {len(data.cell_types)} cell types to {out}")
        if data.contributions is not None:
            shares = data.contributions / data.contributions.sum()
            parts = ", ".join(f"{c} {v:.3f}" for c, v in zip(data.cell_types, shares, strict=True))
            console.print(
                f"bulk response: contributions (share) {parts}; exponent {data.exponent:.3f}"
            )


@app.command("import-h5")
def import_h5(
    h5: Annotated[
        Path,
        typer.Option("--h5", metavar="FILE", help="data.h5 written by DeepDETAILS prep-data."),
    ],
    cell_type: Annotated[
        list[str],
        typer.Option("--cell-type", metavar="NAME", help="Cell-type names in the file's order."),
    ],
    chrom_sizes: Annotated[
        Path,
        typer.Option("--chrom-sizes", metavar="FILE", help="chrom<TAB>length file of the genome."),
    ],
    out: OutFile,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Convert a DeepDETAILS tool data.h5 into this tool's data file (no ground truth)."""
    from varinterp.deconv.prep import save_data
    from varinterp.deconv.reference_h5 import read_deepdetails_h5

    require_file(h5, "DeepDETAILS data file")
    refuse_existing(out, overwrite=overwrite)
    set_threads(threads)
    require_file(chrom_sizes, "contig sizes file")
    data = read_deepdetails_h5(h5, cell_types=cell_type, chrom_sizes=chrom_sizes)
    save_data(data=data, path=out)
    if not quiet:
        console.print(f"wrote {data.n} windows x {len(data.cell_types)} cell types to {out}")


app.command("train")(train)


@app.command("predict")
def predict(
    data: Annotated[
        Path, typer.Option("--data", metavar="FILE", help="data.h5 from `deconvolve prep`.")
    ],
    model: Annotated[
        list[Path],
        typer.Option(
            "--model",
            "-m",
            metavar="DIR",
            help="Model directory (OUT/model of train); repeat for replicate runs. Every "
            "model of every directory predicts; their mean is rescaled and exported.",
        ),
    ],
    out: OutDir,
    rescale: Annotated[
        Rescale, typer.Option("--rescale", help="counts (default), per-bp or none.")
    ] = Rescale.counts,
    min_abs: Annotated[float, typer.Option("--min-abs", help="Drop |values| below this.")] = 0.0,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Windows per forward pass.")
    ] = 32,
    device: Device = "auto",
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write per-cell-type <ct>.pl.bw / <ct>.mn.bw (minus negative), tracks.tsv (the track
    table of those bigWigs, docs/tracks.md), counts.tsv and predictions.h5 into --out."""
    from varinterp.deconv.run import predict_run

    require_file(data, "deconvolution data")
    for path in model:
        if not path.is_dir():
            raise InputError(f"model directory {path} does not exist; pass OUT/model of train")
    set_threads(threads)
    with progress_bar("predicting", quiet=quiet, unit="windows") as on_progress:
        result = predict_run(
            data=data,
            models=model,
            out=out,
            rescale=rescale.value,
            min_abs=min_abs,
            batch_size=batch_size,
            device=device,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        n = result.n_models
        reps = f" (mean of {n} models)" if n > 1 else ""
        console.print(
            f"wrote {len(result.cell_types)} cell types x {result.n_strands} strands{reps} to {out}"
        )


@app.command("eval")
def evaluate(
    data: Annotated[
        Path,
        typer.Option("--data", metavar="FILE", help="data.h5 with ground truth (--truth)."),
    ],
    out: OutFile,
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", metavar="FILE", help="predictions.h5 from predict."),
    ] = None,
    label: Annotated[
        str, typer.Option("--label", metavar="NAME", help="Name of the predictions.")
    ] = "deepdetails",
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Score predictions and the baselines: OUT (long table, e.g. eval.tsv) and beside it
    the medians (eval.summary.tsv)."""
    from varinterp.deconv.run import evaluate_files

    require_file(data, "deconvolution data")
    refuse_existing(out, overwrite=overwrite)
    refuse_existing(
        out.with_name(out.name.removesuffix(".tsv") + ".summary.tsv"), overwrite=overwrite
    )
    set_threads(threads)
    if predictions is not None:
        require_file(predictions, "predictions")
    result = evaluate_files(data=data, out=out, predictions=predictions, label=label)
    if not quiet:
        console.print(result.summary.round(3).to_string())
        console.print(f"wrote {result.out} and {result.summary_path}")
