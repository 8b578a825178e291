"""The training loop of one fold model: Adam, early stopping, per-epoch checkpoints.

`fit_fold` trains one model on the training folds of a `FoldSplit`, validates after
every epoch, keeps the best weights (lowest validation loss) and stops after
``patience`` epochs without improvement or at ``max_epochs``. After every epoch it
writes a checkpoint (model, optimizer, early-stopping state with the best weights,
torch RNG state, epoch) atomically to `state_path`; called again with the same
arguments after a crash it continues from there and ends with the same weights as an
uninterrupted run (on the CPU). The data order of epoch ``e`` comes from a NumPy
generator seeded with ``(seed, fold, e)``, so it does not depend on where a run resumed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from varinterp.datasets.clipnet import ClipnetData, Examples
from varinterp.datasets.prefetch import prefetch
from varinterp.io.atomic import atomic_path
from varinterp.nets.losses import clipnet_loss
from varinterp.progress import ProgressCallback, report
from varinterp.training.config import TrainingConfig
from varinterp.training.ddp import DistInfo, all_reduce_sum, unwrap
from varinterp.training.early_stopping import EarlyStopping

__all__ = [
    "EpochLog",
    "FitResult",
    "evaluate_loss",
    "fit_fold",
    "make_optimizer",
    "recalibrate_batchnorm",
    "to_device",
]


@dataclass
class EpochLog:
    """One line of the metrics log."""

    fold: int
    epoch: int
    lr: float
    train_loss: float
    train_profile: float
    train_quantity: float
    val_loss: float
    val_profile: float
    val_quantity: float
    best: bool
    seconds: float
    samples_per_s: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FitResult:
    """What `fit_fold` returns: the best weights (CPU) and the epoch log."""

    best_state: dict[str, torch.Tensor]
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    history: list[EpochLog] = field(default_factory=list)


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam as in the published recipe (beta 0.9 / 0.999, eps 1e-7)."""
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-7)


def to_device(batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A `Batch`'s arrays as tensors on `device`: x float32, profile, quantity."""
    nb = device.type == "cuda"
    x = torch.from_numpy(batch.x).to(device, non_blocking=nb).float()
    prof = torch.from_numpy(batch.profile).to(device, non_blocking=nb)
    q = torch.from_numpy(batch.quantity).to(device, non_blocking=nb)
    return x, prof, q


def _autocast(device: torch.device, bf16: bool):
    if device.type == "cuda" and bf16:
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def evaluate_loss(
    model: nn.Module,
    data: ClipnetData,
    examples: Examples,
    *,
    training: TrainingConfig,
    device: torch.device,
    dist: DistInfo,
) -> tuple[float, float, float]:
    """Mean (total, profile, quantity) loss over `examples` (summed over ranks)."""
    model.eval()
    sums = torch.zeros(4, dtype=torch.float64, device=device)
    batches = data.iter_batches(
        examples, batch_size=training.batch_size, rank=dist.rank, world_size=dist.world_size
    )
    with torch.no_grad():
        for batch in prefetch(batches, training.prefetch):
            x, prof, q = to_device(batch, device)
            with _autocast(device, training.bf16):
                p_hat, q_hat = model(x)
            loss = clipnet_loss(p_hat, q_hat, prof, q, quantity_weight=training.quantity_weight)
            n = x.shape[0]
            sums += torch.stack(
                [loss.total.double() * n, loss.profile.double() * n, loss.quantity.double() * n,
                 torch.tensor(float(n), dtype=torch.float64, device=device)]
            )  # fmt: skip
    all_reduce_sum(sums, dist)
    n = float(sums[3])
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    return float(sums[0]) / n, float(sums[1]) / n, float(sums[2]) / n


def recalibrate_batchnorm(
    model: nn.Module,
    data: ClipnetData,
    examples: Examples,
    *,
    n_batches: int,
    batch_size: int,
    rng: np.random.Generator,
    device: torch.device,
) -> int:
    """Replace every BatchNorm's running mean/variance by their average over `n_batches`
    training batches (drawn like an epoch's, from `rng`), without touching weights.

    BatchNorm keeps exponential running averages (momentum 0.01 in CLIPNET): after a
    few hundred steps they still lag the current weights, so evaluation-mode outputs
    differ from what training optimised. Returns the number of batches used.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or n_batches <= 0:
        return 0
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    model.train()
    used = 0
    try:
        with torch.no_grad():
            batches = data.iter_batches(examples, batch_size=batch_size, rng=rng, train=True)
            for batch in batches:
                if used >= n_batches:
                    break
                x, _, _ = to_device(batch, device)
                model(x)
                used += 1
    finally:
        for m, mom in zip(norms, momenta, strict=True):
            m.momentum = mom
    return used


def _save_state(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def fit_fold(
    *,
    model: nn.Module,
    data: ClipnetData,
    fold: int,
    train_examples: Examples,
    val_examples: Examples,
    training: TrainingConfig,
    device: torch.device,
    state_path: Path,
    dist: DistInfo | None = None,
    on_epoch: Callable[[EpochLog, list[EpochLog]], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train `model` (already on `device`, possibly DDP-wrapped) for one fold.

    `state_path` is the fold's checkpoint; when it exists the run resumes from it.
    `on_epoch(log, history)` is called with each epoch's `EpochLog` and the fold's log so
    far (including epochs before a resume), after the checkpoint is written;
    `on_progress(done, total)` counts the batches of the current epoch.
    """
    dist = dist or DistInfo()
    optimizer = make_optimizer(model, training.lr)
    early = EarlyStopping(training.patience, training.min_delta)
    history: list[EpochLog] = []
    start_epoch = 0
    torch.manual_seed(training.seed * 1000 + fold)
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        unwrap(model).load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        early.load_state_dict(state["early_stopping"])
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        history = [EpochLog(**h) for h in state["history"]]
        start_epoch = int(state["epoch"]) + 1
        if state.get("finished"):
            return _result(early, model, history)
    n_batches = data.n_batches(len(train_examples), training.batch_size, dist.world_size)
    if training.max_batches_per_epoch:
        n_batches = min(n_batches, training.max_batches_per_epoch)
    for epoch in range(start_epoch, training.max_epochs):
        lr = training.lr * (training.warmup_factor if epoch < training.warmup_epochs else 1.0)
        for group in optimizer.param_groups:
            group["lr"] = lr
        rng = np.random.default_rng([training.seed, fold, epoch])
        model.train()
        t0 = time.perf_counter()
        sums = torch.zeros(4, dtype=torch.float64, device=device)
        batches = data.iter_batches(
            train_examples,
            batch_size=training.batch_size,
            rng=rng,
            train=True,
            rank=dist.rank,
            world_size=dist.world_size,
        )
        for i, batch in enumerate(prefetch(batches, training.prefetch)):
            if i >= n_batches:
                break
            x, prof, q = to_device(batch, device)
            optimizer.zero_grad(set_to_none=True)
            with _autocast(device, training.bf16):
                p_hat, q_hat = model(x)
            loss = clipnet_loss(p_hat, q_hat, prof, q, quantity_weight=training.quantity_weight)
            loss.total.backward()
            optimizer.step()
            n = x.shape[0]
            sums += torch.stack(
                [loss.total.detach().double() * n, loss.profile.detach().double() * n,
                 loss.quantity.detach().double() * n,
                 torch.tensor(float(n), dtype=torch.float64, device=device)]
            )  # fmt: skip
            report(on_progress, i + 1, n_batches)
        all_reduce_sum(sums, dist)
        seconds = time.perf_counter() - t0
        n_seen = max(float(sums[3]), 1.0)
        # the plain module: DDP's forward syncs buffers, a collective that ranks with
        # uneven validation batches would not all reach
        plain = unwrap(model)
        if training.bn_recalibration_batches:
            recalibrate_batchnorm(
                plain, data, train_examples, n_batches=training.bn_recalibration_batches,
                batch_size=training.batch_size, device=device,
                rng=np.random.default_rng([training.seed, fold, epoch, 1]),
            )  # fmt: skip
        val = evaluate_loss(plain, data, val_examples, training=training, device=device, dist=dist)
        best = early.update(val[0], unwrap(model), epoch)
        log = EpochLog(
            fold=fold,
            epoch=epoch,
            lr=lr,
            train_loss=float(sums[0]) / n_seen,
            train_profile=float(sums[1]) / n_seen,
            train_quantity=float(sums[2]) / n_seen,
            val_loss=val[0],
            val_profile=val[1],
            val_quantity=val[2],
            best=best,
            seconds=seconds,
            samples_per_s=float(sums[3]) / seconds if seconds > 0 else float("nan"),
        )
        history.append(log)
        finished = early.should_stop or epoch + 1 >= training.max_epochs
        if dist.is_main:
            _save_state(
                state_path,
                {
                    "epoch": epoch,
                    "finished": finished,
                    "model": unwrap(model).state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "early_stopping": early.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                    "history": [h.to_dict() for h in history],
                },
            )
        if on_epoch is not None:
            on_epoch(log, history)
        if finished:
            break
    return _result(early, model, history)


def _result(early: EarlyStopping, model: nn.Module, history: list[EpochLog]) -> FitResult:
    best = early.best_state
    if best is None:  # every validation loss was NaN: keep the last weights
        best = {k: v.detach().cpu().clone() for k, v in unwrap(model).state_dict().items()}
    return FitResult(
        best_state=best,
        best_epoch=early.best_epoch,
        best_val_loss=early.best_loss,
        epochs_run=len(history),
        history=history,
    )
