"""LoRA on `torch.nn.utils.parametrize`: low-rank updates of frozen linear weights.

`add_lora` registers on the ``weight`` of every ``nn.Linear`` under the target modules
(GET: ``region_embed`` and ``encoder``) a parametrization ``W -> W + (B @ A) * alpha /
rank`` with ``A`` ``(rank, in)`` (Kaiming-uniform) and ``B`` ``(out, rank)`` (zeros, so
an adapter starts as the identity); `freeze_base` leaves only the adapters and the named
heads trainable. `adapter_state` / `load_adapter_state` move the adapter tensors (and the
head) in and out; `merge_lora` bakes the updates into plain weights and `unmerge_lora`
takes them out again (``W + BA - BA``, exact up to float rounding).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize

from varinterp.errors import InputError

__all__ = [
    "LoraDelta",
    "adapter_state",
    "add_lora",
    "freeze_base",
    "load_adapter_state",
    "lora_targets",
    "merge_lora",
    "unmerge_lora",
]


class LoraDelta(nn.Module):
    """The parametrization ``W -> W + (B @ A) * scale``."""

    def __init__(self, out_features: int, in_features: int, rank: int, alpha: float) -> None:
        super().__init__()
        self.lora_A = nn.Parameter(torch.empty(rank, in_features))
        self.lora_B = nn.Parameter(torch.zeros(out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scale = alpha / rank

    def delta(self) -> torch.Tensor:
        return (self.lora_B @ self.lora_A) * self.scale

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight + self.delta().to(weight.dtype)


def lora_targets(model: nn.Module, targets: Sequence[str]) -> list[str]:
    """Names of the ``nn.Linear`` modules under the modules named in `targets`."""
    names = [
        name
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and any(name == t or name.startswith(t + ".") for t in targets)
    ]
    if not names:
        raise InputError(f"no linear layer under {', '.join(targets)} to adapt")
    return names


def add_lora(
    model: nn.Module,
    *,
    rank: int = 8,
    alpha: float | None = None,
    targets: Sequence[str] = ("region_embed", "encoder"),
) -> list[str]:
    """Register LoRA on every linear weight under `targets`; returns the module names.
    `alpha` defaults to `rank` (scale 1)."""
    if rank < 1:
        raise InputError(f"LoRA rank must be >= 1, got {rank}")
    alpha = float(rank if alpha is None else alpha)
    names = lora_targets(model, targets)
    for name in names:
        layer = model.get_submodule(name)
        if parametrize.is_parametrized(layer, "weight"):
            raise InputError(f"{name} already carries an adapter")
        out_f, in_f = layer.weight.shape
        delta = LoraDelta(out_f, in_f, rank, alpha).to(layer.weight.device)
        parametrize.register_parametrization(layer, "weight", delta)
    return names


def _deltas(model: nn.Module) -> dict[str, LoraDelta]:
    out = {}
    for name, m in model.named_modules():
        if parametrize.is_parametrized(m, "weight"):
            for p in m.parametrizations["weight"]:
                if isinstance(p, LoraDelta):
                    out[name] = p
    return out


def freeze_base(model: nn.Module, *, trainable: Sequence[str] = ("head_exp",)) -> int:
    """Only LoRA tensors and the modules named in `trainable` keep gradients; returns the
    number of trainable parameters."""
    for name, p in model.named_parameters():
        p.requires_grad = ".lora_" in name or any(name.startswith(t + ".") for t in trainable)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def adapter_state(
    model: nn.Module, *, heads: Sequence[str] = ("head_exp",)
) -> dict[str, torch.Tensor]:
    """The adapter tensors (``<module>.lora_A`` / ``.lora_B``) and the heads' weights."""
    state = {}
    for name, d in _deltas(model).items():
        state[f"{name}.lora_A"] = d.lora_A.detach().cpu().clone()
        state[f"{name}.lora_B"] = d.lora_B.detach().cpu().clone()
    for head in heads:
        for k, v in model.get_submodule(head).state_dict().items():
            state[f"{head}.{k}"] = v.detach().cpu().clone()
    return state


def load_adapter_state(
    model: nn.Module, state: Mapping[str, torch.Tensor], *, where: str = ""
) -> None:
    """Put adapter tensors from `adapter_state` into a model carrying LoRA of the same
    rank on the same layers (an `InputError` when they do not fit)."""
    deltas = _deltas(model)
    want = {f"{n}.lora_{x}" for n in deltas for x in "AB"}
    have = {k for k in state if ".lora_" in k}
    if want != have:
        extra = sorted(have - want)[:2] or sorted(want - have)[:2]
        raise InputError(f"adapter {where} does not fit this model's LoRA layers ({extra})")
    with torch.no_grad():
        for name, d in deltas.items():
            for x, param in (("A", d.lora_A), ("B", d.lora_B)):
                t = state[f"{name}.lora_{x}"]
                if t.shape != param.shape:
                    raise InputError(
                        f"adapter {where}: {name}.lora_{x} has shape {tuple(t.shape)}, the "
                        f"model needs {tuple(param.shape)} (another base model or rank)"
                    )
                param.copy_(t)
        for key, t in state.items():
            if ".lora_" in key:
                continue
            head, _, leaf = key.rpartition(".")
            target = getattr(model.get_submodule(head), leaf)
            if target.shape != t.shape:
                raise InputError(f"adapter {where}: {key} has shape {tuple(t.shape)}")
            target.copy_(t)


def merge_lora(model: nn.Module) -> nn.Module:
    """Bake every adapter into its weight (``W + BA``) and drop the parametrizations."""
    for name in list(_deltas(model)):
        parametrize.remove_parametrizations(
            model.get_submodule(name), "weight", leave_parametrized=True
        )
    return model


def unmerge_lora(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    rank: int,
    alpha: float | None = None,
    heads: Sequence[str] = ("head_exp",),
    base_heads: Mapping[str, torch.Tensor] | None = None,
) -> nn.Module:
    """Undo `merge_lora` on a merged model: re-attach the adapters of `state` and subtract
    their updates from the weights, leaving the base weights under live adapters. The
    heads are restored from `base_heads` when given."""
    names = sorted({k.rsplit(".lora_", 1)[0] for k in state if ".lora_" in k})
    alpha = float(rank if alpha is None else alpha)
    with torch.no_grad():
        for name in names:
            layer = model.get_submodule(name)
            d = LoraDelta(layer.weight.shape[0], layer.weight.shape[1], rank, alpha)
            d.lora_A.copy_(state[f"{name}.lora_A"])
            d.lora_B.copy_(state[f"{name}.lora_B"])
            layer.weight.sub_(d.delta())
            parametrize.register_parametrization(layer, "weight", d)
        if base_heads is not None:
            for key, t in base_heads.items():
                head, _, leaf = key.rpartition(".")
                getattr(model.get_submodule(head), leaf).copy_(t)
    del heads
    return model
