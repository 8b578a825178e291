"""Per-cell-type cRE evidence of cREscENDO for a locus report's candidates.

`read_cre_evidence` reads the output folder of ``varinterp crescendo activity`` (its
``celltypes.tsv``; or that file): one row per gene-peak pair and cell type with the
pair's label (``promoter``, ``active``, ``cre``, ``none``), its mean activity in the
type's cells and whether it is specific to the type. `cre_candidates` finds the
candidates that fall in a peak holding a promoter or a cRE of some gene and lists, per
variant and gene, the label, the cell types where the pair is specific and the mean
activity in each type; `cre_section` renders that as the report's section.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.report.html import Section, table_html
from varinterp.report.inputs import chrom_key

__all__ = ["cre_candidates", "cre_section", "read_cre_evidence"]

_PEAK = re.compile(r"^(?P<chrom>.+):(?P<start>\d+)-(?P<end>\d+)$")
_EVIDENCE_LABELS = ("promoter", "active", "cre")


def read_cre_evidence(path: str | os.PathLike) -> pd.DataFrame:
    """``gene peak chrom start end cell_type label mean_activity specific`` (0-based
    half-open peaks) from ``crescendo activity``'s folder or its ``celltypes.tsv``."""
    path = Path(path)
    if path.is_dir():
        path = path / "celltypes.tsv"
    if not path.is_file():
        raise InputError(f"cRE table {path} does not exist; give crescendo activity's output")
    try:
        t = pd.read_csv(path, sep="\t", dtype={"gene": str, "peak": str, "cell_type": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read cRE table {path}: {exc}") from None
    need = ["gene", "peak", "cell_type", "label", "mean_activity", "specific"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise InputError(f"cRE table {path} lacks {', '.join(missing)}; give crescendo activity's")
    parts = t["peak"].str.extract(_PEAK)
    if parts.isna().any().any():
        raise InputError(f"cRE table {path}: peaks must be chrom:start-end")
    t["chrom"] = parts["chrom"]
    t["start"] = parts["start"].astype(np.int64)
    t["end"] = parts["end"].astype(np.int64)
    t["specific"] = t["specific"].astype(str).str.lower().isin(["true", "1"])
    return t[
        ["gene", "peak", "chrom", "start", "end", "cell_type", "label", "mean_activity", "specific"]
    ]


def cre_candidates(candidates: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate (``variant_id chrom pos``, 1-based) and gene whose promoter or
    cRE peak holds it: ``variant_id gene peak label specific_in`` and one
    ``activity_<type>`` column per cell type (the pair's mean activity there)."""
    ev = evidence[evidence["label"].isin(_EVIDENCE_LABELS)]
    types = list(dict.fromkeys(evidence["cell_type"]))
    cols = ["variant_id", "gene", "peak", "label", "specific_in", *(f"activity_{t}" for t in types)]
    if ev.empty or candidates.empty:
        return pd.DataFrame(columns=cols)
    key = ev["chrom"].map(chrom_key).to_numpy()
    rows = []
    for c in candidates.itertuples(index=False):
        pos0 = int(c.pos) - 1
        hit = ev[
            (key == chrom_key(c.chrom))
            & (ev["start"].to_numpy() <= pos0)
            & (ev["end"].to_numpy() > pos0)
        ]
        for (gene, peak), grp in hit.groupby(["gene", "peak"], sort=False):
            act = dict(zip(grp["cell_type"], grp["mean_activity"], strict=True))
            rows.append(
                {
                    "variant_id": c.variant_id,
                    "gene": gene,
                    "peak": peak,
                    "label": grp["label"].iloc[0],
                    "specific_in": ",".join(grp.loc[grp["specific"], "cell_type"]) or "-",
                    **{f"activity_{t}": act.get(t, np.nan) for t in types},
                }
            )
    return pd.DataFrame(rows, columns=cols)


def cre_section(candidates: pd.DataFrame, evidence: pd.DataFrame | None, *, top: int) -> Section:
    """The report section: cREscENDO evidence for the `top` candidates (or a note that the
    input was not given)."""
    sec = Section("cres", "Single-cell cRE evidence (cREscENDO)")
    if evidence is None:
        return sec.missing("cREscENDO activity: not provided (give --cres).")
    found = cre_candidates(candidates.head(top), evidence)
    if found.empty:
        return sec.text(f"None of the top {top} candidates lies in a promoter or cRE peak.")
    sec.text(
        "Candidates inside a peak that cREscENDO labels as a gene's promoter or cRE (active: "
        "top 15% of activity with a positive correlation to accessibility; cre: top 60%), "
        "with the pair's mean per-cell activity in each cell type and the types where it is "
        "specific (Mann-Whitney, q < 1e-4)."
    )
    return sec.raw(table_html(found, table_id="cre-table"))
