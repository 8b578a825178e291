"""CLIPNET through the engine: the task adapter, the architecture entry, the old fold loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from varinterp.datasets.folds import FoldMap
from varinterp.datasets.samplesheet import read_sample_sheet
from varinterp.genome.store import GenomeStore
from varinterp.models.clipnet import ARCHITECTURE
from varinterp.models.clipnet.data import ClipnetData
from varinterp.models.clipnet.legacy import evaluate_loss, fit_fold, make_optimizer
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.models.clipnet.runconfig import TrainingConfig, fit_settings
from varinterp.models.clipnet.task import ClipnetTask
from varinterp.training.ddp import DistInfo
from varinterp.training.engine import Task, fit
from varinterp.training.registry import get_architecture

L_IN, L_OUT = 240, 100
CFG = ClipnetConfig.small(input_length=L_IN, output_length=L_OUT, n_dilations=2)
TRAINING = TrainingConfig(lr=5e-3, batch_size=8, max_epochs=3, patience=3, seed=4)
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def fold_data(world):
    data = ClipnetData.build(
        store=GenomeStore.open(world.store), libraries=read_sample_sheet(world.sheet),
        peaks=world.peaks, input_length=L_IN, output_length=L_OUT, max_jitter=10,
    )  # fmt: skip
    folds = FoldMap({c: i for i, c in enumerate(world.reference)})
    train = data.examples(data.peaks_in_folds(folds, [3, 4, 5]), rc="random")
    val = data.examples(data.peaks_in_folds(folds, [2]), rc="both", fixed_jitter=True)
    return data, train, val


def test_architecture_entry():
    arch = get_architecture("clipnet")
    assert arch is ARCHITECTURE or arch.model_cls is Clipnet
    assert arch.family == "clipnet" and arch.input_encoding == "two-hot"
    spec = arch.outputs(CFG, {})
    assert (spec.input_length, spec.output_length, spec.n_strands) == (L_IN, L_OUT, 2)
    assert spec.tasks == ("",) and spec.quantity == "RPM" and spec.output_start == 70
    assert arch.outputs(CFG, {"tasks": ["LCL"]}).tasks == ("LCL",)


def test_fit_settings_are_the_published_recipe():
    s = fit_settings(TrainingConfig(lr=2e-3, warmup_epochs=1, warmup_factor=0.1, patience=7))
    assert s.monitor == "val_loss" and s.mode == "min" and s.patience == 7
    opt = s.optimizer
    assert (opt.name, opt.lr, opt.betas, opt.eps) == ("adam", 2e-3, (0.9, 0.999), 1e-7)
    assert (opt.warmup_epochs, opt.warmup_factor, opt.decay_every, opt.warmup_steps) == (
        1, 0.1, 0, 0,
    )  # fmt: skip
    adam = make_optimizer(Clipnet(CFG), 1e-3)
    assert adam.param_groups[0]["eps"] == 1e-7 and adam.param_groups[0]["lr"] == 1e-3


def test_run_config_chooses_adamw_decay_and_accumulation(tmp_path):
    from varinterp.errors import InputError
    from varinterp.models.clipnet.runconfig import load_run_config

    base = '[data]\nstore = "s"\nsample_sheet = "x.tsv"\npeaks = "p.bed"\n[training]\n'
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        base + 'optimizer = "adamw"\nweight_decay = 0.01\nlr_decay = 0.5\ndecay_every = 2\n'
        "grad_accumulation = 4\ngrad_clip = 1.0\n"
    )
    s = fit_settings(load_run_config(cfg).training)
    opt = s.optimizer
    assert (opt.name, opt.weight_decay, opt.decay_gamma, opt.decay_every) == (
        "adamw", 0.01, 0.5, 2,
    )  # fmt: skip
    assert (s.grad_accumulation, s.grad_clip) == (4, 1.0)
    cfg.write_text(base + 'optimizer = "sgd"\n')
    with pytest.raises(InputError, match='optimizer must be "adam" or "adamw"'):
        load_run_config(cfg)


def test_task_batches_and_loss_terms(fold_data):
    data, train, val = fold_data
    task = ClipnetTask(data, train, val, batch_size=8, quantity_weight=0.5)
    assert isinstance(task, Task) and task.terms == ("loss", "profile", "quantity")
    n_train = task.n_batches("train", 1)
    batches = list(task.batches("train", epoch=0, rng=np.random.default_rng(0), rank=0,
                                world_size=1))  # fmt: skip
    assert len(batches) == n_train == math.ceil(len(train) / 8)
    assert task.n_batches("validation", 2) == math.ceil(math.ceil(len(val) / 8) / 2)
    first = next(task.batches("validation", epoch=5, rng=None, rank=0, world_size=1))
    again = next(task.batches("validation", epoch=0, rng=None, rank=0, world_size=1))
    assert np.array_equal(first.x, again.x)  # validation windows do not depend on the epoch
    torch.manual_seed(0)
    model = Clipnet(CFG).eval()
    with torch.no_grad():
        loss = task.loss(task.forward(model, first, CPU), first, CPU, step=0)
    assert loss.n == first.x.shape[0] and list(loss.terms) == list(task.terms)
    p, q = loss.terms["profile"], loss.terms["quantity"]
    torch.testing.assert_close(loss.total, p + 0.5 * q)
    assert loss.terms["loss"] is loss.total


def test_old_fold_loop_trains_like_the_engine(fold_data, tmp_path):
    """`fit_fold` (the previous release's call) gives the weights of `fit`: the old loop
    seeded torch after the model was built, the engine before, and training a model
    without dropout draws nothing from torch's generator."""
    data, train, val = fold_data
    fold = 2
    torch.manual_seed(TRAINING.seed * 1000 + fold)
    old = fit_fold(
        model=Clipnet(CFG), data=data, fold=fold, train_examples=train, val_examples=val,
        training=TRAINING, device=CPU, state_path=tmp_path / "old.pt",
    )  # fmt: skip
    task = ClipnetTask(data, train, val, batch_size=TRAINING.batch_size,
                       quantity_weight=TRAINING.quantity_weight)  # fmt: skip
    new = fit(
        make_model=lambda _attempt: Clipnet(CFG), task=task, settings=fit_settings(TRAINING),
        device=CPU, seed=TRAINING.seed * 1000 + fold, order_seed=(TRAINING.seed, fold),
        state_path=tmp_path / "new.pt", labels={"fold": fold},
    )  # fmt: skip
    assert old.best_epoch == new.best_epoch and old.epochs_run == new.epochs_run == 3
    for k, v in old.best_state.items():
        assert torch.equal(v, new.best_state[k]), k
    log = new.history[new.best_epoch]
    assert log.fold == fold and log.epoch == new.best_epoch
    assert list(log.to_dict())[:6] == ["fold", "epoch", "lr", "train_loss", "train_profile",
                                       "train_quantity"]  # fmt: skip
    best = Clipnet(CFG)
    best.load_state_dict(new.best_state)
    total, profile, quantity = evaluate_loss(
        best, data, val, training=TRAINING, device=CPU, dist=DistInfo()
    )
    assert total == pytest.approx(log.val_loss, rel=1e-6)
    assert (profile, quantity) == pytest.approx((log.val_profile, log.val_quantity), rel=1e-6)
