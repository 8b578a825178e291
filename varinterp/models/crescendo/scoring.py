"""What cREscENDO gives the registry: its outputs and its forward pass on windows.

As a sequence model, a cREscENDO directory maps a one-hot 1,344-bp peak to its predicted
accessibility in each cell, averaged over the cells of each type: one task per cell
type, ``quantity`` = that mean (``accessibility``, in [0, 1]), and a 1-bp "profile"
holding the same value. Variants are not scored through windows centred on them but by
`varinterp.models.crescendo.variants.score_crescendo_variants` (the architecture's
``variant_scorer``): the ALT peak is re-embedded and every linked gene re-predicted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from varinterp.training.registry import OutputSpec

__all__ = ["outputs", "predict", "task_names", "type_means"]


def task_names(config: Any, metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """The cell types: ``metadata["cell_types"]`` when it has one per type, else
    ``ct0, ct1, ...``."""
    names = metadata.get("cell_types")
    if names and len(names) == int(config.n_cell_types):
        return tuple(str(x) for x in names)
    return tuple(f"ct{i}" for i in range(int(config.n_cell_types)))


def outputs(config: Any, metadata: Mapping[str, Any]) -> OutputSpec:
    """One task per cell type; the quantity is the mean predicted accessibility."""
    return OutputSpec(
        input_length=int(config.input_length),
        output_length=1,
        n_strands=1,
        tasks=task_names(config, metadata),
        quantity="accessibility",
        profile_is_track=True,
    )


def type_means(values: torch.Tensor, cell_type: torch.Tensor, n_types: int) -> torch.Tensor:
    """Means over the cells of each type: ``values`` ``(..., C)`` -> ``(..., n_types)``
    (NaN for a type without cells)."""
    one_hot = torch.nn.functional.one_hot(cell_type, n_types).to(values.dtype)
    counts = one_hot.sum(0)
    return (values @ one_hot) / counts


def predict(
    model: nn.Module, x: torch.Tensor, context: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` ``(b, 4, 1344)`` one-hot -> ``(profile (b, T, 1, 1), accessibility (b, T))``."""
    del context
    prob = torch.sigmoid(model.encoder(x).float())
    q = type_means(prob, model.cell_type, int(model.config.n_cell_types))
    return q[:, :, None, None], q
