from __future__ import annotations

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from tests.deconv.conftest import CELL_TYPES, CHROM_SIZES, TINY_TARGET, tiny_config
from varinterp.deconv.predict import (
    evaluate_run,
    export_tracks,
    load_predictions,
    predict_tracks,
    rescale_to_bulk,
)
from varinterp.deconv.prep import build_windows, load_data, save_data
from varinterp.errors import InputError
from varinterp.models.deepdetails.files import load_model
from varinterp.models.deepdetails.train import TrainSettings, train_deconv


def test_windows_match_source_arrays(synthetic_data, synthetic_tracks):
    d = synthetic_data
    arrays = synthetic_tracks["arrays"]
    assert d.seq.shape == (d.n, 4, 256) and d.seq.dtype == np.uint8 and d.seq.sum() == 0
    assert d.acc.shape == (d.n, 3, 256) and d.bulk.shape == (d.n, 2, 256)
    assert d.truth.shape == (d.n, 3, 2, TINY_TARGET)
    for i, (c, s, e) in enumerate(d.regions[["chrom", "start", "end"]].itertuples(index=False)):
        assert e - s == 256
        np.testing.assert_array_equal(d.bulk[i, 0], arrays["bulk_pl"][c][s:e])
        np.testing.assert_array_equal(d.bulk[i, 1], -arrays["bulk_mn"][c][s:e])
        np.testing.assert_array_equal(d.acc[i, 2], arrays["acc"]["C"][c][s:e])
        off = (256 - TINY_TARGET) // 2
        np.testing.assert_array_equal(
            d.truth[i, 1, 1], arrays["truth"]["B"][1][c][s + off : e - off]
        )
    # bulk = sum of the truth, and the peak centres do not overlap
    np.testing.assert_allclose(d.truth.sum(1), d.target_bulk())
    reg = d.target_regions().sort_values(["chrom", "start"])
    for _, grp in reg.groupby("chrom"):
        assert (grp["start"].to_numpy()[1:] >= grp["end"].to_numpy()[:-1]).all()
    # library size default: the total of each accessibility track
    totals = [sum(arrays["acc"][ct][c].sum() for c in CHROM_SIZES) for ct in CELL_TYPES]
    np.testing.assert_allclose(d.norm, 1e6 / np.array(totals))


def test_save_load_round_trip(synthetic_data, tmp_path):
    save_data(synthetic_data, tmp_path / "d.h5")
    back = load_data(tmp_path / "d.h5")
    for name in ("seq", "acc", "bulk", "norm", "truth"):
        np.testing.assert_array_equal(getattr(back, name), getattr(synthetic_data, name))
    pd.testing.assert_frame_equal(back.regions, synthetic_data.regions)
    assert back.cell_types == list(CELL_TYPES) and back.chrom_sizes == CHROM_SIZES
    (tmp_path / "junk.h5").write_text("x")
    with pytest.raises(InputError):
        load_data(tmp_path / "junk.h5")


def test_build_windows_input_errors(synthetic_tracks):
    f = synthetic_tracks
    regions = pd.DataFrame({"chrom": ["chrT"], "start": [1000], "end": [1100]})
    with pytest.raises(InputError, match="differ"):
        build_windows(
            regions=regions,
            bulk_pl=f["bulk_pl"],
            bulk_mn=f["bulk_mn"],
            accessibility=f["acc"],
            truth={"A": f["truth"]["A"]},
        )
    bad = pd.DataFrame({"chrom": ["chrZ"], "start": [1000], "end": [1100]})
    with pytest.raises(InputError):
        build_windows(
            regions=bad, bulk_pl=f["bulk_pl"], bulk_mn=f["bulk_mn"], accessibility=f["acc"]
        )


def test_rescale_modes():
    rng = np.random.default_rng(0)
    pred = rng.gamma(1.0, 1.0, (3, 2, 2, 10)).astype(np.float32)
    bulk = rng.poisson(3.0, (3, 2, 10)).astype(np.float32)
    counts = rescale_to_bulk(pred, bulk, mode="counts")
    np.testing.assert_allclose(counts.sum(axis=(1, 3)), bulk.sum(-1), rtol=1e-5)
    np.testing.assert_allclose(counts[:, 0] / counts[:, 1], pred[:, 0] / pred[:, 1], rtol=1e-4)
    per_bp = rescale_to_bulk(pred, bulk, mode="per-bp")
    np.testing.assert_allclose(per_bp.sum(1), bulk, rtol=1e-5)
    np.testing.assert_array_equal(rescale_to_bulk(pred, bulk, mode="none"), pred)
    with pytest.raises(InputError):
        rescale_to_bulk(pred, bulk, mode="magic")


def _settings(**kw):
    return TrainSettings(**{"epochs": 2, "batch_size": 4, "lr_decay": 1.0, "patience": 5, **kw})


def test_predict_export_and_eval(synthetic_data, tmp_path):
    d = synthetic_data
    res = train_deconv(d, config=tiny_config(), out=tmp_path / "r", settings=_settings(epochs=1))
    model = load_model(res.model_dir)
    pred = predict_tracks(model, d, batch_size=5)
    assert pred.shape == (d.n, 3, 2, TINY_TARGET) and np.isfinite(pred).all()
    np.testing.assert_allclose(pred.sum(axis=(1, 3)), d.target_bulk().sum(-1), rtol=1e-4)
    files = export_tracks(pred, d, tmp_path / "out")
    assert {f.name for f in files} >= {"A.pl.bw", "A.mn.bw", "counts.tsv", "predictions.h5"}
    reg = d.target_regions()
    c, s, e = reg.iloc[0]
    with pyBigWig.open(str(tmp_path / "out" / "B.mn.bw")) as bw:
        vals = np.nan_to_num(np.array(bw.values(c, int(s), int(e))))
    np.testing.assert_allclose(vals, -pred[0, 1, 1], rtol=1e-5, atol=1e-6)
    counts = pd.read_csv(tmp_path / "out" / "counts.tsv", sep="\t")
    np.testing.assert_allclose(counts["C.pl"], pred[:, 2, 0].sum(-1), rtol=1e-4)
    np.testing.assert_array_equal(load_predictions(tmp_path / "out" / "predictions.h5", d), pred)
    _, summary = evaluate_run(d, {"deepdetails": pred})
    assert list(summary.index) == ["deepdetails", "proportional", "nnls"]
    assert np.isfinite(summary.to_numpy()).all()


def test_bulk_peaks_against_a_naive_scan(synthetic_tracks):
    from varinterp.deconv.prep import call_bulk_peaks

    f = synthetic_tracks
    arrays = f["arrays"]
    peaks = call_bulk_peaks(f["bulk_pl"], f["bulk_mn"], n_peaks=5, bin_size=100, flank=128)
    assert len(peaks) == 5
    # every reported signal is the |plus| + |minus| sum over its bin
    for c, s, e, sig in peaks[["chrom", "start", "end", "signal"]].itertuples(index=False):
        naive = np.abs(arrays["bulk_pl"][c][s:e]).sum() + np.abs(arrays["bulk_mn"][c][s:e]).sum()
        assert sig == pytest.approx(naive)
    # the strongest half-bin-step window anywhere is among them
    best = max(
        (
            np.abs(arrays["bulk_pl"][c][s : s + 100]).sum()
            + np.abs(arrays["bulk_mn"][c][s : s + 100]).sum(),
            c,
            s,
        )
        for c, n in CHROM_SIZES.items()
        for s in range(128 - 50, n - 128 - 50, 50)
    )
    assert best[0] == pytest.approx(peaks["signal"].max())
