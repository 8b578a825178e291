"""cREscENDO's two losses.

- `accessibility_loss`: binary cross-entropy of the encoder's per-cell logits against
  the binarised ATAC (mean over peaks and cells; the published model applies a sigmoid
  and ``BCELoss``, which is the same function computed less stably);
- `coordinates_loss`: mean squared error of the gene model's PCA coordinates (or a
  gene's expression) against the target (mean over every element).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = ["accessibility_loss", "coordinates_loss"]


def accessibility_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE of ``logits`` ``(b, C)`` against 0/1 ``target`` ``(b, C)`` (a scalar)."""
    return F.binary_cross_entropy_with_logits(logits.float(), target.float())


def coordinates_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MSE of ``prediction`` against ``target`` of the same shape (a scalar)."""
    return F.mse_loss(prediction.float(), target.float())
