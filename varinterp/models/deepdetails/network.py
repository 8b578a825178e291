"""DeepDETAILS deconvolution networks: the fused model and the seq-only model.

Both split a bulk track into K cell-type tracks over the centre of a 4096-bp window.

Inputs (channel-first, see ``varinterp.genome.encoding`` for the sequence code):

- ``seq``: ``(batch, 4, input_length)`` float, one-hot A, C, G, T (N = all zeros);
- ``acc``: ``(batch, K, input_length)`` float, each cell type's accessibility track;
- ``scale``: ``(batch, K)`` float, the scale function ``s(k, r)``
  (`varinterp.deconv.baselines.scale_weights`).

Outputs (`DeconvOutput`): ``profile`` ``(batch, K, S, output_length)`` (softmax over length
per strand), ``counts`` ``(batch, K, S)`` (softplus, scaled), and their product
``prediction`` ``(batch, K, S, output_length)``; the predicted bulk is the sum over K.

Length arithmetic at the defaults: 4096 -> conv1 (k21) 4076 -> non-dilated block (k3) 4074
-> 9 dilated blocks (k4, d = 2, 4, ..., 512; trims 3 x 1022) 1008 -> profile conv (k9)
1000. `DeepDetailsConfig.output_length` computes it for any setting.

Fused model: a shared trunk (conv1, blocks, last block projecting to ``filters x
embedding_multiplier`` channels); one shared bidirectional GRU over each cell type's raw
accessibility, cropped to the trunk's length; per cell type a sigmoid gate on the trunk's
channels from its global average, then a profile head (k1 convolutions + ELU, then the
profile convolution) on [gated trunk, GRU] and a counts head (bias-free linear + ELU) on
their global averages. Seq-only model: only conv1 is shared; each cell type has its own
tower and heads, and accessibility enters only through the scale.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

__all__ = [
    "SCALE_PLACEMENTS",
    "DeconvOutput",
    "DeepDetailsConfig",
    "DeepDetailsFused",
    "DeepDetailsSeqOnly",
    "build_model",
    "count_parameters",
    "start_at_scale_split",
]

SCALE_PLACEMENTS = ("late-ch", "late", "early", "disable")


@dataclass(frozen=True)
class DeepDetailsConfig:
    """Architecture of a DeepDETAILS model; the defaults are the reference CLI's.

    `scale_placement`: ``late-ch`` multiplies only the counts by s(k, r) (default),
    ``late`` the profile and the counts, ``early`` the features entering the heads,
    ``disable`` never applies it.

    `count_scale`: the counts heads output ``count_scale x softplus(z)`` and their last
    bias starts at softplus^-1(1), so an untrained model predicts about `count_scale`
    reads per window and strand. Training sets it from the data (the typical bulk count
    of a window); 1.0 is the reference's plain softplus.
    """

    n_cell_types: int
    n_strands: int = 2
    seq_only: bool = False
    input_length: int = 4096
    filters: int = 512
    conv1_kernel: int = 21
    n_non_dilated: int = 1
    non_dilated_kernel: int = 3
    n_dilated: int = 9
    dilated_kernel: int = 4
    profile_kernel: int = 9
    head_layers: int = 3
    gru_layers: int = 2
    gru_dropout: float = 0.1
    profile_shrinkage: int = 8
    embedding_multiplier: int = 2
    scale_placement: str = "late-ch"
    count_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.n_cell_types < 1:
            raise ValueError(f"n_cell_types must be >= 1, got {self.n_cell_types}")
        if self.n_strands not in (1, 2):
            raise ValueError(f"n_strands must be 1 or 2, got {self.n_strands}")
        if self.scale_placement not in SCALE_PLACEMENTS:
            raise ValueError(
                f"scale_placement must be one of {', '.join(SCALE_PLACEMENTS)}, "
                f"got {self.scale_placement!r}"
            )
        if not self.count_scale > 0:
            raise ValueError(f"count_scale must be > 0, got {self.count_scale}")
        if self.n_dilated < 1 or self.filters < 1:
            raise ValueError("n_dilated and filters must be >= 1")
        if self.output_length < 1:
            raise ValueError(
                f"input_length {self.input_length} is too short for this layer stack "
                f"(it trims {self.input_length - self.output_length} bp)"
            )

    @property
    def trunk_length(self) -> int:
        """Length after conv1 and all residual blocks (1008 at the defaults)."""
        length = self.input_length - (self.conv1_kernel - 1)
        length -= self.n_non_dilated * (self.non_dilated_kernel - 1)
        for i in range(self.n_dilated):
            length -= (self.dilated_kernel - 1) * 2 ** (i + 1)
        return length

    @property
    def output_length(self) -> int:
        """Length of the predicted centre window (1000 at the defaults)."""
        return self.trunk_length - (self.profile_kernel - 1)

    @property
    def gru_hidden(self) -> int:
        return max(1, self.filters // self.profile_shrinkage)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> DeepDetailsConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown DeepDETAILS config keys: {', '.join(unknown)}")
        return cls(**values)


class DeconvOutput(NamedTuple):
    """profile (B, K, S, L) softmax over L; counts (B, K, S); prediction = profile x counts."""

    profile: torch.Tensor
    counts: torch.Tensor

    @property
    def prediction(self) -> torch.Tensor:
        """Per-cell-type tracks ``(batch, K, S, L)``."""
        return self.profile * self.counts.unsqueeze(-1)

    @property
    def bulk(self) -> torch.Tensor:
        """Predicted bulk ``(batch, S, L)``: the sum over cell types."""
        return self.prediction.sum(dim=1)


def _crop(x: torch.Tensor, length: int) -> torch.Tensor:
    start = (x.shape[-1] - length) // 2
    return x[..., start : start + length]


class _ResidualConv(nn.Module):
    """Valid dilated Conv1d -> ReLU, plus the centre-cropped input (1x1-projected if asked)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv(x))
        skip = _crop(x, y.shape[-1])
        if self.skip is not None:
            skip = self.skip(skip)
        return y + skip


def _tower(cfg: DeepDetailsConfig, last_out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    f = cfg.filters
    for _ in range(cfg.n_non_dilated):
        layers.append(_ResidualConv(f, f, cfg.non_dilated_kernel, 1))
    for i in range(cfg.n_dilated):
        out = last_out if i == cfg.n_dilated - 1 else f
        layers.append(_ResidualConv(f, out, cfg.dilated_kernel, 2 ** (i + 1)))
    return nn.Sequential(*layers)


def _mlp(
    n_in: int, width: int, n_layers: int, n_out: int, *, bias: bool, act: type
) -> nn.Sequential:
    """`n_layers` x (Linear(bias=`bias`) + act), then a Linear with bias to `n_out`."""
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Linear(n_in if i == 0 else width, width, bias=bias), act()]
    layers.append(nn.Linear(width if n_layers else n_in, n_out))
    return nn.Sequential(*layers)


_SOFTPLUS_INV_1 = math.log(math.e - 1.0)  # softplus(x) == 1


def _counts_mlp(n_in: int, cfg: DeepDetailsConfig, *, bias: bool, act: type) -> nn.Sequential:
    """The counts MLP; its last bias starts where softplus is 1 (see `count_scale`)."""
    mlp = _mlp(n_in, cfg.filters, cfg.head_layers, cfg.n_strands, bias=bias, act=act)
    nn.init.constant_(mlp[-1].bias, _SOFTPLUS_INV_1)
    return mlp


def _apply_scale(
    placement: str, profile: torch.Tensor, counts: torch.Tensor, scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """profile (B, K, S, L), counts (B, K, S), scale (B, K)."""
    if placement == "late-ch":
        counts = counts * scale[:, :, None]
    elif placement == "late":
        counts = counts * scale[:, :, None]
        profile = profile * scale[:, :, None, None]
    return profile, counts


class _FusedHead(nn.Module):
    def __init__(self, cfg: DeepDetailsConfig, c_trunk: int, c_gru: int) -> None:
        super().__init__()
        c_in = c_trunk + c_gru
        layers: list[nn.Module] = []
        for i in range(cfg.head_layers):
            layers += [nn.Conv1d(c_in if i == 0 else cfg.filters, cfg.filters, 1), nn.ELU()]
        c_last = cfg.filters if cfg.head_layers else c_in
        layers.append(nn.Conv1d(c_last, cfg.n_strands, cfg.profile_kernel))
        self.profile = nn.Sequential(*layers)
        self.counts = _counts_mlp(c_in, cfg, bias=False, act=nn.ELU)
        self.count_scale = cfg.count_scale

    def forward(self, trunk: torch.Tensor, gru: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        profile = torch.softmax(self.profile(torch.cat([trunk, gru], dim=1)).float(), dim=-1)
        pooled = torch.cat([trunk.mean(dim=-1), gru.mean(dim=-1)], dim=1)
        counts = nn.functional.softplus(self.counts(pooled).float()) * self.count_scale
        return profile, counts


class DeepDetailsFused(nn.Module):
    """The fused (sequence + accessibility) DeepDETAILS model; see the module docstring."""

    def __init__(self, config: DeepDetailsConfig) -> None:
        super().__init__()
        if config.seq_only:
            raise ValueError("config.seq_only is True; use DeepDetailsSeqOnly or build_model")
        self.config = config
        c_trunk = config.filters * config.embedding_multiplier
        self.conv1 = nn.Conv1d(4, config.filters, config.conv1_kernel)
        self.trunk = _tower(config, c_trunk)
        self.gru = nn.GRU(
            input_size=1,
            hidden_size=config.gru_hidden,
            num_layers=config.gru_layers,
            dropout=config.gru_dropout if config.gru_layers > 1 else 0.0,
            batch_first=True,
            bidirectional=True,
        )
        k = config.n_cell_types
        self.gates = nn.ModuleList(nn.Linear(c_trunk, c_trunk, bias=False) for _ in range(k))
        self.heads = nn.ModuleList(
            _FusedHead(config, c_trunk, 2 * config.gru_hidden) for _ in range(k)
        )

    def forward(self, seq: torch.Tensor, acc: torch.Tensor, scale: torch.Tensor) -> DeconvOutput:
        cfg = self.config
        trunk = self.trunk(self.conv1(seq))  # (B, C, trunk_length)
        pooled = trunk.mean(dim=-1)
        b, k, length = acc.shape
        # one GRU pass over all cell types at once: (B*K, length, 1)
        gru, _ = self.gru(acc.reshape(b * k, length, 1).to(trunk.dtype))
        gru = _crop(gru.transpose(1, 2), trunk.shape[-1]).reshape(b, k, -1, trunk.shape[-1])
        profiles, counts = [], []
        for i in range(cfg.n_cell_types):
            gated = trunk * torch.sigmoid(self.gates[i](pooled)).unsqueeze(-1)
            if cfg.scale_placement == "early":
                gated = gated * scale[:, i, None, None].to(gated.dtype)
            p, c = self.heads[i](gated, gru[:, i])
            profiles.append(p)
            counts.append(c)
        profile, count = torch.stack(profiles, 1), torch.stack(counts, 1)
        return DeconvOutput(*_apply_scale(cfg.scale_placement, profile, count, scale.float()))


class _SeqOnlyBranch(nn.Module):
    def __init__(self, cfg: DeepDetailsConfig) -> None:
        super().__init__()
        self.tower = _tower(cfg, cfg.filters)
        self.profile = nn.Conv1d(cfg.filters, cfg.n_strands, cfg.profile_kernel)
        self.counts = _counts_mlp(cfg.filters, cfg, bias=True, act=nn.ReLU)
        self.count_scale = cfg.count_scale

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        body = self.tower(x)
        profile = torch.softmax(self.profile(body).float(), dim=-1)
        counts = nn.functional.softplus(self.counts(body.mean(dim=-1)).float())
        counts = counts * self.count_scale
        return profile, counts


class DeepDetailsSeqOnly(nn.Module):
    """The seq-only DeepDETAILS model: shared conv1, one tower per cell type."""

    def __init__(self, config: DeepDetailsConfig) -> None:
        super().__init__()
        if not config.seq_only:
            raise ValueError("config.seq_only is False; use DeepDetailsFused or build_model")
        self.config = config
        self.conv1 = nn.Conv1d(4, config.filters, config.conv1_kernel)
        self.branches = nn.ModuleList(_SeqOnlyBranch(config) for _ in range(config.n_cell_types))

    def forward(self, seq: torch.Tensor, acc: torch.Tensor, scale: torch.Tensor) -> DeconvOutput:
        del acc  # accessibility enters only through the scale
        cfg = self.config
        motifs = self.conv1(seq)
        profiles, counts = [], []
        for i, branch in enumerate(self.branches):
            x = motifs
            if cfg.scale_placement == "early":
                x = x * scale[:, i, None, None].to(x.dtype)
            p, c = branch(x)
            profiles.append(p)
            counts.append(c)
        profile, count = torch.stack(profiles, 1), torch.stack(counts, 1)
        return DeconvOutput(*_apply_scale(cfg.scale_placement, profile, count, scale.float()))


def build_model(config: DeepDetailsConfig) -> DeepDetailsFused | DeepDetailsSeqOnly:
    """The model `config` describes (fused unless ``config.seq_only``)."""
    return DeepDetailsSeqOnly(config) if config.seq_only else DeepDetailsFused(config)


def start_at_scale_split(model: nn.Module) -> nn.Module:
    """Zero the last weights of every counts head, in place, and return `model`.

    Each head then predicts exactly `count_scale` for every window until training moves
    those weights, so the counts start as the scale function's split of the bulk (the
    accessibility split, weighed by the data's contributions) and training learns only
    departures from it that the bulk supports. The heads' last biases keep their start
    (softplus^-1(1)); the gradient reaches the weights through the pooled features.
    """
    for module in model.modules():
        if isinstance(module, (_FusedHead, _SeqOnlyBranch)):
            nn.init.zeros_(module.counts[-1].weight)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
