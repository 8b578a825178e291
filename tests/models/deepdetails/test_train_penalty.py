"""The redundancy penalty's gradient trains the model by default; the ablation removes it.

Same data, seed and settings, one epoch: the only difference between the default run and
``redundancy=False`` is the penalty's gradient, so their weights must differ; and
``redundancy=False`` must equal a run whose penalty has zero weight (alpha 0), i.e. the
ablation changes nothing else.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.deconv.conftest import tiny_config
from varinterp.deconv.baselines import scale_weights
from varinterp.models.deepdetails.files import load_model
from varinterp.models.deepdetails.loss import DeconvLoss, redundancy_penalty, rmsle
from varinterp.models.deepdetails.network import build_model
from varinterp.models.deepdetails.train import (
    SPLIT_ANCHOR,
    TrainSettings,
    penalty_weight,
    train_deconv,
)


def _run(data, out, **kw):
    settings = TrainSettings(
        **{"epochs": 1, "batch_size": 4, "lr_decay": 1.0, "max_retry": 0, "seed": 3, **kw}
    )
    res = train_deconv(data, config=tiny_config(gru_dropout=0.0), out=out, settings=settings)
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return load_model(res.model_dir).state_dict(), rows


def _max_diff(a, b):
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def test_penalty_gradient_trains_by_default_and_the_switch_removes_it(synthetic_data, tmp_path):
    assert TrainSettings().redundancy is True
    default, rows = _run(synthetic_data, tmp_path / "default")
    ablation, rows_off = _run(synthetic_data, tmp_path / "off", redundancy=False)
    zero, _ = _run(synthetic_data, tmp_path / "zero", alpha=0.0)
    assert rows[0]["penalty_weight"] > 0.0 and rows_off[0]["penalty_weight"] == 0.0
    # the penalty's gradient moved the weights ...
    assert _max_diff(default, ablation) > 1e-6
    # ... and the ablation is exactly "no penalty gradient", nothing else
    assert _max_diff(ablation, zero) == 0.0
    # the logged objective is RMSLE + alpha x penalty (+ the split anchor) in both runs
    for r in (rows[0], rows_off[0]):
        want = r["train_rmsle"] + r["train_penalty"] + SPLIT_ANCHOR * r.get("train_anchor", 0.0)
        assert r["train_loss"] == pytest.approx(want, rel=1e-9)


def test_warmup_holds_the_gradient_back(synthetic_data, tmp_path):
    # 12 windows / batch 4 = 3 steps per epoch; a one-epoch warm-up is the ablation
    warm, rows = _run(synthetic_data, tmp_path / "warm", redundancy_warmup=1.0, redundancy_ramp=0)
    ablation, _ = _run(synthetic_data, tmp_path / "off", redundancy=False)
    assert rows[0]["penalty_weight"] == 0.0
    assert _max_diff(warm, ablation) == 0.0


def test_penalty_weight_schedule():
    got = [penalty_weight(t, warmup_steps=2, ramp_steps=4) for t in range(8)]
    assert got == [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert [penalty_weight(t, warmup_steps=1, ramp_steps=0) for t in range(3)] == [0, 1, 1]


def test_counts_weighting_scales_each_sample_by_its_share_of_the_bulk():
    torch.manual_seed(0)
    pred = torch.rand(4, 3, 2, 20, requires_grad=True)
    bulk = pred.detach().sum(1) * torch.tensor([4.0, 1.0, 0.5, 0.0])[:, None, None]
    parts = DeconvLoss(sample_weight="counts")(pred, bulk, weight=0.5)
    share = np.array([0.25, 1.0, 1.0, 0.0])  # predicted / bulk total, capped at 1; 0 if no bulk
    per = redundancy_penalty(pred.detach(), reduce=False).numpy()
    fit = float(rmsle(pred.detach().sum(1), bulk))
    assert float(parts.total.detach()) == pytest.approx(
        fit + 0.5 * float(np.mean(share * per)), rel=1e-5
    )
    assert float(parts.penalty.detach()) == pytest.approx(
        float(per.mean()), rel=1e-6
    )  # logged unweighted
    with pytest.raises(ValueError):
        DeconvLoss(sample_weight="magic")


def test_counts_weighted_penalty_gradient_reaches_model_weights():
    torch.manual_seed(1)
    m = build_model(tiny_config(gru_dropout=0.0, count_scale=5.0))
    cfg = m.config
    out = m(
        torch.zeros(2, 4, cfg.input_length),
        torch.rand(2, 3, cfg.input_length),
        scale_weights(torch.rand(2, 3)),
    )
    bulk = out.prediction.detach().sum(1) * 2.0
    on = DeconvLoss(sample_weight="counts")(out.prediction, bulk).total
    off = DeconvLoss(redundancy=False)(out.prediction, bulk).total
    g1 = torch.autograd.grad(on, list(m.parameters()), retain_graph=True)
    g0 = torch.autograd.grad(off, list(m.parameters()))
    assert sum(float((a - b).abs().sum()) for a, b in zip(g1, g0, strict=True)) > 0
