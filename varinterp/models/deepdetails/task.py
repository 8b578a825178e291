"""The DeepDETAILS task adapter: what the training engine needs to train a model.

`DeconvTask` serves the windows of a `varinterp.deconv.prep.DeconvData` to
`varinterp.training.engine.fit`:

- batches of `batch_size` windows, the training windows in a new order every epoch
  (the engine's generator), validation windows in file order;
- the loss terms ``rmsle`` and ``penalty`` (batch means; the penalty unweighted, as
  logged), ``anchor`` when the loss has a split anchor, and, from the epoch means,
  ``loss = rmsle + alpha x penalty (+ anchor weight x anchor)`` (`summarize`), which
  early stopping watches;
- the redundancy penalty's weight at the batch's optimizer step (`penalty_weight`:
  ``redundancy_warmup`` epochs at 0, then a linear ramp over ``redundancy_ramp``
  epochs), logged as ``penalty_weight`` (`epoch_info`);
- the collapsed-branch self-check (`accept`): a cell type whose predicted total over the
  training windows is below ``collapse_tol`` x the mean total fails the fit, and the
  engine retrains from the next seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.deconv.predict import forward_batches
from varinterp.deconv.prep import DeconvData
from varinterp.models.deepdetails.loss import DeconvLoss
from varinterp.training.engine import Loss
from varinterp.training.sharding import batches_per_rank, rank_batches

__all__ = ["DeconvBatch", "DeconvTask", "branch_totals", "penalty_weight"]


def penalty_weight(step: int, *, warmup_steps: int, ramp_steps: int) -> float:
    """Share of alpha whose gradient trains at optimizer step `step` (0-based), in [0, 1].

    0 for the first `warmup_steps` steps, then rising linearly to 1 over `ramp_steps`
    steps (at once when `ramp_steps` is 0).
    """
    if step < warmup_steps:
        return 0.0
    if ramp_steps <= 0:
        return 1.0
    return min(1.0, (step - warmup_steps + 1) / ramp_steps)


def branch_totals(model, data: DeconvData, *, batch_size: int, device: str) -> np.ndarray:
    """Predicted total of each cell type and strand over `data`: ``(K, S) float64``."""
    total = None
    for _, pred in forward_batches(model, data, batch_size=batch_size, device=device):
        part = pred.sum(axis=(0, 3), dtype=np.float64)
        total = part if total is None else total + part
    return total


@dataclass
class DeconvBatch:
    """One batch: ``seq`` ``(b, 4, L_in) uint8``, ``acc`` ``(b, K, L_in) float32``,
    ``scale`` ``(b, K) float32`` and the bulk ``target`` ``(b, S, L_out) float32``."""

    seq: torch.Tensor
    acc: torch.Tensor
    scale: torch.Tensor
    target: torch.Tensor

    @property
    def n(self) -> int:
        return int(self.seq.shape[0])


class DeconvTask:
    """The engine's view of one deconvolution run (module docstring).

    `train_index` / `val_index` select the windows of `data` (``val_index`` empty: no
    validation, early stopping then watches ``train_loss``). `warmup_steps` and
    `ramp_steps` count optimizer steps.
    """

    terms = ("rmsle", "penalty")

    def __init__(
        self,
        data: DeconvData,
        *,
        train_index: np.ndarray,
        val_index: np.ndarray,
        batch_size: int,
        loss: DeconvLoss,
        warmup_steps: int = 0,
        ramp_steps: int = 0,
        collapse_tol: float = 1e-3,
    ) -> None:
        self.data = data
        self.index = {
            "train": np.asarray(train_index, dtype=np.int64),
            "validation": np.asarray(val_index, dtype=np.int64),
        }
        self.batch_size = int(batch_size)
        self.loss_fn = loss
        self.terms = ("rmsle", "penalty", "anchor") if loss.anchor > 0 else ("rmsle", "penalty")
        self.warmup_steps = int(warmup_steps)
        self.ramp_steps = int(ramp_steps)
        self.collapse_tol = float(collapse_tol)
        self.scale = data.scale()
        self.target = np.ascontiguousarray(data.target_bulk())
        self.last_totals: np.ndarray | None = None

    def n_batches(self, split: str, world_size: int) -> int:
        return batches_per_rank(
            self.index[split].size, self.batch_size, split=split, world_size=world_size
        )

    def batches(
        self,
        split: str,
        *,
        epoch: int,
        rng: np.random.Generator | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[DeconvBatch]:
        del epoch
        for b in rank_batches(
            self.index[split], self.batch_size, rng=rng, rank=rank, world_size=world_size
        ):
            d = self.data
            yield DeconvBatch(
                seq=torch.from_numpy(d.seq[b]),
                acc=torch.from_numpy(d.acc[b]),
                scale=torch.from_numpy(self.scale[b]),
                target=torch.from_numpy(self.target[b]),
            )

    def forward(self, model: nn.Module, batch: DeconvBatch, device: torch.device) -> torch.Tensor:
        seq = batch.seq.to(device).float()
        return model(seq, batch.acc.to(device), batch.scale.to(device)).prediction

    def weight(self, step: int) -> float:
        """The penalty's weight at optimizer step `step` (1 outside training, step < 0)."""
        if step < 0:
            return 1.0
        return penalty_weight(step, warmup_steps=self.warmup_steps, ramp_steps=self.ramp_steps)

    def loss(
        self, prediction: torch.Tensor, batch: DeconvBatch, device: torch.device, *, step: int
    ) -> Loss:
        parts = self.loss_fn(
            prediction,
            batch.target.to(device),
            weight=self.weight(step),
            scale=batch.scale.to(device),
        )
        logged = {"rmsle": parts.rmsle, "penalty": parts.penalty}
        if parts.anchor is not None:
            logged["anchor"] = parts.anchor
        return Loss(parts.total, logged, batch.n)

    def has_validation(self) -> bool:
        return self.index["validation"].size > 0

    def summarize(self, means: dict[str, float]) -> dict[str, float]:
        loss = means["rmsle"] + self.loss_fn.alpha * means["penalty"]
        return {"loss": loss + self.loss_fn.anchor * means.get("anchor", 0.0)}

    def epoch_info(self, *, epoch: int, step: int) -> dict[str, float]:
        del epoch
        trained = self.loss_fn.redundancy and step >= 0
        return {"penalty_weight": self.weight(step) if trained else 0.0}

    def accept(self, model: nn.Module, *, device: torch.device) -> bool:
        """False when a cell type's branch collapsed (its total below the tolerance)."""
        totals = branch_totals(
            model,
            self.data.subset(self.index["train"]),
            batch_size=self.batch_size,
            device=str(device),
        )
        self.last_totals = totals
        mean_total = float(totals.mean())
        return bool(np.all(totals >= self.collapse_tol * mean_total)) and mean_total > 0
