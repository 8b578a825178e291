"""Personal-genome vs reference-only CLIPNET on simulated cohorts, over seeds (the papers' claim).

Per seed (world, PRO-cap and training all use it):

1. simulate a world (``--chromosomes`` contigs, ``--genome-size`` bp, ``--individuals``
   people; ``--n-motif-variants`` designed motif SNPs with a minor-allele frequency of at
   least ``--causal-min-maf``, so that many causal QTLs have carriers of both homozygous
   genotypes, and the training contigs carry allelic variation to learn from) and its
   PRO-cap libraries; build the genome store;
2. write one run config (small CLIPNET preset, CPU-sized training, one library per
   individual) with this fold table: the longest contig is the test fold (fold 1), the
   shortest the validation fold (fold 2, so the per-epoch validation is cheap), the rest
   train (folds 3..); train ``fold_1`` twice with the same settings and seed: personal
   genomes, and ``--reference-only``;
3. across loci: `evaluate_clipnet` of both on the held-out contig (median profile Pearson,
   log-quantity Pearson over every library x peak window);
4. QTLs: every SNP of the held-out contig that the simulator found able to change an
   element (``variant_effects.tsv``), through `qtl_benchmark` (genotype-group L2, both
   models side by side, hold-out composite); the predicted L2s are compared (Pearson of
   log10(L2 + 1e-3), as the paper) with the **true** genotype-group L2 of the simulator's
   noise-free tracks (`varinterp.simulate.qtl_truth.true_group_l2`) over the true
   tiQTLs and diQTLs (`true_qtl_sets`) and all causal SNPs, and, for reference, with
   the **observed** (Poisson) tracks.

Usage::

    python benchmarks/claim/personal_vs_reference.py --out /tmp/claim --seeds 1 2 3 4 5

Writes ``seed_<k>/claim.tsv`` as each seed finishes (a rerun skips finished seeds), then
``claim_seeds.tsv`` (one row per seed and model) and ``claim_summary.tsv`` (mean and sd
over seeds) under ``--out``, and prints both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from claim_world import add_world_arguments, log, prepare_seed, summarize_seeds

METRICS = (
    "median_profile_pearson",
    "log_quantity_pearson",
    "tiqtl_pearson_true",
    "diqtl_pearson_true",
    "causal_pearson_true",
    "all_pearson_true",
    "tiqtl_pearson_observed",
    "all_pearson_observed",
)


def run_seed(args: argparse.Namespace, seed: int, out: Path) -> pd.DataFrame:
    """One seed of the benchmark (module docstring) into `out`; one row per model."""
    from varinterp.demo.clipnet import DEMO_DATA, held_out_metrics, train_small, write_run_config
    from varinterp.effects.qtl import log_l2_pearson, qtl_benchmark
    from varinterp.models.clipnet.evaluate import evaluate_clipnet
    from varinterp.simulate.procap_model import expected_procap
    from varinterp.simulate.qtl_truth import true_group_l2, true_qtl_sets

    t0 = time.time()
    sw = prepare_seed(args, seed, out, t0)
    world, sheet, test = sw.world, sw.sheet, sw.test
    config = write_run_config(
        out / "run.toml", store=sw.store, sample_sheet=sheet,
        peaks=out / "procap" / "peaks.bed", folds=sw.folds, training=sw.training, data=DEMO_DATA,
    )  # fmt: skip
    models = {}
    rows = []
    for label, ref_only in (("personal", False), ("reference", True)):
        t1 = time.time()
        res = train_small(
            config=config, out=out / f"clipnet_{label}", folds=[1], reference_only=ref_only
        )
        epochs = res.summaries[1]["epochs_run"]
        models[label] = out / f"clipnet_{label}"
        log(f"trained {label}: {epochs} epochs in {time.time() - t1:.0f} s", t0)
        ev = evaluate_clipnet(
            model=models[label], config=config, out=out / f"eval_{label}", device="cpu",
            overwrite=True,
        )  # fmt: skip
        m = held_out_metrics(ev.metrics).iloc[0]
        rows.append(
            {
                "seed": seed,
                "model": label,
                "epochs": int(epochs),
                "best_epoch": int(res.summaries[1]["best_epoch"]),
                "n_windows": int(m["n_windows"]),
                "median_profile_pearson": float(m["median_profile_pearson"]),
                "log_quantity_pearson": float(m["log_quantity_pearson"]),
            }
        )
    eff = pd.read_csv(out / "procap" / "variant_effects.tsv", sep="\t")
    qtl_ids = eff.loc[eff["chrom"] == test, "variant_id"].drop_duplicates()
    (out / "qtls.txt").write_text("\n".join(qtl_ids) + "\n")
    bench = qtl_benchmark(
        qtls=out / "qtls.txt", store=out / "cohort.vgs", sample_sheet=sheet, models=models,
        out=out / "qtl", device="cpu", batch_size=64, overwrite=True,
    )  # fmt: skip
    expected = expected_procap(world)
    individuals = list(dict.fromkeys(pd.read_csv(sheet, sep="\t")["sample"]))
    qt = bench.table
    ok = qt["status"].to_numpy() == "ok"
    true_l2 = np.full(len(qt), np.nan)
    true_l2[ok] = true_group_l2(
        world, expected, qt.loc[ok, "chrom"].tolist(), qt.loc[ok, "pos0"].tolist(),
        individuals, 500,
    )  # fmt: skip
    ids = [
        f"{c}:{p + 1}:{r}:{a}"
        for c, p, r, a in zip(qt["chrom"], qt["pos0"], qt["ref"], qt["alt"], strict=True)
    ]
    sets = true_qtl_sets(eff, min_log2fc=args.min_log2fc, min_delta_directionality=args.min_ddir)
    member = {name: np.array([i in ids_ for i in ids]) for name, ids_ in sets.items()}
    qt = qt.assign(true_l2=true_l2, **{f"is_{k}": v for k, v in member.items()})
    qt.to_csv(out / "qtl_truth.tsv", sep="\t", index=False, float_format="%.6g")
    noise = log_l2_pearson(qt["obs_l2"], true_l2)
    for row in rows:
        pred = qt[f"pred_l2_{row['model']}"].to_numpy()
        obs = qt["obs_l2"].to_numpy()
        for name, mask in (
            ("tiqtl", member["tiQTL"]),
            ("diqtl", member["diQTL"]),
            ("causal", member["causal"]),
            ("all", np.ones(len(qt), dtype=bool)),
        ):
            r, _, n = log_l2_pearson(true_l2[mask], pred[mask])
            row[f"{name}_pearson_true"], row[f"n_{name}"] = r, n
        row["tiqtl_pearson_observed"] = log_l2_pearson(obs[member["tiQTL"]], pred[member["tiQTL"]])[
            0
        ]
        row["all_pearson_observed"] = log_l2_pearson(obs, pred)[0]
        row["noise_ceiling_all"] = noise[0]
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "claim.tsv", sep="\t", index=False, float_format="%.6g")
    log(f"seed {seed} done", t0)
    return frame


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_world_arguments(ap, seeds=[1, 2, 3, 4, 5], genome_size=4_000_000, n_motif_variants=600,
                        epochs=20, batches=40, patience=5)  # fmt: skip
    ap.add_argument("--min-log2fc", type=float, default=0.1, help="true tiQTL threshold")
    ap.add_argument("--min-ddir", type=float, default=0.1, help="true diQTL threshold")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    frames = []
    for seed in args.seeds:
        done = args.out / f"seed_{seed}" / "claim.tsv"
        if done.is_file():
            frames.append(pd.read_csv(done, sep="\t"))
            log(f"seed {seed}: already done ({done})", t0)
            continue
        frames.append(run_seed(args, seed, args.out / f"seed_{seed}"))
        print(frames[-1].to_string(index=False, float_format=lambda v: f"{v:.3f}"), flush=True)
    per_seed = pd.concat(frames, ignore_index=True)
    per_seed.to_csv(args.out / "claim_seeds.tsv", sep="\t", index=False, float_format="%.6g")
    summary = summarize_seeds(per_seed, "model", METRICS)
    summary.to_csv(args.out / "claim_summary.tsv", sep="\t", index=False, float_format="%.6g")
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(per_seed.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(summary.T.to_string(float_format=lambda v: f"{v:.3f}"))
    log("all seeds done", t0)


if __name__ == "__main__":
    main()
