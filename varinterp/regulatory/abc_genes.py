"""The ABC model's gene columns: promoter activity quantile, expression, "is expressed".

As the ABC pipeline computes them (``GeneList.txt`` and ``predict.py``):

* each gene's promoter region is its TSS +- 500 bp (``TSS1Kb``; the TSS is the BED6
  start on ``+`` and end on ``-``), clipped at 0;
* per mark (accessibility, and H3K27ac when given) the promoter's reads become RPKM
  (``1e9 x reads / (length x total reads)``) and then a quantile among all genes
  (average rank / number of genes);
* ``PromoterActivityQuantile`` is the quantile (average rank / n) of
  ``(1e-4 + H3K27ac quantile) x (1e-4 + accessibility quantile)``, or of
  ``1e-4 + accessibility quantile`` without H3K27ac;
* ``isExpressed``: expression >= `expression_cutoff` (1), or, for a gene with no
  expression value, ``PromoterActivityQuantile`` >= `activity_quantile_cutoff` (0.4,
  the pipeline's default; its K562 test run used 0.3).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from varinterp.errors import InputError

__all__ = [
    "TSS_SLOP",
    "is_expressed",
    "promoter_activity_quantile",
    "promoter_regions",
    "read_expression",
    "rpkm_quantile",
]

#: bp each side of the TSS in the promoter region the pipeline counts (``TSS1Kb``).
TSS_SLOP = 500


def promoter_regions(genes: pd.DataFrame) -> pd.DataFrame:
    """``chrom, start, end`` of each gene's TSS +- 500 bp (`genes` has chrom and tss)."""
    tss = genes["tss"].to_numpy(np.int64)
    return pd.DataFrame(
        {
            "chrom": genes["chrom"].astype(str).to_numpy(),
            "start": np.maximum(tss - TSS_SLOP, 0),
            "end": tss + TSS_SLOP,
        }
    )


def rpkm_quantile(counts: np.ndarray, lengths: np.ndarray, total: float) -> np.ndarray:
    """Quantile (average rank / n) of each region's RPKM -> ``(n,) float64``."""
    if not total > 0:
        msg = f"total reads must be positive to compute RPKM, got {total}"
        raise InputError(msg)
    rpkm = 1e9 * np.asarray(counts, float) / (np.asarray(lengths, float) * float(total))
    return rankdata(rpkm, method="average") / rpkm.size


def promoter_activity_quantile(
    accessibility_quantile: np.ndarray, h3k27ac_quantile: np.ndarray | None = None
) -> np.ndarray:
    """``PromoterActivityQuantile`` from the per-mark RPKM quantiles -> ``(n,) float64``."""
    value = 1e-4 + np.asarray(accessibility_quantile, float)
    if h3k27ac_quantile is not None:
        value = value * (1e-4 + np.asarray(h3k27ac_quantile, float))
    return rankdata(value, method="average") / value.size


def is_expressed(
    expression: np.ndarray,
    activity_quantile: np.ndarray,
    *,
    expression_cutoff: float = 1.0,
    activity_quantile_cutoff: float = 0.4,
) -> np.ndarray:
    """``(n,) bool``: expressed, or without expression data and an active promoter."""
    e = np.asarray(expression, float)
    q = np.asarray(activity_quantile, float)
    with np.errstate(invalid="ignore"):
        return (e >= expression_cutoff) | (np.isnan(e) & (q >= activity_quantile_cutoff))


def read_expression(path: str | os.PathLike, genes: pd.Series) -> np.ndarray:
    """Expression of `genes` (names) from a TSV with ``gene`` and ``expression`` columns
    -> ``(n,) float64``, NaN for genes the table lacks."""
    path = Path(path)
    if not path.is_file():
        msg = f"expression table {path} does not exist; check the sample table"
        raise InputError(msg)
    table = pd.read_csv(path, sep="\t")
    cols = {c.lower(): c for c in table.columns}
    if "gene" not in cols or "expression" not in cols:
        found = ", ".join(table.columns)
        msg = f"expression table {path} needs columns gene and expression (has {found})"
        raise InputError(msg)
    values = pd.to_numeric(table[cols["expression"]], errors="coerce")
    lookup = dict(zip(table[cols["gene"]].astype(str), values, strict=True))
    return np.array([lookup.get(str(g), np.nan) for g in genes], dtype=np.float64)
