"""How a task's split is cut into batches and the batches shared over DDP ranks.

Batch ``k`` of a split holds items ``order[k * batch_size : (k + 1) * batch_size]``
(``order`` a seeded permutation in training, the split's order otherwise); rank ``r`` of
``w`` takes batches ``r, r + w, r + 2w, ...``. In training every rank takes the same
number of steps, ``n_batches // w`` (an all-reduce waits for every rank, so a rank with
one more batch would wait for ever); in validation each rank takes all of its own, and
the engine's metrics are gathered over ranks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

__all__ = ["batches_per_rank", "rank_batches"]


def batches_per_rank(n_items: int, batch_size: int, *, split: str, world_size: int) -> int:
    """Batches of a split of `n_items` that each rank runs (module docstring)."""
    n = math.ceil(n_items / batch_size)
    if world_size <= 1:
        return n
    return n // world_size if split == "train" else math.ceil(n / world_size)


def rank_batches(
    index: np.ndarray,
    batch_size: int,
    *,
    rng: np.random.Generator | None,
    rank: int = 0,
    world_size: int = 1,
) -> Iterator[np.ndarray]:
    """This rank's batches of `index` -> ``(<= batch_size,)`` arrays of its items, in
    batch order; `rng` (training) permutes `index` first."""
    idx = index if rng is None else index[rng.permutation(index.size)]
    starts = range(0, idx.size, batch_size)
    for lo in starts[rank::world_size] if world_size > 1 else starts:
        yield idx[lo : lo + batch_size]
