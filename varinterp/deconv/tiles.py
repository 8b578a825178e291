"""Sliding windows for genome-wide prediction, overlap averaging, and replicate merging.

- `tile_spans`: target windows of `target_length` bp every `step` bp covering each span
  (given regions, or whole contigs). Pass them as regions to
  `varinterp.deconv.prep.build_windows`: a region's midpoint becomes its window's
  centre, so each tile's predicted centre is exactly the tile.
- `average_overlaps`: per contig, the base-wise mean of every predicted centre window
  covering a base (the reference's genome-wide export steps 1 kb with 1-kb targets;
  steps shorter than the target make windows overlap, and overlapping predictions are
  averaged here).
- `merge_runs`: the element-wise mean of the predictions of replicate runs (the
  reference's ``merge-preds``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from varinterp.errors import InputError

__all__ = ["average_overlaps", "merge_runs", "tile_spans"]


def tile_spans(
    spans: pd.DataFrame | None,
    *,
    chrom_sizes: Mapping[str, int],
    target_length: int,
    step: int,
    chroms: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Tiles (chrom, start, end; ``end - start == target_length``) covering the spans.

    `spans`: chrom, start, end; None tiles the whole contigs `chroms` (default: all of
    `chrom_sizes`). Tiles start at each span's start and step by `step` until the span's
    end is covered, clipped so no tile passes its contig's end. Sorted, duplicates
    dropped.
    """
    if not 0 < step <= target_length:
        msg = f"tile step must be between 1 and the target length {target_length}, got {step}"
        raise InputError(msg)
    if spans is None:
        names = list(chroms) if chroms else list(chrom_sizes)
        missing = [c for c in names if c not in chrom_sizes]
        if missing:
            raise InputError(f"contigs {missing} are not in the bulk bigWig; check --chrom")
        spans = pd.DataFrame({"chrom": names, "start": 0, "end": [chrom_sizes[c] for c in names]})
    rows = []
    for c, s, e in spans[["chrom", "start", "end"]].itertuples(index=False):
        c, s, e = str(c), int(s), int(e)
        length = chrom_sizes.get(c)
        if length is None:
            raise InputError(f"contig {c} of a span is not in the bulk bigWig")
        if length < target_length:
            continue
        n = max(1, -(-(e - s - target_length) // step) + 1)
        starts = s + step * np.arange(n, dtype=np.int64)
        starts = np.clip(starts, 0, length - target_length)
        rows.append(pd.DataFrame({"chrom": c, "start": starts}))
    if not rows:
        raise InputError(f"no span is at least one target length ({target_length} bp) long")
    out = pd.concat(rows, ignore_index=True).drop_duplicates()
    order = {c: i for i, c in enumerate(chrom_sizes)}
    out = out.sort_values(
        ["chrom", "start"], key=lambda x: x.map(order) if x.name == "chrom" else x
    )
    out["end"] = out["start"] + target_length
    return out.reset_index(drop=True)


def average_overlaps(
    pred: np.ndarray, regions: pd.DataFrame, chrom_sizes: Mapping[str, int]
) -> Iterator[tuple[str, int, np.ndarray]]:
    """Base-wise mean of overlapping predicted windows.

    `pred`: ``(n, K, S, L)``; `regions`: chrom, start, end of the ``n`` predicted centre
    windows (``end - start == L``). Yields ``(chrom, start, values)`` per run of
    overlapping or touching windows, in `chrom_sizes` order then by position; ``values``
    is ``(K, S, run_length) float32``. Memory: one such array per run.
    """
    order = {c: i for i, c in enumerate(chrom_sizes)}
    missing = sorted(set(regions["chrom"].astype(str)) - set(order))
    if missing:
        raise InputError(f"contigs {missing} are missing from the data's contig sizes")
    chrom = regions["chrom"].astype(str).to_numpy()
    start = regions["start"].to_numpy(dtype=np.int64)
    rows = sorted(range(len(regions)), key=lambda i: (order[chrom[i]], start[i]))
    length = pred.shape[-1]
    i = 0
    while i < len(rows):
        j = i + 1
        end = start[rows[i]] + length
        while j < len(rows) and chrom[rows[j]] == chrom[rows[i]] and start[rows[j]] <= end:
            end = max(end, start[rows[j]] + length)
            j += 1
        lo = start[rows[i]]
        total = np.zeros((*pred.shape[1:3], end - lo), dtype=np.float32)
        count = np.zeros(end - lo, dtype=np.float32)
        for r in rows[i:j]:
            a = start[r] - lo
            total[..., a : a + length] += pred[r]
            count[a : a + length] += 1
        yield chrom[rows[i]], int(lo), total / np.maximum(count, 1)
        i = j


def merge_runs(preds: Sequence[np.ndarray]) -> np.ndarray:
    """Mean of replicate runs' predictions, each ``(n, K, S, L)``; same shape, float32."""
    if not preds:
        raise InputError("no predictions to merge")
    shape = preds[0].shape
    for p in preds[1:]:
        if p.shape != shape:
            raise InputError(f"replicate predictions differ in shape: {shape} vs {p.shape}")
    return np.mean(np.stack([np.asarray(p, dtype=np.float32) for p in preds]), axis=0).astype(
        np.float32
    )
