"""`varinterp demo`: the whole pipeline on a simulated world."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from varinterp.cli._common import milestone, set_threads
from varinterp.cli._conventions import refuse_existing
from varinterp.cli._options import OutDir, Overwrite, Quiet, Seed, Threads, Verbose, _device_name


def demo(
    out: OutDir,
    full: Annotated[
        bool,
        typer.Option(
            "--full/--quick",
            help="--full trains every model as a user would (several minutes on 2 cores, "
            "more steps); --quick (the default) uses the zoo's shipped demo weights "
            "(models/clipnet-demo, models/deepdetails-demo) and runs in about a minute.",
        ),
    ] = False,
    seed: Seed = 0,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            metavar="auto|cpu|cuda|cuda:N",
            callback=_device_name,
            help="Where models run (the demo's numbers are pinned on the CPU).",
        ),
    ] = "cpu",
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Run varinterp end to end on a seeded simulated world, writing into the folder --out.

    The steps, in order:
    (1) simulate a world: reference, 60-person cohort VCF, planted promoters and
    enhancers, truth;
    (2) build the personal-genome store;
    (3) export personal promoter windows;
    (4) train a small CLIPNET on simulated PRO-cap (by default: the shipped weights),
    evaluated on held-out chromosomes;
    (5) score causal vs non-causal SNPs (effects.tsv, in the schema of varinterp score);
    (6) QTL benchmark: personal vs reference-only (--full only: it trains a second model);
    (7) simulate cell types and deconvolve a bulk with DeepDETAILS;
    (8) bpAI-TAC: per-cell-type ATAC of immune-like cell types (simulated fragments ->
    Tn5 insertion tracks -> a small bpAI-TAC with its Tn5 bias network, the shipped
    weights by default; per-cell-type SNP effects);
    (9) simulate, fine-map and report a PSC-like locus (report.html).

    Each step says what it is doing while it runs and what it found; SUMMARY.md in --out
    repeats it. Same seed, same results. The folder can be moved: the configs it holds
    use relative paths.
    """
    from varinterp.demo import run_demo

    if out.exists() and any(out.iterdir()):
        refuse_existing(out, overwrite=overwrite)
    set_threads(threads)
    started = time.perf_counter()
    last = [started]
    mode = "training every model (--full)" if full else "with the zoo's shipped demo weights"
    milestone(f"varinterp demo {mode}, seed {seed}, into {out}", quiet=quiet)

    def start(name: str) -> None:
        last[0] = time.perf_counter()
        milestone(f"[bold]▸ {name}[/] ...", quiet=quiet)

    def show(name: str, lines: list[str]) -> None:
        now = time.perf_counter()
        took = now - last[0]
        milestone(
            f"[bold green]✓[/] [bold]{name}[/] ({took:.1f} s; {now - started:.0f} s in all)",
            quiet=quiet,
        )
        for line in lines:
            milestone(f"    {line}", quiet=quiet)

    run_demo(
        out=out, seed=seed, threads=threads, quick=not full, device=device, on_start=start,
        on_step=show, say=lambda line: milestone(f"    {line}", quiet=quiet),
    )  # fmt: skip
    milestone(f"done in {time.perf_counter() - started:.1f} s; see {out}/SUMMARY.md", quiet=quiet)
