"""Region sequences for motif scanning: from a FASTA or a personal-genome store.

`region_onehot` returns ``(n, 4, L) float32`` (A, C, G, T; ``L`` the longest region,
shorter regions padded with zeros = N) and the regions' lengths ``(n,) int64``. From a
FASTA the code is one-hot; from a genome store (a person's two-hot windows) it is the
two-hot code divided by 2, so a heterozygous site scores the mean of its two alleles.
Contig names are harmonised (``chr1`` vs ``1``); a peak on a contig the sequence source
lacks is an `InputError` naming both spellings.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.io.fasta import Reference

__all__ = ["region_onehot"]


def _fasta_contigs(reference: Reference, chroms: list[str]) -> dict[str, str]:
    cmap = reference.contig_map("peaks")
    out = {}
    for c in dict.fromkeys(chroms):
        name = cmap.get(c)
        if name is None:
            raise InputError(
                f"peaks on contig {c!r} but {reference.path.name} has no such contig (it has "
                f"{', '.join(reference.names[:5])}{' ...' if len(reference.names) > 5 else ''}); "
                "drop those peaks or give the matching FASTA"
            )
        out[c] = name
    return out


def region_onehot(
    peaks: pd.DataFrame,
    *,
    fasta: Reference | str | os.PathLike | None = None,
    store: Any = None,
    sample: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of `peaks` (``chrom, start, end``) -> ``(x (n, 4, L) float32, lengths
    (n,) int64)`` (module docstring)."""
    if (fasta is None) == (store is None):
        raise InputError("give the sequence as a FASTA or as a genome store, not both or neither")
    chroms = peaks["chrom"].astype(str).tolist()
    starts = peaks["start"].to_numpy(np.int64)
    ends = peaks["end"].to_numpy(np.int64)
    lengths = ends - starts
    width = int(lengths.max()) if len(lengths) else 0
    x = np.zeros((len(chroms), 4, width), dtype=np.float32)
    if fasta is not None:
        reference = fasta if isinstance(fasta, Reference) else Reference(fasta)
        names = _fasta_contigs(reference, chroms)
        for i, (c, s, e) in enumerate(zip(chroms, starts, ends, strict=True)):
            x[i, :, : e - s] = one_hot(reference.codes(names[c], int(s), int(e)))
        return x, lengths
    if sample is None:
        raise InputError("a genome store needs the sample whose sequence to scan (--sample)")
    if isinstance(store, str | os.PathLike):
        from varinterp.genome.store import GenomeStore

        store = GenomeStore.open(store)
    store.sample_indices([sample])
    for w in np.unique(lengths):
        idx = np.flatnonzero(lengths == w)
        win = store.windows(sample, [chroms[i] for i in idx], starts[idx], int(w))
        x[idx, :, :w] = win.reshape(len(idx), 4, int(w)).astype(np.float32) / 2.0
    return x, lengths
