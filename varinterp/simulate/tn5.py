"""The Tn5 insertion preference of the simulated ATAC world, from real ATAC-seq data.

The matrices are ChromBPNet's ATAC reference motifs (vendored with their MIT licence in
``varinterp/simulate/data``; see the README there): per data set one 20 x 4 base
frequency matrix around plus-strand insertion sites and one around minus-strand ones,
row 10 at the insertion site (offsets -10..+9). `tn5_matrices` averages the three data
sets' matrices of each strand.

The preference of an insertion at base ``i`` is the likelihood ratio of the 20 bases
around it under the matrix against a uniform background, averaged over the strands:

    w_i = (exp(S+_i) + exp(S-_i)) / 2,   S_i = sum_k log(M[k, s(i - 10 + k)] / 0.25)

(an N, or a base off the sequence, adds 0). Sequences are integer codes A=0, C=1, G=2,
T=3, N=4 (`varinterp.simulate.motifs`).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

__all__ = ["TN5_OFFSET", "TN5_WIDTH", "read_tn5_matrices", "tn5_matrices", "tn5_preference"]

#: Row of the matrices at the insertion site; the matrices cover offsets -10..+9.
TN5_OFFSET = 10
TN5_WIDTH = 20
_SOURCE = "ATAC.ref.motifs.txt"


def read_tn5_matrices(text: str | None = None) -> dict[str, np.ndarray]:
    """The vendored file (or `text` in its format) -> name -> ``(20, 4) float64`` (A, C,
    G, T per row, rows summing to 1), in file order."""
    if text is None:
        text = resources.files("varinterp.simulate").joinpath("data", _SOURCE).read_text()
    out: dict[str, list[list[float]]] = {}
    name = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(">"):
            name = line[1:]
            out[name] = []
        elif name is not None:
            out[name].append([float(v) for v in line.split()])
    mats = {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
    for k, m in mats.items():
        if m.shape != (TN5_WIDTH, 4):
            raise ValueError(f"Tn5 matrix {k} has shape {m.shape}, expected ({TN5_WIDTH}, 4)")
        mats[k] = m / m.sum(axis=1, keepdims=True)
    return mats


@lru_cache(maxsize=1)
def _mean_matrices() -> tuple[np.ndarray, np.ndarray]:
    mats = read_tn5_matrices()
    plus = np.mean([m for k, m in mats.items() if k.endswith("_plus")], axis=0)
    minus = np.mean([m for k, m in mats.items() if k.endswith("_minus")], axis=0)
    return plus, minus


def tn5_matrices() -> tuple[np.ndarray, np.ndarray]:
    """The mean plus-strand and minus-strand matrices: two ``(20, 4) float64``."""
    plus, minus = _mean_matrices()
    return plus.copy(), minus.copy()


def _log_ratio_scores(codes: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    table = np.zeros((TN5_WIDTH, 5), dtype=np.float64)
    table[:, :4] = np.log(matrix / 0.25)
    padded = np.full(codes.size + TN5_WIDTH - 1, 4, dtype=np.int64)
    padded[TN5_OFFSET : TN5_OFFSET + codes.size] = codes
    out = np.zeros(codes.size, dtype=np.float64)
    for k in range(TN5_WIDTH):
        out += table[k, padded[k : k + codes.size]]
    return out


def tn5_preference(codes: np.ndarray) -> np.ndarray:
    """Insertion preference of every base of ``codes`` ``(n,) uint8`` -> ``(n,) float64``
    (module docstring; about 1 on average over random sequence)."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    plus, minus = _mean_matrices()
    s_plus = _log_ratio_scores(codes, plus)
    s_minus = _log_ratio_scores(codes, minus)
    return 0.5 * (np.exp(s_plus) + np.exp(s_minus))
