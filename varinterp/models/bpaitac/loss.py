"""bpAI-TAC's losses: profile terms, the count term and their composites.

Shapes: predicted ``log_profile`` ``(b, T, L)`` (log-softmax over positions), predicted
``counts`` ``(b, T)``; observed per-base ``profile`` counts ``(b, T, L)`` and observed
``totals`` ``(b, T)`` (the quantile-normalised centre sums). Every term is a mean over
the batch x task pairs.

- ``cross_entropy``: ``-sum_i p_i log q_i`` with ``p`` the observed counts normalised
  per task (a pair with no counts contributes 0);
- ``multinomial_nll``: ``-log Multinomial(k | N, q)`` with ``N = sum_i k_i``, i.e.
  ``N x CE + log(prod k_i! / N!)``;
- ``count_mse``: ``(log(pred + 1) - log(obs + 1))^2``;
- ``poisson_nll``: Poisson NLL of the per-base counts at rate ``q_i x predicted count``
  (mean over positions too; no separate count term);
- ``jensen_shannon``: JSD (natural log) between ``q`` and the normalised observed
  profile (the bias networks' profile-only loss in the paper).

`AtacLoss` combines them (``kind``):

- ``ce`` (default, the paper's best): ``lambda x CE + (1 - lambda) x MSE``;
- ``mnll``: ``lambda x MNLL + (1 - lambda) x MSE`` (BPNet's composite, weighted as in the
  paper);
- ``poisson``: the Poisson NLL alone (the public code's default training loss);
- ``jsd``: the JSD alone (profile only: Tn5 bias networks).

``lambda`` = 0 is AI-TAC (counts only), 1 profiles only; it must lie in [0, 1].
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from varinterp.errors import InputError

__all__ = [
    "LOSS_KINDS",
    "AtacLoss",
    "LossParts",
    "count_mse",
    "cross_entropy",
    "jensen_shannon",
    "multinomial_nll",
    "poisson_nll",
]

LOSS_KINDS = ("ce", "mnll", "poisson", "jsd")


class LossParts(NamedTuple):
    """``total`` (trains), ``profile`` and ``counts`` terms (scalars)."""

    total: torch.Tensor
    profile: torch.Tensor
    counts: torch.Tensor


def _normalised(profile: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    total = profile.sum(dim=-1, keepdim=True)
    return profile / torch.where(total > 0, total, torch.ones_like(total)), total[..., 0]


def cross_entropy(log_profile: torch.Tensor, profile: torch.Tensor) -> torch.Tensor:
    """Mean over (b, T) of ``-sum_i p_i log q_i`` (module docstring)."""
    p, _ = _normalised(profile.float())
    return -(p * log_profile.float()).sum(dim=-1).mean()


def multinomial_nll(log_profile: torch.Tensor, profile: torch.Tensor) -> torch.Tensor:
    """Mean over (b, T) of the multinomial negative log-likelihood of the counts."""
    k = profile.float()
    n = k.sum(dim=-1)
    const = torch.lgamma(k + 1).sum(dim=-1) - torch.lgamma(n + 1)
    return (const - (k * log_profile.float()).sum(dim=-1)).mean()


def count_mse(counts: torch.Tensor, totals: torch.Tensor) -> torch.Tensor:
    """Mean of ``(log(pred + 1) - log(obs + 1))^2`` over (b, T)."""
    return ((torch.log1p(counts.float()) - torch.log1p(totals.float())) ** 2).mean()


def poisson_nll(
    log_profile: torch.Tensor, counts: torch.Tensor, profile: torch.Tensor
) -> torch.Tensor:
    """Mean over (b, T, L) of the Poisson NLL (with the ``log k!`` term) of the per-base
    counts at rate ``exp(log_profile) x counts``."""
    k = profile.float()
    log_rate = log_profile.float() + torch.log(counts.float().clamp_min(1e-8))[..., None]
    return (log_rate.exp() - k * log_rate + torch.lgamma(k + 1)).mean()


def jensen_shannon(log_profile: torch.Tensor, profile: torch.Tensor) -> torch.Tensor:
    """Mean over (b, T) with counts of the Jensen-Shannon divergence (nats) between the
    predicted and the observed profile."""
    p, total = _normalised(profile.float())
    q = log_profile.float().exp()
    m = 0.5 * (p + q)
    log_m = torch.log(m.clamp_min(1e-30))
    kl_p = torch.where(p > 0, p * (torch.log(p.clamp_min(1e-30)) - log_m), torch.zeros_like(p))
    kl_q = q * (log_profile.float() - log_m)
    js = 0.5 * (kl_p.sum(dim=-1) + kl_q.sum(dim=-1))
    has = (total > 0).float()
    return (js * has).sum() / has.sum().clamp_min(1.0)


class AtacLoss:
    """The training loss of a bpAI-TAC model (module docstring)."""

    def __init__(self, kind: str = "ce", lam: float = 0.5) -> None:
        if kind not in LOSS_KINDS:
            msg = f"loss must be one of {', '.join(LOSS_KINDS)}, got {kind!r}"
            raise InputError(msg)
        lam = float(lam)
        if not 0.0 <= lam <= 1.0:
            msg = f"lambda (the profile share of the loss) must be in [0, 1], got {lam:g}"
            raise InputError(msg)
        self.kind = kind
        self.lam = lam

    @property
    def uses_counts(self) -> bool:
        """Whether the count head gets a gradient."""
        return self.kind == "poisson" or (self.kind in ("ce", "mnll") and self.lam < 1.0)

    def __call__(
        self,
        log_profile: torch.Tensor,
        counts: torch.Tensor,
        profile: torch.Tensor,
        totals: torch.Tensor,
    ) -> LossParts:
        zero = log_profile.new_zeros((), dtype=torch.float32)
        if self.kind == "poisson":
            nll = poisson_nll(log_profile, counts, profile)
            return LossParts(nll, nll.detach(), count_mse(counts, totals).detach())
        if self.kind == "jsd":
            js = jensen_shannon(log_profile, profile)
            return LossParts(js, js.detach(), zero)
        prof = (cross_entropy if self.kind == "ce" else multinomial_nll)(log_profile, profile)
        mse = count_mse(counts, totals)
        total = self.lam * prof + (1.0 - self.lam) * mse
        return LossParts(total, prof.detach(), mse.detach())
