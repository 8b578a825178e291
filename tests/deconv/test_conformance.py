"""Real chr22 tracks (K562, GM12878, MCF7) from the DeepDETAILS repository's test data."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from varinterp.deconv.predict import evaluate_run, predict_tracks
from varinterp.deconv.prep import build_windows
from varinterp.deconv.reference_h5 import read_deepdetails_h5
from varinterp.io.chrom_sizes import read_chrom_sizes
from varinterp.models.deepdetails.files import load_model
from varinterp.models.deepdetails.network import DeepDetailsConfig
from varinterp.models.deepdetails.train import TrainSettings, train_deconv

CTS = ("K562", "GM12878", "MCF7")


@pytest.fixture(scope="module")
def fx(shared_fixtures):
    root = shared_fixtures / "deepdetails_chr22"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return root


def _windows(fx, regions, truth=True):
    return build_windows(
        regions=regions,
        bulk_pl=fx / "bulk.chr22.pl.bw",
        bulk_mn=fx / "bulk.chr22.mn.bw",
        accessibility={c: fx / f"acc.{c}.chr22.bw" for c in CTS},
        truth={c: (fx / f"{c}.ds.chr22.pl.bw", fx / f"{c}.ds.chr22.mn.bw") for c in CTS}
        if truth
        else None,
    )


def _pick(table: pd.DataFrame, metric: str, unit: str) -> float:
    sel = (table["method"] == "proportional") & (table["metric"] == metric)
    return table.loc[sel & (table["unit"] == unit), "value"].item()


def test_windows_equal_the_reference_tools_prepared_arrays(fx):
    # data.h5 was written by DeepDETAILS' own prep-data on the same tracks
    with h5py.File(fx / "data.h5") as h5:
        reg = h5["regions"][:]
        ref_acc, ref_bulk = h5["dec/acc"][:], h5["dec/bulk"][:]
    regions = pd.DataFrame({"chrom": "chr22", "start": reg[:, 1], "end": reg[:, 2]})
    d = _windows(fx, regions, truth=False)
    np.testing.assert_array_equal(d.regions["start"].to_numpy(), reg[:, 1])
    np.testing.assert_array_equal(d.acc, ref_acc)
    np.testing.assert_array_equal(d.bulk, ref_bulk)


def test_import_of_the_reference_file_equals_our_windows(fx):
    ref = read_deepdetails_h5(
        fx / "data.h5", cell_types=CTS, chrom_sizes=read_chrom_sizes(fx / "hg38.chrom.sizes")
    )
    ours = _windows(fx, ref.regions, truth=False)
    np.testing.assert_array_equal(ref.acc, ours.acc)
    np.testing.assert_array_equal(ref.bulk, ours.bulk)
    assert ref.seq.dtype == np.uint8 and set(np.unique(ref.seq.sum(1))) <= {0, 1}
    assert ref.seq.sum() > 0.99 * ref.seq.shape[0] * ref.seq.shape[2]  # real bases, few N
    assert ref.chrom_sizes["chr22"] == 50818468


def test_short_fused_run_and_baselines(fx, tmp_path):
    # the reference's own 16 prepared regions, with their real sequence from its data.h5
    ref = read_deepdetails_h5(
        fx / "data.h5", cell_types=CTS, chrom_sizes=read_chrom_sizes(fx / "hg38.chrom.sizes")
    )
    d = _windows(fx, ref.regions.head(8))
    d.seq = ref.seq[:8]
    assert d.n == 8
    # the fixture's bulk is exactly the sum of the three ground-truth tracks
    np.testing.assert_array_equal(d.truth.sum(1), d.target_bulk())
    cfg = DeepDetailsConfig(
        n_cell_types=3, filters=4, gru_layers=1, profile_shrinkage=4, head_layers=1
    )
    res = train_deconv(
        d,
        config=cfg,
        out=tmp_path / "run",
        settings=TrainSettings(epochs=2, batch_size=8, lr_decay=1.0),
    )
    pred = predict_tracks(load_model(res.model_dir), d)
    assert pred.shape == (8, 3, 2, 1000) and np.isfinite(pred).all() and (pred >= 0).all()
    table, summary = evaluate_run(d, {"deepdetails": pred})
    assert np.isfinite(summary.loc["deepdetails", ["ccc_within", "rmse"]]).all()

    # baselines against an independent computation: the proportional split by hand
    centre = slice(1548, 2548)
    load = np.abs(d.acc[:, :, centre]).mean(-1) * d.norm
    frac = load / load.sum(1, keepdims=True)
    split = d.target_bulk()[:, None] * frac[:, :, None, None]
    p_log = np.log1p(split.sum(axis=(2, 3)))
    t_log = np.log1p(d.truth.sum(axis=(2, 3)))
    for k, ct in enumerate(CTS):
        x, y = p_log[:, k], t_log[:, k]
        cov = np.cov(x, y, ddof=1)
        ccc = 2 * cov[0, 1] / (cov[0, 0] + cov[1, 1] + (x.mean() - y.mean()) ** 2)
        got = _pick(table, "ccc_within", ct)
        assert got == pytest.approx(ccc, rel=1e-6)
        a = split[:, k].reshape(-1, 1000)
        b = d.truth[:, k].reshape(-1, 1000)
        edges = list(range(0, 1000, 128))
        am = np.array([[r[e : e + 128].mean() for e in edges] for r in a]).ravel()
        bm = np.array([[r[e : e + 128].mean() for e in edges] for r in b]).ravel()
        am[am < 1e-4], bm[bm < 1e-4] = 0, 0
        r = stats.pearsonr(np.log1p(am), np.log1p(bm)).statistic
        got = _pick(table, "pearson_128bp", ct)
        assert got == pytest.approx(r, rel=1e-5)
    rmse = np.sqrt(((p_log - t_log) ** 2).mean(1))
    got = table.query("method == 'proportional' and metric == 'rmse'")["value"].to_numpy()
    np.testing.assert_allclose(got, rmse, rtol=1e-6)


def test_bulk_response_on_real_tracks_beats_the_split(fx):
    """The bulk's response read from the chr22 bigWigs: near-equal contributions (the
    bulk is an equal-weight sum), a superlinear exponent, and a scale function that
    splits the 200 strongest windows closer to the truth than the accessibility split
    on every cell type."""
    from dataclasses import replace

    from varinterp.deconv.baselines import proportional_split, split_bulk
    from varinterp.deconv.contributions import estimate_response
    from varinterp.deconv.prep import call_bulk_peaks

    peaks = call_bulk_peaks(fx / "bulk.chr22.pl.bw", fx / "bulk.chr22.mn.bw", n_peaks=200)
    d = _windows(fx, peaks)
    response = estimate_response(
        bulk_pl=fx / "bulk.chr22.pl.bw",
        bulk_mn=fx / "bulk.chr22.mn.bw",
        accessibility={c: fx / f"acc.{c}.chr22.bw" for c in CTS},
        norm=d.norm,
        chroms=["chr22"],
    )
    share = response.contributions / response.contributions.sum()
    assert np.all((share > 0.25) & (share < 0.42)), share
    assert 1.2 < response.exponent < 2.2
    weighted = replace(d, contributions=response.contributions, exponent=response.exponent)
    preds = {
        "scale": split_bulk(d.target_bulk(), weighted.scale().astype(np.float64)),
        "split": proportional_split(d.target_bulk(), d.load()),
    }
    table, _ = evaluate_run(d, preds)
    ccc = table[table["metric"] == "ccc_within"].pivot(
        index="unit", columns="method", values="value"
    )
    assert (ccc["scale"] > ccc["split"] + 0.01).all(), ccc
