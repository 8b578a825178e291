"""The small tables beside a fragments file: contig lengths, barcode table, peaks.

A barcode table maps each barcode to a cell type (TSV, two columns, no header; a first
line ``barcode<TAB>cell_type`` is skipped). Contig lengths come from a two-column
``chrom<TAB>length`` file, a mapping, or a bulk bigWig's header. Peaks are a BED file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError

__all__ = ["read_barcodes", "read_chrom_sizes", "read_peaks", "resolve_chrom_sizes"]


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Contig lengths from a two-column ``chrom<TAB>length`` file, in file order."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1], comment="#")
        sizes = {str(c): int(n) for c, n in zip(table[0], table[1], strict=True)}
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"chrom sizes {path} is not a 'chrom<TAB>length' table ({exc}); fix the file"
        raise InputError(msg) from None
    if not sizes:
        raise InputError(f"chrom sizes {path} is empty; give one 'chrom<TAB>length' per contig")
    return sizes


def read_barcodes(path: str | os.PathLike) -> pd.DataFrame:
    """The barcode table -> DataFrame ``barcode, cell_type`` (both str), table order kept."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, dtype=str, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"barcode table {path} cannot be read ({exc}); give 'barcode<TAB>cell_type' lines"
        raise InputError(msg) from None
    if table.shape[1] < 2:
        msg = f"barcode table {path} has {table.shape[1]} column(s); need barcode<TAB>cell_type"
        raise InputError(msg)
    table = table.iloc[:, :2].copy()
    table.columns = ["barcode", "cell_type"]
    if len(table) and table.iloc[0, 0].lower() == "barcode":
        table = table.iloc[1:]
    table = table.dropna().reset_index(drop=True)
    if table.empty:
        raise InputError(f"barcode table {path} lists no barcodes")
    dup = table[table.duplicated("barcode", keep=False)]
    conflict = dup.groupby("barcode")["cell_type"].nunique()
    if (conflict > 1).any():
        bc = conflict[conflict > 1].index[0]
        msg = f"barcode {bc} has more than one cell type in {path}; keep one line per barcode"
        raise InputError(msg)
    return table.drop_duplicates("barcode").reset_index(drop=True)


def read_peaks(path: str | os.PathLike) -> pd.DataFrame:
    """A BED file -> DataFrame chrom, start, end (int64), file order."""
    from varinterp.io.intervals import read_bed

    table = read_bed(path)
    return table[["chrom", "start", "end"]].astype({"start": np.int64, "end": np.int64})


def resolve_chrom_sizes(
    chrom_sizes: str | os.PathLike | Mapping[str, int] | None, bulk: str | os.PathLike | None
) -> dict[str, int]:
    """Contig lengths from `chrom_sizes` (file or mapping), else from the `bulk` bigWig."""
    if isinstance(chrom_sizes, Mapping):
        return {str(k): int(v) for k, v in chrom_sizes.items()}
    if chrom_sizes is not None:
        return read_chrom_sizes(chrom_sizes)
    if bulk is None:
        raise InputError("give --chrom-sizes or a bulk bigWig to take contig lengths from")
    from varinterp.io.bigwig import BigWig

    with BigWig(bulk) as bw:
        return dict(bw.lengths)
