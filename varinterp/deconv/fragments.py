"""scATAC fragments -> per-cell-type pseudo-bulk accessibility bigWigs (public entry point).

The work is split by step; this module re-exports every public name so that
``from varinterp.deconv.fragments import ...`` keeps working:

- `varinterp.io.fragments`: the fragments file -> `FragmentTable` and the barcode table
  (`load_fragments`, `relabel`, `read_barcodes`, `safe_name`).
- `varinterp.io.chrom_sizes`: contig lengths (`read_chrom_sizes`, `resolve_chrom_sizes`);
  `varinterp.io.intervals.read_peaks`: peaks.
- `varinterp.deconv.pileup`: pile-up of one contig (`MODES`, `coverage_runs`,
  `dense_blocks`).
- `varinterp.deconv.pseudobulk`: bigWigs and library sizes (`write_pseudobulk`,
  `make_pseudobulk`, `PseudobulkResult`).

A fragments file has one fragment per line: ``chrom, start, end, barcode[, count]``
(0-based half-open, as Cell Ranger ATAC writes it), plain or bgzipped, with optional
``#`` header lines. A barcode table maps each barcode to a cell type (TSV, two columns,
no header; a first line ``barcode<TAB>cell_type`` is skipped).

Pseudo-bulk tracks (``mode``):

- ``coverage`` (default, as DeepDETAILS ``prep-data`` does with ``bedtools genomecov
  -bg`` on whole fragments): each fragment adds 1 to every base it spans.
- ``cutsites``: each fragment adds 1 at each of its two Tn5 insertion sites (``start``
  and ``end - 1``).

Each fragment line counts once: the duplicate ``count`` column is kept but not used as a
weight, and a cell type's library size is its number of fragment lines on the kept
contigs. The tracks hold raw counts; depth normalisation enters the model through
``norm = 1e6 / library size`` (written to ``library_sizes.tsv``).
"""

from __future__ import annotations

from varinterp.deconv.pileup import MODES, coverage_runs, dense_blocks
from varinterp.deconv.pseudobulk import PseudobulkResult, make_pseudobulk, write_pseudobulk
from varinterp.io.chrom_sizes import read_chrom_sizes, resolve_chrom_sizes
from varinterp.io.fragments import FragmentTable, load_fragments, read_barcodes, relabel, safe_name
from varinterp.io.intervals import read_peaks

__all__ = [
    "MODES",
    "FragmentTable",
    "PseudobulkResult",
    "coverage_runs",
    "dense_blocks",
    "load_fragments",
    "make_pseudobulk",
    "read_barcodes",
    "read_chrom_sizes",
    "read_peaks",
    "relabel",
    "resolve_chrom_sizes",
    "safe_name",
    "write_pseudobulk",
]
