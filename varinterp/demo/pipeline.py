"""The demo's step list and `run_demo`, which runs it into one folder and writes SUMMARY.md."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from varinterp.demo.bpaitac import bpaitac_step
from varinterp.demo.clipnet import clipnet_step
from varinterp.demo.context import DemoContext, DemoStep
from varinterp.demo.deconvolution import deconvolution_step
from varinterp.demo.locus import locus_report_step
from varinterp.demo.qtl import qtl_step
from varinterp.demo.scoring import scoring_step
from varinterp.demo.world import store_step, windows_step, world_step
from varinterp.io.atomic import atomic_write_text, check_output

__all__ = ["STEPS", "run_demo"]

#: The steps in order; each reads what earlier ones put in the `DemoContext`.
STEPS: list[DemoStep] = [
    DemoStep("simulate a world", world_step),
    DemoStep("build the personal-genome store", store_step),
    DemoStep("export personal promoter windows", windows_step),
    DemoStep("train a small CLIPNET on simulated PRO-cap", clipnet_step),
    DemoStep("score causal vs non-causal SNPs", scoring_step),
    DemoStep("QTL benchmark: personal vs reference-only", qtl_step),
    DemoStep("simulate cell types and deconvolve a bulk", deconvolution_step),
    DemoStep("bpAI-TAC: per-cell-type ATAC of immune-like cell types", bpaitac_step),
    DemoStep("simulate, fine-map and report a PSC-like locus", locus_report_step),
]


def run_demo(
    *,
    out: str | os.PathLike,
    seed: int = 0,
    threads: int = 1,
    quick: bool = False,
    zoo: str | os.PathLike | None = None,
    device: str = "cpu",
    on_start: Callable[[str], None] | None = None,
    on_step: Callable[[str, list[str]], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, list[str]]:
    """Run every demo step into the folder `out` (created; reused when present).

    With `quick` the model steps use the zoo's shipped demo weights (trained on the
    seed-0 world, so `seed` must be 0) and the QTL step, which trains a second model, is
    skipped; `zoo` is the zoo folder (default: the installed one). Models run on
    `device`. `on_start(name)` is called before each step, `on_step(name, lines)` after
    it, and `say(line)` at milestones inside a step (epochs). Every path the demo writes
    into its configs and tables is relative, so the folder can be moved. Returns the
    lines of every step.
    """
    from varinterp.errors import InputError

    check_output(out)
    if quick and seed != 0:
        msg = (
            f"the default demo reuses models trained on the seed-0 world; add --full to "
            f"train them for --seed {seed}"
        )
        raise InputError(msg)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(
        out=out, seed=seed, threads=threads, quick=quick, zoo=None if zoo is None else Path(zoo),
        device=device, say=say,
    )  # fmt: skip
    results: dict[str, list[str]] = {}
    for step in STEPS:
        if on_start is not None:
            on_start(step.name)
        lines = step.run(ctx)
        results[step.name] = lines
        if on_step is not None:
            on_step(step.name, lines)
    summary = "".join(
        f"## {name}\n" + "".join(f"- {x}\n" for x in lines) for name, lines in results.items()
    )
    mode = ", the zoo's shipped demo weights" if quick else ", every model trained"
    atomic_write_text(out / "SUMMARY.md", f"# varinterp demo (seed {seed}{mode})\n\n{summary}")
    return results
