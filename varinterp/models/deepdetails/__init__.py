"""DeepDETAILS: deconvolution of a bulk track into cell-type tracks with accessibility.

The family's modules (imported on use; this package imports the network and what the
registry needs to score it):

- `varinterp.models.deepdetails.network`: `DeepDetailsConfig`, the fused and the seq-only
  networks, `build_model` (picks one from the config);
- `varinterp.models.deepdetails.loss`: RMSLE on the bulk + the redundancy penalty;
- `varinterp.models.deepdetails.task`: `DeconvTask`, what the training engine
  (`varinterp.training.engine.fit`) trains a model through (the penalty's ramp, the
  collapsed-branch self-check);
- `varinterp.models.deepdetails.train`: `train_deconv` (one bulk sample -> ``OUT/model``),
  `TrainSettings`; `card`: the model card; `files`: `save_model` / `load_model` of
  one model in a model directory;
- `varinterp.models.deepdetails.scoring`: the outputs, the forward pass and
  `read_context` (accessibility and scale of scored windows).

The application around the model (windows, prediction and export, metrics, baselines,
inputs) is `varinterp.deconv`. `ARCHITECTURE` registers the network as ``deepdetails``
(entry point ``varinterp.architectures`` in ``pyproject.toml``): one-hot input
``(batch, 4, input_length)`` plus ``acc`` ``(batch, K, input_length)`` and ``scale``
``(batch, K)``; outputs per cell type a track ``(batch, K, S, output_length)`` on the
bulk's scale and its total ``(batch, K)`` in counts.
"""

from __future__ import annotations

from varinterp.models.deepdetails.network import DeepDetailsConfig, build_model
from varinterp.models.deepdetails.scoring import outputs, predict, read_context
from varinterp.training.registry import Architecture

__all__ = ["ARCHITECTURE"]

ARCHITECTURE = Architecture(
    name="deepdetails",
    config_cls=DeepDetailsConfig,
    model_cls=build_model,  # type: ignore[arg-type]  # picks fused or seq-only
    outputs=outputs,
    predict=predict,
    input_encoding="one-hot",
    read_context=read_context,
    recipes={"train": "varinterp.models.deepdetails.train:train_deconv"},
    family="deepdetails",
    description="DeepDETAILS: per-cell-type tracks of a bulk library from sequence and "
    "accessibility",
)
