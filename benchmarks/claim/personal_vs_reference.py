"""Personal-genome vs reference-only CLIPNET on a simulated cohort (the papers' central claim).

Steps (all seeded):

1. simulate a world (``--chromosomes`` contigs, ``--genome-size`` bp, ``--individuals``
   people) and its PRO-cap libraries; build the genome store;
2. write one run config (small CLIPNET preset, CPU-sized training, one library per
   individual) with this fold table: the longest contig is the test fold (fold 1), the
   shortest the validation fold (fold 2, so the per-epoch validation is cheap), the rest
   train (folds 3..); train ``fold_1`` twice with the same settings and seed: personal
   genomes, and ``--reference-only``;
3. across loci: `evaluate_clipnet` of both on the held-out contig (median profile Pearson,
   log-quantity Pearson over every library x peak window);
4. QTLs: every SNP of the held-out contig that the simulator found able to change an
   element (``variant_effects.tsv``), through `qtl_benchmark` (genotype-group L2, both
   models side by side, hold-out composite) against the **observed** simulated tracks,
   and the same predicted L2s against the **true** genotype-group L2 of the expected
   (noise-free) PRO-cap of the simulator (Pearson of log10(L2 + 1e-3) in both cases).

Usage::

    python benchmarks/claim/personal_vs_reference.py --out /tmp/claim --threads 2

Prints a table and writes ``claim.tsv`` and ``qtl_truth.tsv`` under ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _log(msg: str, t0: float) -> None:
    print(f"[{time.time() - t0:7.1f} s] {msg}", flush=True)


def true_group_l2(world, expected, table: pd.DataFrame, individuals: list[str], out_len: int):
    """Noise-free genotype-group L2 per QTL row (``chrom``, ``pos0``) -> ``(n,) float64``.

    Per individual, the expected RPM track over the QTL's output window (both strands)
    is the sum of the expected profiles of every element overlapping it; hom-ref and
    hom-alt individuals (from the world's phased haplotypes) are averaged.
    """
    from varinterp.effects.qtl import group_mean_l2

    cohort = world.cohort
    sample_idx = np.array([cohort.samples.index(s) for s in individuals])
    exp_idx = np.array([list(expected.samples).index(s) for s in individuals])
    key = {
        (str(c), int(p)): i for i, (c, p) in enumerate(zip(cohort.chrom, cohort.pos, strict=True))
    }
    by_chrom: dict[str, list[int]] = {}
    for k, m in enumerate(expected.models):
        by_chrom.setdefault(m.element.chrom, []).append(k)
    res = np.full(len(table), np.nan)
    for i, (chrom, pos0) in enumerate(zip(table["chrom"], table["pos0"], strict=True)):
        v = key.get((str(chrom), int(pos0)))
        if v is None:
            continue
        dos = cohort.haplotypes[v][sample_idx].sum(axis=1)
        ref_rows, alt_rows = np.flatnonzero(dos == 0), np.flatnonzero(dos == 2)
        if ref_rows.size == 0 or alt_rows.size == 0:
            continue
        ws = int(pos0) - out_len // 2
        track = np.zeros((len(individuals), 2, out_len))
        for k in by_chrom.get(str(chrom), []):
            m = expected.models[k]
            lo, hi = max(ws, m.pstart), min(ws + out_len, m.pend)
            if lo >= hi:
                continue
            prof = expected.profiles[k][exp_idx]
            track[:, :, lo - ws : hi - ws] += prof[:, :, lo - m.pstart : hi - m.pstart]
        res[i] = group_mean_l2(track * expected.scale, ref_rows, alt_rows)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--individuals", type=int, default=60)
    ap.add_argument("--genome-size", type=int, default=4_000_000)
    ap.add_argument("--chromosomes", type=int, default=6)
    ap.add_argument("--promoter-spacing", type=int, default=5_000, help="as the demo world")
    ap.add_argument("--enhancer-spacing", type=int, default=6_000, help="as the demo world")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batches", type=int, default=40, help="batches per epoch")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--quantity-weight", type=float, default=0.05, help="published: 1/500")
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import torch

    from varinterp.demo.clipnet import (
        DEMO_DATA,
        DEMO_TRAINING,
        demo_sample_sheet,
        held_out_metrics,
        train_small,
        write_run_config,
    )
    from varinterp.effects.qtl import log_l2_pearson, qtl_benchmark
    from varinterp.genome.build import build_store
    from varinterp.models.clipnet.evaluate import evaluate_clipnet
    from varinterp.simulate.procap import simulate_procap
    from varinterp.simulate.procap_model import expected_procap
    from varinterp.simulate.store import simulate_world

    torch.set_num_threads(args.threads)
    t0 = time.time()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    world, files = simulate_world(
        out=out / "world", seed=args.seed, n_individuals=args.individuals,
        genome_size=args.genome_size, n_chromosomes=args.chromosomes,
        promoter_spacing=args.promoter_spacing, enhancer_spacing=args.enhancer_spacing,
        overwrite=True,
    )  # fmt: skip
    _log(f"world: {world.reference.size:,} bp, {world.cohort.n_variants:,} SNPs", t0)
    procap = simulate_procap(
        world_dir=out / "world", out=out / "procap", seed=args.seed, world=world, overwrite=True
    )
    _log(f"procap: {procap.n_libraries} libraries, {procap.n_peaks} peaks", t0)
    build_store(vcf=files.vcf, fasta=files.fasta, out=out / "cohort.vgs", overwrite=True)
    sheet = demo_sample_sheet(procap.sample_sheet, out / "samples.tsv")
    contigs = list(world.reference.names)  # longest first
    test, val, train = contigs[0], contigs[-1], contigs[1:-1]
    table = {test: 1, val: 2, **{c: 3 + i for i, c in enumerate(train)}}
    training = {
        **DEMO_TRAINING,
        "seed": args.seed,
        "max_epochs": args.epochs,
        "max_batches_per_epoch": args.batches,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "lr": args.lr,
        "quantity_weight": args.quantity_weight,
    }
    config = write_run_config(
        out / "run.toml", store=out / "cohort.vgs", sample_sheet=sheet,
        peaks=out / "procap" / "peaks.bed", folds=table, training=training, data=DEMO_DATA,
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
        _log(f"trained {label}: {epochs} epochs in {time.time() - t1:.0f} s", t0)
        ev = evaluate_clipnet(
            model=models[label], config=config, out=out / f"eval_{label}", device="cpu",
            overwrite=True,
        )  # fmt: skip
        m = held_out_metrics(ev.metrics).iloc[0]
        rows.append(
            {
                "model": label,
                "epochs": int(epochs),
                "best_epoch": int(res.summaries[1]["best_epoch"]),
                "n_windows": int(m["n_windows"]),
                "median_profile_pearson": float(m["median_profile_pearson"]),
                "log_quantity_pearson": float(m["log_quantity_pearson"]),
            }
        )
        _log(f"evaluated {label}", t0)
    eff = pd.read_csv(out / "procap" / "variant_effects.tsv", sep="\t")
    qtl_ids = eff.loc[eff["chrom"] == test, "variant_id"].drop_duplicates()
    (out / "qtls.txt").write_text("\n".join(qtl_ids) + "\n")
    bench = qtl_benchmark(
        qtls=out / "qtls.txt", store=out / "cohort.vgs", sample_sheet=sheet, models=models,
        out=out / "qtl", device="cpu", batch_size=64, overwrite=True,
    )  # fmt: skip
    _log(f"QTL benchmark: {len(qtl_ids)} SNPs listed", t0)
    expected = expected_procap(world)
    individuals = list(dict.fromkeys(pd.read_csv(sheet, sep="\t")["sample"]))
    qt = bench.table
    ok = qt["status"].to_numpy() == "ok"
    true_l2 = np.full(len(qt), np.nan)
    true_l2[ok] = true_group_l2(world, expected, qt[ok], individuals, 500)
    qt = qt.assign(true_l2=true_l2)
    qt.to_csv(out / "qtl_truth.tsv", sep="\t", index=False, float_format="%.6g")
    causal = set(eff.loc[eff["causal"].astype(str).str.lower() == "true", "variant_id"])
    ids = [
        f"{c}:{p + 1}:{r}:{a}"
        for c, p, r, a in zip(qt["chrom"], qt["pos0"], qt["ref"], qt["alt"], strict=True)
    ]
    is_causal = np.array([i in causal for i in ids], dtype=bool)
    r_obs_true = log_l2_pearson(qt["obs_l2"], true_l2)
    for row in rows:
        label = row["model"]
        pred = qt[f"pred_l2_{label}"].to_numpy()
        r_obs, _, n_obs = log_l2_pearson(qt["obs_l2"], pred)
        r_true, _, _ = log_l2_pearson(true_l2, pred)
        r_causal, _, n_causal = log_l2_pearson(true_l2[is_causal], pred[is_causal])
        row.update(
            qtl_n=n_obs, qtl_pearson_observed=r_obs, qtl_pearson_true=r_true,
            qtl_n_causal=n_causal, qtl_pearson_true_causal=r_causal,
        )  # fmt: skip
    summary = pd.DataFrame(rows)
    summary.to_csv(out / "claim.tsv", sep="\t", index=False, float_format="%.4g")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"observed vs true log10 L2 (noise ceiling): r = {r_obs_true[0]:.3f} "
        f"(n = {r_obs_true[2]}); held-out contig {test}, validation {val}, train "
        f"{', '.join(train)}; {len(individuals)} individuals; total {time.time() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
