"""Preflight, step 5: keep, drop or merge each cell type by its fraction; the result type."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.fragments import FragmentTable

__all__ = ["PreflightResult", "apply_preflight"]


@dataclass
class PreflightResult:
    """Fractions and decisions of one preflight run.

    ``table``: cell_type, n_cells, fraction (NaN when not tested), status (kept, dropped,
    merged, too_few_cells). ``signatures``: chrom, start, end, signature_of, fold_change,
    q, one mean-CPM column per tested cell type, bulk. ``barcodes``: barcode, cell_type
    after dropping / merging (the table to build pseudo-bulk tracks from).
    """

    table: pd.DataFrame
    signatures: pd.DataFrame
    barcodes: pd.DataFrame
    fractions: dict[str, float]
    r2: float
    per_type: int
    warnings: list[str] = field(default_factory=list)


def apply_preflight(
    table: FragmentTable,
    *,
    fractions: dict[str, float],
    n_cells: np.ndarray,
    cutoff: float,
    merge_into: str | None,
    signatures: pd.DataFrame,
    r2: float,
    per_type: int,
    warnings: list[str],
) -> PreflightResult:
    """Decide per cell type (kept / dropped / merged / too_few_cells) and relabel barcodes."""
    rows, label = [], {}
    for k, ct in enumerate(table.cell_types):
        f = fractions.get(ct)
        if f is None:
            status = "too_few_cells"
        elif f >= cutoff:
            status = "kept"
        else:
            status = "merged" if merge_into else "dropped"
        rows.append((ct, int(n_cells[k]), np.nan if f is None else f, status))
        if status == "kept":
            label[ct] = ct
        elif status == "merged":
            label[ct] = merge_into
    out = pd.DataFrame(rows, columns=["cell_type", "n_cells", "fraction", "status"])
    if merge_into and merge_into in set(out.loc[out.status == "kept", "cell_type"]):
        msg = f"--merge-into {merge_into!r} is already a kept cell type; choose another name"
        raise InputError(msg)
    if not label:
        msg = "the preflight dropped every cell type; check the bulk and peaks or --skip-preflight"
        raise InputError(msg)
    types = pd.Series(table.cell_types, dtype=object)[table.cell_type].to_numpy()
    relabelled = pd.Series(types).map(label)
    barcodes = pd.DataFrame({"barcode": table.barcodes, "cell_type": relabelled})
    barcodes = barcodes.dropna().reset_index(drop=True)
    return PreflightResult(
        table=out,
        signatures=signatures,
        barcodes=barcodes,
        fractions=fractions,
        r2=r2,
        per_type=per_type,
        warnings=warnings,
    )
