"""The bpAI-TAC paper's claims, measured on the simulated ATAC world with known truth.

One world (``varinterp simulate atac``, `--world-seed`), its insertions counted with the
world's OCR set (``atac insertions --no-shift --peaks ocrs.bed``), then for every
training seed:

- a Tn5 bias model (``train tn5-bias`` on the closed background regions);
- bpAI-TAC models with lambda = 0 (AI-TAC: counts only), 0.5 and 1 (profiles only),
  each with that bias model;
- one single-task model per lineage (same size and settings as the lambda = 0.5
  model), trained on the lineage's summed profiles and mean normalised counts;

and measures, on the held-out test chromosome (chr6; validation chr5):

(a) per-OCR Pearson across cell types, lambda = 0.5 vs 0, overall and by CV quartile;
(b) the same for lambda = 1 (near random on counts);
(c) per-OCR Pearson across the three lineages and per-lineage Pearson across OCRs: the
    multi-task model's lineage means vs the single-task lineage models;
(d) Pearson of the bias model's predicted profile with the planted Tn5 preference on
    held-out closed windows, against a shuffled control (each prediction paired with
    another window's planted preference);
(e) in-silico footprints (`footprint_motif`, bias zeroed, lambda = 0.5 model) of every
    lineage factor's motif: where the dip lies (centre of mass of the depletion, bp
    from the motif centre) in the cell types whose factor is active, and its depth in
    active vs inactive cell types;
(f) the world's motif-breaking SNPs scored per cell type (`score_frame`): mean |log2FC|
    in the cell types whose factor is active vs the others, the share of SNPs whose
    largest predicted effect is in such a cell type, and Pearson with the true effects.

Models are kept under --workdir; a rerun skips what is done. One JSON line per seed
goes to ``WORKDIR/results.jsonl`` and the summary table (mean +- sd over seeds) to
stdout and ``WORKDIR/summary.md``.

    python benchmarks/bpaitac/claims.py --workdir /tmp/bpaitac_claims --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

MODEL = {"preset": "small", "filters": 24, "n_blocks": 4, "input_length": 400}
TRAIN = {"max_epochs": 30, "patience": 6, "batch_size": 32, "warmup_steps": 100,
         "device": "cpu"}  # fmt: skip
LAMBDAS = (0.0, 0.5, 1.0)
VALIDATION, TEST = "chr5", "chr6"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_config(path: Path, sections: dict) -> Path:
    text = ""
    for name, section in sections.items():
        text += f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in section.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_world(work: Path, seed: int, genome_size: int = 4_000_000):
    from varinterp.atac.insertions import count_insertions
    from varinterp.simulate.atac_writers import simulate_atac

    world_dir, ins = work / "world", work / "insertions"
    if not (world_dir / "atac.json").is_file():
        simulate_atac(out=world_dir, seed=seed, genome_size=genome_size, overwrite=True)
    if not (ins / "tasks.tsv").is_file():
        count_insertions(out=ins, chrom_sizes=world_dir / "chrom.sizes",
                         fragments=world_dir / "fragments.tsv.gz",
                         barcodes=world_dir / "barcodes.tsv", peaks=world_dir / "ocrs.bed",
                         shift=False, min_fragments=100, overwrite=True)  # fmt: skip
    return world_dir, ins


def _data(world_dir: Path, ins: Path, *, bias: bool) -> dict:
    return {
        "fasta": str(world_dir / "reference.fa"),
        "tasks": str(ins / "tasks.tsv"),
        "peaks": str(world_dir / ("background.bed" if bias else "ocrs.bed")),
        "validation_chroms": [VALIDATION],
        "test_chroms": [TEST],
    }


def train_models(work: Path, world_dir: Path, ins: Path, seed: int) -> dict[str, Path]:
    from varinterp.models.bpaitac.train import train_bpaitac, train_tn5_bias

    out = work / f"seed{seed}"
    training = {**TRAIN, "seed": seed}
    bias_cfg = write_config(
        out / "bias.toml",
        {"data": _data(world_dir, ins, bias=True), "model": MODEL, "training": training},
    )
    models = {"bias": out / "bias"}
    if not (out / "bias" / "config.json").is_file():
        train_tn5_bias(config=bias_cfg, out=out / "bias", overwrite=True)
    for lam in LAMBDAS:
        cfg = write_config(
            out / f"lam{lam}.toml",
            {
                "data": _data(world_dir, ins, bias=False),
                "model": MODEL,
                "training": {**training, "lambda": lam},
            },
        )
        path = out / f"lam{lam}"
        models[f"lam{lam}"] = path
        models[f"cfg{lam}"] = cfg
        if not (path / "config.json").is_file():
            train_bpaitac(config=cfg, out=path, bias_model=out / "bias", overwrite=True)
    return models


def claim_ab(models, work: Path, seed: int) -> dict:
    from varinterp.models.bpaitac.evaluate import evaluate_bpaitac

    out = {}
    for lam in LAMBDAS:
        ev = evaluate_bpaitac(model=models[f"lam{lam}"], config=models[f"cfg{lam}"],
                              out=work / f"seed{seed}" / f"eval{lam}", overwrite=True)  # fmt: skip
        m = ev.metrics["test"]
        out[f"lam{lam}"] = {k: m[k] for k in (
            "ocr_pearson_median", "ocr_pearson_log_median", "task_pearson_median",
            "ocr_pearson_cv_q1_median", "ocr_pearson_cv_q2_median", "ocr_pearson_cv_q3_median",
            "ocr_pearson_cv_q4_median", "profile_jsd_median")}  # fmt: skip
    return out


def _lineages(world_dir: Path, tasks: tuple[str, ...]) -> dict[str, list[int]]:
    cts = pd.read_csv(world_dir / "cell_types.tsv", sep="\t")
    lin = dict(zip(cts["cell_type"], cts["lineage"], strict=True))
    out: dict[str, list[int]] = {}
    for i, t in enumerate(tasks):
        out.setdefault(lin[t], []).append(i)
    return out


def claim_c(models, world_dir: Path, seed: int) -> dict:
    """Multi-task lineage means vs one single-task model per lineage."""
    import dataclasses

    import torch

    from varinterp.models.bpaitac.loss import AtacLoss
    from varinterp.models.bpaitac.metrics import per_ocr_pearson, per_task_pearson
    from varinterp.models.bpaitac.network import BpAiTac
    from varinterp.models.bpaitac.runconfig import fit_settings, load_run_config
    from varinterp.models.bpaitac.task import AtacTask
    from varinterp.models.bpaitac.train import (
        _bias_logits,
        build_data,
        load_bias_model,
        predict_data,
        split_indices,
    )
    from varinterp.training.engine import fit
    from varinterp.training.inference import load_model

    run = load_run_config(models["cfg0.5"])
    ens = load_model(models["lam0.5"], device="cpu")
    cfg = ens.model_dir.config
    data = build_data(run, input_length=cfg.input_length, output_length=cfg.output_length)
    bias = load_bias_model(models["bias"], input_length=cfg.input_length,
                           output_length=cfg.output_length)  # fmt: skip
    data.bias = _bias_logits(bias, data, torch.device("cpu"), bf16=False)
    split = split_indices(data, fraction=0.0, seed=seed)
    test = split["test"]
    lineages = _lineages(world_dir, data.tasks)
    obs = np.stack([data.totals[:, idx].mean(axis=1) for idx in lineages.values()], axis=1)
    _, multi_counts = predict_data(list(ens.models.values()), data, test,
                                   device=torch.device("cpu"))  # fmt: skip
    multi = np.stack([multi_counts[:, idx].mean(axis=1) for idx in lineages.values()], axis=1)
    single = np.zeros_like(multi)
    for j, (lineage, idx) in enumerate(lineages.items()):
        path = Path(models["lam0.5"]).parent / f"single_{lineage}.pt"
        sub = dataclasses.replace(
            data, tasks=(lineage,), profile=np.asarray(data.profile)[:, idx].sum(1, keepdims=True),
            totals=obs[:, j : j + 1].astype(np.float32),
            totals_raw=obs[:, j : j + 1],
        )  # fmt: skip
        single_cfg = dataclasses.replace(cfg, n_tasks=1)
        typical = np.expm1(np.log1p(sub.totals[split["train"]]).mean(0))

        def make(_a, single_cfg=single_cfg, typical=typical):
            m = BpAiTac(single_cfg)
            m.bias.load_state_dict(bias.state)
            with torch.no_grad():
                m.counts.bias.copy_(torch.from_numpy(typical).float())
            return m

        task = AtacTask(sub, train_index=split["train"], val_index=split["validation"],
                        batch_size=run.training.batch_size, loss=AtacLoss("ce", 0.5))  # fmt: skip
        fitted = fit(make_model=make, task=task, settings=fit_settings(run.training),
                     device=torch.device("cpu"), seed=seed * 1000 + 1, order_seed=(seed, 1),
                     state_path=path)  # fmt: skip
        model = make(0)
        model.load_state_dict(fitted.best_state)
        _, c = predict_data([model], sub, test, device=torch.device("cpu"))
        single[:, j] = c[:, 0]
    o = obs[test]
    return {
        "lineages": list(lineages),
        "multi_ocr_pearson_median": float(np.nanmedian(per_ocr_pearson(multi, o))),
        "single_ocr_pearson_median": float(np.nanmedian(per_ocr_pearson(single, o))),
        "multi_lineage_pearson": per_task_pearson(multi, o).tolist(),
        "single_lineage_pearson": per_task_pearson(single, o).tolist(),
    }


def claim_d(models, work: Path, seed: int) -> dict:
    import torch

    from varinterp.models.bpaitac.metrics import row_pearson
    from varinterp.models.bpaitac.runconfig import load_run_config
    from varinterp.models.bpaitac.train import build_data, load_bias_model
    from varinterp.simulate.tn5 import tn5_preference

    run = load_run_config(work / f"seed{seed}" / "bias.toml", kind="tn5-bias")
    bias = load_bias_model(models["bias"], input_length=MODEL["input_length"],
                           output_length=250)  # fmt: skip
    cfg = bias.config
    data = build_data(run, input_length=cfg.input_length, output_length=cfg.output_length)
    test = data.index("test")
    net = bias.network()
    with torch.no_grad():
        x = torch.from_numpy(np.asarray(data.seq[test])).float()
        pred = torch.softmax(net.profile_logits(net.body(x))[:, 0], -1).numpy()
    codes = np.asarray(data.seq[test]).argmax(1)
    s = cfg.output_start
    planted = np.stack([tn5_preference(c)[s : s + cfg.output_length] for c in codes])
    r = row_pearson(pred, planted)
    rng = np.random.default_rng(seed)
    r_ctrl = row_pearson(pred, planted[rng.permutation(len(planted))])
    return {"n_windows": int(test.size), "pearson_median": float(np.nanmedian(r)),
            "control_pearson_median": float(np.nanmedian(r_ctrl))}  # fmt: skip


def claim_e(models, world_dir: Path) -> dict:
    from varinterp.models.bpaitac.footprint import footprint_motif
    from varinterp.simulate.atac_model import LINEAGES
    from varinterp.simulate.motifs import MOTIFS
    from varinterp.training.inference import load_model

    ens = load_model(models["lam0.5"], device="cpu")
    cts = pd.read_csv(world_dir / "cell_types.tsv", sep="\t").set_index("cell_type")
    out = {}
    for tfs, _ in LINEAGES.values():
        for tf in tfs:
            fp = footprint_motif(ens, MOTIFS[tf].consensus, n=200, seed=0)
            active = [i for i, t in enumerate(fp.tasks) if cts.loc[t, f"occ:{tf}"] > 0.3]
            inactive = [i for i in range(len(fp.tasks)) if i not in active]
            offsets = [fp.dip_offset(i) for i in active]
            out[tf] = {
                "offset_median": float(np.nanmedian(offsets)),
                "within_2bp": float(np.mean([abs(o) <= 2 for o in offsets])),
                "depth_active": float(np.mean([fp.dip_depth(i) for i in active])),
                "depth_inactive": float(np.mean([fp.dip_depth(i) for i in inactive])),
            }
    return out


def claim_f(models, world_dir: Path) -> dict:
    from varinterp.effects.frame import score_frame

    truth = pd.read_csv(world_dir / "variant_effects.tsv", sep="\t")
    variants = truth.drop_duplicates("id")[["chrom", "pos", "id", "ref", "alt"]]
    scored = score_frame(models["lam0.5"], variants, fasta=world_dir / "reference.fa",
                         rc_average=False, pseudocount=1.0, device="cpu")  # fmt: skip
    table = truth.merge(
        scored[["id", "task", "log2fc"]].rename(columns={"task": "cell_type", "log2fc": "pred"}),
        on=["id", "cell_type"],
    )
    brk = table[table["kind"] == "break"]
    top = brk.loc[brk.groupby("id")["pred"].apply(lambda s: s.abs().idxmax())]
    ctrl = table[table["kind"] == "control"]
    return {
        "n_break": int(brk["id"].nunique()),
        "abs_pred_active": float(brk.loc[brk["tf_active"], "pred"].abs().mean()),
        "abs_pred_inactive": float(brk.loc[~brk["tf_active"], "pred"].abs().mean()),
        "abs_pred_control": float(ctrl["pred"].abs().mean()),
        "top_effect_in_active": float(top["tf_active"].mean()),
        "pearson_with_truth": float(np.corrcoef(table["pred"], table["log2fc"])[0, 1]),
    }


def _mean_sd(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{np.nanmean(v):.3f} ± {np.nanstd(v):.3f}" if v.size > 1 else f"{v[0]:.3f}"


def summary(rows: list[dict]) -> str:
    lines = ["| claim | measure | value (mean ± sd over seeds) |", "|---|---|---|"]

    def add(claim, what, values):
        lines.append(f"| {claim} | {what} | {_mean_sd(values)} |")

    for lam in LAMBDAS:
        add(
            "a/b",
            f"lambda {lam}: median per-OCR Pearson across cell types",
            [r["ab"][f"lam{lam}"]["ocr_pearson_median"] for r in rows],
        )
    for q in (1, 4):
        for lam in (0.0, 0.5):
            add(
                "a",
                f"lambda {lam}: same, CV quartile {q}",
                [r["ab"][f"lam{lam}"][f"ocr_pearson_cv_q{q}_median"] for r in rows],
            )
    for lam in LAMBDAS:
        add(
            "b",
            f"lambda {lam}: median per-cell-type Pearson across OCRs",
            [r["ab"][f"lam{lam}"]["task_pearson_median"] for r in rows],
        )
    add(
        "c",
        "multi-task: median per-OCR Pearson across lineages",
        [r["c"]["multi_ocr_pearson_median"] for r in rows],
    )
    add(
        "c", "single-task lineage models: same", [r["c"]["single_ocr_pearson_median"] for r in rows]
    )
    add(
        "c",
        "multi-task: mean per-lineage Pearson across OCRs",
        [np.mean(r["c"]["multi_lineage_pearson"]) for r in rows],
    )
    add("c", "single-task: same", [np.mean(r["c"]["single_lineage_pearson"]) for r in rows])
    add(
        "d",
        "bias model vs planted Tn5 preference: median Pearson",
        [r["d"]["pearson_median"] for r in rows],
    )
    add("d", "shuffled control", [r["d"]["control_pearson_median"] for r in rows])
    tfs = list(rows[0]["e"])
    add(
        "e",
        "footprint dip within +-2 bp of the motif centre (share of active cell types, all factors)",
        [np.mean([r["e"][t]["within_2bp"] for t in tfs]) for r in rows],
    )
    add(
        "e",
        "median dip offset (bp)",
        [np.median([r["e"][t]["offset_median"] for t in tfs]) for r in rows],
    )
    add(
        "e",
        "dip depth log2, active cell types",
        [np.mean([r["e"][t]["depth_active"] for t in tfs]) for r in rows],
    )
    add(
        "e",
        "dip depth log2, inactive cell types",
        [np.mean([r["e"][t]["depth_inactive"] for t in tfs]) for r in rows],
    )
    add(
        "f",
        "mean abs predicted log2FC, factor-active cell types",
        [r["f"]["abs_pred_active"] for r in rows],
    )
    add("f", "same, inactive cell types", [r["f"]["abs_pred_inactive"] for r in rows])
    add("f", "same, control SNPs", [r["f"]["abs_pred_control"] for r in rows])
    add(
        "f",
        "share of SNPs whose largest effect is in a factor-active cell type",
        [r["f"]["top_effect_in_active"] for r in rows],
    )
    add("f", "Pearson of predicted with true log2FC", [r["f"]["pearson_with_truth"] for r in rows])
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--world-seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--genome-size", type=int, default=4_000_000, help="smaller: a smoke run")
    ap.add_argument("--max-epochs", type=int, default=TRAIN["max_epochs"])
    args = ap.parse_args()
    TRAIN["max_epochs"] = args.max_epochs

    import torch

    torch.set_num_threads(args.threads)
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    world_dir, ins = make_world(work, args.world_seed, args.genome_size)
    print(f"world and insertions: {time.time() - t0:.0f} s", flush=True)
    rows = []
    done_path = work / "results.jsonl"
    done = {}
    if done_path.is_file():
        for line in done_path.read_text().splitlines():
            row = json.loads(line)
            done[row["seed"]] = row
    for seed in args.seeds:
        if seed in done:
            rows.append(done[seed])
            continue
        t1 = time.time()
        models = train_models(work, world_dir, ins, seed)
        t_train = time.time() - t1
        row = {"seed": seed, "world_seed": args.world_seed, "train_seconds": round(t_train)}
        row["ab"] = claim_ab(models, work, seed)
        row["c"] = claim_c(models, world_dir, seed)
        row["d"] = claim_d(models, work, seed)
        row["e"] = claim_e(models, world_dir)
        row["f"] = claim_f(models, world_dir)
        row["seconds"] = round(time.time() - t1)
        with done_path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        rows.append(row)
        print(f"seed {seed}: {row['seconds']} s ({t_train:.0f} s training)", flush=True)
    text = summary(rows)
    (work / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
