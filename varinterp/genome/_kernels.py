"""Numba kernels that build personal windows from the store's arrays.

Shared arguments (all contiguous):

- ``ref``: ``(total_length,) uint8`` base codes of every stored contig, concatenated;
- ``ref_offset``, ``ref_length``: ``(n_contigs,) int64`` where each contig starts in
  ``ref`` and how long it is;
- ``var_lo``, ``var_hi``: ``(n_contigs,) int64`` each contig's slice of the variant arrays;
- ``positions``: ``(n_variants,) int64`` 0-based, sorted within a contig;
- ``alleles``: ``(n_variants, 2) uint8`` codes of REF and ALT;
- ``genotypes``: ``(n_variants, 2, n_bytes) uint8``, bit ``s & 7`` (little-endian bit
  order) of byte ``s >> 3`` says whether haplotype h of sample s carries ALT;
- per window i: ``sample[i]``, ``contig[i]``, ``start[i]`` (int64; may be negative).

When two records alter the same position on one haplotype, the first one wins (as in
``bcftools consensus``).
"""

from __future__ import annotations

import numba
import numpy as np

from varinterp.genome._numba_cache import ensure_numba_cache

__all__ = ["fill_haplotype_codes", "fill_haplotypes", "fill_two_hot"]

ensure_numba_cache(__file__)


@numba.njit(nogil=True, cache=True, inline="always")
def _first_at_or_after(positions: np.ndarray, lo: int, hi: int, value: int) -> int:
    while lo < hi:
        mid = (lo + hi) >> 1
        if positions[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(nogil=True, cache=True)
def _haplotype_pair(
    ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
    sample, contig, start, length, use_variants, hap,
):  # fmt: skip
    # Writes the two haplotypes' base codes of one window into hap (2, length) uint8.
    offset = ref_offset[contig]
    clen = ref_length[contig]
    for j in range(length):
        p = start + j
        code = 4
        if p >= 0 and p < clen:
            code = ref[offset + p]
        hap[0, j] = code
        hap[1, j] = code
    if not use_variants:
        return
    lo = _first_at_or_after(positions, var_lo[contig], var_hi[contig], start)
    hi = _first_at_or_after(positions, lo, var_hi[contig], start + length)
    byte = sample >> 3
    mask = np.uint8(1 << (sample & 7))
    for v in range(lo, hi):
        j = positions[v] - start
        ref_code = alleles[v, 0]
        for h in range(2):
            if genotypes[v, h, byte] & mask and hap[h, j] == ref_code:
                hap[h, j] = alleles[v, 1]


@numba.njit(parallel=True, nogil=True, cache=True)
def fill_two_hot(
    ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
    samples, contigs, starts, use_variants, reverse, out,
):  # fmt: skip
    """Two-hot windows into ``out (n, 4, length) uint8`` (every element is written)."""
    n = out.shape[0]
    length = out.shape[2]
    for i in numba.prange(n):
        hap = np.empty((2, length), dtype=np.uint8)
        _haplotype_pair(
            ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
            samples[i], contigs[i], starts[i], length, use_variants, hap,
        )  # fmt: skip
        # One channel row at a time, written in order (vectorises; N = code 4 -> zeros).
        # Reverse complement: reverse the haplotypes, then write channel c into row 3 - c.
        if reverse:
            hap = hap[:, ::-1].copy()
        for c in range(4):
            row = 3 - c if reverse else c
            for j in range(length):
                out[i, row, j] = np.uint8(hap[0, j] == c) + np.uint8(hap[1, j] == c)


@numba.njit(parallel=True, nogil=True, cache=True)
def fill_haplotypes(
    ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
    samples, contigs, starts, use_variants, reverse, out,
):  # fmt: skip
    """One-hot haplotype windows into ``out (n, 2, 4, length) uint8`` (every element is written)."""
    n = out.shape[0]
    length = out.shape[3]
    for i in numba.prange(n):
        hap = np.empty((2, length), dtype=np.uint8)
        _haplotype_pair(
            ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
            samples[i], contigs[i], starts[i], length, use_variants, hap,
        )  # fmt: skip
        if reverse:
            hap = hap[:, ::-1].copy()
        for h in range(2):
            for c in range(4):
                row = 3 - c if reverse else c
                for j in range(length):
                    out[i, h, row, j] = np.uint8(hap[h, j] == c)


@numba.njit(parallel=True, nogil=True, cache=True)
def fill_haplotype_codes(
    ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
    samples, contigs, starts, use_variants, out,
):  # fmt: skip
    """Base codes of both haplotypes into ``out (n, 2, length) uint8``."""
    n = out.shape[0]
    length = out.shape[2]
    for i in numba.prange(n):
        _haplotype_pair(
            ref, ref_offset, ref_length, var_lo, var_hi, positions, alleles, genotypes,
            samples[i], contigs[i], starts[i], length, use_variants, out[i],
        )  # fmt: skip
