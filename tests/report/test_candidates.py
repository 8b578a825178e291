"""Candidate ranking against hand-computed scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from varinterp.report.candidates import CANDIDATE_COLUMNS, rank_candidates


def _variants() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chrom": ["chr22"] * 4,
            "pos": [1000, 2000, 3000, 4000],  # 1-based
            "ref": ["A", "C", "G", "T"],
            "alt": ["G", "T", "A", "C"],
            "variant_id": ["v1", "v2", "v3", "v4"],
            "z": [6.0, 5.5, 2.0, 0.1],
            "p": [2e-9, 4e-8, 0.05, 0.9],
            "pip": [0.5, 0.3, 0.15, 0.001],
            "cs95": [1, 1, 0, 0],
            "cs99": [1, 1, 1, 0],
        }
    )


def test_pip_only_ranking_when_no_evidence() -> None:
    out = rank_candidates(_variants(), min_candidates=1)
    assert list(out.columns) == CANDIDATE_COLUMNS
    assert list(out["variant_id"]) == ["v1", "v2", "v3"]  # v4: PIP < 0.01, not in a set
    assert np.allclose(out["score"], [0.5, 0.3, 0.15])
    assert list(out["rank"]) == [1, 2, 3]
    assert out["reason"].iloc[0] == "PIP 0.500 (95% credible set 1)"
    assert out["reason"].iloc[2] == "PIP 0.150 (99% credible set 1)"


def test_min_candidates_pads_with_highest_pip() -> None:
    out = rank_candidates(_variants(), min_candidates=4)
    assert set(out["variant_id"]) == {"v1", "v2", "v3", "v4"}


def test_evidence_lifts_a_lower_pip_variant() -> None:
    # v2 (0-based pos 1999) lies in a Kupffer element with an ABC link; "1" spelling of chr22
    elements = pd.DataFrame(
        {"chrom": ["22"], "start": [1900], "end": [2100], "cell_type": ["Kupffer"]}
    )
    abc = pd.DataFrame(
        {
            "chrom": ["chr22", "chr22"],
            "start": [1900, 1900],
            "end": [2100, 2100],
            "gene": ["PDGFB", "RPL3"],
            "tss": [50_000, 80_000],
            "score": [0.12, 0.03],
            "cell_type": ["Kupffer", "hepatocyte"],
            "self_promoter": [False, False],
        }
    )
    # v3 has a predicted effect given with swapped alleles (A>G for G>A): sign flips
    effects = pd.DataFrame(
        {
            "chrom": ["chr22", "chr22"],
            "pos": [3000, 1000],
            "ref": ["A", "A"],
            "alt": ["G", "G"],
            "log2fc": [0.5, -0.2],
            "profile_l2": [1.0, 3.0],
        }
    )
    out = rank_candidates(_variants(), elements=elements, abc=abc, effects=effects)
    by = out.set_index("variant_id")
    assert by.loc["v2", "score"] == pytest.approx(0.3 * (1 + 1 + 1 + 0))
    assert by.loc["v1", "score"] == pytest.approx(0.5 * (1 + 0.2))
    assert by.loc["v3", "score"] == pytest.approx(0.15 * (1 + 0.5))
    assert by.loc["v3", "log2fc"] == pytest.approx(-0.5)
    assert list(out["variant_id"][:3]) == ["v2", "v1", "v3"]  # 0.9 > 0.6 > 0.225
    assert by.loc["v2", "abc_top_gene"] == "PDGFB"
    assert by.loc["v2", "abc_genes"] == "PDGFB:0.1200:Kupffer;RPL3:0.0300:hepatocyte"
    assert by.loc["v2", "specific_in"] == "Kupffer"
    assert "ABC link to PDGFB (score 0.120, Kupffer) and 1 more" in by.loc["v2", "reason"]
    assert "in a Kupffer-specific element (22:1900-2100)" in by.loc["v2", "reason"]
    assert "predicted log2FC -0.20 (alt vs ref)" in by.loc["v1", "reason"]


def test_effect_scale_and_cap() -> None:
    effects = pd.DataFrame(
        {
            "chrom": ["chr22"] * 2,
            "pos": [1000, 2000],
            "ref": ["A", "C"],
            "alt": ["G", "T"],
            "log2fc": [0.5, -3.0],
        }
    )
    out = rank_candidates(_variants(), effects=effects, effect_scale=2.0).set_index("variant_id")
    assert out.loc["v1", "score"] == pytest.approx(0.5 * 1.25)
    assert out.loc["v2", "score"] == pytest.approx(0.3 * 2.0)  # |log2fc| / 2 capped at 1
    assert np.isnan(out.loc["v1", "profile_l2"])
