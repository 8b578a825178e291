"""Fragment pile-ups: run-length coverage of one contig, and dense blocks of it for bigWigs.

Pile-up modes (``mode``):

- ``coverage`` (default, as DeepDETAILS ``prep-data`` does with ``bedtools genomecov
  -bg`` on whole fragments): each fragment adds 1 to every base it spans.
- ``cutsites``: each fragment adds 1 at each of its two Tn5 insertion sites (``start``
  and ``end - 1``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from varinterp.errors import InputError

__all__ = ["MODES", "coverage_runs", "dense_blocks"]

MODES = ("coverage", "cutsites")


def coverage_runs(
    start: np.ndarray, end: np.ndarray, *, mode: str = "coverage"
) -> tuple[np.ndarray, np.ndarray]:
    """Pile up fragments of one contig -> ``(bounds (m + 1,) int64, values (m,) int64)``.

    Base ``x`` with ``bounds[i] <= x < bounds[i + 1]`` has value ``values[i]``; bases outside
    ``[bounds[0], bounds[-1])`` are 0. `mode` is ``coverage`` or ``cutsites`` (see module).
    """
    if mode == "coverage":
        lo, hi = start, end
    elif mode == "cutsites":
        lo = np.concatenate([start, end - 1])
        hi = lo + 1
    else:
        raise InputError(f"unknown pseudo-bulk mode {mode!r}; use one of {', '.join(MODES)}")
    if lo.size == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pos = np.concatenate([lo, hi])
    delta = np.concatenate([np.ones(lo.size, np.int64), -np.ones(hi.size, np.int64)])
    bounds, inverse = np.unique(pos, return_inverse=True)
    values = np.cumsum(np.bincount(inverse, weights=delta).astype(np.int64))[:-1]
    return bounds.astype(np.int64), values


def dense_blocks(
    bounds: np.ndarray, values: np.ndarray, *, block: int = 1 << 20
) -> Iterator[tuple[int, np.ndarray]]:
    """Runs (from `coverage_runs`) -> ``(start, (L,) float64)`` dense chunks with signal.

    Chunks lie within blocks aligned to multiples of `block`, come sorted, and blocks
    without signal are skipped.
    """
    if not np.any(values):
        return
    for b in np.unique(_covered_blocks(bounds, values, block)):
        b0 = int(b) * block
        b1 = min(b0 + block, int(bounds[-1]))
        i0 = max(int(np.searchsorted(bounds, b0, side="right")) - 1, 0)
        i1 = int(np.searchsorted(bounds, b1, side="left"))
        edges = np.clip(bounds[i0 : i1 + 1], b0, b1)
        yield int(edges[0]), np.repeat(values[i0:i1].astype(np.float64), np.diff(edges))


def _covered_blocks(bounds: np.ndarray, values: np.ndarray, block: int) -> np.ndarray:
    nz = np.flatnonzero(values)
    lo, hi = bounds[nz] // block, (bounds[nz + 1] - 1) // block
    span = hi - lo + 1
    return np.repeat(lo, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))
