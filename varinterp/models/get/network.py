"""GET's network: region embedding, a pre-LayerNorm transformer over regions, two heads.

Input ``x`` ``(batch, n_regions, n_features) float``: per region the normalised motif
cluster scores then the accessibility column (`varinterp.motifs.features`). Layers:

- region embedding: ``Linear(n_features -> d_model)`` -> ``(b, R, D)``;
- CLS: a learned token prepended (+ a learned position embedding with ``positional``)
  -> ``(b, R + 1, D)``;
- encoder: ``n_layers`` blocks ``z + DropPath(MHA(LN(z)))`` then ``z + DropPath(FFN(LN(z)))``,
  FFN ``Linear(D, 4D) -> GELU -> Linear(4D, D)``; attention ``qkv`` without bias plus
  learned q and v biases; LayerNorm eps 1e-6; drop-path rising linearly 0 ->
  ``drop_path`` over the blocks;
- final LayerNorm, CLS dropped -> ``(b, R, D)``;
- expression head: ``Linear(D -> 2)`` initialised x ``head_init_scale``, softplus ->
  ``(b, R, 2)`` (plus strand first);
- pretraining head: masked regions replaced by a learned mask token before the encoder;
  ``Linear(D -> n_features)`` -> ``(b, R, n_features)``.

No positional encoding by default (the published model); ``positional=True`` adds a
learned embedding per position (the published positional variant). At the default widths
(282 clusters + accessibility, D 768, 12 layers, 12 heads) the expression model has
85,267,202 parameters (`expression_parameter_count`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from varinterp.errors import InputError

__all__ = ["Get", "GetConfig", "expression_parameter_count"]


@dataclass(frozen=True)
class GetConfig:
    """GET's widths and options (saved in ``config.json``)."""

    n_features: int = 283
    n_regions: int = 200
    d_model: int = 768
    n_layers: int = 12
    n_heads: int = 12
    mlp_ratio: float = 4.0
    drop_path: float = 0.1
    dropout: float = 0.0
    ln_eps: float = 1e-6
    positional: bool = False
    head_init_scale: float = 0.001
    n_strands: int = 2

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            msg = f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}"
            raise InputError(msg)
        if self.n_features < 2 or self.n_regions < 1 or self.n_layers < 1:
            raise InputError("n_features >= 2, n_regions >= 1 and n_layers >= 1 are needed")

    @property
    def input_length(self) -> int:
        return self.n_regions

    @property
    def output_length(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GetConfig:
        return cls(**values)

    @classmethod
    def small(cls, n_features: int, n_regions: int = 64) -> GetConfig:
        """A CPU-sized GET (D 64, 3 layers, 4 heads) for benchmarks and tests."""
        return cls(
            n_features=n_features,
            n_regions=n_regions,
            d_model=64,
            n_layers=3,
            n_heads=4,
            drop_path=0.0,
        )


def expression_parameter_count(
    n_features: int, d: int, n_layers: int, mlp_ratio: float = 4.0, n_strands: int = 2
) -> int:
    """Parameters of the expression model, counted layer by layer (without the
    pretraining head and mask token)."""
    hidden = int(d * mlp_ratio)
    block = (
        2 * d + (3 * d * d + 2 * d) + (d * d + d) + 2 * d + (d * hidden + hidden) + (hidden * d + d)
    )
    return (n_features * d + d) + d + n_layers * block + 2 * d + (d * n_strands + n_strands)


class DropPath(nn.Module):
    """Stochastic depth: drop a whole residual branch per sample with probability `p`."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class Attention(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(d))
        self.v_bias = nn.Parameter(torch.zeros(d))
        self.proj = nn.Linear(d, d)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        drop = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, config: GetConfig, drop_path: float) -> None:
        super().__init__()
        d = config.d_model
        hidden = int(d * config.mlp_ratio)
        self.norm1 = nn.LayerNorm(d, eps=config.ln_eps)
        self.attn = Attention(d, config.n_heads, config.dropout)
        self.norm2 = nn.LayerNorm(d, eps=config.ln_eps)
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)
        self.drop = nn.Dropout(config.dropout)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.drop(self.attn(self.norm1(x))))
        h = self.fc2(self.drop(F.gelu(self.fc1(self.norm2(x)))))
        return x + self.drop_path(self.drop(h))


class Get(nn.Module):
    """GET (module docstring). ``forward(x) -> (b, R, 2)`` expression, ``pretrain(x, mask)
    -> (b, R, n_features)`` reconstructed features."""

    def __init__(self, config: GetConfig) -> None:
        super().__init__()
        self.config = config
        d = config.d_model
        self.region_embed = nn.Linear(config.n_features, d)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = (
            nn.Parameter(torch.zeros(1, config.n_regions + 1, d)) if config.positional else None
        )
        rates = torch.linspace(0, config.drop_path, config.n_layers).tolist()
        self.encoder = nn.ModuleList([Block(config, r) for r in rates])
        self.norm = nn.LayerNorm(d, eps=config.ln_eps)
        self.head_exp = nn.Linear(d, config.n_strands)
        self.head_mask = nn.Linear(d, config.n_features)
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        if self.pos_embed is not None:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        with torch.no_grad():
            self.head_exp.weight.mul_(self.config.head_init_scale)
            self.head_exp.bias.mul_(self.config.head_init_scale)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Region embeddings ``(b, R, D)`` of features ``(b, R, F)``."""
        return self.region_embed(x)

    def encode(self, e: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Encoder output ``(b, R, D)`` of region embeddings ``e``; regions where the
        boolean `mask` ``(b, R)`` is true are replaced by the mask token first."""
        if mask is not None:
            e = torch.where(mask[..., None], self.mask_token.to(e.dtype), e)
        z = torch.cat([self.cls_token.expand(e.shape[0], -1, -1).to(e.dtype), e], dim=1)
        if self.pos_embed is not None:
            z = z + self.pos_embed[:, : z.shape[1]].to(z.dtype)
        for block in self.encoder:
            z = block(z)
        return self.norm(z)[:, 1:]

    def expression_from_embedding(self, e: torch.Tensor) -> torch.Tensor:
        """Expression ``(b, R, 2)`` from region embeddings (for Jacobians w.r.t. them)."""
        return F.softplus(self.head_exp(self.encode(e)))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Expression ``(b, R, 2)``; with a `mask`, the pretraining output (`pretrain`)."""
        if mask is not None:
            return self.pretrain(x, mask)
        return self.expression_from_embedding(self.embed(x))

    def pretrain(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Reconstructed features ``(b, R, F)`` with the regions of `mask` hidden."""
        return self.head_mask(self.encode(self.embed(x), mask))

    #: layer-wise learning-rate decay of `parameter_groups` (a training choice, set by
    #: the recipe; not saved with the model)
    layer_decay: float = 0.75

    def parameter_groups(self, layer_decay: float | None = None) -> list[dict[str, Any]]:
        """Layer-wise learning-rate decay: the embedding (depth 0) at ``decay ** (L + 1)``,
        block ``i`` at ``decay ** (L - i)``, the final norm and heads at 1; biases, norms
        and tokens without weight decay."""
        layer_decay = self.layer_decay if layer_decay is None else layer_decay
        n = self.config.n_layers
        groups: dict[tuple[int, bool], list[nn.Parameter]] = {}
        for name, p in self.named_parameters():
            if name.startswith(("region_embed", "cls_token", "mask_token", "pos_embed")):
                depth = 0
            elif name.startswith("encoder."):
                depth = int(name.split(".")[1]) + 1
            else:
                depth = n + 1
            no_decay = p.ndim <= 1 or name.endswith(("token", "pos_embed", ".bias"))
            groups.setdefault((depth, no_decay), []).append(p)
        out = []
        for (depth, no_decay), params in sorted(groups.items()):
            group: dict[str, Any] = {"params": params, "lr_scale": layer_decay ** (n + 1 - depth)}
            if no_decay:
                group["weight_decay"] = 0.0
            out.append(group)
        return out
