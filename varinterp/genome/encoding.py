"""Sequence encodings, defined once for all of varinterp.

**Base codes** ``(L,) uint8``: A=0, C=1, G=2, T=3, N=4. Lower-case (soft-masked) letters
get the code of their upper-case letter. IUPAC ambiguity letters in a reference
(R, Y, S, W, K, M, B, D, H, V) are read as N. They are defined in `varinterp.bases`
(below both `io` and `genome`, so the FASTA reader can return them) and re-exported here.

**One-hot** ``(4, L) uint8`` or ``(n, 4, L) uint8``: channel-first, channels A, C, G, T;
``x[c, i] = 1`` when position i is base c; N is all zeros.

**Two-hot** ``(4, L) uint8`` or ``(n, 4, L) uint8`` (values 0..2): the unphased diploid
encoding, the sum of the two haplotypes' one-hot vectors: homozygous = 2, heterozygous
``A/G`` = ``[1, 0, 1, 0]``, N = all zeros. Models take it as it is (not divided by 2).

**IUPAC**: a two-hot column maps to one letter: a 2 -> that base; two 1s -> the
ambiguity code of the pair (``R``=A/G, ``Y``=C/T, ``S``=C/G, ``W``=A/T, ``K``=G/T,
``M``=A/C); all zeros -> N.

**Reverse complement** of any of these arrays is a plain flip of both the channel and the
position axes (``x[..., ::-1, ::-1]``), because A,C,G,T reversed is T,G,C,A, the
complements. It is right for every two-hot or IUPAC column, heterozygous ones included.

The kernels are numba functions writing into caller-owned output arrays; the public
wrappers allocate, check dtypes and call them.
"""

from __future__ import annotations

import numba
import numpy as np

from varinterp.bases import (
    BASES,
    CODE_INVALID,
    CODE_N,
    codes_from_sequence,
    sequence_from_codes,
)
from varinterp.errors import InputError
from varinterp.genome._numba_cache import ensure_numba_cache

__all__ = [
    "BASES",
    "CODE_INVALID",
    "CODE_N",
    "codes_from_sequence",
    "iupac_to_two_hot",
    "one_hot",
    "reverse_complement",
    "sequence_from_codes",
    "two_hot",
    "two_hot_to_iupac",
]

ensure_numba_cache(__file__)

# Two-hot column for each IUPAC letter that two alleles can make.
_IUPAC_PAIRS = {
    "A": (0, 0),
    "C": (1, 1),
    "G": (2, 2),
    "T": (3, 3),
    "R": (0, 2),
    "Y": (1, 3),
    "S": (1, 2),
    "W": (0, 3),
    "K": (2, 3),
    "M": (0, 1),
}
_TWO_HOT_OF_BYTE = np.zeros((256, 4), dtype=np.uint8)
_IUPAC_VALID = np.zeros(256, dtype=np.bool_)
for _letter, (_a, _b) in _IUPAC_PAIRS.items():
    for _case in (_letter, _letter.lower()):
        _TWO_HOT_OF_BYTE[ord(_case), _a] += 1
        _TWO_HOT_OF_BYTE[ord(_case), _b] += 1
        _IUPAC_VALID[ord(_case)] = True
for _case in ("N", "n"):
    _IUPAC_VALID[ord(_case)] = True

# Letter for a two-hot column, indexed by a*3^0 + c*3 + g*9 + t*27 (values 0..2 each).
_LETTER_OF_COLUMN = np.full(81, ord("N"), dtype=np.uint8)
for _letter, (_a, _b) in _IUPAC_PAIRS.items():
    _col = [0, 0, 0, 0]
    _col[_a] += 1
    _col[_b] += 1
    _LETTER_OF_COLUMN[_col[0] + 3 * _col[1] + 9 * _col[2] + 27 * _col[3]] = ord(_letter)


@numba.njit(nogil=True, cache=True)
def _one_hot_kernel(codes: np.ndarray, out: np.ndarray) -> None:
    # codes (n, L) uint8; out (n, 4, L) uint8, zero-filled by the caller.
    n, length = codes.shape
    for i in range(n):
        for j in range(length):
            c = codes[i, j]
            if c < 4:
                out[i, c, j] = 1


@numba.njit(nogil=True, cache=True)
def _two_hot_kernel(haps: np.ndarray, out: np.ndarray) -> None:
    # haps (n, 2, L) uint8 codes; out (n, 4, L) uint8, zero-filled by the caller.
    n, _, length = haps.shape
    for i in range(n):
        for h in range(2):
            for j in range(length):
                c = haps[i, h, j]
                if c < 4:
                    out[i, c, j] += 1


def one_hot(codes: np.ndarray | str) -> np.ndarray:
    """One-hot encode base codes (or a string).

    ``(L,)`` codes -> ``(4, L) uint8``; ``(n, L)`` codes -> ``(n, 4, L) uint8``;
    channels A, C, G, T; N is all zeros.
    """
    if isinstance(codes, str | bytes):
        codes = codes_from_sequence(codes)
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    batch = codes[None] if codes.ndim == 1 else codes
    out = np.zeros((batch.shape[0], 4, batch.shape[1]), dtype=np.uint8)
    _one_hot_kernel(batch, out)
    return out[0] if codes.ndim == 1 else out


def two_hot(haplotype_codes: np.ndarray) -> np.ndarray:
    """Two-hot encode a pair of haplotypes given as base codes.

    ``(2, L)`` -> ``(4, L) uint8``; ``(n, 2, L)`` -> ``(n, 4, L) uint8``; values 0..2.
    """
    haps = np.ascontiguousarray(haplotype_codes, dtype=np.uint8)
    batch = haps[None] if haps.ndim == 2 else haps
    if batch.ndim != 3 or batch.shape[1] != 2:
        msg = f"expected haplotype codes of shape (2, L) or (n, 2, L), got {haps.shape}"
        raise ValueError(msg)
    out = np.zeros((batch.shape[0], 4, batch.shape[2]), dtype=np.uint8)
    _two_hot_kernel(batch, out)
    return out[0] if haps.ndim == 2 else out


def iupac_to_two_hot(seq: str | bytes) -> np.ndarray:
    """Two-hot encoding of an IUPAC string -> ``(4, L) uint8``.

    Three-base codes (B, D, H, V) cannot come from two alleles and are an `InputError`.
    """
    raw = np.frombuffer(seq.encode("ascii") if isinstance(seq, str) else bytes(seq), np.uint8)
    valid = _IUPAC_VALID[raw]
    if not valid.all():
        j = int(np.flatnonzero(~valid)[0])
        msg = f"IUPAC sequence has {chr(raw[j])!r} at offset {j}, which two alleles cannot make"
        raise InputError(msg)
    return np.ascontiguousarray(_TWO_HOT_OF_BYTE[raw].T)


def two_hot_to_iupac(x: np.ndarray) -> str:
    """IUPAC string of a two-hot ``(4, L)`` array.

    A column that is not two alleles' worth (e.g. a single 1) is written as N.
    """
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] != 4:
        msg = f"expected a two-hot array of shape (4, L), got {x.shape}"
        raise ValueError(msg)
    col = x.astype(np.int64)
    total = col.sum(axis=0)
    index = col[0] + 3 * col[1] + 9 * col[2] + 27 * col[3]
    index = np.where((total == 2) & (col.max(axis=0) <= 2), index, 0)
    return _LETTER_OF_COLUMN[index].tobytes().decode("ascii")


def reverse_complement(x: np.ndarray) -> np.ndarray:
    """Reverse complement of a channel-first encoding: flip channels and positions.

    ``(..., 4, L)`` -> ``(..., 4, L)``, same dtype, a new contiguous array. Right for
    one-hot, two-hot and every IUPAC column, heterozygous ones included.
    """
    return np.ascontiguousarray(np.asarray(x)[..., ::-1, ::-1])
