"""`scan_peaks`: peaks + sequence + motifs + clusters (+ accessibility) -> a features file.

What ``varinterp motifs scan`` runs; see `varinterp.motifs` for the pieces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.io.fasta import Reference
from varinterp.io.intervals import read_peaks, require_within_contigs
from varinterp.motifs.accessibility import counts_from_bigwigs, counts_from_table
from varinterp.motifs.archetypes import NOT_IN_COLLECTION, default_clusters, default_motifs
from varinterp.motifs.clusters import read_cluster_table
from varinterp.motifs.features import ScanSettings, accessibility_cpm, motif_features
from varinterp.motifs.files import write_features
from varinterp.motifs.meme import read_meme
from varinterp.progress import ProgressCallback

__all__ = ["ScanResult", "scan_peaks"]


@dataclass(frozen=True)
class ScanResult:
    """What `scan_peaks` wrote."""

    out: Path
    n_regions: int
    n_clusters: int
    n_motifs: int
    n_hits: int
    cell_types: tuple[str, ...]
    nonzero_fraction: float


def scan_peaks(
    *,
    peaks: str | os.PathLike,
    out: str | os.PathLike,
    fasta: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    sample: str | None = None,
    motifs: str | os.PathLike | None = None,
    clusters: str | os.PathLike | None = None,
    counts: str | os.PathLike | None = None,
    bigwigs: str | os.PathLike | None = None,
    threshold: float = 1e-4,
    scaler: float = 1.0,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ScanResult:
    """Scan `peaks` (BED) and write the region x cluster matrix to `out` (.h5 / .npz).

    `motifs` (a MEME file) and `clusters` (a ``motif<TAB>cluster`` table) default to the
    shipped archetype collection and varinterp's clustering of it; a MEME file without a
    cluster table makes each motif its own cluster. `counts` (a counts table) or
    `bigwigs` (a track table, ``docs/tracks.md``) add each cell type's accessibility.
    """
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if out.suffix not in (".h5", ".hdf5", ".npz"):
        raise InputError(f"--out {out} must end in .h5 or .npz (the features file's format)")
    if counts is not None and bigwigs is not None:
        raise InputError("give accessibility as --counts or as --tracks, not both")
    settings = ScanSettings(threshold=threshold, scaler=scaler)
    table = read_peaks(peaks)
    if fasta is not None:
        with Reference(fasta) as reference:
            require_within_contigs(
                table, reference.lengths, source=f"peaks {peaks}", against=f"FASTA {fasta}",
                known_contigs=True,
            )  # fmt: skip
    if motifs is None:
        motif_set = default_motifs()
        cluster_table = read_cluster_table(clusters) if clusters else default_clusters()
    else:
        motif_set = read_meme(motifs, exclude_prefixes=NOT_IN_COLLECTION)
        if clusters is None:
            from varinterp.motifs.clusters import ClusterTable

            cluster_table = ClusterTable(motif_set.names, motif_set.names, "one per motif")
        else:
            cluster_table = read_cluster_table(clusters)
    feats = motif_features(
        table,
        motifs=motif_set,
        clusters=cluster_table,
        fasta=fasta,
        store=store,
        sample=sample,
        settings=settings,
        on_progress=on_progress,
    )
    if counts is not None or bigwigs is not None:
        values, types = (
            counts_from_table(counts, table)
            if counts is not None
            else counts_from_bigwigs(bigwigs, table)
        )
        feats.cell_types, feats.counts, feats.acpm = types, values, accessibility_cpm(values)
    write_features(feats, out)
    return ScanResult(
        out=out,
        n_regions=len(table),
        n_clusters=len(feats.clusters),
        n_motifs=int((feats.cluster_of >= 0).sum()),
        n_hits=feats.n_hits,
        cell_types=feats.cell_types,
        nonzero_fraction=float((feats.raw > 0).mean()),
    )
