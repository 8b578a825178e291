"""cREscENDO's claims measured on simulated multiome worlds with planted truth.

For each seed: simulate a world (`varinterp simulate multiome`), prepare it, train the
encoder and the gene model, compute every gene's per-cell activity, score the world's
SNVs, and measure

(a) **DeepLIFT completeness**: the largest ``|sum of a cell's attributions - (f(cell) -
    f(baseline))|`` over every gene and cell (float64);
(b) **causal enhancers vs co-accessible decoys**: AUROC of each gene's planted causal
    pairs against its decoy pairs (and against every other candidate) by the pair's
    maximum activity over cells (the published score) and its mean, beside two baselines
    computed on the same prepared data: the single-cell Pearson correlation of the peak's
    binarised ATAC with the gene's expression z-score (peak-gene correlation, ArchR-style
    without metacells) and with the promoter peak's ATAC (co-accessibility, Cicero-style
    without aggregation); overall and in distance bins;
(c) **cell-type specificity**: for causal pairs, the share whose highest mean activity
    is in the planted cell type, and the share labelled specific to it;
(e) **SNV effects**: for each causal-enhancer SNV, whether the target gene's largest
    predicted decrease is in the planted cell type; the Pearson correlation of the
    predicted with the true change over (variant, cell type); the ratio of the typical
    |predicted change| of decoy SNVs to that of causal SNVs.

``--cells`` down-samples (``crescendo prep --max-cells``) one world per seed for claim
(d) (the published target only). ``--targets`` trains one gene model per target on the
same encoder (``pca``, published; ``gene``, each gene's own z-scores). The encoder's
embedding is probed on its own: the cross-validated AUROC of a logistic regression
telling causal enhancers from decoys by their 32-d embedding. Every number is written to
``OUT/claims.json`` and printed as a table.

Example (the numbers of docs/benchmarks.md)::

    python benchmarks/crescendo/claims.py --out bench_claims --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import roc_auc_score

from varinterp.effects.frame import score_frame
from varinterp.models.crescendo.activity import cre_activity
from varinterp.models.crescendo.data import PreparedData
from varinterp.models.crescendo.prep import PrepSettings, prepare_multiome
from varinterp.models.crescendo.train import CrescendoSettings, train_crescendo
from varinterp.simulate.multiome_files import simulate_multiome

BINS = ((0, 20_000), (20_000, 60_000), (60_000, 300_000))


def _auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    y = np.r_[np.ones(pos.size), np.zeros(neg.size)]
    return float(roc_auc_score(y, np.r_[pos, neg]))


def _baselines(data: PreparedData, pairs: pd.DataFrame) -> pd.DataFrame:
    """Peak-gene and promoter co-accessibility correlations of every pair."""
    atac = data.atac.toarray().astype(np.float64)  # (P, C)
    atac_c = atac - atac.mean(1, keepdims=True)
    atac_n = np.sqrt((atac_c**2).sum(1))
    z = data.rna_z.astype(np.float64)
    z_c = z - z.mean(0)
    z_n = np.sqrt((z_c**2).sum(0))
    index = {f"{c}:{s}-{e}": i for i, (c, s, e) in enumerate(data.peaks.itertuples(index=False))}
    gene_index = {g: i for i, g in enumerate(data.genes["gene"])}
    out = pairs.copy()
    p = out["peak"].map(index).to_numpy()
    g = out["gene"].map(gene_index).to_numpy()
    prom = np.array([data.tokens_of(i)[0] for i in g])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["peak_gene_corr"] = (atac_c[p] * z_c[:, g].T).sum(1) / (atac_n[p] * z_n[g])
        out["coaccess_corr"] = (atac_c[p] * atac_c[prom]).sum(1) / (atac_n[p] * atac_n[prom])
    return out


def _claims_b(table: pd.DataFrame) -> dict[str, float]:
    scores = ("max_activity", "mean_activity", "peak_gene_corr", "coaccess_corr")
    res = {}
    causal = table["truth"] == "causal"
    decoy = table["truth"] == "decoy"
    other = ~causal & (table["role"] == "distal")
    for s in scores:
        v = table[s].to_numpy(np.float64)
        res[f"auroc_decoy_{s}"] = _auroc(v[causal], v[decoy])
        res[f"auroc_all_{s}"] = _auroc(v[causal], v[other])
        d = table["distance"].abs().to_numpy()
        for lo, hi in BINS:
            inside = (d >= lo) & (d < hi)
            res[f"auroc_decoy_{s}_{lo // 1000}-{hi // 1000}kb"] = _auroc(
                v[causal & inside], v[decoy & inside]
            )
    res["n_causal_pairs"] = int(causal.sum())
    res["n_decoy_pairs"] = int(decoy.sum())
    return res


def _claims_c(celltypes: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    causal = truth[truth["role"] == "causal"][["gene", "peak_id", "cell_type"]]
    causal = causal.rename(columns={"peak_id": "peak", "cell_type": "planted"})
    ct = celltypes.merge(causal, on=["gene", "peak"])
    if ct.empty:
        return {"specific_top_type": float("nan"), "specific_labelled": float("nan")}
    best = ct.loc[ct.groupby(["gene", "peak"])["mean_activity"].idxmax()]
    top = float((best["cell_type"] == best["planted"]).mean())
    mine = ct[ct["cell_type"] == ct["planted"]]
    others = ct[ct["cell_type"] != ct["planted"]]
    return {
        "specific_top_type": top,
        "specific_labelled": float(mine["specific"].mean()),
        "specific_labelled_other_types": float(others["specific"].mean()),
    }


def _claims_e(effects: pd.DataFrame, truth: pd.DataFrame, types: list[str]) -> dict[str, float]:
    t = truth.rename(columns={"gene": "target", "cell_type": "planted"})
    e = effects.merge(t[["id", "peak_class", "target", "planted", "true_delta"]], on="id")
    e = e[e["gene"] == e["target"]]
    if e.empty:
        return {"snv_right_type": float("nan")}
    e["truth"] = np.where(e["task"] == e["planted"], e["true_delta"], 0.0)
    causal = e[e["peak_class"] == "causal"]
    right = []
    for _, grp in causal.groupby("id"):
        worst = grp.loc[grp["expression_delta_z"].idxmin()]
        right.append(worst["task"] == worst["planted"] and worst["expression_delta_z"] < 0)
    decoy = e[e["peak_class"] == "decoy"]
    r = np.corrcoef(causal["log2fc"], causal["truth"])[0, 1] if len(causal) > 2 else np.nan
    c_med = float(causal["expression_delta_z"].abs().median())
    d_med = float(decoy["expression_delta_z"].abs().median()) if len(decoy) else np.nan
    return {
        "snv_right_type": float(np.mean(right)),
        "snv_pearson_vs_truth": float(r),
        "snv_decoy_over_causal": d_med / c_med if c_med > 0 else float("nan"),
        "n_causal_snvs": int(causal["id"].nunique()),
    }


def run_seed(args, seed: int, out: Path, max_cells: int | None) -> list[dict]:
    """One world (down-sampled to `max_cells`), one encoder, a gene model per target."""
    t0 = time.perf_counter()
    tag = f"seed{seed}" + (f"_cells{max_cells}" if max_cells else "")
    root = out / tag
    world = simulate_multiome(
        out=root / "world",
        seed=seed,
        n_cells=args.world_cells,
        n_genes=args.genes,
        n_cell_types=args.cell_types,
        overwrite=True,
    )
    prepare_multiome(
        matrix=world.h5,
        fasta=world.fasta,
        tss=world.tss_bed,
        out=root / "prep",
        cell_types=world.cell_types,
        settings=PrepSettings(min_genes=args.min_genes, max_cells=max_cells, seed=seed),
        overwrite=True,
    )
    data = PreparedData.open(root / "prep")
    truth = pd.read_csv(world.truth_dir / "pairs.tsv", sep="\t")
    role = truth.rename(columns={"peak_id": "peak", "role": "truth"})[["gene", "peak", "truth"]]
    variants = pd.read_csv(world.truth_dir / "variants.tsv", sep="\t")
    targets = ["pca"] if max_cells else args.targets
    rows = []
    for i, target in enumerate(targets):
        t1 = time.perf_counter()
        train_dir = root / f"train_{target}"
        if i > 0:  # the encoder does not depend on the target: train it once
            train_dir.mkdir(parents=True, exist_ok=True)
            first = root / f"train_{targets[0]}"
            shutil.copy(first / "checkpoint_encoder.pt", train_dir / "checkpoint_encoder.pt")
        settings = CrescendoSettings(
            preset=args.preset,
            encoder_epochs=args.encoder_epochs,
            encoder_batch=args.encoder_batch,
            gene_epochs=args.gene_epochs,
            attention_lr=args.attention_lr,
            target=target,
            seed=seed,
        )
        trained = train_crescendo(
            root / "prep", out=train_dir, settings=settings, device=args.device, overwrite=True
        )
        t_train = time.perf_counter()
        act_dir = root / f"activity_{target}"
        act = cre_activity(trained.model_dir, out=act_dir, device=args.device, overwrite=True)
        t_act = time.perf_counter()
        pairs = pd.read_csv(act_dir / "pairs.tsv", sep="\t")
        table = _baselines(data, pairs).merge(role, on=["gene", "peak"], how="left")
        celltypes = pd.read_csv(act_dir / "celltypes.tsv", sep="\t")
        effects = score_frame(trained.model_dir, variants, fasta=world.fasta, device=args.device)
        probe = _embedding_probe(trained.model_dir, world.truth_dir)
        result = {
            "seed": seed,
            "target": target,
            "cells": data.n_cells,
            "genes": data.n_genes,
            "peaks": data.n_peaks,
            "deeplift_max_delta": act.max_delta,
            "embedding_probe_auroc": probe,
            **{k: v for k, v in trained.metrics.items() if isinstance(v, int | float)},
            **_claims_b(table),
            **_claims_c(celltypes, truth),
            **_claims_e(effects, variants, data.cell_types),
            "seconds_train": t_train - t1,
            "seconds_activity": t_act - t_train,
            "seconds_total": time.perf_counter() - (t0 if i == 0 else t1),
        }
        (root / f"claims_{target}.json").write_text(json.dumps(result, indent=2, default=float))
        rows.append(result)
    return rows


def _embedding_probe(model_dir: Path, truth_dir: Path) -> float:
    """Cross-validated AUROC of a logistic regression telling causal enhancers from decoys
    by the encoder's 32-d embedding alone (can the sequence side see the difference?)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    from varinterp.training.inference import load_model

    ens = load_model(model_dir, device="cpu")
    m = ens.models["model"]
    chroms = ens.model_dir.metadata["chroms"]
    ids = [f"{chroms[a]}:{b}-{c}" for a, b, c in m.peak_coords.numpy()]
    peaks = pd.read_csv(truth_dir / "peaks.tsv", sep="\t").set_index("peak_id")
    cls = peaks["class"].reindex(ids).to_numpy()
    sel = np.isin(cls, ["causal", "decoy"])
    x, y = m.peak_embedding.numpy()[sel], cls[sel] == "causal"
    model = LogisticRegression(max_iter=2000)
    return float(cross_val_score(model, x, y, cv=5, scoring="roc_auc").mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--world-cells", type=int, default=2000)
    p.add_argument("--cells", type=int, nargs="*", default=[], help="down-sampled cell counts")
    p.add_argument("--genes", type=int, default=100)
    p.add_argument("--cell-types", type=int, default=4)
    p.add_argument("--min-genes", type=int, default=20)
    p.add_argument("--encoder-epochs", type=int, default=40)
    p.add_argument("--encoder-batch", type=int, default=64)
    p.add_argument("--gene-epochs", type=int, default=20)
    p.add_argument("--attention-lr", type=float, default=1e-3)
    p.add_argument("--targets", nargs="+", default=["pca", "gene"])
    p.add_argument("--preset", default="small")
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        for cells in args.cells or [None]:
            for row in run_seed(args, seed, args.out, cells):
                rows.append(row)
                print(json.dumps(row, default=float), flush=True)
    (args.out / "claims.json").write_text(json.dumps(rows, indent=2, default=float) + "\n")
    prefixes = (
        "auroc_decoy",
        "auroc_all",
        "specific",
        "snv",
        "deeplift",
        "spearman",
        "encoder_val_auroc",
        "embedding_probe",
    )
    keys = [k for k in rows[0] if k.startswith(prefixes)]
    table = pd.DataFrame(rows).set_index(["seed", "cells", "target"])[keys].T
    print(table.to_string(float_format=lambda x: f"{x:.3g}"))


if __name__ == "__main__":
    main()
