"""CLIPNET losses and metrics against independent formulas (numpy, scipy, pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from varinterp.errors import InputError
from varinterp.models.clipnet.loss import (
    QUANTITY_WEIGHT,
    clipnet_loss,
    profile_cosine_loss,
    quantity_msle_loss,
)
from varinterp.models.clipnet.metrics import (
    clipnet_metrics,
    directionality,
    log_quantity_pearson,
    profile_pearson,
    tss_position,
)


def test_profile_cosine_loss_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.random((5, 12))
    b = rng.random((5, 12))
    want = -np.mean([a[i] @ b[i] / np.linalg.norm(a[i]) / np.linalg.norm(b[i]) for i in range(5)])
    got = profile_cosine_loss(torch.tensor(a), torch.tensor(b))
    assert got.item() == pytest.approx(want, rel=1e-6)
    same = profile_cosine_loss(torch.tensor(a), torch.tensor(3 * a))
    assert same.item() == pytest.approx(-1.0, abs=1e-6)  # scale-free


def test_profile_cosine_loss_zero_vector_is_finite():
    pred = torch.zeros(2, 6, requires_grad=True)
    obs = torch.rand(2, 6)
    loss = profile_cosine_loss(pred, obs)
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(pred.grad).all()


def test_quantity_msle_matches_numpy():
    pred = np.array([[0.0], [3.0], [10.0], [-1.0]])
    obs = np.array([[1.0], [3.0], [2.0], [0.0]])
    clipped = np.maximum(pred, 1e-7)
    want = np.mean((np.log1p(clipped) - np.log1p(obs)) ** 2)
    got = quantity_msle_loss(torch.tensor(pred), torch.tensor(obs.reshape(-1)))
    assert got.item() == pytest.approx(want, rel=1e-6)


def test_total_loss_weights_quantity_by_one_over_500():
    rng = np.random.default_rng(1)
    pp, op = torch.tensor(rng.random((3, 8))), torch.tensor(rng.random((3, 8)))
    pq, oq = torch.tensor(rng.random((3, 1)) * 50), torch.tensor(rng.random((3, 1)) * 50)
    loss = clipnet_loss(pp, pq, op, oq)
    assert QUANTITY_WEIGHT == 1 / 500
    want = profile_cosine_loss(pp, op) + quantity_msle_loss(pq, oq) / 500
    assert loss.total.item() == pytest.approx(want.item(), rel=1e-6)
    assert clipnet_loss(pp, pq, op, oq, quantity_weight=1.0).total.item() == pytest.approx(
        (loss.profile + loss.quantity).item(), rel=1e-6
    )


def test_profile_pearson_matches_pandas_corrwith():
    rng = np.random.default_rng(2)
    pred = rng.random((20, 10))
    obs = pred * 0.5 + rng.random((20, 10))
    obs[3] = 1.0  # constant window -> NaN
    got = profile_pearson(pred, obs)
    want = pd.DataFrame(pred).corrwith(pd.DataFrame(obs), axis=1).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, equal_nan=True)
    assert np.isnan(got[3])


def test_directionality_tss_and_summary():
    # two windows, 2 strands x 4 positions
    pred = np.array([[0, 5, 1, 0, 0, 0, 2, 1], [1, 0, 0, 0, 0, 0, 0, 9]], dtype=float)
    obs = np.array([[0, 4, 2, 0, 0, 1, 3, 0], [2, 0, 0, 0, 0, 0, 1, 7]], dtype=float)
    np.testing.assert_allclose(
        directionality(pred), [np.log1p(6) - np.log1p(3), np.log1p(1) - np.log1p(9)]
    )
    np.testing.assert_array_equal(tss_position(pred), [[1, 2], [0, 3]])
    m = clipnet_metrics(pred, obs, pred_quantity=np.array([9.0, 10.0]))
    r = profile_pearson(pred, obs)
    assert m["median_profile_pearson"] == pytest.approx(np.median(r))
    assert m["n_profile_defined"] == 2
    want_tss = stats.pearsonr([1, 0, 2, 3], [1, 0, 2, 3])[0]
    assert m["tss_position_pearson"] == pytest.approx(want_tss)
    assert m["directionality_pearson"] == pytest.approx(
        stats.pearsonr(directionality(pred), directionality(obs))[0]
    )


def test_log_quantity_pearson_matches_scipy():
    rng = np.random.default_rng(3)
    pred = rng.gamma(2.0, 10.0, 50)
    obs = pred * rng.lognormal(0, 0.5, 50)
    want = stats.pearsonr(np.log1p(pred), np.log1p(obs))[0]
    assert log_quantity_pearson(pred.reshape(-1, 1), obs) == pytest.approx(want)
    assert np.isnan(log_quantity_pearson(np.ones(5), obs[:5]))


def test_metric_shape_errors_are_input_errors():
    with pytest.raises(InputError, match="differ in shape"):
        profile_pearson(np.zeros((2, 4)), np.zeros((2, 6)))
    with pytest.raises(InputError, match="multiple of n_strands"):
        directionality(np.zeros((2, 5)))
    with pytest.raises(InputError, match="length >= 2"):
        log_quantity_pearson(np.zeros(3), np.zeros(4))
