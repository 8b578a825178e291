"""bpAI-TAC: base-resolution Tn5 insertion profiles and counts across cell types, with a
frozen Tn5 bias network (Chandra et al.).

The family's modules (imported on use; this package imports the network and what the
registry needs to score it):

- `varinterp.models.bpaitac.network`: `BpAiTacConfig`, `BpAiTac` (the published layer
  list; the Tn5 bias network is the same body with one task and no scalar head);
- `varinterp.models.bpaitac.loss`: cross-entropy / MNLL / Poisson / JSD profile terms,
  the count MSE and their lambda composites (`AtacLoss`);
- `varinterp.models.bpaitac.data`: `AtacData`, `build_atac_data` (OCR windows, insertion
  profiles and quantile-normalised centre sums from bigWigs), `quantile_normalize`;
- `varinterp.models.bpaitac.task`: `AtacTask`, what the training engine
  (`varinterp.training.engine.fit`) trains a model through;
- `varinterp.models.bpaitac.runconfig`: the TOML run config;
- `varinterp.models.bpaitac.train`: `train_bpaitac`, `train_tn5_bias` (recipes);
  `evaluate`: `evaluate_bpaitac`; `metrics`: per-OCR / per-cell-type Pearson, profile
  JSD, CV quartiles; `footprint`: in-silico footprints with the bias zeroed; `card`;
- `varinterp.models.bpaitac.scoring`: the outputs, the forward pass (the bias network
  recomputed on every scored sequence) and the bias-zeroed attribution twin.

`ARCHITECTURE` registers the network as ``bpaitac`` (entry point
``varinterp.architectures`` in ``pyproject.toml``). A Tn5 bias model is a ``bpaitac``
directory too (config switch ``scalar_head = false``, one task, metadata ``role =
"tn5-bias"``); a bpAI-TAC model directory holds its frozen bias network's weights in
every member (``bias.*``), so scoring needs no second model.
"""

from __future__ import annotations

from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig
from varinterp.models.bpaitac.scoring import explainable, outputs, predict
from varinterp.training.registry import Architecture

__all__ = ["ARCHITECTURE"]

ARCHITECTURE = Architecture(
    name="bpaitac",
    config_cls=BpAiTacConfig,
    model_cls=BpAiTac,
    outputs=outputs,
    predict=predict,
    input_encoding="one-hot",
    explainable=explainable,
    recipes={
        "train": "varinterp.models.bpaitac.train:train_bpaitac",
        "train-bias": "varinterp.models.bpaitac.train:train_tn5_bias",
        "evaluate": "varinterp.models.bpaitac.evaluate:evaluate_bpaitac",
    },
    family="bpaitac",
    description="bpAI-TAC: Tn5 insertion profiles and counts per cell type, with a frozen "
    "Tn5 bias network",
)
