"""Cluster the shipped archetype-collection matrices and compare with a published table.

    python benchmarks/get/cluster_archetypes.py --out clusters.tsv \
        [--features tomtom.npy] [--published clusters.0.70.txt]

Writes varinterp's motif -> cluster table (the one shipped as
``varinterp/motifs/data/archetype_clusters.tsv``), prints the number of clusters and,
given the published cluster table of the archetype collection (``motifs<TAB>cluster``;
it is not shipped with varinterp), the adjusted Rand index between the two.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from varinterp.motifs.archetypes import default_motifs
from varinterp.motifs.clusters import (
    ClusterTable,
    adjusted_rand,
    cluster_motifs,
    tomtom_features,
    write_cluster_table,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--features", type=Path, help="cache of the TOMTOM feature matrix (.npy)")
    ap.add_argument("--published", type=Path, help="published motif -> cluster table")
    ap.add_argument("--height", type=float, default=0.7)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    motifs = default_motifs()
    t0 = time.perf_counter()
    if args.features is not None and args.features.is_file():
        feats = np.load(args.features)
    else:
        feats = tomtom_features(motifs, n_jobs=args.jobs)
        if args.features is not None:
            np.save(args.features, feats)
    seconds = time.perf_counter() - t0
    table = cluster_motifs(motifs, height=args.height, features=feats)
    write_cluster_table(table, args.out)
    print(f"motifs {len(motifs)}  clusters {len(table.names)}  tomtom seconds {seconds:.0f}")
    if args.published is not None:
        import pandas as pd

        pub = pd.read_csv(args.published, sep="\t", dtype=str)
        theirs = ClusterTable(tuple(pub.iloc[:, 0]), tuple(pub.iloc[:, 1]), "published")
        ari, n = adjusted_rand(table, theirs)
        print(
            f"published clusters {len(theirs.names)}  motifs in both {n}  "
            f"adjusted Rand index {ari:.3f}"
        )


if __name__ == "__main__":
    main()
