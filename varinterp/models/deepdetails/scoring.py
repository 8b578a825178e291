"""What DeepDETAILS gives the registry: its outputs, its forward pass and its context.

A DeepDETAILS model predicts one track per cell type (a task) and strand, already on the
bulk's scale (``profile_is_track``); its quantity is that track's total. Besides the
one-hot sequence it needs each cell type's accessibility over the input window
(``acc``) and the scale function of the window (``scale``), which `read_context` reads
from the cell types' accessibility bigWigs for scoring.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.training.registry import OutputSpec

__all__ = ["CONTEXT", "outputs", "predict", "read_context", "task_names"]

#: The extra inputs of a DeepDETAILS model, besides the sequence.
CONTEXT = ("acc", "scale")


def task_names(n_cell_types: int, metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """Cell-type names: ``metadata["tasks"]``, else ``metadata["cell_types"]``, else
    ``ct0, ct1, ...`` (also when the stored list does not have `n_cell_types` names)."""
    for key in ("tasks", "cell_types"):
        names = metadata.get(key)
        if names and len(names) == n_cell_types:
            return tuple(str(x) for x in names)
    return tuple(f"ct{i}" for i in range(n_cell_types))


def outputs(config: Any, metadata: Mapping[str, Any]) -> OutputSpec:
    """The `OutputSpec` of a DeepDETAILS config: one task per cell type."""
    return OutputSpec(
        input_length=int(config.input_length),
        output_length=int(config.output_length),
        n_strands=int(config.n_strands),
        tasks=task_names(int(config.n_cell_types), metadata),
        quantity="counts",
        profile_is_track=True,
        context=CONTEXT,
    )


def predict(
    model: nn.Module, x: torch.Tensor, context: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(prediction (b, K, S, L), its total over strands and positions (b, K))``.

    `x` ``(b, 4, input_length)`` one-hot; `context` holds ``acc`` ``(b, K, input_length)``
    and ``scale`` ``(b, K)``.
    """
    prediction = model(x, context["acc"], context["scale"]).prediction
    return prediction, prediction.sum(dim=(2, 3))


def _library_sizes(option: Any, names: Sequence[str], files: Mapping[str, Any]) -> np.ndarray:
    if option is None:
        return np.array([files[c].total() for c in names], dtype=np.float64)
    sizes = option
    if isinstance(option, str | os.PathLike):
        from varinterp.deconv.prep import read_library_sizes

        sizes = read_library_sizes(option)
    missing = [c for c in names if c not in sizes]
    if missing:
        msg = f"library sizes are missing for cell types {missing}; give one per cell type"
        raise InputError(msg)
    out = np.array([float(sizes[c]) for c in names], dtype=np.float64)
    if not np.all(out > 0):
        msg = f"library sizes must be positive, got {dict(zip(names, out.tolist(), strict=True))}"
        raise InputError(msg)
    return out


def read_context(
    *,
    tracks: Mapping[str, str | os.PathLike],
    options: Mapping[str, Any] | None = None,
    chroms: Sequence[str] | np.ndarray,
    starts: Sequence[int] | np.ndarray,
    spec: OutputSpec,
) -> dict[str, np.ndarray]:
    """Accessibility and scale of windows ``chroms[i]:starts[i]+input_length``.

    `tracks` maps each cell type (`spec.tasks`) to its accessibility bigWig (absolute
    values are read; positions past a contig end are 0). ``options["library_sizes"]``
    is a cell type -> library size mapping or a ``library_sizes.tsv`` (cell_type,
    n_fragments), by default each bigWig's total signal (as ``deconvolve prep``).
    ``options["contributions"]`` (K values) and ``options["exponent"]`` give the bulk's
    response the model was trained with (its directory's metadata records them;
    `varinterp.deconv.contributions`); without them the scale is the reference's.
    Returns ``acc`` ``(n, K, input_length) float32`` and ``scale`` ``(n, K) float32``
    (`varinterp.deconv.baselines.window_scale` over the output window).
    """
    from varinterp.deconv.baselines import window_scale
    from varinterp.io.bigwig import BigWig

    options = dict(options or {})
    names = list(spec.tasks)
    missing = [c for c in names if c not in tracks]
    if missing:
        msg = (
            f"the DeepDETAILS model needs an accessibility bigWig per cell type; missing "
            f"{', '.join(missing)} (it has cell types {', '.join(names)})"
        )
        raise InputError(msg)
    chroms = np.asarray(chroms).astype(str)
    starts = np.asarray(starts, dtype=np.int64)
    if chroms.shape != starts.shape or chroms.ndim != 1:
        msg = f"one contig per window start is needed; got {chroms.shape} and {starts.shape}"
        raise InputError(msg)
    length = spec.input_length
    acc = np.zeros((starts.size, len(names), length), dtype=np.float32)
    files = {c: BigWig(tracks[c], absolute=True) for c in names}
    try:
        for k, c in enumerate(names):
            for i in range(starts.size):
                acc[i, k] = files[c].values(chroms[i], int(starts[i]), int(starts[i]) + length)
        sizes = _library_sizes(options.get("library_sizes"), names, files)
    finally:
        for f in files.values():
            f.close()
    scale = window_scale(
        acc,
        1e6 / sizes,
        center=spec.output_length,
        contributions=options.get("contributions"),
        exponent=float(options.get("exponent", 1.0)),
    )
    return {"acc": acc, "scale": scale}
