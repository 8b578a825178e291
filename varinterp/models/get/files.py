"""GET models and LoRA adapters in the one model-directory format.

A **GET model directory** (architecture ``get``, `varinterp.training.modeldir`) holds
the network's config and weights (member ``model``; several members are an ensemble)
and the inputs the model predicts from, so that scoring and interpretation need nothing
else: ``inputs.h5`` (the motif-features file of its peaks with each cell type's
accessibility, `varinterp.motifs.files`), ``genes.tsv`` (``gene chrom tss strand``) and
``expression.tsv`` (observed ``log10(TPM + 1)``, gene x cell type). ``metadata.tasks``
lists the cell types; ``metadata.get`` the window size and the accessibility mode.

A **LoRA adapter directory** (architecture ``get-lora``) holds only the adapter tensors
(``lora_A``/``lora_B`` of every adapted linear layer and the expression head; member
``adapter``), the base config and a fingerprint of the base weights (sha256 over the
sorted tensors), plus the inputs of the cell types it was trained on. `attach_adapter`
refuses an adapter of another base model; `merge_adapter` writes a plain GET model
directory with the updates baked in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.readers import read_csv
from varinterp.models.get.data import GetData, build_get_data
from varinterp.models.get.lora import adapter_state, add_lora, load_adapter_state, merge_lora
from varinterp.models.get.network import Get, GetConfig
from varinterp.motifs.files import read_features, write_features
from varinterp.training.modeldir import load_member, read_model_dir, save_model_dir

__all__ = [
    "GetLoraAdapter",
    "GetLoraConfig",
    "attach_adapter",
    "fingerprint",
    "load_get_data",
    "load_get_models",
    "merge_adapter",
    "save_adapter",
    "save_get_model",
]

INPUTS = "inputs.h5"


def fingerprint(state: Mapping[str, torch.Tensor]) -> str:
    """sha256 of a state dict's tensors (names, shapes and float32 bytes, sorted)."""
    h = hashlib.sha256()
    for k in sorted(state):
        t = state[k].detach().cpu().float().contiguous()
        h.update(k.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _write_inputs(tmp: Path, data: GetData) -> None:
    if data.features is None:
        raise InputError("the GET data carry no motif features to save with the model")
    write_features(data.features, tmp / INPUTS)
    data.genes[["gene", "chrom", "tss", "strand"]].to_csv(tmp / "genes.tsv", sep="\t", index=False)
    pd.DataFrame(data.expression, index=data.genes["gene"], columns=list(data.cell_types)).to_csv(
        tmp / "expression.tsv", sep="\t"
    )


def _save(
    out: Path,
    *,
    config: Any,
    members: Mapping[str, Any],
    metadata: dict,
    card: str,
    data: GetData,
    overwrite: bool,
) -> Path:
    with atomic_dir(out, overwrite=overwrite) as tmp:
        inner = save_model_dir(
            tmp / "_model", config=config, folds=members, metadata=metadata, card=card
        )
        for f in inner.iterdir():
            f.replace(tmp / f.name)
        inner.rmdir()
        _write_inputs(tmp, data)
    return out


def save_get_model(
    out: str | os.PathLike,
    *,
    models: Mapping[str, nn.Module],
    data: GetData,
    n_regions: int,
    binary_atac: bool = False,
    card: str = "# GET model\n",
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a GET model directory (module docstring); `models` maps member names to
    plain `Get` modules (merge adapters first)."""
    first = next(iter(models.values()))
    meta = {
        "tasks": list(data.cell_types),
        "get": {"n_regions": int(n_regions), "binary_atac": bool(binary_atac)},
        **dict(metadata or {}),
    }
    return _save(
        Path(out),
        config=first.config,
        members=dict(models),
        metadata=meta,
        card=card,
        data=data,
        overwrite=overwrite,
    )


def load_get_data(path: str | os.PathLike) -> GetData:
    """The inputs saved in a GET model or adapter directory as `GetData`."""
    path = Path(path)
    for name in (INPUTS, "genes.tsv", "expression.tsv"):
        if not (path / name).is_file():
            raise InputError(f"{path} lacks {name}; it is not a GET model directory with inputs")
    feats = read_features(path / INPUTS)
    genes = read_csv(
        path / "genes.tsv", "GET model genes", sep="\t", dtype={"gene": str, "chrom": str}
    )
    expr = read_csv(path / "expression.tsv", "GET model expression", sep="\t", index_col=0)
    expr.index = expr.index.astype(str)
    return build_get_data(feats, expr, genes)


def load_get_models(
    path: str | os.PathLike, *, device: str | torch.device = "cpu"
) -> tuple[Any, dict[str, Get]]:
    """``(ModelDir, {member: Get})`` of a GET model directory."""
    md = read_model_dir(path, architecture="get")
    return md, {m: load_member(md, m, device=device) for m in md.folds}


@dataclass(frozen=True)
class GetLoraConfig:
    """An adapter's config: the base GET config, rank, alpha, targets, base fingerprint."""

    base: dict = field(default_factory=dict)
    rank: int = 8
    alpha: float = 8.0
    targets: tuple[str, ...] = ("region_embed", "encoder")
    base_fingerprint: str = ""

    @property
    def input_length(self) -> int:
        return int(self.base.get("n_regions", 200))

    @property
    def output_length(self) -> int:
        return 0

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["targets"] = list(self.targets)
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> GetLoraConfig:
        values = dict(values)
        values["targets"] = tuple(values.get("targets", ()))
        return cls(**values)


def _adapter_shapes(cfg: GetLoraConfig) -> dict[str, tuple[int, ...]]:
    base = GetConfig.from_dict(cfg.base)
    d, h, f, r = base.d_model, int(base.d_model * base.mlp_ratio), base.n_features, cfg.rank
    layers = {"region_embed": (d, f)} if "region_embed" in cfg.targets else {}
    if "encoder" in cfg.targets:
        for i in range(base.n_layers):
            layers.update(
                {
                    f"encoder.{i}.attn.qkv": (3 * d, d),
                    f"encoder.{i}.attn.proj": (d, d),
                    f"encoder.{i}.fc1": (h, d),
                    f"encoder.{i}.fc2": (d, h),
                }
            )
    shapes: dict[str, tuple[int, ...]] = {}
    for name, (out_f, in_f) in layers.items():
        shapes[f"{name}.lora_A"] = (r, in_f)
        shapes[f"{name}.lora_B"] = (out_f, r)
    shapes["head_exp.weight"] = (base.n_strands, d)
    shapes["head_exp.bias"] = (base.n_strands,)
    return shapes


class GetLoraAdapter(nn.Module):
    """The tensors of one adapter, as a module (state-dict keys with ``.`` as ``__``)."""

    def __init__(self, config: GetLoraConfig) -> None:
        super().__init__()
        self.config = config
        self.tensors = nn.ParameterDict(
            {
                k.replace(".", "__"): nn.Parameter(torch.zeros(s))
                for k, s in _adapter_shapes(config).items()
            }
        )

    def state(self) -> dict[str, torch.Tensor]:
        return {k.replace("__", "."): v.detach() for k, v in self.tensors.items()}

    def forward(self, *args: Any) -> None:
        raise InputError("a LoRA adapter predicts nothing alone; attach it to its base model")


def save_adapter(
    out: str | os.PathLike,
    *,
    model: Get,
    base_state: Mapping[str, torch.Tensor],
    data: GetData,
    rank: int,
    alpha: float,
    n_regions: int,
    binary_atac: bool = False,
    card: str = "# GET LoRA adapter\n",
    cell_types: list[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the adapter of `model` (carrying live LoRA) trained from `base_state`;
    `cell_types` (default all of `data`) become the directory's tasks."""
    cfg = GetLoraConfig(
        base=model.config.to_dict(),
        rank=rank,
        alpha=float(alpha),
        base_fingerprint=fingerprint(base_state),
    )
    module = GetLoraAdapter(cfg)
    state = adapter_state(model)
    want = set(_adapter_shapes(cfg))
    if set(state) != want:
        raise InputError("the model's adapters do not cover the region embedding and encoder")
    with torch.no_grad():
        for k, v in state.items():
            module.tensors[k.replace(".", "__")].copy_(v)
    meta = {
        "tasks": list(cell_types or data.cell_types),
        "get": {"n_regions": int(n_regions), "binary_atac": bool(binary_atac)},
        **dict(metadata or {}),
    }
    return _save(
        Path(out),
        config=cfg,
        members={"adapter": module},
        metadata=meta,
        card=card,
        data=data,
        overwrite=overwrite,
    )


def attach_adapter(base: Get, adapter_dir: str | os.PathLike) -> Get:
    """A copy of `base` with the adapter of `adapter_dir` attached (live LoRA)."""
    import copy

    md = read_model_dir(adapter_dir, architecture="get-lora")
    cfg: GetLoraConfig = md.config
    if cfg.base_fingerprint != fingerprint(base.state_dict()):
        raise InputError(
            f"adapter {adapter_dir} was trained on another base model (fingerprint "
            f"{cfg.base_fingerprint[:12]}, this base {fingerprint(base.state_dict())[:12]}); "
            "give the base model it was trained from"
        )
    module = load_member(md, "adapter")
    model = copy.deepcopy(base)
    add_lora(model, rank=cfg.rank, alpha=cfg.alpha, targets=cfg.targets)
    load_adapter_state(model, module.state(), where=str(adapter_dir))
    return model


def merge_adapter(
    *,
    base: str | os.PathLike,
    adapter: str | os.PathLike,
    out: str | os.PathLike,
    overwrite: bool = False,
) -> Path:
    """Write a plain GET model directory: `base`'s weights with `adapter` merged in and the
    adapter's inputs (its cell types)."""
    check_output(out)
    _md, members = load_get_models(base)
    if len(members) != 1:
        raise InputError(f"{base} holds {len(members)} members; merge an adapter into one model")
    merged = merge_lora(attach_adapter(next(iter(members.values())), adapter))
    amd = read_model_dir(adapter, architecture="get-lora")
    data = load_get_data(adapter)
    g = amd.metadata.get("get", {})
    card = (
        (Path(adapter) / "README.md").read_text() if (Path(adapter) / "README.md").is_file() else ""
    )
    return save_get_model(
        out,
        models={"model": merged},
        data=data,
        n_regions=int(g.get("n_regions", 200)),
        binary_atac=bool(g.get("binary_atac", False)),
        card=card + "\n(merged into its base)\n",
        metadata={
            "tasks": list(amd.metadata.get("tasks", data.cell_types)),
            "merged_from": {"base": str(base), "adapter": str(adapter)},
        },
        overwrite=overwrite,
    )
