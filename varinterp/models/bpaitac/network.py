"""The bpAI-TAC network: base-resolution Tn5 insertion profiles and counts for many tasks.

Input: one-hot sequence ``(batch, 4, input_length)`` (channels A, C, G, T; N = all zeros).
Layers at the published defaults (Chandra et al.; `BpAiTacConfig` holds every width):

- stem: Conv 4 -> 300, kernel 25, "same" (+ ReLU, see below) -> 300 x 998;
- body: 9 residual blocks ``x + ReLU(BN(Conv 300 -> 300, k3, dilation 2^i))``, i = 1..9;
- profile head: Conv 300 -> T, kernel 25, "same", cropped to the central 250 bp, plus
  the Tn5 bias logits (broadcast over tasks), softmax over positions -> T x 250;
- scalar head: 3 x [MaxPool 5 -> Conv 300 -> 300, k3, "same" -> BN -> ReLU] (998 ->
  199 -> 39 -> 7), flatten (300 x 7), Linear -> T, ReLU -> T.

The scalar head predicts **counts** (Tn5 insertions in the central window, not their log).
The profile window is the central `output_length` positions of the input
(`output_start` = ``(input_length - output_length) // 2``, 374 at 998 bp): the published
input is 998 bp (the "off-by-two" of the public code) and 1000 bp works by config.

**Paper and code.** The paper's Methods follow every body convolution by a ReLU; the
public code has none after the stem. ``stem_activation="relu"`` (default) follows the
paper, ``"none"`` the code. The public code crops its 998-bp profile at 375:625 (the
centre of a 1000-bp window); here the crop is centred on the input, which is how the
data windows are cut (`varinterp.models.bpaitac.data`).

**Tn5 bias.** `forward` adds bias logits ``(batch, output_length)`` to every task's
profile logits before the softmax. They come from the argument ``bias_logits`` when
given (training reads them precomputed), else from the frozen bias network held in the
model (`BpAiTac.bias`, built from ``config.bias``: the same body with one task and no
scalar head, trained by ``varinterp train tn5-bias``), computed on the same input (so a
variant's ALT sequence gets its own bias), else zeros (a model trained ``--no-bias``).
``with_bias=False`` zeroes them (footprints, attributions).

Outputs (`BpAiTacOutput`): ``log_profile`` ``(batch, T, output_length)``, log
probabilities (log-softmax over positions), and ``counts`` ``(batch, T)`` (zeros for a
model without a scalar head). ``logits`` are the profile logits before the bias.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "STEM_ACTIVATIONS",
    "BpAiTac",
    "BpAiTacConfig",
    "BpAiTacOutput",
    "count_parameters",
]

STEM_ACTIVATIONS = ("relu", "none")


@dataclass(frozen=True)
class BpAiTacConfig:
    """Architecture of a bpAI-TAC network (the defaults are the published model's).

    `n_tasks` cell types; `filters` body and scalar-head channels; `n_blocks` dilated
    residual blocks (dilation ``2 ** i`` for i = 1..n_blocks); `stem_activation` after
    the stem convolution (module docstring); `scalar_head` False for a Tn5 bias network
    (profile only); `scalar_pools` the max-pool sizes of the scalar head. `bias` is the
    frozen Tn5 bias network's config (one task, no scalar head, same input length), or
    None for a model trained without one (and for a bias network itself).
    """

    n_tasks: int = 90
    input_length: int = 998
    output_length: int = 250
    filters: int = 300
    n_blocks: int = 9
    stem_kernel: int = 25
    block_kernel: int = 3
    profile_kernel: int = 25
    stem_activation: str = "relu"
    scalar_head: bool = True
    scalar_pools: tuple[int, ...] = (5, 5, 5)
    scalar_kernel: int = 3
    bias: BpAiTacConfig | None = None

    def __post_init__(self) -> None:
        if isinstance(self.scalar_pools, list):
            object.__setattr__(self, "scalar_pools", tuple(self.scalar_pools))
        if isinstance(self.bias, Mapping):
            object.__setattr__(self, "bias", BpAiTacConfig.from_dict(self.bias))
        checks = [
            (self.n_tasks >= 1, f"n_tasks must be >= 1, got {self.n_tasks}"),
            (self.filters >= 1 and self.n_blocks >= 0, "filters must be >= 1, n_blocks >= 0"),
            (
                0 < self.output_length <= self.input_length,
                f"output_length {self.output_length} must be in 1..input_length "
                f"({self.input_length})",
            ),
            (
                self.stem_activation in STEM_ACTIVATIONS,
                f"stem_activation must be one of {', '.join(STEM_ACTIVATIONS)}",
            ),
            (
                all(k % 2 == 1 for k in (self.stem_kernel, self.block_kernel, self.profile_kernel)),
                "convolution kernels must be odd",
            ),
            (all(p >= 1 for p in self.scalar_pools), "scalar_pools must be >= 1"),
        ]
        for ok, what in checks:
            if not ok:
                raise ValueError(what)
        if self.scalar_head and self.scalar_length < 1:
            msg = (
                f"input_length {self.input_length} is too short for scalar_pools "
                f"{list(self.scalar_pools)}"
            )
            raise ValueError(msg)
        if self.bias is not None:
            b = self.bias
            if b.n_tasks != 1 or b.scalar_head or b.bias is not None:
                msg = "the bias network must have one task, no scalar head and no bias itself"
                raise ValueError(msg)
            if (b.input_length, b.output_length) != (self.input_length, self.output_length):
                msg = (
                    f"the Tn5 bias network maps {b.input_length} -> {b.output_length} bp but "
                    f"this model {self.input_length} -> {self.output_length} bp; train a bias "
                    "model of the same input length"
                )
                raise ValueError(msg)

    @property
    def n_strands(self) -> int:
        return 1

    @property
    def output_start(self) -> int:
        """First input position of the profile window."""
        return (self.input_length - self.output_length) // 2

    @property
    def scalar_length(self) -> int:
        """Positions left after the scalar head's pools (7 at 998 bp)."""
        length = self.input_length
        for p in self.scalar_pools:
            length //= p
        return length

    @property
    def dilations(self) -> tuple[int, ...]:
        return tuple(2 ** (i + 1) for i in range(self.n_blocks))

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["scalar_pools"] = list(self.scalar_pools)
        if self.bias is not None:
            out["bias"] = self.bias.to_dict()
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> BpAiTacConfig:
        values = dict(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            msg = f"unknown bpAI-TAC config field(s) {', '.join(unknown)}"
            raise ValueError(msg)
        return cls(**values)

    @classmethod
    def tn5_bias(cls, **fields: Any) -> BpAiTacConfig:
        """A Tn5 bias network's config: one task, no scalar head (other fields as given)."""
        return cls(**{**fields, "n_tasks": 1, "scalar_head": False, "bias": None})

    @classmethod
    def small(cls, **fields: Any) -> BpAiTacConfig:
        """A CPU-sized model: 32 filters, 5 blocks, 500-bp input (others as given)."""
        base = {"filters": 32, "n_blocks": 5, "input_length": 500}
        return cls(**{**base, **fields})


class BpAiTacOutput(NamedTuple):
    """``log_profile`` ``(b, T, L_out)``, ``counts`` ``(b, T)``, ``logits`` ``(b, T, L_out)``."""

    log_profile: torch.Tensor
    counts: torch.Tensor
    logits: torch.Tensor


class _ResBlock(nn.Module):
    def __init__(self, filters: int, kernel: int, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(filters, filters, kernel, padding="same", dilation=dilation)
        self.bn = nn.BatchNorm1d(filters)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.relu(self.bn(self.conv(x)))


class _ScalarStage(nn.Module):
    def __init__(self, filters: int, kernel: int, pool: int) -> None:
        super().__init__()
        self.pool = nn.MaxPool1d(pool)
        self.conv = nn.Conv1d(filters, filters, kernel, padding="same")
        self.bn = nn.BatchNorm1d(filters)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(self.pool(x))))


class BpAiTac(nn.Module):
    """The bpAI-TAC network (module docstring); ``forward(x, bias_logits=None,
    with_bias=True) -> BpAiTacOutput``."""

    def __init__(self, config: BpAiTacConfig) -> None:
        super().__init__()
        self.config = c = config
        self.stem = nn.Conv1d(4, c.filters, c.stem_kernel, padding="same")
        self.stem_act = nn.ReLU() if c.stem_activation == "relu" else nn.Identity()
        self.blocks = nn.ModuleList(_ResBlock(c.filters, c.block_kernel, d) for d in c.dilations)
        self.profile = nn.Conv1d(c.filters, c.n_tasks, c.profile_kernel)
        if c.scalar_head:
            self.scalar = nn.Sequential(
                *(_ScalarStage(c.filters, c.scalar_kernel, p) for p in c.scalar_pools)
            )
            self.counts = nn.Linear(c.filters * c.scalar_length, c.n_tasks)
            self.counts_act = nn.ReLU()
        self.bias: BpAiTac | None = None
        if c.bias is not None:
            self.bias = BpAiTac(c.bias)
            self.bias.requires_grad_(requires_grad=False)
            self.bias.eval()

    def train(self, mode: bool = True) -> BpAiTac:
        super().train(mode)
        if self.bias is not None:
            self.bias.eval()  # frozen: its BatchNorm statistics never move
        return self

    def body(self, x: torch.Tensor) -> torch.Tensor:
        """``(b, 4, L) -> (b, filters, L)``: the stem and the residual blocks."""
        h = self.stem_act(self.stem(x))
        for block in self.blocks:
            h = block(h)
        return h

    def profile_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Body features ``(b, F, L)`` -> the profile logits ``(b, T, output_length)``.

        The same as a "same" convolution over the whole input cropped to the output
        window, computed on the window only.
        """
        c = self.config
        half = c.profile_kernel // 2
        lo, hi = c.output_start - half, c.output_start + c.output_length + half
        left, right = max(0, -lo), max(0, hi - h.shape[-1])
        part = h[..., max(lo, 0) : min(hi, h.shape[-1])]
        if left or right:
            part = F.pad(part, (left, right))
        return self.profile(part)

    def bias_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The frozen bias network's logits on `x`: ``(b, output_length)`` (zeros without
        one)."""
        c = self.config
        if self.bias is None:
            return x.new_zeros(x.shape[0], c.output_length)
        return self.bias.profile_logits(self.bias.body(x))[:, 0]

    def predict_counts(self, h: torch.Tensor) -> torch.Tensor:
        """Body features -> counts ``(b, T)`` (zeros for a network without a scalar head)."""
        if not self.config.scalar_head:
            return h.new_zeros(h.shape[0], self.config.n_tasks)
        return self.counts_act(self.counts(self.scalar(h).flatten(1)))

    def forward(
        self,
        x: torch.Tensor,
        bias_logits: torch.Tensor | None = None,
        *,
        with_bias: bool = True,
    ) -> BpAiTacOutput:
        h = self.body(x)
        logits = self.profile_logits(h)
        if with_bias:
            b = self.bias_logits(x) if bias_logits is None else bias_logits
            shifted = logits + b.to(logits.dtype)[:, None, :]
        else:
            shifted = logits
        return BpAiTacOutput(torch.log_softmax(shifted, dim=-1), self.predict_counts(h), logits)


def count_parameters(model: nn.Module, *, trainable: bool = True) -> int:
    """Number of (trainable) parameters of `model` (BatchNorm running statistics are
    buffers, not parameters)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable)
