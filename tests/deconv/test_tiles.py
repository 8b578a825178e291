"""Sliding windows, overlap averaging at export, and merging replicate runs."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pyBigWig
import pytest
import typer
from typer.testing import CliRunner

from tests.deconv.conftest import CELL_TYPES
from varinterp.deconv.tiles import average_overlaps, merge_runs, tile_spans
from varinterp.errors import InputError

SIZES = {"chrT": 6000, "chrU": 3000}


def test_tile_spans_cover_spans_and_contigs():
    spans = pd.DataFrame({"chrom": ["chrU", "chrT"], "start": [100, 0], "end": [2700, 2500]})
    tiles = tile_spans(spans, chrom_sizes=SIZES, target_length=1000, step=400)
    assert (tiles["end"] - tiles["start"] == 1000).all()
    assert tiles["chrom"].tolist()[0] == "chrT"  # contig order of the sizes
    for c, s, e in spans.itertuples(index=False):
        t = tiles[tiles.chrom == c]
        covered = np.zeros(SIZES[c], bool)
        for a, b in t[["start", "end"]].itertuples(index=False):
            covered[a:b] = True
        assert covered[s:e].all()
        assert np.all(np.diff(t["start"]) <= 400)
    whole = tile_spans(None, chrom_sizes=SIZES, target_length=1000, step=1000, chroms=["chrU"])
    assert whole["start"].tolist() == [0, 1000, 2000]
    clipped = tile_spans(None, chrom_sizes={"chrT": 2500}, target_length=1000, step=1000)
    assert clipped["start"].tolist() == [0, 1000, 1500] and clipped["end"].max() == 2500
    with pytest.raises(InputError, match="step"):
        tile_spans(spans, chrom_sizes=SIZES, target_length=1000, step=1001)


def test_average_overlaps_matches_a_naive_mean():
    rng = np.random.default_rng(0)
    regions = pd.DataFrame(
        {"chrom": ["chrT", "chrT", "chrT", "chrU", "chrT"], "start": [100, 150, 400, 0, 130]}
    )
    regions["end"] = regions["start"] + 100
    pred = rng.random((5, 2, 2, 100)).astype(np.float32)
    runs = list(average_overlaps(pred, regions, SIZES))
    assert [(c, s, v.shape[-1]) for c, s, v in runs] == [
        ("chrT", 100, 150),
        ("chrT", 400, 100),
        ("chrU", 0, 100),
    ]
    for c, lo, vals in runs:
        for x in range(vals.shape[-1]):
            pos = lo + x
            cover = [
                i
                for i, (cc, s) in enumerate(regions[["chrom", "start"]].itertuples(index=False))
                if cc == c and s <= pos < s + 100
            ]
            want = np.mean([pred[i, :, :, pos - regions.start[i]] for i in cover], axis=0)
            np.testing.assert_allclose(vals[..., x], want, rtol=1e-6)


def test_merge_runs_is_the_mean():
    a = np.ones((2, 3, 2, 4), np.float32)
    b = 3 * a
    np.testing.assert_array_equal(merge_runs([a, b]), 2 * a)
    with pytest.raises(InputError):
        merge_runs([a, b[:1]])
    with pytest.raises(InputError):
        merge_runs([])


@pytest.fixture(scope="module")
def cli():
    from varinterp.cli import deconvolve
    from varinterp.cli._common import ErrorHandlingGroup

    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(deconvolve.app, name="deconvolve")

    @root.callback()
    def _cb() -> None:
        """test root"""

    runner = CliRunner()
    return lambda *args: runner.invoke(root, ["deconvolve", *map(str, args)])


def test_cli_sliding_windows_and_replicates(cli, synthetic_tracks, tmp_path):
    from varinterp.deconv.prep import load_data

    f = synthetic_tracks
    data = tmp_path / "tiles.h5"
    args = ["prep", "--bulk-pl", f["bulk_pl"], "--bulk-mn", f["bulk_mn"], "--out", data, "-q"]
    for ct in CELL_TYPES:
        args += ["--acc", f"{ct}={f['acc'][ct]}"]
    res = cli(*args, "--tile-step", "500")
    assert res.exit_code == 2 and "--regions or" in res.output
    res = cli(*args, "--tile-step", "500", "--chrom", "chrU")
    assert res.exit_code == 0, res.output
    d = load_data(data)
    offset = (4096 - 1000) // 2
    assert (d.regions["start"] + offset).tolist() == [0, 500, 1000, 1500, 2000]
    models = []
    for seed in (1, 2):
        out = tmp_path / f"run{seed}"
        res = cli(
            "train",
            "--data",
            data,
            "--out",
            out,
            "--filters",
            "4",
            "--gru-layers",
            "1",
            "--epochs",
            "1",
            "--batch-size",
            "5",
            "--seed",
            seed,
            "--device",
            "cpu",
            "-q",
        )
        assert res.exit_code == 0, res.output
        models.append(out / "model")
    singles = []
    for i, m in enumerate(models):
        res = cli(
            "predict",
            "--data",
            data,
            "--model",
            m,
            "--out",
            tmp_path / f"p{i}",
            "-q",
            "--device",
            "cpu",
            "--rescale",
            "none",
        )
        assert res.exit_code == 0, res.output
        with h5py.File(tmp_path / f"p{i}" / "predictions.h5") as h5:
            singles.append(h5["preds"][:])
    assert not np.allclose(singles[0], singles[1])
    res = cli(
        "predict",
        "--data",
        data,
        "--model",
        models[0],
        "--model",
        models[1],
        "--out",
        tmp_path / "merged",
        "-q",
        "--device",
        "cpu",
        "--rescale",
        "none",
    )
    assert res.exit_code == 0, res.output
    with h5py.File(tmp_path / "merged" / "predictions.h5") as h5:
        merged = h5["preds"][:]
    np.testing.assert_allclose(merged, (singles[0] + singles[1]) / 2, rtol=1e-6)
    # the bigWig holds the mean of the overlapping windows at every base
    regions = d.target_regions()
    bw = pyBigWig.open(str(tmp_path / "merged" / "B.pl.bw"))
    got = np.nan_to_num(np.array(bw.values("chrU", 0, 3000)))
    bw.close()
    want = next(v for c, lo, v in average_overlaps(merged, regions, d.chrom_sizes))
    np.testing.assert_allclose(got, want[1, 0, :3000], rtol=1e-5, atol=1e-6)
