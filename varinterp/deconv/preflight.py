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
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from varinterp.deconv.fragments import FragmentTable
from varinterp.errors import InputError
from varinterp.io.contigs import ContigMap
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


def region_counts(table: FragmentTable, regions: pd.DataFrame) -> sparse.csr_matrix:
    """Fragments overlapping each region, per cell -> ``(n_barcodes, n_regions)`` CSR int64.

    A fragment counts once for every region it overlaps by at least 1 bp (``bedtools
    coverage`` counts). Region contig names are harmonised onto the table's contigs.
    """
    names = ContigMap(table.contigs, source="the regions")
    index = {c: i for i, c in enumerate(table.contigs)}
    chrom = np.array([index[names(str(c))] for c in regions["chrom"]], dtype=np.int64)
    r_start = regions["start"].to_numpy(np.int64)
    r_end = regions["end"].to_numpy(np.int64)
    rows, cols = [], []
    frag_order = np.argsort(table.chrom, kind="stable")
    frag_chrom = table.chrom[frag_order]
    for c in np.unique(chrom):
        ridx = np.flatnonzero(chrom == c)
        ridx = ridx[np.argsort(r_start[ridx], kind="stable")]
        rs, re = r_start[ridx], r_end[ridx]
        reach = np.maximum.accumulate(re)
        lo_f, hi_f = np.searchsorted(frag_chrom, [c, c + 1])
        fidx = frag_order[lo_f:hi_f]
        fs, fe = table.start[fidx], table.end[fidx]
        lo = np.searchsorted(reach, fs, side="right")
        hi = np.searchsorted(rs, fe, side="left")
        n = np.clip(hi - lo, 0, None)
        if n.sum() == 0:
            continue
        which = np.repeat(np.arange(fidx.size), n)
        offset = np.arange(which.size) - np.repeat(np.cumsum(n) - n, n)
        reg = lo[which] + offset
        ok = re[reg] > fs[which]
        rows.append(table.cell[fidx[which[ok]]])
        cols.append(ridx[reg[ok]])
    shape = (table.barcodes.size, len(regions))
    if not rows:
        return sparse.csr_matrix(shape, dtype=np.int64)
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.coo_matrix((np.ones(r.size, np.int64), (r, c)), shape=shape).tocsr()


def pseudo_replicates(
    counts: sparse.csr_matrix,
    cell_totals: np.ndarray,
    groups: Sequence[np.ndarray],
    *,
    n_replicates: int = 5,
    seed: int = 0,
) -> np.ndarray:
    """CPM of random half-cell pseudo-replicates -> ``(K, n_replicates, n_regions) float64``.

    `counts` is ``(n_cells, n_regions)`` (see `region_counts`), `cell_totals` ``(n_cells,)``
    each cell's fragments, `groups` the cell indexes of each of the K cell types. Each
    replicate draws ``len(group) // 2`` cells without replacement from one seeded
    generator, cell types in order, replicates within.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((len(groups), n_replicates, counts.shape[1]), dtype=np.float64)
    for k, cells in enumerate(groups):
        size = max(len(cells) // 2, 1)
        for r in range(n_replicates):
            pick = np.sort(rng.choice(cells, size=size, replace=False))
            total = float(cell_totals[pick].sum())
            if total > 0:
                out[k, r] = np.asarray(counts[pick].sum(axis=0)).ravel() * (1e6 / total)
    return out


def signature_regions(
    cpm: np.ndarray,
    *,
    q_cutoff: float = 0.01,
    fc_cutoff: float = 2.0,
    max_per_type: int = 1000,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Signature regions from replicate CPMs ``(K, R, n)``.

    Returns ``(index (m,) int64`` signature regions in selection order, ``owner (m,) int64``
    the cell type that selected each, and a ``(K * n)``-row table of cell_type index,
    region, p, q, fc).
    """
    from scipy.stats import ttest_ind
    from statsmodels.stats.multitest import multipletests

    n_types, _, n = cpm.shape
    if n_types < 2:
        raise InputError("the preflight needs at least two cell types to find signatures")
    stats = []
    picks: list[np.ndarray] = []
    for k in range(n_types):
        g1 = cpm[k]
        g2 = np.concatenate([cpm[j] for j in range(n_types) if j != k])
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # constant regions: p = NaN -> 1
            p = ttest_ind(g1, g2, axis=0, equal_var=False, alternative="greater").pvalue
        p = np.nan_to_num(np.asarray(p, dtype=np.float64), nan=1.0)
        q = multipletests(p, method="fdr_bh")[1]
        fc = g1.mean(axis=0) / (g2.mean(axis=0) + 1e-8)
        ok = np.flatnonzero((q < q_cutoff) & (fc > fc_cutoff))
        picks.append(ok[np.argsort(-fc[ok], kind="stable")])
        stats.append(pd.DataFrame({"type": k, "region": np.arange(n), "p": p, "q": q, "fc": fc}))
    sizes = [len(p) for p in picks if len(p)]
    table = pd.concat(stats, ignore_index=True)
    if not sizes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), table
    top = min(max_per_type, min(sizes))
    seen: dict[int, int] = {}
    for k, pick in enumerate(picks):
        for i in pick[:top].tolist():
            seen.setdefault(i, k)
    index = np.fromiter(seen.keys(), dtype=np.int64, count=len(seen))
    owner = np.fromiter(seen.values(), dtype=np.int64, count=len(seen))
    return index, owner, table


def estimate_fractions(
    signatures: np.ndarray,
    bulk: np.ndarray,
    *,
    nu: float = 0.85,
    c: float = 1.0,
    standardize: bool = True,
) -> tuple[np.ndarray, float]:
    """nu-SVR fractions: ``signatures (m, K)``, ``bulk (m,)`` -> ``((K,) float64, R^2)``.

    Linear NuSVR coefficients clipped at 0 and normalised to sum 1 (all zeros when every
    coefficient is <= 0). With `standardize` (CIBERSORT's convention) the whole signature
    matrix is centred and scaled by one mean and one standard deviation, and the bulk by
    its own; one scalar for all of A keeps the ratios of the coefficients, and libsvm
    converges in milliseconds instead of minutes on raw counts. R^2 is the fit's ``score``.
    """
    from sklearn.svm import NuSVR

    x = np.asarray(signatures, np.float64)
    y = np.asarray(bulk, np.float64)
    if standardize:
        x = (x - x.mean()) / (x.std() or 1.0)
        y = (y - y.mean()) / (y.std() or 1.0)
    model = NuSVR(C=c, nu=nu, kernel="linear")
    model.fit(x, y)
    coef = np.clip(np.asarray(model.coef_, np.float64).ravel(), 0.0, None)
    total = coef.sum()
    fractions = coef / total if total > 0 else np.zeros_like(coef)
    return fractions, float(model.score(x, y))


def bulk_totals(
    regions: pd.DataFrame, bulk_pl: str | os.PathLike, bulk_mn: str | os.PathLike | None
) -> np.ndarray:
    """Sum of |bulk| over both strands in each region -> ``(n_regions,) float64``."""
    from varinterp.io.bigwig import BigWig

    files = [BigWig(bulk_pl, absolute=True)]
    if bulk_mn is not None:
        files.append(BigWig(bulk_mn, absolute=True))
    try:
        out = np.zeros(len(regions), dtype=np.float64)
        for i, (c, s, e) in enumerate(regions[["chrom", "start", "end"]].itertuples(index=False)):
            out[i] = sum(
                float(f.values(str(c), int(s), int(e)).sum(dtype=np.float64)) for f in files
            )
    finally:
        for f in files:
            f.close()
    return out


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


def write_preflight(result: PreflightResult, folder: str | os.PathLike, *, cutoff: float) -> None:
    """Write preflight.tsv, signatures.tsv, barcodes.tsv and signatures.png into `folder`."""
    from matplotlib.figure import Figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(folder / "preflight.tsv", sep="\t", index=False, float_format="%.6g")
    result.signatures.to_csv(folder / "signatures.tsv", sep="\t", index=False, float_format="%.6g")
    result.barcodes.to_csv(folder / "barcodes.tsv", sep="\t", index=False, header=False)
    tested = [c for c, f in result.fractions.items() if np.isfinite(f)]
    fig = Figure(figsize=(9, 4.5))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    mat = np.log1p(result.signatures[tested].to_numpy(np.float64))
    im = ax1.imshow(mat, aspect="auto", interpolation="none", cmap="viridis")
    ax1.set_xticks(range(len(tested)), tested, rotation=45, ha="right")
    ax1.set_ylabel(f"signature regions (n={len(mat)})")
    ax1.set_title("log1p mean CPM")
    fig.colorbar(im, ax=ax1)
    ax2.bar(range(len(tested)), [result.fractions[c] for c in tested], color="0.4")
    ax2.axhline(cutoff, color="red", lw=1, ls="--", label=f"cutoff {cutoff:g}")
    ax2.set_xticks(range(len(tested)), tested, rotation=45, ha="right")
    ax2.set_ylabel("estimated fraction (nu-SVR)")
    ax2.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(folder / "signatures.png", dpi=120)


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
    from varinterp.deconv.fragments import (
        load_fragments,
        read_barcodes,
        read_peaks,
        resolve_chrom_sizes,
    )
    from varinterp.io.atomic import atomic_dir

    sizes = resolve_chrom_sizes(chrom_sizes, bulk_pl)
    table = load_fragments(
        fragments, barcodes=read_barcodes(barcodes), chrom_sizes=sizes, strict=strict
    )
    result = run_preflight(
        table,
        regions=read_peaks(peaks),
        bulk_pl=bulk_pl,
        bulk_mn=bulk_mn,
        cutoff=cutoff,
        on_progress=on_progress,
        **settings,
    )
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_preflight(result, tmp, cutoff=cutoff)
    return result
