"""Motif clusters: which motifs are one feature, read from a table or computed.

A **cluster table** is a TSV with columns ``motif`` and ``cluster`` (a header line; the
cluster a name or a number), one row per motif. `ClusterTable.for_motifs` lines it up
with a `MotifSet`: every motif of the table must be in the set (a table naming unknown
motifs is an `InputError`), and motifs of the set absent from the table are not scanned
into any cluster.

**Clustering** (`cluster_motifs`, the archetype method): all-against-all TOMTOM
similarity of the matrices (memelite's TOMTOM, complete-score version, both strands);
each pair's E-value is the p-value times the number of motifs, and the feature of motif
``i`` is its row of ``-log10(E)`` over all motifs (infinite values set to 10; every pair
is kept: filtering pairs at a q-value of 0.5 gave 452 clusters and a lower agreement with
the published archetypes than keeping all, 331, see ``docs/get.md``). Motifs are
clustered by complete linkage on the correlation distance between rows and the tree is
cut at `height` (0.7).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.io.readers import read_csv
from varinterp.motifs.meme import MotifSet
from varinterp.progress import ProgressCallback, report

__all__ = [
    "ClusterTable",
    "adjusted_rand",
    "cluster_motifs",
    "read_cluster_table",
    "tomtom_features",
    "write_cluster_table",
]


@dataclass(frozen=True)
class ClusterTable:
    """Motif -> cluster assignments; `names` lists the clusters in column order."""

    motifs: tuple[str, ...]
    clusters: tuple[str, ...]
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Cluster names in order of first appearance (the feature-matrix columns)."""
        return tuple(dict.fromkeys(self.clusters))

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"motif": list(self.motifs), "cluster": list(self.clusters)})

    def for_motifs(self, motifs: MotifSet) -> np.ndarray:
        """``(len(motifs),) int64``: each motif's cluster column (-1: in no cluster)."""
        known = set(motifs.names)
        unknown = [m for m in self.motifs if m not in known]
        if unknown:
            shown = ", ".join(unknown[:3]) + (" ..." if len(unknown) > 3 else "")
            raise InputError(
                f"cluster table {self.source or ''} names {len(unknown)} motif(s) not in the "
                f"motif file {motifs.source or ''}: {shown}; give the matching motif file"
            )
        col = {c: i for i, c in enumerate(self.names)}
        of = dict(zip(self.motifs, self.clusters, strict=True))
        return np.array([col[of[m]] if m in of else -1 for m in motifs.names], dtype=np.int64)


def read_cluster_table(path: str | os.PathLike) -> ClusterTable:
    """Read a ``motif<TAB>cluster`` table (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"cluster table {path} does not exist; check the path")
    table = read_csv(path, "cluster table", sep="\t", dtype=str, comment="#", keep_default_na=False)
    cols = {c.lower(): c for c in table.columns}
    if "motif" not in cols or "cluster" not in cols:
        raise InputError(
            f"cluster table {path} needs columns motif and cluster (tab-separated, with a "
            f"header); it has {', '.join(table.columns)}"
        )
    motifs = table[cols["motif"]].astype(str).tolist()
    dup = pd.Series(motifs)[pd.Series(motifs).duplicated()].tolist()
    if dup:
        raise InputError(f"cluster table {path}: motif {dup[0]} is listed twice")
    return ClusterTable(tuple(motifs), tuple(table[cols["cluster"]].astype(str)), str(path))


def write_cluster_table(table: ClusterTable, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_path(path, suffix=".tsv") as tmp:
        table.as_frame().to_csv(tmp, sep="\t", index=False)
    return path


def tomtom_features(
    motifs: MotifSet,
    *,
    n_jobs: int = 1,
    chunk: int = 100,
    on_progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Each motif's row of ``-log10(E)`` against every motif ``(n, n) float64``
    (module docstring)."""
    from memelite import tomtom

    mats = [np.asarray(m, dtype=np.float64) for m in motifs.matrices]
    n = len(mats)
    out = np.empty((n, n), dtype=np.float64)
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        p = np.asarray(tomtom(mats[lo:hi], mats, n_jobs=n_jobs)[0], dtype=np.float64)
        e = np.clip(p, 0.0, 1.0) * n
        with np.errstate(divide="ignore"):
            f = -np.log10(e)
        f[np.isinf(f)] = 10.0
        out[lo:hi] = f
        report(on_progress, hi, n)
    return out


def cluster_motifs(
    motifs: MotifSet,
    *,
    height: float = 0.7,
    features: np.ndarray | None = None,
    n_jobs: int = 1,
    on_progress: ProgressCallback | None = None,
) -> ClusterTable:
    """Cluster `motifs` by TOMTOM similarity (module docstring); clusters are named
    ``C1``, ``C2``, ... in the order scipy's ``fcluster`` numbers them."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(motifs) < 2:
        raise InputError("clustering needs at least two motifs")
    feats = (
        tomtom_features(motifs, n_jobs=n_jobs, on_progress=on_progress)
        if features is None
        else np.asarray(features, dtype=np.float64)
    )
    z = linkage(feats, method="complete", metric="correlation")
    labels = fcluster(z, t=height, criterion="distance")
    return ClusterTable(motifs.names, tuple(f"C{int(c)}" for c in labels), "tomtom clustering")


def adjusted_rand(ours: ClusterTable, theirs: ClusterTable) -> tuple[float, int]:
    """Adjusted Rand index of two clusterings over the motifs both name, and that count."""
    from sklearn.metrics import adjusted_rand_score

    a = dict(zip(ours.motifs, ours.clusters, strict=True))
    b = dict(zip(theirs.motifs, theirs.clusters, strict=True))
    common: Sequence[str] = [m for m in ours.motifs if m in b]
    if not common:
        raise InputError("the two cluster tables share no motif")
    return float(adjusted_rand_score([a[m] for m in common], [b[m] for m in common])), len(common)
