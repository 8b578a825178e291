"""Sequence windows around variants: the context, and its ref and alt versions.

A window of ``length`` bp is centred on the variant: the variant sits at offset
``length // 2``, the window is ``[pos0 - length // 2, pos0 - length // 2 + length)``
(0-based half-open). Positions past a contig end are N (all zero) and flagged ``edge``.

SNVs in the reference context use `build_windows` and `allele_windows` (the centre
column swapped). Indels, MNPs and personal contexts use `allele_codes`: each haplotype's
bases before the variant, the allele, then the bases after REF, so the window keeps its
length (a deletion pulls bases in from the right flank); `aligned_positions` pairs up the
ref and alt profiles around the length change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from varinterp.genome.encoding import CODE_N, one_hot
from varinterp.io.fasta import Reference

__all__ = [
    "BASE_INDEX",
    "aligned_positions",
    "allele_codes",
    "allele_windows",
    "build_windows",
    "reference_contexts",
    "window_starts",
]

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
        x = store.windows(sample, names, starts, length, anchor="centre")
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


def reference_contexts(
    reference: Reference, chroms: Sequence[str], pos0: np.ndarray, length: int, extra: int
) -> np.ndarray:
    """Reference codes around variants -> ``(n, 2, length + extra) uint8``, both haplotypes
    the reference, ``[pos0 - length // 2, pos0 - length // 2 + length + extra)`` (N past
    contig ends): the reference context of `allele_codes`."""
    starts = window_starts(pos0, length)
    out = np.empty((len(chroms), 2, length + extra), dtype=np.uint8)
    for i, (c, s) in enumerate(zip(chroms, starts, strict=True)):
        out[i, 0] = reference.codes(c, int(s), int(s) + length + extra)
        out[i, 1] = out[i, 0]
    return out


def allele_codes(
    context: np.ndarray, ref_len: np.ndarray, allele: list[np.ndarray], length: int
) -> np.ndarray:
    """Put an allele in place of REF in contexts -> ``(n, 2, length) uint8`` codes.

    `context` ``(n, 2, length + extra) uint8`` holds each haplotype with the REF allele
    at ``[length // 2, length // 2 + ref_len)`` (`reference_contexts` or
    `varinterp.genome.store.GenomeStore.allele_contexts`); `allele` gives each variant's
    codes. The window keeps the ``length // 2`` bases before the variant, then the
    allele, then the bases after REF, cut to `length`: a deletion pulls bases in from
    the right flank and an insertion pushes them out (variant-scorer's indel windows).
    """
    n = context.shape[0]
    half = length // 2
    out = np.empty((n, 2, length), dtype=np.uint8)
    out[:, :, :half] = context[:, :, :half]
    for i in range(n):
        a = allele[i]
        r = int(ref_len[i])
        k = min(a.size, length - half)
        out[i, :, half : half + k] = a[:k]
        rest = length - half - k
        if rest:
            out[i, :, half + k :] = context[i, :, half + r : half + r + rest]
    return out


def aligned_positions(
    ref_len: int, alt_len: int, variant_offset: int, output_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Profile positions of the ref and alt windows that show the same reference base.

    The variant starts at `variant_offset` of both output windows; the bases before it
    and the first ``min(ref_len, alt_len)`` allele bases pair up, then ref position
    ``k >= variant_offset + ref_len`` pairs with alt position ``k + alt_len - ref_len``.
    Inserted bases (alt only), deleted ones (ref only) and the flank bases that only one
    window holds are left out, as in variant-scorer's indel-adjusted JSD. Returns two
    ``(m,) int64`` index arrays of the same length.
    """
    shift = alt_len - ref_len
    head = np.arange(0, min(variant_offset + min(ref_len, alt_len), output_length))
    tail_ref = np.arange(variant_offset + ref_len, output_length)
    tail_ref = tail_ref[(tail_ref + shift >= 0) & (tail_ref + shift < output_length)]
    ref_idx = np.concatenate([head, tail_ref]).astype(np.int64)
    alt_idx = np.concatenate([head, tail_ref + shift]).astype(np.int64)
    return ref_idx, alt_idx
