"""The motif grammar of the simulated multiome world: which motifs open a peak where.

Cell type ``k`` expresses one pioneer factor (`PIONEERS`, in order) whose motif opens a
peak in that type only; the activator motif `ACTIVATOR` opens any peak a little in every
type and is what makes an element act on a gene; `UBIQUITOUS` opens a peak everywhere.
A peak's accessibility logit in type ``k`` is ``-3 + 2.4 x (copies of type k's pioneer
motif) + 0.9 x (activator copies) + 1.8 x (ubiquitous copies)`` (`accessibility_logits`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ACTIVATOR",
    "BASE_LOGIT",
    "CELL_TYPE_NAMES",
    "PIONEERS",
    "UBIQUITOUS",
    "W_ACTIVATOR",
    "W_PIONEER",
    "W_UBIQUITOUS",
    "accessibility_logits",
    "sigmoid",
]

PIONEERS = ("SPI1", "CEBP", "HNF4A", "NFKB", "ETS", "NRF1")
ACTIVATOR = "AP1"
UBIQUITOUS = "SP1"
CELL_TYPE_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
BASE_LOGIT = -3.0
W_PIONEER = 2.4
W_ACTIVATOR = 0.9
W_UBIQUITOUS = 1.8


def accessibility_logits(
    pioneer: np.ndarray,
    pioneer_type: np.ndarray,
    activator: np.ndarray,
    ubiquitous: np.ndarray,
    n_types: int,
) -> np.ndarray:
    """Accessibility logits ``(n_peaks, n_types) float64`` from motif copy counts (module
    docstring); `pioneer_type` is each peak's pioneer type index (-1: none)."""
    logits = np.full((pioneer.size, n_types), BASE_LOGIT)
    logits += (W_ACTIVATOR * activator + W_UBIQUITOUS * ubiquitous)[:, None]
    rows = np.flatnonzero(pioneer_type >= 0)
    logits[rows, pioneer_type[rows]] += W_PIONEER * pioneer[rows]
    return logits


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-x))
