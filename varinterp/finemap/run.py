"""Fine-map one locus end to end: read, align to LD, fit SuSiE-RSS or ABF, write tables.

Output folder (written atomically; see docs/finemap.md for every column):

* ``variants.tsv``: one row per fine-mapped variant, alleles and z as in the input;
* ``credible_sets.tsv``: one row per 95% and per 99% credible set;
* ``dropped.tsv``: variants left out, with the reason;
* ``ld_diagnostics.tsv`` and ``ld_diagnostics.png`` (with LD and ``ld_check``): each
  variant's z against its expectation from its LD neighbours, outliers flagged
  (`varinterp.finemap.diagnostics`);
* ``run.json``: parameters, counts, convergence and LD checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.finemap.abf import wakefield_abf
from varinterp.finemap.align import align_to_panel
from varinterp.finemap.credsets import CredibleSet, credible_sets
from varinterp.finemap.diagnostics import LdDiagnostics, ld_diagnostics, plot_ld_diagnostics
from varinterp.finemap.ld import check_ld, open_ld
from varinterp.finemap.sumstats import read_sumstats
from varinterp.finemap.susie import susie_rss
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback

__all__ = ["FinemapResult", "finemap"]

VARIANT_COLUMNS = [
    "chrom",
    "pos",
    "ref",
    "alt",
    "variant_id",
    "z",
    "p",
    "prior_weight",
    "pip",
    "cs95",
    "cs99",
    "alpha_max",
    "effect",
    "post_mean",
    "post_sd",
    "ld_flipped",
]
CS_COLUMNS = [
    "coverage",
    "cs_id",
    "cs_size",
    "cs_log10bf",
    "purity_min_abs_r",
    "purity_mean_abs_r",
    "cs_avg_r2",
    "cs_min_r2",
    "coverage_achieved",
    "effect",
    "lead_variant",
    "lead_chrom",
    "lead_pos",
    "lead_prob",
    "variants",
]


@dataclass(frozen=True)
class FinemapResult:
    """What `finemap` wrote: the tables (also on disk under ``out``) and run facts."""

    out: Path
    variants: pd.DataFrame
    credible_sets: pd.DataFrame
    dropped: pd.DataFrame
    info: dict


def _cs_of(sets: list[CredibleSet], p: int) -> np.ndarray:
    ids = np.zeros(p, dtype=np.int64)
    for cs in sorted(sets, key=lambda c: c.cs_id, reverse=True):
        ids[cs.variants] = cs.cs_id
    return ids


def _cs_table(sets: list[CredibleSet], table: pd.DataFrame) -> list[dict]:
    rows = []
    for cs in sets:
        lead = int(cs.variants[0])
        rows.append(
            {
                "coverage": cs.coverage,
                "cs_id": cs.cs_id,
                "cs_size": cs.size,
                "cs_log10bf": cs.log10bf,
                "purity_min_abs_r": cs.min_abs_r,
                "purity_mean_abs_r": cs.mean_abs_r,
                "cs_avg_r2": cs.avg_r2,
                "cs_min_r2": cs.min_r2,
                "coverage_achieved": cs.achieved,
                "effect": cs.effect + 1,
                "lead_variant": table["variant_id"].iloc[lead],
                "lead_chrom": table["chrom"].iloc[lead],
                "lead_pos": int(table["pos"].iloc[lead]),
                "lead_prob": float(cs.probs[0]),
                "variants": ",".join(table["variant_id"].iloc[cs.variants].tolist()),
            }
        )
    return rows


def finemap(
    *,
    sumstats: str | Path | pd.DataFrame,
    out: str | Path,
    method: str = "susie",
    plink: str | Path | None = None,
    ld_matrix: str | Path | None = None,
    ld_variants: str | Path | None = None,
    region: str | None = None,
    n: float | None = None,
    L: int = 10,
    prior_weight_column: str | None = None,
    columns: dict[str, str] | None = None,
    min_abs_corr: float = 0.5,
    estimate_residual_variance: bool = False,
    abf_prior_sd: float = 0.15,
    unmatched: str = "drop",
    ambiguous: str = "error",
    ld_fix: str = "refuse",
    max_iter: int = 100,
    ld_check: bool = True,
    drop_ld_outliers: bool = False,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> FinemapResult:
    """Fine-map the variants of `sumstats` (in `region`) and write the tables to `out`.

    `method` is ``"susie"`` (SuSiE-RSS with `L` effects; needs LD) or ``"abf"``
    (Wakefield, one causal variant; needs beta and se, or z and n; LD optional, used for
    purity). `n` overrides the sample size column (its median is used otherwise).
    `sumstats` is a file, or a table already read by
    `varinterp.finemap.sumstats.read_sumstats`. With LD, `ld_check` compares every z
    with its expectation from the LD panel first (`ld_diagnostics`); `drop_ld_outliers`
    then leaves the flagged variants out (reason ``ld_outlier`` in ``dropped.tsv``).
    """
    check_output(out)
    if method not in ("susie", "abf"):
        raise InputError(f"method must be 'susie' or 'abf', got {method!r}")
    for name, value, allowed in (
        ("unmatched", unmatched, ("drop", "error")),
        ("ambiguous", ambiguous, ("drop", "error")),
        ("ld_fix", ld_fix, ("refuse", "regularise")),
    ):
        if value not in allowed:
            raise InputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if isinstance(sumstats, pd.DataFrame):
        ss = _in_region(sumstats, region)
    else:
        ss = read_sumstats(
            sumstats, region=region, columns=columns, prior_weight_column=prior_weight_column
        )
    n_input = len(ss)
    if n is None and ss["n"].notna().any():
        n = float(np.nanmedian(ss["n"].to_numpy()))
    info: dict = {"method": method, "region": region, "n": n, "n_input_variants": n_input}
    has_ld = plink is not None or ld_matrix is not None
    if method == "susie" and not has_ld:
        raise InputError("SuSiE needs LD: pass --plink PREFIX or --ld-matrix with --ld-variants")
    R = None
    sign = np.ones(len(ss))
    dropped = ss.iloc[0:0].assign(reason=pd.Series(dtype=str))
    if has_ld:
        panel = open_ld(plink=plink, matrix=ld_matrix, variants=ld_variants)
        al = align_to_panel(ss, panel.variants, unmatched=unmatched, ambiguous=ambiguous)
        ss, dropped = al.kept, al.dropped
        if ss.empty:
            raise InputError(
                f"none of the {n_input} variants matched the LD panel; check contig names, "
                "positions (1-based) and the genome build"
            )
        R, poly = panel.matrix(al.panel_index)
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
        diag_table = _diagnostics_table(ss, sign, diag)
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
    p = len(ss)
    weights = ss["prior_weight"].to_numpy() if prior_weight_column else None
    z = ss["z"].to_numpy()

    if method == "susie":
        fit = susie_rss(
            z=z,
            R=R,
            n=n,
            L=L,
            prior_weights=weights,
            estimate_residual_variance=estimate_residual_variance,
            max_iter=max_iter,
            on_progress=on_progress,
        )
        pip = fit.pip
        act = fit.active
        alpha_act = np.where(act[:, None], fit.alpha, 0.0)
        effect = np.argmax(alpha_act, axis=0) + 1
        alpha_max = alpha_act.max(axis=0)
        mean, sd = fit.posterior_mean, fit.posterior_sd
        sets = {
            cov: credible_sets(
                fit.alpha, coverage=cov, R=R, min_abs_corr=min_abs_corr, lbf=fit.lbf, active=act
            )
            for cov in (0.95, 0.99)
        }
        # sets left out for purity, so a report can say why 95% and 99% counts differ
        info["min_abs_corr"] = min_abs_corr
        unfiltered = {
            cov: credible_sets(
                fit.alpha, coverage=cov, R=R, min_abs_corr=0.0, lbf=fit.lbf, active=act
            )
            for cov in (0.95, 0.99)
        }
        info["cs_dropped_for_purity"] = {
            str(cov): [
                {"effect": int(c.effect) + 1, "size": len(c.variants), "min_abs_r": c.min_abs_r}
                for c in unfiltered[cov]
                if R is not None and c.min_abs_r < min_abs_corr
            ]
            for cov in (0.95, 0.99)
        }
        info.update(
            L=L,
            converged=fit.converged,
            n_iter=fit.n_iter,
            elbo=float(fit.elbo[-1]),
            residual_variance=fit.residual_variance,
            prior_variance=fit.prior_variance.tolist(),
            effect_scale="trait SD per genotype SD" if n is not None else "z scale",
        )
    else:
        beta, se = ss["beta"].to_numpy(), ss["se"].to_numpy()
        if np.isnan(beta).any() or np.isnan(se).any():
            if n is None:
                raise InputError("ABF needs beta and se, or z and the sample size (--n)")
            beta, se = z / np.sqrt(n), np.full(p, 1.0 / np.sqrt(n))
            info["effect_scale"] = "trait SD per genotype SD (from z and n)"
        else:
            info["effect_scale"] = "input beta units"
        abf = wakefield_abf(beta=beta, se=se, prior_sd=abf_prior_sd, prior_weights=weights)
        pip, alpha_max, effect = abf.pip, abf.pip, np.ones(p, dtype=np.int64)
        mean, sd = abf.posterior_mean, abf.posterior_sd
        sets = {
            cov: credible_sets(
                pip[None, :],
                coverage=cov,
                R=R,
                min_abs_corr=0.0,
                lbf=np.array([abf.lbf]),
            )
            for cov in (0.95, 0.99)
        }
        info.update(abf_prior_sd=abf_prior_sd, log10bf=abf.lbf / np.log(10))
    info["n_cs95"] = len(sets[0.95])
    info["n_cs99"] = len(sets[0.99])

    var = pd.DataFrame(
        {
            "chrom": ss["chrom"],
            "pos": ss["pos"],
            "ref": ss["ref"],
            "alt": ss["alt"],
            "variant_id": ss["variant_id"],
            "z": z * sign,
            "p": ss["p"],
            "prior_weight": (weights / weights.sum()) if weights is not None else 1.0 / p,
            "pip": pip,
            "cs95": _cs_of(sets[0.95], p),
            "cs99": _cs_of(sets[0.99], p),
            "alpha_max": alpha_max,
            "effect": effect,
            "post_mean": mean * sign,
            "post_sd": sd,
            "ld_flipped": ss["ld_flipped"].astype(bool),
        }
    )[VARIANT_COLUMNS]
    cs_rows = _cs_table(sets[0.95], ss) + _cs_table(sets[0.99], ss)
    cs_tab = pd.DataFrame(cs_rows, columns=CS_COLUMNS)
    drop_tab = dropped[["chrom", "pos", "ref", "alt", "variant_id", "z", "reason"]]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        var.to_csv(tmp / "variants.tsv", sep="\t", index=False, float_format="%.6g")
        cs_tab.to_csv(tmp / "credible_sets.tsv", sep="\t", index=False, float_format="%.6g")
        drop_tab.to_csv(tmp / "dropped.tsv", sep="\t", index=False, float_format="%.6g")
        (tmp / "run.json").write_text(json.dumps(info, indent=2, default=_jsonable) + "\n")
        if diag is not None:
            diag_table.to_csv(
                tmp / "ld_diagnostics.tsv", sep="\t", index=False, float_format="%.6g"
            )
            plot_ld_diagnostics(
                diag, tmp / "ld_diagnostics.png", labels=diag_table["variant_id"].tolist()
            )
    return FinemapResult(out=out, variants=var, credible_sets=cs_tab, dropped=drop_tab, info=info)


def _in_region(ss: pd.DataFrame, region: str | None) -> pd.DataFrame:
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


def _diagnostics_table(ss: pd.DataFrame, sign: np.ndarray, diag: LdDiagnostics) -> pd.DataFrame:
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


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    return str(x)
