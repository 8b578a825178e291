"""Motif features: MEME matrices, clusters, FIMO scans and GET's region x cluster matrix.

A stage of its own (GET's input, the variant scorer's rescans, anything that needs motif
counts per region). Library first; ``varinterp motifs scan`` is a thin command over
`scan_peaks`.

- `meme`: `MotifSet` (probability matrices ``(4, width)``), `read_meme`, `write_meme`;
- `clusters`: cluster tables (`read_cluster_table`), `cluster_motifs` (TOMTOM + complete
  linkage at 0.7), `adjusted_rand`;
- `archetypes`: the shipped default, the 2,179 archetype-collection matrices and
  varinterp's clustering of them;
- `sequences`: one-hot region sequences from a FASTA or a genome store;
- `scan`: `scan_hits` (memelite's FIMO), `cluster_scores` (best of overlapping hits,
  sum of the rest);
- `features`: `motif_features`, `normalise_columns`, `accessibility_cpm`;
- `accessibility`: counts per peak from a counts table or bigWigs;
- `files`: `write_features` / `read_features` (.h5 or .npz);
- `jaspar`: JASPAR matrices through the optional ``pyjaspar`` package;
- `pipeline`: `scan_peaks`.
"""

from __future__ import annotations

__all__: list[str] = []
