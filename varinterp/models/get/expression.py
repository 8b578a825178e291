"""Expression and gene TSS inputs of GET.

- `read_expression`: a TSV, first column ``gene``, then one column per cell type, of TPM
  (``units="tpm"``) or read counts (``units="counts"``: scaled to 1e6 per cell type);
  returns ``log10(TPM + 1)`` per gene and cell type.
- `pseudobulk_10x`: a 10x Genomics feature-barcode matrix (``filtered_feature_bc_matrix.h5``,
  read with h5py) summed per cell type of a barcode table -> counts per gene (TSV-ready).
- `read_tss`: gene TSS from a BED (``chrom start end name score strand``; the TSS is
  ``start`` on ``+`` and ``end - 1`` on ``-``) or a GTF (``gene`` records, ``gene_name``
  attribute, else ``gene_id``).
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.intervals import read_bed
from varinterp.io.readers import read_csv

__all__ = ["pseudobulk_10x", "read_expression", "read_tss"]


def read_expression(path: str | os.PathLike, *, units: str = "tpm") -> pd.DataFrame:
    """``log10(TPM + 1)`` ``(genes x cell types) float64`` from an expression TSV."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"expression table {path} does not exist; check the path")
    if units not in ("tpm", "counts"):
        raise InputError(f"expression units must be tpm or counts, got {units!r}")
    table = read_csv(path, "expression table", sep="\t", index_col=0)
    if table.empty:
        raise InputError(f"expression table {path} lists no gene; check the file")
    if table.shape[1] < 1:
        raise InputError(f"expression table {path} needs a gene column and cell-type columns")
    values = table.apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or (values < 0).any().any():
        raise InputError(f"expression table {path} has a missing, non-numeric or negative value")
    if values.index.duplicated().any():
        raise InputError(
            f"expression table {path}: gene {values.index[values.index.duplicated()][0]} repeats"
        )
    if units == "counts":
        values = values / values.sum(axis=0).replace(0, np.nan) * 1e6
    values.index = values.index.astype(str)
    values.columns = [str(c) for c in values.columns]
    return np.log10(values.fillna(0.0) + 1.0)


def pseudobulk_10x(h5: str | os.PathLike, barcodes: pd.DataFrame) -> pd.DataFrame:
    """Counts per gene (rows, gene names) and cell type (columns) from a 10x matrix and a
    ``barcode, cell_type`` table; features other than gene expression are left out."""
    import h5py
    from scipy.sparse import csc_matrix

    with h5py.File(h5, "r") as f:
        m = f["matrix"]
        mat = csc_matrix(
            (m["data"][:], m["indices"][:], m["indptr"][:]), shape=tuple(m["shape"][:])
        )
        names = np.array([x.decode() for x in m["features"]["name"][:]])
        kinds = np.array([x.decode() for x in m["features"]["feature_type"][:]])
        cells = np.array([x.decode() for x in m["barcodes"][:]])
    of = dict(zip(barcodes.iloc[:, 0].astype(str), barcodes.iloc[:, 1].astype(str), strict=True))
    types = sorted(set(of.values()))
    col = np.array([types.index(of[c]) if c in of else -1 for c in cells])
    if (col < 0).all():
        raise InputError(f"no barcode of {h5} is in the barcode table")
    gene_rows = kinds == "Gene Expression"
    out = np.zeros((int(gene_rows.sum()), len(types)))
    sub = mat[gene_rows]
    for k in range(len(types)):
        out[:, k] = np.asarray(sub[:, col == k].sum(axis=1)).ravel()
    frame = pd.DataFrame(out, index=names[gene_rows], columns=types)
    return frame.groupby(level=0).sum()


def read_tss(path: str | os.PathLike) -> pd.DataFrame:
    """Gene TSS -> DataFrame ``gene, chrom, tss (0-based), strand``, one row per gene
    (the first record of a gene wins)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"TSS file {path} does not exist; check the path")
    name = path.name.lower()
    if name.endswith((".gtf", ".gtf.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        rows = []
        with opener(path, "rt") as fh:
            for line in fh:
                if line.startswith("#"):
                    continue
                f = line.rstrip("\n").split("\t")
                if len(f) < 9 or f[2] != "gene":
                    continue
                m = re.search(r'gene_name "([^"]+)"', f[8]) or re.search(r'gene_id "([^"]+)"', f[8])
                if m is None:
                    continue
                start, end = int(f[3]) - 1, int(f[4])
                rows.append((m.group(1), f[0], start if f[6] != "-" else end - 1, f[6]))
        table = pd.DataFrame(rows, columns=["gene", "chrom", "tss", "strand"])
    else:
        bed = read_bed(path)
        if "strand" not in bed or "name" not in bed:
            raise InputError(f"TSS BED {path} needs 6 columns: chrom start end name score strand")
        tss = np.where(bed["strand"] == "-", bed["end"] - 1, bed["start"])
        table = pd.DataFrame(
            {
                "gene": bed["name"].astype(str),
                "chrom": bed["chrom"].astype(str),
                "tss": tss.astype(np.int64),
                "strand": bed["strand"].astype(str),
            }
        )
    if table.empty:
        raise InputError(f"TSS file {path} lists no gene")
    return table.drop_duplicates("gene").reset_index(drop=True)
