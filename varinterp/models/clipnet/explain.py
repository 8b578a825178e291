"""CLIPNET for DeepLIFT: the same network with its activations and pooling as modules.

DeepLIFT/SHAP (captum, tangermeme) attaches its rules to ``nn.ReLU``/``nn.ELU``/
``nn.MaxPool1d`` modules; `Clipnet` calls them as functions. `ModuleClipnet` wraps a
`Clipnet` (same weights, same outputs in eval mode, where dropout is the identity) with
one module instance per use. `explainable` is what the architecture registers.
"""

from __future__ import annotations

import torch
from torch import nn

from varinterp.models.clipnet.network import Clipnet

__all__ = ["ModuleClipnet", "explainable"]


class ModuleClipnet(nn.Module):
    """A `Clipnet` with nn.ELU / nn.ReLU / nn.MaxPool1d modules (one instance per use).

    ``forward(x)`` returns ``(profile (b, n_strands * L), quantity (b, 1))`` as `Clipnet`.
    """

    def __init__(self, net: Clipnet) -> None:
        super().__init__()
        self.net = net
        self.config = net.config
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


def explainable(model: nn.Module) -> nn.Module:
    """`ModuleClipnet` of a `Clipnet` (any other module is returned as it is)."""
    return ModuleClipnet(model) if isinstance(model, Clipnet) else model
