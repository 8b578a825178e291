"""cREscENDO: per-cell cis-regulatory element activity from 10x multiome RNA + ATAC.

The family's modules (imported on use; this package imports what the registry needs):

- `varinterp.models.crescendo.prep`: `prepare_multiome` (a 10x h5 or MatrixMarket
  folders, a FASTA and a TSS table -> ``prep.h5``: filters, normalisation, tokens,
  splits, PCA); `data`: `PreparedData` and the encoder's one-hot windows; `tokens`: each
  gene's promoter and candidate peaks;
- `varinterp.models.crescendo.network`: `CrescendoConfig`, `PeakEncoder` (scBasset
  style), `GeneModel` (the per-gene attention model), `Crescendo` (both, plus the data
  buffers scoring needs);
- `loss`, `task` (`EncoderTask`, `GeneTask`: the adapters of the engine's `fit`),
  `train` (`train_crescendo`: encoder, then gene model), `evaluate`, `card`;
- `varinterp.models.crescendo.attribution`: DeepLIFT of a gene's predicted expression
  with respect to the per-cell accessibility (captum); `activity`: `cre_activity`, the
  per-cell activity of every gene's peaks streamed into a `varinterp.cre` store with its
  summaries;
- `varinterp.models.crescendo.variants`: the architecture's ``variant_scorer``;
  `scoring`: its outputs and forward pass on windows.

`ARCHITECTURE` registers the model as ``crescendo`` (entry point
``varinterp.architectures`` in ``pyproject.toml``): one-hot input ``(batch, 4, 1344)``;
one task per cell type, the quantity being the mean predicted accessibility of the
window's peak in that type's cells.
"""

from __future__ import annotations

from varinterp.models.crescendo.network import Crescendo, CrescendoConfig
from varinterp.models.crescendo.scoring import outputs, predict
from varinterp.models.crescendo.variants import score_crescendo_variants
from varinterp.training.registry import Architecture

__all__ = ["ARCHITECTURE"]

ARCHITECTURE = Architecture(
    name="crescendo",
    config_cls=CrescendoConfig,
    model_cls=Crescendo,
    outputs=outputs,
    predict=predict,
    input_encoding="one-hot",
    variant_scorer=score_crescendo_variants,
    recipes={
        "prepare": "varinterp.models.crescendo.prep:prepare_multiome",
        "train": "varinterp.models.crescendo.train:train_crescendo",
        "activity": "varinterp.models.crescendo.activity:cre_activity",
    },
    family="crescendo",
    description="cREscENDO: per-cell cis-regulatory element activity from 10x multiome RNA + ATAC",
)
