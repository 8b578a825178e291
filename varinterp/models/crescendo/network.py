"""The cREscENDO networks: the scBasset-style peak encoder and the per-gene model.

**Peak encoder** (`PeakEncoder`): a one-hot peak ``(batch, 4, 1344)`` (channels A, C, G,
T; the central 1,344 bp of a 1,500-bp window on the peak centre) goes through

    GELU -> Conv(4 -> t0, k=17) -> BN -> MaxPool 3
    6 x [GELU -> Conv(k=5) -> BN -> MaxPool 2]   channels t1..t6
    GELU -> Conv 1x1 (-> bottleneck) -> BN -> GELU
    flatten (bottleneck x 7) -> Linear (-> 32, no bias) -> BN -> Dropout 0.2 -> GELU

to the **32-d peak embedding**, and a per-cell head ``Linear(32 -> n_cells)`` to the
logits of the peak being accessible in each cell (sigmoid = the predicted accessibility).
The published tower is t = (288, 288, 323, 363, 407, 456, 512), bottleneck 256;
convolutions have no bias; BatchNorm eps 1e-3, momentum 0.01 (PyTorch's convention);
convolutions, the embedding layer and the head start Kaiming-normal (fan-in, ReLU gain).
The first GELU acts on the one-hot input itself, as published.

**Per-gene model** (`GeneModel`): a gene's tokens are its promoter peak (token 0) and its
distal peaks within 300 kb in coordinate order, each with features ``[embedding (32),
(peak centre - TSS) / 3e5]``. With ``H`` = `n_scores` (512):

- the promoter's query ``q = prom_q(e_promoter)`` reshaped ``(H, 32)``; each token's key
  ``k_l = key([e_l, d_l])`` reshaped ``(H, 32)``; scores ``s[h, l] = q[h] . k_l[h]``;
- the scores of the distal tokens are normalised per score ``h`` over the gene's distal
  peaks (mean 0, variance 1, no affine; padding excluded); no softmax;
- the promoter's weight per score is ``prom_w(q[h])`` (a ``Linear(32 -> 1)``);
- per cell ``c``: ``z[h] = sum_l s[h, l] a[l, c] + prom_w[h] a[0, c]`` with ``a`` the
  predicted accessibility, L2-normalised per peak over all cells;
- ``z -> Linear(H, 128) -> ReLU -> Dropout 0.25 -> Linear(128, 64)`` (`mlp`) ``->
  Linear(64, 5120) -> ReLU -> Dropout 0.25 -> Linear(5120, n_pcs)`` (`decoder`): the
  cell's coordinates in the PCA space of the training cells' RNA.

A gene's predicted expression in a cell (its per-gene z-score of log1p normalised
counts) is those coordinates times the gene's PCA loadings.

`Crescendo` holds both networks and, as buffers, what scoring and attribution need from
the data: the PCA loadings, each gene's tokens and distances, the peaks' coordinates and
cached embeddings, each cell's type and each gene's log1p mean and standard deviation.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError

__all__ = [
    "PRESETS",
    "Crescendo",
    "CrescendoConfig",
    "GeneModel",
    "PeakEncoder",
    "describe_sizes",
    "masked_score_norm",
    "tower_output_length",
]

PUBLISHED_TOWER = (288, 288, 323, 363, 407, 456, 512)
#: Architecture presets: ``published`` (the paper's sizes) and ``small`` (a tower of 32-52
#: channels, bottleneck 32, 128 scores, a 512-wide decoder: about 1/50 of the published
#: encoder's compute, the CPU size of the simulated benchmarks).
PRESETS: dict[str, dict[str, Any]] = {
    "published": {},
    "small": {
        "tower": (32, 32, 36, 40, 44, 48, 52),
        "bottleneck": 32,
        "n_scores": 128,
        "decoder_width": 512,
    },
}


def tower_output_length(input_length: int, n_blocks: int) -> int:
    """Positions left after the first MaxPool 3 and `n_blocks` MaxPool 2 layers."""
    length = input_length // 3
    for _ in range(n_blocks):
        length //= 2
    return length


@dataclass(frozen=True)
class CrescendoConfig:
    """The sizes of a cREscENDO model (module docstring); saved in ``config.json``.

    `n_cells`, `n_genes`, `n_peaks`, `max_tokens` and `n_cell_types` come from the data
    (`max_tokens` counts the promoter); the rest are architecture choices (`PRESETS`).
    """

    n_cells: int
    n_genes: int
    n_peaks: int
    max_tokens: int
    n_cell_types: int = 1
    n_chroms: int = 1
    n_pcs: int = 50
    input_length: int = 1344
    window_length: int = 1500
    tower: tuple[int, ...] = PUBLISHED_TOWER
    first_kernel: int = 17
    kernel: int = 5
    bottleneck: int = 256
    embed_dim: int = 32
    embed_dropout: float = 0.2
    n_scores: int = 512
    hidden: tuple[int, int] = (128, 64)
    decoder_width: int = 5120
    dropout: float = 0.25
    distance_scale: float = 300_000.0
    bn_eps: float = 1e-3
    bn_momentum: float = 0.01
    output_length: int = 1
    n_strands: int = 1

    def __post_init__(self) -> None:
        checks = [
            (min(self.n_cells, self.n_genes, self.n_peaks) >= 1, "n_cells, n_genes, n_peaks >= 1"),
            (self.max_tokens >= 2, "max_tokens must be >= 2 (a promoter and a distal peak)"),
            (len(self.tower) >= 2, "tower needs at least two convolution widths"),
            (
                tower_output_length(self.input_length, len(self.tower) - 1) >= 1,
                "input_length is too short for the tower",
            ),
            (self.window_length >= self.input_length, "window_length must be >= input_length"),
            (self.n_pcs >= 1 and self.n_scores >= 1, "n_pcs and n_scores must be >= 1"),
            (0 <= self.dropout < 1 and 0 <= self.embed_dropout < 1, "dropouts in [0, 1)"),
        ]
        for ok, what in checks:
            if not ok:
                raise ValueError(what)

    @property
    def flat_length(self) -> int:
        return tower_output_length(self.input_length, len(self.tower) - 1)

    @property
    def crop_start(self) -> int:
        """Where the scored 1,344 bp start inside the 1,500-bp window (78)."""
        return (self.window_length - self.input_length) // 2

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CrescendoConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        extra = sorted(set(values) - known)
        if extra:
            raise TypeError(f"unknown config field(s) {extra}")
        v = dict(values)
        for key in ("tower", "hidden"):
            if key in v:
                v[key] = tuple(int(x) for x in v[key])
        return cls(**v)


def _bn(n: int, c: CrescendoConfig) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(n, eps=c.bn_eps, momentum=c.bn_momentum)


class PeakEncoder(nn.Module):
    """Sequence -> 32-d embedding -> per-cell accessibility logits (module docstring)."""

    def __init__(self, config: CrescendoConfig) -> None:
        super().__init__()
        self.config = config
        t = config.tower
        layers: list[nn.Module] = [
            nn.GELU(),
            nn.Conv1d(4, t[0], config.first_kernel, padding=config.first_kernel // 2, bias=False),
            _bn(t[0], config),
            nn.MaxPool1d(3),
        ]
        for a, b in itertools.pairwise(t):
            layers += [
                nn.GELU(),
                nn.Conv1d(a, b, config.kernel, padding=config.kernel // 2, bias=False),
                _bn(b, config),
                nn.MaxPool1d(2),
            ]
        layers += [
            nn.GELU(),
            nn.Conv1d(t[-1], config.bottleneck, 1, bias=False),
            _bn(config.bottleneck, config),
            nn.GELU(),
        ]
        self.tower = nn.Sequential(*layers)
        self.embed = nn.Sequential(
            nn.Linear(config.bottleneck * config.flat_length, config.embed_dim, bias=False),
            _bn(config.embed_dim, config),
            nn.Dropout(config.embed_dropout),
            nn.GELU(),
        )
        self.head = nn.Linear(config.embed_dim, config.n_cells)
        for m in [*self.tower, self.embed[0], self.head]:
            if isinstance(m, nn.Conv1d | nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")

    def embedding(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(b, 4, input_length)`` one-hot -> ``(b, embed_dim)``."""
        return self.embed(self.tower(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Accessibility logits ``(b, n_cells)``."""
        return self.head(self.embedding(x))


def masked_score_norm(scores: torch.Tensor, mask: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Normalise ``scores`` ``(b, H, L)`` over the positions where ``mask`` ``(b, L)`` is
    True (mean 0, variance 1, biased, per ``b`` and ``h``); 0 elsewhere."""
    m = mask[:, None, :].to(scores.dtype)
    n = m.sum(-1, keepdim=True).clamp_min(1.0)
    mean = (scores * m).sum(-1, keepdim=True) / n
    var = (((scores - mean) * m) ** 2).sum(-1, keepdim=True) / n
    return (scores - mean) / torch.sqrt(var + eps) * m


class GeneModel(nn.Module):
    """Tokens + per-cell accessibility -> PCA coordinates per cell (module docstring)."""

    def __init__(self, config: CrescendoConfig) -> None:
        super().__init__()
        self.config = config
        e, h = config.embed_dim, config.n_scores
        self.prom_q = nn.Linear(e, e * h)
        self.prom_w = nn.Linear(e, 1)
        self.key = nn.Linear(e + 1, e * h)
        h1, h2 = config.hidden
        self.mlp = nn.Sequential(
            nn.Linear(h, h1), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(h1, h2)
        )
        self.decoder = nn.Sequential(
            nn.Linear(h2, config.decoder_width),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.decoder_width, config.n_pcs),
        )

    def weights(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The per-score weight of every token: ``(b, H, L)``; column 0 is the promoter's
        weight, the distal columns the normalised scores, padding 0.

        ``tokens`` ``(b, L, embed_dim + 1)`` (embedding, scaled distance; token 0 the
        promoter), ``mask`` ``(b, L)`` bool (True for real tokens).
        """
        b, length, _ = tokens.shape
        e, h = self.config.embed_dim, self.config.n_scores
        q = self.prom_q(tokens[:, 0, :e]).view(b, h, e)
        k = self.key(tokens).view(b, length, h, e)
        scores = torch.einsum("bhe,blhe->bhl", q, k)
        distal = mask.clone()
        distal[:, 0] = False
        w = masked_score_norm(scores, distal)
        prom = self.prom_w(q).squeeze(-1)  # (b, H)
        return torch.cat([prom[:, :, None], w[:, :, 1:]], dim=2)

    def from_features(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` ``(..., H)`` -> PCA coordinates ``(..., n_pcs)``."""
        return self.decoder(self.mlp(z))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor, acc: torch.Tensor) -> torch.Tensor:
        """PCA coordinates ``(b, C, n_pcs)`` of ``C`` cells; ``acc`` ``(b, C, L)`` is the
        normalised predicted accessibility of each token in each cell (0 at padding)."""
        w = self.weights(tokens, mask)
        return self.from_features(torch.einsum("bhl,bcl->bch", w, acc))


class Crescendo(nn.Module):
    """The trained pair plus the data it needs for scoring and attribution (module
    docstring). Buffers (all saved with the weights):

    - ``pca_loadings`` ``(n_genes, n_pcs)``; ``gene_mean``, ``gene_sd`` ``(n_genes,)`` (log1p
      normalised expression over the cells, to undo the z-score);
    - ``token_peaks`` ``(n_genes, max_tokens) int64`` (-1 = padding; token 0 the promoter),
      ``token_distance`` ``(n_genes, max_tokens)`` (scaled by 3e5);
    - ``peak_coords`` ``(n_peaks, 3) int64`` (contig index, start, end),
      ``peak_embedding`` ``(n_peaks, embed_dim)`` (eval mode, cached after training),
      ``peak_norm`` ``(n_peaks,)`` (L2 norm of each peak's predicted accessibility);
    - ``cell_type`` ``(n_cells,) int64`` (index into the cell types).
    """

    def __init__(self, config: CrescendoConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = PeakEncoder(config)
        self.gene_model = GeneModel(config)
        c = config
        self.register_buffer("pca_loadings", torch.zeros(c.n_genes, c.n_pcs))
        self.register_buffer("gene_mean", torch.zeros(c.n_genes))
        self.register_buffer("gene_sd", torch.ones(c.n_genes))
        self.register_buffer("token_peaks", torch.full((c.n_genes, c.max_tokens), -1))
        self.register_buffer("token_distance", torch.zeros(c.n_genes, c.max_tokens))
        self.register_buffer("peak_coords", torch.zeros(c.n_peaks, 3, dtype=torch.int64))
        self.register_buffer("peak_embedding", torch.zeros(c.n_peaks, c.embed_dim))
        self.register_buffer("peak_norm", torch.ones(c.n_peaks))
        self.register_buffer("cell_type", torch.zeros(c.n_cells, dtype=torch.int64))

    def accessibility(self, embedding: torch.Tensor) -> torch.Tensor:
        """Predicted accessibility ``(m, n_cells)`` in [0, 1] of peaks with `embedding`."""
        return torch.sigmoid(self.encoder.head(embedding))

    def gene_inputs(
        self,
        gene: int,
        embedding: torch.Tensor | None = None,
        norm: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One gene's ``tokens`` ``(1, L, E + 1)``, ``mask`` ``(1, L)`` and normalised
        accessibility ``(n_cells, L)`` (``L`` = its token count), from the cached peak
        embeddings or `embedding` / `norm` (``(n_peaks, E)``, ``(n_peaks,)``) when given."""
        emb = self.peak_embedding if embedding is None else embedding
        nrm = self.peak_norm if norm is None else norm
        idx = self.token_peaks[gene]
        idx = idx[idx >= 0]
        if idx.numel() < 2:
            raise InputError(f"gene index {gene} has no tokens in this model")
        dist = self.token_distance[gene, : idx.numel()]
        tokens = torch.cat([emb[idx], dist[:, None]], dim=1)[None]
        mask = torch.ones(1, idx.numel(), dtype=torch.bool, device=tokens.device)
        acc = self.accessibility(emb[idx]) / nrm[idx][:, None]
        return tokens, mask, acc.T

    def gene_expression(self, gene: int, acc: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Predicted z-score ``(C,)`` of `gene` in cells with accessibility ``acc``
        ``(C, L)`` given its token weights ``(H, L)``."""
        coords = self.gene_model.from_features(acc @ weights.T)
        return coords @ self.pca_loadings[gene]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-cell accessibility logits ``(b, n_cells)`` of one-hot peaks ``x``."""
        return self.encoder(x)


def describe_sizes(config: CrescendoConfig) -> dict[str, int]:
    """Parameter counts of the encoder (without its per-cell head), the head and the gene
    model, for the model card."""
    enc = PeakEncoder(config)
    gene = GeneModel(config)
    head = sum(p.numel() for p in enc.head.parameters())
    return {
        "encoder": sum(p.numel() for p in enc.parameters()) - head,
        "encoder_head": head,
        "gene_model": sum(p.numel() for p in gene.parameters()),
    }
