"""Model families: one folder per architecture, each trained by the one engine.

A family folder holds its config and network, loss, data and batches, the task adapter
the engine (`varinterp.training.engine`) trains through, its recipes (train, finetune,
evaluate) and its model-card template, and exposes an ``ARCHITECTURE``
(`varinterp.training.registry.Architecture`) that ``pyproject.toml`` registers under the
``varinterp.architectures`` entry point. Families:

- `varinterp.models.clipnet`: CLIPNET, base-resolution transcription initiation
  (PRO-cap) from 1 kb of personal sequence;
- `varinterp.models.deepdetails`: DeepDETAILS, deconvolution of a bulk track into
  cell-type tracks with accessibility;
- `varinterp.models.crescendo`: cREscENDO, per-cell cis-regulatory element activity
  from 10x multiome RNA + ATAC.
- `varinterp.models.bpaitac`: bpAI-TAC, base-resolution Tn5 insertion profiles and
  counts of many cell types, with a frozen Tn5 bias network.

`train`, `finetune` and `evaluate` call a family's recipe by name (the family's
``ARCHITECTURE.recipes``), so ``varinterp.train(family="deepdetails", ...)`` and a
plug-in family's recipes are reached the same way.
"""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate", "finetune", "train"]


def _recipe(family: str, use: str):
    from varinterp.training.registry import get_architecture

    return get_architecture(family).recipe(use)


def train(*, family: str = "clipnet", **kwargs: Any) -> Any:
    """Train a model of `family` with the family's own recipe; keyword arguments are the
    recipe's (``clipnet``: `varinterp.models.clipnet.train.train_clipnet`; ``deepdetails``:
    `varinterp.models.deepdetails.train.train_deconv`; ``bpaitac``:
    `varinterp.models.bpaitac.train.train_bpaitac`)."""
    return _recipe(family, "train")(**kwargs)


def finetune(*, family: str = "clipnet", **kwargs: Any) -> Any:
    """Fine-tune a trained model directory with `family`'s recipe
    (``clipnet``: `varinterp.models.clipnet.finetune.finetune_clipnet`)."""
    return _recipe(family, "finetune")(**kwargs)


def evaluate(*, family: str = "clipnet", **kwargs: Any) -> Any:
    """Evaluate a model directory with `family`'s recipe
    (``clipnet``: `varinterp.models.clipnet.evaluate.evaluate_clipnet`)."""
    return _recipe(family, "evaluate")(**kwargs)
