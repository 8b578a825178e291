"""Preflight, steps 1-3: per-region counts, half-cell pseudo-replicates, signature regions.

- `region_counts`: fragments overlapping each region, per cell (``bedtools coverage``
  counts).
- `pseudo_replicates`: per cell type, replicates of a random half of its cells
  (``n_cells // 2``, without replacement, seeded), in CPM of the replicate's fragments.
- `signature_regions`: per cell type, a one-sided Welch t-test of its replicates against
  all other types' replicates, Benjamini-Hochberg q, fold change; the top candidates of
  every type form the signature set (see `varinterp.deconv.preflight`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from varinterp.errors import InputError
from varinterp.io.contigs import ContigMap
from varinterp.io.fragments import FragmentTable

__all__ = ["pseudo_replicates", "region_counts", "signature_regions"]


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
