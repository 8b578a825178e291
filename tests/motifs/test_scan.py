"""The featuriser against independent answers: a brute-force numpy scan with exact p-values,
a naive overlap loop, numpy normalisation and CPM."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tests.motifs._toys import planted_sequences, toy_motifs
from varinterp.motifs.clusters import ClusterTable
from varinterp.motifs.features import (
    ScanSettings,
    accessibility_cpm,
    normalise_columns,
    score_regions,
)
from varinterp.motifs.scan import cluster_scores, scan_hits

EPS = 1e-4


def _log_pwm(m):
    return np.log2(m + EPS) - np.log2(0.25)


def _exact_pvalue_table(m):
    """All 4**w scores of a short matrix, sorted (the exact null of a uniform background)."""
    lp = _log_pwm(m)
    w = m.shape[1]
    scores = np.zeros(1)
    for i in range(w):
        scores = (scores[:, None] + lp[:, i][None, :]).reshape(-1)
    return np.sort(scores)


def _brute_hits(motifs, seqs, threshold):
    """Every window on both strands, scored with numpy, p-value from the exact null."""
    rows = []
    for k, m in enumerate(motifs.matrices):
        w = m.shape[1]
        null = _exact_pvalue_table(m)
        lp = _log_pwm(m)
        rc = lp[::-1, ::-1]
        for r, s in enumerate(seqs):
            codes = np.array(["ACGT".index(b) for b in s])
            for start in range(len(s) - w + 1):
                win = codes[start : start + w]
                for strand, mat in (("+", lp), ("-", rc)):
                    score = mat[win, np.arange(w)].sum()
                    p = (null.size - np.searchsorted(null, score - 1e-9)) / null.size
                    if p < threshold:
                        rows.append((r, k, start, start + w, strand, score, p))
    return pd.DataFrame(rows, columns=["region", "motif", "start", "end", "strand", "score", "p"])


def _naive_cluster_scores(hits, cluster_of, n, c):
    out = np.zeros((n, c))
    for (r, cl), grp in hits.assign(cl=cluster_of[hits["motif"]]).groupby(["region", "cl"]):
        grp = grp.sort_values("start")
        groups: list[list] = []
        for h in grp.itertuples():
            if groups and h.start < max(g.end for g in groups[-1]):
                groups[-1].append(h)
            else:
                groups.append([h])
        out[r, cl] = sum(max(max(g.score for g in grp_), 0.0) for grp_ in groups)
    return out


def test_hits_equal_a_brute_force_scan():
    motifs = toy_motifs()
    seqs, x = planted_sequences(12, 80, seed=3)
    threshold = 1e-3
    ours = scan_hits(motifs, x, threshold=threshold)
    brute = _brute_hits(motifs, seqs, threshold)
    # FIMO bins scores at 0.1 bits: hits within a factor 1.5 of the threshold may differ
    clear = brute[(brute["p"] < threshold / 1.5)]
    key = ["region", "motif", "start", "strand"]
    merged = clear.merge(ours, on=key, how="left", suffixes=("", "_fimo"))
    assert merged["score_fimo"].notna().all(), merged[merged["score_fimo"].isna()]
    np.testing.assert_allclose(merged["score_fimo"], merged["score"], atol=1e-3)
    strong_ours = ours.merge(brute, on=key, how="left", suffixes=("", "_b"))
    assert (
        strong_ours["score_b"].notna().all()
        or (strong_ours.loc[strong_ours["score_b"].isna(), "pvalue"] > threshold / 1.5).all()
    )
    assert len(ours) >= len(clear) > 20


def test_cluster_scores_equal_a_naive_loop():
    rng = np.random.default_rng(0)
    n = 400
    hits = pd.DataFrame(
        {
            "region": rng.integers(0, 7, n),
            "motif": rng.integers(0, 5, n),
            "start": rng.integers(0, 300, n),
        }
    )
    hits["end"] = hits["start"] + rng.integers(5, 20, n)
    hits["score"] = rng.normal(8, 4, n)
    cluster_of = np.array([0, 0, 1, 2, 2])
    ours = cluster_scores(hits, cluster_of, n_regions=7, n_clusters=3)
    want = _naive_cluster_scores(hits, cluster_of, 7, 3)
    np.testing.assert_allclose(ours, want)


def test_overlapping_hits_count_once_and_separate_ones_add():
    hits = pd.DataFrame(
        {
            "region": [0, 0, 0, 0],
            "motif": [0, 1, 0, 0],
            "start": [10, 12, 40, 100],
            "end": [17, 19, 47, 107],
            "score": [5.0, 9.0, 4.0, -1.0],
        }
    )
    out = cluster_scores(hits, np.array([0, 0]), n_regions=1, n_clusters=1)
    assert out[0, 0] == pytest.approx(9.0 + 4.0 + 0.0)


def test_score_regions_brute_force_end_to_end():
    motifs = toy_motifs()
    seqs, x = planted_sequences(10, 60, seed=5)
    clusters = ClusterTable(motifs.names, ("ap1", "ap1", "ctcf", "gata"))
    cluster_of = clusters.for_motifs(motifs)
    settings = ScanSettings(threshold=1e-3)
    raw, _ = score_regions(
        x, np.full(10, 60), motifs=motifs, cluster_of=cluster_of, n_clusters=3, settings=settings
    )
    brute = _brute_hits(motifs, seqs, 1e-3)
    want = _naive_cluster_scores(brute, cluster_of, 10, 3)
    # compare where no borderline hit could change the answer
    border = _brute_hits(motifs, seqs, 1.5e-3)
    border = border[border["p"] >= 1e-3 / 1.5]
    ok = np.ones((10, 3), bool)
    for h in border.itertuples():
        ok[h.region, cluster_of[h.motif]] = False
    assert ok.sum() > 15
    np.testing.assert_allclose(raw[ok], want[ok], atol=1e-3)


def test_padding_hits_are_dropped():
    motifs = toy_motifs().subset(["AP1"])
    x = np.zeros((1, 4, 20), np.float32)
    for i, b in enumerate("TGACTCA"):
        x[0, "ACGT".index(b), 12 + i] = 1
    assert len(scan_hits(motifs, x)) == 1
    assert len(scan_hits(motifs, x, lengths=[15])) == 0


def test_normalisation_and_cpm_against_numpy():
    rng = np.random.default_rng(1)
    raw = rng.gamma(2.0, 3.0, (50, 6))
    raw[:, 2] = 0
    got = normalise_columns(raw, scaler=1.3)
    want = np.zeros_like(raw)
    for j in range(6):
        if raw[:, j].max() > 0:
            want[:, j] = np.minimum(raw[:, j] / raw[:, j].max() * 1.3, 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    counts = rng.poisson(20, (50, 3)).astype(float)
    cpm = accessibility_cpm(counts)
    for k in range(3):
        np.testing.assert_allclose(
            cpm[:, k], np.log10(counts[:, k] / counts[:, k].sum() * 1e5 + 1), rtol=1e-6
        )


def test_exact_null_helper_is_right():
    m = np.full((4, 2), 0.25)
    table = _exact_pvalue_table(m)
    assert table.size == 16 and np.allclose(table, table[0])
    assert list(itertools.islice(table, 1))
