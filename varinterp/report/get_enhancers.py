"""The locus report's GET section: each gene's top GET enhancers beside its ABC links.

Input: the TSV of ``varinterp get enhancers`` (one row per gene and region of its window:
``gene cell_type chrom start end distance jacobian accessibility score score_norm
rank``; `varinterp.models.get.interpret`). For every gene whose TSS window reaches the
report's region, its `top` regions by GET score are listed, with the ABC score of the
same element-gene pair when an ABC table was given (an element matches an ABC element
when the two intervals overlap).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.report.html import Section, table_html
from varinterp.report.inputs import chrom_key

__all__ = ["GET_COLUMNS", "get_enhancer_section", "read_get_enhancers"]

GET_COLUMNS = (
    "gene",
    "cell_type",
    "chrom",
    "start",
    "end",
    "distance",
    "score",
    "score_norm",
    "rank",
)


def read_get_enhancers(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``varinterp get enhancers`` table (an `InputError` when columns are missing)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"GET enhancer table {path} does not exist; run varinterp get enhancers")
    table = pd.read_csv(path, sep="\t", dtype={"gene": str, "chrom": str, "cell_type": str})
    missing = [c for c in GET_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"GET enhancer table {path} lacks {', '.join(missing)}")
    return table


def _abc_score(row, abc: pd.DataFrame | None) -> float:
    if abc is None:
        return float("nan")
    hit = abc[
        (abc["gene"].astype(str) == row.gene)
        & (abc["chrom"].map(chrom_key) == chrom_key(row.chrom))
        & (abc["start"] < row.end)
        & (abc["end"] > row.start)
    ]
    return float(hit["score"].max()) if len(hit) else float("nan")


def get_enhancer_section(
    table: pd.DataFrame | None,
    *,
    chrom: str,
    lo: int,
    hi: int,
    abc: pd.DataFrame | None = None,
    top: int = 5,
) -> Section:
    """The report section (module docstring); says so when no table was given."""
    sec = Section("get-enhancers", "GET enhancers beside ABC links")
    if table is None:
        return sec.missing("GET enhancer scores: not provided (give --get-enhancers).")
    here = table[
        (table["chrom"].map(chrom_key) == chrom_key(chrom))
        & (table["end"] > lo)
        & (table["start"] < hi)
    ]
    genes = list(dict.fromkeys(here["gene"]))
    if not genes:
        return sec.text("No GET-scored region of any gene lies in this region.")
    rows = table[table["gene"].isin(genes)].sort_values(["gene", "cell_type", "rank"])
    rows = rows.groupby(["gene", "cell_type"], sort=False).head(top).copy()
    rows["abc_score"] = [_abc_score(r, abc) for r in rows.itertuples(index=False)]
    rows["element"] = [
        f"{c}:{s + 1:,}-{e:,}"
        for c, s, e in zip(rows["chrom"], rows["start"], rows["end"], strict=True)
    ]
    sec.text(
        f"Top {top} regions per gene by GET's Jacobian score (||dE/d embedding|| x "
        "accessibility; score_norm: divided by the gene's largest), with the ABC score of the "
        "same element-gene pair" + ("" if abc is not None else " (ABC links not provided)") + "."
    )
    cols = ["gene", "cell_type", "rank", "element", "distance", "score_norm", "abc_score"]
    sec.raw(table_html(rows.replace({np.nan: None}), table_id="get-enhancer-table", columns=cols))
    return sec
