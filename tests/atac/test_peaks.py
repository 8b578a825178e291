"""Peak calling on insertions: the window sums, the summits, and the OCRs of a simulated
ATAC world recovered from its fragments."""

from __future__ import annotations

import numpy as np
import pandas as pd

from varinterp.atac.insertions import count_insertions
from varinterp.atac.peaks import Summits, call_summits, merge_summits, window_sums
from varinterp.simulate.atac_writers import simulate_atac


def test_window_sums_are_the_naive_ones():
    rng = np.random.default_rng(0)
    pos = np.unique(rng.integers(0, 1000, 200))
    counts = rng.integers(1, 5, pos.size)
    at = rng.integers(0, 1000, 50)
    got = window_sums(pos, counts, at, 31)
    want = [counts[(pos >= a - 15) & (pos < a + 16)].sum() for a in at]
    np.testing.assert_array_equal(got, want)


def test_summits_find_planted_peaks_at_least_a_width_apart():
    rng = np.random.default_rng(1)
    length = 200_000
    counts = rng.poisson(0.05, length)
    centres = np.arange(10_000, length - 10_000, 15_000)
    for c in centres:
        counts[c - 60 : c + 60] += rng.poisson(1.0, 120)
    pos = np.flatnonzero(counts)
    s = call_summits(pos, counts[pos], genome_rate=counts.sum() / length, width=500)
    assert np.all(np.diff(s.pos) >= 500)
    assert len(s.pos) == len(centres)
    assert np.max(np.abs(s.pos - centres)) < 60
    merged, _spm, _, calls = merge_summits(
        [s, Summits(s.pos[:2] + 100, s.signal[:2], s.score[:2] * 2)],
        [float(s.score.sum()), float(s.score[:2].sum() * 2)], width=500,
    )  # fmt: skip
    assert len(merged) == len(centres)
    assert calls[0] == [0, 1] and calls[-1] == [0]


def test_called_peaks_recover_the_simulated_ocrs(tmp_path):
    world, files = simulate_atac(out=tmp_path / "w", seed=4, genome_size=200_000,
                                 n_chromosomes=2)  # fmt: skip
    res = count_insertions(out=tmp_path / "i", chrom_sizes=files.chrom_sizes,
                           fragments=files.fragments, barcodes=files.barcodes, shift=False,
                           min_fragments=10)  # fmt: skip
    peaks = pd.read_csv(res.peaks, sep="\t", header=None)
    summits = {c: (g[1] + g[9]).to_numpy() for c, g in peaks.groupby(0)}
    strong = world.ocrs[world.expected.max(axis=1) >= 20]
    found = [np.abs(summits.get(o.chrom, np.array([-1e9])) - o.centre).min() <= 150
             for o in strong.itertuples()]  # fmt: skip
    assert np.mean(found) > 0.9
    centres = {c: g["centre"].to_numpy() for c, g in world.ocrs.groupby("chrom")}
    near = [np.abs(centres[c] - s).min() <= 300 for c, s in zip(peaks[0], peaks[1] + peaks[9],
                                                                 strict=True)]  # fmt: skip
    assert np.mean(near) > 0.9
    calls = pd.read_csv(tmp_path / "i" / "peaks_cell_types.tsv", sep="\t")
    assert len(calls) == len(peaks)
