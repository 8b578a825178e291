"""`varinterp demo`: the whole pipeline on a simulated world."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from varinterp.cli._common import console, set_threads
from varinterp.cli._options import Out, Quiet, Seed, Threads, Verbose


def demo(
    out: Out,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Use the zoo's shipped demo models (models/clipnet-demo, "
            "models/deepdetails-demo) instead of training them; skips the QTL step, which "
            "trains a second model. About a minute instead of several.",
        ),
    ] = False,
    seed: Seed = 0,
    threads: Threads = 2,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Run varinterp end to end on a seeded simulated world, writing into --out.

    Steps: simulate a world (reference, cohort VCF, planted elements, truth); build the
    personal-genome store; export personal windows; train a small CLIPNET on simulated
    PRO-cap; score causal vs non-causal SNPs; QTL benchmark of personal vs
    reference-only models; simulate cell types and deconvolve a bulk with DeepDETAILS;
    simulate, fine-map and report a PSC-like GWAS locus (report.html). Prints what each
    step did; SUMMARY.md in --out repeats it. Same seed, same results.
    """
    from varinterp.demo import run_demo

    set_threads(threads)
    started = time.perf_counter()
    last = [started]

    def show(name: str, lines: list[str]) -> None:
        now = time.perf_counter()
        took, last[0] = now - last[0], now
        if quiet:
            return
        console.print(
            f"[bold green]✓[/] [bold]{name}[/] ({took:.1f} s; {now - started:.0f} s in all)"
        )
        for line in lines:
            console.print(f"    {line}")

    run_demo(out=out, seed=seed, threads=threads, quick=quick, on_step=show)
    if not quiet:
        console.print(f"done in {time.perf_counter() - started:.1f} s; see {out}/SUMMARY.md")
