"""Predicting, exporting and evaluating deconvolved tracks.

- `predict_tracks`: per-cell-type tracks ``(n, K, S, L) float32`` from a trained model,
  optionally rescaled to the observed bulk (``counts``: each strand's total over the K
  cell types matches the bulk's total in that window, the reference's default export;
  ``per-bp``: every base's sum over K matches the bulk; ``none``).
- `export_tracks`: per-cell-type stranded bigWigs (``<cell type>.pl.bw`` and
  ``<cell type>.mn.bw``, minus strand negative), ``counts.tsv`` (one row per window
  centre, one column per cell type and strand) and ``predictions.h5``.
- `evaluate_run`: the metrics of `varinterp.deconv.metrics` for the model and for the
  statistical baselines of `varinterp.deconv.baselines` on the same windows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.deconv.baselines import nnls_split, proportional_split
from varinterp.deconv.metrics import evaluate_predictions, summarize
from varinterp.deconv.prep import DeconvData
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.progress import ProgressCallback, report

__all__ = [
    "RESCALE_MODES",
    "STRAND_NAMES",
    "evaluate_run",
    "export_tracks",
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


def predict_tracks(
    model,
    data: DeconvData,
    *,
    batch_size: int = 32,
    device: str = "cpu",
    rescale: str = "counts",
    on_progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Per-cell-type tracks over the window centres: ``(n, K, S, L) float32``."""
    from varinterp.deconv.train import forward_batches

    cfg = model.config
    if cfg.n_cell_types != len(data.cell_types) or cfg.output_length != data.target_length:
        msg = (
            f"model predicts {cfg.n_cell_types} cell types over {cfg.output_length} bp; data "
            f"has {len(data.cell_types)} over {data.target_length} bp"
        )
        raise InputError(msg)
    out = np.zeros((data.n, cfg.n_cell_types, cfg.n_strands, cfg.output_length), np.float32)
    for idx, pred in forward_batches(model, data, batch_size=batch_size, device=device):
        out[idx] = pred
        report(on_progress, int(idx[-1]) + 1, data.n)
    return rescale_to_bulk(out, data.target_bulk(), mode=rescale)


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
    """Write bigWigs, ``counts.tsv`` and ``predictions.h5`` into folder `out`.

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
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"predictions {path} do not exist; run `deconvolve predict` first")
    with h5py.File(path, "r") as h5:
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
