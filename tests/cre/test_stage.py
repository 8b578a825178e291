"""The cRE activity stage: the store round trip in bounded memory, the paper's labels
against a direct reading, specificity tests against scipy pair by pair, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyBigWig
import pytest
from scipy import stats

from varinterp.cre.labels import label_pairs, label_thresholds
from varinterp.cre.specificity import bh_per_type, type_tests
from varinterp.cre.store import ActivityStore, ActivityWriter
from varinterp.cre.summaries import cre_elements, write_summaries
from varinterp.errors import InputError


def test_store_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    pairs = [np.array([3, 0, 1]), np.array([2, 4]), np.array([1, 0, 2, 3])]
    peaks = pd.DataFrame(
        {"chrom": ["c1"] * 5, "start": np.arange(5) * 100, "end": np.arange(5) * 100 + 50}
    )
    values = [rng.normal(size=(9, p.size)).astype(np.float32) for p in pairs]
    w = ActivityWriter(
        tmp_path / "a.h5",
        genes=["a", "b", "c"],
        gene_pairs=pairs,
        peaks=peaks,
        barcodes=[f"b{i}" for i in range(9)],
        cell_type=np.arange(9) % 2,
        cell_types=["x", "y"],
    )
    with w:
        for i in (2, 0, 1):  # any order
            w.write_gene(i, values[i])
        with pytest.raises(InputError, match="is not"):
            w.write_gene(0, values[1])
    with ActivityStore(tmp_path / "a.h5") as s:
        assert s.genes.tolist() == ["a", "b", "c"]
        for i, p in enumerate(pairs):
            idx, v = s.gene(i)
            assert idx.tolist() == p.tolist()
            assert np.array_equal(v, values[i])
        assert s.pair_promoter.tolist() == [
            True,
            False,
            False,
            True,
            False,
            True,
            False,
            False,
            False,
        ]
        stacked = np.concatenate([v.T for v in values])
        assert np.array_equal(np.concatenate([b for _, b in s.blocks(size=2)]), stacked)
        assert s.gene("c")[0].tolist() == [1, 0, 2, 3]
    with pytest.raises(InputError, match="does not exist"):
        ActivityStore(tmp_path / "missing.h5")


def test_a_failed_write_leaves_no_store(tmp_path):
    peaks = pd.DataFrame({"chrom": ["c"], "start": [0], "end": [10]})
    with (
        pytest.raises(RuntimeError),
        ActivityWriter(
            tmp_path / "a.h5",
            genes=["a"],
            gene_pairs=[np.array([0])],
            peaks=peaks,
            barcodes=["x"],
            cell_type=np.zeros(1, int),
            cell_types=["t"],
        ),
    ):
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_labels_follow_the_published_rule():
    rng = np.random.default_rng(1)
    score = rng.exponential(size=200)
    score[:10] = 0  # padding-like zeros do not count in the percentiles
    corr = rng.normal(size=200)
    promoter = np.zeros(200, bool)
    promoter[::20] = True
    got = label_pairs(score, corr, promoter)
    nz = score[score != 0]
    lo, hi = np.percentile(nz, 40), np.percentile(nz, 85)
    assert label_thresholds(score) == pytest.approx((lo, hi))
    for s, c, p, g in zip(score, corr, promoter, got, strict=True):
        expect = (
            "promoter"
            if p
            else "active"
            if s > hi and c > 0
            else ("cre" if s > lo and c > 0 else "none")
        )
        assert g == expect


def test_specificity_equals_scipy_pair_by_pair():
    rng = np.random.default_rng(2)
    cell_type = rng.integers(0, 3, 90)
    values = rng.normal(size=(90, 5))
    values[cell_type == 1, 0] += 2.0
    values[:, 4] = 1.0  # constant: untestable
    mean_in, mean_out, p = type_tests(values, cell_type, 3)
    for t in range(3):
        for j in range(4):
            a, b = values[cell_type == t, j], values[cell_type != t, j]
            ref = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
            assert p[t, j] == pytest.approx(ref.pvalue)
            assert mean_in[t, j] == pytest.approx(a.mean())
            assert mean_out[t, j] == pytest.approx(b.mean())
    assert (p[:, 4] == 1).all()
    assert p[1, 0] < 1e-6
    q = bh_per_type(p)
    assert (q >= p - 1e-12).all()


def test_summaries_feed_elements_and_tracks(tmp_path):
    pairs = pd.DataFrame(
        {
            "gene": ["A", "A", "B"],
            "peak": ["c1:0-100", "c1:200-300", "c1:200-300"],
            "chrom": "c1",
            "start": [0, 200, 200],
            "end": [100, 300, 300],
            "role": ["promoter", "distal", "promoter"],
            "distance": [0, 200, 0],
            "max_activity": [1, 2, 3],
            "mean_activity": [0.1, 0.2, 0.3],
            "corr_accessibility": [0.5, 0.5, 0.5],
            "label": ["promoter", "cre", "promoter"],
        }
    )
    celltypes = pd.DataFrame(
        {
            "gene": ["A", "A", "B"] * 2,
            "peak": list(pairs["peak"]) * 2,
            "cell_type": ["x"] * 3 + ["y"] * 3,
            "label": list(pairs["label"]) * 2,
            "mean_activity": [0.1, 0.4, 0.3, 0.0, 0.05, 0.0],
            "mean_activity_rest": 0.0,
            "pvalue": 0.5,
            "qvalue": 0.5,
            "specific": [False, True, False, False, False, False],
        }
    )
    el = cre_elements(pairs, celltypes)
    assert el[["name", "cell_type", "mean_activity", "genes", "specific"]].values.tolist() == [
        ["c1:200-300", "x", 0.4, "A", True],
        ["c1:200-300", "y", 0.05, "A", False],
    ]
    written = write_summaries(
        tmp_path, pairs=pairs, celltypes=celltypes, cell_types=["x", "y"], chrom_sizes={"c1": 1000}
    )
    assert (tmp_path / "x.cre.bed").read_text().split("\t")[:4] == ["c1", "200", "300", "A"]
    assert (tmp_path / "y.cre.bed").read_text() == ""
    with pyBigWig.open(str(tmp_path / "x.activity.bw")) as bw:
        assert bw.values("c1", 200, 300) == pytest.approx([0.4] * 100)
    from varinterp.regulatory.enrichment import read_specific_regions

    regions = read_specific_regions(written["elements"])
    assert regions["x"][["chrom", "start", "end"]].values.tolist() == [["c1", 200, 300]]
    tracks = pd.read_csv(written["tracks"], sep="\t")
    assert tracks["path"].tolist() == ["x.activity.bw", "y.activity.bw"]
