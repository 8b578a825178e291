"""Tables and tracks summarising a cRE activity store, for people and for other stages.

`write_summaries` writes into a folder (all BED coordinates 0-based half-open):

``pairs.tsv``        one row per gene-peak pair: ``gene peak chrom start end role``
                     (promoter or distal) ``distance`` (peak centre - TSS, bp)
                     ``max_activity mean_activity corr_accessibility label``
                     (`varinterp.cre.labels`)
``celltypes.tsv``    one row per pair and cell type: ``gene peak cell_type label
                     mean_activity mean_activity_rest pvalue qvalue specific``
                     (`varinterp.cre.specificity`)
``elements.tsv``     one row per peak holding a cRE (label ``active`` or ``cre``) and cell
                     type: ``chrom start end name cell_type mean_activity genes specific``
                     (``mean_activity`` the largest over the peak's cRE pairs, ``genes``
                     their genes, ``specific`` whether any of them is specific to the
                     type); the layout ``varinterp elements enrich`` and ``varinterp
                     report locus --elements`` read
``<type>.cre.bed``   BED6 of the type's specific cRE peaks (name: genes, score: 0-1000
                     scaled mean activity, strand ``.``)
``<type>.activity.bw``  the type's mean cRE activity over each cRE peak (largest over its
                     pairs; 0 elsewhere)
``tracks.tsv``       ``cell_type path``: the bigWigs, as ``varinterp elements call
                     --tracks`` reads them
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.io.bigwig import write_bigwig

__all__ = ["cre_elements", "safe_name", "write_summaries"]

CRE_LABELS = ("active", "cre")


def safe_name(name: str) -> str:
    """A cell-type name usable in a file name."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", str(name)) or "_"


def _tsv(table: pd.DataFrame, path: Path, **kw) -> None:
    table.to_csv(path, sep="\t", index=False, lineterminator="\n", float_format="%.6g", **kw)


def cre_elements(pairs: pd.DataFrame, celltypes: pd.DataFrame) -> pd.DataFrame:
    """The ``elements.tsv`` table (module docstring) from the pair and cell-type tables."""
    cre = celltypes[celltypes["label"].isin(CRE_LABELS)]
    if cre.empty:
        cols = ["chrom", "start", "end", "name", "cell_type", "mean_activity", "genes", "specific"]
        return pd.DataFrame(columns=cols)
    pos = pairs.drop_duplicates("peak").set_index("peak")[["chrom", "start", "end"]]
    grouped = cre.groupby(["peak", "cell_type"], sort=False).agg(
        mean_activity=("mean_activity", "max"),
        genes=("gene", lambda g: ",".join(dict.fromkeys(g))),
        specific=("specific", "any"),
    )
    out = grouped.reset_index().join(pos, on="peak").rename(columns={"peak": "name"})
    out = out[["chrom", "start", "end", "name", "cell_type", "mean_activity", "genes", "specific"]]
    return out.sort_values(["chrom", "start", "cell_type"], kind="stable").reset_index(drop=True)


def write_summaries(
    out: str | os.PathLike,
    *,
    pairs: pd.DataFrame,
    celltypes: pd.DataFrame,
    cell_types: Sequence[str],
    chrom_sizes: Mapping[str, int],
) -> dict[str, Path]:
    """Write the module's files into the existing folder `out`; returns their paths."""
    out = Path(out)
    written = {
        "pairs": out / "pairs.tsv",
        "celltypes": out / "celltypes.tsv",
        "elements": out / "elements.tsv",
        "tracks": out / "tracks.tsv",
    }
    _tsv(pairs, written["pairs"])
    _tsv(celltypes, written["celltypes"])
    elements = cre_elements(pairs, celltypes)
    _tsv(elements, written["elements"])
    order = {c: i for i, c in enumerate(chrom_sizes)}
    tracks = []
    for ct in cell_types:
        name = safe_name(ct)
        mine = elements[elements["cell_type"] == ct]
        spec = mine[mine["specific"].astype(bool)]
        top = float(np.nanmax(np.abs(mine["mean_activity"]))) if len(mine) else 0.0
        score = (1000 * np.clip(spec["mean_activity"] / top, 0, 1)).round() if top > 0 else 0
        bed = pd.DataFrame(
            {
                "chrom": spec["chrom"],
                "start": spec["start"],
                "end": spec["end"],
                "name": spec["genes"],
                "score": np.asarray(score, dtype=np.int64) if len(spec) else [],
                "strand": ".",
            }
        )
        _tsv(bed, out / f"{name}.cre.bed", header=False)
        mine = mine.assign(_o=mine["chrom"].map(order)).sort_values(["_o", "start"])
        runs = [
            (c, int(s), np.full(int(e - s), float(v)))
            for c, s, e, v in zip(
                mine["chrom"], mine["start"], mine["end"], mine["mean_activity"], strict=True
            )
        ]
        bw = out / f"{name}.activity.bw"
        write_bigwig(bw, chrom_sizes=chrom_sizes, tracks=_non_overlapping(runs))
        tracks.append((ct, bw.name))
    _tsv(pd.DataFrame(tracks, columns=["cell_type", "path"]), written["tracks"])
    return written


def _non_overlapping(runs: list[tuple[str, int, np.ndarray]]):
    """Sorted runs with overlaps resolved (a later run starts where the previous ended)."""
    last_chrom, last_end = None, -1
    for chrom, start, values in runs:
        if chrom != last_chrom:
            last_chrom, last_end = chrom, -1
        skip = max(0, last_end - start)
        if skip < values.size:
            yield chrom, start + skip, values[skip:]
            last_end = start + values.size
