"""Conformance with the ABC model's own K562 chr22 run (``abc_k562_chr22`` fixture).

What is recomputed from what (the reference tables are rounded to 6 decimals, so each
comparison allows 1e-4 relative error plus half a unit in the 6th decimal):

- element classes: from ``GeneList.txt`` (gene bodies and TSSs) and ``EnhancerList.bed``;
  compared with the class ABC wrote into each element's name;
- activity: from the per-element read counts (``Enhancers.*.CountReads.bedgraph``), the
  total mapped reads (``readCount / RPM`` of ``GeneList.txt``), and the quantile
  reference; compared with ``normalized_dhs`` and ``activity_base``;
- pairs, distance and both power laws: from elements and TSSs;
- ``powerlaw.Score``: end to end, normalised over every candidate within 5 Mb;
- ``ABC.Score``: the numerator is recomputed from our activity and the pair's raw
  ``hic_contact`` (power-law scaling + pseudocount); the denominator needs the Hi-C
  contact of every candidate of the gene, which the fixture lacks (the .hic is remote),
  so it is taken per gene as the reference's ``sum(Numerator) / sum(Score)`` over that
  gene's non-self-promoter pairs; genes with only self-promoter pairs have no
  denominator to take and score 1 by definition;
- the Hi-C lookup: a BEDPE contact table built from the pairs' bins returns ``hic_contact``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from varinterp.regulatory.abc import AbcParams, filter_links, make_pairs, scale_hic, score_pairs
from varinterp.regulatory.abc_activity import (
    activity,
    assign_classes,
    quantile_normalise,
    read_qnorm_reference,
    rpm,
)
from varinterp.regulatory.abc_contact import load_bedpe_contacts

DHS = "DHS.ENCFF860XAE.chr22.sorted.se.bam"
H3 = "H3K27ac.ENCFF790GFL.chr22.sorted.se.bam"
ALL = "EnhancerPredictionsAllPutative.ForVariantOverlap.shrunk150bp.tsv.gz"


def _close(ours, ref, *, half_unit=5e-7) -> np.ndarray:
    """Within 1e-4 relative of the reference, plus the reference's rounding (`half_unit`)."""
    ours, ref = np.asarray(ours, float), np.asarray(ref, float)
    return np.abs(ours - ref) <= 1e-4 * np.abs(ref) + half_unit


@pytest.fixture(scope="module")
def abc(shared_fixtures):
    root = shared_fixtures / "abc_k562_chr22"
    if not root.is_dir():
        pytest.skip(f"ABC fixture not found at {root}")
    genes = pd.read_csv(root / "GeneList.txt", sep="\t")
    genes = genes.rename(columns={"chr": "chrom"})
    elements = pd.read_csv(
        root / "EnhancerList.bed", sep="\t", header=None, names=["chrom", "start", "end", "name"]
    )
    counts = {}
    totals = {}
    for mark, col in (("DHS", DHS), ("H3K27ac", H3)):
        bg = pd.read_csv(
            root / f"Enhancers.{col}.CountReads.bedgraph",
            sep="\t",
            header=None,
            names=["chrom", "start", "end", "count"],
        )
        assert (bg["start"].to_numpy() == elements["start"].to_numpy()).all()
        counts[mark] = bg["count"].to_numpy(float)
        best = genes[f"{col}.readCount"].idxmax()
        totals[mark] = round(
            1e6 * genes.loc[best, f"{col}.readCount"] / genes.loc[best, f"{col}.RPM"]
        )
    return {
        "root": root,
        "genes": genes,
        "elements": elements,
        "counts": counts,
        "totals": totals,
        "qnorm": read_qnorm_reference(root / "EnhancersQNormRef.K562.txt"),
        "ref": pd.read_csv(root / ALL, sep="\t"),
    }


@pytest.fixture(scope="module")
def scored(abc):
    elements = abc["elements"].copy()
    elements["class"] = assign_classes(elements, abc["genes"], tss_slop=500)
    classes = elements["class"].to_numpy()
    norm = {
        mark: quantile_normalise(
            rpm(abc["counts"][mark], abc["totals"][mark]), classes, abc["qnorm"], kind=mark
        )
        for mark in ("DHS", "H3K27ac")
    }
    act = activity(norm["DHS"], norm["H3K27ac"])
    genes = abc["genes"][["chrom", "name", "tss"]]
    pred = score_pairs(make_pairs(elements, genes, act, AbcParams()))
    return {"elements": elements, "norm": norm, "act": act, "pred": pred}


def test_totals_are_whole_read_counts(abc):
    assert abc["totals"] == {"DHS": 379428, "H3K27ac": 113284}


def test_element_classes_match_abc_names(abc, scored):
    ref_class = abc["elements"]["name"].str.split("|").str[0].to_numpy()
    assert (scored["elements"]["class"].to_numpy() == ref_class).all()


def test_activity_matches(abc, scored):
    ref = abc["ref"]
    idx = pd.Index(abc["elements"]["name"]).get_indexer(ref["name"])
    assert (idx >= 0).all()
    assert _close(scored["norm"]["DHS"][idx], ref["normalized_dhs"]).all()
    assert _close(scored["act"][idx], ref["activity_base"]).all()


@pytest.fixture(scope="module")
def joined(abc, scored):
    ours = scored["pred"]
    ref = abc["ref"]
    keys = ["name", "TargetGene"]
    ref = ref.rename(columns={c: f"{c}_ref" for c in ref.columns if c not in keys})
    merged = ref.merge(ours, on=keys, how="left")
    assert merged["distance"].notna().all(), "every reference pair is a candidate pair"
    assert len(merged) == len(ref) == 2748
    return merged


def test_pairs_distance_and_powerlaw(joined):
    assert (joined["distance"] == joined["distance_ref"]).all()
    assert (joined["isSelfPromoter"] == joined["isSelfPromoter_ref"]).all()
    for col in ("powerlaw_contact", "powerlaw_contact_reference"):
        assert _close(joined[col], joined[f"{col}_ref"]).all(), col


def test_powerlaw_score_end_to_end(joined):
    for col in ("powerlaw.Score.Numerator", "powerlaw.Score"):
        assert _close(joined[col], joined[f"{col}_ref"]).all(), col


def test_abc_score_from_pair_hic_and_reference_denominator(joined):
    pairs = joined.assign(hic_contact=joined["hic_contact_ref"])
    pairs = scale_hic(pairs, AbcParams())
    # the input hic_contact is itself rounded: its half unit is scaled by the power-law ratio
    ratio = (pairs["powerlaw_contact_reference"] / pairs["powerlaw_contact"]).to_numpy()
    for col in ("hic_contact_pl_scaled", "hic_pseudocount", "hic_contact_pl_scaled_adj"):
        ok = _close(pairs[col], joined[f"{col}_ref"], half_unit=5e-7 * (1 + ratio))
        assert ok.all(), col
    numerator = pairs["activity_base"] * pairs["hic_contact_pl_scaled_adj"]
    assert _close(numerator, joined["ABC.Score.Numerator_ref"]).all()

    distal = ~joined["isSelfPromoter"]
    ref_num, ref_score = joined["ABC.Score.Numerator_ref"], joined["ABC.Score_ref"]
    key = joined["TargetGene"]
    denominator = (ref_num[distal].groupby(key[distal]).sum()) / (
        ref_score[distal].groupby(key[distal]).sum()
    )
    # the pseudocount part of the denominator is exactly the power-law denominator
    pl_den = (joined["powerlaw.Score.Numerator"] / joined["powerlaw.Score"])[distal]
    pl_den = pl_den.groupby(key[distal]).first()
    assert (denominator - pl_den > 0).all()

    score = numerator / key.map(denominator)
    score[joined["isSelfPromoter"]] = 1.0
    assert score.notna().all()
    assert _close(score, ref_score).all()


def test_bedpe_contact_lookup_returns_pair_contacts(joined, tmp_path):
    res = 5000
    enh_bin = np.floor(joined["_midpoint"] / res).astype(int)
    tss_bin = np.floor(joined["TargetGeneTSS"] / res).astype(int)
    lo, hi = np.minimum(enh_bin, tss_bin), np.maximum(enh_bin, tss_bin)
    table = pd.DataFrame({"lo": lo, "hi": hi, "v": joined["hic_contact_ref"]})
    # bin pairs with one value (genes that failed ABC's Hi-C QC carry a power law instead)
    one_value = table.groupby(["lo", "hi"])["v"].transform("nunique") == 1
    assert one_value.mean() > 0.9
    table = table[one_value].drop_duplicates(["lo", "hi"])
    bedpe = pd.DataFrame(
        {
            "c1": "chr22",
            "x1": table["hi"] * res,  # written in the other orientation on purpose
            "x2": table["hi"] * res + res,
            "c2": "chr22",
            "y1": table["lo"] * res,
            "y2": table["lo"] * res + res,
            "v": table["v"],
        }
    )
    path = tmp_path / "contacts.bedpe"
    bedpe.to_csv(path, sep="\t", header=False, index=False)
    tables = load_bedpe_contacts(path)
    got = tables["chr22"].lookup(joined["_midpoint"].to_numpy(), joined["TargetGeneTSS"].to_numpy())
    assert np.array_equal(got[one_value], joined["hic_contact_ref"].to_numpy()[one_value])


def test_threshold_filter_agrees_with_reference_full_table(abc):
    ref = abc["ref"]
    full = pd.read_csv(
        abc["root"] / "EnhancerPredictionsFull_threshold0.027_self_promoter.tsv", sep="\t"
    )
    kept = filter_links(ref, threshold=0.027)
    in_full = kept.merge(
        full[["name", "TargetGene"]], on=["name", "TargetGene"], how="left", indicator=True
    )
    assert (in_full["_merge"] == "both").all()
    back = full.merge(ref[["name", "TargetGene"]], on=["name", "TargetGene"])
    assert len(back) == len(kept)
