"""bpAI-TAC's losses against independent answers (scipy, naive loops)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.spatial.distance import jensenshannon

from varinterp.errors import InputError
from varinterp.models.bpaitac.loss import (
    AtacLoss,
    count_mse,
    cross_entropy,
    jensen_shannon,
    multinomial_nll,
    poisson_nll,
)


@pytest.fixture()
def batch():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(4, 3, 20, generator=g, dtype=torch.float64)
    log_p = torch.log_softmax(logits, -1)
    counts = torch.poisson(torch.full((4, 3, 20), 2.0, dtype=torch.float64), generator=g)
    counts[0, 0] = 0  # an empty profile
    pred = torch.rand(4, 3, generator=g, dtype=torch.float64) * 50
    totals = counts.sum(-1) * 1.3
    return log_p, counts, pred, totals


def test_cross_entropy_is_the_naive_loop(batch):
    log_p, counts, _, _ = batch
    want = []
    for b in range(4):
        for t in range(3):
            k = counts[b, t].numpy()
            p = k / k.sum() if k.sum() > 0 else np.zeros_like(k)
            want.append(-(p * log_p[b, t].numpy()).sum())
    assert float(cross_entropy(log_p, counts)) == pytest.approx(np.mean(want), rel=1e-6)


def test_mnll_is_n_times_ce_plus_the_multinomial_constant(batch):
    log_p, counts, _, _ = batch
    n = counts.sum(-1)
    p = counts / torch.where(n > 0, n, torch.ones_like(n))[..., None]
    ce_each = -(p * log_p).sum(-1)
    const = torch.lgamma(counts + 1).sum(-1) - torch.lgamma(n + 1)
    assert float(multinomial_nll(log_p, counts)) == pytest.approx(
        float((n * ce_each + const).mean()), rel=1e-6
    )
    # and it is the multinomial log-pmf of scipy
    want = [
        -stats.multinomial.logpmf(counts[b, t].numpy(), int(n[b, t]), log_p[b, t].exp().numpy())
        for b in range(4) for t in range(3)
    ]  # fmt: skip
    assert float(multinomial_nll(log_p, counts)) == pytest.approx(np.mean(want), rel=1e-6)


def test_lambda_zero_is_exactly_the_count_mse_and_one_exactly_ce(batch):
    log_p, counts, pred, totals = batch
    mse = count_mse(pred, totals)
    assert float(mse) == pytest.approx(
        float(((np.log(pred.numpy() + 1) - np.log(totals.numpy() + 1)) ** 2).mean())
    )
    assert torch.equal(AtacLoss("ce", 0.0)(log_p, pred, counts, totals).total, mse.float())
    ce = cross_entropy(log_p, counts)
    assert torch.equal(AtacLoss("ce", 1.0)(log_p, pred, counts, totals).total, ce)
    half = AtacLoss("ce", 0.5)(log_p, pred, counts, totals)
    assert float(half.total) == pytest.approx(0.5 * float(ce) + 0.5 * float(mse), rel=1e-6)
    mn = AtacLoss("mnll", 0.25)(log_p, pred, counts, totals)
    assert float(mn.total) == pytest.approx(
        0.25 * float(multinomial_nll(log_p, counts)) + 0.75 * float(mse), rel=1e-6
    )


def test_poisson_is_scipys(batch):
    log_p, counts, pred, _ = batch
    rate = (log_p.exp() * pred[..., None]).numpy()
    want = -stats.poisson.logpmf(counts.numpy(), rate).mean()
    assert float(poisson_nll(log_p, pred, counts)) == pytest.approx(want, rel=1e-6)


def test_jsd_is_scipys_squared_distance(batch):
    log_p, counts, _, _ = batch
    want = []
    for b in range(4):
        for t in range(3):
            if counts[b, t].sum() > 0:
                want.append(jensenshannon(log_p[b, t].exp().numpy(), counts[b, t].numpy()) ** 2)
    assert float(jensen_shannon(log_p, counts)) == pytest.approx(np.mean(want), rel=1e-6)


@pytest.mark.parametrize("lam", [-0.1, 1.5, float("nan")])
def test_lambda_outside_the_unit_interval_is_refused(lam):
    with pytest.raises(InputError, match=r"lambda .* \[0, 1\]"):
        AtacLoss("ce", lam)


def test_unknown_loss_is_refused():
    with pytest.raises(InputError, match="loss must be one of"):
        AtacLoss("mse", 0.5)
