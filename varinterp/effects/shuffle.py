"""Dinucleotide-shuffled sequence contexts (tangermeme's Eulerian-path shuffle).

Shuffling keeps each window's dinucleotide counts (and its first and last base) and
destroys motifs; predictions on shuffled contexts give a per-variant null distribution
(`varinterp.effects.score`) and the references of DeepLIFT/SHAP
(`varinterp.effects.attribute`). Each window gets its own seed, so a window's shuffles do
not depend on which other windows are shuffled with it (chunking and sharding give the
same nulls).
"""

from __future__ import annotations

import numpy as np
import torch

from varinterp.genome.encoding import CODE_N, one_hot

__all__ = ["shuffled_contexts", "window_seeds"]


def window_seeds(seed: int, index: np.ndarray) -> np.ndarray:
    """One reproducible seed per window from a run seed and the windows' global indices.

    ``(n,) int`` indices -> ``(n,) int64`` seeds in ``[0, 2**31)``.
    """
    index = np.asarray(index, dtype=np.int64)
    ss = np.random.SeedSequence(int(seed))
    base = int(ss.generate_state(1, dtype=np.uint32)[0])
    return (base + index * 7919) % (2**31 - 1)


def shuffled_contexts(codes: np.ndarray, *, n_shuffles: int, seeds: np.ndarray) -> np.ndarray:
    """`n_shuffles` dinucleotide shuffles of each window.

    ``codes`` ``(n, L) uint8`` base codes (A=0, C=1, G=2, T=3, N=4; N positions are
    shuffled along as a fifth letter would not be: tangermeme keeps them as all-zero
    columns), ``seeds`` ``(n,)`` -> ``(n, n_shuffles, L) uint8`` codes.
    """
    from tangermeme.ersatz import dinucleotide_shuffle

    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    n, length = codes.shape
    if n == 0 or n_shuffles == 0:
        return np.zeros((n, n_shuffles, length), dtype=np.uint8)
    x = torch.from_numpy(one_hot(codes))
    seed_list = [int(s) for s in np.asarray(seeds).reshape(-1)]
    y = dinucleotide_shuffle(x, n=n_shuffles, random_state=seed_list, allow_N=True).numpy()
    out = y.argmax(axis=2).astype(np.uint8)  # (n, K, L)
    out[y.sum(axis=2) == 0] = CODE_N
    return out
