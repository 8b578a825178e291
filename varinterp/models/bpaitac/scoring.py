"""What bpAI-TAC gives the registry: its outputs, its forward pass, its attribution twin.

A bpAI-TAC model predicts, per cell type (a task), the Tn5 insertion profile over its
output window (one strand: insertions are not stranded) and the insertion count there.
Scoring a variant (`varinterp.effects.frame.score_frame`, ``varinterp score``) runs the
REF and the ALT window through `predict`, which computes the Tn5 bias logits of each
window with the model's own frozen bias network, so the ALT allele's effect on Tn5's
preference is in the ALT prediction; no second model is needed. The per-cell-type scores
come out one row per variant and cell type (``task`` column): ``log2fc`` of the counts
and ``profile_jsd`` of the profiles among them.

`explainable` is the twin that attributions run (``varinterp attribute``): the same
weights with the bias zeroed, as the paper's attributions and footprints are made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from varinterp.models.bpaitac.network import BpAiTac, BpAiTacOutput
from varinterp.training.registry import OutputSpec

__all__ = ["NoBias", "explainable", "outputs", "predict", "task_names"]


def task_names(n_tasks: int, metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """``metadata["tasks"]`` when it names `n_tasks` tasks, else ``task0, task1, ...``."""
    names = metadata.get("tasks")
    if names and len(names) == n_tasks:
        return tuple(str(x) for x in names)
    if n_tasks == 1:
        return ("",)
    return tuple(f"task{i}" for i in range(n_tasks))


def outputs(config: Any, metadata: Mapping[str, Any]) -> OutputSpec:
    """The `OutputSpec`: one task per cell type, one strand, counts of insertions."""
    return OutputSpec(
        input_length=int(config.input_length),
        output_length=int(config.output_length),
        n_strands=1,
        tasks=task_names(int(config.n_tasks), metadata),
        quantity="insertions",
    )


def predict(
    model: nn.Module, x: torch.Tensor, context: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(profile (b, T, 1, L) probabilities, counts (b, T))`` of one-hot ``x``."""
    del context
    out: BpAiTacOutput = model(x)
    return out.log_profile.exp()[:, :, None, :], out.counts


class NoBias(nn.Module):
    """A `BpAiTac` run with its Tn5 bias zeroed (``forward(x) -> BpAiTacOutput``)."""

    def __init__(self, net: BpAiTac) -> None:
        super().__init__()
        self.net = net
        self.config = net.config

    def forward(self, x: torch.Tensor, bias_logits: torch.Tensor | None = None) -> BpAiTacOutput:
        del bias_logits
        return self.net(x, with_bias=False)


def explainable(model: nn.Module) -> nn.Module:
    """`NoBias` of a `BpAiTac` (its activations and pools are modules already)."""
    return NoBias(model) if isinstance(model, BpAiTac) else model
