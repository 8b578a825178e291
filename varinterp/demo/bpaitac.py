"""Demo step: bpAI-TAC on simulated ATAC of immune-like cell types, then per-cell-type
effects of the locus report's candidates.

`bpaitac_step` simulates an ATAC world (`DEMO_ATAC`: 11 cell types in 3 lineages, its
own 4-Mb genome of 6 chromosomes, seeded by the demo seed) into ``<demo>/atac/world``, counts its
fragments into per-cell-type Tn5 insertion bigWigs over its OCRs
(``<demo>/atac/insertions``), trains a small Tn5 bias model and a small bpAI-TAC model
on them (``<demo>/atac/bias``, ``<demo>/atac/model``; a couple of CPU minutes), and
measures the model on the held-out chromosome and on the world's motif-breaking SNPs
(`demo_metrics`). With ``ctx.quick`` the zoo's shipped ``bpaitac-demo`` model (trained
by the full seed-0 demo, with its bias network) is measured instead.
``ctx.files['bpaitac_model']`` is the model directory.

`celltype_effects_for` scores variants on the demo world's reference with that model
(one row per variant and cell type); the locus step passes the fine-mapped candidates
through it into the report's per-cell-type section. The model learnt its lineages'
motif grammar (SPI1, CEBP, EBF1, RUNX, ...) in another genome; the demo world's
enhancers are built from the same motifs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.demo.context import DemoContext, torch_threads

__all__ = [
    "DEMO_ATAC",
    "DEMO_MODEL",
    "DEMO_TRAINING",
    "bpaitac_step",
    "celltype_effects_for",
    "demo_metrics",
    "effects_line",
]

#: the demo's ATAC world (`varinterp.simulate.atac.AtacParams` fields)
DEMO_ATAC = {"genome_size": 4_000_000, "n_chromosomes": 6}
#: the demo's small model (`[model]` of a run config)
DEMO_MODEL = {"preset": "small", "filters": 24, "n_blocks": 4, "input_length": 400}
DEMO_TRAINING = {"max_epochs": 25, "patience": 6, "batch_size": 32, "warmup_steps": 100,
                 "device": "cpu"}  # fmt: skip
BIAS_TRAINING = {**DEMO_TRAINING, "max_epochs": 4}
VALIDATION, TEST = "chr5", "chr6"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def _config(path: Path, world: Path, insertions: Path, *, bias: bool, seed: int) -> Path:
    def rel(file: Path) -> str:  # run configs read paths from their own folder
        return os.path.relpath(file, path.parent)

    data = {
        "fasta": rel(world / "reference.fa"),
        "tasks": rel(insertions / "tasks.tsv"),
        "peaks": rel(world / ("background.bed" if bias else "ocrs.bed")),
        "validation_chroms": [VALIDATION],
        "test_chroms": [TEST],
    }
    training = {**(BIAS_TRAINING if bias else DEMO_TRAINING), "seed": seed}
    text = ""
    for name, section in (("data", data), ("model", DEMO_MODEL), ("training", training)):
        text += f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in section.items())
    path.write_text(text)
    return path


def _simulate(ctx: DemoContext) -> tuple[Path, Path]:
    from varinterp.atac.insertions import count_insertions
    from varinterp.simulate.atac_writers import simulate_atac

    root = ctx.out / "atac"
    root.mkdir(parents=True, exist_ok=True)
    _, files = simulate_atac(out=root / "world", seed=ctx.seed, overwrite=True, **DEMO_ATAC)
    count_insertions(
        out=root / "insertions", chrom_sizes=files.chrom_sizes, fragments=files.fragments,
        barcodes=files.barcodes, peaks=files.ocrs_bed, shift=False, min_fragments=100,
        overwrite=True,
    )  # fmt: skip
    return root / "world", root / "insertions"


def demo_metrics(model: Path, world: Path, config: Path, work: Path) -> dict[str, float]:
    """The model's test-chromosome metrics and SNP effects against the world's truth."""
    from varinterp.effects.frame import score_frame
    from varinterp.models.bpaitac.evaluate import evaluate_bpaitac

    ev = evaluate_bpaitac(model=model, config=config, out=work / "evaluation", overwrite=True)
    test = ev.metrics["test"]
    truth = pd.read_csv(world / "variant_effects.tsv", sep="\t")
    variants = truth.drop_duplicates("id")[["chrom", "pos", "id", "ref", "alt"]]
    scored = score_frame(model, variants, fasta=world / "reference.fa", rc_average=False,
                         pseudocount=1.0, device="cpu")  # fmt: skip
    both = truth.merge(
        scored[["id", "task", "log2fc"]].rename(columns={"task": "cell_type", "log2fc": "pred"}),
        on=["id", "cell_type"],
    )
    brk = both[both["kind"] == "break"]
    return {
        "test_ocrs": float(test["n_ocrs"]),
        "ocr_pearson_median": float(test["ocr_pearson_median"]),
        "task_pearson_median": float(test["task_pearson_median"]),
        "profile_jsd_median": float(test["profile_jsd_median"]),
        "snp_pearson_with_truth": float(np.corrcoef(both["pred"], both["log2fc"])[0, 1]),
        "snp_abs_effect_active": float(brk.loc[brk["tf_active"], "pred"].abs().mean()),
        "snp_abs_effect_inactive": float(brk.loc[~brk["tf_active"], "pred"].abs().mean()),
    }


def bpaitac_step(ctx: DemoContext) -> list[str]:
    """Simulate ATAC, train (or reuse) bpAI-TAC, measure it (module docstring)."""
    from varinterp.models.bpaitac.train import train_bpaitac, train_tn5_bias

    world, insertions = _simulate(ctx)
    root = ctx.out / "atac"
    config = _config(root / "run.toml", world, insertions, bias=False, seed=ctx.seed)
    with torch_threads(ctx.threads):
        if ctx.quick:
            from varinterp.demo.shipped import BPAITAC_DEMO, shipped_model

            model = shipped_model(BPAITAC_DEMO, ctx.zoo)
            how = f"shipped weights of the zoo's {BPAITAC_DEMO} (not trained; --full trains it)"
        else:
            bias_cfg = _config(root / "bias.toml", world, insertions, bias=True, seed=ctx.seed)
            train_tn5_bias(config=bias_cfg, out=root / "bias", overwrite=True)
            res = train_bpaitac(config=config, out=root / "model", bias_model=root / "bias",
                                overwrite=True)  # fmt: skip
            model = res.out
            epochs = len(res.summaries[1]["history"])
            how = f"trained here: {epochs} epochs, lambda 0.5, with its Tn5 bias model"
        metrics = demo_metrics(model, world, config, root)
    ctx.files["bpaitac_model"] = Path(model)
    ctx.objects["bpaitac_metrics"] = metrics
    tasks = pd.read_csv(insertions / "tasks.tsv", sep="\t")
    return [
        f"simulated ATAC of {len(tasks)} cell types in 3 lineages: "
        f"{int(tasks['insertions'].sum()):,} Tn5 insertions -> atac/insertions/*.bw",
        f"bpAI-TAC ({how}): on held-out {TEST} ({int(metrics['test_ocrs'])} OCRs) median "
        f"Pearson across cell types {metrics['ocr_pearson_median']:.2f}, across OCRs "
        f"{metrics['task_pearson_median']:.2f}",
        f"motif-breaking SNPs: mean |log2FC| {metrics['snp_abs_effect_active']:.2f} where "
        f"the motif's factor is active vs {metrics['snp_abs_effect_inactive']:.2f} elsewhere "
        f"(Pearson with the true effects {metrics['snp_pearson_with_truth']:.2f})",
    ]


def celltype_effects_for(
    ctx: DemoContext, variants: pd.DataFrame, out: Path, *, top: int = 50
) -> Path | None:
    """Per-cell-type scores of the `top` variants by PIP (``chrom pos ref alt
    variant_id pip``) on the demo world's reference with ``ctx.files['bpaitac_model']``;
    None when the demo has no bpAI-TAC model."""
    model = ctx.files.get("bpaitac_model")
    if model is None:
        return None
    from varinterp.effects.frame import score_frame
    from varinterp.io.atomic import atomic_path

    pick = variants.sort_values("pip", ascending=False).head(top)
    table = pick.rename(columns={"variant_id": "id"})[["chrom", "pos", "id", "ref", "alt"]]
    with torch_threads(ctx.threads):
        scored = score_frame(model, table, fasta=ctx.files["fasta"], pseudocount=1.0,
                             rc_average=False, device="cpu")  # fmt: skip
    with atomic_path(out, suffix=".tsv") as tmp:
        scored.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    return out


def effects_line(effects: Path, variant_id: str) -> str:
    """A summary line: `variant_id`'s largest per-cell-type effects in `effects`."""
    table = pd.read_csv(effects, sep="\t")
    rows = table[table["id"] == variant_id]
    if rows.empty:
        n = table["id"].nunique()
        return f"per-cell-type effects (bpAI-TAC) of {n} candidates in the report"
    rows = rows.reindex(rows["log2fc"].abs().sort_values(ascending=False).index)
    top = ", ".join(f"{r.task} {r.log2fc:+.2f}" for r in rows.head(3).itertuples())
    return f"bpAI-TAC log2FC of the causal SNP by cell type (largest): {top}; in the report"
