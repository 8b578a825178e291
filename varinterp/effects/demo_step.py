"""Demo step: score the world's designed SNPs with the demo CLIPNET and measure separation.

`scoring_step` runs after `varinterp.training.demo_step.clipnet_step`. It takes the SNPs
of the world's ``truth.tsv`` that sit in planted elements:

- **causal**: designed ``motif_break`` and ``motif_gain`` SNPs (``causal == true``);
- **non-causal**: designed ``motif_neutral`` SNPs and the other SNPs inside elements
  (class ``element``), the hard negatives next to the causal ones;

scores each in the **reference context** (the FASTA window centred on the SNP,
homozygous ref vs homozygous alt, reverse-complement averaged; as ``varinterp score``
without ``--store``) with the fold model that held out its chromosome when the demo
model has one (``held_out``), else with the mean of the fold models, and reports the
AUROC (`sklearn.metrics.roc_auc_score`) of ``|log2fc|`` and ``profile_l2`` for causal
vs non-causal, over all scored SNPs and over the held-out ones. When the simulated
PRO-cap's exact effects are available (``procap/variant_effects.tsv``), the table also
carries the true ``log2fc_total`` and the step reports the Pearson r of predicted and
true log2 fold changes over the causal SNPs.

`qtl_step` (optional, about as long again as training the demo model) trains the same
small CLIPNET on the reference sequence only (``--reference-only``: same settings, seed
and folds) and runs the genotype-group QTL benchmark (`varinterp.effects.qtl`) with
both models side by side on every SNP of the held-out contigs that the simulator says
can change an element (``procap/variant_effects.tsv``), against the simulated tracks.

Writes ``effects.tsv`` (``ctx.files["effects"]``): ``variant_id chrom pos ref alt class
causal scorer held_out`` + the scores of `varinterp.effects.scores.effect_scores` +
``true_log2fc``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.io.atomic import atomic_path

__all__ = ["NON_CAUSAL_CLASSES", "score_snps", "scoring_step", "separation"]

#: truth.tsv classes used as non-causal SNPs (causal ones are flagged ``causal``).
NON_CAUSAL_CLASSES = ("motif_neutral", "element")

_CODE = {b: i for i, b in enumerate("ACGT")}


def score_snps(
    *,
    model: str | Path,
    fasta: str | Path,
    snps: pd.DataFrame,
    batch_size: int = 64,
    device: str = "cpu",
) -> pd.DataFrame:
    """Reference-context scores of `snps` (columns ``chrom``, 1-based ``pos``, ``ref``, ``alt``).

    Each SNP is predicted by ``fold_k`` when its contig is fold ``k`` of the model's table
    and ``fold_k`` exists (``held_out`` True), else by the mean of all fold models.
    Returns `snps` plus ``scorer``, ``held_out`` and the `effect_scores` columns.
    """
    from varinterp.effects.ensemble import load_ensemble
    from varinterp.effects.predict import predict_windows
    from varinterp.effects.score import build_windows
    from varinterp.effects.scores import effect_scores
    from varinterp.io.fasta import Reference

    ens = load_ensemble(model, device=device)
    reference = Reference(fasta)
    snps = snps.reset_index(drop=True)
    chroms = snps["chrom"].astype(str).tolist()
    x, _, _ = build_windows(reference, chroms, snps["pos"].to_numpy(np.int64) - 1, ens.input_length)
    c = ens.input_length // 2
    rows = np.arange(len(snps))
    xr = x.copy()
    xr[:, :, c] = 0
    xr[rows, snps["ref"].map(_CODE).to_numpy(), c] = 2
    xa = xr.copy()
    xa[:, :, c] = 0
    xa[rows, snps["alt"].map(_CODE).to_numpy(), c] = 2
    scorers = []
    for chrom in chroms:
        fold = ens.fold_map(chrom)
        name = ens.fold_model(fold) if fold is not None else None
        scorers.append(name or "ensemble")
    scorers_arr = np.array(scorers, dtype=object)
    n, (_, n_strands, out_len) = len(snps), (0, 2, ens.output_length)
    prof = np.zeros((2, n, n_strands, out_len), dtype=np.float32)
    quant = np.zeros((2, n), dtype=np.float32)
    for name in sorted(set(scorers)):
        idx = np.flatnonzero(scorers_arr == name)
        models = list(ens.models.values()) if name == "ensemble" else [ens.models[name]]
        both = np.concatenate([xr[idx], xa[idx]])
        p, q = predict_windows(models, both, batch_size=batch_size, device=device)
        prof[0, idx], prof[1, idx] = p[: idx.size], p[idx.size :]
        quant[0, idx], quant[1, idx] = q[: idx.size], q[idx.size :]
    scores = effect_scores(prof[0], quant[0], prof[1], quant[1])
    table = snps.copy()
    table["scorer"] = scorers
    table["held_out"] = scorers_arr != "ensemble"
    for k, v in scores.items():
        table[k] = v
    return table


def separation(table: pd.DataFrame, score: str, *, subset: np.ndarray | None = None) -> float:
    """AUROC of `score` (absolute value) for ``causal`` vs not; NaN if a class is empty."""
    from sklearn.metrics import roc_auc_score

    t = table if subset is None else table[subset]
    y = t["causal"].astype(bool).to_numpy()
    s = np.abs(t[score].to_numpy(np.float64))
    ok = np.isfinite(s)
    if y[ok].all() or not y[ok].any():
        return float("nan")
    return float(roc_auc_score(y[ok], s[ok]))


def _true_log2fc(path: Path) -> pd.Series:
    """variant_id -> true log2fc_total of the element it changes most (largest |log2fc|)."""
    eff = pd.read_csv(path, sep="\t", usecols=["variant_id", "log2fc_total"])
    eff = eff.assign(a=eff["log2fc_total"].abs()).sort_values("a", kind="stable")
    return eff.drop_duplicates("variant_id", keep="last").set_index("variant_id")["log2fc_total"]


def scoring_step(ctx) -> list[str]:
    """Score the world's causal and non-causal SNPs with the demo model (module docstring)."""
    import torch

    world = ctx.objects["world"]
    truth = world.truth
    causal = truth["causal"].astype(str).str.lower() == "true"
    keep = causal | truth["class"].isin(NON_CAUSAL_CLASSES)
    snps = truth.loc[keep, ["variant_id", "chrom", "pos", "ref", "alt", "class"]].copy()
    snps["causal"] = causal[keep].to_numpy()
    threads = torch.get_num_threads()
    torch.set_num_threads(max(int(ctx.threads), 1))
    try:
        table = score_snps(model=ctx.files["clipnet"], fasta=ctx.files["fasta"], snps=snps)
    finally:
        torch.set_num_threads(threads)
    effects = Path(ctx.files.get("procap", Path(ctx.out) / "procap")) / "variant_effects.tsv"
    if effects.is_file():
        table["true_log2fc"] = table["variant_id"].map(_true_log2fc(effects)).fillna(0.0)
    out = Path(ctx.out) / "effects.tsv"
    with atomic_path(out) as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    ctx.files["effects"] = out
    n_c = int(table["causal"].sum())
    held = table["held_out"].to_numpy()
    lines = [
        f"scored {len(table)} SNPs in planted elements ({n_c} causal motif breaks/gains, "
        f"{len(table) - n_c} neutral or outside motifs), reference context -> effects.tsv",
    ]
    for label, subset in (("all", None), ("held-out chromosomes", held)):
        n = len(table) if subset is None else int(subset.sum())
        lines.append(
            f"causal vs non-causal AUROC ({label}, n={n}): |log2fc| "
            f"{separation(table, 'log2fc', subset=subset):.3f}, profile L2 "
            f"{separation(table, 'profile_l2', subset=subset):.3f} (0.5 = no separation)"
        )
    if "true_log2fc" in table:
        from scipy.stats import pearsonr

        c = table[table["causal"]]
        if len(c) >= 3 and c["true_log2fc"].std() > 0 and c["log2fc"].std() > 0:
            r = pearsonr(c["true_log2fc"], c["log2fc"])[0]
            lines.append(f"predicted vs true log2fc over causal SNPs: Pearson r = {r:.3f}")
    return lines


def qtl_step(ctx) -> list[str]:
    """Personal vs reference-only demo model on the QTL benchmark (module docstring).

    Needs ``ctx.files`` ``clipnet``, ``clipnet_config``, ``clipnet_samples`` and
    ``procap`` (the CLIPNET demo step; the benchmark uses the demo model's libraries);
    sets ``ctx.files`` ``clipnet_reference`` and ``qtl`` (the benchmark folder).
    """
    import torch

    from varinterp.effects.qtl import qtl_benchmark
    from varinterp.training.checkpoint import read_model_dir
    from varinterp.training.demo_step import train_small

    out = Path(ctx.out)
    personal = Path(ctx.files["clipnet"])
    model_dir = read_model_dir(personal, architecture="clipnet")
    table = model_dir.metadata.get("folds") or {}
    folds = sorted(int(n.split("_", 1)[1]) for n in model_dir.folds)
    held = [c for c, f in table.items() if f in folds]
    effects = pd.read_csv(Path(ctx.files["procap"]) / "variant_effects.tsv", sep="\t")
    ids = effects.loc[effects["chrom"].isin(held), "variant_id"].drop_duplicates()
    qtls = out / "qtl_snps.txt"
    with atomic_path(qtls) as tmp:
        tmp.write_text("".join(f"{v}\n" for v in ids))
    threads = torch.get_num_threads()
    torch.set_num_threads(max(int(ctx.threads), 1))
    try:
        train_small(
            config=ctx.files["clipnet_config"], out=out / "clipnet_reference", folds=folds,
            reference_only=True,
        )  # fmt: skip
        bench = qtl_benchmark(
            qtls=qtls, store=ctx.files["store"], sample_sheet=ctx.files["clipnet_samples"],
            models={"personal": personal, "reference": out / "clipnet_reference"},
            out=out / "qtl", device="cpu", batch_size=64, overwrite=True,
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    ctx.files.update(clipnet_reference=out / "clipnet_reference", qtl=out / "qtl")
    s = bench.summary.set_index("model")
    return [
        "reference-only CLIPNET (same settings, seed, folds) -> clipnet_reference/",
        f"QTL benchmark on {len(ids)} SNPs of held-out {', '.join(held)} "
        f"({int(s.loc['personal', 'n_scored'])} with both homozygous groups): Pearson of "
        f"log10 genotype-group L2, predicted vs observed: personal "
        f"{s.loc['personal', 'pearson_log10_l2']:.3f}, reference-only "
        f"{s.loc['reference', 'pearson_log10_l2']:.3f} -> qtl/",
    ]
