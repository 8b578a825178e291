"""Training losses of CLIPNET (the published Keras recipe, in PyTorch).

- Profile: negative cosine similarity between the predicted and observed profile
  vectors (``n_strands * output_length`` values each, plus strand then minus strand), as
  Keras' ``CosineSimilarity`` loss: each vector is divided by ``sqrt(max(sum(v**2),
  1e-12))``, so an all-zero vector contributes 0 instead of NaN. Range -1 (same shape)
  to 1.
- Quantity: mean squared log1p error (Keras ``msle``): ``(log1p(max(y, eps)) -
  log1p(max(y_hat, eps)))**2`` with ``eps = 1e-7``, weighted by 1/500 in the total.

All losses return a 0-d tensor: the mean over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = [
    "QUANTITY_WEIGHT",
    "ClipnetLoss",
    "clipnet_loss",
    "profile_cosine_loss",
    "quantity_msle_loss",
]

QUANTITY_WEIGHT = 1.0 / 500.0
_L2_EPS = 1e-12
_MSLE_EPS = 1e-7


def profile_cosine_loss(pred: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-cos(pred_i, obs_i)``; ``pred``, ``obs`` ``(batch, P)``."""
    pred = pred.float()
    obs = obs.float()
    pn = pred * torch.rsqrt(torch.clamp((pred * pred).sum(dim=1, keepdim=True), min=_L2_EPS))
    on = obs * torch.rsqrt(torch.clamp((obs * obs).sum(dim=1, keepdim=True), min=_L2_EPS))
    return -(pn * on).sum(dim=1).mean()


def quantity_msle_loss(pred: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
    """Mean squared log1p error; ``pred``, ``obs`` ``(batch, 1)`` or ``(batch,)``."""
    pred = pred.float().reshape(pred.shape[0], -1)
    obs = obs.float().reshape(obs.shape[0], -1)
    diff = torch.log1p(torch.clamp(pred, min=_MSLE_EPS)) - torch.log1p(
        torch.clamp(obs, min=_MSLE_EPS)
    )
    return (diff * diff).mean()


@dataclass(frozen=True)
class ClipnetLoss:
    """The weighted total and its two parts (0-d tensors; ``total`` carries gradients)."""

    total: torch.Tensor
    profile: torch.Tensor
    quantity: torch.Tensor


def clipnet_loss(
    pred_profile: torch.Tensor,
    pred_quantity: torch.Tensor,
    obs_profile: torch.Tensor,
    obs_quantity: torch.Tensor,
    *,
    quantity_weight: float = QUANTITY_WEIGHT,
) -> ClipnetLoss:
    """``profile_cosine_loss + quantity_weight * quantity_msle_loss`` (published: 1/500)."""
    p = profile_cosine_loss(pred_profile, obs_profile)
    q = quantity_msle_loss(pred_quantity, obs_quantity)
    return ClipnetLoss(total=p + quantity_weight * q, profile=p, quantity=q)
