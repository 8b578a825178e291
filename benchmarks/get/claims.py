"""GET's claims measured on the simulated expression world (several seeds).

    python benchmarks/get/claims.py --seeds 0 1 2 --epochs 20 --out benchmarks/get/results

Per seed: a world of 5 contigs of 1.5 Mb (``varinterp.simulate.expression``; chr4
validates, chr5 is the test contig), motif features from varinterp's own FIMO scan of the planted
motifs, a CPU-sized GET (D 64, 3 layers, 4 heads, 64-region windows) and, in the same
run, the paper's MLP baseline on the same features (283 -> 512 -> 256 -> 2 in the paper;
here F -> 512 -> 256 -> 2, softplus), both through varinterp's engine. Measured:

(a) test-contig Pearson of predicted vs true log10(TPM + 1), training cell types;
(b) held-out cell type: zero-shot vs LoRA (rank 8) fine-tuned on it (training contigs);
(c) masked pretraining: test-contig MSE of masked features vs the column-mean baseline;
    fine-tuning from the pretrained weights vs from scratch at equal (short) steps;
(d) Jacobian x accessibility ranks planted causal enhancers above decoys: AUPRC by
    distance bin vs the ABC power-law baseline (accessibility x distance power law), for
    the default GET and the positional variant;
(e) motif-killing SNPs: predicted change of their own genes vs other genes in windows
    (default and positional GET); (c) is also measured with the positional variant.

Writes ``<out>/seed_<s>.json`` and prints one line per claim.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import average_precision_score
from torch import nn

from varinterp.models.get.data import build_get_data
from varinterp.models.get.expression import read_expression, read_tss
from varinterp.models.get.interpret import enhancer_scores
from varinterp.models.get.network import GetConfig
from varinterp.models.get.predict import evaluate_genes
from varinterp.models.get.task import GetTask, windows_of
from varinterp.models.get.train import GetRecipe, lora_get, pretrain_get, train_get
from varinterp.motifs.files import read_features
from varinterp.motifs.pipeline import scan_peaks
from varinterp.simulate.expression import simulate_expression
from varinterp.training.engine import fit
from varinterp.training.settings import FitSettings, OptimizerSettings

TRAIN, VAL, TEST = {"chr1", "chr2", "chr3"}, "chr4", "chr5"
N_REGIONS = 64


class Mlp(nn.Module):
    """The paper's MLP baseline, applied to each region on its own."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, 512),
            nn.ReLU(),
            nn.Linear(512, 256),
            nn.ReLU(),
            nn.Linear(256, 2),
            nn.Softplus(),
        )

    def forward(self, x, mask=None):
        return self.net(x)


def world(seed: int, root: Path, chrom_length: int = 2_000_000):
    d = root / f"world_{seed}"
    if not (d / "features.h5").is_file():
        simulate_expression(
            out=d, overwrite=True, seed=seed, n_chromosomes=5, chrom_length=chrom_length
        )
        scan_peaks(
            peaks=d / "peaks.bed",
            fasta=d / "genome.fa",
            motifs=d / "motifs.meme",
            clusters=d / "clusters.tsv",
            counts=d / "counts.tsv",
            out=d / "features.h5",
            overwrite=True,
        )
    data = build_get_data(
        read_features(d / "features.h5"),
        read_expression(d / "expression.tsv"),
        read_tss(d / "genes.bed"),
    )
    return d, data


def pearsons(models, data, types, chrom):
    return {
        t: evaluate_genes(models, data, t, chroms={chrom}, n_regions=N_REGIONS)["pearson"]
        for t in types
    }


def train_mlp(data, types, recipe, seed):
    torch.manual_seed(seed)
    model = Mlp(data.n_features)
    task = GetTask(
        data,
        train=windows_of(data, types, TRAIN, N_REGIONS, N_REGIONS // 2),
        validation=windows_of(data, types, {VAL}, N_REGIONS, N_REGIONS),
        batch_size=recipe.batch_size,
    )
    steps = task.n_batches("train", 1)
    settings = FitSettings(
        max_epochs=recipe.epochs,
        patience=recipe.patience,
        monitor="val_tss_loss",
        prefetch=0,
        optimizer=OptimizerSettings(
            name="adamw",
            lr=recipe.lr,
            weight_decay=0.05,
            warmup_steps=steps,
            schedule="cosine",
            cosine_steps=recipe.epochs * steps,
        ),
    )
    res = fit(
        make_model=lambda a: model,
        task=task,
        settings=settings,
        device=torch.device("cpu"),
        seed=seed,
    )
    model.load_state_dict(res.best_state)
    return model


def powerlaw(distance):
    gamma, scale = 1.024238616787792, 5.9594510043736655
    d = np.maximum(np.abs(distance), 5000)
    return np.exp(scale - gamma * np.log(d + 1))


def auprc_bins(table, score):
    out = {}
    bins = {"0-10kb": (0, 10_000), "10-100kb": (10_000, 100_000), ">100kb": (100_000, np.inf)}
    for name, (lo, hi) in bins.items():
        sel = table[(table["distance"].abs() >= lo) & (table["distance"].abs() < hi)]
        if sel["causal"].nunique() < 2:
            out[name] = (float("nan"), float("nan"), len(sel))
            continue
        out[name] = (
            float(average_precision_score(sel["causal"], sel[score])),
            float(sel["causal"].mean()),
            len(sel),
        )
    return out


def claim_d(model, data, folder, types):
    truth = pd.read_csv(folder / "truth" / "enhancers.tsv", sep="\t")
    test_genes = data.genes.loc[data.genes["chrom"] == TEST, "gene"].tolist()
    rows = []
    for t in types:
        sc = enhancer_scores(model, data, cell_type=t, genes=test_genes, n_regions=N_REGIONS)
        m = truth.merge(sc, on=["gene", "chrom", "start", "end"], how="inner", suffixes=("", "_s"))
        m["abc_powerlaw"] = m["accessibility"] * powerlaw(m["distance"])
        rows.append(m)
    table = pd.concat(rows, ignore_index=True)
    return {
        "get": auprc_bins(table, "score"),
        "abc_powerlaw": auprc_bins(table, "abc_powerlaw"),
        "n_pairs": len(table),
    }


def claim_e(model_dir, folder):
    from varinterp.effects.frame import score_frame
    from varinterp.training.inference import load_model

    truth = pd.read_csv(folder / "truth" / "snps.tsv", sep="\t")
    ens = load_model(model_dir, device="cpu")
    table = score_frame(
        ens, truth[["chrom", "pos", "id", "ref", "alt"]], fasta=folder / "genome.fa"
    )
    own, other, best = [], [], 0
    n = 0
    for snp in truth.itertuples(index=False):
        if snp.genes == ".":
            continue
        genes = set(str(snp.genes).split(","))
        rows = table[(table["id"] == snp.id) & (table["gene"] != ".")]
        if rows.empty:
            continue
        n += 1
        d = rows["expression_delta"].abs()
        own += d[rows["gene"].isin(genes)].tolist()
        other += d[~rows["gene"].isin(genes)].tolist()
        top = rows.loc[d.idxmax(), "gene"]
        best += top in genes
    return {
        "n_snps": n,
        "mean_abs_delta_own": float(np.mean(own)) if own else float("nan"),
        "mean_abs_delta_other": float(np.mean(other)) if other else float("nan"),
        "own_gene_is_largest": best / n if n else float("nan"),
    }


def run(seed: int, out: Path, epochs: int, chrom_length: int) -> dict:
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    folder, data = world(seed, out, chrom_length)
    types = [t for t in data.cell_types if t != "heldout"]
    cfg = dataclasses.replace(GetConfig.small(data.n_features, N_REGIONS))
    rec = GetRecipe(
        epochs=epochs,
        patience=epochs,
        batch_size=8,
        lr=1e-3,
        held_out_chroms=(VAL,),
        held_out_cell_types=("heldout",),
    )
    data.regions = data.regions  # the test contig is never trained on: drop it from training
    res: dict = {"seed": seed, "n_regions": len(data.regions), "n_genes": len(data.genes)}
    keep = rec.train_cell_types or tuple(types)
    rec = dataclasses.replace(rec, train_cell_types=keep)
    scratch = train_get(_without(data, TEST), config=cfg, recipe=rec, seed=seed)
    res["train_samples_per_s"] = float(np.mean([h.samples_per_s for h in scratch.result.history]))
    mlp = train_mlp(_without(data, TEST), types, rec, seed)
    res["a_get"] = pearsons([scratch.model], data, types, TEST)
    res["a_mlp"] = pearsons([mlp], data, types, TEST)
    res["b_zero_shot"] = pearsons([scratch.model], data, ["heldout"], TEST)["heldout"]
    lora_rec = dataclasses.replace(
        rec,
        epochs=max(epochs // 2, 5),
        patience=epochs,
        train_cell_types=("heldout",),
        held_out_cell_types=(),
    )
    adapted = lora_get(
        _without(data, TEST), base=scratch.model, cell_types=["heldout"], recipe=lora_rec, seed=seed
    )
    res["b_lora"] = pearsons([adapted.model], data, ["heldout"], TEST)["heldout"]
    res["b_lora_parameters"] = adapted.metadata["trainable_parameters"]
    pre = pretrain_get(
        _without(data, TEST),
        config=cfg,
        recipe=dataclasses.replace(rec, held_out_cell_types=()),
        seed=seed,
    )
    res["c_mask_mse"], res["c_mean_mse"] = _masked_mse(pre.model, data, types, seed)
    short = dataclasses.replace(rec, epochs=max(epochs // 4, 3), patience=epochs)
    warm = train_get(
        _without(data, TEST), config=cfg, recipe=short, init=pre.model.state_dict(), seed=seed
    )
    cold = train_get(_without(data, TEST), config=cfg, recipe=short, seed=seed)
    res["c_pretrained_then_finetuned"] = pearsons([warm.model], data, types, TEST)
    res["c_scratch_equal_steps"] = pearsons([cold.model], data, types, TEST)
    res["d"] = claim_d(scratch.model, data, folder, types[:3])
    pos_cfg = dataclasses.replace(cfg, positional=True)
    positional = train_get(_without(data, TEST), config=pos_cfg, recipe=rec, seed=seed)
    res["a_get_positional"] = pearsons([positional.model], data, types, TEST)
    res["d_positional"] = claim_d(positional.model, data, folder, types[:3])
    from varinterp.models.get.files import save_get_model

    mdir = save_get_model(
        out / f"model_{seed}",
        models={"model": scratch.model},
        data=data,
        n_regions=N_REGIONS,
        overwrite=True,
    )
    res["e"] = claim_e(mdir, folder)
    pdir = save_get_model(
        out / f"model_positional_{seed}",
        models={"model": positional.model},
        data=data,
        n_regions=N_REGIONS,
        overwrite=True,
    )
    res["e_positional"] = claim_e(pdir, folder)
    pre_pos = pretrain_get(
        _without(data, TEST),
        config=pos_cfg,
        recipe=dataclasses.replace(rec, held_out_cell_types=()),
        seed=seed,
    )
    res["c_positional_mask_mse"], _ = _masked_mse(pre_pos.model, data, types, seed)
    res["seconds"] = time.perf_counter() - t0
    return res


def _without(data, chrom):
    """The data with `chrom`'s regions inactive (never in a training window)."""
    d = dataclasses.replace(data, active=data.active.copy(), _by_type={})
    d.active[d.regions["chrom"].to_numpy() == chrom] = False
    return d


def _masked_mse(model, data, types, seed):
    """Test-contig MSE of masked features: the model vs the training column means."""
    from varinterp.models.get.task import GetTask

    train = windows_of(data, types, TRAIN, N_REGIONS, N_REGIONS)
    test = windows_of(data, types, {TEST}, N_REGIONS, N_REGIONS)
    task = GetTask(data, train=train, validation=test, mode="pretrain", batch_size=8)
    xs = np.concatenate(
        [
            b.x.numpy()[b.valid.numpy()]
            for b in task.batches("train", epoch=0, rng=None, rank=0, world_size=1)
        ]
    )
    mean = xs.mean(axis=0)
    err_m = err_b = n = 0.0
    model.eval()
    with torch.no_grad():
        for b in task.batches("validation", epoch=0, rng=None, rank=0, world_size=1):
            rec = model(b.x, mask=b.mask).numpy()
            mk = b.mask.numpy()
            x = b.x.numpy()
            err_m += ((rec[mk] - x[mk]) ** 2).sum()
            err_b += ((mean[None, :] - x[mk]) ** 2).sum()
            n += mk.sum() * x.shape[-1]
    return float(err_m / n), float(err_b / n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--chrom-length", type=int, default=1_500_000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/get/results"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        res = run(seed, args.out, args.epochs, args.chrom_length)
        (args.out / f"seed_{seed}.json").write_text(json.dumps(res, indent=2, default=float) + "\n")
        print(json.dumps(res, default=float))


if __name__ == "__main__":
    main()
