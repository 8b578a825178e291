"""GET's losses: Poisson NLL of the expression, MSE of masked regions' features."""

from __future__ import annotations

import torch

__all__ = ["masked_mse", "poisson_nll"]


def poisson_nll(
    pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """Mean of ``pred - target * log(pred + eps)`` over the entries where `weight` is 1
    (PyTorch's ``PoissonNLLLoss(log_input=False)``; `pred`, `target` ``(b, R, 2)``,
    `weight` ``(b, R)``); 0 when no entry counts."""
    w = weight[..., None].to(pred.dtype).expand_as(pred)
    per = pred - target * torch.log(pred + eps)
    n = w.sum()
    return (per * w).sum() / n.clamp(min=1.0)


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the features of masked regions (`mask` ``(b, R)`` bool)."""
    w = mask[..., None].to(pred.dtype)
    n = w.sum() * pred.shape[-1]
    return (((pred - target) ** 2) * w).sum() / n.clamp(min=1.0)
