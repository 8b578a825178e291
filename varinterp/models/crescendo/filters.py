"""The checks and filters of `varinterp.models.crescendo.prep`: feature and cell filters,
cell types from a table, and whether coordinates fit the FASTA (the genome build)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.io.contigs import spellings
from varinterp.io.fasta import Reference
from varinterp.io.tables import read_table
from varinterp.io.tenx import GENE_EXPRESSION, PEAKS, peak_table

__all__ = ["check_build", "feature_filters", "standard_contig", "typed_cells"]

_STANDARD = {*(str(i) for i in range(1, 23)), "X", "Y"}


def standard_contig(name: str) -> bool:
    """Whether `name` is an autosome, X or Y (``chr`` prefix optional)."""
    return name.removeprefix("chr") in _STANDARD


def feature_filters(matrix, s, dropped: dict) -> tuple:
    """The paper's filters (`varinterp.models.crescendo.prep`, step 2): ``(genes, atac, peaks,
    keep_gene (G,) bool, keep_cell (C,) bool, keep_peak (P,) bool)``; `dropped` gets the
    counts."""
    genes = matrix.of_type(GENE_EXPRESSION)
    peaks = peak_table(matrix)
    if genes.n_features == 0:
        msg = f"{matrix.source} has no Gene Expression features; give a 10x Multiome matrix"
        raise InputError(msg)
    atac = matrix.of_type(PEAKS)
    n = matrix.n_barcodes
    m = int(n * s.min_cell_fraction)
    rna = sp.csc_matrix(genes.counts)
    gene_cells = (sp.csr_matrix(rna) > 0).sum(axis=1).A1
    keep_gene = gene_cells >= m
    if not keep_gene.any():
        msg = f"no gene is detected in {m} cells (5% of {n}); is the RNA part of the matrix empty?"
        raise InputError(msg)
    per_cell = (rna[keep_gene] > 0).sum(axis=0).A1
    keep_cell = per_cell >= s.min_genes
    if not keep_cell.any():
        msg = (
            f"no cell has {s.min_genes} or more of the {int(keep_gene.sum())} kept genes "
            f"(the most is {int(per_cell.max())}); lower --min-genes"
        )
        raise InputError(msg)
    peak_cells = (sp.csr_matrix(atac.counts) > 0).sum(axis=1).A1
    keep_peak = peak_cells >= m
    if s.standard_contigs_only:
        keep_peak &= peaks["chrom"].map(standard_contig).to_numpy()
    if not keep_peak.any():
        msg = (
            f"no peak is detected in {m} cells on an autosome or X/Y; check the ATAC part "
            "of the matrix (or keep other contigs)"
        )
        raise InputError(msg)
    dropped.update(
        genes_rare=int((~keep_gene).sum()),
        cells_few_genes=int((~keep_cell).sum()),
        peaks_rare_or_nonstandard=int((~keep_peak).sum()),
    )
    return genes, atac, peaks, keep_gene, keep_cell, keep_peak


def typed_cells(path, barcodes: np.ndarray, s, dropped: dict):
    """``(typed (C,) bool, type index (C,) int64 with -1 untyped, sorted type names)`` of
    the kept cells from a ``barcode cell_type`` table (one type ``all`` without one)."""
    if path is None:
        return np.ones(barcodes.size, bool), np.zeros(barcodes.size, np.int64), ["all"]
    table = read_table(path, required=("barcode", "cell_type"), what="cell-type table")
    mapping = dict(zip(table["barcode"], table["cell_type"], strict=True))
    typed = np.array([b in mapping and mapping[b] != "" for b in barcodes])
    if not typed.all():
        example = barcodes[~typed][0]
        if s.untyped_cells == "error" or not typed.any():
            msg = (
                f"{int((~typed).sum())} of the {barcodes.size} kept cells are absent from the "
                f"cell-type table {path} (e.g. {example}); give every cell a type or pass "
                "--drop-untyped"
            )
            raise InputError(msg)
        dropped["cells_untyped"] = int((~typed).sum())
    names = sorted({mapping[b] for b in barcodes[typed]})
    index = np.array(
        [names.index(mapping[b]) if t else -1 for b, t in zip(barcodes, typed, strict=True)]
    )
    return typed, index.astype(np.int64), names


def check_build(chroms, positions, reference: Reference, what: str, where) -> list[str]:
    """Reference spellings of `chroms`; a contig the FASTA lacks or a position past its
    end is an `InputError` (another genome build)."""
    names = set(reference.names)
    chroms = np.asarray(chroms).astype(str)
    positions = np.asarray(positions, dtype=np.int64)
    mapped = np.empty(chroms.size, dtype=object)
    for c in np.unique(chroms):
        hit = next((x for x in spellings(str(c)) if x in names), None)
        if hit is None:
            msg = (
                f"{what} contig {c!r} ({where}) is not in the genome {reference.path} (which "
                f"has {', '.join(reference.names[:3])}...): is it another genome build?"
            )
            raise InputError(msg)
        rows = chroms == c
        past = rows & (positions >= reference.lengths[hit])
        if past.any():
            i = int(np.flatnonzero(past)[0])
            msg = (
                f"{what} position {c}:{int(positions[i]) + 1} ({where}) is past the end of "
                f"{hit} ({reference.lengths[hit]:,} bp) in {reference.path}: another genome "
                "build?"
            )
            raise InputError(msg)
        mapped[rows] = hit
    return list(mapped)
