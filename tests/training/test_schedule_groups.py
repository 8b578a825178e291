"""The cosine schedule and the model's own parameter groups (layer-wise lr scales)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.training.engine import Loss, fit
from varinterp.training.settings import (
    FitSettings,
    OptimizerSettings,
    learning_rate,
    make_optimizer,
)


def test_cosine_with_warmup_matches_the_formula():
    s = OptimizerSettings(
        lr=1e-3,
        warmup_steps=10,
        warmup_start=0.01,
        schedule="cosine",
        cosine_steps=110,
        min_lr_ratio=0.1,
    )
    for step in (0, 5, 10, 60, 110, 200):
        ramp = 0.01 + 0.99 * step / 10 if step < 10 else 1.0
        u = min(max(step - 10, 0) / 100, 1.0)
        want = 1e-3 * ramp * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * u)))
        assert learning_rate(s, epoch=0, step=step) == pytest.approx(want)
    with pytest.raises(InputError, match="cosine_steps"):
        OptimizerSettings(schedule="cosine")


class _TwoPart(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.low = nn.Linear(3, 3)
        self.high = nn.Linear(3, 1)
        self.frozen = nn.Linear(1, 1)
        self.frozen.requires_grad_(requires_grad=False)

    def forward(self, x):
        return self.high(torch.relu(self.low(x)))

    def parameter_groups(self):
        return [
            {"params": list(self.low.parameters()), "lr_scale": 0.0},
            {"params": list(self.high.parameters()), "lr_scale": 1.0},
            {"params": list(self.frozen.parameters()), "lr_scale": 1.0},
        ]


class _Task:
    terms = ("loss",)

    def __init__(self):
        rng = np.random.default_rng(0)
        self.x = torch.from_numpy(rng.normal(size=(64, 3)).astype(np.float32))
        self.y = self.x.sum(dim=1, keepdim=True)

    def n_batches(self, split, world_size):
        return 4

    def batches(self, split, *, epoch, rng, rank, world_size):
        for i in range(4):
            yield self.x[i * 16 : (i + 1) * 16], self.y[i * 16 : (i + 1) * 16]

    def forward(self, model, batch, device):
        return model(batch[0])

    def loss(self, pred, batch, device, *, step):
        v = ((pred - batch[1]) ** 2).mean()
        return Loss(v, {"loss": v}, 16)

    def has_validation(self):
        return False


def test_groups_scale_the_rate_and_frozen_parameters_stay_out():
    model = _TwoPart()
    opt = make_optimizer(model, OptimizerSettings(name="adamw"))
    assert [g["lr_scale"] for g in opt.param_groups] == [0.0, 1.0]
    assert sum(len(g["params"]) for g in opt.param_groups) == 4
    torch.manual_seed(0)
    start = _TwoPart()
    before = {k: v.clone() for k, v in start.state_dict().items()}
    result = fit(
        make_model=lambda a: start,
        task=_Task(),
        settings=FitSettings(
            max_epochs=3,
            monitor="train_loss",
            prefetch=0,
            optimizer=OptimizerSettings(name="adamw", lr=0.05),
        ),
        device=torch.device("cpu"),
        seed=0,
    )
    after = result.best_state
    assert torch.equal(after["low.weight"], before["low.weight"])  # lr scale 0
    assert not torch.equal(after["high.weight"], before["high.weight"])
    assert torch.equal(after["frozen.weight"], before["frozen.weight"])
