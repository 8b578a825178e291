"""CLIPNET: a dilated residual CNN from 1 kb of personal sequence to PRO-cap initiation.

The default `ClipnetConfig` is the published network (the Keras ``rnn_v10`` model of the
CLIPNET paper), layer for layer, so the public Keras weights can be imported
(`varinterp.models.clipnet.keras`):

1. input ``(batch, 4, 1000)`` two-hot (channels A, C, G, T; homozygous = 2, heterozygous
   = 1 + 1, N = 0; *not* divided by 2) -> BatchNorm over the 4 channels;
2. Conv 64 x 8 (valid, length 993) -> BN -> ELU -> MaxPool 2 (496);
3. Conv 128 x 4 (valid, 493) -> BN -> ReLU -> MaxPool 2 (246);
4. Conv 64 x 1;
5. 9 residual blocks, block i: ``r = ReLU(BN(conv_i(x)))``, ``x = ReLU(BN(x + r))`` with
   kernel 3, dilation ``2**i`` and TensorFlow "same" padding (`TFSameConv1d`);
6. MaxPool 2 (123);
7. profile head: flatten position-major (as Keras' ``Flatten`` of a ``(length, channels)``
   tensor: feature ``j * channels + c`` is position j, channel c) -> Dense(1000) -> BN
   -> ReLU -> Dropout 0.3;
8. quantity head: global average pool over positions -> Dense(1) -> BN -> ReLU ->
   Dropout 0.3.

BatchNorm eps is 1e-3 (Keras' default); momentum 0.01 in PyTorch's convention equals
Keras' 0.99.

**Outputs.** ``forward(x)`` returns ``(profile, quantity)``:

- ``profile``: ``(batch, n_strands * output_length) float``, the plus strand's
  ``output_length`` values followed by the minus strand's, both in genomic (left to
  right) order and both non-negative (minus-strand signal is stored as positive
  values). It covers input positions ``[output_start, output_start + output_length)``,
  i.e. 250-749 for the published model. It is **neither logits nor a softmax**: it is a
  ReLU output trained with a cosine loss, so only its shape is meaningful, not its
  scale. `profile_to_track` turns it into a track.
- ``quantity``: ``(batch, 1) float``, the predicted total signal over both strands in the
  output window, in linear RPM (not log).

A predicted track is ``profile / profile.sum() * quantity`` (`profile_to_track`).

The widths are config fields, so a small version can be trained on a CPU for demos
(`ClipnetConfig.small`). `profile_bottleneck` > 0 (not in the published model) adds a
1x1 convolution to that many channels before the flatten, which shrinks the dominant
Dense layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from varinterp.errors import InputError
from varinterp.models.clipnet.layers import TFSameConv1d, keras_batchnorm
from varinterp.training.registry import OutputSpec

__all__ = [
    "Clipnet",
    "ClipnetConfig",
    "keras_param_count",
    "output_spec",
    "profile_to_track",
    "split_strands",
]


@dataclass(frozen=True)
class ClipnetConfig:
    """Hyper-parameters of a CLIPNET network; the defaults are the published model.

    Lengths are in base pairs. `output_length` is per strand; the profile output has
    ``n_strands * output_length`` values.
    """

    architecture: ClassVar[str] = "clipnet"

    input_length: int = 1000
    output_length: int = 500
    n_strands: int = 2
    conv1_filters: int = 64
    conv1_kernel: int = 8
    conv2_filters: int = 128
    conv2_kernel: int = 4
    n_filters: int = 64
    n_dilations: int = 9
    dilation_kernel: int = 3
    profile_bottleneck: int = 0
    dropout: float = 0.3
    bn_eps: float = 1e-3
    bn_momentum: float = 0.01

    def __post_init__(self) -> None:
        ints = [f.name for f in dataclasses.fields(self) if f.type in ("int", int)]
        for name in ints:
            value = getattr(self, name)
            low = 0 if name in ("profile_bottleneck", "n_dilations") else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                msg = f"CLIPNET config: {name}={value!r} must be an integer >= {low}"
                raise InputError(msg)
        for name in ("dropout", "bn_eps", "bn_momentum"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                msg = f"CLIPNET config: {name}={value!r} must be a non-negative number"
                raise InputError(msg)
        if not 0.0 <= self.dropout < 1.0:
            msg = f"CLIPNET config: dropout={self.dropout} must be in [0, 1)"
            raise InputError(msg)
        if self.output_length > self.input_length or ((self.input_length - self.output_length) % 2):
            msg = (
                f"CLIPNET config: output_length={self.output_length} must be at most "
                f"input_length={self.input_length} and differ from it by an even number"
            )
            raise InputError(msg)
        if self.trunk_length < 1:
            msg = (
                f"CLIPNET config: input_length={self.input_length} is too short for the "
                "convolution and pooling layers; use a longer input"
            )
            raise InputError(msg)

    @property
    def trunk_length(self) -> int:
        """Number of positions after the last max-pool (123 for the published model)."""
        n = self.input_length - self.conv1_kernel + 1
        n = n // 2 - self.conv2_kernel + 1
        return (n // 2) // 2

    @property
    def flatten_features(self) -> int:
        """Width of the flattened profile-head input (7872 for the published model)."""
        channels = self.profile_bottleneck or self.n_filters
        return self.trunk_length * channels

    @property
    def output_start(self) -> int:
        """First input position covered by the profile (250 for the published model)."""
        return (self.input_length - self.output_length) // 2

    @property
    def profile_size(self) -> int:
        """Number of profile outputs: ``n_strands * output_length``."""
        return self.n_strands * self.output_length

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClipnetConfig:
        """Build a config from `to_dict` output; unknown keys are an `InputError`."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"CLIPNET config: unknown field(s) {', '.join(unknown)}; known: {sorted(known)}"
            raise InputError(msg)
        return cls(**data)

    @classmethod
    def small(cls, **overrides: Any) -> ClipnetConfig:
        """A ~130k-parameter version of the published geometry (1 kb in, 2 x 500 out).

        Meant for demos and CPU tests; any field can be overridden. No dropout: the
        published model drops 30% of its *outputs* (profile positions and the quantity
        itself) in training, which a model this small, trained this briefly, cannot
        afford (on the simulated cohort it halved the held-out gain over the mean shape
        and cut the log-quantity Pearson from 0.54 to 0.33; docs/benchmarks.md).
        """
        fields: dict[str, Any] = {
            "conv1_filters": 16,
            "conv2_filters": 32,
            "n_filters": 16,
            "n_dilations": 6,
            "profile_bottleneck": 1,
            "dropout": 0.0,
        }
        fields.update(overrides)
        return cls(**fields)


class _ResidualBlock(nn.Module):
    """``r = ReLU(BN(conv(x)))``; ``x = ReLU(BN(x + r))`` with TF "same" padding."""

    def __init__(self, cfg: ClipnetConfig, dilation: int) -> None:
        super().__init__()
        self.conv = TFSameConv1d(cfg.n_filters, cfg.n_filters, cfg.dilation_kernel, dilation)
        self.bn = keras_batchnorm(cfg.n_filters, eps=cfg.bn_eps, momentum=cfg.bn_momentum)
        self.skip_bn = keras_batchnorm(cfg.n_filters, eps=cfg.bn_eps, momentum=cfg.bn_momentum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = F.relu(self.bn(self.conv(x)))
        return F.relu(self.skip_bn(x + r))


class Clipnet(nn.Module):
    """The CLIPNET network; see the module docstring for layers and outputs.

    ``forward(x)``: ``x`` is ``(batch, 4, input_length) float`` two-hot (A, C, G, T;
    values 0..2). Returns ``profile`` ``(batch, n_strands * output_length) float``
    (plus strand then minus strand, non-negative, shape only) and ``quantity``
    ``(batch, 1) float`` (linear RPM).
    """

    def __init__(self, config: ClipnetConfig | None = None) -> None:
        super().__init__()
        cfg = config if config is not None else ClipnetConfig()
        self.config = cfg

        def bn(n: int) -> nn.BatchNorm1d:
            return keras_batchnorm(n, eps=cfg.bn_eps, momentum=cfg.bn_momentum)

        self.input_bn = bn(4)
        self.conv1 = nn.Conv1d(4, cfg.conv1_filters, cfg.conv1_kernel)
        self.bn1 = bn(cfg.conv1_filters)
        self.conv2 = nn.Conv1d(cfg.conv1_filters, cfg.conv2_filters, cfg.conv2_kernel)
        self.bn2 = bn(cfg.conv2_filters)
        self.conv3 = nn.Conv1d(cfg.conv2_filters, cfg.n_filters, 1)
        self.blocks = nn.ModuleList(_ResidualBlock(cfg, 2**i) for i in range(cfg.n_dilations))
        self.profile_bottleneck = (
            nn.Conv1d(cfg.n_filters, cfg.profile_bottleneck, 1) if cfg.profile_bottleneck else None
        )
        self.profile_dense = nn.Linear(cfg.flatten_features, cfg.profile_size)
        self.profile_bn = bn(cfg.profile_size)
        self.quantity_dense = nn.Linear(cfg.n_filters, 1)
        self.quantity_bn = bn(1)
        self.dropout = nn.Dropout(cfg.dropout)

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Shared features: ``(batch, 4, L) -> (batch, n_filters, trunk_length) float``."""
        self._check_input(x)
        x = self.input_bn(x)
        x = F.max_pool1d(F.elu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool1d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.conv3(x)
        for block in self.blocks:
            x = block(x)
        return F.max_pool1d(x, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        p = self.profile_bottleneck(h) if self.profile_bottleneck is not None else h
        # Keras flattens (length, channels): position-major.
        p = p.transpose(1, 2).flatten(1)
        profile = self.dropout(F.relu(self.profile_bn(self.profile_dense(p))))
        q = h.mean(dim=2)
        quantity = self.dropout(F.relu(self.quantity_bn(self.quantity_dense(q))))
        return profile, quantity

    @torch.no_grad()
    def init_quantity_scale(self, mean: float, std: float) -> None:
        """Start the quantity head at the targets' scale (for training from scratch).

        The quantity head ends in BatchNorm -> ReLU, so its output is roughly
        ``bias + weight * z`` with ``z`` standardised; Keras starts at ``weight=1,
        bias=0`` and needs many steps to reach an RPM scale. This sets ``bias=mean``
        and ``weight=min(std, mean / 3)`` of the training quantities: quantities are
        skewed (``std`` is often above ``mean``), and with ``weight=std`` the ReLU would
        clip a fifth or more of every training batch to 0, where it passes no gradient.
        Imported weights overwrite it.
        """
        self.quantity_bn.bias.fill_(float(mean))
        self.quantity_bn.weight.fill_(float(min(std, mean / 3.0)) if mean > 0 else float(std))

    def _check_input(self, x: torch.Tensor) -> None:
        want = (4, self.config.input_length)
        if x.ndim != 3 or tuple(x.shape[1:]) != want:
            msg = (
                f"CLIPNET input has shape {tuple(x.shape)}; expected (batch, 4, "
                f"{self.config.input_length}) two-hot with channels A, C, G, T"
            )
            raise InputError(msg)


def keras_param_count(model: nn.Module) -> int:
    """Parameters as Keras counts them: trainable weights plus BN moving mean/variance.

    PyTorch keeps the BN moving statistics as buffers, not parameters; Keras counts them
    as non-trainable weights (``num_batches_tracked`` has no Keras counterpart).
    """
    n = sum(p.numel() for p in model.parameters())
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
            n += module.running_mean.numel() + module.running_var.numel()
    return n


def split_strands(profile: torch.Tensor, n_strands: int = 2) -> torch.Tensor:
    """``(batch, n_strands * L) -> (batch, n_strands, L)``, plus strand first."""
    return profile.reshape(profile.shape[0], n_strands, -1)


def profile_to_track(
    profile: torch.Tensor, quantity: torch.Tensor, *, eps: float = 0.0
) -> torch.Tensor:
    """Scale a profile to a track: ``profile / (profile.sum() + eps) * quantity``.

    ``profile`` ``(batch, P)``, ``quantity`` ``(batch, 1)`` -> ``(batch, P) float`` in the
    quantity's units (RPM). A window whose profile sums to 0 gives zeros (not NaN).
    """
    total = profile.sum(dim=1, keepdim=True) + eps
    safe = torch.where(total > 0, total, torch.ones_like(total))
    return torch.where(total > 0, profile / safe * quantity, torch.zeros_like(profile))


def output_spec(config: ClipnetConfig, metadata: Mapping[str, Any]) -> OutputSpec:
    """What a CLIPNET model directory predicts, for scoring: per task (``metadata.tasks``,
    default one unnamed task) a profile of `config`'s strands over its output window and
    a quantity in RPM."""
    tasks = tuple(str(t) for t in metadata.get("tasks", ("",)))
    return OutputSpec(
        input_length=config.input_length,
        output_length=config.output_length,
        n_strands=config.n_strands,
        tasks=tasks,
        quantity="RPM",
    )
