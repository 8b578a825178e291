"""The activity-by-contact (ABC) model: candidate pairs, contact, scores, thresholds.

For a gene g with TSS t and candidate elements e within `window` (|midpoint - t| <
5 Mb), ``ABC(e, g) = A_e * C_eg / sum_e' A_e' * C_e'g``; a self-promoter (a
``promoter``-class element within `tss_slop` of t) scores 1. ``powerlaw.Score`` uses the
power-law contact; ``ABC.Score`` uses Hi-C contact (scaled to the reference power law,
plus the pseudocount) when Hi-C is given, and equals ``powerlaw.Score`` otherwise.
Column names follow ABC's prediction tables so downstream tools read them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.regulatory.abc_contact import (
    GAMMA,
    GAMMA_REFERENCE,
    SCALE,
    ContactTable,
    powerlaw,
    reference_scale,
)

__all__ = [
    "THRESHOLDS",
    "AbcParams",
    "add_hic",
    "filter_links",
    "make_pairs",
    "prune_links",
    "scale_hic",
    "score_pairs",
    "threshold_from_table",
]

#: ABC's recommended thresholds, keyed by (accessibility, has H3K27ac, contact kind);
#: from the ABC repository's ``reference/abc_thresholds.tsv`` (MIT).
THRESHOLDS: dict[tuple[str, bool, str], float] = {
    ("DHS", True, "intact_hic"): 0.027,
    ("DHS", False, "intact_hic"): 0.024,
    ("DHS", True, "avg"): 0.016,
    ("DHS", True, "powerlaw"): 0.017,
    ("DHS", False, "avg"): 0.016,
    ("DHS", False, "powerlaw"): 0.016,
    ("ATAC", True, "intact_hic"): 0.025,
    ("ATAC", True, "avg"): 0.016,
    ("ATAC", True, "powerlaw"): 0.016,
    ("ATAC", False, "intact_hic"): 0.021,
    ("ATAC", False, "avg"): 0.012,
    ("ATAC", False, "powerlaw"): 0.013,
}


def threshold_from_table(accessibility: str, *, has_h3k27ac: bool, contact: str) -> float:
    """ABC's recommended score threshold for this kind of input (see `THRESHOLDS`)."""
    key = (
        accessibility.upper() if accessibility.upper() == "DHS" else "ATAC",
        has_h3k27ac,
        contact,
    )
    if key not in THRESHOLDS:
        msg = f"no ABC threshold for {key}; contact kind must be intact_hic, avg or powerlaw"
        raise InputError(msg)
    return THRESHOLDS[key]


@dataclass(frozen=True)
class AbcParams:
    """ABC settings (defaults are ABC's)."""

    window: int = 5_000_000
    tss_slop: int = 500
    gamma: float = GAMMA
    scale: float = SCALE
    gamma_reference: float = GAMMA_REFERENCE
    pseudocount_distance: int = 5000
    hic_resolution: int = 5000
    scale_hic_using_powerlaw: bool = True
    qc_threshold: float = 0.01


def make_pairs(
    elements: pd.DataFrame, genes: pd.DataFrame, activity: np.ndarray, params: AbcParams
) -> pd.DataFrame:
    """Every (element, gene) pair with |element midpoint - TSS| < window, with power law.

    `elements`: chrom, start, end, name, class (one row per candidate, index 0..n-1);
    `genes`: chrom, name, tss (``TargetGene`` names). Returns one row per pair with
    columns chr, start, end, name, class, activity_base, TargetGene, TargetGeneTSS,
    distance, isSelfPromoter, powerlaw_contact, powerlaw_contact_reference, plus the
    internal integer columns ``_element`` and ``_gene``.
    """
    mid = (elements["start"].to_numpy(np.float64) + elements["end"].to_numpy(np.float64)) / 2
    e_idx: list[np.ndarray] = []
    g_idx: list[np.ndarray] = []
    echrom = elements["chrom"].astype(str).to_numpy()
    gchrom = genes["chrom"].astype(str).to_numpy()
    tss_all = genes["tss"].to_numpy(np.float64)
    for chrom in np.unique(gchrom):
        sel = np.flatnonzero(echrom == chrom)
        if sel.size == 0:
            continue
        order = sel[np.argsort(mid[sel], kind="stable")]
        m = mid[order]
        for g in np.flatnonzero(gchrom == chrom):
            t = tss_all[g]
            lo = np.searchsorted(m, t - params.window, side="right")
            hi = np.searchsorted(m, t + params.window, side="left")
            if hi > lo:
                e_idx.append(order[lo:hi])
                g_idx.append(np.full(hi - lo, g, dtype=np.int64))
    ei = np.concatenate(e_idx) if e_idx else np.zeros(0, np.int64)
    gi = np.concatenate(g_idx) if g_idx else np.zeros(0, np.int64)
    tss = tss_all[gi]
    distance = np.abs(mid[ei] - tss)
    start = elements["start"].to_numpy(np.int64)[ei]
    end = elements["end"].to_numpy(np.int64)[ei]
    cls = elements["class"].to_numpy()[ei]
    pred = pd.DataFrame(
        {
            "chr": echrom[ei],
            "start": start,
            "end": end,
            "name": elements["name"].to_numpy()[ei],
            "class": cls,
            "activity_base": np.asarray(activity, dtype=np.float64)[ei],
            "TargetGene": genes["name"].to_numpy()[gi],
            "TargetGeneTSS": genes["tss"].to_numpy(np.int64)[gi],
            "distance": distance,
            "isSelfPromoter": (cls == "promoter")
            & (start - params.tss_slop < tss)
            & (end + params.tss_slop > tss),
            "_element": ei,
            "_gene": gi,
            "_midpoint": mid[ei],
        }
    )
    pred["powerlaw_contact"] = powerlaw(distance, gamma=params.gamma, scale=params.scale)
    pred["powerlaw_contact_reference"] = powerlaw(
        distance, gamma=params.gamma_reference, scale=reference_scale(params.gamma_reference)
    )
    return pred


def add_hic(
    pred: pd.DataFrame,
    tables: dict[str, ContactTable | None],
    params: AbcParams,
) -> pd.DataFrame:
    """Add Hi-C columns: hic_contact (QC'd, missing = 0), scaled, pseudocount, adjusted.

    `tables` maps chromosome -> its `ContactTable` (None: no Hi-C for that chromosome).
    Genes whose self-promoter contacts sum below ``params.qc_threshold`` take the power law
    (minimum distance = the Hi-C resolution) for all their pairs, as ABC does.
    """
    pred = pred.copy()
    contact = np.full(len(pred), np.nan)
    for chrom, rows in pred.groupby("chr", sort=False).indices.items():
        table = tables.get(chrom)
        if table is not None:
            contact[rows] = table.lookup(
                pred["_midpoint"].to_numpy()[rows], pred["TargetGeneTSS"].to_numpy()[rows]
            )
    pred["hic_contact"] = contact
    self_sum = (
        pred.loc[pred["isSelfPromoter"]].groupby("TargetGene")["hic_contact"].sum(min_count=0)
    )
    bad = pred["TargetGene"].isin(self_sum.index[self_sum < params.qc_threshold]).to_numpy()
    pred.loc[bad, "hic_contact"] = powerlaw(
        pred.loc[bad, "distance"].to_numpy(),
        gamma=params.gamma,
        scale=params.scale,
        min_distance=params.hic_resolution,
    )
    pred["hic_contact"] = pred["hic_contact"].fillna(0.0)
    return scale_hic(pred, params)


def scale_hic(pred: pd.DataFrame, params: AbcParams) -> pd.DataFrame:
    """From ``hic_contact`` add hic_contact_pl_scaled, hic_pseudocount and the adjusted sum.

    Scaled = contact x reference power law / power law (when
    ``params.scale_hic_using_powerlaw``); pseudocount = min(power law at the pair's distance,
    power law at ``params.pseudocount_distance``).
    """
    pred = pred.copy()
    if params.scale_hic_using_powerlaw:
        pred["hic_contact_pl_scaled"] = pred["hic_contact"] * (
            pred["powerlaw_contact_reference"] / pred["powerlaw_contact"]
        )
    else:
        pred["hic_contact_pl_scaled"] = pred["hic_contact"]
    floor = float(
        powerlaw(
            params.pseudocount_distance,
            gamma=params.gamma,
            scale=params.scale,
            min_distance=params.hic_resolution,
        )
    )
    pred["hic_pseudocount"] = np.minimum(pred["powerlaw_contact"].to_numpy(), floor)
    pred["hic_contact_pl_scaled_adj"] = pred["hic_contact_pl_scaled"] + pred["hic_pseudocount"]
    return pred


def _normalise(pred: pd.DataFrame, numerator: np.ndarray) -> np.ndarray:
    groups = pred.groupby(["TargetGene", "TargetGeneTSS"], sort=False).ngroup().to_numpy()
    total = np.bincount(groups, weights=numerator)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = numerator / total[groups]
    score[pred["isSelfPromoter"].to_numpy()] = 1.0
    return score


def score_pairs(pred: pd.DataFrame) -> pd.DataFrame:
    """Add ``powerlaw.Score(.Numerator)`` and ``ABC.Score(.Numerator)``.

    ABC uses ``hic_contact_pl_scaled_adj`` when present (see `add_hic`), else the power law.
    """
    pred = pred.copy()
    act = pred["activity_base"].to_numpy(np.float64)
    pl_num = act * pred["powerlaw_contact"].to_numpy()
    if "hic_contact_pl_scaled_adj" in pred.columns:
        abc_num = act * pred["hic_contact_pl_scaled_adj"].to_numpy()
    else:
        abc_num = pl_num
    pred["ABC.Score.Numerator"] = abc_num
    pred["ABC.Score"] = _normalise(pred, abc_num)
    pred["powerlaw.Score.Numerator"] = pl_num
    pred["powerlaw.Score"] = _normalise(pred, pl_num)
    return pred


def filter_links(
    pred: pd.DataFrame,
    *,
    threshold: float,
    score_column: str = "ABC.Score",
    include_self_promoters: bool = True,
) -> pd.DataFrame:
    """Pairs scoring above `threshold`; promoter elements are kept only as self-promoters."""
    keep = pred[score_column].to_numpy() > threshold
    not_promoter = pred["class"].to_numpy() != "promoter"
    if include_self_promoters:
        keep &= not_promoter | pred["isSelfPromoter"].to_numpy()
    else:
        keep &= not_promoter
    return pred.loc[keep]


def prune_links(pred: pd.DataFrame, *, initiation_cpm: np.ndarray, min_cpm: float) -> pd.DataFrame:
    """Drop links whose element has initiation signal below `min_cpm` CPM.

    `initiation_cpm` is ``(n_elements,) float64``, indexed by the pairs' ``_element``.
    Adds the column ``element_initiation_cpm``.
    """
    pred = pred.copy()
    pred["element_initiation_cpm"] = np.asarray(initiation_cpm)[pred["_element"].to_numpy()]
    return pred.loc[pred["element_initiation_cpm"] >= min_cpm]
