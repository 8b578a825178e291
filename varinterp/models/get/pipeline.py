"""GET from files to model directories: what ``varinterp get`` runs.

- `train_get_model`: motif features (with accessibility) + expression + TSS -> a GET
  model directory (optionally masked pretraining first, or starting from another GET
  model's weights), with held-out-contig metrics on its card;
- `lora_get_model`: a base GET model + the new cell type's features and expression -> a
  LoRA adapter directory (and, with `merged`, the merged model directory);
- `write_enhancer_scores`: a GET model -> a TSV of Jacobian enhancer scores per gene.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, check_output
from varinterp.models.get.card import get_card
from varinterp.models.get.data import GetData, build_get_data
from varinterp.models.get.expression import read_expression, read_tss
from varinterp.models.get.files import (
    load_get_data,
    load_get_models,
    merge_adapter,
    save_adapter,
    save_get_model,
)
from varinterp.models.get.interpret import enhancer_scores
from varinterp.models.get.network import GetConfig
from varinterp.models.get.predict import evaluate_genes
from varinterp.models.get.train import GetRecipe, lora_get, pretrain_get, train_get
from varinterp.motifs.files import read_features
from varinterp.progress import ProgressCallback

__all__ = [
    "GetTrainResult",
    "load_inputs",
    "lora_get_model",
    "train_get_model",
    "write_enhancer_scores",
]


@dataclass(frozen=True)
class GetTrainResult:
    out: Path
    metrics: dict[str, Any]
    epochs: int
    parameters: int


def load_inputs(
    features: str | os.PathLike,
    expression: str | os.PathLike,
    tss: str | os.PathLike,
    *,
    units: str = "tpm",
) -> GetData:
    """`GetData` from a features file, an expression table and a TSS file."""
    return build_get_data(
        read_features(features), read_expression(expression, units=units), read_tss(tss)
    )


def _metrics(models, data: GetData, recipe: GetRecipe, n_regions: int, types) -> dict[str, Any]:
    chroms = set(recipe.held_out_chroms) or None
    out: dict[str, Any] = {}
    for t in types:
        m = evaluate_genes(
            models, data, t, chroms=chroms, n_regions=n_regions, binary_atac=recipe.binary_atac
        )
        out[f"pearson_{t}"] = round(m["pearson"], 4)
    return out


def train_get_model(
    *,
    features: str | os.PathLike,
    expression: str | os.PathLike,
    tss: str | os.PathLike,
    out: str | os.PathLike,
    config: dict[str, Any] | None = None,
    recipe: dict[str, Any] | None = None,
    pretrain_epochs: int = 0,
    init: str | os.PathLike | None = None,
    units: str = "tpm",
    device: str = "cpu",
    seed: int = 0,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> GetTrainResult:
    """Train a GET model from files and write its model directory (module docstring).
    `config` overrides `GetConfig` fields (``n_features`` comes from the data); `recipe`
    `GetRecipe` fields."""
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    data = load_inputs(features, expression, tss, units=units)
    cfg = GetConfig(**{**(config or {}), "n_features": data.n_features})
    rec = GetRecipe(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in (recipe or {}).items()}
    )
    state = None
    if init is not None:
        _, members = load_get_models(init)
        base = next(iter(members.values()))
        if base.config != cfg:
            raise InputError(
                f"{init} has another GET config than asked for; drop --init or match it"
            )
        state = base.state_dict()
    elif pretrain_epochs > 0:
        pre = pretrain_get(
            data,
            config=cfg,
            recipe=dataclasses.replace(rec, epochs=pretrain_epochs),
            device=device,
            seed=seed,
            on_progress=on_progress,
        )
        state = pre.model.state_dict()
    run = train_get(
        data, config=cfg, recipe=rec, init=state, device=device, seed=seed, on_progress=on_progress
    )
    types = [t for t in data.cell_types if t not in rec.held_out_cell_types]
    metrics = _metrics([run.model], data, rec, cfg.n_regions, [*types, *rec.held_out_cell_types])
    card = get_card(
        title=f"GET model {out.name}",
        config=cfg,
        cell_types=list(data.cell_types),
        n_regions=cfg.n_regions,
        n_peaks=len(data.regions),
        n_genes=len(data.genes),
        metrics={"held-out contigs": ", ".join(rec.held_out_chroms) or "none", **metrics},
        objective="expression" + (" after masked pretraining" if pretrain_epochs else ""),
    )
    save_get_model(
        out,
        models={"model": run.model},
        data=data,
        n_regions=cfg.n_regions,
        binary_atac=rec.binary_atac,
        card=card,
        metadata={"recipe": rec.to_dict(), "metrics": metrics},
        overwrite=overwrite,
    )
    n = sum(p.numel() for p in run.model.parameters())
    return GetTrainResult(out, metrics, run.result.epochs_run, n)


def lora_get_model(
    *,
    base: str | os.PathLike,
    features: str | os.PathLike,
    expression: str | os.PathLike,
    tss: str | os.PathLike,
    out: str | os.PathLike,
    cell_types: list[str] | None = None,
    rank: int = 8,
    recipe: dict[str, Any] | None = None,
    merged: str | os.PathLike | None = None,
    units: str = "tpm",
    device: str = "cpu",
    seed: int = 0,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> GetTrainResult:
    """LoRA-adapt `base` to the cell types of new data; write the adapter directory
    `out` (and the merged model directory `merged` when given)."""
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if merged is not None:
        merged = check_output(merged, option="--merged")
        if merged.exists() and not overwrite:
            raise InputError(f"--merged {merged} already exists; remove it or pass --overwrite")
    md, members = load_get_models(base)
    if len(members) != 1:
        raise InputError(f"{base} holds {len(members)} members; adapt one model")
    model = next(iter(members.values()))
    data = load_inputs(features, expression, tss, units=units)
    rec = GetRecipe(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in (recipe or {}).items()}
    )
    types = list(cell_types or data.cell_types)
    g = md.metadata.get("get", {})
    rec = dataclasses.replace(rec, binary_atac=bool(g.get("binary_atac", rec.binary_atac)))
    run = lora_get(
        data,
        base=model,
        cell_types=types,
        recipe=rec,
        rank=rank,
        device=device,
        seed=seed,
        on_progress=on_progress,
    )
    metrics = _metrics([run.model], data, rec, model.config.n_regions, types)
    total = sum(p.numel() for p in model.parameters())
    card = get_card(
        title=f"GET LoRA adapter {out.name}",
        config=model.config,
        cell_types=types,
        n_regions=model.config.n_regions,
        n_peaks=len(data.regions),
        n_genes=len(data.genes),
        objective=f"LoRA rank {rank} on {base}",
        metrics={
            "adapter parameters": run.metadata["trainable_parameters"],
            "base parameters": total,
            **metrics,
        },
    )
    save_adapter(
        out,
        model=run.model,
        base_state=model.state_dict(),
        data=data,
        rank=rank,
        alpha=float(run.metadata["alpha"]),
        n_regions=model.config.n_regions,
        binary_atac=rec.binary_atac,
        card=card,
        cell_types=types,
        metadata={"base": str(base), "metrics": metrics},
        overwrite=overwrite,
    )
    if merged is not None:
        merge_adapter(base=base, adapter=out, out=merged, overwrite=overwrite)
    return GetTrainResult(out, metrics, run.result.epochs_run, run.metadata["trainable_parameters"])


def write_enhancer_scores(
    *,
    model: str | os.PathLike,
    out: str | os.PathLike,
    cell_type: str,
    genes: list[str] | None = None,
    device: str = "cpu",
    overwrite: bool = False,
) -> int:
    """Jacobian enhancer scores of `genes` (default all) in `cell_type` -> TSV; returns rows.

    `device` is where the model runs (`varinterp.training.devices.resolve_device`).
    """
    from varinterp.training.devices import resolve_device

    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    md, members = load_get_models(model, device=resolve_device(device))
    data = load_get_data(model)
    g = md.metadata.get("get", {})
    table = enhancer_scores(
        next(iter(members.values())),
        data,
        cell_type=cell_type,
        genes=genes,
        n_regions=int(g.get("n_regions", 200)),
        binary_atac=bool(g.get("binary_atac", False)),
    )
    with atomic_path(out, suffix=".tsv") as tmp:
        table.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    return len(table)
