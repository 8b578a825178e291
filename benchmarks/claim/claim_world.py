"""The simulated world and training set-up shared by the claim benchmarks of this folder.

One seed: the world (``simulate_world`` with the script's world options), its PRO-cap,
the cohort's genome store, the demo sample sheet, the fold table (the longest
chromosome held out for test, the shortest for validation, the rest for training) and
the small preset's training settings with the script's overrides.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SeedWorld", "log", "prepare_seed"]


def log(msg: str, t0: float) -> None:
    print(f"[{time.time() - t0:7.1f} s] {msg}", flush=True)


@dataclass
class SeedWorld:
    world: object
    procap: object
    sheet: Path
    store: Path
    folds: dict
    training: dict
    test: str


def prepare_seed(
    args: argparse.Namespace, seed: int, out: Path, t0: float, **world_options
) -> SeedWorld:
    """World, PRO-cap, store, sheet, folds and training settings for `seed` in `out`."""
    from varinterp.demo.clipnet import DEMO_TRAINING, demo_sample_sheet
    from varinterp.genome.build import build_store
    from varinterp.simulate.procap import simulate_procap
    from varinterp.simulate.store import simulate_world

    out.mkdir(parents=True, exist_ok=True)
    world, files = simulate_world(
        out=out / "world", seed=seed, n_individuals=args.individuals,
        genome_size=args.genome_size, n_chromosomes=args.chromosomes,
        promoter_spacing=args.promoter_spacing, enhancer_spacing=args.enhancer_spacing,
        n_motif_variants=args.n_motif_variants, causal_min_maf=args.causal_min_maf,
        overwrite=True, **world_options,
    )  # fmt: skip
    n_indel = int((world.truth["ref"].str.len() != world.truth["alt"].str.len()).sum())
    log(f"seed {seed} world: {world.reference.size:,} bp, {world.cohort.n_variants:,} "
        f"variants ({n_indel} indels)", t0)  # fmt: skip
    procap = simulate_procap(
        world_dir=out / "world", out=out / "procap", seed=seed, world=world, overwrite=True
    )
    log(f"procap: {procap.n_libraries} libraries, {procap.n_peaks} peaks", t0)
    build_store(vcf=files.vcf, fasta=files.fasta, out=out / "cohort.vgs", overwrite=True)
    sheet = demo_sample_sheet(procap.sample_sheet, out / "samples.tsv")
    contigs = list(world.reference.names)  # longest first
    test, val, train = contigs[0], contigs[-1], contigs[1:-1]
    folds = {test: 1, val: 2, **{c: 3 + i for i, c in enumerate(train)}}
    training = {
        **DEMO_TRAINING,
        "seed": seed,
        "max_epochs": args.epochs,
        "max_batches_per_epoch": args.batches,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "lr": args.lr,
        "quantity_weight": args.quantity_weight,
    }
    return SeedWorld(world, procap, sheet, out / "cohort.vgs", folds, training, test)
