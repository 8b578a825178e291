"""Matching summary statistics to an LD panel, allele by allele.

Variants are matched on contig (``chr1`` and ``1`` are the same) and 1-based position,
then on alleles:

* same ref/alt: used as is;
* ref and alt swapped: used, with the sign of z (and beta) flipped so that the effect
  refers to the panel's alt allele (``ld_flipped`` is true in the output);
* alleles on the other strand (A<->T, C<->G), same or swapped: used likewise, unless the
  variant is strand-ambiguous (A/T or C/G), where a strand flip cannot be told from a
  swap: that is refused with a message (or dropped with ``ambiguous="drop"``);
* a variant absent from the panel, or whose alleles do not match, is dropped (reason in
  the dropped table) or, with ``unmatched="error"``, refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.contigs import spellings

__all__ = ["Alignment", "align_to_panel"]

_COMP = str.maketrans("ACGT", "TGCA")


@dataclass(frozen=True)
class Alignment:
    """Result of `align_to_panel`.

    ``kept`` is the summary-statistics table restricted to matched variants (input order)
    with ``z`` (and ``beta``) on the panel's alt allele and a bool column ``ld_flipped``;
    ``panel_index`` ``(k,) int64`` gives each kept variant's row in the panel; ``dropped``
    has the left-out variants with a ``reason`` column.
    """

    kept: pd.DataFrame
    panel_index: np.ndarray
    dropped: pd.DataFrame


def _ambiguous(a: str, b: str) -> bool:
    return a.translate(_COMP) == b


def align_to_panel(
    sumstats: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    unmatched: str = "drop",
    ambiguous: str = "error",
) -> Alignment:
    """Match `sumstats` rows to `panel` rows (both with chrom, pos, ref, alt)."""
    for name, value in (("unmatched", unmatched), ("ambiguous", ambiguous)):
        if value not in ("drop", "error"):
            raise InputError(f"{name} must be 'drop' or 'error', got {value!r}")
    lookup: dict[tuple[str, int], list[int]] = {}
    pchrom = panel["chrom"].to_numpy()
    ppos = panel["pos"].to_numpy()
    for i, (c, p) in enumerate(zip(pchrom, ppos, strict=True)):
        lookup.setdefault((str(c), int(p)), []).append(i)
    pref = panel["ref"].to_numpy()
    palt = panel["alt"].to_numpy()
    chrom_cache: dict[str, list[str]] = {}
    idx = np.full(len(sumstats), -1, dtype=np.int64)
    sign = np.ones(len(sumstats))
    reasons = np.full(len(sumstats), "", dtype=object)
    for k, (c, p, ref, alt) in enumerate(
        zip(sumstats["chrom"], sumstats["pos"], sumstats["ref"], sumstats["alt"], strict=True)
    ):
        names = chrom_cache.setdefault(c, spellings(str(c)))
        cands = next((lookup[(n, int(p))] for n in names if (n, int(p)) in lookup), None)
        if cands is None:
            reasons[k] = "absent_from_ld_panel"
            continue
        reason = "allele_mismatch"
        for j in cands:
            r2, a2 = pref[j], palt[j]
            if (ref, alt) == (r2, a2):
                idx[k], sign[k] = j, 1.0
                break
            if (ref, alt) == (a2, r2):
                if _ambiguous(ref, alt):
                    reason = "strand_ambiguous"
                    continue
                idx[k], sign[k] = j, -1.0
                break
            cref, calt = ref.translate(_COMP), alt.translate(_COMP)
            if (cref, calt) in ((r2, a2), (a2, r2)) and not _ambiguous(ref, alt):
                idx[k], sign[k] = j, 1.0 if (cref, calt) == (r2, a2) else -1.0
                break
        if idx[k] < 0:
            reasons[k] = reason
    amb = reasons == "strand_ambiguous"
    if amb.any() and ambiguous == "error":
        first = sumstats.loc[amb, "variant_id"].iloc[0]
        raise InputError(
            f"{int(amb.sum())} strand-ambiguous variant(s) (A/T or C/G) have ref/alt swapped "
            f"against the LD panel, first {first}: a swap cannot be told from a strand flip; "
            "fix their alleles, remove them, or pass --ambiguous drop"
        )
    miss = (reasons != "") & ~amb
    if miss.any() and unmatched == "error":
        k = int(np.flatnonzero(miss)[0])
        raise InputError(
            f"{int(miss.sum())} variant(s) could not be matched to the LD panel, first "
            f"{sumstats['variant_id'].iloc[k]} ({reasons[k]}); fix the panel or pass "
            "--unmatched drop"
        )
    keep = idx >= 0
    kept = sumstats.loc[keep].copy()
    kept["z"] = kept["z"] * sign[keep]
    if "beta" in kept:
        kept["beta"] = kept["beta"] * sign[keep]
    kept["ld_flipped"] = sign[keep] < 0
    dropped = sumstats.loc[~keep].copy()
    dropped["reason"] = reasons[~keep]
    pidx = idx[keep]
    if len(np.unique(pidx)) != len(pidx):
        raise InputError("two summary-statistics rows match the same LD panel variant")
    return Alignment(kept=kept.reset_index(drop=True), panel_index=pidx, dropped=dropped)
