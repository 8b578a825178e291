"""The DeepDETAILS training loss: RMSLE on the bulk plus a redundancy penalty.

``loss = RMSLE(sum_k pred_k, bulk) + alpha * penalty(pred_1..K)``

- RMSLE: the squared log error ``(ln(1 + pred) - ln(1 + y))^2`` is *summed* over
  positions, averaged over batch and strands, then square-rooted.
- Redundancy penalty: per sample, the K x (S*L) matrix of cell-type predictions (strands
  concatenated, plus a tiny ramp ``arange * gamma`` so a flat row still has a defined
  correlation) gives a K x K Pearson correlation matrix; the penalty is the mean squared
  off-diagonal entry, averaged over the batch.

The reference implementation packs the penalty into a new tensor, which detaches it, so
it never trains. `DeconvLoss` keeps it in the graph with ``redundancy=True`` (the class
default); ``redundancy=False`` (or ``alpha=0``) computes it for logging only, which is
what training does by default (`varinterp.deconv.train.TrainSettings`), as the
reference effectively does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

__all__ = ["DeconvLoss", "LossParts", "redundancy_penalty", "rmsle"]


def rmsle(pred: torch.Tensor, target: torch.Tensor, *, root: bool = True) -> torch.Tensor:
    """Root mean squared log error between ``(B, S, L)`` tracks; a scalar.

    The squared error is summed over L and averaged over B and S; `root` takes the square
    root (the paper's RMSLE), otherwise the mean summed squared log error is returned.
    """
    err = (torch.log1p(pred.clamp_min(-0.999)) - torch.log1p(target)).pow(2)
    msle = err.sum(dim=-1).mean()
    return torch.sqrt(msle.clamp_min(1e-12)) if root else msle


def _corr_rows(x: torch.Tensor, eps: float) -> torch.Tensor:
    """Pearson correlations between the rows of ``(..., K, N)`` -> ``(..., K, K)``."""
    x = x - x.mean(dim=-1, keepdim=True)
    x = x / (x.pow(2).mean(dim=-1, keepdim=True) + eps).sqrt()
    return (x @ x.transpose(-1, -2) / x.shape[-1]).clamp(-1.0, 1.0)


def redundancy_penalty(
    prediction: torch.Tensor, *, gamma: float = 1e-8, eps: float = 1e-12
) -> torch.Tensor:
    """Mean squared off-diagonal correlation between cell-type predictions; a scalar.

    `prediction`: ``(B, K, S, L)``. Returns 0 (still in the graph) when K == 1.
    """
    b, k = prediction.shape[:2]
    x = prediction.float().reshape(b, k, -1)
    if k < 2:
        return x.sum() * 0.0
    x = x + torch.arange(x.shape[-1], device=x.device, dtype=x.dtype) * gamma
    corr = _corr_rows(x, eps)
    off = ~torch.eye(k, dtype=torch.bool, device=x.device)
    return corr[:, off].pow(2).mean()


class LossParts(NamedTuple):
    total: torch.Tensor
    rmsle: torch.Tensor
    penalty: torch.Tensor


class DeconvLoss(nn.Module):
    """RMSLE + alpha x redundancy penalty (alpha = 1 by default).

    Call with the per-cell-type prediction ``(B, K, S, L)`` and the observed bulk
    ``(B, S, L)``; returns `LossParts` (total, rmsle, penalty). With ``redundancy=False``
    the penalty is still computed (for logging) but detached and not added.
    """

    def __init__(
        self, *, alpha: float = 1.0, redundancy: bool = True, root: bool = True, gamma: float = 1e-8
    ) -> None:
        super().__init__()
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        self.redundancy = redundancy
        self.root = root
        self.gamma = gamma

    def forward(self, prediction: torch.Tensor, bulk: torch.Tensor) -> LossParts:
        fit = rmsle(prediction.float().sum(dim=1), bulk.float(), root=self.root)
        penalty = redundancy_penalty(prediction, gamma=self.gamma)
        if self.redundancy and self.alpha > 0:
            total = fit + self.alpha * penalty
        else:
            penalty = penalty.detach()
            total = fit
        return LossParts(total, fit, penalty)
