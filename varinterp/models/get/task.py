"""The engine's task adapters for GET: expression fine-tuning and masked pretraining.

`GetTask` serves batches of windows (`varinterp.models.get.data`) of the chosen cell
types and contigs to `varinterp.training.engine.fit`:

- ``mode="expression"``: loss terms ``loss`` (Poisson NLL over every real region, what
  trains) and ``tss_loss`` (the same over TSS regions only: what GET validates on);
- ``mode="pretrain"``: ``loss``, the MSE of the features of masked regions; each region
  is masked with probability `mask_ratio` (drawn from the epoch's generator when
  training, from a fixed seed when validating, so validation is repeatable).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from varinterp.errors import InputError
from varinterp.models.get.data import GetData
from varinterp.models.get.loss import masked_mse, poisson_nll
from varinterp.training.engine import Loss
from varinterp.training.sharding import batches_per_rank, rank_batches

__all__ = ["GetBatch", "GetTask", "windows_of"]


@dataclass
class GetBatch:
    """``x`` ``(b, R, F)``, ``y`` ``(b, R, 2)``, ``valid``/``tss``/``mask`` ``(b, R)``."""

    x: torch.Tensor
    y: torch.Tensor
    valid: torch.Tensor
    tss: torch.Tensor
    mask: torch.Tensor | None = None


def windows_of(
    data: GetData, cell_types: Sequence[str], chroms: set[str] | None, n_regions: int, stride: int
) -> list[tuple[int, np.ndarray]]:
    """``(cell type index, window (R,))`` pairs of the cell types on the contigs."""
    out = []
    for name in cell_types:
        k = data.type_index(name)
        out += [(k, w) for w in data.window_starts(k, n_regions, stride, chroms)]
    return out


class GetTask:
    """See the module docstring."""

    def __init__(
        self,
        data: GetData,
        *,
        train: list[tuple[int, np.ndarray]],
        validation: list[tuple[int, np.ndarray]],
        batch_size: int = 8,
        mode: str = "expression",
        mask_ratio: float = 0.5,
        binary_atac: bool = False,
    ) -> None:
        if mode not in ("expression", "pretrain"):
            raise InputError(f"GET task mode must be expression or pretrain, got {mode!r}")
        if not train:
            raise InputError("no training windows: check the held-out contigs and cell types")
        self.data = data
        self.splits = {"train": train, "validation": validation}
        self.batch_size = batch_size
        self.mode = mode
        self.mask_ratio = mask_ratio
        self.binary_atac = binary_atac
        self.terms = ("loss", "tss_loss") if mode == "expression" else ("loss",)

    def n_batches(self, split: str, world_size: int) -> int:
        return batches_per_rank(
            len(self.splits[split]), self.batch_size, split=split, world_size=world_size
        )

    def has_validation(self) -> bool:
        return bool(self.splits["validation"])

    def batches(
        self, split: str, *, epoch: int, rng: np.random.Generator | None, rank: int, world_size: int
    ) -> Iterator[GetBatch]:
        items = self.splits[split]
        mask_rng = rng if rng is not None else np.random.default_rng(12345)
        for chunk in rank_batches(
            np.arange(len(items)), self.batch_size, rng=rng, rank=rank, world_size=world_size
        ):
            parts = [
                self.data.sample(items[i][0], items[i][1], binary_atac=self.binary_atac)
                for i in chunk
            ]
            x, y, valid, tss = (np.stack(p) for p in zip(*parts, strict=True))
            mask = None
            if self.mode == "pretrain":
                mask = torch.from_numpy((mask_rng.random(valid.shape) < self.mask_ratio) & valid)
            yield GetBatch(
                torch.from_numpy(x),
                torch.from_numpy(y),
                torch.from_numpy(valid),
                torch.from_numpy(tss),
                mask,
            )

    def forward(self, model, batch: GetBatch, device: torch.device) -> torch.Tensor:
        x = batch.x.to(device)
        if self.mode == "pretrain":
            return model(x, mask=batch.mask.to(device))
        return model(x)

    def loss(
        self, prediction: torch.Tensor, batch: GetBatch, device: torch.device, *, step: int
    ) -> Loss:
        pred = prediction.float()
        n = int(batch.x.shape[0])
        if self.mode == "pretrain":
            value = masked_mse(pred, batch.x.to(device), batch.mask.to(device))
            return Loss(value, {"loss": value}, n)
        y = batch.y.to(device)
        total = poisson_nll(pred, y, batch.valid.to(device))
        tss = poisson_nll(pred.detach(), y, batch.tss.to(device))
        return Loss(total, {"loss": total, "tss_loss": tss}, n)
