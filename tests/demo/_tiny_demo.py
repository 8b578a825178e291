"""Shared set-up of the demo-step tests: a small world, its store, and tiny training."""

from __future__ import annotations

from pathlib import Path

import pytest

from varinterp.demo import DemoContext
from varinterp.demo import clipnet as clipnet_demo


def patch_demo_training(
    mp: pytest.MonkeyPatch, training: dict, *, individuals: int | None = None
) -> None:
    """Shrink the demo CLIPNET's training (`DEMO_TRAINING` keys) and libraries on `mp`."""
    for key, value in training.items():
        mp.setitem(clipnet_demo.DEMO_TRAINING, key, value)
    if individuals is not None:
        mp.setattr(clipnet_demo, "DEMO_INDIVIDUALS", individuals)


def tiny_clipnet_demo(
    out: Path, *, seed: int, n_individuals: int, training: dict, individuals: int
) -> tuple[DemoContext, list[str]]:
    """A 300-kb, 3-chromosome world and store in `out`, then `clipnet_step` with tiny
    training on `individuals` libraries. Returns the context and the step's lines."""
    from varinterp.genome.build import build_store
    from varinterp.simulate.store import simulate_world

    world, files = simulate_world(
        out=out / "world", seed=seed, n_individuals=n_individuals, genome_size=300_000,
        n_chromosomes=3,
    )  # fmt: skip
    build_store(vcf=files.vcf, fasta=files.fasta, out=out / "cohort.vgs")
    ctx = DemoContext(out=out, seed=seed, threads=1)
    ctx.objects["world"] = world
    ctx.files.update(
        fasta=files.fasta, vcf=files.vcf, store=out / "cohort.vgs", elements=files.elements_bed
    )
    with pytest.MonkeyPatch.context() as mp:
        patch_demo_training(mp, training, individuals=individuals)
        lines = clipnet_demo.clipnet_step(ctx)
    return ctx, lines
