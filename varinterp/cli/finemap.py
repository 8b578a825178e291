"""`varinterp finemap`: statistical fine-mapping of one GWAS locus (SuSiE-RSS or ABF)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Threads, Verbose
from varinterp.errors import InputError

__all__ = ["finemap_command"]


class Method(StrEnum):
    susie = "susie"
    abf = "abf"


class Policy(StrEnum):
    drop = "drop"
    error = "error"


class LdFix(StrEnum):
    refuse = "refuse"
    regularise = "regularise"


def _parse_columns(spec: str | None) -> dict[str, str] | None:
    if not spec:
        return None
    out = {}
    for item in spec.split(","):
        role, sep, name = item.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise InputError(f"--columns item {item!r} is not ROLE=NAME (e.g. alt=A1,ref=A2)")
        out[role.strip().lower()] = name.strip()
    return out


def finemap_command(
    sumstats: Annotated[
        Path,
        typer.Option(
            "--sumstats",
            metavar="FILE",
            help="GWAS summary statistics, whitespace-separated (gzip ok): chrom, pos "
            "(1-based), ref, alt (effect allele), z or beta+se, optional n and id. "
            "Common names (CHR BP A1 A2 Z N SNP ...) are recognised.",
        ),
    ],
    out: OutDir,
    method: Annotated[
        Method,
        typer.Option("--method", help="susie (SuSiE-RSS, L effects) or abf (one causal)."),
    ] = Method.susie,
    plink: Annotated[
        Path | None,
        typer.Option(
            "--ld-plink",
            "--plink",
            metavar="PREFIX",
            help="LD panel as PLINK 1 genotypes: the prefix of .bed/.bim/.fam; the .bim "
            "5th column is taken as alt.",
        ),
    ] = None,
    ld_matrix: Annotated[
        Path | None,
        typer.Option(
            "--ld-matrix",
            metavar="FILE",
            help="LD correlation matrix (.npy, .npz, or whitespace text).",
        ),
    ] = None,
    ld_variants: Annotated[
        Path | None,
        typer.Option(
            "--ld-variants",
            metavar="FILE",
            help="Variants of --ld-matrix, same order: header with chrom pos ref alt, id optional.",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option("--region", metavar="CHROM:START-END", help="The locus, 1-based inclusive."),
    ] = None,
    n: Annotated[
        float | None,
        typer.Option("--n", help="GWAS sample size (default: median of the n column)."),
    ] = None,
    num_effects: Annotated[
        int, typer.Option("--max-causal", "-L", min=1, help="SuSiE: most causal effects (L).")
    ] = 10,
    prior_weights: Annotated[
        str | None,
        typer.Option(
            "--prior-weights",
            metavar="COLUMN",
            help="Column of per-variant prior weights (e.g. SNPVAR), normalised to sum 1.",
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="ROLE=NAME,...",
            help="Column names for roles, e.g. alt=A1,ref=A2,z=Z.",
        ),
    ] = None,
    min_abs_corr: Annotated[
        float,
        typer.Option("--min-abs-corr", help="SuSiE: smallest |r| within a credible set."),
    ] = 0.5,
    estimate_residual_variance: Annotated[
        bool,
        typer.Option(
            "--estimate-residual-variance/--fixed-residual-variance",
            help="SuSiE: estimate the residual variance (needs n) or keep it at 1.",
        ),
    ] = False,
    abf_prior_sd: Annotated[
        float, typer.Option("--abf-prior-sd", help="ABF: prior SD of the effect (W = sd^2).")
    ] = 0.15,
    unmatched: Annotated[
        Policy,
        typer.Option(
            "--unmatched",
            help="Variants absent from the LD panel or with other alleles: drop (listed in "
            "dropped.tsv) or error.",
        ),
    ] = Policy.drop,
    ambiguous: Annotated[
        Policy,
        typer.Option(
            "--ambiguous",
            help="A/T or C/G variants swapped against the panel: error or drop.",
        ),
    ] = Policy.error,
    ld_fix: Annotated[
        LdFix,
        typer.Option(
            "--ld-fix",
            help="LD not positive semi-definite: refuse, or regularise (shrink to identity).",
        ),
    ] = LdFix.refuse,
    max_iter: Annotated[int, typer.Option("--max-iter", min=1, help="SuSiE: max sweeps.")] = 100,
    ld_check: Annotated[
        bool,
        typer.Option(
            "--ld-check/--no-ld-check",
            help="Compare each z with its expectation from its LD neighbours (susieR's "
            "kriging_rss) and estimate s; writes ld_diagnostics.tsv and .png.",
        ),
    ] = True,
    drop_ld_outliers: Annotated[
        bool,
        typer.Option(
            "--drop-ld-outliers",
            help="Leave out the variants the LD check flags (likely allele flips or panel "
            "mismatch; listed in dropped.tsv as ld_outlier).",
        ),
    ] = False,
    genome_wide: Annotated[
        bool,
        typer.Option(
            "--genome-wide",
            help="Find independent lead variants (p < --p-threshold, at least --window apart), "
            "build loci of lead +- --window (overlaps merged), fine-map each with SuSiE-RSS and "
            "ABF into OUT/loci/, and write OUT/summary.tsv; resumable (rerun the command).",
        ),
    ] = False,
    p_threshold: Annotated[
        float, typer.Option("--p-threshold", help="--genome-wide: lead variants' p-value cutoff.")
    ] = 5e-8,
    window: Annotated[
        int, typer.Option("--window", min=1, help="--genome-wide: bp each side of a lead.")
    ] = 500_000,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Fine-map one locus (or, with --genome-wide, every locus) from summary statistics and
    LD; write a folder of TSV tables.

    OUT/variants.tsv (per variant: PIP, 95%/99% credible-set ids, posterior effect),
    OUT/credible_sets.tsv (per set: size, log10 BF, purity, lead variant),
    OUT/dropped.tsv (variants left out and why), OUT/ld_diagnostics.tsv/.png (the LD
    check) and OUT/run.json. With --genome-wide: OUT/loci.tsv, OUT/summary.tsv (per
    locus: lead, credible sets, top PIP variants) and OUT/loci/<locus>/{susie,abf}/.
    """
    require_file(sumstats, "summary statistics")
    if ld_matrix is not None:
        require_file(ld_matrix, "LD matrix")
    if ld_variants is not None:
        require_file(ld_variants, "LD variants table")
    from varinterp.finemap.run import finemap

    set_threads(threads)
    if genome_wide:
        if region is not None:
            raise InputError("--region and --genome-wide exclude each other; drop one")
        _genome_wide(
            sumstats=sumstats, out=out, plink=plink, ld_matrix=ld_matrix, ld_variants=ld_variants,
            p_threshold=p_threshold, window=window, threads=threads,
            columns=_parse_columns(columns), prior_weight_column=prior_weights,
            overwrite=overwrite, quiet=quiet, n=n, L=num_effects, min_abs_corr=min_abs_corr,
            estimate_residual_variance=estimate_residual_variance, abf_prior_sd=abf_prior_sd,
            unmatched=unmatched.value, ambiguous=ambiguous.value, ld_fix=ld_fix.value,
            max_iter=max_iter, ld_check=ld_check, drop_ld_outliers=drop_ld_outliers,
        )  # fmt: skip
        return
    with progress_bar(f"fine-mapping ({method.value})", quiet=quiet) as on_progress:
        res = finemap(
            sumstats=sumstats,
            out=out,
            method=method.value,
            plink=plink,
            ld_matrix=ld_matrix,
            ld_variants=ld_variants,
            region=region,
            n=n,
            L=num_effects,
            prior_weight_column=prior_weights,
            columns=_parse_columns(columns),
            min_abs_corr=min_abs_corr,
            estimate_residual_variance=estimate_residual_variance,
            abf_prior_sd=abf_prior_sd,
            unmatched=unmatched.value,
            ambiguous=ambiguous.value,
            ld_fix=ld_fix.value,
            max_iter=max_iter,
            ld_check=ld_check,
            drop_ld_outliers=drop_ld_outliers,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        i = res.info
        console.print(
            f"fine-mapped {i['n_finemapped']} variants ({i['n_dropped']} dropped, "
            f"{i['n_flipped']} flipped to the LD panel): {i['n_cs95']} credible set(s) at 95%, "
            f"{i['n_cs99']} at 99%; wrote {res.out}"
        )
        if i.get("converged") is False:
            console.print(f"[yellow]warning:[/] SuSiE did not converge in {i['n_iter']} sweeps")
        if "ld_s" in i:
            note = " (dropped)" if i.get("ld_outliers_dropped") else ""
            console.print(
                f"LD check: s = {i['ld_s']:.3g}, {i['n_ld_outliers']} outlier variant(s){note} "
                "-> ld_diagnostics.tsv"
            )
        if i.get("ld_shrinkage"):
            console.print(
                f"[yellow]warning:[/] LD shrunk toward identity by {i['ld_shrinkage']:.3g}"
            )


def _genome_wide(*, out: Path, quiet: bool, **kwargs) -> None:
    from varinterp.finemap.genomewide import finemap_genome_wide

    with progress_bar("fine-mapping loci", quiet=quiet) as on_progress:
        res = finemap_genome_wide(out=out, on_progress=on_progress, **kwargs)
    if not quiet:
        ok = res.summary[res.summary["status"] == "ok"]
        console.print(
            f"{len(res.loci)} loci ({res.n_resumed} already done), {len(ok)} fine-mapped, "
            f"{int(ok['n_cs95'].sum()) if len(ok) else 0} credible set(s) at 95%; wrote "
            f"{res.out}/summary.tsv"
        )
