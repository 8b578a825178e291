"""GET's recipes: pretrain, train (fine-tune) and LoRA-adapt through the one engine.

`GetRecipe` holds the training choices (GET's defaults: AdamW, lr 1e-3, weight decay
0.05, layer-wise lr decay 0.75, cosine schedule after a one-epoch linear warm-up, batch
8, 200 regions per window with a stride of half a window when fine-tuning and a whole
one when pretraining, mask ratio 0.5). Held-out contigs are the validation split (early
stopping on ``val_tss_loss``, the Poisson loss at TSS regions; ``val_loss`` when
pretraining) and held-out cell types are left out of training altogether.

- `train_get(data, config=, recipe=, init=)`: expression training, from scratch or from a
  pretrained / earlier state (`init`);
- `pretrain_get(data, config=, recipe=)`: masked-region pretraining;
- `lora_get(data, base=, cell_types=, rank=)`: LoRA on the region embedding and encoder,
  the expression head fully trained, the rest frozen; returns the model with live
  adapters (`varinterp.models.get.lora`).

Each returns a `GetRun` (the model with its best weights, the engine's `FitResult`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.models.get.data import GetData
from varinterp.models.get.lora import add_lora, freeze_base
from varinterp.models.get.network import Get, GetConfig
from varinterp.models.get.task import GetTask, windows_of
from varinterp.progress import ProgressCallback
from varinterp.training.engine import EpochLog, FitResult, fit
from varinterp.training.settings import FitSettings, OptimizerSettings

__all__ = ["GetRecipe", "GetRun", "lora_get", "pretrain_get", "train_get"]


@dataclass(frozen=True)
class GetRecipe:
    """Training choices (module docstring)."""

    epochs: int = 100
    patience: int = 10
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.05
    layer_decay: float = 0.75
    warmup_epochs: int = 1
    min_lr_ratio: float = 0.0
    stride: int = 0
    mask_ratio: float = 0.5
    binary_atac: bool = False
    held_out_chroms: tuple[str, ...] = ()
    held_out_cell_types: tuple[str, ...] = ()
    train_cell_types: tuple[str, ...] = ()
    max_batches_per_epoch: int = 0
    bf16: bool = True
    grad_clip: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class GetRun:
    model: nn.Module
    result: FitResult
    recipe: GetRecipe
    metadata: dict[str, Any] = field(default_factory=dict)


def _splits(
    data: GetData, recipe: GetRecipe, n_regions: int, stride: int, cell_types: Sequence[str] | None
) -> tuple[list, list]:
    chroms = set(data.regions["chrom"].astype(str))
    held = set(recipe.held_out_chroms)
    unknown = held - chroms
    if unknown:
        raise InputError(f"held-out contig(s) {', '.join(sorted(unknown))} hold no region")
    types = list(
        cell_types
        or recipe.train_cell_types
        or [c for c in data.cell_types if c not in recipe.held_out_cell_types]
    )
    if not types:
        raise InputError("no cell type left to train on; check held_out_cell_types")
    train = windows_of(data, types, chroms - held, n_regions, stride)
    val = windows_of(data, types, held, n_regions, n_regions) if held else []
    return train, val


def _fit(
    model: nn.Module,
    task: GetTask,
    recipe: GetRecipe,
    *,
    monitor: str,
    device: torch.device,
    seed: int,
    state_path,
    on_epoch,
    on_progress,
) -> FitResult:
    steps = task.n_batches("train", 1)
    if recipe.max_batches_per_epoch:
        steps = min(steps, recipe.max_batches_per_epoch)
    opt = OptimizerSettings(
        name="adamw",
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        warmup_steps=recipe.warmup_epochs * steps,
        warmup_start=1e-3,
        schedule="cosine",
        cosine_steps=max(recipe.epochs * steps, 1),
        min_lr_ratio=recipe.min_lr_ratio,
    )
    settings = FitSettings(
        max_epochs=recipe.epochs,
        patience=recipe.patience,
        monitor=monitor if task.has_validation() else "train_loss",
        optimizer=opt,
        bf16=recipe.bf16,
        grad_clip=recipe.grad_clip,
        max_batches_per_epoch=recipe.max_batches_per_epoch,
        prefetch=0,
    )
    if hasattr(model, "layer_decay"):
        model.layer_decay = recipe.layer_decay
    result = fit(
        make_model=lambda attempt: model,
        task=task,
        settings=settings,
        device=device,
        seed=seed,
        state_path=state_path,
        on_epoch=on_epoch,
        on_progress=on_progress,
    )
    model.load_state_dict(result.best_state)
    return result


def _heads(model: Get, *, expression: bool) -> None:
    """Freeze the head the objective does not use (DDP refuses unused parameters)."""
    for p in model.head_mask.parameters():
        p.requires_grad = not expression
    model.mask_token.requires_grad = not expression
    for p in model.head_exp.parameters():
        p.requires_grad = expression


def train_get(
    data: GetData,
    *,
    config: GetConfig,
    recipe: GetRecipe | None = None,
    init: Mapping[str, torch.Tensor] | None = None,
    cell_types: Sequence[str] | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    state_path=None,
    on_epoch: Callable[[EpochLog, list[EpochLog]], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> GetRun:
    """Train GET on expression (module docstring); `init` starts from a state dict."""
    recipe = recipe or GetRecipe()
    _check(data, config)
    torch.manual_seed(seed)
    model = Get(config)
    if init is not None:
        model.load_state_dict(dict(init))
    _heads(model, expression=True)
    stride = recipe.stride or max(config.n_regions // 2, 1)
    train, val = _splits(data, recipe, config.n_regions, stride, cell_types)
    task = GetTask(
        data,
        train=train,
        validation=val,
        batch_size=recipe.batch_size,
        binary_atac=recipe.binary_atac,
    )
    result = _fit(
        model,
        task,
        recipe,
        monitor="val_tss_loss",
        device=torch.device(device),
        seed=seed,
        state_path=state_path,
        on_epoch=on_epoch,
        on_progress=on_progress,
    )
    return GetRun(model.cpu(), result, recipe, {"objective": "expression"})


def pretrain_get(
    data: GetData,
    *,
    config: GetConfig,
    recipe: GetRecipe | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    state_path=None,
    on_epoch: Callable[[EpochLog, list[EpochLog]], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> GetRun:
    """Masked-region pretraining on every cell type's accessibility windows (labels unused)."""
    recipe = recipe or GetRecipe()
    _check(data, config)
    torch.manual_seed(seed)
    model = Get(config)
    _heads(model, expression=False)
    stride = recipe.stride or config.n_regions
    train, val = _splits(data, recipe, config.n_regions, stride, None)
    task = GetTask(
        data,
        train=train,
        validation=val,
        batch_size=recipe.batch_size,
        mode="pretrain",
        mask_ratio=recipe.mask_ratio,
        binary_atac=recipe.binary_atac,
    )
    result = _fit(
        model,
        task,
        recipe,
        monitor="val_loss",
        device=torch.device(device),
        seed=seed,
        state_path=state_path,
        on_epoch=on_epoch,
        on_progress=on_progress,
    )
    return GetRun(model.cpu(), result, recipe, {"objective": "pretrain"})


def lora_get(
    data: GetData,
    *,
    base: Get,
    cell_types: Sequence[str],
    recipe: GetRecipe | None = None,
    rank: int = 8,
    alpha: float | None = None,
    device: torch.device | str = "cpu",
    seed: int = 0,
    state_path=None,
    on_epoch: Callable[[EpochLog, list[EpochLog]], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> GetRun:
    """LoRA-adapt a copy of `base` to `cell_types` (module docstring)."""
    import copy

    recipe = recipe or GetRecipe()
    _check(data, base.config)
    torch.manual_seed(seed)
    model = copy.deepcopy(base).cpu()
    add_lora(model, rank=rank, alpha=alpha)
    n_trainable = freeze_base(model, trainable=("head_exp",))
    stride = recipe.stride or max(base.config.n_regions // 2, 1)
    train, val = _splits(data, recipe, base.config.n_regions, stride, cell_types)
    task = GetTask(
        data,
        train=train,
        validation=val,
        batch_size=recipe.batch_size,
        binary_atac=recipe.binary_atac,
    )
    result = _fit(
        model,
        task,
        dataclasses.replace(recipe, layer_decay=1.0),
        monitor="val_tss_loss",
        device=torch.device(device),
        seed=seed,
        state_path=state_path,
        on_epoch=on_epoch,
        on_progress=on_progress,
    )
    meta = {
        "objective": "lora",
        "rank": rank,
        "alpha": float(rank if alpha is None else alpha),
        "trainable_parameters": n_trainable,
        "cell_types": list(cell_types),
    }
    return GetRun(model.cpu(), result, recipe, meta)


def _check(data: GetData, config: GetConfig) -> None:
    if data.n_features != config.n_features:
        raise InputError(
            f"the data have {data.n_features} features per region (clusters + accessibility) "
            f"but the model takes {config.n_features}"
        )
