"""Demo step: personal vs reference-only CLIPNET on the genotype-group QTL benchmark.

`qtl_step` (about as long again as training the demo model) runs after
`varinterp.demo.clipnet.clipnet_step`. It trains the same small CLIPNET on the reference
sequence only (``--reference-only``: same settings, seed and folds) and runs the
genotype-group QTL benchmark (`varinterp.effects.qtl`) with both models side by side on
every SNP of the held-out contigs that the simulator says can change an element
(``procap/variant_effects.tsv``).

The comparison that measures the claim is against the **truth**: the genotype-group L2
of the simulator's noise-free tracks (`varinterp.simulate.qtl_truth`), over the true
tiQTLs and diQTLs and all causal SNPs (`truth_comparison`). The comparison against the
observed (simulated Poisson) tracks is shown too, with its caveat: there counting noise
dominates the L2 of most SNPs, so a model that only knows where signal is strong scores
well on it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from varinterp.demo.clipnet import train_small
from varinterp.demo.context import DemoContext, torch_threads
from varinterp.io.atomic import atomic_path

__all__ = ["qtl_step", "truth_comparison"]


def truth_comparison(
    *, world, table: pd.DataFrame, effects: pd.DataFrame, individuals, models, out_len: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predicted genotype-group L2 against the simulator's truth, per model and QTL set.

    `table` is `qtl_benchmark`'s per-QTL table (``status``, ``chrom``, ``pos0``, ``ref``,
    ``alt``, ``obs_l2``, ``pred_l2_<model>``), `effects` the simulator's
    ``variant_effects.tsv``, `individuals` the benchmark's people, `out_len` the
    models' output length. Returns the per-QTL table with ``true_l2`` and ``is_causal``,
    ``is_tiQTL``, ``is_diQTL``, and a summary with one row per model and set (``all``,
    ``causal``, ``tiQTL``, ``diQTL``): ``n``, ``pearson_true`` and ``pearson_observed``
    (Pearson of log10(L2 + 1e-3), `varinterp.effects.qtl.log_l2_pearson`).
    """
    import numpy as np

    from varinterp.effects.qtl import log_l2_pearson
    from varinterp.simulate.procap_model import expected_procap
    from varinterp.simulate.qtl_truth import true_group_l2, true_qtl_sets

    expected = expected_procap(world)
    ok = table["status"].to_numpy() == "ok"
    true_l2 = np.full(len(table), np.nan)
    if ok.any():
        true_l2[ok] = true_group_l2(
            world, expected, table.loc[ok, "chrom"].tolist(), table.loc[ok, "pos0"].tolist(),
            list(individuals), out_len,
        )  # fmt: skip
    ids = [
        f"{c}:{p + 1}:{r}:{a}"
        for c, p, r, a in zip(
            table["chrom"], table["pos0"], table["ref"], table["alt"], strict=True
        )
    ]
    sets = true_qtl_sets(effects)
    member = {k: np.array([i in v for i in ids], dtype=bool) for k, v in sets.items()}
    out = table.assign(true_l2=true_l2, **{f"is_{k}": v for k, v in member.items()})
    rows = []
    obs = out["obs_l2"].to_numpy()
    for model in models:
        pred = out[f"pred_l2_{model}"].to_numpy()
        for name, mask in (("all", np.ones(len(out), bool)), *member.items()):
            r_true, _, n = log_l2_pearson(true_l2[mask], pred[mask])
            r_obs, _, _ = log_l2_pearson(obs[mask], pred[mask])
            rows.append(
                {"model": model, "set": name, "n": n, "pearson_true": r_true,
                 "pearson_observed": r_obs}
            )  # fmt: skip
    return out, pd.DataFrame(rows)


def qtl_step(ctx: DemoContext) -> list[str]:
    """Personal vs reference-only demo model on the QTL benchmark (module docstring).

    Needs ``ctx.files`` ``clipnet``, ``clipnet_config``, ``clipnet_samples`` and
    ``procap`` (the CLIPNET demo step; the benchmark uses the demo model's libraries);
    sets ``ctx.files`` ``clipnet_reference`` and ``qtl`` (the benchmark folder).
    """
    from varinterp.effects.qtl import qtl_benchmark
    from varinterp.training.modeldir import read_model_dir

    if ctx.quick:
        return ["skipped: it trains a reference-only model (run varinterp demo --full)"]
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
    with torch_threads(ctx.threads):
        train_small(
            config=ctx.files["clipnet_config"], out=out / "clipnet_reference", folds=folds,
            reference_only=True, device=ctx.device, on_status=ctx.say,
        )  # fmt: skip
        bench = qtl_benchmark(
            qtls=qtls, store=ctx.files["store"], sample_sheet=ctx.files["clipnet_samples"],
            models={"personal": personal, "reference": out / "clipnet_reference"},
            out=out / "qtl", device=ctx.device, batch_size=64, overwrite=True,
        )  # fmt: skip
    ctx.files.update(clipnet_reference=out / "clipnet_reference", qtl=out / "qtl")
    s = bench.summary.set_index("model")
    individuals = list(
        dict.fromkeys(pd.read_csv(ctx.files["clipnet_samples"], sep="\t", dtype=str)["sample"])
    )
    per_qtl, truth = truth_comparison(
        world=ctx.objects["world"], table=bench.table, effects=effects, individuals=individuals,
        models=("personal", "reference"), out_len=model_dir.outputs.output_length,
    )  # fmt: skip
    per_qtl.to_csv(out / "qtl" / "qtl_truth.tsv", sep="\t", index=False, float_format="%.6g")
    truth.to_csv(out / "qtl" / "truth_summary.tsv", sep="\t", index=False, float_format="%.4g")
    t = truth.set_index(["set", "model"])

    def pair(name: str, col: str) -> str:
        return (
            f"personal {t.loc[(name, 'personal'), col]:.3f} vs reference-only "
            f"{t.loc[(name, 'reference'), col]:.3f} (n = {int(t.loc[(name, 'personal'), 'n'])})"
        )

    return [
        "reference-only CLIPNET (same settings, seed, folds) -> clipnet_reference/",
        f"QTL benchmark on {len(ids)} SNPs of held-out {', '.join(held)} "
        f"({int(s.loc['personal', 'n_scored'])} with both homozygous groups) -> qtl/",
        "against the truth (genotype-group L2 of the simulator's noise-free tracks, Pearson "
        f"of log10): tiQTLs {pair('tiQTL', 'pearson_true')}; diQTLs "
        f"{pair('diQTL', 'pearson_true')}; all causal {pair('causal', 'pearson_true')}",
        f"against the observed Poisson tracks (all listed SNPs): {pair('all', 'pearson_observed')}"
        "; counting noise dominates the observed L2 of most SNPs, so this does not measure "
        "variant effects (the truth-based numbers above do)",
    ]
