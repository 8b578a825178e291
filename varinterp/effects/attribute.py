"""Attributions of an ensemble's prediction to input bases (tangermeme).

Three methods, all through tangermeme:

- ``ixg``: input x gradient (`tangermeme.saliency.saliency`), one backward pass;
- ``deepshap``: DeepLIFT/SHAP against dinucleotide-shuffled references
  (`tangermeme.deep_lift_shap.deep_lift_shap`, ``n_shuffles`` references per window,
  seeded);
- ``ism``: in-silico saturation mutagenesis (`tangermeme.saturation_mutagenesis`): the
  change of the target for every single-base substitution, mean-centred over the four
  bases at each position.

The explained quantity (``target``) is the ensemble mean of ``quantity`` (predicted total
initiation), or for ``ixg``/``ism`` also ``profile``: ``sum(stopgrad(p / sum p) * p)`` of the
profile output ``p`` (the weighted-profile target of BPNet-style models). DeepLIFT needs
additive targets, so ``deepshap`` explains the quantity only.

Windows are reference sequence, one-hot: a model that takes two-hot input (CLIPNET,
homozygous = 2) sees ``2 * x``, and attributions are with respect to the one-hot ``x``
(so they equal the two-hot input x gradient). DeepLIFT's rules attach to modules, so a
network whose activations are functional calls is run through its architecture's
``explainable`` twin (same weights, same outputs; `varinterp.training.registry`). A
multi-task model explains one task (``task``, default the first); models that need
extra inputs besides sequence cannot be attributed here.

Results (`Attributions`): ``hypothetical`` ``(N, 4, L) float32`` (the score each base
would get at each position) and ``attributions`` = ``hypothetical * x`` (the observed
bases' scores; what a bigWig shows, summed over channels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.training.registry import Architecture, architecture_for_module

__all__ = ["METHODS", "TARGETS", "Attributions", "EnsembleTarget", "attribute_windows"]

METHODS = ("ixg", "deepshap", "ism")
TARGETS = ("quantity", "profile")


class EnsembleTarget(nn.Module):
    """One-hot ``(b, 4, L)`` -> the ensemble's target ``(b, 1)``; see the module docstring."""

    def __init__(
        self,
        models: Sequence[nn.Module],
        *,
        target: str,
        input_scale: float | None = None,
        arch: Architecture | None = None,
        task: int = 0,
    ):
        super().__init__()
        if target not in TARGETS:
            msg = f"unknown target {target!r}; choose from {', '.join(TARGETS)}"
            raise InputError(msg)
        arch = arch or architecture_for_module(models[0])
        wrapped = [arch.explainable(m) if arch.explainable else m for m in models]
        self.models = nn.ModuleList(wrapped)
        self.arch = arch
        self.target = target
        self.task = task
        if input_scale is None:
            input_scale = 2.0 if arch.input_encoding == "two-hot" else 1.0
        self.input_scale = input_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.input_scale
        outs = []
        for m in self.models:
            p, q = self.arch.predict(m, x, {})
            if self.target == "quantity":
                outs.append(q[:, self.task].reshape(-1, 1))
            else:
                p = p[:, self.task].flatten(1)
                total = p.sum(dim=1, keepdim=True)
                w = (p / torch.where(total > 0, total, torch.ones_like(total))).detach()
                outs.append((w * p).sum(dim=1, keepdim=True))
        return torch.stack(outs).mean(dim=0)


@dataclass
class Attributions:
    """``hypothetical`` and ``attributions`` ``(N, 4, L) float32``; ``x`` ``(N, 4, L) uint8``."""

    hypothetical: np.ndarray
    attributions: np.ndarray
    x: np.ndarray
    method: str
    target: str


def attribute_windows(
    models: Sequence[nn.Module],
    x: np.ndarray,
    *,
    method: str = "deepshap",
    target: str = "quantity",
    n_shuffles: int = 20,
    seed: int = 0,
    batch_size: int = 32,
    device: torch.device | str = "cpu",
    arch: Architecture | None = None,
    task: int = 0,
) -> Attributions:
    """Attributions of the ensemble's `target` on one-hot windows ``x`` ``(N, 4, L) uint8``.

    See the module docstring for methods and targets; `arch` defaults to the registered
    architecture of the models' config. Returns `Attributions` with ``(N, 4, L)
    float32`` arrays (channels A, C, G, T).
    """
    if method not in METHODS:
        msg = f"unknown attribution method {method!r}; choose from {', '.join(METHODS)}"
        raise InputError(msg)
    if method == "deepshap" and target != "quantity":
        msg = "DeepLIFT/SHAP needs an additive target: use --target quantity, or --method ixg/ism"
        raise InputError(msg)
    x = np.ascontiguousarray(x, dtype=np.uint8)
    if x.ndim != 3 or x.shape[1] != 4 or x.max(initial=0) > 1:
        msg = f"attribution windows must be one-hot (N, 4, L) with values 0/1, got {x.shape}"
        raise InputError(msg)
    device = torch.device(device)
    for m in models:
        m.eval()
    wrapper = EnsembleTarget(models, target=target, arch=arch, task=task).to(device).eval()
    X = torch.from_numpy(x).float()
    if x.shape[0] == 0:
        hyp = np.zeros(x.shape, dtype=np.float32)
    elif method == "ixg":
        from tangermeme.saliency import saliency

        hyp = saliency(
            wrapper, X, target=0, batch_size=batch_size, hypothetical=True,
            gradient_correction=False, device=device,
        )  # fmt: skip
    elif method == "deepshap":
        from tangermeme.deep_lift_shap import deep_lift_shap

        hyp = deep_lift_shap(
            wrapper, X, target=0, batch_size=batch_size, n_shuffles=n_shuffles,
            hypothetical=True, random_state=seed, device=device, only_warn=True,
        )  # fmt: skip
    else:
        from tangermeme.saturation_mutagenesis import saturation_mutagenesis

        hyp = saturation_mutagenesis(
            wrapper, X, target=0, batch_size=batch_size, hypothetical=True, device=device,
            fast=False,
        )  # fmt: skip
    hyp = np.asarray(hyp.detach().cpu() if torch.is_tensor(hyp) else hyp, dtype=np.float32)
    return Attributions(hyp, hyp * x, x, method, target)
