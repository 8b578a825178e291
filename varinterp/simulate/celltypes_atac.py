"""Simulated scATAC: cells, barcodes and fragments drawn from each cell type's accessibility.

Each cell gets ``round(LogNormal(log(fragments_per_cell), 0.3))`` fragments (at least
1). A fragment's midpoint is drawn from the cell type's accessibility density over the
whole genome (probability proportional to the value at each base); its length is
nucleosome-free with probability 0.55 (``30 + Exponential(60)``, at most 150 bp) and
mono-nucleosomal otherwise (``Normal(200, 25)`` clipped to 150-300 bp); it is clipped to
its contig. Its duplicate count is 2 with probability 0.03, else 1. Barcodes are
distinct random 16-mers with a ``-1`` suffix, as Cell Ranger writes them.

The fragments file is sorted by contig (reference order), start, end and barcode, then
bgzipped and tabix-indexed (pysam, BED preset).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Fragments", "make_barcodes", "sample_fragments", "write_fragments"]


@dataclass(frozen=True, eq=False)
class Fragments:
    """Fragments as arrays, one entry each: ``contig`` (index into ``contigs``), ``start``,
    ``end`` (0-based half-open), ``cell`` (index into ``barcodes``), ``count``; all
    ``(n,) int64``. ``cell_type`` ``(n_cells,)`` names the type of each barcode."""

    contigs: tuple[str, ...]
    contig: np.ndarray
    start: np.ndarray
    end: np.ndarray
    cell: np.ndarray
    count: np.ndarray
    barcodes: tuple[str, ...]
    cell_type: tuple[str, ...]


def make_barcodes(rng: np.random.Generator, n: int) -> list[str]:
    """`n` distinct random 16-base barcodes with the ``-1`` suffix."""
    letters = np.array(list("ACGT"))
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        codes = rng.integers(0, 4, size=(n - len(out), 16))
        for row in letters[codes]:
            bc = "".join(row) + "-1"
            if bc not in seen:
                seen.add(bc)
                out.append(bc)
    return out


def _lengths(rng: np.random.Generator, n: int) -> np.ndarray:
    nfr = rng.random(n) < 0.55
    short = np.minimum(30 + rng.exponential(60.0, n), 150)
    mono = np.clip(rng.normal(200.0, 25.0, n), 150, 300)
    return np.round(np.where(nfr, short, mono)).astype(np.int64)


def sample_fragments(
    rng: np.random.Generator,
    densities: Sequence[Mapping[str, np.ndarray]],
    cell_types: Sequence[str],
    n_cells: Sequence[int],
    *,
    fragments_per_cell: float = 1000.0,
) -> Fragments:
    """Draw cells and fragments of each cell type from its density (module docstring).

    `densities[j]` maps contig -> ``(length,)`` non-negative values for cell type
    ``cell_types[j]``, which gets ``n_cells[j]`` cells.
    """
    contigs = tuple(densities[0])
    lengths = np.array([densities[0][c].shape[0] for c in contigs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    barcodes = make_barcodes(rng, int(sum(n_cells)))
    parts, owner, first = [], [], 0
    for j, ct in enumerate(cell_types):
        m = int(n_cells[j])
        per_cell = np.maximum(
            1, np.round(np.exp(rng.normal(np.log(fragments_per_cell), 0.3, m)))
        ).astype(np.int64)
        total = int(per_cell.sum())
        cdf = np.cumsum(np.concatenate([densities[j][c] for c in contigs]))
        mids = np.searchsorted(cdf, rng.random(total) * cdf[-1], side="right")
        mids = np.minimum(mids, cdf.size - 1)
        contig = np.searchsorted(offsets, mids, side="right") - 1
        local = mids - offsets[contig]
        length = _lengths(rng, total)
        start = np.maximum(local - length // 2, 0)
        end = np.minimum(start + length, lengths[contig])
        count = np.where(rng.random(total) < 0.03, 2, 1).astype(np.int64)
        cell = np.repeat(np.arange(first, first + m, dtype=np.int64), per_cell)
        parts.append((contig, start, end, cell, count))
        owner += [ct] * m
        first += m
    cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
    return Fragments(
        contigs=contigs,
        contig=cols[0].astype(np.int64),
        start=cols[1].astype(np.int64),
        end=cols[2].astype(np.int64),
        cell=cols[3],
        count=cols[4],
        barcodes=tuple(barcodes),
        cell_type=tuple(owner),
    )


def write_fragments(frags: Fragments, path: str | Path) -> Path:
    """Write sorted fragments to `path` (must end in ``.gz``) bgzipped, with ``.tbi``.

    Sorted by contig (``frags.contigs`` order), start, end, barcode. Returns `path`.
    """
    import pysam

    path = Path(path)
    bc = np.asarray(frags.barcodes, dtype=object)
    rank = np.empty(bc.size, dtype=np.int64)
    rank[np.argsort(bc.astype(str), kind="stable")] = np.arange(bc.size)
    order = np.lexsort((rank[frags.cell], frags.end, frags.start, frags.contig))
    table = pd.DataFrame(
        {
            "chrom": np.asarray(frags.contigs, dtype=object)[frags.contig[order]],
            "start": frags.start[order],
            "end": frags.end[order],
            "barcode": bc[frags.cell[order]],
            "count": frags.count[order],
        }
    )
    plain = path.with_suffix("")
    table.to_csv(plain, sep="\t", header=False, index=False, lineterminator="\n")
    pysam.tabix_index(str(plain), preset="bed", force=True, keep_original=False)
    return path
