"""Preflight check: which reference cell types are present in the bulk, and how much.

Steps (DeepDETAILS Methods, "Preflight check"; CIBERSORT-style signatures and nu-SVR):

1. Cell types with fewer than `min_cells` cells (barcodes with a fragment) are left out.
2. Per cell type, `n_replicates` pseudo-replicates, each the fragments of a random half
   of its cells (``n_cells // 2``, without replacement, seeded). A replicate's value at a
   region is the number of its fragments overlapping the region, in counts per million
   of the replicate's fragments (CPM).
3. Per cell type, a one-sided Welch t-test of its replicates against all other cell types'
   replicates (``scipy.stats.ttest_ind(equal_var=False, alternative="greater")``; NaN p =
   1), Benjamini-Hochberg over regions (``statsmodels multipletests(method="fdr_bh")``),
   fold change = mean(type) / (mean(others) + 1e-8). Candidates: q < 0.01 and fold change
   > 2, by fold change descending; each type contributes its top ``min(max_per_type,
   smallest non-empty candidate list)``; the union is the signature set.
4. ``A`` = mean CPM over replicates at the signatures ``(n_sig, K)``; ``b`` = sum of |bulk|
   over both strands in each signature region. ``NuSVR(C=1, nu=0.85, kernel="linear")``
   is fitted on ``b ~ A``; the fractions are its coefficients clipped at 0 and divided by
   their sum (the CIBERSORT convention; no intercept in the fractions). Unlike DeepDETAILS,
   which fits raw values, A and b are first standardised as CIBERSORT does (one scalar
   mean / sd for all of A, one for b), which keeps coefficient ratios and lets libsvm
   converge (see `estimate_fractions`).
5. Cell types with a fraction below `cutoff` (0.035) are dropped, or merged into one
   cell type named `merge_into` (e.g. ``others``) when it is given.

The steps live in their own modules; this one runs them (`run_preflight`,
`preflight_files`) and re-exports every public name, so ``from
varinterp.deconv.preflight import ...`` keeps working:

- `varinterp.deconv.preflight_signatures`: steps 1-3 (`region_counts`,
  `pseudo_replicates`, `signature_regions`).
- `varinterp.deconv.preflight_fractions`: step 4 (`bulk_totals`, `estimate_fractions`).
- `varinterp.deconv.preflight_decision`: step 5 (`apply_preflight`, `PreflightResult`).
- `varinterp.deconv.preflight_report`: the output files (`write_preflight`).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from varinterp.deconv.preflight_decision import PreflightResult, apply_preflight
from varinterp.deconv.preflight_fractions import bulk_totals, estimate_fractions
from varinterp.deconv.preflight_report import write_preflight
from varinterp.deconv.preflight_signatures import (
    pseudo_replicates,
    region_counts,
    signature_regions,
)
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.chrom_sizes import resolve_chrom_sizes
from varinterp.io.fragments import FragmentTable, load_fragments, read_barcodes
from varinterp.io.intervals import read_peaks, require_within_contigs
from varinterp.progress import ProgressCallback, report

__all__ = [
    "PreflightResult",
    "apply_preflight",
    "bulk_totals",
    "estimate_fractions",
    "preflight_files",
    "pseudo_replicates",
    "region_counts",
    "run_preflight",
    "signature_regions",
    "write_preflight",
]


def run_preflight(
    table: FragmentTable,
    *,
    regions: pd.DataFrame,
    bulk_pl: str | os.PathLike,
    bulk_mn: str | os.PathLike | None = None,
    seed: int = 0,
    n_replicates: int = 5,
    q_cutoff: float = 0.01,
    fc_cutoff: float = 2.0,
    max_per_type: int = 1000,
    nu: float = 0.85,
    cutoff: float = 0.035,
    min_cells: int = 20,
    merge_into: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> PreflightResult:
    """Run the preflight (module docstring) on loaded fragments and ATAC `regions`."""
    regions = regions[["chrom", "start", "end"]].drop_duplicates().reset_index(drop=True)
    if regions.empty:
        raise InputError("the preflight needs accessible regions (ATAC peaks); the BED is empty")
    seen = np.zeros(table.barcodes.size, dtype=bool)
    seen[table.cell] = True
    n_cells = np.bincount(table.cell_type[seen], minlength=len(table.cell_types))
    tested = [k for k in range(len(table.cell_types)) if n_cells[k] >= min_cells]
    if len(tested) < 2:
        msg = (
            f"the preflight needs two cell types with >= {min_cells} cells; found "
            f"{len(tested)}; add cells or use --skip-preflight"
        )
        raise InputError(msg)
    report(on_progress, 0, 4)
    counts = region_counts(table, regions)
    totals = np.bincount(table.cell, minlength=table.barcodes.size).astype(np.float64)
    groups = [np.flatnonzero(seen & (table.cell_type == k)) for k in tested]
    report(on_progress, 1, 4)
    cpm = pseudo_replicates(counts, totals, groups, n_replicates=n_replicates, seed=seed)
    report(on_progress, 2, 4)
    index, owner, stats = signature_regions(
        cpm, q_cutoff=q_cutoff, fc_cutoff=fc_cutoff, max_per_type=max_per_type
    )
    names = [table.cell_types[k] for k in tested]
    if index.size == 0:
        msg = (
            f"no signature regions (q < {q_cutoff}, fold change > {fc_cutoff}) for any cell "
            "type; give more peaks or cells, or use --skip-preflight"
        )
        raise InputError(msg)
    notes = [
        f"no signature regions for cell type {names[k]!r}"
        for k in range(len(tested))
        if not (owner == k).any()
    ]
    sig_regions = regions.iloc[index].reset_index(drop=True)
    mean_cpm = cpm.mean(axis=1)[:, index].T
    b = bulk_totals(sig_regions, bulk_pl, bulk_mn)
    report(on_progress, 3, 4)
    fractions, r2 = estimate_fractions(mean_cpm, b, nu=nu)
    report(on_progress, 4, 4)
    stat_idx = owner * len(regions) + index
    sig = sig_regions.copy()
    sig["signature_of"] = [names[k] for k in owner]
    sig["fold_change"] = stats["fc"].to_numpy()[stat_idx]
    sig["q"] = stats["q"].to_numpy()[stat_idx]
    for j, name in enumerate(names):
        sig[name] = mean_cpm[:, j]
    sig["bulk"] = b
    frac = dict(zip(names, fractions.tolist(), strict=True))
    return apply_preflight(
        table,
        fractions=frac,
        n_cells=n_cells,
        cutoff=cutoff,
        merge_into=merge_into,
        signatures=sig,
        r2=r2,
        per_type=int(min(max_per_type, np.bincount(owner).max())),
        warnings=notes,
    )


def preflight_files(
    *,
    fragments: str | os.PathLike,
    barcodes: str | os.PathLike,
    peaks: str | os.PathLike,
    bulk_pl: str | os.PathLike,
    out: str | os.PathLike,
    bulk_mn: str | os.PathLike | None = None,
    chrom_sizes: str | os.PathLike | None = None,
    strict: bool = False,
    cutoff: float = 0.035,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    **settings,
) -> PreflightResult:
    """Read the inputs, `run_preflight` (settings passed on), write its files into `out`.

    Contig lengths come from `chrom_sizes` or the bulk bigWig's header.
    """
    check_output(out)
    sizes = resolve_chrom_sizes(chrom_sizes, bulk_pl)
    table = load_fragments(
        fragments, barcodes=read_barcodes(barcodes), chrom_sizes=sizes, strict=strict
    )
    regions = read_peaks(peaks)
    against = f"chrom sizes {chrom_sizes}" if chrom_sizes is not None else f"bigWig {bulk_pl}"
    require_within_contigs(
        regions, sizes, source=f"peaks BED {peaks}", against=against, known_contigs=True
    )
    result = run_preflight(
        table,
        regions=regions,
        bulk_pl=bulk_pl,
        bulk_mn=bulk_mn,
        cutoff=cutoff,
        on_progress=on_progress,
        **settings,
    )
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_preflight(result, tmp, cutoff=cutoff)
    return result
