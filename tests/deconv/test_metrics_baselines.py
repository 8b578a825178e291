from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import lsq_linear

from varinterp.deconv.baselines import (
    accessibility_load,
    nnls_split,
    proportional_split,
    scale_weights,
    window_scale,
)
from varinterp.deconv.metrics import (
    ccc_across_cell_types,
    evaluate_predictions,
    lins_ccc,
    log_counts,
    pearson_binned,
    rmse_per_region,
    summarize,
)


def _ccc_direct(x, y, ddof):
    """Lin (1989) with numpy's own moments."""
    cov = np.cov(x, y, ddof=ddof)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * cov[0, 1] / (cov[0, 0] + cov[1, 1] + (np.mean(x) - np.mean(y)) ** 2)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, 12, elements=st.floats(-50, 50)),
    arrays(np.float64, 12, elements=st.floats(-50, 50)),
)
def test_lins_ccc_matches_direct_formula(x, y):
    for ddof in (0, 1):
        expected = _ccc_direct(x, y, ddof)
        got = lins_ccc(x, y, ddof=ddof)
        if np.isfinite(expected) and np.var(x) + np.var(y) > 1e-9:
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_lins_ccc_properties():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert lins_ccc(x, x) == pytest.approx(1.0)
    assert lins_ccc(x, x + 3) < 1.0  # a shift lowers CCC but not Pearson
    centred = x - x.mean()
    assert lins_ccc(centred, -centred) == pytest.approx(-1.0)
    assert np.isnan(lins_ccc(np.ones(3), np.ones(3)))


def _naive_binned_pearson(pred, truth, width=128):
    out = []
    for k in range(pred.shape[1]):
        a, b = [], []
        for i in range(pred.shape[0]):
            for s in range(pred.shape[2]):
                for lo in range(0, pred.shape[3], width):
                    pa = pred[i, k, s, lo : lo + width].mean()
                    pb = truth[i, k, s, lo : lo + width].mean()
                    a.append(np.log1p(pa if pa >= 1e-4 else 0.0))
                    b.append(np.log1p(pb if pb >= 1e-4 else 0.0))
        out.append(np.corrcoef(a, b)[0, 1])
    return np.array(out)


def test_pearson_binned_matches_naive_loop():
    rng = np.random.default_rng(3)
    truth = rng.gamma(0.5, 2.0, (5, 3, 2, 1000))
    pred = truth * rng.uniform(0.5, 1.5, truth.shape)
    np.testing.assert_allclose(
        pearson_binned(pred, truth), _naive_binned_pearson(pred, truth), rtol=1e-10
    )


def test_evaluate_perfect_and_table_layout():
    rng = np.random.default_rng(4)
    truth = rng.gamma(0.5, 2.0, (6, 3, 2, 50))
    table = evaluate_predictions(
        {"perfect": truth, "noisy": truth * 1.3}, truth, cell_types=["a", "b", "c"]
    )
    s = summarize(table)
    assert s.loc["perfect", "ccc_within"] == pytest.approx(1.0)
    assert s.loc["perfect", "ccc_across"] == pytest.approx(1.0)
    assert s.loc["perfect", "rmse"] == pytest.approx(0.0)
    assert s.loc["noisy", "ccc_within"] < 1.0
    assert set(table["metric"]) == {"ccc_within", "ccc_across", "rmse", "pearson_128bp"}
    lc = log_counts(truth)
    np.testing.assert_allclose(lc, np.log1p(truth.sum(axis=(2, 3))))
    np.testing.assert_allclose(rmse_per_region(lc + 1, lc), np.ones(6))
    assert ccc_across_cell_types(lc, lc).shape == (6,)
    with pytest.raises(ValueError):
        evaluate_predictions({"bad": truth[:2]}, truth, cell_types=["a", "b", "c"])


def test_accessibility_load_centre_mean():
    acc = np.zeros((1, 2, 10))
    acc[0, 0, 4:6] = 3.0
    acc[0, 1, 0] = 100.0  # outside the centre
    load = accessibility_load(acc, np.array([2.0, 1.0]), center=4)
    np.testing.assert_allclose(load, [[2.0 * 6 / 4, 0.0]])


def test_proportional_split_sums_to_bulk():
    rng = np.random.default_rng(5)
    bulk = rng.poisson(2.0, (4, 2, 30)).astype(float)
    load = rng.uniform(0, 1, (4, 3))
    load[2] = 0.0
    pred = proportional_split(bulk, load)
    np.testing.assert_allclose(pred.sum(1), bulk, rtol=1e-6)
    np.testing.assert_allclose(
        pred[0, :, 0, :].sum(-1) / bulk[0, 0].sum(), load[0] / load[0].sum(), rtol=1e-6
    )
    np.testing.assert_allclose(pred[2, :, 0, 0], bulk[2, 0, 0] / 3, rtol=1e-6)


def test_nnls_recovers_planted_coefficients_and_matches_lsq_linear():
    rng = np.random.default_rng(6)
    load = rng.uniform(0, 5, (40, 3))
    beta = np.array([3.0, 0.0, 7.0])
    counts = load @ beta
    bulk = np.zeros((40, 2, 10))
    bulk[:, 0, 0] = counts / 2
    bulk[:, 1, 3] = counts / 2
    pred, got = nnls_split(bulk, load)
    np.testing.assert_allclose(got, beta, atol=1e-8)
    np.testing.assert_allclose(pred.sum(1), bulk, rtol=1e-5)
    # noisy: same optimum as scipy's bounded least squares
    noisy = bulk * rng.uniform(0.5, 1.5, (40, 1, 1))
    _, got = nnls_split(noisy, load)
    ref = lsq_linear(load, noisy.sum(axis=(1, 2)), bounds=(0, np.inf), tol=1e-12).x
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_scale_function_formula():
    load = torch.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0], [2e-9, 2e-9, 4e-9]], dtype=torch.float64)
    expected = load.numpy() / (load.numpy().sum(1, keepdims=True) + 1e-16)
    np.testing.assert_allclose(scale_weights(load).numpy(), expected, rtol=1e-12)
    assert scale_weights(load)[1].abs().sum() == 0  # no accessibility anywhere -> zeros
    # the same on NumPy arrays, and the window helper is that of the prepared windows
    np.testing.assert_array_equal(scale_weights(load.numpy()), scale_weights(load).numpy())


def test_window_scale_is_the_scale_of_the_accessibility_load():
    rng = np.random.default_rng(3)
    acc = rng.gamma(1.0, 1.0, (4, 3, 50)).astype(np.float32)
    norm = np.array([1.0, 0.5, 2.0])
    load = accessibility_load(acc, norm, center=20)
    got = window_scale(acc, norm, center=20)
    assert got.dtype == np.float32 and got.shape == (4, 3)
    np.testing.assert_allclose(got, load / load.sum(1, keepdims=True), rtol=1e-6)
