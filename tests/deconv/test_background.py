"""GC-matched background windows, library-size tables, and the prep options using them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from varinterp.deconv.background import candidate_gc, gc_matched_background
from varinterp.deconv.prep import read_library_sizes
from varinterp.errors import InputError

WINDOW, STEP = 400, 100


@pytest.fixture(scope="module")
def gc_genome(tmp_path_factory):
    """Two contigs whose GC fraction drifts smoothly between 0.2 and 0.8."""
    root = tmp_path_factory.mktemp("gc")
    rng = np.random.default_rng(3)
    seqs = {}
    for name, length, phase in (("chrA", 60_000, 0.0), ("chrB", 40_000, 1.3)):
        x = np.arange(length)
        p_gc = 0.5 + 0.3 * np.sin(2 * np.pi * x / 15_000 + phase)
        is_gc = rng.random(length) < p_gc
        letters = np.where(is_gc, rng.choice(list("GC"), length), rng.choice(list("AT"), length))
        seqs[name] = "".join(letters)
    path = root / "genome.fa"
    with path.open("w") as fh:
        for name, s in seqs.items():
            fh.write(f">{name}\n")
            for i in range(0, len(s), 60):
                fh.write(s[i : i + 60] + "\n")
    return path, seqs


def _gc(seq: str) -> float:
    return (seq.count("G") + seq.count("C")) / len(seq)


def test_candidate_gc_matches_a_naive_loop():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, 2_345).astype(np.uint8)
    starts, gc, nn = candidate_gc(codes, window=WINDOW, step=STEP)
    assert starts.tolist() == list(range(0, 2_345 - WINDOW + 1, STEP))
    for s, g, n in zip(starts, gc, nn, strict=True):
        w = codes[s : s + WINDOW]
        assert n == (w == 4).sum()
        assert g == pytest.approx(np.isin(w, (1, 2)).sum() / (w != 4).sum())


def test_background_matches_gc_and_avoids_regions(gc_genome):
    fasta, seqs = gc_genome
    # regions in GC-rich stretches only: a skewed GC distribution to match
    rng = np.random.default_rng(1)
    rows = []
    for name, s in seqs.items():
        for mid in rng.integers(WINDOW, len(s) - WINDOW, 60):
            if _gc(s[mid - WINDOW // 2 : mid + WINDOW // 2]) > 0.55:
                rows.append((name, int(mid) - 50, int(mid) + 50))
    regions = pd.DataFrame(rows, columns=["chrom", "start", "end"]).drop_duplicates()
    contigs = {k: len(v) for k, v in seqs.items()}
    exclude = pd.DataFrame({"chrom": ["chrA"], "start": [30_000], "end": [36_000]})
    res = gc_matched_background(
        regions,
        fasta=fasta,
        contigs=contigs,
        ratio=1.0,
        window=WINDOW,
        step=STEP,
        n_bins=10,
        exclude=exclude,
        seed=5,
    )
    bg = res.windows
    assert len(bg) + res.shortfall == len(regions)
    assert res.shortfall <= 0.2 * len(regions)  # the GC-richest bins run short
    # GC of each background window, recomputed independently from the sequence
    bg_gc = np.array([_gc(seqs[c][s:e]) for c, s, e in bg[["chrom", "start", "end"]].values])
    np.testing.assert_allclose(bg_gc, bg["gc"], atol=1e-12)
    ks = stats.ks_2samp(bg_gc, res.region_gc)
    assert ks.statistic < 0.2
    # an unmatched draw from all windows would be far off
    all_gc = np.concatenate(
        [
            candidate_gc(
                np.frombuffer(s.translate(str.maketrans("ACGT", "\0\1\2\3")).encode(), np.uint8),
                window=WINDOW,
                step=STEP,
            )[1]
            for s in seqs.values()
        ]
    )
    assert stats.ks_2samp(all_gc, res.region_gc).statistic > 0.3
    # no overlap with any region window or excluded interval
    mids = (regions["start"] + regions["end"]) // 2
    for c, s, e in bg[["chrom", "start", "end"]].itertuples(index=False):
        same = regions["chrom"] == c
        assert not np.any((mids[same] - WINDOW // 2 < e) & (mids[same] + WINDOW // 2 > s))
        if c == "chrA":
            assert e <= 30_000 or s >= 36_000
    assert bg.duplicated(["chrom", "start"]).sum() == 0
    # seeded: the same call gives the same windows, another seed others
    again = gc_matched_background(
        regions,
        fasta=fasta,
        contigs=contigs,
        window=WINDOW,
        step=STEP,
        n_bins=10,
        exclude=exclude,
        seed=5,
    )
    pd.testing.assert_frame_equal(again.windows, bg)
    other = gc_matched_background(
        regions,
        fasta=fasta,
        contigs=contigs,
        window=WINDOW,
        step=STEP,
        n_bins=10,
        exclude=exclude,
        seed=6,
    )
    assert not other.windows["start"].equals(bg["start"])


def test_background_ratio_scales_the_count(gc_genome):
    fasta, _ = gc_genome
    regions = pd.DataFrame({"chrom": ["chrA"] * 4, "start": [5000, 12000, 21000, 50000]})
    regions["end"] = regions["start"] + 100
    res = gc_matched_background(
        regions,
        fasta=fasta,
        contigs={"chrA": 60_000, "chrB": 40_000},
        ratio=3.0,
        window=WINDOW,
        step=STEP,
        n_bins=4,
    )
    assert len(res.windows) + res.shortfall == 12
    with pytest.raises(InputError):
        gc_matched_background(regions, fasta=fasta, contigs={"chrA": 60_000}, ratio=0.0)


def test_read_library_sizes(tmp_path):
    path = tmp_path / "library_sizes.tsv"
    pd.DataFrame(
        {
            "cell_type": ["A", "B"],
            "n_cells": [30, 40],
            "n_fragments": [1000, 4000],
            "norm": [1000.0, 250.0],
            "bigwig": ["A.bw", "B.bw"],
        }
    ).to_csv(path, sep="\t", index=False)
    assert read_library_sizes(path) == {"A": 1000.0, "B": 4000.0}
    alt = tmp_path / "norm.tsv"
    alt.write_text("name\tnorm\nA\t1000\nB\t250\n")
    assert read_library_sizes(alt) == pytest.approx({"A": 1000.0, "B": 4000.0})
    bad = tmp_path / "bad.tsv"
    bad.write_text("cell_type\tcount\nA\t3\n")
    with pytest.raises(InputError, match="n_fragments"):
        read_library_sizes(bad)
    neg = tmp_path / "neg.tsv"
    neg.write_text("cell_type\tn_fragments\nA\t0\n")
    with pytest.raises(InputError, match="positive"):
        read_library_sizes(neg)
