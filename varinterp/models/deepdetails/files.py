"""One DeepDETAILS model in a model directory (`varinterp.training.modeldir`).

`save_model` writes a one-member directory (member ``model``, so the weights are
``model.safetensors`` as in the previous release); `load_model` builds the module of a
one-member directory, in this format or in the previous release's. Several members
(replicate runs) load as an ensemble with `varinterp.training.inference.load_model`.
Loading never runs code from the directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.training.devices import resolve_device
from varinterp.training.modeldir import load_member, read_model_dir, save_model_dir

__all__ = ["ARCHITECTURE_NAME", "CONFIG_NAME", "MEMBER", "WEIGHTS_NAME", "load_model", "save_model"]

ARCHITECTURE_NAME = "deepdetails"
MEMBER = "model"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = f"{MEMBER}.safetensors"


def save_model(
    model: nn.Module,
    directory: str | os.PathLike,
    *,
    extra: Mapping[str, Any] | None = None,
    card: str | None = None,
) -> Path:
    """Write `model` (its config and weights) as the member ``model`` of `directory`.

    `extra` is the directory's metadata (``cell_types`` also becomes ``tasks``); an
    existing directory is replaced atomically.
    """
    metadata = dict(extra or {})
    if "cell_types" in metadata:
        metadata.setdefault("tasks", list(metadata["cell_types"]))
    return save_model_dir(
        directory,
        config=model.config,
        folds={MEMBER: model},
        metadata=metadata,
        card=card,
        overwrite=True,
    )


def load_model(
    directory: str | os.PathLike, *, device: str | torch.device = "cpu", member: str | None = None
) -> nn.Module:
    """The DeepDETAILS module of `directory` (its only member, or `member`), eval mode."""
    model_dir = read_model_dir(directory, architecture=ARCHITECTURE_NAME)
    if member is None:
        if len(model_dir.folds) != 1:
            msg = (
                f"{directory} holds {len(model_dir.folds)} models ({', '.join(model_dir.folds)});"
                " name one, or load them all with varinterp.training.inference.load_model"
            )
            raise InputError(msg)
        member = model_dir.folds[0]
    return load_member(model_dir, member, device=resolve_device(device))
