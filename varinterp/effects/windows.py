"""Sequence windows around variants: the context, and its ref and alt versions.

A window of ``length`` bp is centred on the variant: the variant sits at offset
``length // 2``, the window is ``[pos0 - length // 2, pos0 - length // 2 + length)``
(0-based half-open). Positions past a contig end are N (all zero) and flagged ``edge``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from varinterp.genome.encoding import CODE_N, one_hot
from varinterp.io.fasta import Reference

__all__ = ["BASE_INDEX", "allele_windows", "build_windows", "window_starts"]

#: Channel of each base in a two-hot window (A, C, G, T).
BASE_INDEX = {b: i for i, b in enumerate("ACGT")}


def window_starts(pos0: np.ndarray, length: int) -> np.ndarray:
    """0-based start of the window centred on each variant: ``(n,) int64``."""
    return np.asarray(pos0, dtype=np.int64) - length // 2


def build_windows(
    reference: Reference,
    chroms: Sequence[str],
    pos0: np.ndarray,
    length: int,
    *,
    store=None,
    sample: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Context windows centred on variants.

    Returns ``x`` ``(n, 4, length) uint8`` two-hot context (the reference homozygous,
    or the genotypes of `sample` in the genome store `store`), ``codes`` ``(n, length)
    uint8`` reference base codes, and ``edge`` ``(n,) bool`` (the window runs past a
    contig end).
    """
    n = len(chroms)
    starts = window_starts(pos0, length)
    codes = np.full((n, length), CODE_N, dtype=np.uint8)
    edge = np.zeros(n, dtype=bool)
    for i, (c, s) in enumerate(zip(chroms, starts, strict=True)):
        codes[i] = reference.codes(c, int(s), int(s) + length)
        edge[i] = s < 0 or s + length > reference.lengths[c]
    if store is None:
        x = 2 * one_hot(codes) if n else np.zeros((0, 4, length), np.uint8)
    else:
        names = [store.contig_name(c) for c in chroms]
        x = store.windows(sample, names, starts, length)
    return x, codes, edge


def allele_windows(
    x: np.ndarray, refs: np.ndarray, alts: np.ndarray, *, heterozygous: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Ref and alt versions of context windows ``x`` ``(n, 4, L) uint8`` (two-hot).

    The centre column becomes REF/REF in the ref window and ALT/ALT in the alt window,
    or REF/ALT (1 + 1) with `heterozygous`; `refs`, `alts` are ``(n,)`` channel indices.
    Returns two ``(n, 4, L) uint8`` arrays.
    """
    c = x.shape[2] // 2
    rows = np.arange(x.shape[0])
    xr = x.copy()
    xr[:, :, c] = 0
    xr[rows, refs, c] = 2
    xa = xr.copy()
    xa[:, :, c] = 0
    if heterozygous:
        xa[rows, refs, c] = 1
    xa[rows, alts, c] += 2 - int(heterozygous)
    return xr, xa
