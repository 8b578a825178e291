"""The demo's scoring step: designed SNPs scored with the demo model, causal vs not."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tests.demo._tiny_demo import patch_demo_training, tiny_clipnet_demo
from varinterp.demo.scoring import NON_CAUSAL_CLASSES, scoring_step, separation
from varinterp.effects.frame import frame_columns

TINY = {"max_epochs": 1, "max_batches_per_epoch": 3, "batch_size": 16}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    ctx, _ = tiny_clipnet_demo(out, seed=5, n_individuals=10, training=TINY, individuals=4)
    lines = scoring_step(ctx)
    effects = pd.read_csv(ctx.files["effects"], sep="\t")
    truth = pd.read_csv(ctx.out / "effects_truth.tsv", sep="\t")
    # effects.tsv is in the schema of varinterp score; the truth is in its own file
    assert list(effects.columns) == frame_columns()
    assert effects["id"].tolist() == truth["id"].tolist()
    table = effects.assign(**{c: truth[c] for c in truth.columns if c != "id"})
    return ctx, lines, table.rename(columns={"id": "variant_id"})


def test_table_has_the_designed_snps_and_the_reported_auroc(scored):
    ctx, lines, table = scored
    truth = ctx.objects["world"].truth
    causal = truth["causal"].astype(str).str.lower() == "true"
    want = truth[causal | truth["class"].isin(NON_CAUSAL_CLASSES)]
    assert table["variant_id"].tolist() == want["variant_id"].tolist()
    assert table["causal"].tolist() == causal[want.index].tolist()
    assert table["causal"].any() and not table["causal"].all()
    # scorer: the fold model that held the contig out (chr1 -> fold_1, chr2 -> fold_2);
    # chr3 has no fold_3 model, so the mean of both
    want_scorer = table["chrom"].map({"chr1": "fold_1", "chr2": "fold_2", "chr3": "ensemble"})
    assert table["scorer"].tolist() == want_scorer.tolist()
    assert table["held_out"].tolist() == (table["chrom"] != "chr3").tolist()
    line = next(x for x in lines if "AUROC (all" in x)
    got = [float(v) for v in re.findall(r"(?:\|log2fc\||L2) (\d\.\d+)", line)]
    y = table["causal"].to_numpy()
    assert got == pytest.approx(
        [
            roc_auc_score(y, table["log2fc"].abs()),
            roc_auc_score(y, table["profile_l2"].abs()),
        ],
        abs=6e-4,
    )


def test_true_effects_are_joined_from_the_simulated_procap(scored):
    ctx, _, table = scored
    eff = pd.read_csv(ctx.files["procap"] / "variant_effects.tsv", sep="\t")
    for vid, got in zip(table["variant_id"][:50], table["true_log2fc"][:50], strict=True):
        rows = eff[eff["variant_id"] == vid]["log2fc_total"]
        want = 0.0 if rows.empty else rows.iloc[np.argmax(rows.abs().to_numpy())]
        assert got == pytest.approx(want, abs=1e-5)


def test_scores_match_varinterp_score(scored, tmp_path):
    """Held-out chr1 SNPs with --holdout-composite and chr3 SNPs with the full ensemble,
    scored by `score_variants` from a VCF, give the step's numbers."""
    from varinterp.effects.score import score_variants

    ctx, _, table = scored
    for chrom, composite in (("chr1", True), ("chr3", False)):
        sub = table[table["chrom"] == chrom].head(12)
        regions = tmp_path / f"{chrom}.tsv"
        regions.write_text(
            "".join(f"{c}\t{p}\n" for c, p in zip(sub["chrom"], sub["pos"], strict=True))
        )
        vcf = tmp_path / f"{chrom}.vcf.gz"
        subprocess.run(
            ["bcftools", "view", "-R", str(regions), "-Oz", "-o", str(vcf), str(ctx.files["vcf"])],
            check=True,
        )
        subprocess.run(["bcftools", "index", "-t", str(vcf)], check=True)
        out = tmp_path / f"{chrom}.scores.tsv"
        score_variants(
            vcf=vcf,
            model=ctx.files["clipnet"],
            fasta=ctx.files["fasta"],
            out=out,
            holdout_composite=composite,
            device="cpu",
        )
        ref = pd.read_csv(out, sep="\t")
        ref["variant_id"] = ref["chrom"] + ":" + ref["pos"].astype(str) + ":" + ref["ref"]
        ref["variant_id"] += ":" + ref["alt"]
        merged = sub.merge(ref, on="variant_id", suffixes=("", "_score"))
        assert len(merged) == len(sub)
        for col in ("log2fc", "profile_l2", "quantity_ref"):
            np.testing.assert_allclose(merged[col], merged[f"{col}_score"], rtol=1e-4, atol=1e-5)


def test_separation_is_auroc_of_absolute_scores():
    t = pd.DataFrame({"causal": [True, True, False, False], "s": [-3.0, 2.0, 1.0, -0.5]})
    assert separation(t, "s") == 1.0
    t2 = t.assign(s=[0.1, -0.2, 5.0, np.nan])
    assert separation(t2, "s") == 0.0  # NaN dropped; both causal below the non-causal
    assert np.isnan(separation(t, "s", subset=np.array([True, True, False, False])))


def test_qtl_step_compares_personal_and_reference_only(scored):
    import json

    from scipy.stats import pearsonr

    from varinterp.demo.qtl import qtl_step

    ctx, _, _ = scored
    with pytest.MonkeyPatch.context() as mp:
        patch_demo_training(mp, TINY)
        lines = qtl_step(ctx)
    meta = {
        label: json.loads((ctx.files[key] / "config.json").read_text())["metadata"]
        for label, key in (("personal", "clipnet"), ("reference", "clipnet_reference"))
    }
    assert meta["personal"]["reference_only"] is False
    assert meta["reference"]["reference_only"] is True
    for key in ("folds", "training", "libraries"):
        assert meta["personal"][key] == meta["reference"][key]
    effects = pd.read_csv(ctx.files["qtl"] / "qtl_effects.tsv", sep="\t")
    assert set(effects["chrom"].dropna()) <= {"chr1", "chr2"}
    ok = effects[effects["status"] == "ok"]
    line = lines[-1]
    got = [float(v) for v in re.findall(r"(?:personal|reference-only) (-?\d\.\d+)", line)]
    want = [
        pearsonr(np.log10(ok["obs_l2"] + 1e-3), np.log10(ok[f"pred_l2_{m}"] + 1e-3))[0]
        for m in ("personal", "reference")
    ]
    assert got == pytest.approx(want, abs=6e-4)
    # the truth-based comparison: recomputed from the per-QTL table it wrote
    truth = pd.read_csv(ctx.files["qtl"] / "qtl_truth.tsv", sep="\t")
    summary = pd.read_csv(ctx.files["qtl"] / "truth_summary.tsv", sep="\t")
    assert "against the truth" in lines[-2] and "counting noise" in lines[-1]
    causal = truth[truth["is_causal"] & truth["true_l2"].notna()]
    assert (causal["true_l2"] >= 0).all()  # (the tiny demo may have no scorable causal SNP)
    assert set(summary["set"]) == {"all", "causal", "tiQTL", "diQTL"}
    for m in ("personal", "reference"):
        row = summary[(summary["model"] == m) & (summary["set"] == "causal")].iloc[0]
        if row["n"] >= 3:
            r = pearsonr(
                np.log10(causal["true_l2"] + 1e-3), np.log10(causal[f"pred_l2_{m}"] + 1e-3)
            )
            assert row["pearson_true"] == pytest.approx(r[0], abs=1e-3)
