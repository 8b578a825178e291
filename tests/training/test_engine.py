"""The training engine on a toy task with a known answer: y = 3 x0 - 2 x1 + 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.training.engine import EpochLog, Loss, Task, fit
from varinterp.training.settings import FitSettings, OptimizerSettings, learning_rate

W_TRUE = np.array([3.0, -2.0], dtype=np.float32)


class LinearTask:
    """Batches of (x, y) with y = x @ W_TRUE + 1 (+ noise); MSE loss."""

    terms = ("loss", "mae")

    def __init__(self, n=256, n_val=64, batch_size=32, seed=0, noise=0.0):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(n + n_val, 2)).astype(np.float32)
        self.y = (self.x @ W_TRUE + 1.0 + noise * rng.normal(size=n + n_val)).astype(np.float32)
        self.idx = {"train": np.arange(n), "validation": np.arange(n, n + n_val)}
        self.batch_size = batch_size
        self.seen_steps: list[int] = []

    def n_batches(self, split, world_size):
        return -(-self.idx[split].size // self.batch_size)

    def batches(self, split, *, epoch, rng, rank, world_size):
        idx = self.idx[split]
        if rng is not None:
            idx = idx[rng.permutation(idx.size)]
        for lo in range(0, idx.size, self.batch_size):
            b = idx[lo : lo + self.batch_size]
            yield torch.from_numpy(self.x[b]), torch.from_numpy(self.y[b])

    def forward(self, model, batch, device):
        return model(batch[0].to(device))[:, 0]

    def loss(self, prediction, batch, device, *, step):
        if step >= 0:
            self.seen_steps.append(step)
        y = batch[1].to(device)
        mse = ((prediction - y) ** 2).mean()
        return Loss(mse, {"loss": mse, "mae": (prediction - y).abs().mean()}, y.shape[0])

    def has_validation(self):
        return True


def _linear(attempt: int) -> nn.Module:
    return nn.Linear(2, 1)


SETTINGS = FitSettings(max_epochs=40, patience=40, optimizer=OptimizerSettings(lr=0.05))


def test_task_protocol_and_learning():
    task = LinearTask()
    assert isinstance(task, Task)
    res = fit(make_model=_linear, task=task, settings=SETTINGS, device=torch.device("cpu"), seed=0)
    m = _linear(0)
    m.load_state_dict(res.best_state)
    np.testing.assert_allclose(m.weight.detach().numpy()[0], W_TRUE, atol=1e-2)
    np.testing.assert_allclose(m.bias.detach().numpy(), [1.0], atol=1e-2)
    log = res.history[-1]
    assert set(log.metrics) == {"train_loss", "train_mae", "val_loss", "val_mae"}
    assert log.val_loss == log.metrics["val_loss"] < 1e-3
    assert res.best_epoch == int(np.argmin([h.val_loss for h in res.history]))
    # steps count every batch from the start of training
    assert task.seen_steps == list(range(40 * 8))


def test_validation_means_are_sample_weighted():
    task = LinearTask(n=40, n_val=50, batch_size=32)  # validation batches of 32 and 18
    res = fit(
        make_model=_linear, task=task, settings=FitSettings(max_epochs=1),
        device=torch.device("cpu"), seed=0,
    )  # fmt: skip
    m = _linear(0)
    m.load_state_dict(res.best_state)
    with torch.no_grad():
        pred = m(torch.from_numpy(task.x[40:]))[:, 0].numpy()
    want = float(np.mean((pred - task.y[40:]) ** 2))
    assert res.history[0].val_loss == pytest.approx(want, rel=1e-6)


def test_resume_after_kill_is_byte_identical(tmp_path):
    whole = fit(
        make_model=_linear, task=LinearTask(noise=0.3), settings=SETTINGS,
        device=torch.device("cpu"), seed=3, state_path=tmp_path / "a.pt",
    )  # fmt: skip

    class Killed(Exception):
        pass

    def kill(log, history):
        if log.epoch == 7:
            raise Killed

    with pytest.raises(Killed):
        fit(
            make_model=_linear, task=LinearTask(noise=0.3), settings=SETTINGS,
            device=torch.device("cpu"), seed=3, state_path=tmp_path / "b.pt", on_epoch=kill,
        )  # fmt: skip
    seen = []
    resumed = fit(
        make_model=_linear, task=LinearTask(noise=0.3), settings=SETTINGS,
        device=torch.device("cpu"), seed=3, state_path=tmp_path / "b.pt",
        on_epoch=lambda log, h: seen.append(log.epoch),
    )  # fmt: skip
    assert seen == list(range(8, 40))
    for k, v in whole.best_state.items():
        assert torch.equal(v, resumed.best_state[k]), k
    assert [h.to_dict() for h in whole.history] != []
    a = [{k: v for k, v in h.to_dict().items() if k not in ("seconds", "samples_per_s")}
         for h in whole.history]  # fmt: skip
    b = [{k: v for k, v in h.to_dict().items() if k not in ("seconds", "samples_per_s")}
         for h in resumed.history]  # fmt: skip
    assert a == b
    json.dumps(a)


def test_early_stopping_keeps_the_best_epoch():
    class Worsening(LinearTask):
        def loss(self, prediction, batch, device, *, step):
            out = super().loss(prediction, batch, device, step=step)
            if step < 0:  # validation: a loss that only grows with the epoch count
                self.val_calls = getattr(self, "val_calls", 0) + 1
                v = torch.tensor(float(self.val_calls // 2))
                return Loss(out.total, {"loss": v, "mae": v}, out.n)
            return out

    task = Worsening(n_val=64)  # two validation batches per epoch
    res = fit(
        make_model=_linear, task=task, settings=FitSettings(max_epochs=30, patience=3),
        device=torch.device("cpu"), seed=0,
    )  # fmt: skip
    assert res.best_epoch == 0 and res.epochs_run == 4
    assert [h.best for h in res.history] == [True, False, False, False]


def test_schedule_warmup_decay_and_steps():
    s = OptimizerSettings(lr=1.0, warmup_epochs=1, warmup_factor=0.1, decay_every=2,
                          decay_gamma=0.5, warmup_steps=4, warmup_start=0.2)  # fmt: skip
    assert learning_rate(s, epoch=0, step=0) == pytest.approx(0.1 * 0.2)
    assert learning_rate(s, epoch=0, step=2) == pytest.approx(0.1 * 0.6)
    assert learning_rate(s, epoch=1, step=10) == pytest.approx(1.0)
    assert learning_rate(s, epoch=2, step=20) == pytest.approx(0.5)
    assert learning_rate(s, epoch=5, step=50) == pytest.approx(0.25)
    # StepLR's chained products, to the last bit
    step = OptimizerSettings(lr=1e-3, decay_every=1, decay_gamma=0.1)
    sched_lr = []
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    for _ in range(4):
        sched_lr.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert [learning_rate(step, epoch=e, step=0) for e in range(4)] == sched_lr


def test_accept_hook_retries_with_the_next_seed(tmp_path):
    class Picky(LinearTask):
        def accept(self, model, *, device):
            self.checked = getattr(self, "checked", 0) + 1
            return self.checked >= 3

    seeds = []

    def make(attempt):
        seeds.append(attempt)
        return nn.Linear(2, 1)

    task = Picky()
    res = fit(
        make_model=make, task=task,
        settings=FitSettings(max_epochs=2, max_retry=5), device=torch.device("cpu"), seed=0,
        state_path=tmp_path / "s.pt",
    )  # fmt: skip
    assert res.accepted is True and res.attempts == 3 and seeds == [0, 1, 2]
    assert [h.attempt for h in res.all_history] == [0, 0, 1, 1, 2, 2]
    assert res.history[0].to_dict(with_attempt=True)["attempt"] == 2
    gave_up = fit(
        make_model=make, task=Picky(), settings=FitSettings(max_epochs=1, max_retry=1),
        device=torch.device("cpu"), seed=0,
    )  # fmt: skip
    assert gave_up.accepted is False and gave_up.attempts == 2


def test_grad_accumulation_equals_one_big_batch():
    a = fit(
        make_model=_linear, task=LinearTask(n=64, batch_size=64),
        settings=FitSettings(max_epochs=3, optimizer=OptimizerSettings(lr=0.05, name="adamw")),
        device=torch.device("cpu"), seed=1,
    )  # fmt: skip

    class Halves(LinearTask):
        def loss(self, prediction, batch, device, *, step):
            out = super().loss(prediction, batch, device, step=step)
            return Loss(out.total, out.terms, out.n)

    b = fit(
        make_model=_linear, task=Halves(n=64, batch_size=32),
        settings=FitSettings(
            max_epochs=3, grad_accumulation=2, optimizer=OptimizerSettings(lr=0.05, name="adamw")
        ),
        device=torch.device("cpu"), seed=1,
    )  # fmt: skip
    for k in a.best_state:
        torch.testing.assert_close(a.best_state[k], b.best_state[k], rtol=1e-5, atol=1e-6)


def test_unknown_monitor_and_bad_settings():
    with pytest.raises(InputError, match="val_auc"):
        fit(
            make_model=_linear, task=LinearTask(), settings=FitSettings(monitor="val_auc"),
            device=torch.device("cpu"), seed=0,
        )  # fmt: skip
    with pytest.raises(InputError, match="patience"):
        FitSettings(patience=0)
    with pytest.raises(InputError, match="optimizer"):
        OptimizerSettings(name="sgd")


def test_epoch_log_round_trip():
    log = EpochLog(epoch=2, lr=0.1, metrics={"train_loss": 1.5}, best=True, seconds=1.0,
                   samples_per_s=3.0, labels={"fold": 4})  # fmt: skip
    assert log.fold == 4 and log.train_loss == 1.5
    back = EpochLog.from_dict(log.to_dict(), ["fold"])
    assert back == log
