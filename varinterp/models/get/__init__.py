"""GET: a region x motif transformer for expression across cell types (Fu et al., 2025).

The family's modules:

- `network`: `GetConfig`, `Get` (region embedding, CLS, pre-LN encoder, expression and
  pretraining heads, layer-wise lr groups);
- `lora`: LoRA on ``torch.nn.utils.parametrize`` (add, freeze, merge, unmerge);
- `loss`: Poisson NLL, masked MSE;
- `expression`: expression tables, 10x pseudobulks, gene TSS;
- `data`: `GetData`, `build_get_data` (windows of consecutive accessible regions, labels);
- `task`: `GetTask`, the adapter of `varinterp.training.engine.fit`;
- `train`: the recipes `train_get`, `pretrain_get`, `lora_get`;
- `predict`: gene-centred predictions, held-out evaluation;
- `interpret`: Jacobian enhancer scores, motif attributions, knock-outs;
- `files`: model and adapter directories (`save_get_model`, `save_adapter`,
  `attach_adapter`, `merge_adapter`);
- `scoring`: the variant scorer (rescans a peak's motifs with the allele swapped);
- `card`: the model card.

`architectures()` (entry point ``varinterp.architectures``) registers ``get`` (the
network; scored by `score_get_variants`, not by sequence windows) and ``get-lora`` (an
adapter directory's tensors).
"""

from __future__ import annotations

from typing import Any

from varinterp.errors import InputError
from varinterp.models.get.files import GetLoraAdapter, GetLoraConfig
from varinterp.models.get.network import Get, GetConfig
from varinterp.training.registry import Architecture, OutputSpec

__all__ = ["ARCHITECTURE", "LORA_ARCHITECTURE", "architectures"]


def _outputs(config: Any, metadata: dict) -> OutputSpec:
    tasks = tuple(str(t) for t in metadata.get("tasks", ("",)))
    n = int(getattr(config, "n_regions", 0) or getattr(config, "input_length", 0))
    return OutputSpec(
        input_length=n, output_length=0, n_strands=2, tasks=tasks, quantity="log10(TPM+1)"
    )


def _predict(model, x, context):
    raise InputError(
        "GET predicts from region x motif features, not sequence windows; use "
        "varinterp score (GET's variant scorer) or varinterp.models.get.predict"
    )


def _score(ens, variants, **options):
    from varinterp.models.get.scoring import score_get_variants

    return score_get_variants(ens, variants, **options)


ARCHITECTURE = Architecture(
    name="get",
    config_cls=GetConfig,
    model_cls=Get,
    outputs=_outputs,
    predict=_predict,
    input_encoding="one-hot",
    variant_scorer=_score,
    recipes={
        "train": "varinterp.models.get.train:train_get",
        "pretrain": "varinterp.models.get.train:pretrain_get",
        "finetune": "varinterp.models.get.train:lora_get",
    },
    family="get",
    description="GET: expression per gene and cell type from region x motif "
    "features and accessibility",
)
LORA_ARCHITECTURE = Architecture(
    name="get-lora",
    config_cls=GetLoraConfig,
    model_cls=GetLoraAdapter,
    outputs=_outputs,
    predict=_predict,
    family="get",
    description="a LoRA adapter of a GET model",
)


def architectures() -> list[Architecture]:
    """Both GET architectures (the entry point's object)."""
    return [ARCHITECTURE, LORA_ARCHITECTURE]
