"""The one training loop of varinterp: every family trains through `fit`.

A family supplies a `Task` (its batches, forward pass and loss) and a model factory;
`fit` does the rest, the same way for every family:

- **Optimiser and schedule** from `FitSettings` (Adam/AdamW, epoch warm-up, step warm-up,
  step decay; `varinterp.training.settings`), gradient accumulation and clipping.
- **Seeds.** Attempt ``a`` seeds torch with ``seed + a`` before the model is built; the
  batch order of epoch ``e`` comes from a NumPy generator seeded with
  ``(order_seed[0] + a, *order_seed[1:], e)``, so it does not depend on where a run
  resumed.
- **Validation and early stopping** after every epoch on ``settings.monitor`` (a key of
  the epoch log), keeping the best weights.
- **Resume.** After every epoch a checkpoint (model, optimiser, early-stopping state
  with the best weights, torch RNG, epoch log) is written atomically to `state_path`;
  called again with the same arguments after a crash or ``kill -9``, `fit` continues
  from it and ends with the same weights, byte for byte on the CPU, as a run that was
  never stopped.
- **Precision and devices.** bf16 autocast on CUDA (`varinterp.training.devices`);
  DistributedDataParallel when started by ``torchrun`` (`varinterp.training.ddp`):
  losses are summed over ranks and only rank 0 writes.
- **Acceptance.** A task with an ``accept(model, device=...)`` method (DeepDETAILS'
  collapsed-branch check) can reject the best weights; with ``settings.max_retry`` left
  the model is trained again from the next seed.

The epoch log (`EpochLog`) holds the epoch, learning rate, the sample-weighted means of
the task's loss terms on the training batches (``train_<term>``) and on the validation
batches (``val_<term>``), whether the epoch was the best so far, its duration and
samples per second; `labels` (such as the fold) are repeated on every line.

This module names no family and is the only place that calls ``backward()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from varinterp.datasets.prefetch import prefetch
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.progress import ProgressCallback, report
from varinterp.training.ddp import DistInfo, all_reduce_sum, unwrap, wrap_model
from varinterp.training.devices import autocast
from varinterp.training.early_stopping import EarlyStopping
from varinterp.training.settings import FitSettings, learning_rate, make_optimizer

__all__ = ["EpochLog", "FitResult", "Loss", "Task", "evaluate_task", "fit"]

_FIELDS = ("attempt", "epoch", "lr", "best", "seconds", "samples_per_s")


class Loss(NamedTuple):
    """A batch's loss: `total` (the scalar that trains), `terms` (scalars to log,
    batch means, in log order) and `n` (the batch's number of samples)."""

    total: torch.Tensor
    terms: dict[str, torch.Tensor]
    n: int


@runtime_checkable
class Task(Protocol):
    """What the engine needs from a family (its "task adapter").

    - ``terms``: the names of the loss terms `loss` returns, in order;
    - ``n_batches(split, world_size)``: batches of ``"train"`` or ``"validation"`` that
      one rank sees in an epoch;
    - ``batches(split, epoch=, rng=, rank=, world_size=)``: those batches (CPU objects of
      the family's choosing); `rng` orders the training batches (None for validation);
    - ``forward(model, batch, device)``: the model's prediction (run under autocast);
    - ``loss(prediction, batch, device, step=)``: a `Loss`; `step` is the batch's index
      counted from the start of training;
    - ``has_validation()``: whether there is a validation split.

    Optional methods: ``summarize(means) -> dict`` (terms derived from the epoch means,
    e.g. a combined loss), ``before_validation(model, epoch=, device=, rng=)``
    (BatchNorm recalibration), ``epoch_info(epoch=, step=) -> dict`` (more log fields),
    ``accept(model, device=) -> bool`` (reject a collapsed fit).
    """

    terms: tuple[str, ...]

    def n_batches(self, split: str, world_size: int) -> int: ...

    def batches(
        self, split: str, *, epoch: int, rng: np.random.Generator | None, rank: int,
        world_size: int,
    ) -> Iterator[Any]: ...  # fmt: skip

    def forward(self, model: nn.Module, batch: Any, device: torch.device) -> Any: ...

    def loss(self, prediction: Any, batch: Any, device: torch.device, *, step: int) -> Loss: ...

    def has_validation(self) -> bool: ...


@dataclass
class EpochLog:
    """One line of the metrics log; metric and label values read as attributes
    (``log.val_loss``, ``log.fold``)."""

    epoch: int
    lr: float
    metrics: dict[str, float]
    best: bool
    seconds: float
    samples_per_s: float
    attempt: int = 0
    labels: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        for part in ("metrics", "labels"):
            values = self.__dict__.get(part) or {}
            if name in values:
                return values[name]
        raise AttributeError(name)

    def to_dict(self, *, with_attempt: bool = False) -> dict[str, Any]:
        row: dict[str, Any] = dict(self.labels)
        if with_attempt:
            row["attempt"] = self.attempt
        row.update(epoch=self.epoch, lr=self.lr, **self.metrics)
        row.update(best=self.best, seconds=self.seconds, samples_per_s=self.samples_per_s)
        return row

    @classmethod
    def from_dict(cls, row: Mapping[str, Any], labels: Sequence[str] = ()) -> EpochLog:
        known = {k: row[k] for k in _FIELDS if k in row}
        lab = {k: row[k] for k in labels if k in row}
        metrics = {k: v for k, v in row.items() if k not in _FIELDS and k not in lab}
        return cls(
            epoch=int(known["epoch"]),
            lr=float(known.get("lr", math.nan)),
            metrics=metrics,
            best=bool(known.get("best", False)),
            seconds=float(known.get("seconds", math.nan)),
            samples_per_s=float(known.get("samples_per_s", math.nan)),
            attempt=int(known.get("attempt", 0)),
            labels=lab,
        )


@dataclass
class FitResult:
    """What `fit` returns: the best weights (CPU), where they came from and the log.

    `history` is the epoch log of the accepted (or last) attempt; `all_history` of every
    attempt. `accepted` is None when the task has no acceptance check.
    """

    best_state: dict[str, torch.Tensor]
    best_epoch: int
    best_value: float
    epochs_run: int
    history: list[EpochLog] = field(default_factory=list)
    attempts: int = 1
    accepted: bool | None = None
    all_history: list[EpochLog] = field(default_factory=list)

    @property
    def best_val_loss(self) -> float:
        return self.best_value


def _batch_sums(task: Task, loss: Loss, device: torch.device) -> torch.Tensor:
    if tuple(loss.terms) != tuple(task.terms):
        msg = f"the task's loss gave terms {list(loss.terms)}, not its declared {task.terms}"
        raise RuntimeError(msg)
    n = loss.n
    values = [v.detach().double() * n for v in loss.terms.values()]
    values.append(torch.tensor(float(n), dtype=torch.float64, device=device))
    return torch.stack(values)


def _means(task: Task, sums: torch.Tensor, prefix: str) -> dict:
    names = list(task.terms)
    n = float(sums[-1])
    if n == 0:
        means = dict.fromkeys(names, math.nan)
    else:
        means = {k: float(sums[i]) / n for i, k in enumerate(names)}
    summarize = getattr(task, "summarize", None)
    if summarize is not None:
        means.update(summarize(dict(means)))
    return {f"{prefix}{k}": v for k, v in means.items()}


def evaluate_task(
    model: nn.Module,
    task: Task,
    *,
    split: str = "validation",
    device: torch.device,
    dist: DistInfo | None = None,
    bf16: bool = True,
    depth: int = 2,
) -> dict[str, float]:
    """Sample-weighted means of the task's loss terms over `split` (summed over ranks;
    NaN when the split is empty); keys are the terms, `summarize`d."""
    dist = dist or DistInfo()
    model.eval()
    sums = torch.zeros(len(task.terms) + 1, dtype=torch.float64, device=device)
    batches = task.batches(split, epoch=0, rng=None, rank=dist.rank, world_size=dist.world_size)
    with torch.no_grad():
        for batch in prefetch(batches, depth):
            with autocast(device, bf16):
                pred = task.forward(model, batch, device)
            sums += _batch_sums(task, task.loss(pred, batch, device, step=-1), device)
    all_reduce_sum(sums, dist)  # every rank joins, also one without batches
    return _means(task, sums, "")


def _save(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def _load(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which, never unpickle
        msg = (
            f"training checkpoint {path} is unreadable ({type(exc).__name__}); delete it "
            "to start that model again"
        )
        raise InputError(msg) from None


def fit(
    *,
    make_model: Callable[[int], nn.Module],
    task: Task,
    settings: FitSettings,
    device: torch.device,
    seed: int,
    order_seed: Sequence[int] = (),
    state_path: Path | None = None,
    dist: DistInfo | None = None,
    labels: Mapping[str, Any] | None = None,
    on_epoch: Callable[[EpochLog, list[EpochLog]], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> FitResult:
    """Train a model built by ``make_model(attempt)`` on `task` (module docstring).

    `make_model` returns a module on the CPU (it is moved to `device` and wrapped for
    DDP here). `order_seed` defaults to ``(seed,)``. `on_epoch(log, history)` is called
    after each epoch's checkpoint is written, with the epoch's `EpochLog` and the
    attempt's log so far (including epochs before a resume); `on_progress(done, total)`
    counts the batches of the current epoch.
    """
    dist = dist or DistInfo()
    labels = dict(labels or {})
    order = tuple(int(s) for s in order_seed) or (int(seed),)
    state = _load(state_path)
    attempt = int(state.get("attempt", 0)) if state else 0
    earlier: list[EpochLog] = []
    if state:
        earlier = [EpochLog.from_dict(h, list(labels)) for h in state.get("earlier_history", [])]
    has_accept = callable(getattr(task, "accept", None))
    while True:
        torch.manual_seed(int(seed) + attempt)
        model = make_model(attempt).to(device)
        wrapped = wrap_model(model, dist, device)
        optimizer = make_optimizer(wrapped, settings.optimizer)
        early = EarlyStopping(settings.patience, settings.min_delta, settings.mode)
        history: list[EpochLog] = []
        start_epoch, finished = 0, False
        if state is not None:
            unwrap(wrapped).load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            early.load_state_dict(state["early_stopping"])
            torch.set_rng_state(state["torch_rng"])
            if device.type == "cuda" and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"], device)
            history = [EpochLog.from_dict(h, list(labels)) for h in state["history"]]
            start_epoch = int(state["epoch"]) + 1
            # recomputed, not read: a finished run resumed with more epochs continues
            finished = early.should_stop or start_epoch >= settings.max_epochs
            state = None
        run = _Run(
            task=task, settings=settings, device=device, dist=dist, labels=labels,
            order=(order[0] + attempt, *order[1:]), attempt=attempt,
            with_attempt=settings.max_retry > 0,
        )  # fmt: skip
        if not finished:
            for epoch in range(start_epoch, settings.max_epochs):
                if early.should_stop:
                    break
                log = run.epoch(wrapped, optimizer, early, epoch, on_progress)
                history.append(log)
                finished = early.should_stop or epoch + 1 >= settings.max_epochs
                if dist.is_main and state_path is not None:
                    _save(
                        state_path,
                        {
                            "attempt": attempt,
                            "epoch": epoch,
                            "finished": finished,
                            "model": unwrap(wrapped).state_dict(),
                            "optimizer": optimizer.state_dict(),
                            "early_stopping": early.state_dict(),
                            "torch_rng": torch.get_rng_state(),
                            "cuda_rng": (
                                torch.cuda.get_rng_state(device) if device.type == "cuda" else None
                            ),
                            "history": [h.to_dict(with_attempt=run.with_attempt) for h in history],
                            "earlier_history": [
                                h.to_dict(with_attempt=run.with_attempt) for h in earlier
                            ],
                        },
                    )
                if on_epoch is not None:
                    on_epoch(log, history)
                if finished:
                    break
        plain = unwrap(wrapped)
        best = early.best_state
        if best is None:  # no finite monitored value: keep the last weights
            best = {k: v.detach().cpu().clone() for k, v in plain.state_dict().items()}
        accepted: bool | None = None
        if has_accept:
            plain.load_state_dict(best)
            accepted = bool(task.accept(plain, device=device))
        if accepted is not False or attempt >= settings.max_retry:
            return FitResult(
                best_state=best,
                best_epoch=early.best_epoch,
                best_value=early.best_loss,
                epochs_run=len(history),
                history=history,
                attempts=attempt + 1,
                accepted=accepted,
                all_history=[*earlier, *history],
            )
        earlier.extend(history)
        attempt += 1


@dataclass
class _Run:
    """One attempt's epoch runner (settings and seeds fixed for the attempt)."""

    task: Task
    settings: FitSettings
    device: torch.device
    dist: DistInfo
    labels: dict[str, Any]
    order: tuple[int, ...]
    attempt: int
    with_attempt: bool

    def epoch(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        early: EarlyStopping,
        epoch: int,
        on_progress: ProgressCallback | None,
    ) -> EpochLog:
        task, s, dev, dist = self.task, self.settings, self.device, self.dist
        n_batches = task.n_batches("train", dist.world_size)
        if s.max_batches_per_epoch:
            n_batches = min(n_batches, s.max_batches_per_epoch)
        accum = s.grad_accumulation
        steps_per_epoch = math.ceil(n_batches / accum) if n_batches else 0
        rng = np.random.default_rng([*self.order, epoch])
        model.train()
        t0 = time.perf_counter()
        sums = torch.zeros(len(task.terms) + 1, dtype=torch.float64, device=dev)
        lr = learning_rate(s.optimizer, epoch=epoch, step=epoch * steps_per_epoch)
        batches = task.batches(
            "train", epoch=epoch, rng=rng, rank=dist.rank, world_size=dist.world_size
        )
        optimizer.zero_grad(set_to_none=True)
        last = -1
        for i, batch in enumerate(prefetch(batches, s.prefetch)):
            if i >= n_batches:
                break
            last = epoch * n_batches + i
            with autocast(dev, s.bf16):
                pred = task.forward(model, batch, dev)
            loss = task.loss(pred, batch, dev, step=last)
            total = loss.total / accum if accum > 1 else loss.total
            total.backward()
            if (i + 1) % accum == 0 or i + 1 == n_batches:
                lr = learning_rate(
                    s.optimizer, epoch=epoch, step=epoch * steps_per_epoch + i // accum
                )
                for group in optimizer.param_groups:
                    group["lr"] = lr * group.get("lr_scale", 1.0)
                if s.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), s.grad_clip)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            sums += _batch_sums(task, loss, dev)
            report(on_progress, i + 1, n_batches)
        all_reduce_sum(sums, dist)
        seconds = time.perf_counter() - t0
        n_seen = float(sums[-1])
        metrics = _means(task, sums, "train_")
        # the plain module: DDP's forward syncs buffers, a collective that ranks with
        # uneven validation batches would not all reach
        plain = unwrap(model)
        if task.has_validation():
            before = getattr(task, "before_validation", None)
            if before is not None:
                before(
                    plain,
                    epoch=epoch,
                    device=dev,
                    rng=np.random.default_rng([*self.order, epoch, 1]),
                )
            val = evaluate_task(plain, task, device=dev, dist=dist, bf16=s.bf16, depth=s.prefetch)
            metrics.update({f"val_{k}": v for k, v in val.items()})
        info = getattr(task, "epoch_info", None)
        if info is not None:
            metrics.update(info(epoch=epoch, step=last))
        if s.monitor not in metrics:
            msg = (
                f"early stopping watches {s.monitor!r}, which this run does not log; "
                f"choose one of {', '.join(metrics)}"
            )
            raise InputError(msg)
        best = early.update(float(metrics[s.monitor]), plain, epoch)
        return EpochLog(
            epoch=epoch,
            lr=lr,
            metrics=metrics,
            best=best,
            seconds=seconds,
            samples_per_s=n_seen / seconds if seconds > 0 else math.nan,
            attempt=self.attempt,
            labels=dict(self.labels),
        )
