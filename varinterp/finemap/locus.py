"""One locus made ready for fine-mapping: read, aligned to LD, LD checked, once.

`prepare_locus` does everything that does not depend on the fine-mapping method: it reads
the summary statistics of the region, aligns them to the LD panel (`align_to_panel`),
computes the LD matrix ``R`` of the kept variants (from PLINK genotypes or a matrix file),
checks that ``R`` is a PSD correlation matrix (`check_ld`), and, when asked, compares
every z with its expectation from the panel (`ld_diagnostics`), dropping the outliers on
request. `varinterp.finemap.run.fit_locus` then fits SuSiE-RSS or ABF from the same
`PreparedLocus`, so a genome-wide run reads the panel, builds ``R`` and runs the LD check
once per locus for both methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.finemap.align import align_to_panel
from varinterp.finemap.diagnostics import LdDiagnostics, ld_diagnostics
from varinterp.finemap.ld import MatrixLd, PlinkLd, check_ld, open_ld
from varinterp.finemap.sumstats import read_sumstats

__all__ = ["PreparedLocus", "check_options", "diagnostics_table", "in_region", "prepare_locus"]


@dataclass(frozen=True)
class PreparedLocus:
    """A locus ready to fit.

    ``ss``: the variants to fine-map (a `read_sumstats` table plus ``ld_flipped``), in
    the order of ``R`` (p, p) float64 (None without LD); ``sign`` (p,) float64 is -1
    where the panel counts the other allele (z and effects are reported as in the
    input); ``dropped``: variants left out, with a ``reason``; ``n``: the sample size
    used (None when unknown); ``info``: facts for ``run.json``; ``diagnostics`` and
    ``diagnostics_table``: the LD check (None when off or without LD).
    """

    ss: pd.DataFrame
    dropped: pd.DataFrame
    R: np.ndarray | None
    sign: np.ndarray
    n: float | None
    info: dict
    diagnostics: LdDiagnostics | None
    diagnostics_table: pd.DataFrame | None


def prepare_locus(
    *,
    sumstats: str | Path | pd.DataFrame,
    plink: str | Path | None = None,
    ld_matrix: str | Path | None = None,
    ld_variants: str | Path | None = None,
    region: str | None = None,
    n: float | None = None,
    prior_weight_column: str | None = None,
    columns: dict[str, str] | None = None,
    unmatched: str = "drop",
    ambiguous: str = "error",
    ld_fix: str = "refuse",
    ld_check: bool = True,
    drop_ld_outliers: bool = False,
    panel: PlinkLd | MatrixLd | None = None,
) -> PreparedLocus:
    """Read, align, compute and check LD for one locus (module docstring).

    Arguments as for `varinterp.finemap.run.finemap`; `panel`, an LD panel already opened
    by `open_ld` (used instead of `plink`/`ld_matrix`), spares reading its variants table
    again for every locus of a genome-wide run.
    """
    check_options(unmatched=unmatched, ambiguous=ambiguous, ld_fix=ld_fix)
    if isinstance(sumstats, pd.DataFrame):
        ss = in_region(sumstats, region)
    else:
        ss = read_sumstats(
            sumstats, region=region, columns=columns, prior_weight_column=prior_weight_column
        )
    n_input = len(ss)
    if n is None and ss["n"].notna().any():
        n = float(np.nanmedian(ss["n"].to_numpy()))
    info: dict = {"region": region, "n": n, "n_input_variants": n_input}
    R = None
    sign = np.ones(len(ss))
    dropped = ss.iloc[0:0].assign(reason=pd.Series(dtype=str))
    if panel is not None or plink is not None or ld_matrix is not None:
        if panel is None:
            panel = open_ld(plink=plink, matrix=ld_matrix, variants=ld_variants)
        # only panel rows at a position of the locus can match: align against those
        near = np.flatnonzero(np.isin(panel.variants["pos"].to_numpy(), ss["pos"].to_numpy()))
        al = align_to_panel(
            ss,
            panel.variants.iloc[near].reset_index(drop=True),
            unmatched=unmatched,
            ambiguous=ambiguous,
        )
        ss, dropped = al.kept, al.dropped
        if ss.empty:
            raise InputError(
                f"none of the {n_input} variants matched the LD panel; check contig names, "
                "positions (1-based) and the genome build"
            )
        R, poly = panel.matrix(near[al.panel_index])
        if not poly.all():
            mono = ss.loc[~poly].assign(reason="monomorphic_in_ld_panel")
            dropped = pd.concat([dropped, mono])
            ss = ss.loc[poly].reset_index(drop=True)
            R = R[np.ix_(poly, poly)]
        R, chk = check_ld(R, fix=ld_fix, source=f"LD from {panel.path}")
        lam = chk.min_eigenvalue
        info["ld_min_eigenvalue"] = None if np.isnan(lam) else lam
        info["ld_shrinkage"] = chk.shrinkage
        sign = np.where(ss["ld_flipped"].to_numpy(), -1.0, 1.0)
    else:
        ss = ss.assign(ld_flipped=False)
    diag: LdDiagnostics | None = None
    diag_table = None
    if R is not None and ld_check and len(ss) >= 2:
        diag = ld_diagnostics(ss["z"].to_numpy(), R, n)
        diag_table = diagnostics_table(ss, sign, diag)
        info["ld_s"] = diag.s
        info["n_ld_outliers"] = diag.n_outliers
        info["ld_outliers_dropped"] = bool(drop_ld_outliers and diag.n_outliers)
        if drop_ld_outliers and diag.n_outliers:
            flag = diag.table["outlier"].to_numpy()
            if flag.all():
                raise InputError("every variant is an LD outlier; check the panel and alleles")
            dropped = pd.concat([dropped, ss.loc[flag].assign(reason="ld_outlier")])
            ss = ss.loc[~flag].reset_index(drop=True)
            R = R[np.ix_(~flag, ~flag)]
            sign = sign[~flag]
    info["n_dropped"] = len(dropped)
    info["n_finemapped"] = len(ss)
    info["n_flipped"] = int(ss["ld_flipped"].sum())
    return PreparedLocus(
        ss=ss,
        dropped=dropped,
        R=R,
        sign=sign,
        n=n,
        info=info,
        diagnostics=diag,
        diagnostics_table=diag_table,
    )


def check_options(*, unmatched: str, ambiguous: str, ld_fix: str) -> None:
    """Refuse unknown values of the alignment and LD-fix options (`InputError`)."""
    for name, value, allowed in (
        ("unmatched", unmatched, ("drop", "error")),
        ("ambiguous", ambiguous, ("drop", "error")),
        ("ld_fix", ld_fix, ("refuse", "regularise")),
    ):
        if value not in allowed:
            raise InputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def in_region(ss: pd.DataFrame, region: str | None) -> pd.DataFrame:
    """Rows of a `read_sumstats` table inside `region` (all when None)."""
    if region is None:
        return ss.reset_index(drop=True)
    from varinterp.finemap.sumstats import parse_region
    from varinterp.io.contigs import spellings

    chrom, start0, end0 = parse_region(region)
    keep = ss["chrom"].isin(set(spellings(chrom))) & (ss["pos0"] >= start0) & (ss["pos0"] < end0)
    if not keep.any():
        raise InputError(f"no summary statistics in region {region}")
    return ss.loc[keep].reset_index(drop=True)


def diagnostics_table(ss: pd.DataFrame, sign: np.ndarray, diag: LdDiagnostics) -> pd.DataFrame:
    """``ld_diagnostics.tsv``: the variant, its input z, then the checks in the panel's
    allele orientation (``z_panel`` adjusted for n, ``expected_z``, ...)."""
    t = diag.table
    return pd.DataFrame(
        {
            "chrom": ss["chrom"].to_numpy(),
            "pos": ss["pos"].to_numpy(),
            "ref": ss["ref"].to_numpy(),
            "alt": ss["alt"].to_numpy(),
            "variant_id": ss["variant_id"].to_numpy(),
            "z": ss["z"].to_numpy() * sign,
            "ld_flipped": ss["ld_flipped"].astype(bool).to_numpy(),
            "z_panel": t["z"].to_numpy(),
            "expected_z": t["condmean"].to_numpy(),
            "expected_var": t["condvar"].to_numpy(),
            "z_std_diff": t["z_std_diff"].to_numpy(),
            "logLR_flip": t["logLR"].to_numpy(),
            "outlier": t["outlier"].to_numpy(),
        }
    )
