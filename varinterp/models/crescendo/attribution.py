"""DeepLIFT of a gene's predicted expression with respect to each cell's accessibility.

For one gene the sequence side of the model is fixed: its token weights ``W`` ``(H, L)``
(promoter column first) follow from the peaks' embeddings alone. What varies from cell
to cell is the normalised predicted accessibility ``a`` ``(L,)`` of the gene's tokens,
and the gene's predicted z-score in a cell is

    f(a) = v_g . decoder(mlp(W a))

with ``v_g`` the gene's PCA loadings. `GeneFunction` is that function as a module of
``nn.Linear`` and ``nn.ReLU`` layers (the two last linear maps folded into one; dropout is
off in evaluation), so captum's ``DeepLift`` (the rescale rule) attributes ``f(a) -
f(baseline)`` to the ``L`` tokens exactly: the attributions of a cell sum to that
difference (`deeplift_gene` reports the largest deviation, the convergence delta).

The baseline is the published one: the accessibility vector of the cell with the lowest
predicted expression of the gene, for every cell. Cells are attributed in chunks
(``chunk_cells``, 1,000 as published), in float64 by default.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.models.crescendo.network import Crescendo

__all__ = ["GeneAttribution", "GeneFunction", "deeplift_gene"]


class GeneFunction(nn.Module):
    """``f(a)``: accessibility ``(N, L)`` -> predicted z-score ``(N,)`` of one gene."""

    def __init__(self, model: Crescendo, gene: int) -> None:
        super().__init__()
        with torch.no_grad():
            tokens, mask, acc = model.gene_inputs(gene)
            weights = model.gene_model.weights(tokens, mask)[0]  # (H, L)
        h, length = weights.shape
        gm = model.gene_model
        self.mix = nn.Linear(length, h, bias=False)
        self.fc1, self.relu1, self.fc2 = _copy(gm.mlp[0]), nn.ReLU(), _copy(gm.mlp[3])
        self.fc3, self.relu2 = _copy(gm.decoder[0]), nn.ReLU()
        last = gm.decoder[3]
        loading = model.pca_loadings[gene]
        self.out = nn.Linear(last.in_features, 1)
        with torch.no_grad():
            self.mix.weight.copy_(weights)
            self.out.weight.copy_((loading @ last.weight)[None])
            self.out.bias.copy_((loading @ last.bias)[None])
        self.register_buffer("accessibility", acc.detach().clone())
        self.to(weights.device)
        self.eval()

    def forward(self, acc: torch.Tensor) -> torch.Tensor:
        h = self.fc2(self.relu1(self.fc1(self.mix(acc))))
        return self.out(self.relu2(self.fc3(h))).squeeze(-1)


def _copy(layer: nn.Linear) -> nn.Linear:
    new = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    new.load_state_dict(layer.state_dict())
    return new


@dataclass
class GeneAttribution:
    """One gene's DeepLIFT result: ``activity`` ``(C, L) float32`` (per cell and token),
    ``accessibility`` ``(C, L) float32`` (the normalised input), ``prediction`` ``(C,)``
    (predicted z-score), ``baseline_cell`` (index), ``max_delta`` (the largest
    ``|sum(activity of a cell) - (f(a) - f(baseline))|``)."""

    activity: np.ndarray
    accessibility: np.ndarray
    prediction: np.ndarray
    baseline_cell: int
    max_delta: float


def deeplift_gene(
    model: Crescendo, gene: int, *, chunk_cells: int = 1000, dtype: torch.dtype = torch.float64
) -> GeneAttribution:
    """DeepLIFT of `gene`'s predicted expression in every cell (module docstring)."""
    from captum.attr import DeepLift

    f = GeneFunction(model, gene).to(dtype)
    acc = f.accessibility.to(dtype)
    n = acc.shape[0]
    with torch.no_grad():
        pred = torch.cat([f(acc[lo : lo + chunk_cells]) for lo in range(0, n, chunk_cells)])
    base_cell = int(torch.argmin(pred))
    base = acc[base_cell : base_cell + 1]
    parts, worst = [], 0.0
    dl = DeepLift(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # captum's notes on hooks and on reused modules
        for lo in range(0, n, chunk_cells):
            x = acc[lo : lo + chunk_cells].clone().requires_grad_()
            attr, delta = dl.attribute(
                x, baselines=base.expand_as(x), return_convergence_delta=True
            )
            parts.append(attr.detach())
            worst = max(worst, float(delta.abs().max()))
    return GeneAttribution(
        activity=torch.cat(parts).float().cpu().numpy(),
        accessibility=acc.float().cpu().numpy(),
        prediction=pred.float().cpu().numpy(),
        baseline_cell=base_cell,
        max_delta=worst,
    )
