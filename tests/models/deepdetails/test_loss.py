from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.deconv.conftest import tiny_config
from varinterp.deconv.baselines import scale_weights
from varinterp.models.deepdetails.loss import DeconvLoss, redundancy_penalty, rmsle
from varinterp.models.deepdetails.network import build_model


def _naive_penalty(pred: np.ndarray, gamma: float = 1e-8) -> float:
    """Loop over samples; np.corrcoef on the K x (S*L) matrix plus a ramp."""
    vals = []
    for sample in pred:
        x = sample.reshape(sample.shape[0], -1).astype(np.float64)
        x = x + np.arange(x.shape[1]) * gamma
        c = np.corrcoef(x)
        k = c.shape[0]
        vals.append(np.mean([c[i, j] ** 2 for i in range(k) for j in range(k) if i != j]))
    return float(np.mean(vals))


def test_rmsle_matches_direct_formula():
    rng = np.random.default_rng(0)
    pred = rng.gamma(1.0, 2.0, (4, 2, 50))
    y = rng.poisson(2.0, (4, 2, 50)).astype(float)
    expected = np.sqrt(np.mean(((np.log1p(pred) - np.log1p(y)) ** 2).sum(-1)))
    got = rmsle(torch.from_numpy(pred), torch.from_numpy(y))
    assert float(got) == pytest.approx(expected, rel=1e-10)
    msle = rmsle(torch.from_numpy(pred), torch.from_numpy(y), root=False)
    assert float(msle) == pytest.approx(expected**2, rel=1e-10)


def test_penalty_matches_corrcoef_loop():
    rng = np.random.default_rng(1)
    pred = rng.gamma(1.0, 1.0, (3, 4, 2, 30))
    got = float(redundancy_penalty(torch.from_numpy(pred)))
    assert got == pytest.approx(_naive_penalty(pred), rel=1e-5, abs=1e-9)


def test_penalty_with_a_silent_branch_is_finite():
    pred = torch.rand(2, 3, 2, 30)
    pred[1, 2] = 0.0
    pred.requires_grad_()
    value = redundancy_penalty(pred)
    assert torch.isfinite(value)
    value.backward()
    assert torch.isfinite(pred.grad).all()


def test_penalty_of_identical_branches_is_one_and_single_type_zero():
    x = torch.rand(2, 1, 2, 40)
    assert float(redundancy_penalty(x.repeat(1, 3, 1, 1))) == pytest.approx(1.0, abs=1e-6)
    assert float(redundancy_penalty(x)) == 0.0


def test_penalty_carries_gradient_and_trains():
    torch.manual_seed(0)
    base = torch.rand(2, 1, 2, 40)
    pred = (base.repeat(1, 3, 1, 1) + 0.05 * torch.rand(2, 3, 2, 40)).requires_grad_()
    loss = DeconvLoss(alpha=1.0)
    parts = loss(pred, pred.detach().sum(1))
    assert parts.penalty.requires_grad
    (g,) = torch.autograd.grad(parts.total, pred)
    assert g.abs().sum() > 0  # rmsle is 0 here: the whole gradient is the penalty's
    opt = torch.optim.SGD([pred], lr=5.0)
    start = float(redundancy_penalty(pred).detach())
    for _ in range(20):
        opt.zero_grad()
        redundancy_penalty(pred).backward()
        opt.step()
    assert float(redundancy_penalty(pred).detach()) < 0.5 * start


def test_penalty_gradient_reaches_model_weights():
    torch.manual_seed(1)
    m = build_model(tiny_config(gru_dropout=0.0))
    cfg = m.config
    seq = torch.zeros(2, 4, cfg.input_length)
    acc = torch.rand(2, 3, cfg.input_length)
    scale = scale_weights(torch.rand(2, 3))
    pred = m(seq, acc, scale).prediction
    bulk = pred.detach().sum(1) * 1.5
    with_pen = DeconvLoss(alpha=1.0)(pred, bulk).total
    without = DeconvLoss(redundancy=False)(pred, bulk).total
    g1 = torch.autograd.grad(with_pen, list(m.parameters()), retain_graph=True)
    g0 = torch.autograd.grad(without, list(m.parameters()))
    diff = sum(float((a - b).abs().sum()) for a, b in zip(g1, g0, strict=True))
    assert diff > 0


def test_ablation_switch():
    pred = torch.rand(2, 3, 2, 20, requires_grad=True)
    bulk = torch.rand(2, 2, 20)
    off = DeconvLoss(redundancy=False)(pred, bulk)
    assert torch.equal(off.total, off.rmsle)
    assert not off.penalty.requires_grad and float(off.penalty) > 0
    on = DeconvLoss(alpha=2.0)(pred, bulk)
    assert on.total.item() == pytest.approx(on.rmsle.item() + 2.0 * on.penalty.item(), rel=1e-6)
    zero = DeconvLoss(alpha=0.0)(pred, bulk)
    assert torch.equal(zero.total, zero.rmsle)
    with pytest.raises(ValueError):
        DeconvLoss(alpha=-1.0)
