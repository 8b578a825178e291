"""`varinterp simulate procap`: PRO-cap-like libraries of a simulated world."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, set_threads
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose

__all__ = ["procap"]


def procap(
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
    reads_per_mb: Annotated[
        float,
        typer.Option(
            "--reads-per-mb",
            help="Median library depth per Mb of world genome (350000: ~5e5 reads for 1.5 Mb).",
        ),
    ] = 350_000.0,
    depth_sd: Annotated[
        float, typer.Option("--depth-sd", help="Log-normal sd of library depth (natural log).")
    ] = 0.5,
    replicate_fraction: Annotated[
        float,
        typer.Option(
            "--replicate-fraction", help="Share of individuals with a second (isogenic) library."
        ),
    ] = 0.3,
    min_peak_reads: Annotated[
        float,
        typer.Option(
            "--min-peak-reads",
            help="Mean reads per library over an element's initiation window to call a peak.",
        ),
    ] = 100.0,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Simulate stranded PRO-cap libraries of a world's individuals into --out.

    Initiation follows a known core-promoter grammar (Inr, TATA, GC box,
    ETS, NRF1, enhancer factors) read from each haplotype's sequence; the
    two haplotypes are summed, and reads are Poisson at base resolution
    with log-normal library depths.

    samples.tsv: sample sheet (library, sample, plus, minus, replicate,
    depth, total_reads).
    bigwig/LIB.plus.bw, LIB.minus.bw: reads per base (minus negative).
    peaks.bed: elements with pooled signal (BED6, 0-based).
    tss.tsv, tss_rates.tsv: expected reads per million of each TSS.
    variant_effects.tsv: exact effect of each SNP near an element.
    procap.json: parameters, grammar coefficients, counts, checksums.
    """
    from varinterp.simulate.procap import simulate_procap

    set_threads(threads)
    with progress_bar("simulating PRO-cap", quiet=quiet) as on_progress:
        result = simulate_procap(
            world_dir=world,
            out=out,
            seed=seed,
            reads_per_mb=reads_per_mb,
            depth_sd=depth_sd,
            replicate_fraction=replicate_fraction,
            min_peak_reads=min_peak_reads,
            overwrite=overwrite,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(
            f"wrote {result.n_libraries} libraries of {result.n_samples} individuals to "
            f"{result.out_dir}: {result.n_tss} TSSs, {result.n_peaks} peaks, "
            f"{result.n_causal} SNPs with an effect"
        )
