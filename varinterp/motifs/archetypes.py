"""The default motif set: the 2,179 matrices of the Vierstra archetype collection.

The matrices ship with varinterp (``varinterp/motifs/data/vierstra_motifs.meme``, as
distributed under the MIT licence in the data folder of the ``chrombpnet`` package; its
14 ``DNASE_*`` and ``TN5_*`` matrices, which are not part of the collection, are left
out when read). The motif -> cluster table beside it
(``archetype_clusters.tsv``) is varinterp's own clustering of those matrices
(`varinterp.motifs.clusters.cluster_motifs`: TOMTOM, complete linkage, cut at 0.7);
``docs/get.md`` records how it compares with the published 286 archetypes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from varinterp.motifs.clusters import ClusterTable, read_cluster_table
from varinterp.motifs.meme import MotifSet, read_meme

__all__ = [
    "DEFAULT_CLUSTERS",
    "DEFAULT_MOTIFS",
    "NOT_IN_COLLECTION",
    "default_clusters",
    "default_motifs",
]

_DATA = Path(__file__).resolve().parent / "data"
DEFAULT_MOTIFS = _DATA / "vierstra_motifs.meme"
DEFAULT_CLUSTERS = _DATA / "archetype_clusters.tsv"
#: Identifier prefixes of the shipped file's matrices that are not archetype motifs.
NOT_IN_COLLECTION = ("DNASE_", "TN5_")


@lru_cache(maxsize=1)
def default_motifs() -> MotifSet:
    """The 2,179 archetype-collection matrices (``(4, width) float64`` each)."""
    return read_meme(DEFAULT_MOTIFS, exclude_prefixes=NOT_IN_COLLECTION)


@lru_cache(maxsize=1)
def default_clusters() -> ClusterTable:
    """varinterp's clustering of `default_motifs` (motif -> cluster name)."""
    return read_cluster_table(DEFAULT_CLUSTERS)
