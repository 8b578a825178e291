"""bpAI-TAC's task adapter: what the training engine (`varinterp.training.engine.fit`)
needs to train one model.

`AtacTask` serves batches of an `AtacData`'s windows (training windows in a new order
every epoch from the engine's generator, validation windows in order; under DDP each
rank takes every ``world_size``-th batch), runs the model on their one-hot sequence with
the precomputed Tn5 bias logits of the windows (``data.bias``; none: the model computes
them, or uses zeros without a bias network) and scores it with an `AtacLoss`. Its loss
terms, logged per epoch as ``train_<term>`` / ``val_<term>``, are ``loss`` (the total
that trains), ``profile`` and ``counts`` (the two parts, unweighted).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.models.bpaitac.data import AtacData
from varinterp.models.bpaitac.loss import AtacLoss
from varinterp.models.bpaitac.network import BpAiTacOutput
from varinterp.training.engine import Loss
from varinterp.training.sharding import batches_per_rank, rank_batches

__all__ = ["AtacBatch", "AtacTask"]


@dataclass
class AtacBatch:
    """``x`` ``(b, 4, L) uint8``, ``profile`` ``(b, T, Lout) float32``, ``totals`` ``(b, T)
    float32`` and ``bias`` ``(b, Lout) float32`` (or None)."""

    x: torch.Tensor
    profile: torch.Tensor
    totals: torch.Tensor
    bias: torch.Tensor | None

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


class AtacTask:
    """The engine's `Task` for one bpAI-TAC model (module docstring)."""

    terms = ("loss", "profile", "counts")

    def __init__(
        self,
        data: AtacData,
        *,
        train_index: np.ndarray,
        val_index: np.ndarray,
        batch_size: int,
        loss: AtacLoss,
    ) -> None:
        self.data = data
        self.index = {
            "train": np.asarray(train_index, dtype=np.int64),
            "validation": np.asarray(val_index, dtype=np.int64),
        }
        self.batch_size = int(batch_size)
        self.loss_fn = loss

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
    ) -> Iterator[AtacBatch]:
        del epoch
        d = self.data
        for b in rank_batches(
            self.index[split], self.batch_size, rng=rng, rank=rank, world_size=world_size
        ):
            yield AtacBatch(
                x=torch.from_numpy(np.ascontiguousarray(d.seq[b])),
                profile=torch.from_numpy(np.ascontiguousarray(d.profile[b])),
                totals=torch.from_numpy(np.ascontiguousarray(d.totals[b])),
                bias=None if d.bias is None else torch.from_numpy(np.ascontiguousarray(d.bias[b])),
            )

    def forward(self, model: nn.Module, batch: AtacBatch, device: torch.device) -> BpAiTacOutput:
        nb = device.type == "cuda"
        x = batch.x.to(device, non_blocking=nb).float()
        bias = None if batch.bias is None else batch.bias.to(device, non_blocking=nb)
        return model(x, bias_logits=bias)

    def loss(
        self, prediction: BpAiTacOutput, batch: AtacBatch, device: torch.device, *, step: int
    ) -> Loss:
        del step
        nb = device.type == "cuda"
        parts = self.loss_fn(
            prediction.log_profile,
            prediction.counts,
            batch.profile.to(device, non_blocking=nb),
            batch.totals.to(device, non_blocking=nb),
        )
        terms = {"loss": parts.total, "profile": parts.profile, "counts": parts.counts}
        return Loss(parts.total, terms, batch.n)

    def has_validation(self) -> bool:
        return self.index["validation"].size > 0
