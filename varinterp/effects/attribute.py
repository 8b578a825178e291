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
`Clipnet` is run through `_ModuleClipnet`, the same network with module activations and
pooling in place of functional calls (same weights, same outputs).

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
from varinterp.nets.clipnet import Clipnet

__all__ = ["METHODS", "TARGETS", "Attributions", "EnsembleTarget", "attribute_windows"]

METHODS = ("ixg", "deepshap", "ism")
TARGETS = ("quantity", "profile")


class _ModuleClipnet(nn.Module):
    """A `Clipnet` with nn.ELU / nn.ReLU / nn.MaxPool1d modules (one instance per use)."""

    def __init__(self, net: Clipnet) -> None:
        super().__init__()
        self.net = net
        n_blocks = len(net.blocks)
        self.elu1 = nn.ELU()
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(2 * n_blocks + 3))
        self.pools = nn.ModuleList(nn.MaxPool1d(2) for _ in range(3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        net, relu = self.net, iter(self.relus)
        h = net.input_bn(x)
        h = self.pools[0](self.elu1(net.bn1(net.conv1(h))))
        h = self.pools[1](next(relu)(net.bn2(net.conv2(h))))
        h = net.conv3(h)
        for block in net.blocks:
            r = next(relu)(block.bn(block.conv(h)))
            h = next(relu)(block.skip_bn(h + r))
        h = self.pools[2](h)
        p = net.profile_bottleneck(h) if net.profile_bottleneck is not None else h
        p = next(relu)(net.profile_bn(net.profile_dense(p.transpose(1, 2).flatten(1))))
        q = next(relu)(net.quantity_bn(net.quantity_dense(h.mean(dim=2))))
        return p, q


class EnsembleTarget(nn.Module):
    """One-hot ``(b, 4, L)`` -> the ensemble's target ``(b, 1)``; see the module docstring."""

    def __init__(self, models: Sequence[nn.Module], *, target: str, input_scale: float = 2.0):
        super().__init__()
        if target not in TARGETS:
            msg = f"unknown target {target!r}; choose from {', '.join(TARGETS)}"
            raise InputError(msg)
        wrapped = [_ModuleClipnet(m) if isinstance(m, Clipnet) else m for m in models]
        self.models = nn.ModuleList(wrapped)
        self.target = target
        self.input_scale = input_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.input_scale
        outs = []
        for m in self.models:
            p, q = m(x)
            if self.target == "quantity":
                outs.append(q.reshape(-1, 1))
            else:
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
) -> Attributions:
    """Attributions of the ensemble's `target` on one-hot windows ``x`` ``(N, 4, L) uint8``.

    See the module docstring for methods and targets. Returns `Attributions` with
    ``(N, 4, L) float32`` arrays (channels A, C, G, T).
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
    wrapper = EnsembleTarget(models, target=target).to(device).eval()
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
