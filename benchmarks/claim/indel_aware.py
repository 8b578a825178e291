"""Indel-aware vs indel-blind CLIPNET training on a simulated cohort with planted indel QTLs.

Per seed (world, PRO-cap and training all use it):

1. simulate a world as `personal_vs_reference.py` does (designed motif SNPs with a
   minor-allele frequency of at least ``--causal-min-maf``), plus ``--n-indel-qtls``
   designed indel QTLs (deletions breaking a motif, insertions of an activator motif,
   insertions between a TATA box and its TSS) and neutral background indels at
   ``--indel-density`` per bp (`varinterp.simulate.indels`); its PRO-cap libraries (the
   reads of a haplotype with an indel land at reference positions, as reads mapped to
   the reference would); the genome store (indels kept);
2. train ``fold_1`` of the small CLIPNET preset twice with the same settings, seed and
   examples: ``indel_aware = false`` (the person's SNVs only; reference bases where the
   person has an indel; targets as measured) and ``indel_aware = true`` (indels applied,
   each haplotype fitted to the window centred on the peak, targets re-aligned to each
   haplotype and averaged);
3. across loci, on the held-out contig (fold 1), both models in both *views*: the blind
   view (SNV-only windows, targets as measured) and the aware view (indel windows,
   re-aligned targets): median profile Pearson and log-quantity Pearson over all
   library x peak windows, and over the windows whose individual carries an indel
   within the input window;
4. variant effects on the held-out contig: every variant the simulator found able to
   change an element (``variant_effects.tsv``), scored with `score_frame` (reference
   context, reverse-complement averaged; indels through its indel path); Pearson of the
   predicted log2 fold change of quantity with the simulator's exact ``log2fc_total``
   (reference background; per variant, the element it changes most) over the causal
   indels and, beside them, the causal SNVs; and Pearson of log10(L2 + 1e-3) of the
   predicted ref-vs-alt profile change (``profile_l2``) with the true one (the L2, in
   RPM, between the simulator's expected diploid tracks of the two homozygous
   genotypes on the reference background, over the 500 bp centred on the variant).

Usage::

    python benchmarks/claim/indel_aware.py --out /tmp/indel --seeds 1 2 3

Writes ``seed_<k>/indel.tsv`` as each seed finishes (a rerun skips finished seeds), then
``indel_seeds.tsv`` and ``indel_summary.tsv`` (mean and sd over seeds) under ``--out``.
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

VIEWS = ("blind", "aware")
METRICS = (
    "profile_r_blind_view",
    "quantity_r_blind_view",
    "profile_r_blind_view_indel",
    "quantity_r_blind_view_indel",
    "profile_r_aware_view",
    "quantity_r_aware_view",
    "profile_r_aware_view_indel",
    "quantity_r_aware_view_indel",
    "log2fc_r_indel",
    "log2fc_r_snv",
    "l2_r_indel",
    "l2_r_snv",
)


def _indel_carriers(world, data, examples) -> np.ndarray:
    """``(n,) bool``: the example's individual carries an indel inside its input window."""
    cohort = world.cohort
    is_indel = np.char.str_len(cohort.ref.astype(str)) != np.char.str_len(cohort.alt.astype(str))
    dosage = cohort.haplotypes.sum(axis=2)  # (variants, samples)
    sample_of = {s: i for i, s in enumerate(cohort.samples)}
    half = data.input_length // 2 + data.max_jitter
    out = np.zeros(len(examples), dtype=bool)
    for i, (lib, peak) in enumerate(zip(examples.library, examples.peak, strict=True)):
        chrom, anchor = data.peak_chrom[peak], int(data.anchor[peak])
        rows = np.flatnonzero(
            is_indel & (cohort.chrom == chrom) & (np.abs(cohort.pos - anchor) <= half)
        )
        if rows.size:
            s = sample_of[data.libraries[lib].sample]
            out[i] = bool(dosage[rows, s].any())
    return out


def _subset(pred, mask):
    from varinterp.models.clipnet.predict import Predictions

    return Predictions(
        pred.profile[mask], pred.quantity[mask], pred.obs_profile[mask],
        pred.obs_quantity[mask], pred.library[mask], pred.peak[mask],
    )  # fmt: skip


def evaluate_views(world, configs: dict, models: dict, rows: dict, batch_size: int) -> int:
    """Across-loci metrics of every model in every view into `rows`; returns the number
    of held-out windows whose individual carries an indel."""
    from varinterp.datasets.folds import FoldMap
    from varinterp.models.clipnet.predict import metrics_of, predict_examples
    from varinterp.models.clipnet.runconfig import load_run_config
    from varinterp.models.clipnet.train import build_data
    from varinterp.training.modeldir import load_member, read_model_dir

    n_carrier = 0
    for view in VIEWS:
        run = load_run_config(configs[view])
        first = read_model_dir(next(iter(models.values())), architecture="clipnet")
        data = build_data(run, first.config)
        fold_map = FoldMap(dict(first.metadata["folds"]), n_folds=int(first.metadata["n_folds"]))
        examples = data.examples(
            data.peaks_in_folds(fold_map, [1]), rc="none", fixed_jitter=run.data.eval_jitter
        )
        carrier = _indel_carriers(world, data, examples)
        n_carrier = int(carrier.sum())
        for label, path in models.items():
            md = read_model_dir(path, architecture="clipnet")
            member = load_member(md, "fold_1", device="cpu")
            pred = predict_examples(
                [member], data, examples, batch_size=batch_size, device="cpu", bf16=False
            )
            for suffix, mask in (("", np.ones(len(examples), bool)), ("_indel", carrier)):
                m = metrics_of(_subset(pred, mask))
                rows[label][f"profile_r_{view}_view{suffix}"] = m["median_profile_pearson"]
                rows[label][f"quantity_r_{view}_view{suffix}"] = m["log_quantity_pearson"]
        rows_n = len(examples)
    for label in models:
        rows[label]["n_windows"] = rows_n
        rows[label]["n_windows_indel"] = n_carrier
    return n_carrier


def true_l2(world, eff: pd.DataFrame, scale: float, out_len: int) -> np.ndarray:
    """``(n,) float64``: L2 (RPM) between the expected diploid tracks of a homozygous ref
    and a homozygous alt reference background, over the `out_len` bp centred on each
    variant (``eff`` rows: ``variant_id``, ``element_id``), from the simulator's truth."""
    from varinterp.simulate.procap_indels import PAD, element_signal
    from varinterp.simulate.procap_model import element_models

    cohort = world.cohort
    models = {m.element.element_id: m for m in element_models(world)}
    index = {v: i for i, v in enumerate(cohort.ids)}
    ref_len = np.char.str_len(cohort.ref.astype(str))
    out = np.full(len(eff), np.nan)
    for i, (vid, eid) in enumerate(zip(eff["variant_id"], eff["element_id"], strict=True)):
        m, v = models[eid], index[vid]
        lo, hi = m.start - PAD, m.end + PAD
        rows = np.flatnonzero(
            (cohort.chrom == m.element.chrom) & (cohort.pos >= lo) & (cohort.pos + ref_len <= hi)
        )
        alleles = np.zeros((2, rows.size), np.int8)
        alleles[1, np.flatnonzero(rows == v)] = 1
        _, prof = element_signal(world, m, rows, alleles)
        diff = 2.0 * scale * (prof[1] - prof[0])  # (2, pend - pstart)
        start = int(cohort.pos[v]) - out_len // 2
        keep = np.arange(m.pstart, m.pend)
        keep = (keep >= start) & (keep < start + out_len)
        out[i] = float(np.sqrt(np.sum(diff[:, keep] ** 2)))
    return out


def _pearson(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    from scipy.stats import pearsonr

    ok = np.isfinite(a) & np.isfinite(b)
    return (float(pearsonr(a[ok], b[ok])[0]) if ok.sum() > 2 else float("nan")), int(ok.sum())


def effect_agreement(
    models: dict, fasta: Path, effects: pd.DataFrame, test: str, rows: dict, world, scale: float
):
    """Pearson of predicted vs true log2 fold change, and of log10(profile L2 + 1e-3),
    over the causal indels and the causal SNVs of the held-out contig."""
    from varinterp.effects.frame import score_frame

    eff = effects[
        (effects["chrom"] == test) & effects["causal"].astype(str).str.lower().eq("true")
    ].copy()
    eff["abs"] = eff["log2fc_total"].abs()
    eff = eff.sort_values("abs", ascending=False).drop_duplicates("variant_id")
    eff["indel"] = eff["ref"].str.len() != eff["alt"].str.len()
    variants = eff[["chrom", "pos", "ref", "alt", "variant_id"]].rename(
        columns={"variant_id": "id"}
    )
    eff["true_l2"] = true_l2(world, eff, scale, 500)
    table = {}
    for label, path in models.items():
        scored = score_frame(
            path, variants.reset_index(drop=True), fasta=fasta, device="cpu", bf16=False,
            batch_size=64,
        )  # fmt: skip
        fc = pd.to_numeric(scored["log2fc"], errors="coerce").to_numpy(float)
        l2 = pd.to_numeric(scored["profile_l2"], errors="coerce").to_numpy(float)
        table[f"pred_log2fc_{label}"], table[f"pred_l2_{label}"] = fc, l2
        for name, mask in (("indel", eff["indel"].to_numpy()), ("snv", ~eff["indel"].to_numpy())):
            r, n = _pearson(eff["log2fc_total"].to_numpy()[mask], fc[mask])
            rows[label][f"log2fc_r_{name}"], rows[label][f"n_{name}_qtls"] = r, n
            r, _ = _pearson(
                np.log10(eff["true_l2"].to_numpy()[mask] + 1e-3), np.log10(l2[mask] + 1e-3)
            )
            rows[label][f"l2_r_{name}"] = r
    return eff.assign(**table)


def run_seed(args: argparse.Namespace, seed: int, out: Path) -> pd.DataFrame:
    """One seed of the benchmark (module docstring) into `out`; one row per model."""
    from varinterp.demo.clipnet import DEMO_DATA, train_small, write_run_config

    t0 = time.time()
    sw = prepare_seed(args, seed, out, t0, n_indel_qtls=args.n_indel_qtls,
                      indel_density=args.indel_density)  # fmt: skip
    world, sheet, test = sw.world, sw.sheet, sw.test
    log(f"designed indels: {len(world.indels)}", t0)
    configs, models, rows = {}, {}, {}
    for label in VIEWS:
        configs[label] = write_run_config(
            out / f"run_{label}.toml", store=sw.store, sample_sheet=sheet,
            peaks=out / "procap" / "peaks.bed", folds=sw.folds, training=sw.training,
            data={**DEMO_DATA, "indel_aware": label == "aware"},
        )  # fmt: skip
    for label in VIEWS:
        t1 = time.time()
        res = train_small(config=configs[label], out=out / f"clipnet_{label}", folds=[1])
        models[label] = out / f"clipnet_{label}"
        rows[label] = {
            "seed": seed,
            "training": f"indel_{label}",
            "epochs": int(res.summaries[1]["epochs_run"]),
            "best_epoch": int(res.summaries[1]["best_epoch"]),
            "train_s": round(time.time() - t1, 1),
        }
        log(f"trained {label}: {rows[label]['epochs']} epochs in {rows[label]['train_s']} s", t0)
    evaluate_views(world, configs, models, rows, args.batch_size * 4)
    log("evaluated both views", t0)
    frame = score_effects(out, world, test, rows)
    log(f"seed {seed} done", t0)
    return frame


def score_effects(out: Path, world, test: str, rows: dict) -> pd.DataFrame:
    """The effect part of a seed folder `out` (models trained) into `rows`; writes
    ``effects_scored.tsv`` and ``indel.tsv`` and returns the seed's table."""
    import json

    models = {label: out / f"clipnet_{label}" for label in VIEWS}
    effects = pd.read_csv(out / "procap" / "variant_effects.tsv", sep="\t")
    scale = float(json.loads((out / "procap" / "procap.json").read_text())["rpm_scale"])
    fasta = out / "world" / "reference.fa"
    scored = effect_agreement(models, fasta, effects, test, rows, world, scale)
    scored.to_csv(out / "effects_scored.tsv", sep="\t", index=False, float_format="%.6g")
    frame = pd.DataFrame(list(rows.values()))
    frame.to_csv(out / "indel.tsv", sep="\t", index=False, float_format="%.6g")
    return frame


def rescore(out: Path) -> pd.DataFrame:
    """Recompute the effect metrics of a finished seed folder (a seed written before
    they existed), keeping its training and across-loci columns."""
    from varinterp.simulate.store import load_world

    old = pd.read_csv(out / "indel.tsv", sep="\t")
    world = load_world(out / "world")
    rows = {r["training"].removeprefix("indel_"): dict(r) for r in old.to_dict("records")}
    return score_effects(out, world, world.reference.names[0], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_world_arguments(ap, seeds=[1, 2, 3], genome_size=2_400_000, n_motif_variants=360,
                        epochs=10, batches=30, patience=4)  # fmt: skip
    ap.add_argument("--n-indel-qtls", type=int, default=360)
    ap.add_argument("--indel-density", type=float, default=1 / 2000)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    t0 = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    frames = []
    for seed in args.seeds:
        done = args.out / f"seed_{seed}" / "indel.tsv"
        if done.is_file():
            frame = pd.read_csv(done, sep="\t")
            if "l2_r_indel" not in frame.columns:
                frame = rescore(done.parent)
            frames.append(frame)
            log(f"seed {seed}: already done ({done})", t0)
            continue
        frames.append(run_seed(args, seed, args.out / f"seed_{seed}"))
        print(frames[-1].T.to_string(float_format=lambda v: f"{v:.3f}"), flush=True)
    per_seed = pd.concat(frames, ignore_index=True)
    per_seed.to_csv(args.out / "indel_seeds.tsv", sep="\t", index=False, float_format="%.6g")
    summary = summarize_seeds(per_seed, "training", METRICS)
    summary.to_csv(args.out / "indel_summary.tsv", sep="\t", index=False, float_format="%.6g")
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print(per_seed.T.to_string(float_format=lambda v: f"{v:.3f}"))
        print(summary.T.to_string(float_format=lambda v: f"{v:.3f}"))
    log("all seeds done", t0)


if __name__ == "__main__":
    main()
