"""Predict windows with modules in memory (no model directory): `predict_windows`.

A convenience over the one forward loop (`varinterp.training.inference`) for a list of
already built modules of one single-task architecture, such as fold models a notebook
just trained: their outputs are averaged, reverse-complement averaged by default, bf16
on CUDA. Modules whose config class is registered use their architecture's adapter;
others must follow CLIPNET's output pair ``(profile (b, S * L), quantity (b, 1))``.

`tracks` turns a profile and quantity into predicted tracks (profile scaled to sum to
the quantity), the form every effect score in `varinterp.effects.scores` uses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.progress import ProgressCallback
from varinterp.training import inference
from varinterp.training.inference import profile_tracks
from varinterp.training.registry import OutputSpec, architecture_for_module

__all__ = ["model_geometry", "predict_windows", "tracks"]

#: The predicted tracks of profiles and quantities (`profile_tracks`).
tracks = profile_tracks


def model_geometry(models: Sequence[nn.Module]) -> tuple[int, int, int]:
    """``(input_length, n_strands, output_length)`` shared by `models` (from ``.config``).

    Models of different geometry cannot be averaged and are an `InputError`.
    """
    if not models:
        msg = "no models given; pass at least one fold model"
        raise InputError(msg)
    shapes = set()
    for m in models:
        cfg = getattr(m, "config", None)
        if cfg is None:
            msg = f"model {type(m).__name__} has no .config with input/output lengths"
            raise InputError(msg)
        shapes.add((cfg.input_length, getattr(cfg, "n_strands", 2), cfg.output_length))
    if len(shapes) > 1:
        msg = f"the models differ in input/output geometry {sorted(shapes)}; use one model family"
        raise InputError(msg)
    return shapes.pop()


def predict_windows(
    models: Sequence[nn.Module],
    x: np.ndarray,
    *,
    rc_average: bool = True,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    bf16: bool = True,
    on_progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean prediction of single-task `models` on two-hot windows ``x`` ``(n, 4, L)``.

    The modules are put in eval mode but not moved (build them on `device`). Returns
    ``profile`` ``(n, n_strands, output_length) float32`` (plus, minus; genomic order;
    shape only) and ``quantity`` ``(n,) float32``. `on_progress` gets ``(done, n)``.
    """
    in_len, n_strands, out_len = model_geometry(models)
    arch = architecture_for_module(models[0])
    spec = OutputSpec(input_length=in_len, output_length=out_len, n_strands=n_strands)
    out = inference.predict_windows(
        list(models), arch, spec, x, rc_average=rc_average, batch_size=batch_size,
        device=device, bf16=bf16, on_progress=on_progress,
    )  # fmt: skip
    return out.task(0)
