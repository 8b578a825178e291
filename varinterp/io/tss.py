"""Transcription start sites of genes, from a GTF or a BED file.

`read_tss` returns one row per gene name: ``gene`` (str), ``chrom`` (str, the file's
spelling), ``tss`` (int64, 0-based position of the first transcribed base) and ``strand``
(``+`` or ``-``), in file order; a gene named twice keeps its first row.

- **GTF** (``.gtf``, ``.gtf.gz``; 1-based inclusive): the ``gene`` records (the
  ``transcript`` records when there are none), named by the ``gene_name`` attribute (else
  ``gene_id``); the TSS is ``start - 1`` on ``+`` and ``end - 1`` on ``-``.
- **BED** (0-based half-open; the name in column 4, the strand in column 6, ``+`` when
  absent): with ``position="five_prime"`` the TSS is ``start`` on ``+`` and ``end - 1``
  on ``-`` (right for 1-bp TSS records and whole gene bodies); with ``"center"`` it is
  ``(start + end) // 2`` (for windows centred on the TSS, such as ABC's
  ``GeneList.TSS1kb.bed``).
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

__all__ = ["TSS_POSITIONS", "read_tss"]

TSS_POSITIONS = ("five_prime", "center")
_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')


def _is_gtf(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".gtf", ".gtf.gz", ".gff2", ".gff2.gz"))


def _read_gtf(path: Path) -> pd.DataFrame:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    rows: dict[str, list] = {"gene": [], "transcript": []}
    with opener(path, "rt") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 9:
                msg = f"GTF {path}, line {n}: {len(parts)} columns; a GTF line has 9"
                raise InputError(msg)
            feature = parts[2]
            if feature not in rows:
                continue
            attrs = dict(_ATTR.findall(parts[8]))
            name = attrs.get("gene_name") or attrs.get("gene_id")
            if not name:
                continue
            try:
                start, end = int(parts[3]), int(parts[4])
            except ValueError:
                msg = f"GTF {path}, line {n}: start/end {parts[3]!r} {parts[4]!r} are not integers"
                raise InputError(msg) from None
            strand = parts[6]
            tss = start - 1 if strand != "-" else end - 1
            rows[feature].append((name, parts[0], tss, "-" if strand == "-" else "+"))
    chosen = rows["gene"] or rows["transcript"]
    if not chosen:
        raise InputError(f"GTF {path} has no gene or transcript records with a gene name")
    return pd.DataFrame(chosen, columns=["gene", "chrom", "tss", "strand"])


def read_tss(path: str | os.PathLike, *, position: str = "five_prime") -> pd.DataFrame:
    """One TSS per gene from a GTF or BED file (module docstring)."""
    path = Path(path)
    if position not in TSS_POSITIONS:
        msg = f"TSS position {position!r} must be one of {', '.join(TSS_POSITIONS)}"
        raise InputError(msg)
    if not path.is_file():
        raise InputError(f"TSS table {path} does not exist; check the path")
    if _is_gtf(path):
        table = _read_gtf(path)
    else:
        bed = read_bed(path)
        if "name" not in bed.columns:
            msg = f"TSS BED {path} has no name column (column 4); it must name each gene"
            raise InputError(msg)
        strand = bed["strand"].astype(str) if "strand" in bed.columns else pd.Series("+", bed.index)
        minus = (strand == "-").to_numpy()
        if position == "center":
            tss = (bed["start"].to_numpy() + bed["end"].to_numpy()) // 2
        else:
            tss = np.where(minus, bed["end"].to_numpy() - 1, bed["start"].to_numpy())
        table = pd.DataFrame(
            {
                "gene": bed["name"].astype(str),
                "chrom": bed["chrom"].astype(str),
                "tss": tss,
                "strand": np.where(minus, "-", "+"),
            }
        )
    table["tss"] = table["tss"].astype(np.int64)
    return table.drop_duplicates("gene", keep="first").reset_index(drop=True)
