"""Predicting, exporting and evaluating deconvolved tracks.

- `predict_tracks`: per-cell-type tracks ``(n, K, S, L) float32`` from a trained model
  (or the mean of several: replicate runs, a model directory's members), predicted
  through `varinterp.training.inference`, optionally rescaled to the observed bulk
  (``counts``: each strand's total over the K cell types matches the bulk's total in
  that window, the reference's default export; ``per-bp``: every base's sum over K
  matches the bulk; ``none``). The mean is taken before the rescaling.
- `export_tracks`: per-cell-type stranded bigWigs (``<cell type>.pl.bw`` and
  ``<cell type>.mn.bw``, minus strand negative), ``counts.tsv`` (one row per window
  centre, one column per cell type and strand) and ``predictions.h5``.
- `evaluate_run`: the metrics of `varinterp.deconv.metrics` for the model and for the
  statistical baselines of `varinterp.deconv.baselines` on the same windows.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from varinterp.deconv.baselines import nnls_split, proportional_split
from varinterp.deconv.metrics import evaluate_predictions, summarize
from varinterp.deconv.prep import DeconvData
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.progress import ProgressCallback
from varinterp.training.devices import resolve_device
from varinterp.training.inference import Ensemble, predict_windows
from varinterp.training.registry import Architecture, OutputSpec, architecture_of

__all__ = [
    "RESCALE_MODES",
    "STRAND_NAMES",
    "evaluate_run",
    "export_tracks",
    "forward_batches",
    "load_predictions",
    "mean_track_chunks",
    "predict_tracks",
    "rescale_to_bulk",
]

RESCALE_MODES = ("counts", "per-bp", "none")
STRAND_NAMES = ("pl", "mn")


def rescale_to_bulk(pred: np.ndarray, bulk: np.ndarray, *, mode: str = "counts") -> np.ndarray:
    """Rescale tracks ``(n, K, S, L)`` to the observed bulk ``(n, S, L)``; same shape."""
    if mode not in RESCALE_MODES:
        raise InputError(f"rescale mode must be one of {', '.join(RESCALE_MODES)}, got {mode!r}")
    pred = np.asarray(pred, dtype=np.float32)
    if mode == "none":
        return pred
    bulk = np.abs(np.asarray(bulk, dtype=np.float64))
    if mode == "counts":
        have = pred.sum(axis=(1, 3), dtype=np.float64)  # (n, S)
        want = bulk.sum(axis=-1)
        factor = np.divide(want, have, out=np.zeros_like(want), where=have > 0)
        return (pred * factor[:, None, :, None]).astype(np.float32)
    have = pred.sum(axis=1, dtype=np.float64)  # (n, S, L)
    factor = np.divide(bulk, have, out=np.zeros_like(bulk), where=have > 0)
    return (pred * factor[:, None]).astype(np.float32)


def _check_order(ensemble: Ensemble, cell_types: Sequence[str]) -> None:
    """A directory trained on the same cell types in another order would mislabel them."""
    trained = [str(c) for c in ensemble.model_dir.metadata.get("cell_types") or []]
    if sorted(trained) == sorted(cell_types) and trained != list(cell_types):
        msg = (
            f"{ensemble.model_dir.path} was trained on the cell types {trained} in this order; "
            f"the data has {list(cell_types)}: prepare the data with the same order"
        )
        raise InputError(msg)


def scale_input(model: Any, data: DeconvData) -> np.ndarray:
    """The scale input of `data`'s windows for `model`: ``(n, K) float32``.

    The data's own response (contributions and exponent) shapes it when it has one;
    otherwise the one the model was trained with (recorded in its directory), so windows
    prepared without it (for example tiles of one contig, too few bins to estimate it)
    are scaled as in training.
    """
    if data.contributions is None:
        recorded = _recorded_response(model)
        if recorded is not None:
            contributions, exponent = recorded
            data = dataclasses.replace(
                data, contributions=np.asarray(contributions, np.float64), exponent=exponent
            )
    return data.scale()


def _recorded_response(model: Any) -> tuple[list[float], float] | None:
    if isinstance(model, Ensemble):
        meta = model.model_dir.metadata
        if meta.get("contributions") is None:
            return None
        return meta["contributions"], float(meta.get("exponent", 1.0))
    if isinstance(model, Sequence) and not isinstance(model, str):
        for part in model:
            found = _recorded_response(part)
            if found is not None:
                return found
    return None


def _members(model: Any, cell_types: Sequence[str]) -> list[nn.Module]:
    """The modules of `model`: a module, an `Ensemble`, or a sequence of either."""
    if isinstance(model, nn.Module):
        return [model]
    if isinstance(model, Ensemble):
        _check_order(model, cell_types)
        return list(model.models.values())
    if isinstance(model, Sequence) and not isinstance(model, str):
        return [m for part in model for m in _members(part, cell_types)]
    msg = f"expected a DeepDETAILS model or model directory, got {type(model).__name__}"
    raise InputError(msg)


def _ensemble(model: Any, data: DeconvData) -> tuple[list[nn.Module], Architecture, OutputSpec]:
    members = _members(model, data.cell_types)
    if not members:
        raise InputError("no models given; pass at least one DeepDETAILS model")
    arch = architecture_of(members[0].config)
    meta = {"cell_types": list(data.cell_types)}
    specs = {arch.outputs(m.config, meta) for m in members}
    spec = specs.pop()
    if specs:
        msg = "the models to average predict different shapes; pass models of one data set"
        raise InputError(msg)
    want = (len(data.cell_types), data.n_strands, data.target_length)
    if (spec.n_tasks, spec.n_strands, spec.output_length) != want:
        msg = (
            f"model predicts {spec.n_tasks} cell types x {spec.n_strands} strands over "
            f"{spec.output_length} bp; data has {want[0]} x {want[1]} over {want[2]} bp"
        )
        raise InputError(msg)
    if "acc" not in spec.context or "scale" not in spec.context:
        msg = f"{arch.name} models do not take accessibility; pass a DeepDETAILS model"
        raise InputError(msg)
    return members, arch, spec


def _predict(
    members: list[nn.Module],
    arch: Architecture,
    spec: OutputSpec,
    data: DeconvData,
    index: slice,
    scale: np.ndarray,
    *,
    batch_size: int,
    device: torch.device,
    bf16: bool,
    on_progress: ProgressCallback | None = None,
) -> np.ndarray:
    out = predict_windows(
        members,
        arch,
        spec,
        data.seq[index],
        context={"acc": data.acc[index], "scale": scale[index]},
        x_encoding="one-hot",
        rc_average=False,
        batch_size=batch_size,
        device=device,
        bf16=bf16,
        on_progress=on_progress,
    )
    return out.profile


def forward_batches(
    model: Any,
    data: DeconvData,
    *,
    batch_size: int,
    device: str | torch.device = "cpu",
    bf16: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(index (b,) int64, prediction (b, K, S, L) float32)`` over all windows.

    `model` is a module, an `Ensemble` or a list of them (their mean is predicted);
    the modules are moved to `device`. Memory: one batch.
    """
    dev = resolve_device(device)
    members, arch, spec = _ensemble(model, data)
    for m in members:
        m.to(dev)
    scale = scale_input(model, data)
    for lo in range(0, data.n, batch_size):
        hi = min(lo + batch_size, data.n)
        pred = _predict(
            members, arch, spec, data, slice(lo, hi), scale,
            batch_size=batch_size, device=dev, bf16=bf16,
        )  # fmt: skip
        yield np.arange(lo, hi), pred


def predict_tracks(
    model: Any,
    data: DeconvData,
    *,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    rescale: str = "counts",
    bf16: bool = True,
    on_progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Per-cell-type tracks over the window centres: ``(n, K, S, L) float32``.

    `model` is a module, an `Ensemble` (a loaded model directory) or a list of them:
    their members' predictions are averaged by `varinterp.training.inference` (the mean
    of replicate runs), then rescaled to the bulk (`rescale_to_bulk`). The modules are
    moved to `device`; bf16 autocast on CUDA when `bf16`.
    """
    dev = resolve_device(device)
    members, arch, spec = _ensemble(model, data)
    for m in members:
        m.to(dev)
    pred = _predict(
        members, arch, spec, data, slice(None), scale_input(model, data),
        batch_size=batch_size, device=dev, bf16=bf16, on_progress=on_progress,
    )  # fmt: skip
    return rescale_to_bulk(pred, data.target_bulk(), mode=rescale)


def mean_track_chunks(
    values: np.ndarray,
    regions: pd.DataFrame,
    chrom_sizes: dict[str, int],
    *,
    chunk: int = 1_000_000,
) -> Iterator[tuple[str, int, np.ndarray]]:
    """Base-wise mean of overlapping windows of one track, streamed in chunks.

    `values`: ``(n, L)``, one track (cell type and strand) of the ``n`` windows whose
    chrom, start, end are `regions` (``end - start == L``). Yields ``(chrom, start,
    chunk values (m,) float32)`` over the bases covered by at least one window, in
    `chrom_sizes` order then by position, with ``m <= chunk``; memory is one chunk.
    """
    order = {c: i for i, c in enumerate(chrom_sizes)}
    chrom = regions["chrom"].astype(str).to_numpy()
    start = regions["start"].to_numpy(dtype=np.int64)
    missing = sorted(set(chrom) - set(order))
    if missing:
        raise InputError(f"contigs {missing} are missing from the data's contig sizes")
    length = values.shape[-1]
    for c in sorted(set(chrom), key=order.__getitem__):
        idx = np.flatnonzero(chrom == c)
        idx = idx[np.argsort(start[idx], kind="stable")]
        st = start[idx]
        reach = np.maximum.accumulate(st + length)
        cuts = np.concatenate([[0], np.flatnonzero(st[1:] > reach[:-1]) + 1, [idx.size]])
        for a, b in pairwise(cuts.tolist()):
            lo, hi = int(st[a]), int(reach[b - 1])
            for c0 in range(lo, hi, chunk):
                c1 = min(c0 + chunk, hi)
                i0 = a + int(np.searchsorted(st[a:b], c0 - length, side="right"))
                i1 = a + int(np.searchsorted(st[a:b], c1, side="left"))
                total = np.zeros(c1 - c0, dtype=np.float64)
                count = np.zeros(c1 - c0, dtype=np.int32)
                for r in range(i0, i1):
                    off = int(st[r]) - c0
                    s0, s1 = max(0, -off), min(length, c1 - c0 - off)
                    total[off + s0 : off + s1] += values[idx[r], s0:s1]
                    count[off + s0 : off + s1] += 1
                yield c, c0, (total / np.maximum(count, 1)).astype(np.float32)


def export_tracks(
    pred: np.ndarray,
    data: DeconvData,
    out: str | os.PathLike,
    *,
    min_abs: float = 0.0,
    chunk: int = 1_000_000,
) -> list[Path]:
    """Write bigWigs, ``tracks.tsv`` (their track table, `varinterp.io.tracks`),
    ``counts.tsv`` and ``predictions.h5`` into folder `out`.

    Values with ``|value| < min_abs`` are left out of the bigWigs. Where window centres
    overlap (e.g. sliding windows), the bigWigs hold the base-wise mean of the
    overlapping predictions (as `varinterp.deconv.tiles.average_overlaps`), built one
    chunk of at most `chunk` bp of one track at a time. Returns the files written.
    """
    import h5py

    from varinterp.io.bigwig import write_bigwig

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    regions = data.target_regions()
    files = []
    for k, ct in enumerate(data.cell_types):
        for s in range(pred.shape[2]):
            sign = -1.0 if s == 1 else 1.0

            def tracks(k=k, s=s, sign=sign):
                track = pred[:, k, s]
                for chrom, lo, vals in mean_track_chunks(
                    track, regions, data.chrom_sizes, chunk=chunk
                ):
                    v = vals.astype(np.float64) * sign
                    v[np.abs(v) < min_abs] = 0.0
                    yield chrom, lo, v

            path = out / f"{ct}.{STRAND_NAMES[s]}.bw"
            write_bigwig(path, chrom_sizes=data.chrom_sizes, tracks=tracks())
            files.append(path)
    from varinterp.io.tracks import write_track_table

    rows = [
        {
            "cell_type": ct,
            "plus": f"{ct}.{STRAND_NAMES[0]}.bw",
            "minus": f"{ct}.{STRAND_NAMES[1]}.bw" if pred.shape[2] > 1 else "",
        }
        for ct in data.cell_types
    ]
    files.append(write_track_table(rows, out / "tracks.tsv"))
    table = regions.copy()
    totals = pred.sum(axis=-1, dtype=np.float64)
    for k, ct in enumerate(data.cell_types):
        for s in range(pred.shape[2]):
            table[f"{ct}.{STRAND_NAMES[s]}"] = totals[:, k, s]
    with atomic_path(out / "counts.tsv") as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    files.append(out / "counts.tsv")
    with atomic_path(out / "predictions.h5", suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        h5.create_dataset("preds", data=pred, compression="gzip", compression_opts=1)
        h5.attrs["cell_types"] = np.array(data.cell_types, dtype=object)
        h5.attrs["layout"] = "(n_windows, cell_type, strand, position)"
    files.append(out / "predictions.h5")
    return files


def load_predictions(path: str | os.PathLike, data: DeconvData) -> np.ndarray:
    """Read ``predictions.h5`` -> ``(n, K, S, L) float32``, checked against `data`."""
    from varinterp.io.readers import open_hdf5

    path = Path(path)
    if not path.is_file():
        raise InputError(f"predictions {path} do not exist; run `deconvolve predict` first")
    with open_hdf5(path, "predictions") as h5:
        if "preds" not in h5:
            raise InputError(f"{path} has no 'preds' dataset; is it from `deconvolve predict`?")
        pred = h5["preds"][:]
        cts = [str(x) for x in h5.attrs.get("cell_types", [])]
    want = (data.n, len(data.cell_types), data.n_strands, data.target_length)
    if pred.shape != want or cts != list(data.cell_types):
        msg = (
            f"predictions {path} ({pred.shape}, {cts}) do not match the data ({want}, "
            f"{data.cell_types}); predict on the same data file"
        )
        raise InputError(msg)
    return pred.astype(np.float32)


def evaluate_run(
    data: DeconvData, predictions: dict[str, np.ndarray] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Metrics of each method in `predictions` and of the two baselines.

    Returns the long table (method, metric, unit, value) and the summary (medians,
    one row per method). Needs ground truth in `data`.
    """
    if data.truth is None:
        raise InputError("the data file has no ground truth; rebuild it with --truth tracks")
    bulk = data.target_bulk()
    load = data.load()
    methods = dict(predictions or {})
    methods["proportional"] = proportional_split(bulk, load)
    methods["nnls"] = nnls_split(bulk, load)[0]
    reg = data.target_regions()
    names = [f"{c}:{s}-{e}" for c, s, e in reg[["chrom", "start", "end"]].itertuples(index=False)]
    table = evaluate_predictions(
        methods, data.truth, cell_types=data.cell_types, region_names=names
    )
    return table, summarize(table)
