"""A genome store read like a reference FASTA: one sequence per contig, in the store's
reference coordinates, for stages that take "a FASTA (or a genome store)".

`StoreSequence` has the parts of `varinterp.io.fasta.Reference` such stages use
(``names``, ``lengths``, ``path``, ``codes``, ``contig_map``, ``close``). Without a sample
it is the store's reference. With `sample` it is that person's sequence as
``bcftools consensus -H R`` writes it for SNVs and MNPs: a base both haplotypes carry
(the reference's or a homozygous ALT) is taken, a heterozygous site keeps the reference
base. Indels are not applied, so coordinates stay the reference's, as peak calls and
annotations are.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from varinterp.genome.encoding import CODE_N
from varinterp.io.contigs import ContigMap

__all__ = ["StoreSequence"]


class StoreSequence:
    """The reference of the store at `path`, or `sample`'s sequence (module docstring)."""

    def __init__(self, path: str | os.PathLike, *, sample: str | None = None) -> None:
        from varinterp.genome.store import GenomeStore

        self.path = Path(path)
        self.store = GenomeStore.open(self.path, reference_only=sample is None)
        self.sample = sample
        self._sample_index = 0 if sample is None else int(self.store.sample_indices([sample])[0])
        self.lengths: dict[str, int] = dict(self.store.contig_lengths)

    @property
    def names(self) -> list[str]:
        """Contig names in store order."""
        return list(self.lengths)

    def contig_map(self, source: str) -> ContigMap:
        """A mapper from another input's contig names onto the store's names."""
        return ContigMap(self.lengths, source=source, target=f"genome store {self.path}")

    def codes(self, chrom: str, start: int = 0, end: int | None = None) -> np.ndarray:
        """Base codes of ``chrom[start:end]`` -> ``(end - start,) uint8`` (A=0, C=1, G=2,
        T=3, N=4); positions before 0 or past the contig end are N."""
        length = self.lengths[chrom]
        end = length if end is None else end
        width = max(end - start, 0)
        out = np.full(width, CODE_N, dtype=np.uint8)
        lo, hi = max(start, 0), min(end, length)
        if hi <= lo:
            return out
        contig = self.store.contigs[self.store.contig_indices([chrom])[0]]
        ref = np.asarray(self.store.reference[contig.ref_offset + lo : contig.ref_offset + hi])
        if self.sample is None:
            both = ref
        else:
            haps = self.store.haplotype_codes(self._sample_index, chrom, lo, hi - lo, indels=False)[
                0
            ]
            both = np.where(haps[0] == haps[1], haps[0], ref)
        out[lo - start : hi - start] = both
        return out

    def close(self) -> None:
        """Nothing to release (the store's arrays are memory-mapped)."""
