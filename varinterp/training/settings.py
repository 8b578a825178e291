"""Settings of the training engine: optimiser, learning-rate schedule, stopping, precision.

Every family's recipe turns its own config (a TOML run config, CLI options) into one
`FitSettings`; the engine (`varinterp.training.engine.fit`) reads nothing else.

Learning rate at epoch ``e`` and optimizer step ``t`` (0-based, counted from the start of
the run) is ``lr x w(e) x d(e) x r(t)``:

- ``w(e)``: ``warmup_factor`` for the first ``warmup_epochs`` epochs, else 1 (CLIPNET's
  fine-tuning warm-up);
- ``d(e)``: step decay, ``decay_gamma`` multiplied in once every ``decay_every`` epochs
  (DeepDETAILS: x 0.1 after every epoch; 0 turns it off), chained as
  `torch.optim.lr_scheduler.StepLR` does;
- ``r(t)``: a linear ramp from ``warmup_start`` to 1 over the first ``warmup_steps``
  optimizer steps (bpAI-TAC's warm-up; 0 turns it off).

With ``schedule="cosine"`` (GET) the factor ``c(t) = min_lr_ratio + (1 - min_lr_ratio) x
(1 + cos(pi x u)) / 2`` multiplies in as well, ``u`` running from 0 after the warm-up
steps to 1 at ``cosine_steps`` (the run's total optimizer steps; held at 1 after).

**Parameter groups.** A module with a ``parameter_groups()`` method returns a list of
dicts (``params`` and an ``lr_scale``, optionally ``weight_decay``); each group then
trains at ``lr_scale`` times the scheduled rate (layer-wise learning-rate decay: GET's
deeper blocks at 1, shallower ones at ``decay ** depth``). Parameters that do not
require gradients (a frozen base under LoRA) are left out of the optimiser.

``group_lr`` gives parameters their own base learning rate by name, for models without
``parameter_groups()``: pairs ``(name prefix, lr)``; a parameter takes the lr of the
first prefix its name (``model.named_parameters()``) starts with, else ``lr``
(cREscENDO's gene model: 1e-5 for the attention, 1e-3 for the decoder). The schedule
multiplies every group's base rate alike; the epoch log reports ``lr``'s.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "FitSettings",
    "OptimizerSettings",
    "learning_rate",
    "make_optimizer",
]

OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class OptimizerSettings:
    """Adam or AdamW and the learning-rate schedule (module docstring)."""

    name: str = "adam"
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    warmup_epochs: int = 0
    warmup_factor: float = 0.1
    warmup_steps: int = 0
    warmup_start: float = 1e-3
    decay_every: int = 0
    decay_gamma: float = 0.1
    schedule: str = "constant"
    cosine_steps: int = 0
    min_lr_ratio: float = 0.0
    group_lr: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        checks = [
            (
                all(len(g) == 2 and float(g[1]) > 0 for g in self.group_lr),
                "group_lr must hold (name prefix, lr > 0) pairs",
            ),
            (self.name in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.lr > 0, "lr must be > 0"),
            (all(0 <= b < 1 for b in self.betas), "betas must be in [0, 1)"),
            (self.eps > 0, "eps must be > 0"),
            (self.weight_decay >= 0, "weight_decay must be >= 0"),
            (self.warmup_epochs >= 0, "warmup_epochs must be >= 0"),
            (self.warmup_factor > 0, "warmup_factor must be > 0"),
            (self.warmup_steps >= 0, "warmup_steps must be >= 0"),
            (0 < self.warmup_start <= 1, "warmup_start must be in (0, 1]"),
            (self.decay_every >= 0, "decay_every must be >= 0"),
            (self.decay_gamma > 0, "decay_gamma must be > 0"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.cosine_steps >= 0, "cosine_steps must be >= 0"),
            (0 <= self.min_lr_ratio <= 1, "min_lr_ratio must be in [0, 1]"),
            (
                self.schedule != "cosine" or self.cosine_steps > 0,
                "a cosine schedule needs cosine_steps > 0 (the run's optimizer steps)",
            ),
        ]
        for ok, what in checks:
            if not ok:
                raise InputError(f"training settings: {what}")


@dataclass(frozen=True)
class FitSettings:
    """How the engine trains one model.

    Early stopping watches `monitor` (a key of the epoch log: ``val_loss``,
    ``train_loss``, ...; lower is better with ``mode="min"``) and stops after `patience`
    epochs without an improvement of more than `min_delta`. `grad_accumulation` steps
    the optimizer every that many batches; `grad_clip` > 0 clips the gradient norm.
    `max_batches_per_epoch` > 0 caps an epoch; `prefetch` batches are built ahead in a
    background thread. `max_retry` > 0 retrains (next seed) when the family's
    acceptance check fails. `bf16`: autocast on CUDA (fp32 on the CPU).
    """

    max_epochs: int = 200
    patience: int = 10
    min_delta: float = 0.0
    monitor: str = "val_loss"
    mode: str = "min"
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    bf16: bool = True
    grad_accumulation: int = 1
    grad_clip: float = 0.0
    max_batches_per_epoch: int = 0
    prefetch: int = 2
    max_retry: int = 0

    def __post_init__(self) -> None:
        checks = [
            (self.max_epochs >= 1, "max_epochs must be >= 1"),
            (self.patience >= 1, "patience must be >= 1"),
            (self.min_delta >= 0, "min_delta must be >= 0"),
            (self.mode in ("min", "max"), "mode must be min or max"),
            (self.grad_accumulation >= 1, "grad_accumulation must be >= 1"),
            (self.grad_clip >= 0, "grad_clip must be >= 0"),
            (self.max_batches_per_epoch >= 0, "max_batches_per_epoch must be >= 0"),
            (self.prefetch >= 0, "prefetch must be >= 0"),
            (self.max_retry >= 0, "max_retry must be >= 0"),
        ]
        for ok, what in checks:
            if not ok:
                raise InputError(f"training settings: {what}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _groups(model: nn.Module, settings: OptimizerSettings) -> list[dict[str, Any]]:
    inner = getattr(model, "module", model)  # a DDP wrapper's module
    make = getattr(inner, "parameter_groups", None)
    if callable(make):
        raw = make()
    elif settings.group_lr:
        raw = _prefix_groups(inner, settings)
    else:
        raw = [{"params": list(inner.parameters())}]
    groups = []
    for g in raw:
        params = [p for p in g["params"] if p.requires_grad]
        if params:
            groups.append({**g, "params": params, "lr_scale": float(g.get("lr_scale", 1.0))})
    if not groups:
        raise InputError("the model has no trainable parameters")
    return groups


def _prefix_groups(model: nn.Module, settings: OptimizerSettings) -> list[dict[str, Any]]:
    """One group per ``group_lr`` prefix that names parameters (``lr_scale`` = its lr
    over ``settings.lr``), then the rest."""
    prefixes = [(str(p), float(lr)) for p, lr in settings.group_lr]
    groups: list[list[nn.Parameter]] = [[] for _ in range(len(prefixes) + 1)]
    for name, param in model.named_parameters():
        slot = next((i for i, (p, _) in enumerate(prefixes) if name.startswith(p)), -1)
        groups[slot].append(param)
    scales = [lr / settings.lr for _, lr in prefixes] + [1.0]
    return [
        {"params": params, "lr": settings.lr * scale, "lr_scale": scale}
        for params, scale in zip(groups, scales, strict=True)
        if params
    ]


def make_optimizer(model: nn.Module, settings: OptimizerSettings) -> torch.optim.Optimizer:
    """Adam or AdamW over `model`'s trainable parameters (in its parameter groups, module
    docstring) with the settings' lr, betas, eps, decay."""
    cls = torch.optim.AdamW if settings.name == "adamw" else torch.optim.Adam
    return cls(
        _groups(model, settings),
        lr=settings.lr,
        betas=tuple(settings.betas),
        eps=settings.eps,
        weight_decay=settings.weight_decay,
    )


def learning_rate(settings: OptimizerSettings, *, epoch: int, step: int) -> float:
    """The learning rate at `epoch` and optimizer `step` (module docstring)."""
    lr = settings.lr
    if settings.decay_every:
        for _ in range(epoch // settings.decay_every):
            lr *= settings.decay_gamma
    if epoch < settings.warmup_epochs:
        lr *= settings.warmup_factor
    if settings.warmup_steps and step < settings.warmup_steps:
        start = settings.warmup_start
        lr *= start + (1.0 - start) * step / settings.warmup_steps
    if settings.schedule == "cosine":
        span = max(settings.cosine_steps - settings.warmup_steps, 1)
        u = min(max(step - settings.warmup_steps, 0) / span, 1.0)
        lo = settings.min_lr_ratio
        lr *= lo + (1.0 - lo) * 0.5 * (1.0 + math.cos(math.pi * u))
    return lr
