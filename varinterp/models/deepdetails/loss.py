"""The DeepDETAILS training loss: RMSLE on the bulk plus a redundancy penalty.

``loss = RMSLE(sum_k pred_k, bulk) + alpha * penalty(pred_1..K)``

- RMSLE: the squared log error ``(ln(1 + pred) - ln(1 + y))^2`` is *summed* over
  positions, averaged over batch and strands, then square-rooted.
- Redundancy penalty: per sample, the K x (S*L) matrix of cell-type predictions (strands
  concatenated, plus a tiny ramp ``arange * gamma`` so a flat row still has a defined
  correlation) gives a K x K Pearson correlation matrix; the penalty is the mean squared
  off-diagonal entry, averaged over the batch.

The reference implementation packs the penalty into a new tensor, which detaches it, so
it never trains. `DeconvLoss` keeps it in the graph with ``redundancy=True`` (the default,
also for training: `varinterp.models.deepdetails.train.TrainSettings`); ``redundancy=False`` (the
ablation) or ``alpha=0`` computes it for logging only. With ``sample_weight="counts"``
(the training default) each window's penalty is multiplied by the share of its bulk that
the prediction accounts for, ``min(predicted total, bulk total) / bulk total`` (detached;
0 for a window without bulk), so the penalty cannot shape predictions that are still far
below the bulk; the logged penalty is always the unweighted mean.

Split anchor (``anchor`` > 0, varinterp's addition): the bulk fixes each window's total
but not how it divides among the cell types; without sequence that division is a flat
valley of the loss, along which a short run drifts to whichever cell type its seed
favours. ``anchor x split_anchor`` adds, per window and strand, the variance across cell
types of ``ln(predicted total_k / scale_k)``: zero when the counts divide exactly as the
scale function (the accessibility, weighed by the contributions), so training leaves
that division only as far as the bulk's fit pays for it. The profiles are not touched.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

__all__ = ["DeconvLoss", "LossParts", "redundancy_penalty", "rmsle", "split_anchor"]


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
    prediction: torch.Tensor, *, gamma: float = 1e-8, eps: float = 1e-12, reduce: bool = True
) -> torch.Tensor:
    """Mean squared off-diagonal correlation between cell-type predictions.

    `prediction`: ``(B, K, S, L)``. Returns a scalar (the mean over the batch), or with
    ``reduce=False`` the per-sample values ``(B,)``. Zero (still in the graph) when K == 1.
    """
    b, k = prediction.shape[:2]
    x = prediction.float().reshape(b, k, -1)
    if k < 2:
        zero = x.sum(dim=(1, 2)) * 0.0
        return zero.mean() if reduce else zero
    x = x + torch.arange(x.shape[-1], device=x.device, dtype=x.dtype) * gamma
    corr = _corr_rows(x, eps)
    off = ~torch.eye(k, dtype=torch.bool, device=x.device)
    per_sample = corr[:, off].pow(2).mean(dim=-1)
    return per_sample.mean() if reduce else per_sample


def split_anchor(
    prediction: torch.Tensor, scale: torch.Tensor, *, floor: float = 1e-6
) -> torch.Tensor:
    """Mean over windows and strands of the variance across cell types of
    ``ln(total_k / scale_k)``, a scalar.

    `prediction` ``(B, K, S, L)``; `scale` ``(B, K)``, the model's scale input. Cell
    types whose scale is below `floor` in a window (nothing accessible) are left out of
    that window's variance.
    """
    totals = prediction.float().sum(dim=-1)  # (B, K, S)
    scale = scale.float()
    keep = (scale > floor).to(totals.dtype)[:, :, None]  # (B, K, 1)
    ratio = torch.log(totals.clamp_min(floor)) - torch.log(scale.clamp_min(floor))[:, :, None]
    n = keep.sum(dim=1).clamp_min(1.0)  # (B, 1)
    mean = (ratio * keep).sum(dim=1, keepdim=True) / n[:, None]
    var = ((ratio - mean).pow(2) * keep).sum(dim=1) / n
    return var.mean()


class LossParts(NamedTuple):
    total: torch.Tensor
    rmsle: torch.Tensor
    penalty: torch.Tensor
    anchor: torch.Tensor | None = None


class DeconvLoss(nn.Module):
    """RMSLE + alpha x redundancy penalty (alpha = 1 by default).

    Call with the per-cell-type prediction ``(B, K, S, L)`` and the observed bulk
    ``(B, S, L)``; returns `LossParts` (total, rmsle, penalty). With ``redundancy=False``
    the penalty is still computed (for logging) but detached and not added.
    """

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        redundancy: bool = True,
        root: bool = True,
        gamma: float = 1e-8,
        sample_weight: str = "none",
        anchor: float = 0.0,
    ) -> None:
        super().__init__()
        if alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        if anchor < 0:
            raise ValueError(f"anchor must be >= 0, got {anchor}")
        self.anchor = float(anchor)
        if sample_weight not in ("none", "counts"):
            raise ValueError(f"sample_weight must be 'none' or 'counts', got {sample_weight!r}")
        self.sample_weight = sample_weight
        self.alpha = float(alpha)
        self.redundancy = redundancy
        self.root = root
        self.gamma = gamma

    def forward(
        self,
        prediction: torch.Tensor,
        bulk: torch.Tensor,
        *,
        weight: float = 1.0,
        scale: torch.Tensor | None = None,
    ) -> LossParts:
        """`weight` (0..1) multiplies alpha for this call (the trainer's warm-up ramp);
        `scale` ``(B, K)`` is needed for the split anchor (``anchor`` > 0)."""
        fit = rmsle(prediction.float().sum(dim=1), bulk.float(), root=self.root)
        anchor = None
        if self.anchor > 0:
            if scale is None:
                raise ValueError("the split anchor needs the batch's scale")
            anchor = split_anchor(prediction, scale)
            fit_total = fit + self.anchor * anchor
        else:
            fit_total = fit
        per_sample = redundancy_penalty(prediction, gamma=self.gamma, reduce=False)
        penalty = per_sample.mean()
        coef = self.alpha * float(weight)
        if not (self.redundancy and coef > 0):
            return LossParts(fit_total, fit, penalty.detach(), anchor)
        if self.sample_weight == "counts":
            pred_total = prediction.detach().float().sum(dim=(1, 2, 3))
            bulk_total = bulk.detach().float().abs().sum(dim=(1, 2))
            w = torch.minimum(pred_total, bulk_total) / bulk_total.clamp_min(1e-12)
            trained = (w * per_sample).mean()
        else:
            trained = penalty
        return LossParts(fit_total + coef * trained, fit, penalty, anchor)
