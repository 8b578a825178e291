"""`varinterp demo`: the whole pipeline on a simulated world."""

from __future__ import annotations

import time

from varinterp.cli._common import console, set_threads
from varinterp.cli._options import Out, Quiet, Seed, Threads, Verbose


def demo(
    out: Out,
    seed: Seed = 0,
    threads: Threads = 2,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Run varinterp end to end on a seeded simulated world, writing into --out.

    Makes the world (reference, cohort VCF, planted elements, truth), builds the
    personal-genome store, exports personal windows, and prints what each step did;
    SUMMARY.md in --out repeats it. Same seed, same results.
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

    run_demo(out=out, seed=seed, threads=threads, on_step=show)
    if not quiet:
        console.print(f"done in {time.perf_counter() - started:.1f} s; see {out}/SUMMARY.md")
