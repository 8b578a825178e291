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
from varinterp.finemap.credsets import CredibleSet, credible_sets
from varinterp.finemap.diagnostics import plot_ld_diagnostics
from varinterp.finemap.locus import PreparedLocus, check_options, prepare_locus
from varinterp.finemap.susie import susie_rss
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback

__all__ = ["FinemapResult", "finemap", "fit_locus", "write_locus"]

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
    The steps are `varinterp.finemap.locus.prepare_locus`, `fit_locus` and `write_locus`.
    """
    check_output(out)
    _check_method(method)
    check_options(unmatched=unmatched, ambiguous=ambiguous, ld_fix=ld_fix)
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    locus = prepare_locus(
        sumstats=sumstats,
        plink=plink,
        ld_matrix=ld_matrix,
        ld_variants=ld_variants,
        region=region,
        n=n,
        prior_weight_column=prior_weight_column,
        columns=columns,
        unmatched=unmatched,
        ambiguous=ambiguous,
        ld_fix=ld_fix,
        ld_check=ld_check,
        drop_ld_outliers=drop_ld_outliers,
    )
    res = fit_locus(
        locus,
        out=out,
        method=method,
        L=L,
        prior_weights=prior_weight_column is not None,
        min_abs_corr=min_abs_corr,
        estimate_residual_variance=estimate_residual_variance,
        abf_prior_sd=abf_prior_sd,
        max_iter=max_iter,
        on_progress=on_progress,
    )
    write_locus(res, locus, overwrite=overwrite)
    return res


def _check_method(method: str) -> None:
    if method not in ("susie", "abf"):
        raise InputError(f"method must be 'susie' or 'abf', got {method!r}")


def fit_locus(
    locus: PreparedLocus,
    *,
    out: str | Path,
    method: str = "susie",
    L: int = 10,
    prior_weights: bool = False,
    min_abs_corr: float = 0.5,
    estimate_residual_variance: bool = False,
    abf_prior_sd: float = 0.15,
    max_iter: int = 100,
    on_progress: ProgressCallback | None = None,
) -> FinemapResult:
    """Fit `method` to a `PreparedLocus`; -> the tables `write_locus` writes to `out`.

    `prior_weights` uses the locus's ``prior_weight`` column. Nothing is written here, so
    one prepared locus can be fitted by several methods without reading or checking its
    LD again.
    """
    _check_method(method)
    ss, R, sign, n = locus.ss, locus.R, locus.sign, locus.n
    if method == "susie" and R is None:
        raise InputError("SuSiE needs LD: pass --plink PREFIX or --ld-matrix with --ld-variants")
    info: dict = {"method": method, **locus.info}
    p = len(ss)
    weights = ss["prior_weight"].to_numpy() if prior_weights else None
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
    drop_tab = locus.dropped[["chrom", "pos", "ref", "alt", "variant_id", "z", "reason"]]
    return FinemapResult(
        out=Path(out), variants=var, credible_sets=cs_tab, dropped=drop_tab, info=info
    )


def write_locus(
    res: FinemapResult,
    locus: PreparedLocus,
    *,
    overwrite: bool = False,
    plot_cache: dict | None = None,
) -> Path:
    """Write a `fit_locus` result to ``res.out`` in one atomic step (module docstring).

    `plot_cache`, one dict kept across the methods of a locus, holds the LD check's PNG
    once drawn, so that it is drawn once per locus.
    """
    with atomic_dir(res.out, overwrite=overwrite) as tmp:
        res.variants.to_csv(tmp / "variants.tsv", sep="\t", index=False, float_format="%.6g")
        res.credible_sets.to_csv(
            tmp / "credible_sets.tsv", sep="\t", index=False, float_format="%.6g"
        )
        res.dropped.to_csv(tmp / "dropped.tsv", sep="\t", index=False, float_format="%.6g")
        (tmp / "run.json").write_text(json.dumps(res.info, indent=2, default=_jsonable) + "\n")
        diag, table = locus.diagnostics, locus.diagnostics_table
        if diag is not None:
            table.to_csv(tmp / "ld_diagnostics.tsv", sep="\t", index=False, float_format="%.6g")
            png = tmp / "ld_diagnostics.png"
            cache = {} if plot_cache is None else plot_cache
            if "png" in cache:
                png.write_bytes(cache["png"])
            else:
                plot_ld_diagnostics(diag, png, labels=table["variant_id"].tolist())
                cache["png"] = png.read_bytes()
    return res.out


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    return str(x)
