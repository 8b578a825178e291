"""Parameter groups with their own learning rate (`OptimizerSettings.group_lr`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.training.engine import Loss, fit
from varinterp.training.settings import FitSettings, OptimizerSettings, make_optimizer


class _Two(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.slow = nn.Linear(1, 1, bias=False)
        self.fast = nn.Linear(1, 1, bias=False)

    def forward(self, x):
        return self.slow(x) + self.fast(x)


class _Task:
    terms = ("loss",)

    def n_batches(self, split, world_size):
        return 1

    def batches(self, split, *, epoch, rng, rank, world_size):
        yield torch.ones(4, 1)

    def forward(self, model, batch, device):
        return model(batch.to(device))

    def loss(self, prediction, batch, device, *, step):
        value = prediction.sum()  # d/dw = 4 for both weights
        return Loss(value, {"loss": value}, 4)

    def has_validation(self):
        return False


def test_each_group_steps_with_its_own_rate():
    """SGD-like check with Adam: the first Adam step moves a weight by exactly its lr."""
    settings = FitSettings(
        max_epochs=1,
        monitor="train_loss",
        optimizer=OptimizerSettings(lr=1e-1, group_lr=(("slow", 1e-3),)),
        prefetch=0,
    )
    torch.manual_seed(0)
    start = _Two().state_dict()
    result = fit(
        make_model=lambda a: _load(start),
        task=_Task(),
        settings=settings,
        device=torch.device("cpu"),
        seed=0,
    )
    moved = {k: float(start[k] - result.best_state[k]) for k in start}
    assert moved["slow.weight"] == pytest.approx(1e-3, rel=1e-4)
    assert moved["fast.weight"] == pytest.approx(1e-1, rel=1e-4)


def _load(state):
    m = _Two()
    m.load_state_dict(state)
    return m


def test_groups_and_bad_settings():
    opt = make_optimizer(_Two(), OptimizerSettings(lr=1e-2, group_lr=(("fast", 1e-4),)))
    assert [g["lr"] for g in opt.param_groups] == [1e-4, 1e-2]
    assert np.allclose([g["lr_scale"] for g in opt.param_groups], [1e-2, 1.0])
    with pytest.raises(InputError, match="group_lr"):
        OptimizerSettings(group_lr=(("x", 0.0),))
