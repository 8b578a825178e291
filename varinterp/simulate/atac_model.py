"""The generative model of the simulated ATAC world (world part 6): cell types, lineages,
their transcription factors, accessibility and Tn5 insertion profiles.

**Cell types and lineages** (`LINEAGES`, ImmGen-like): myeloid (MF, Mono, GN, DC: SPI1,
CEBP), B (B.Fo, B.MZ, B.GC: EBF1, NFKB) and T/NK (T4, T8, Treg, NK: RUNX, TCF7, ETS);
AP-1 and CTCF are active everywhere (`SHARED_TFS`). `tf_activity` draws each cell
type's occupancy ``a[c, tf]`` in [0, 1]: U(0.45, 1) for its lineage's factors, U(0, 0.05)
for other lineages' factors, U(0.2, 1) for AP-1 and U(0.8, 1) for CTCF.

**Sites** are the consensus matches (`varinterp.simulate.motifs`, either strand) of every
factor in an OCR's core (its central `CORE` bp), read from the sequence itself, so a
SNP's effect follows from rescanning the ALT sequence (`ocr_sites`).

**Accessibility.** The expected Tn5 insertions of OCR ``i`` in cell type ``c`` over its
central `COUNTED` bp are

    lambda[i, c] = base_i x depth_c x exp(sum over sites s of beta[tf(s)] x a[c, tf(s)])

(`expected_counts`; `TF_EFFECT` holds beta).

**Profiles.** Over a window around the OCR centre the insertion density is
``shape(x) x tn5(x) x prod_s footprint_s(x)`` (`insertion_density`): a Gaussian
(sd `SHAPE_SD` bp) plus a floor, the Tn5 preference of the sequence
(`varinterp.simulate.tn5`), and for each site, scaled by its occupancy ``o``, a
**footprint**: the site and 1 bp either side times ``1 - FOOTPRINT_DEPTH x o`` (the
depleted core) and `FLANK` bp on each side beyond that times ``1 + FLANK_GAIN x o`` (the
enriched flanks). The footprint dip is centred on the motif's centre.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from varinterp.simulate.motifs import MOTIFS, Motif, allowed_mask, register_motif
from varinterp.simulate.tn5 import tn5_preference

__all__ = [
    "CELL_TYPES",
    "CORE",
    "COUNTED",
    "FLANK",
    "FLANK_GAIN",
    "FOOTPRINT_DEPTH",
    "LINEAGES",
    "SHAPE_SD",
    "SHARED_TFS",
    "TFS",
    "TF_EFFECT",
    "Site",
    "expected_counts",
    "footprint_factor",
    "insertion_density",
    "lineage_of",
    "motif_hits",
    "ocr_sites",
    "tf_activity",
]

for _m in (
    Motif("EBF1", "ATTCCCNNGGGAAT", "EBF1 (B cells)", "atac"),
    Motif("RUNX", "WTGTGGTTW", "RUNX1/3 (T and NK cells)", "atac"),
    Motif("TCF7", "ASATCAAAG", "TCF7/LEF1 (T cells)", "atac"),
    Motif("CTCF", "CCGCGNGGNGGCAG", "CTCF (insulator, every cell type)", "atac"),
):
    register_motif(_m)

#: lineage -> (its transcription factors, its cell types)
LINEAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "myeloid": (("SPI1", "CEBP"), ("MF", "Mono", "GN", "DC")),
    "B": (("EBF1", "NFKB"), ("B.Fo", "B.MZ", "B.GC")),
    "T": (("RUNX", "TCF7", "ETS"), ("T4", "T8", "Treg", "NK")),
}
SHARED_TFS = ("AP1", "CTCF")
TFS: tuple[str, ...] = (*(tf for tfs, _ in LINEAGES.values() for tf in tfs), *SHARED_TFS)
CELL_TYPES: tuple[str, ...] = tuple(ct for _, cts in LINEAGES.values() for ct in cts)
#: beta: log-fold change of the expected counts per unit occupancy of one site
TF_EFFECT: dict[str, float] = {
    "SPI1": 1.6, "CEBP": 1.3, "EBF1": 1.6, "NFKB": 1.2, "RUNX": 1.3, "TCF7": 1.2,
    "ETS": 1.0, "AP1": 1.1, "CTCF": 0.7,
}  # fmt: skip

CORE = 300  # bp around the OCR centre read for sites
COUNTED = 250  # bp around the OCR centre whose insertions are the counts
SHAPE_SD = 80.0
SHAPE_FLOOR = 0.03
FOOTPRINT_DEPTH = 0.85
FLANK_GAIN = 0.8
FLANK = 6


@dataclass(frozen=True)
class Site:
    """A consensus match: factor, 0-based start and end (half-open) in the sequence
    given to `ocr_sites`, strand ``+`` or ``-``."""

    tf: str
    start: int
    end: int
    strand: str

    @property
    def centre(self) -> float:
        return 0.5 * (self.start + self.end - 1)


def lineage_of(cell_type: str) -> str:
    """The lineage of `cell_type`."""
    for lineage, (_, cts) in LINEAGES.items():
        if cell_type in cts:
            return lineage
    raise KeyError(cell_type)


def tf_activity(rng: np.random.Generator) -> np.ndarray:
    """Occupancy of every factor in every cell type: ``(len(CELL_TYPES), len(TFS))
    float64`` in [0, 1] (module docstring)."""
    out = np.zeros((len(CELL_TYPES), len(TFS)))
    for i, ct in enumerate(CELL_TYPES):
        own = LINEAGES[lineage_of(ct)][0]
        for j, tf in enumerate(TFS):
            if tf == "AP1":
                out[i, j] = rng.uniform(0.2, 1.0)
            elif tf == "CTCF":
                out[i, j] = rng.uniform(0.8, 1.0)
            elif tf in own:
                out[i, j] = rng.uniform(0.45, 1.0)
            else:
                out[i, j] = rng.uniform(0.0, 0.05)
    return out


def motif_hits(codes: np.ndarray, motif: Motif | str) -> list[tuple[int, str]]:
    """Every match of `motif` in ``codes`` ``(n,) uint8``: ``(start, strand)``, plus
    strand first at a position (a palindrome counts once)."""
    mask = allowed_mask(motif)
    length = mask.shape[0]
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size < length:
        return []
    table = np.zeros((length, 5), dtype=bool)
    table[:, :4] = mask
    rc = np.zeros((length, 5), dtype=bool)
    rc[:, :4] = mask[::-1, ::-1]
    win = np.lib.stride_tricks.sliding_window_view(codes, length)
    rows = np.arange(length)
    plus = table[rows, win].all(axis=1)
    minus = rc[rows, win].all(axis=1)
    out = [(int(s), "+") for s in np.flatnonzero(plus)]
    out += [(int(s), "-") for s in np.flatnonzero(minus & ~plus)]
    return sorted(out)


def ocr_sites(codes: np.ndarray, *, centre: int, core: int = CORE) -> list[Site]:
    """Sites of every factor in `TFS` lying wholly in ``[centre - core // 2, centre +
    core // 2)`` of ``codes`` ``(n,) uint8``; coordinates index ``codes``."""
    lo, hi = max(centre - core // 2, 0), min(centre + core // 2, len(codes))
    part = np.asarray(codes[lo:hi])
    sites = []
    for tf in TFS:
        length = MOTIFS[tf].length
        for s, strand in motif_hits(part, tf):
            sites.append(Site(tf, lo + s, lo + s + length, strand))
    return sorted(sites, key=lambda s: (s.start, s.tf))


def expected_counts(
    sites: Sequence[Site], activity: np.ndarray, *, base: float, depth: np.ndarray
) -> np.ndarray:
    """``lambda`` of one OCR in every cell type: ``(len(CELL_TYPES),) float64``."""
    drive = np.zeros(len(CELL_TYPES))
    for s in sites:
        drive += TF_EFFECT[s.tf] * activity[:, TFS.index(s.tf)]
    return base * np.asarray(depth, dtype=np.float64) * np.exp(drive)


def footprint_factor(
    length: int, sites: Sequence[Site], occupancy: Mapping[str, float]
) -> np.ndarray:
    """The footprints of `sites` over positions ``0..length-1``: ``(length,) float64``
    (module docstring; 1 where no site acts)."""
    out = np.ones(length)
    for s in sites:
        o = float(occupancy[s.tf])
        if o <= 0:
            continue
        lo, hi = s.start - 1, s.end + 1
        flank = np.ones(length)
        flank[max(lo - FLANK, 0) : max(lo, 0)] = 1.0 + FLANK_GAIN * o
        flank[max(hi, 0) : max(hi + FLANK, 0)] = 1.0 + FLANK_GAIN * o
        flank[max(lo, 0) : max(hi, 0)] = 1.0 - FOOTPRINT_DEPTH * o
        out *= flank
    return out


def insertion_density(
    codes: np.ndarray, sites: Sequence[Site], occupancy: Mapping[str, float], *, centre: int
) -> np.ndarray:
    """Relative Tn5 insertion density over ``codes`` ``(n,) uint8`` (a window around an
    OCR whose centre is at index `centre`): ``(n,) float64`` (module docstring)."""
    x = np.arange(len(codes), dtype=np.float64)
    shape = np.exp(-0.5 * ((x - centre) / SHAPE_SD) ** 2) + SHAPE_FLOOR
    return shape * tn5_preference(codes) * footprint_factor(len(codes), sites, occupancy)
