"""GWAS-variant enrichment in cell-type-specific versus non-specific bulk-peak regions.

Universe: the distinct GWAS variants (any trait) inside bulk peaks. For a cell type c,
"specific" variants lie in c's specific regions; the background is, by default, the
variants in no cell type's specific regions (``nonspecific``), or every variant not in
c's regions (``rest``). For each trait t and cell type c the 2 x 2 table is::

                      trait t    other traits
    c-specific          a             b
    background          c             d

tested with Fisher's exact test (`scipy.stats.fisher_exact`); the odds ratio is the
sample odds ratio ``a*d / (b*c)``, with a Woolf (log) confidence interval from
`statsmodels.stats.contingency_tables.Table2x2` (0.5 added to every cell when one is
zero). P-values are corrected with Benjamini-Hochberg across every tested trait x cell
type pair; tables with an empty row or column are reported but not tested.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.multitest import multipletests

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, check_output
from varinterp.io.intervals import read_bed
from varinterp.io.readers import read_csv
from varinterp.io.tables import read_table, resolve_path
from varinterp.regulatory._common import points_in_intervals, write_tsv

__all__ = [
    "EnrichmentResult",
    "enrich",
    "enrichment_tests",
    "plot_heatmap",
    "read_specific_regions",
    "read_variants",
]


@dataclass
class EnrichmentResult:
    """What `enrich` wrote and how many trait x cell type pairs were significant."""

    table: Path
    heatmap: Path | None
    n_tests: int
    n_significant: int


def read_variants(path: str | os.PathLike) -> pd.DataFrame:
    """GWAS variants from a TSV with a header: ``chrom``, ``pos`` (1-based) or ``start``
    (0-based), and ``trait``. Returns chrom, pos0 (int64, 0-based), trait."""
    path = Path(path)
    table = read_table(path, required=("chrom", "trait"), what="variant table")
    if "pos" in table.columns:
        pos, base = table["pos"], 1
    elif "start" in table.columns:
        pos, base = table["start"], 0
    else:
        msg = f"variant table {path} needs a pos (1-based) or start (0-based) column"
        raise InputError(msg)
    values = pd.to_numeric(pos, errors="coerce")
    bad = values.isna() | (values < base)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"variant table {path}, row {row + 1}: position {pos.iloc[row]!r} is not valid"
        raise InputError(msg)
    out = pd.DataFrame(
        {
            "chrom": table["chrom"].astype(str),
            "pos0": values.astype(np.int64) - base,
            "trait": table["trait"].astype(str),
        }
    )
    out = out[out["trait"] != ""]
    if out.empty:
        msg = f"variant table {path} has no variant with a trait"
        raise InputError(msg)
    return out.drop_duplicates().reset_index(drop=True)


def read_specific_regions(path: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """Specific regions per cell type, from ``elements.tsv`` of ``elements call`` (rows with
    ``specific`` true) or from a TSV listing ``cell_type`` and ``bed`` paths."""
    path = Path(path)
    what = "elements table"
    head = read_csv(path, what, sep="\t", nrows=0).columns
    if "specific" in head:
        table = read_csv(path, what, sep="\t", dtype={"chrom": str})
        need = {"chrom", "start", "end", "cell_type", "specific"}
        if not need <= set(table.columns):
            msg = f"{path} lacks {', '.join(sorted(need - set(table.columns)))}"
            raise InputError(msg)
        spec = table["specific"].astype(str).str.lower().isin(["true", "1"])
        return {
            str(ct): grp.loc[spec.loc[grp.index], ["chrom", "start", "end"]]
            for ct, grp in table.groupby("cell_type", sort=False)
        }
    listing = read_table(path, required=("cell_type", "bed"), what="specific-region list")
    return {
        row["cell_type"]: read_bed(resolve_path(row["bed"], path))[["chrom", "start", "end"]]
        for _, row in listing.iterrows()
    }


def _inside(variants: pd.DataFrame, regions: pd.DataFrame) -> np.ndarray:
    if regions.empty:
        return np.zeros(len(variants), dtype=bool)
    return points_in_intervals(
        variants["chrom"].to_numpy(),
        variants["pos0"].to_numpy(),
        regions["chrom"].astype(str).to_numpy(),
        regions["start"].to_numpy(np.int64),
        regions["end"].to_numpy(np.int64),
    )


def enrichment_tests(
    variants: pd.DataFrame,
    peaks: pd.DataFrame,
    specific: dict[str, pd.DataFrame],
    *,
    background: str = "nonspecific",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per trait x cell type: a, b, c, d, odds_ratio, ci_low, ci_high, pvalue,
    qvalue, significant (q < `alpha`) and tested (both margins non-empty)."""
    if background not in ("nonspecific", "rest"):
        msg = f"background {background!r} must be nonspecific or rest"
        raise InputError(msg)
    if not specific:
        msg = "no cell type has a specific-region set; check the elements input"
        raise InputError(msg)
    sites = variants[["chrom", "pos0"]].drop_duplicates().reset_index(drop=True)
    sites = sites.loc[_inside(sites, peaks)].reset_index(drop=True)
    key = pd.MultiIndex.from_frame(sites)
    in_ct = {ct: _inside(sites, regs) for ct, regs in specific.items()}
    in_any = np.logical_or.reduce(list(in_ct.values()))
    traits = sorted(variants["trait"].unique())
    rows = []
    for trait in traits:
        tv = variants.loc[variants["trait"] == trait, ["chrom", "pos0"]]
        has_trait = key.isin(pd.MultiIndex.from_frame(tv))
        for ct, inside in in_ct.items():
            bg = ~in_any if background == "nonspecific" else ~inside
            a = int((inside & has_trait).sum())
            b = int((inside & ~has_trait).sum())
            c = int((bg & has_trait).sum())
            d = int((bg & ~has_trait).sum())
            table = np.array([[a, b], [c, d]])
            tested = bool(table.sum(axis=0).all() and table.sum(axis=1).all())
            if tested:
                odds, p = fisher_exact(table, alternative=alternative)
                low, high = Table2x2(table, shift_zeros=True).oddsratio_confint(alpha=0.05)
            else:
                odds, p, low, high = np.nan, np.nan, np.nan, np.nan
            rows.append((trait, ct, a, b, c, d, odds, low, high, p, tested))
    out = pd.DataFrame(
        rows,
        columns=[
            "trait", "cell_type", "a", "b", "c", "d",
            "odds_ratio", "ci_low", "ci_high", "pvalue", "tested",
        ],
    )  # fmt: skip
    out["qvalue"] = np.nan
    if out["tested"].any():
        out.loc[out["tested"], "qvalue"] = multipletests(
            out.loc[out["tested"], "pvalue"].to_numpy(), method="fdr_bh"
        )[1]
    out["significant"] = out["qvalue"] < alpha
    return out


def plot_heatmap(results: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Heatmap of log2 odds ratios (traits x cell types), '*' where significant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lor = results.pivot(index="trait", columns="cell_type", values="odds_ratio")
    sig = results.assign(_s=results["significant"].astype(float)).pivot(
        index="trait", columns="cell_type", values="_s"
    )
    with np.errstate(divide="ignore"):
        values = np.log2(lor.to_numpy(dtype=float))
    finite = np.isfinite(values)
    lim = max(1.0, float(np.abs(values[finite]).max())) if finite.any() else 1.0
    values = np.clip(values, -lim, lim)
    fig, ax = plt.subplots(
        figsize=(1.2 + 0.6 * lor.shape[1], 1.2 + 0.35 * lor.shape[0]), layout="constrained"
    )
    im = ax.imshow(values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(lor.shape[1]), lor.columns, rotation=45, ha="right")
    ax.set_yticks(range(lor.shape[0]), lor.index)
    for i, j in zip(*np.nonzero(sig.to_numpy(dtype=float) > 0.5), strict=True):
        ax.text(j, i, "*", ha="center", va="center")
    fig.colorbar(im, ax=ax, label="log2 odds ratio")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path


def enrich(
    *,
    variants: str | os.PathLike,
    peaks: str | os.PathLike,
    elements: str | os.PathLike,
    out: str | os.PathLike,
    heatmap: str | os.PathLike | None = None,
    background: str = "nonspecific",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> EnrichmentResult:
    """Run `enrichment_tests` on files; write the TSV `out` and optionally the heatmap."""
    check_output(out)
    if heatmap is not None:
        check_output(heatmap, option="--heatmap")
        if Path(heatmap).suffix.lower() not in (".png", ".pdf", ".svg"):
            msg = f"--heatmap {heatmap}: give a .png, .pdf or .svg file name"
            raise InputError(msg)
    result = enrichment_tests(
        read_variants(variants),
        read_bed(peaks),
        read_specific_regions(elements),
        background=background,
        alternative=alternative,
        alpha=alpha,
    )
    table = write_tsv(result, out)
    image = plot_heatmap(result, heatmap) if heatmap is not None else None
    return EnrichmentResult(
        table=table,
        heatmap=image,
        n_tests=int(result["tested"].sum()),
        n_significant=int(result["significant"].sum()),
    )
