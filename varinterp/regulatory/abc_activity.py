"""ABC activity: element classes, read depth normalisation, quantile normalisation.

Conventions follow the ABC model (Fulco et al. 2019; Nasser et al. 2021):

- an element is a ``promoter`` when it overlaps a gene's TSS +/- `tss_slop` (500 bp),
  else ``genic`` when it overlaps a gene body, else ``intergenic``;
- RPM = 1e6 x signal in the element / total signal of the track;
- quantile normalisation (rank method) maps each element's RPM rank onto a reference
  distribution, separately for promoters and non-promoters: with ``q = rank / n`` (average
  ranks, n elements of the class) the normalised value is the reference's value at rank
  ``(1 - q) * n``, interpolated linearly over the reference's ``rank`` column (linear
  extrapolation outside it) and clipped at 0;
- activity = sqrt(normalised accessibility x normalised H3K27ac), or the normalised
  accessibility alone when no H3K27ac is given.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import interp1d
from scipy.stats import rankdata

from varinterp.errors import InputError
from varinterp.io.readers import read_csv
from varinterp.regulatory._common import any_overlap

__all__ = [
    "QNORM_COLUMNS",
    "activity",
    "assign_classes",
    "quantile_normalise",
    "read_qnorm_reference",
    "rpm",
]

#: Column of the quantile-normalisation reference used for each signal kind.
QNORM_COLUMNS = {"DHS": "DHS.RPM", "ATAC": "ATAC.RPM", "H3K27ac": "H3K27ac.RPM"}


def assign_classes(
    elements: pd.DataFrame, genes: pd.DataFrame, *, tss_slop: int = 500
) -> np.ndarray:
    """Class of each element: ``promoter``, ``genic`` or ``intergenic`` -> ``(n,) object``.

    `elements` has chrom, start, end; `genes` has chrom, start, end (gene body) and tss.
    """
    ec, es, ee = (elements[c].to_numpy() for c in ("chrom", "start", "end"))
    gc = genes["chrom"].to_numpy()
    tss = genes["tss"].to_numpy(dtype=np.int64)
    promoter = any_overlap(ec, es, ee, gc, tss - tss_slop, tss + tss_slop)
    genic = any_overlap(
        ec, es, ee, gc, genes["start"].to_numpy(np.int64), genes["end"].to_numpy(np.int64)
    )
    out = np.full(len(elements), "intergenic", dtype=object)
    out[genic] = "genic"
    out[promoter] = "promoter"
    return out


def rpm(signal: np.ndarray, total: float) -> np.ndarray:
    """Reads (or signal) per million: ``1e6 * signal / total`` -> ``(n,) float64``."""
    if not total > 0:
        msg = f"total signal of a track is {total}; it must be positive (an empty track?)"
        raise InputError(msg)
    return 1e6 * np.asarray(signal, dtype=np.float64) / float(total)


def read_qnorm_reference(path: str | os.PathLike) -> pd.DataFrame:
    """Read an ABC quantile-normalisation reference (``enh_class, quantile, rank, <X>.RPM``)."""
    path = Path(path)
    if not path.is_file():
        msg = f"quantile reference {path} does not exist; check --qnorm"
        raise InputError(msg)
    table = read_csv(path, "quantile reference", sep="\t")
    need = {"enh_class", "rank"}
    if not need <= set(table.columns) or not any(
        c in table.columns for c in QNORM_COLUMNS.values()
    ):
        msg = (
            f"quantile reference {path} needs columns enh_class, rank and DHS.RPM / "
            f"H3K27ac.RPM (ABC's EnhancersQNormRef format); it has {', '.join(table.columns)}"
        )
        raise InputError(msg)
    return table


def quantile_normalise(
    values: np.ndarray, classes: np.ndarray, reference: pd.DataFrame, *, kind: str
) -> np.ndarray:
    """Quantile-normalise `values` (RPM) onto `reference` -> ``(n,) float64``.

    `kind` is ``DHS``, ``ATAC`` or ``H3K27ac``; ATAC falls back to the reference's DHS
    column when it has no ATAC column (as ABC does). Promoters and non-promoters are
    normalised separately against the reference rows of the same ``enh_class``.
    """
    column = QNORM_COLUMNS[kind]
    if column not in reference.columns:
        if kind == "ATAC" and "DHS.RPM" in reference.columns:
            column = "DHS.RPM"
        else:
            msg = f"the quantile reference has no {column} column to normalise {kind} with"
            raise InputError(msg)
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(values.size, dtype=np.float64)
    is_promoter = np.asarray(classes) == "promoter"
    for enh_class, mask in (("promoter", is_promoter), ("nonpromoter", ~is_promoter)):
        n = int(mask.sum())
        if n == 0:
            continue
        ref = reference.loc[reference["enh_class"] == enh_class]
        if len(ref) < 2:
            msg = f"the quantile reference has fewer than 2 rows of enh_class {enh_class!r}"
            raise InputError(msg)
        quantile = rankdata(values[mask], method="average") / n
        f = interp1d(
            ref["rank"].to_numpy(float),
            ref[column].to_numpy(float),
            kind="linear",
            fill_value="extrapolate",
        )
        out[mask] = np.clip(f((1.0 - quantile) * n), 0.0, None)
    return out


def activity(accessibility: np.ndarray, h3k27ac: np.ndarray | None = None) -> np.ndarray:
    """ABC activity: ``sqrt(accessibility * h3k27ac)``, or accessibility -> ``(n,) float64``."""
    acc = np.asarray(accessibility, dtype=np.float64)
    if h3k27ac is None:
        return acc.copy()
    return np.sqrt(acc * np.asarray(h3k27ac, dtype=np.float64))
