"""The steps of ``varinterp deconvolve`` from files to files: prep, predict, eval.

- `prepare_data`: regions (a BED, tiles over spans or contigs, or peaks called from the
  bulk), optional GC-matched background windows, the windows read from the bigWigs
  (and FASTA), saved as one ``data.h5`` (`varinterp.deconv.prep`).
- `predict_run`: one or several model directories (all their members averaged, e.g.
  replicate runs) predict the peak windows of a ``data.h5``; the tracks are rescaled to
  the bulk and exported (bigWigs, ``counts.tsv``, ``predictions.h5``) into a new folder,
  atomically.
- `evaluate_files`: predictions and the two baselines against the ground truth of a
  ``data.h5``: the long table and the summary (medians), both TSV.

Training is `varinterp.models.deepdetails.train.train_deconv`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from varinterp.deconv.prep import (
    DeconvData,
    build_windows,
    call_bulk_peaks,
    load_data,
    read_library_sizes,
    save_data,
)
from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.progress import ProgressCallback

__all__ = [
    "TILE_TARGET",
    "EvalResult",
    "PredictResult",
    "PrepResult",
    "evaluate_files",
    "predict_run",
    "prepare_data",
    "window_regions",
]

#: Target length of the tiles of `window_regions` (the default model's output window).
TILE_TARGET = 1000

PathLike = str | os.PathLike


@dataclass
class PrepResult:
    """The windows written by `prepare_data`, how many of them are background, and why
    the contributions were left unset when ``"auto"`` could not estimate them."""

    path: Path
    data: DeconvData
    n_background: int
    contributions_note: str | None = None


def _contig_lengths(bulk_pl: PathLike) -> dict[str, int]:
    from varinterp.io.bigwig import BigWig

    with BigWig(bulk_pl) as bw:
        return dict(bw.lengths)


def window_regions(
    *,
    bulk_pl: PathLike,
    bulk_mn: PathLike | None = None,
    regions: PathLike | None = None,
    tile_step: int | None = None,
    n_peaks: int = 2000,
    chroms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The regions to centre windows on: chrom, start, end (0-based half-open).

    With `tile_step`, tiles of `TILE_TARGET` bp every `tile_step` bp over the BED
    `regions` or the whole `chroms` (`varinterp.deconv.tiles.tile_spans`); else the
    BED `regions`; else the `n_peaks` strongest bulk peaks on `chroms` (all contigs by
    default).
    """
    from varinterp.io.intervals import read_bed, require_within_contigs

    if regions is not None:
        require_within_contigs(
            read_bed(regions), _contig_lengths(bulk_pl), source=f"regions BED {regions}",
            against=f"bigWig {bulk_pl}", known_contigs=True,
        )  # fmt: skip
    if tile_step is not None:
        from varinterp.deconv.tiles import tile_spans

        if regions is None and not chroms:
            raise InputError("tiling needs regions or at least one contig to tile")
        spans = read_bed(regions) if regions is not None else None
        return tile_spans(
            spans,
            chrom_sizes=_contig_lengths(bulk_pl),
            target_length=TILE_TARGET,
            step=tile_step,
            chroms=chroms,
        )
    if regions is not None:
        return read_bed(regions)
    return call_bulk_peaks(bulk_pl, bulk_mn, n_peaks=n_peaks, chroms=chroms)


def _with_background(
    table: pd.DataFrame,
    *,
    bulk_pl: PathLike,
    fasta: PathLike,
    ratio: float,
    chroms: Sequence[str] | None,
    exclude: PathLike | None,
    seed: int,
) -> tuple[pd.DataFrame, int]:
    from varinterp.deconv.background import gc_matched_background
    from varinterp.io.intervals import read_bed

    lengths = _contig_lengths(bulk_pl)
    if chroms:
        lengths = {c: lengths[c] for c in chroms if c in lengths}
    bg = gc_matched_background(
        table,
        fasta=fasta,
        contigs=lengths,
        ratio=ratio,
        exclude=read_bed(exclude) if exclude is not None else None,
        seed=seed,
    )
    peaks = table[["chrom", "start", "end"]].assign(background=False)
    both = pd.concat(
        [peaks, bg.windows[["chrom", "start", "end"]].assign(background=True)],
        ignore_index=True,
    )
    return both, len(bg.windows)


def prepare_data(
    *,
    bulk_pl: PathLike,
    accessibility: Mapping[str, PathLike] | PathLike,
    out: PathLike,
    bulk_mn: PathLike | None = None,
    truth: Mapping[str, tuple[PathLike, PathLike | None]] | None = None,
    regions: PathLike | None = None,
    n_peaks: int = 2000,
    chroms: Sequence[str] | None = None,
    fasta: PathLike | None = None,
    library_sizes: Mapping[str, float] | PathLike | None = None,
    background_ratio: float = 0.0,
    exclude: PathLike | None = None,
    tile_step: int | None = None,
    background_seed: int = 1234567,
    contributions: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> PrepResult:
    """Build the windows of a deconvolution run and save them to `out` (``data.h5``).

    `accessibility` maps each cell type (in order) to its bigWig, or is a track table
    (`varinterp.io.tracks`: ``accessibility`` per cell type; its ``plus``/``minus`` are
    the ground truth and its ``accessibility_depth`` the library sizes, when `truth` and
    `library_sizes` are not given); `truth` maps cell types to their (plus, minus)
    ground-truth bigWigs (for ``eval``). Regions: `window_regions`.
    `library_sizes` is a mapping or a ``library_sizes.tsv`` (default: each accessibility
    track's total). `background_ratio` > 0 adds that many GC-matched background windows
    per region (they train but are not exported or scored; needs `fasta`), avoiding the
    BED `exclude`. `on_progress` counts the windows read.
    `contributions` ``"auto"`` estimates each cell type's contribution to the bulk per
    unit of accessibility from 1-kb bins of the `chroms` (all contigs by default;
    `varinterp.deconv.contributions`) and stores it for the model's scale function;
    ``"none"`` leaves the reference's unweighted scale. Default: ``"auto"``, except for
    tiles (`tile_step`), which are scaled with the contributions their model recorded.
    Where ``"auto"`` cannot estimate them (too few bins open in one cell type only, or no
    bulk there) the scale is left unweighted and the result's `contributions_note` says
    why.
    """
    check_output(out)
    if contributions is None:
        contributions = "none" if tile_step is not None else "auto"
    if contributions not in ("auto", "none"):
        raise InputError(f"contributions must be 'auto' or 'none', got {contributions!r}")
    if background_ratio > 0 and fasta is None:
        msg = (
            "background windows are matched on GC content and need the reference FASTA; "
            "give a FASTA or no background"
        )
        raise InputError(msg)
    if background_ratio > 0 and tile_step is not None:
        raise InputError("tiles are prediction windows; build them without background")
    if not isinstance(accessibility, Mapping):
        accessibility, table_truth, table_sizes = _from_track_table(accessibility)
        truth = truth if truth is not None else table_truth
        library_sizes = library_sizes if library_sizes is not None else table_sizes
    sizes = library_sizes
    if sizes is not None and not isinstance(sizes, Mapping):
        sizes = read_library_sizes(sizes)
    table = window_regions(
        bulk_pl=bulk_pl,
        bulk_mn=bulk_mn,
        regions=regions,
        tile_step=tile_step,
        n_peaks=n_peaks,
        chroms=chroms,
    )
    n_background = 0
    if background_ratio > 0:
        table, n_background = _with_background(
            table,
            bulk_pl=bulk_pl,
            fasta=fasta,
            ratio=background_ratio,
            chroms=chroms,
            exclude=exclude,
            seed=background_seed,
        )
    data = build_windows(
        regions=table,
        bulk_pl=bulk_pl,
        bulk_mn=bulk_mn,
        accessibility=accessibility,
        truth=truth,
        library_sizes=sizes,
        fasta=fasta,
        on_progress=on_progress,
    )
    if "background" in table:
        data.regions["background"] = table["background"].to_numpy(dtype=bool)
    note = None
    if contributions == "auto":
        from varinterp.deconv.contributions import estimate_response

        try:
            response = estimate_response(
                bulk_pl=bulk_pl,
                bulk_mn=bulk_mn,
                accessibility=accessibility,
                norm=data.norm,
                chroms=chroms,
            )
            data.contributions = response.contributions
            data.exponent = response.exponent
        except InputError as err:
            note = f"scale left unweighted: {err}"
    return PrepResult(save_data(data, out), data, n_background, note)


def _from_track_table(path: PathLike):
    """``(accessibility, truth or None, library sizes or None)`` from a track table."""
    from varinterp.io.tracks import read_track_table

    table = read_track_table(path, require=("cell_type", "accessibility"))
    if table["cell_type"].duplicated().any():
        msg = f"track table {path}: each cell type must appear once for deconvolution"
        raise InputError(msg)
    names = table["cell_type"].tolist()
    accessibility = dict(zip(names, table["accessibility"], strict=True))
    truth = None
    if table["plus"].astype(bool).all():
        truth = {
            n: (p, m or None) for n, p, m in zip(names, table["plus"], table["minus"], strict=True)
        }
    depth = table["accessibility_depth"]
    sizes = dict(zip(names, depth.astype(float), strict=True)) if depth.notna().all() else None
    return accessibility, truth, sizes


@dataclass
class PredictResult:
    """What `predict_run` wrote: the folder, its files, and what was averaged."""

    out: Path
    files: list[Path]
    cell_types: list[str]
    n_strands: int
    n_models: int
    n_windows: int


def predict_run(
    *,
    data: PathLike,
    models: Sequence[PathLike],
    out: PathLike,
    rescale: str = "counts",
    min_abs: float = 0.0,
    batch_size: int = 32,
    device: str = "auto",
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> PredictResult:
    """Predict the peak windows of `data` with the mean of every member of the model
    directories `models` (`varinterp.deconv.predict.predict_tracks`), and export the
    tracks into the new folder `out` (`export_tracks`; replaced only with `overwrite`).
    """
    from varinterp.deconv.predict import export_tracks, predict_tracks
    from varinterp.io.atomic import atomic_dir
    from varinterp.training.inference import load_model

    check_output(out)
    if not models:
        raise InputError("no model directories given; pass at least one")
    windows = load_data(data).peaks_only()  # background windows only train
    ensembles = [load_model(path, device=device, architecture="deepdetails") for path in models]
    pred = predict_tracks(
        ensembles,
        windows,
        batch_size=batch_size,
        device=device,
        rescale=rescale,
        on_progress=on_progress,
    )
    with atomic_dir(out, overwrite=overwrite) as tmp:
        written = export_tracks(pred, windows, tmp, min_abs=min_abs)
    out = Path(out)
    return PredictResult(
        out=out,
        files=[out / f.name for f in written],
        cell_types=list(windows.cell_types),
        n_strands=windows.n_strands,
        n_models=sum(len(e.models) for e in ensembles),
        n_windows=windows.n,
    )


@dataclass
class EvalResult:
    """The tables of `evaluate_files` and where they were written."""

    table: pd.DataFrame
    summary: pd.DataFrame
    out: Path
    summary_path: Path


def evaluate_files(
    *,
    data: PathLike,
    out: PathLike,
    predictions: PathLike | None = None,
    label: str = "deepdetails",
) -> EvalResult:
    """Score `predictions` (``predictions.h5``, named `label`) and the baselines against
    the ground truth of `data`; write the long table to `out` and the medians to
    ``<out without .tsv>.summary.tsv``."""
    from varinterp.deconv.predict import evaluate_run, load_predictions
    from varinterp.io.atomic import atomic_path

    check_output(out)
    windows = load_data(data).peaks_only()
    preds = {}
    if predictions is not None:
        preds[label] = load_predictions(predictions, windows)
    table, summary = evaluate_run(windows, preds)
    out = Path(out)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    summary_path = out.with_name(out.name.removesuffix(".tsv") + ".summary.tsv")
    with atomic_path(summary_path) as tmp:
        summary.to_csv(tmp, sep="\t", float_format="%.4f")
    return EvalResult(table, summary, out, summary_path)
