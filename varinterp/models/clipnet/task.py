"""CLIPNET's task adapter: what the training engine needs to train one fold model.

`ClipnetTask` serves the engine (`varinterp.training.engine.fit`) the batches of a fold's
training and validation examples (`ClipnetData.iter_batches`: training batches shuffled,
jittered and reverse complemented from the engine's seeded generator; validation batches
in file order at their fixed offsets), runs the model on a batch's two-hot sequences and
scores it with `clipnet_loss`. Its loss terms, logged per epoch as ``train_<term>`` and
``val_<term>``, are ``loss`` (the weighted total that trains), ``profile`` (-cosine) and
``quantity`` (MSLE). With ``bn_recalibration_batches`` > 0 it recomputes every
BatchNorm's running statistics over that many training batches before each validation
(`recalibrate_batchnorm`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from varinterp.models.clipnet.data import Batch, ClipnetData, Examples
from varinterp.models.clipnet.loss import QUANTITY_WEIGHT, clipnet_loss
from varinterp.training.engine import Loss

__all__ = ["ClipnetTask", "recalibrate_batchnorm", "to_device"]


def to_device(
    batch: Batch, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A `Batch`'s arrays as tensors on `device`: ``x`` ``(B, 4, input_length) float32``,
    ``profile`` ``(B, 2 * output_length) float32``, ``quantity`` ``(B, 1) float32``."""
    nb = device.type == "cuda"
    x = torch.from_numpy(batch.x).to(device, non_blocking=nb).float()
    prof = torch.from_numpy(batch.profile).to(device, non_blocking=nb)
    q = torch.from_numpy(batch.quantity).to(device, non_blocking=nb)
    return x, prof, q


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


class ClipnetTask:
    """The engine's `Task` for one CLIPNET fold model (module docstring).

    `train` and `validation` are the fold's examples (`ClipnetData.examples`); batches
    hold `batch_size` examples; the total loss is ``profile + quantity_weight x
    quantity``.
    """

    terms = ("loss", "profile", "quantity")

    def __init__(
        self,
        data: ClipnetData,
        train: Examples,
        validation: Examples,
        *,
        batch_size: int,
        quantity_weight: float = QUANTITY_WEIGHT,
        bn_recalibration_batches: int = 0,
    ) -> None:
        self.data = data
        self.examples = {"train": train, "validation": validation}
        self.batch_size = batch_size
        self.quantity_weight = quantity_weight
        self.bn_recalibration_batches = bn_recalibration_batches

    def n_batches(self, split: str, world_size: int) -> int:
        """Batches of `split` per rank (training: equal on every rank; validation: the
        most any rank gets)."""
        n = len(self.examples[split])
        if split == "train":
            return self.data.n_batches(n, self.batch_size, world_size)
        return -(-self.data.n_batches(n, self.batch_size) // max(world_size, 1))

    def batches(
        self,
        split: str,
        *,
        epoch: int,
        rng: np.random.Generator | None,
        rank: int,
        world_size: int,
    ) -> Iterator[Batch]:
        del epoch  # the engine's generator already depends on it
        train = split == "train"
        return self.data.iter_batches(
            self.examples[split],
            batch_size=self.batch_size,
            rng=rng if train else None,
            train=train,
            rank=rank,
            world_size=world_size,
        )

    def forward(
        self, model: nn.Module, batch: Batch, device: torch.device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(profile (B, 2 * output_length), quantity (B, 1))`` of the batch's sequences."""
        x = torch.from_numpy(batch.x).to(device, non_blocking=device.type == "cuda").float()
        return model(x)

    def loss(
        self,
        prediction: tuple[torch.Tensor, torch.Tensor],
        batch: Batch,
        device: torch.device,
        *,
        step: int,
    ) -> Loss:
        del step
        nb = device.type == "cuda"
        prof = torch.from_numpy(batch.profile).to(device, non_blocking=nb)
        q = torch.from_numpy(batch.quantity).to(device, non_blocking=nb)
        p_hat, q_hat = prediction
        parts = clipnet_loss(p_hat, q_hat, prof, q, quantity_weight=self.quantity_weight)
        terms = {"loss": parts.total, "profile": parts.profile, "quantity": parts.quantity}
        return Loss(parts.total, terms, int(batch.x.shape[0]))

    def has_validation(self) -> bool:
        return True

    def before_validation(
        self, model: nn.Module, *, epoch: int, device: torch.device, rng: np.random.Generator
    ) -> None:
        """Recalibrate BatchNorm (``bn_recalibration_batches`` > 0) on training batches."""
        del epoch
        if self.bn_recalibration_batches:
            recalibrate_batchnorm(
                model, self.data, self.examples["train"], n_batches=self.bn_recalibration_batches,
                batch_size=self.batch_size, rng=rng, device=device,
            )  # fmt: skip
