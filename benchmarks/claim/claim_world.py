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

import pandas as pd

__all__ = ["SeedWorld", "add_world_arguments", "log", "prepare_seed", "summarize_seeds"]


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


def add_world_arguments(
    ap: argparse.ArgumentParser, *, seeds: list[int], genome_size: int, n_motif_variants: int,
    epochs: int, batches: int, patience: int,
) -> None:  # fmt: skip
    """The world and training options both claim scripts take (their defaults differ)."""
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=seeds)
    ap.add_argument("--individuals", type=int, default=60)
    ap.add_argument("--genome-size", type=int, default=genome_size)
    ap.add_argument("--chromosomes", type=int, default=6)
    ap.add_argument("--promoter-spacing", type=int, default=5_000, help="as the demo world")
    ap.add_argument("--enhancer-spacing", type=int, default=6_000, help="as the demo world")
    ap.add_argument("--n-motif-variants", type=int, default=n_motif_variants)
    ap.add_argument("--causal-min-maf", type=float, default=0.2)
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--batches", type=int, default=batches, help="batches per epoch")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--quantity-weight", type=float, default=0.05, help="published: 1/500")
    ap.add_argument("--patience", type=int, default=patience)
    ap.add_argument("--threads", type=int, default=1)


def summarize_seeds(per_seed: pd.DataFrame, by: str, metrics) -> pd.DataFrame:
    """Mean and sd over seeds of every metric, per value of column `by` -> one row each."""
    rows = []
    for key, grp in per_seed.groupby(by, sort=False):
        row: dict[str, object] = {by: key, "seeds": len(grp)}
        for m in metrics:
            row[f"{m}_mean"] = float(grp[m].mean())
            row[f"{m}_sd"] = float(grp[m].std(ddof=1)) if len(grp) > 1 else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)
