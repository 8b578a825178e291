"""Genome-wide export streams the overlap mean in chunks; it equals the per-run mean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from varinterp.deconv.predict import mean_track_chunks
from varinterp.deconv.tiles import average_overlaps
from varinterp.errors import InputError

SIZES = {"chrT": 5000, "chrU": 3000}


def _regions():
    starts = {"chrT": [100, 150, 400, 130, 1000, 1100, 1199], "chrU": [0, 2900 - 100]}
    rows = [(c, s) for c, ss in starts.items() for s in ss]
    regions = pd.DataFrame(rows, columns=["chrom", "start"]).sample(frac=1.0, random_state=3)
    regions["end"] = regions["start"] + 100
    return regions.reset_index(drop=True)


def _naive(values, regions, chrom, pos):
    cover = [
        i
        for i, (c, s) in enumerate(regions[["chrom", "start"]].itertuples(index=False))
        if c == chrom and s <= pos < s + 100
    ]
    return np.mean([values[i, pos - regions["start"][i]] for i in cover]) if cover else None


@pytest.mark.parametrize("chunk", [1, 7, 64, 1_000_000])
def test_chunks_equal_the_per_run_mean(chunk):
    regions = _regions()
    pred = np.random.default_rng(0).random((len(regions), 2, 2, 100)).astype(np.float32)
    want = {
        (c, lo + x): v[1, 0, x]
        for c, lo, v in average_overlaps(pred, regions, SIZES)
        for x in range(v.shape[-1])
    }
    got = {}
    last = None
    for c, lo, v in mean_track_chunks(pred[:, 1, 0], regions, SIZES, chunk=chunk):
        assert v.dtype == np.float32 and 0 < v.size <= chunk
        # contig order, then sorted and non-overlapping (what write_bigwig needs)
        key = (list(SIZES).index(c), lo)
        assert last is None or key >= last
        last = (key[0], lo + v.size)
        got.update({(c, lo + x): v[x] for x in range(v.size)})
    assert got.keys() == want.keys()
    for (c, pos), value in got.items():
        assert value == pytest.approx(want[(c, pos)], rel=1e-6)
        assert value == pytest.approx(_naive(pred[:, 1, 0], regions, c, pos), rel=1e-6)


def test_unknown_contig_is_an_input_error():
    regions = pd.DataFrame({"chrom": ["chrZ"], "start": [0], "end": [100]})
    with pytest.raises(InputError, match="chrZ"):
        list(mean_track_chunks(np.zeros((1, 100)), regions, SIZES))
