"""`varinterp simulate gwas`: a PSC-like GWAS locus on a simulated world."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose

__all__ = ["gwas"]


class Program(StrEnum):
    shared = "shared"
    hepatocyte = "hepatocyte"
    myeloid = "myeloid"


class Trait(StrEnum):
    quantitative = "quantitative"
    case_control = "case-control"


def gwas(
    world: Annotated[
        Path,
        typer.Option(
            "--world",
            "-w",
            metavar="DIR",
            help="World folder written by 'varinterp simulate world'.",
        ),
    ],
    out: OutDir,
    seed: Seed = 0,
    n_individuals: Annotated[
        int,
        typer.Option(
            "--n-individuals", "-n", help="GWAS sample size (haplotypes resampled as mosaics)."
        ),
    ] = 10_000,
    program: Annotated[
        Program,
        typer.Option(
            "--program", help="Enhancer program of the causal SNP (myeloid = Kupffer-like)."
        ),
    ] = Program.myeloid,
    window: Annotated[
        int, typer.Option("--window", help="Width of the locus in bp, centred on the causal SNP.")
    ] = 200_000,
    h2: Annotated[
        float, typer.Option("--h2", help="Trait variance explained by the causal SNP, in (0, 1).")
    ] = 0.005,
    trait: Annotated[
        Trait, typer.Option("--trait", help="case-control draws cases by a liability threshold.")
    ] = Trait.quantitative,
    prevalence: Annotated[
        float, typer.Option("--prevalence", help="Share of cases for --trait case-control.")
    ] = 0.1,
    min_maf: Annotated[
        float, typer.Option("--min-maf", help="SNPs with a lower MAF are left out of the tables.")
    ] = 0.01,
    causal_variant: Annotated[
        str | None,
        typer.Option(
            "--causal",
            metavar="CHROM:POS:REF:ALT",
            help="Use this cohort variant id as causal.",
        ),
    ] = None,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Simulate a GWAS locus whose causal SNP sits in a minority-cell-type enhancer.

    Writes the folder --out: sumstats.tsv (chrom pos ref alt variant_id af beta se z p n;
    pos 1-based), ld.npy (in-sample LD, float64) with ld_variants.tsv (its row order), and
    truth.json (causal SNP, element, target gene, trait model, lead SNP). Feed them to
    'varinterp finemap --sumstats sumstats.tsv --ld-matrix ld.npy --ld-variants
    ld_variants.tsv'.
    """
    from varinterp.simulate.gwas import simulate_gwas_folder

    set_threads(threads)
    with progress_bar("simulating GWAS", quiet=quiet) as on_progress:
        locus = simulate_gwas_folder(
            world_dir=world,
            out=out,
            seed=seed,
            n_individuals=n_individuals,
            program=program.value,
            window=window,
            h2=h2,
            trait=trait.value,
            prevalence=prevalence,
            min_maf=min_maf,
            causal_variant=causal_variant,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        t = locus.truth
        console.print(
            f"wrote {t['n_snps']} SNPs of {t['region_1based']} (n = {t['n']:,}) to {out}: "
            f"causal {t['causal']['variant_id']} (z {t['causal']['z']:.1f}) in "
            f"{t['element']['program'] if t['element'] else 'no'} enhancer, lead "
            f"{t['lead']['variant_id']}"
        )
