"""CLIPNET: base-resolution transcription initiation (PRO-cap) from 1 kb of personal sequence.

The family's modules (imported on use; this package imports only the network and its
DeepLIFT twin):

- `varinterp.models.clipnet.network`: `ClipnetConfig`, `Clipnet` (the published Keras
  ``rnn_v10`` layout), `output_spec`; `layers`: Keras-style convolution and BatchNorm;
- `varinterp.models.clipnet.loss`: -cosine(profile) + weight x MSLE(quantity);
  `metrics`: profile / quantity / directionality / TSS-position Pearson;
- `varinterp.models.clipnet.data`: `ClipnetData`, (library, peak) examples with jitter and
  reverse complement, batches built on the fly from the genome store;
- `varinterp.models.clipnet.task`: `ClipnetTask`, what the training engine
  (`varinterp.training.engine.fit`) trains a fold model through;
- `varinterp.models.clipnet.runconfig`: the TOML run config and its engine settings;
- `varinterp.models.clipnet.train`: `train_clipnet` (the 9 chromosome-fold ensemble into a
  model directory), `run_folds`; `finetune`: `finetune_clipnet`; `evaluate`:
  `evaluate_clipnet` and fold-ensemble predictions; `heads`: starting the output heads at
  the training data; `card`: the model card;
- `varinterp.models.clipnet.keras`: reading the published Keras ``fold_*.h5`` weights and
  `import_clipnet_keras` (``varinterp models import-clipnet``);
- `varinterp.models.clipnet.explain`: the same network with module activations, for
  DeepLIFT attributions (`explainable`);
- `varinterp.models.clipnet.legacy`: the previous release's per-fold training calls
  (``varinterp.training.loop``), kept for one release over the engine.

`ARCHITECTURE` registers the network as ``clipnet`` (entry point
``varinterp.architectures`` in ``pyproject.toml``): two-hot input ``(batch, 4, 1000)``,
outputs a profile ``(batch, 2 * 500)`` (plus then minus strand) and a quantity
``(batch, 1)`` in RPM.
"""

from __future__ import annotations

from varinterp.models.clipnet.explain import explainable
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig, output_spec
from varinterp.training.registry import Architecture

__all__ = ["ARCHITECTURE"]

ARCHITECTURE = Architecture(
    name="clipnet",
    config_cls=ClipnetConfig,
    model_cls=Clipnet,
    outputs=output_spec,
    input_encoding="two-hot",
    explainable=explainable,
    recipes={
        "train": "varinterp.models.clipnet.train:train_clipnet",
        "finetune": "varinterp.models.clipnet.finetune:finetune_clipnet",
        "evaluate": "varinterp.models.clipnet.evaluate:evaluate_clipnet",
    },
    family="clipnet",
    description="CLIPNET: PRO-cap initiation profile and quantity from 1 kb of sequence",
)
