"""The previous release's per-fold training calls, kept for one release over the engine.

``varinterp.training.loop`` trained one CLIPNET fold model with a loop of its own; the
engine (`varinterp.training.engine.fit`) with a `ClipnetTask` replaces it. These
functions keep the old calls working (``varinterp.training.loop`` forwards to them with
a deprecation warning) and train exactly as `varinterp.models.clipnet.train` does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from varinterp.models.clipnet.data import ClipnetData, Examples
from varinterp.models.clipnet.runconfig import TrainingConfig, fit_settings
from varinterp.models.clipnet.task import ClipnetTask
from varinterp.progress import ProgressCallback
from varinterp.training import settings as engine_settings
from varinterp.training.ddp import DistInfo, unwrap
from varinterp.training.engine import EpochLog, FitResult, evaluate_task, fit

__all__ = ["evaluate_loss", "fit_fold", "make_optimizer"]


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam as in the published recipe (beta 0.9 / 0.999, eps 1e-7) at `lr`."""
    optimizer = fit_settings(TrainingConfig(lr=lr)).optimizer
    return engine_settings.make_optimizer(model, optimizer)


def _task(data: ClipnetData, train: Examples, val: Examples, t: TrainingConfig) -> ClipnetTask:
    return ClipnetTask(
        data, train, val, batch_size=t.batch_size, quantity_weight=t.quantity_weight,
        bn_recalibration_batches=t.bn_recalibration_batches,
    )  # fmt: skip


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
    task = _task(data, examples, examples, training)
    means = evaluate_task(
        model, task, device=device, dist=dist, bf16=training.bf16, depth=training.prefetch
    )
    return means["loss"], means["profile"], means["quantity"]


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
    """Train `model` (built, possibly DDP-wrapped) for fold `fold` with the engine.

    `state_path` is the fold's checkpoint; when it exists the run resumes from it.
    Returns the engine's `FitResult` (best weights on the CPU, the epoch log).
    """
    plain = unwrap(model)
    return fit(
        make_model=lambda _attempt: plain,
        task=_task(data, train_examples, val_examples, training),
        settings=fit_settings(training),
        device=device,
        seed=training.seed * 1000 + fold,
        order_seed=(training.seed, fold),
        state_path=Path(state_path),
        dist=dist,
        labels={"fold": fold},
        on_epoch=on_epoch,
        on_progress=on_progress,
    )
