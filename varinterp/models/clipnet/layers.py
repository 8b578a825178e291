"""Building blocks of CLIPNET that reproduce Keras layers in PyTorch.

`TFSameConv1d` reproduces TensorFlow/Keras ``padding="same"`` for a stride-1 1-D
convolution. TensorFlow pads ``total = (kernel_size - 1) * dilation`` zeros, putting
``total // 2`` on the left and the rest on the right, so an even total width is split
evenly and an odd one puts the extra zero on the right. PyTorch's own ``padding="same"``
puts the extra zero on the left instead, which shifts the output by one position for
even kernels; models imported from Keras need the TensorFlow convention.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["TFSameConv1d", "keras_batchnorm", "tf_same_padding"]


def tf_same_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """Return ``(left, right)`` zero padding of TensorFlow's stride-1 "same" convolution."""
    total = (kernel_size - 1) * dilation
    left = total // 2
    return left, total - left


class TFSameConv1d(nn.Module):
    """A stride-1 ``Conv1d`` with TensorFlow-style (possibly asymmetric) "same" padding.

    Input ``(batch, in_channels, length) float`` -> output
    ``(batch, out_channels, length) float``. The weight is stored as ``self.conv.weight``
    with PyTorch's layout ``(out_channels, in_channels, kernel_size)``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1
    ) -> None:
        super().__init__()
        self.padding = tf_same_padding(kernel_size, dilation)
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.padding))


def keras_batchnorm(num_features: int, *, eps: float, momentum: float) -> nn.BatchNorm1d:
    """A ``BatchNorm1d`` with Keras-style settings.

    `momentum` uses PyTorch's convention (weight of the new batch statistic): Keras'
    default ``momentum=0.99`` corresponds to PyTorch ``momentum=0.01``.
    """
    return nn.BatchNorm1d(num_features, eps=eps, momentum=momentum)
