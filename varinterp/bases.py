"""Base codes, the bottom of every sequence encoding (no varinterp imports above `errors`).

**Base codes** ``(L,) uint8``: A=0, C=1, G=2, T=3, N=4. Lower-case (soft-masked) letters
get the code of their upper-case letter. IUPAC ambiguity letters in a reference
(R, Y, S, W, K, M, B, D, H, V) are read as N. `varinterp.genome.encoding` builds the
one-hot, two-hot and IUPAC encodings on these codes and documents them all; the FASTA
reader (`varinterp.io.fasta`) returns them.
"""

from __future__ import annotations

import numpy as np

from varinterp.errors import InputError

__all__ = ["BASES", "CODE_INVALID", "CODE_N", "codes_from_sequence", "sequence_from_codes"]

BASES = "ACGT"
CODE_N = 4
CODE_INVALID = 255

_CODE_OF_BYTE = np.full(256, CODE_INVALID, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _CODE_OF_BYTE[ord(_b)] = _i
    _CODE_OF_BYTE[ord(_b.lower())] = _i
for _b in "NRYSWKMBDHV":
    _CODE_OF_BYTE[ord(_b)] = CODE_N
    _CODE_OF_BYTE[ord(_b.lower())] = CODE_N


def codes_from_sequence(seq: str | bytes, *, where: str = "sequence") -> np.ndarray:
    """Base codes of a sequence -> ``(L,) uint8`` (A=0, C=1, G=2, T=3, N=4).

    IUPAC ambiguity letters become N. Anything else (digits, ``-``, ``*``) is an
    `InputError` naming the first offending character and its 0-based offset.
    """
    raw = np.frombuffer(seq.encode("ascii") if isinstance(seq, str) else bytes(seq), np.uint8)
    codes = _CODE_OF_BYTE[raw]
    bad = np.flatnonzero(codes == CODE_INVALID)
    if bad.size:
        char = chr(raw[bad[0]])
        msg = (
            f"{where} has {bad.size} character(s) that are not bases, first {char!r} at "
            f"offset {bad[0]}; only A, C, G, T, N and IUPAC codes are allowed"
        )
        raise InputError(msg)
    return codes


def sequence_from_codes(codes: np.ndarray) -> str:
    """The upper-case string of ``(L,) uint8`` base codes."""
    return np.frombuffer(b"ACGTN", np.uint8)[np.asarray(codes)].tobytes().decode("ascii")
