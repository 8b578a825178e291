"""The locus report's per-cell-type variant effects (a multi-task model's scores).

Input: the long table of ``varinterp score`` on a multi-task model (bpAI-TAC: one row per
variant and cell type, ``chrom pos ref alt task log2fc [profile_jsd]``; positions
1-based). `celltype_effects_section` matches the report's candidates to it (REF/ALT in
either order; a swapped pair flips the sign of log2fc) and shows, for the top
candidates, a heat map of log2 fold changes of predicted accessibility per cell type, a
table with them, and the cell type with the largest effect of each.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from varinterp.errors import InputError
from varinterp.report.figures import _png, data_uri
from varinterp.report.html import Section, table_html
from varinterp.report.inputs import chrom_key

__all__ = ["celltype_effects_figure", "celltype_effects_section", "read_celltype_effects"]


def read_celltype_effects(path: str | os.PathLike) -> pd.DataFrame:
    """A per-cell-type effects table -> ``chrom pos ref alt task log2fc [profile_jsd]``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"per-cell-type effects {path} does not exist; give varinterp score's output"
        )
    try:
        t = pd.read_csv(path, sep="\t", comment=None, dtype={"chrom": str, "task": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"per-cell-type effects {path} cannot be read ({exc})") from None
    need = ["chrom", "pos", "ref", "alt", "task", "log2fc"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        msg = (
            f"per-cell-type effects {path} lacks {', '.join(missing)}; give varinterp score's "
            "output for a multi-task model (one row per variant and task)"
        )
        raise InputError(msg)
    keep = [c for c in (*need, "profile_jsd") if c in t.columns]
    return t[keep].reset_index(drop=True)


def _matrix(effects: pd.DataFrame, candidates: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Candidates x tasks log2fc (NaN where not scored), in candidate order."""
    tasks = list(dict.fromkeys(effects["task"].astype(str)))
    lookup: dict[tuple, tuple[str, str, dict[str, float]]] = {}
    for (c, p, r, a), g in effects.groupby(["chrom", "pos", "ref", "alt"], sort=False):
        key = (chrom_key(str(c)), int(p), frozenset((str(r).upper(), str(a).upper())))
        per_task = dict(zip(g["task"].astype(str), g["log2fc"], strict=True))
        lookup[key] = (str(r).upper(), str(a).upper(), per_task)
    rows = []
    for cand in candidates.itertuples(index=False):
        key = (chrom_key(str(cand.chrom)), int(cand.pos),
               frozenset((str(cand.ref).upper(), str(cand.alt).upper())))  # fmt: skip
        hit = lookup.get(key)
        values = dict.fromkeys(tasks, np.nan)
        if hit is not None:
            sign = 1.0 if hit[0] == str(cand.ref).upper() else -1.0
            values.update({t: sign * float(v) for t, v in hit[2].items()})
        rows.append({"variant_id": cand.variant_id, **values})
    return pd.DataFrame(rows, columns=["variant_id", *tasks]), tasks


def celltype_effects_figure(matrix: pd.DataFrame, tasks: list[str]) -> bytes:
    """A candidates x cell types heat map of log2 fold changes (PNG bytes)."""
    values = matrix[tasks].to_numpy(dtype=np.float64)
    lim = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    lim = max(lim, 1e-3)
    fig = Figure(figsize=(1.0 + 0.55 * len(tasks), 0.9 + 0.4 * len(matrix)))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-lim, vmax=lim,
                   aspect="auto")  # fmt: skip
    ax.set_xticks(range(len(tasks)), tasks, rotation=60, ha="right")
    ax.set_yticks(range(len(matrix)), matrix["variant_id"])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(im, ax=ax, label="log2 fold change (ALT / REF)")
    ax.set_title("Predicted accessibility change per cell type")
    return _png(fig)


def celltype_effects_section(
    effects: pd.DataFrame, candidates: pd.DataFrame, *, top: int = 5
) -> Section:
    """The report section for the `top` candidates (module docstring)."""
    sec = Section("celltype-effects", "Per-cell-type variant effects")
    head = candidates.head(top)
    matrix, tasks = _matrix(effects, head)
    scored = matrix[tasks].notna().any(axis=1)
    if not scored.any():
        sec.missing(
            f"none of the top {len(head)} candidates is in the per-cell-type effects table; "
            "score the fine-mapped variants with the multi-task model"
        )
        return sec
    matrix = matrix[scored.to_numpy()].reset_index(drop=True)
    sec.text(
        f"Predicted change of accessibility (log2 fold change of predicted counts, ALT over "
        f"REF) in each of {len(tasks)} cell types for the top candidates, from a multi-task "
        "model (bpAI-TAC). A variant that breaks a factor's motif changes accessibility "
        "most where that factor is active."
    )
    sec.image(data_uri(celltype_effects_figure(matrix, tasks)), "per-cell-type effects",
              "celltype-effects-heatmap")  # fmt: skip
    values = matrix[tasks].to_numpy(dtype=np.float64)
    strongest = np.nanargmax(np.abs(values), axis=1)
    table = matrix.assign(
        largest_in=[tasks[k] for k in strongest],
        largest_log2fc=values[np.arange(len(matrix)), strongest],
    )
    cols = ["variant_id", "largest_in", "largest_log2fc", *tasks]
    sec.raw(table_html(table, table_id="celltype-effects-table", columns=cols))
    return sec
