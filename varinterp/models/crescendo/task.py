"""The two task adapters through which the training engine trains cREscENDO.

`EncoderTask` (step 1, the peak encoder): batches of peaks. A training peak's 1,344 bp
are cut from its 1,500-bp window at a random offset of 75-81 (the centred offset is 78)
and reverse-complemented with probability 0.5; validation peaks are centred and not
flipped. The target is the peak's binarised ATAC in every cell ``(b, C)``; the loss is
binary cross-entropy on the logits (`varinterp.models.crescendo.loss`). Training peaks
are those outside the held-out block (in a new order every epoch; when one peak would be
left alone in the last batch, it sits that epoch out); validation is the block. Before
each validation
the BatchNorm statistics are re-estimated (`recalibrate_batches` training batches,
centred, forward only, as a cumulative average): with the published momentum of 0.01
the running statistics lag far behind the weights for the first thousands of steps,
and the model in evaluation mode (validation, the embeddings the gene model reads) would
use stale ones. Training itself is unchanged; 0 turns it off.

`GeneTask` (step 2, the per-gene model, the encoder frozen): batches of genes. A gene's
inputs come from the trained encoder (`GeneInputs`: each peak's embedding and its
predicted accessibility, L2-normalised per peak over all cells); the target is every
cell's PCA coordinates (``target="pca"``, published) or the gene's own z-scores
(``target="gene"``, an ablation: the loss is then on the gene's coordinates times its
loadings). Training: the training genes on the training cells; validation: the held-out
genes on the held-out cells (the training genes when no gene is held out).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.models.crescendo.data import PreparedData, peak_windows
from varinterp.models.crescendo.loss import accessibility_loss, coordinates_loss
from varinterp.training.engine import Loss
from varinterp.training.sharding import batches_per_rank, rank_batches

__all__ = [
    "TARGETS",
    "EncoderBatch",
    "EncoderTask",
    "GeneBatch",
    "GeneInputs",
    "GeneTask",
    "recalibrate_batchnorm",
]

TARGETS = ("pca", "gene")
SHIFT_RANGE = (75, 81)


@dataclass
class EncoderBatch:
    """``x`` ``(b, 4, 1344) float32`` one-hot peaks, ``y`` ``(b, C) float32`` 0/1."""

    x: torch.Tensor
    y: torch.Tensor

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


class EncoderTask:
    """Step 1 of training (module docstring)."""

    terms = ("loss",)

    def __init__(
        self,
        data: PreparedData,
        *,
        batch_size: int = 128,
        input_length: int = 1344,
        augment: bool = True,
        recalibrate_batches: int = 8,
    ) -> None:
        self.data = data
        self.recalibrate_batches = int(recalibrate_batches)
        self.batch_size = int(batch_size)
        self.input_length = int(input_length)
        self.augment = augment
        train = np.flatnonzero(data.train_peaks)
        val = np.flatnonzero(~data.train_peaks)
        if train.size == 0:
            raise InputError("no training peaks: every peak is in the held-out block")
        self.index = {"train": train, "validation": val}

    def _index(self, split: str) -> np.ndarray:
        idx = self.index[split]
        if split == "train" and idx.size > 1 and idx.size % self.batch_size == 1:
            return idx[:-1]  # BatchNorm cannot train on a last batch of one peak
        return idx

    def n_batches(self, split: str, world_size: int) -> int:
        return batches_per_rank(
            self._index(split).size, self.batch_size, split=split, world_size=world_size
        )

    def batches(
        self,
        split: str,
        *,
        epoch: int,
        rng: np.random.Generator | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[EncoderBatch]:
        del epoch
        idx = self.index[split]
        if rng is not None:
            idx = idx[rng.permutation(idx.size)]
        idx = idx[: self._index(split).size]
        starts = range(0, idx.size, self.batch_size)
        for lo in starts[rank::world_size] if world_size > 1 else starts:
            b = idx[lo : lo + self.batch_size]
            shift = rev = None
            if rng is not None and self.augment:
                shift = rng.integers(SHIFT_RANGE[0], SHIFT_RANGE[1] + 1, b.size)
                rev = rng.random(b.size) < 0.5
            x = peak_windows(
                self.data.seq[b], input_length=self.input_length, starts=shift, reverse=rev
            )
            yield EncoderBatch(torch.from_numpy(x), torch.from_numpy(self.data.atac_dense(b)))

    def forward(self, model: nn.Module, batch: EncoderBatch, device: torch.device) -> torch.Tensor:
        return model(batch.x.to(device))

    def loss(
        self, prediction: torch.Tensor, batch: EncoderBatch, device: torch.device, *, step: int
    ) -> Loss:
        value = accessibility_loss(prediction, batch.y.to(device))
        return Loss(value, {"loss": value}, batch.n)

    def has_validation(self) -> bool:
        return self.index["validation"].size > 0

    def before_validation(
        self, model: nn.Module, *, epoch: int, device: torch.device, rng: np.random.Generator
    ) -> None:
        """Re-estimate the BatchNorm statistics on training peaks (module docstring)."""
        del epoch
        recalibrate_batchnorm(model, self, device=device, rng=rng)


def recalibrate_batchnorm(
    model: nn.Module, task: EncoderTask, *, device: torch.device, rng: np.random.Generator
) -> None:
    """Reset `model`'s BatchNorm statistics and re-estimate them as the cumulative average
    over ``task.recalibrate_batches`` batches of training peaks (centred, forward only)."""
    if task.recalibrate_batches <= 0:
        return
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None
    was_training = model.training
    model.train()
    idx = task.index["train"]
    pick = idx[rng.permutation(idx.size)[: task.recalibrate_batches * task.batch_size]]
    with torch.no_grad():
        for lo in range(0, pick.size, task.batch_size):
            b = pick[lo : lo + task.batch_size]
            if b.size < 2:
                break
            x = peak_windows(task.data.seq[b], input_length=task.input_length)
            model(torch.from_numpy(x).to(device))
    for bn, m in zip(norms, momenta, strict=True):
        bn.momentum = m
    model.train(was_training)


class GeneInputs:
    """What the frozen encoder gives the gene model: peak embeddings ``(P, E)``, the
    per-cell head (``weight`` ``(C, E)``, ``bias`` ``(C,)``) and each peak's L2 norm of
    its predicted accessibility over all cells ``(P,)``; all float32 tensors on the CPU."""

    def __init__(
        self, embedding: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, chunk: int = 512
    ) -> None:
        self.embedding = embedding.float()
        self.weight = weight.float()
        self.bias = bias.float()
        norms = []
        with torch.no_grad():
            for lo in range(0, self.embedding.shape[0], chunk):
                p = torch.sigmoid(self.embedding[lo : lo + chunk] @ self.weight.T + self.bias)
                norms.append(p.norm(dim=1))
        self.norm = torch.cat(norms).clamp_min(1e-12)

    @classmethod
    def from_encoder(
        cls,
        encoder: nn.Module,
        data: PreparedData,
        *,
        batch_size: int = 256,
        device: torch.device | str = "cpu",
    ) -> GeneInputs:
        """Embed every peak of `data` with `encoder` in eval mode (centred, forward strand)."""
        encoder = encoder.to(device).eval()
        parts = []
        with torch.no_grad():
            for lo in range(0, data.n_peaks, batch_size):
                x = peak_windows(data.seq[lo : lo + batch_size], input_length=1344)
                parts.append(encoder.embedding(torch.from_numpy(x).to(device)).float().cpu())
        emb = torch.cat(parts)
        return cls(emb, encoder.head.weight.detach().cpu(), encoder.head.bias.detach().cpu())

    def accessibility(self, peaks: torch.Tensor, cells: torch.Tensor | None = None) -> torch.Tensor:
        """Normalised predicted accessibility ``(n, len(cells))`` of `peaks` (``(n,)``)."""
        w = self.weight if cells is None else self.weight[cells]
        b = self.bias if cells is None else self.bias[cells]
        return torch.sigmoid(self.embedding[peaks] @ w.T + b) / self.norm[peaks][:, None]


@dataclass
class GeneBatch:
    """``tokens`` ``(b, L, E + 1)``, ``mask`` ``(b, L)`` bool, ``acc`` ``(b, C, L)``,
    ``genes`` ``(b,)`` int64 and ``target`` ``(C, q)`` (pca) or ``(b, C)`` (gene)."""

    tokens: torch.Tensor
    mask: torch.Tensor
    acc: torch.Tensor
    genes: torch.Tensor
    target: torch.Tensor

    @property
    def n(self) -> int:
        return int(self.tokens.shape[0])


class GeneTask:
    """Step 2 of training (module docstring)."""

    terms = ("loss",)

    def __init__(
        self, data: PreparedData, inputs: GeneInputs, *, batch_size: int = 8, target: str = "pca"
    ) -> None:
        if target not in TARGETS:
            raise InputError(f"gene-model target {target!r} must be one of {', '.join(TARGETS)}")
        self.data = data
        self.inputs = inputs
        self.batch_size = int(batch_size)
        self.target = target
        train_genes = np.flatnonzero(data.train_genes)
        val_genes = np.flatnonzero(~data.train_genes)
        if train_genes.size == 0:
            raise InputError("no training genes: every gene touches the held-out peak block")
        if val_genes.size == 0:
            val_genes = train_genes
        self.index = {"train": train_genes, "validation": val_genes}
        self.cells = {
            "train": torch.from_numpy(np.flatnonzero(data.train_cells)),
            "validation": torch.from_numpy(np.flatnonzero(~data.train_cells)),
        }
        self.peaks, self.distance = (torch.from_numpy(a) for a in data.padded_tokens())
        self.coords = torch.from_numpy(data.pca_coords)
        self.loadings = torch.from_numpy(data.pca_loadings)
        self.rna_z = torch.from_numpy(data.rna_z)

    def n_batches(self, split: str, world_size: int) -> int:
        return batches_per_rank(
            self.index[split].size, self.batch_size, split=split, world_size=world_size
        )

    def make_batch(self, genes: np.ndarray, cells: torch.Tensor) -> GeneBatch:
        """The inputs and target of `genes` on `cells`."""
        g = torch.from_numpy(np.asarray(genes, dtype=np.int64))
        peaks = self.peaks[g]
        mask = peaks >= 0
        width = int(mask.sum(1).max())
        peaks, mask = peaks[:, :width], mask[:, :width]
        safe = peaks.clamp_min(0)
        emb = self.inputs.embedding[safe] * mask[..., None]
        tokens = torch.cat([emb, (self.distance[g, :width] * mask)[..., None]], dim=2)
        acc = self.inputs.accessibility(safe.reshape(-1), cells)
        acc = acc.reshape(len(g), width, -1).transpose(1, 2) * mask[:, None, :]
        if self.target == "pca":
            target = self.coords[cells]
        else:
            target = self.rna_z[cells][:, g].T
        return GeneBatch(tokens, mask, acc, g, target)

    def batches(
        self,
        split: str,
        *,
        epoch: int,
        rng: np.random.Generator | None,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[GeneBatch]:
        del epoch
        for genes in rank_batches(
            self.index[split], self.batch_size, rng=rng, rank=rank, world_size=world_size
        ):
            yield self.make_batch(genes, self.cells[split])

    def forward(self, model: nn.Module, batch: GeneBatch, device: torch.device) -> torch.Tensor:
        return model(batch.tokens.to(device), batch.mask.to(device), batch.acc.to(device))

    def loss(
        self, prediction: torch.Tensor, batch: GeneBatch, device: torch.device, *, step: int
    ) -> Loss:
        target = batch.target.to(device)
        if self.target == "pca":
            value = coordinates_loss(prediction, target[None].expand_as(prediction))
        else:
            loadings = self.loadings[batch.genes].to(device)  # (b, q)
            expr = torch.einsum("bcq,bq->bc", prediction, loadings)
            value = coordinates_loss(expr, target)
        return Loss(value, {"loss": value}, batch.n)

    def has_validation(self) -> bool:
        return True
