"""The region x motif-cluster matrix of GET, and the accessibility column.

`motif_features` scans each peak (`varinterp.motifs.scan`), sums its best-of-overlapping
hit scores per cluster into ``raw`` ``(n_regions, n_clusters) float64`` and normalises
each column GET's way (`normalise_columns`): divided by the column's maximum over all
regions, times ``scaler``, clipped at 1 (a column with no hit stays 0).

`accessibility_cpm` turns read counts per region and cell type into GET's accessibility
score, ``log10(count / total * cpm_scale + 1)`` with the total over all regions of the
cell type (``cpm_scale`` 1e5 as in GET's preprocessing; the paper writes it as log CPM).
The sample builder (`varinterp.models.get.data`) divides it by its maximum within each
window of consecutive regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.motifs.clusters import ClusterTable
from varinterp.motifs.meme import MotifSet
from varinterp.motifs.scan import cluster_scores, scan_hits
from varinterp.motifs.sequences import region_onehot
from varinterp.progress import ProgressCallback

__all__ = [
    "MotifFeatures",
    "ScanSettings",
    "accessibility_cpm",
    "motif_features",
    "normalise_columns",
    "score_regions",
]


@dataclass(frozen=True)
class ScanSettings:
    """FIMO's p-value `threshold`, score `bin_size` and pseudocount `eps`; the column
    `scaler` of the normalisation."""

    threshold: float = 1e-4
    bin_size: float = 0.1
    eps: float = 1e-4
    scaler: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1:
            raise InputError(f"motif p-value threshold must be in (0, 1), got {self.threshold}")
        if self.scaler <= 0:
            raise InputError(f"motif scaler must be > 0, got {self.scaler}")


@dataclass
class MotifFeatures:
    """Motif features of a peak set.

    ``regions``: ``chrom, start, end`` (+ ``name``) per row; ``clusters``: column names;
    ``raw`` ``(n, C) float64`` summed scores; ``column_max`` ``(C,) float64``;
    ``features`` ``(n, C) float32`` normalised; ``motifs`` and ``cluster_of``
    ``(n_motifs,) int64`` (the scan's motif set and each motif's column, -1 for none),
    kept so that a region can be rescanned with an allele swapped (`score_regions`).
    With accessibility: ``cell_types``, ``counts`` ``(n, K) float64`` and ``acpm``
    ``(n, K) float32`` (`accessibility_cpm`).
    """

    regions: pd.DataFrame
    clusters: tuple[str, ...]
    raw: np.ndarray
    column_max: np.ndarray
    features: np.ndarray
    motifs: MotifSet
    cluster_of: np.ndarray
    settings: ScanSettings = field(default_factory=ScanSettings)
    n_hits: int = 0
    cell_types: tuple[str, ...] = ()
    counts: np.ndarray | None = None
    acpm: np.ndarray | None = None

    def normalise(self, raw: np.ndarray) -> np.ndarray:
        """`raw` ``(m, C)`` scores on this peak set's column scale -> ``(m, C) float32``."""
        return normalise_columns(raw, column_max=self.column_max, scaler=self.settings.scaler)


def normalise_columns(
    raw: np.ndarray, *, column_max: np.ndarray | None = None, scaler: float = 1.0
) -> np.ndarray:
    """``raw / column_max * scaler`` clipped to [0, 1] -> ``(n, C) float32``; `column_max`
    defaults to the columns' maxima; a zero maximum gives a zero column."""
    raw = np.asarray(raw, dtype=np.float64)
    cmax = raw.max(axis=0) if column_max is None else np.asarray(column_max, np.float64)
    if raw.shape[0] == 0:
        return raw.astype(np.float32)
    out = np.divide(raw, cmax, out=np.zeros_like(raw), where=cmax > 0) * scaler
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def score_regions(
    x: np.ndarray,
    lengths: np.ndarray,
    *,
    motifs: MotifSet,
    cluster_of: np.ndarray,
    n_clusters: int,
    settings: ScanSettings,
    on_progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, int]:
    """Raw cluster scores of sequences ``x`` ``(n, 4, L)`` -> ``((n, C) float64, n_hits)``."""
    use = np.flatnonzero(np.asarray(cluster_of) >= 0)
    sub = motifs.subset([motifs.names[i] for i in use])
    hits = scan_hits(
        sub,
        x,
        lengths=lengths,
        threshold=settings.threshold,
        bin_size=settings.bin_size,
        eps=settings.eps,
        on_progress=on_progress,
    )
    raw = cluster_scores(
        hits, np.asarray(cluster_of)[use], n_regions=x.shape[0], n_clusters=n_clusters
    )
    return raw, len(hits)


def motif_features(
    peaks: pd.DataFrame,
    *,
    motifs: MotifSet,
    clusters: ClusterTable,
    fasta: Any = None,
    store: Any = None,
    sample: str | None = None,
    settings: ScanSettings | None = None,
    batch: int = 1024,
    on_progress: ProgressCallback | None = None,
) -> MotifFeatures:
    """The region x cluster matrix of `peaks` (module docstring), scanning the sequence of
    a FASTA or of `sample` in a genome `store`."""
    settings = settings or ScanSettings()
    if len(peaks) == 0:
        raise InputError("no peaks to scan; give a BED file with at least one region")
    cluster_of = clusters.for_motifs(motifs)
    if (cluster_of < 0).all():
        raise InputError("no motif of the motif file is in the cluster table")
    names = clusters.names
    raw = np.zeros((len(peaks), len(names)), dtype=np.float64)
    n_hits = 0
    for lo in range(0, len(peaks), batch):
        part = peaks.iloc[lo : lo + batch]
        x, lengths = region_onehot(part, fasta=fasta, store=store, sample=sample)
        raw[lo : lo + len(part)], n = score_regions(
            x,
            lengths,
            motifs=motifs,
            cluster_of=cluster_of,
            n_clusters=len(names),
            settings=settings,
        )
        n_hits += n
        if on_progress is not None:
            on_progress(lo + len(part), len(peaks))
    cmax = raw.max(axis=0)
    return MotifFeatures(
        regions=peaks.reset_index(drop=True),
        clusters=tuple(names),
        raw=raw,
        column_max=cmax,
        features=normalise_columns(raw, column_max=cmax, scaler=settings.scaler),
        motifs=motifs,
        cluster_of=cluster_of,
        settings=settings,
        n_hits=n_hits,
    )


def accessibility_cpm(counts: np.ndarray, *, cpm_scale: float = 1e5) -> np.ndarray:
    """Counts ``(n_regions, K)`` -> ``log10(count / total * cpm_scale + 1)`` ``(n, K)
    float32``, the total per column (cell type) over all regions; a column with total 0 is
    an `InputError`."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim == 1:
        counts = counts[:, None]
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise InputError("accessibility counts must be finite and >= 0")
    total = counts.sum(axis=0)
    if (total <= 0).any():
        raise InputError(
            f"accessibility column {int(np.flatnonzero(total <= 0)[0])} has no reads in any "
            "peak; drop that cell type or check the counts"
        )
    return np.log10(counts / total * cpm_scale + 1.0).astype(np.float32)
