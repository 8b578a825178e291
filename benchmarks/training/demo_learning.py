"""Does the small CLIPNET learn from sequence? One fold model on a simulated cohort.

Builds a world (`simulate_world` with the element density given), its PRO-cap and the
genome store, trains ``fold_1`` of the small preset on a chain fold table (chr1 test,
chr2 validation, the rest train) and prints the held-out metrics next to the
sequence-blind mean-shape baseline on the same windows.

Usage::

    python benchmarks/training/demo_learning.py --out /tmp/learn --threads 1 \\
        [--model '{"dropout": 0.3}'] [--training '{"lr": 5e-3}'] [--data '{...}']

``--model``, ``--training`` and ``--data`` are JSON objects merged over the demo's
settings (`varinterp.demo.clipnet`: ``DEMO_TRAINING``, ``DEMO_DATA``; the model
is the ``small`` preset).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chromosomes", type=int, default=5)
    ap.add_argument("--genome-size", type=int, default=2_500_000)
    ap.add_argument("--promoter-spacing", type=int, default=5_000)
    ap.add_argument("--enhancer-spacing", type=int, default=6_000)
    ap.add_argument("--individuals", type=int, default=10, help="libraries trained on")
    ap.add_argument("--model", default="{}", help="JSON: ClipnetConfig overrides")
    ap.add_argument("--training", default="{}", help="JSON: [training] overrides")
    ap.add_argument("--data", default="{}", help="JSON: [data] overrides")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    from varinterp.demo.clipnet import (
        DEMO_DATA,
        DEMO_TRAINING,
        chain_folds,
        demo_sample_sheet,
        held_out_metrics,
        mean_shape_baseline,
        train_small,
        write_run_config,
    )
    from varinterp.genome.build import build_store
    from varinterp.models.clipnet.evaluate import evaluate_clipnet
    from varinterp.simulate.procap import simulate_procap
    from varinterp.simulate.store import simulate_world

    torch.set_num_threads(args.threads)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    world, files = simulate_world(
        out=out / "world", seed=args.seed, genome_size=args.genome_size,
        n_chromosomes=args.chromosomes, promoter_spacing=args.promoter_spacing,
        enhancer_spacing=args.enhancer_spacing, overwrite=True,
    )  # fmt: skip
    build_store(vcf=files.vcf, fasta=files.fasta, out=out / "cohort.vgs", overwrite=True)
    procap = simulate_procap(
        world_dir=out / "world", out=out / "procap", seed=args.seed, world=world, overwrite=True
    )
    sheet = demo_sample_sheet(
        procap.sample_sheet, out / "samples.tsv", n_individuals=args.individuals
    )
    table = chain_folds(list(world.reference.names))
    config = write_run_config(
        out / "run.toml", store=out / "cohort.vgs", sample_sheet=sheet,
        peaks=out / "procap" / "peaks.bed", folds=table,
        training={**DEMO_TRAINING, "seed": args.seed, **json.loads(args.training)},
        data={**DEMO_DATA, **json.loads(args.data)}, model=json.loads(args.model),
    )  # fmt: skip
    t0 = time.perf_counter()
    result = train_small(config=config, out=out / "model", folds=[1])
    seconds = time.perf_counter() - t0
    ev = evaluate_clipnet(
        model=out / "model", config=config, out=out / "eval", device="cpu", overwrite=True
    )
    row = held_out_metrics(ev.metrics).iloc[0]
    baseline = mean_shape_baseline(config, [1], fold_table=table)[1]
    summary = result.summaries[1]
    print(
        f"{procap.n_peaks} peaks; fold_1 on held-out chr1 ({row.n_windows} windows): median "
        f"profile Pearson {row.median_profile_pearson:.3f} (mean-shape baseline "
        f"{baseline:.3f}), log-quantity Pearson {row.log_quantity_pearson:.3f}; "
        f"{summary['epochs_run']} epochs (best {summary['best_epoch']}), training "
        f"{seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
