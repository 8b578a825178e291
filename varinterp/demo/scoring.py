"""Demo step: score the world's designed SNPs with the demo CLIPNET and measure separation.

`scoring_step` runs after `varinterp.demo.clipnet.clipnet_step`. It takes the SNPs
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

Writes ``effects.tsv`` (``ctx.files["effects"]``) in the schema of ``varinterp score``
(`varinterp.effects.frame.frame_columns`: ``chrom pos id ref alt scorer`` + the scores of
`varinterp.effects.scores.effect_scores` + ``flags``; ``id`` is the truth table's
``variant_id``), and the truth beside it in ``effects_truth.tsv``: ``id class causal
held_out true_log2fc``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.demo.context import DemoContext, torch_threads
from varinterp.effects.frame import frame_columns
from varinterp.io.atomic import atomic_path

__all__ = ["NON_CAUSAL_CLASSES", "score_snps", "scoring_step", "separation"]

#: truth.tsv classes used as non-causal SNPs (causal ones are flagged ``causal``).
NON_CAUSAL_CLASSES = ("motif_neutral", "element")


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
    and ``fold_k`` exists (``held_out`` True: `score_frame` with ``holdout_composite``),
    else by the mean of all fold models. Returns `snps` plus ``scorer``, ``held_out`` and
    the `effect_scores` columns, in the order of `snps`.
    """
    from varinterp.effects.frame import score_frame
    from varinterp.effects.scores import SCORE_COLUMNS
    from varinterp.io.fasta import Reference
    from varinterp.training.inference import load_model

    ens = load_model(model, device=device)
    reference = Reference(fasta)
    snps = snps.reset_index(drop=True)
    folds = {c: ens.fold_map(c) for c in snps["chrom"].astype(str).unique()}
    held = (
        snps["chrom"]
        .astype(str)
        .map(lambda c: folds[c] is not None and ens.fold_model(folds[c]) is not None)
        .to_numpy(bool)
    )
    parts = []
    for composite in (True, False):
        rows = np.flatnonzero(held == composite)
        if rows.size or (composite is False and not parts):
            scored = score_frame(
                ens, snps.iloc[rows][["chrom", "pos", "ref", "alt"]], fasta=reference,
                holdout_composite=composite, batch_size=batch_size, device=device,
            )  # fmt: skip
            parts.append(scored.set_axis(rows))
    scored = pd.concat(parts).sort_index()
    table = snps.copy()
    table["scorer"] = scored["scorer"].to_numpy()
    table["held_out"] = held
    for col in SCORE_COLUMNS:
        table[col] = scored[col].to_numpy()
    table["flags"] = scored["flags"].to_numpy()
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


def scoring_step(ctx: DemoContext) -> list[str]:
    """Score the world's causal and non-causal SNPs with the demo model (module docstring)."""
    world = ctx.objects["world"]
    truth = world.truth
    causal = truth["causal"].astype(str).str.lower() == "true"
    keep = causal | truth["class"].isin(NON_CAUSAL_CLASSES)
    snps = truth.loc[keep, ["variant_id", "chrom", "pos", "ref", "alt", "class"]].copy()
    snps["causal"] = causal[keep].to_numpy()
    with torch_threads(ctx.threads):
        table = score_snps(
            model=ctx.files["clipnet"], fasta=ctx.files["fasta"], snps=snps, device=ctx.device
        )
    effects = Path(ctx.files.get("procap", Path(ctx.out) / "procap")) / "variant_effects.tsv"
    if effects.is_file():
        table["true_log2fc"] = table["variant_id"].map(_true_log2fc(effects)).fillna(0.0)
    out = Path(ctx.out) / "effects.tsv"
    scored = table.rename(columns={"variant_id": "id"})
    with atomic_path(out) as tmp:
        scored[frame_columns()].to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    truth_columns = ["id", "class", "causal", "held_out"]
    truth_columns += ["true_log2fc"] if "true_log2fc" in scored else []
    with atomic_path(Path(ctx.out) / "effects_truth.tsv") as tmp:
        scored[truth_columns].to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    ctx.files["effects"] = out
    n_c = int(table["causal"].sum())
    held = table["held_out"].to_numpy()
    lines = [
        f"scored {len(table)} SNPs in planted elements ({n_c} causal motif breaks/gains, "
        f"{len(table) - n_c} neutral or outside motifs), reference context -> effects.tsv "
        "(truth: effects_truth.tsv)",
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
