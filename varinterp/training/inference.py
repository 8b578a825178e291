"""The one ensemble-mean forward loop, and a loaded model directory (`Ensemble`).

Every prediction in varinterp (scoring, the QTL and MPRA benchmarks, evaluation,
deconvolution) goes through `forward_batch`:

- **Inputs.** ``x`` ``(batch, 4, input_length)``, channels A, C, G, T, in the *two-hot*
  code (homozygous = 2, heterozygous = 1 + 1, N = 0; `varinterp.genome.encoding`) or,
  with ``x_encoding="one-hot"``, one-hot; the loop converts to the code the architecture
  was trained on (`Architecture.input_encoding`), so a one-hot model sees a
  het as 0.5 + 0.5. `context` holds the extra inputs a family needs (`OutputSpec.context`),
  batched like ``x``: arrays with a position axis ``(batch, C, input_length)`` and
  per-window values ``(batch, C)``.
- **Ensemble.** The members' outputs are averaged: the mean profile and the mean
  quantity (the published CLIPNET ensemble; the mean of DeepDETAILS replicate runs).
- **Reverse complement.** With ``rc_average`` each window is also predicted as its
  reverse complement (sequence flipped on both axes, position-axis context reversed);
  that prediction is mapped back (strands swapped, positions reversed) and averaged
  with the forward one.
- **Precision.** bf16 autocast on CUDA (``bf16=True``), fp32 on the CPU; outputs are
  float32 on the CPU.

Outputs (`Outputs`): ``profile`` ``(n, n_tasks, n_strands, output_length) float32`` and
``quantity`` ``(n, n_tasks) float32``, as `varinterp.training.registry` describes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.datasets.folds import HUMAN_FOLDS, FoldMap
from varinterp.errors import InputError
from varinterp.progress import ProgressCallback, report
from varinterp.training.devices import autocast, resolve_device
from varinterp.training.modeldir import ModelDir, load_member, read_model_dir
from varinterp.training.registry import Architecture, OutputSpec

__all__ = [
    "ENCODINGS",
    "ENSEMBLE",
    "Ensemble",
    "Outputs",
    "forward_batch",
    "input_scale",
    "load_ensemble",
    "load_model",
    "predict_windows",
    "profile_tracks",
]

#: The label `Ensemble.scorer_of` gives windows predicted by every member.
ENSEMBLE = "ensemble"
ENCODINGS = ("two-hot", "one-hot")


@dataclass
class Outputs:
    """``profile`` ``(n, n_tasks, n_strands, output_length) float32`` and ``quantity``
    ``(n, n_tasks) float32`` (see the module docstring)."""

    profile: np.ndarray
    quantity: np.ndarray

    def task(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """One task: ``(profile (n, n_strands, L), quantity (n,))``."""
        return self.profile[:, index], self.quantity[:, index]


def input_scale(arch: Architecture, x_encoding: str) -> float:
    """Factor taking `x_encoding` to the architecture's own input code (1, 0.5 or 2)."""
    if x_encoding not in ENCODINGS:
        msg = f"input encoding must be one of {', '.join(ENCODINGS)}, got {x_encoding!r}"
        raise InputError(msg)
    wants = arch.input_encoding
    if wants == x_encoding:
        return 1.0
    return 0.5 if x_encoding == "two-hot" else 2.0


def _rc_context(context: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: torch.cat([v, v.flip(-1) if v.ndim == 3 else v]) for k, v in context.items()}


def forward_batch(
    models: Sequence[nn.Module],
    arch: Architecture,
    x: torch.Tensor,
    *,
    context: Mapping[str, torch.Tensor] | None = None,
    rc_average: bool = False,
    bf16: bool = True,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of `models` on one batch already on the device.

    ``x`` ``(b, 4, L) float``; `scale` multiplies it first (`input_scale`). Returns
    ``(profile (b, T, S, L'), quantity (b, T))`` float32 tensors on the device. Call
    under ``torch.inference_mode()`` or ``torch.no_grad()``.
    """
    if scale != 1.0:
        x = x * scale
    context = dict(context or {})
    k = x.shape[0]
    if rc_average:
        x = torch.cat([x, x.flip(1, 2)])
        context = _rc_context(context)
    acc_p = acc_q = None
    for m in models:
        with autocast(x.device, bf16):
            p, q = arch.predict(m, x, context)
        p, q = p.float(), q.float()
        acc_p = p if acc_p is None else acc_p + p
        acc_q = q if acc_q is None else acc_q + q
    if acc_p is None or acc_q is None:
        msg = "no models given; pass at least one model"
        raise InputError(msg)
    p, q = acc_p / len(models), acc_q / len(models)
    if rc_average:
        p = 0.5 * (p[:k] + p[k:].flip(2, 3))
        q = 0.5 * (q[:k] + q[k:])
    return p, q


def predict_windows(
    models: Sequence[nn.Module],
    arch: Architecture,
    spec: OutputSpec,
    x: np.ndarray,
    *,
    context: Mapping[str, np.ndarray] | None = None,
    x_encoding: str = "two-hot",
    rc_average: bool = True,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    bf16: bool = True,
    on_progress: ProgressCallback | None = None,
) -> Outputs:
    """`forward_batch` over windows ``x`` ``(n, 4, input_length)`` (any numeric dtype,
    ``uint8`` preferred; cast per batch), `context` arrays batched alongside.

    `models` are put in eval mode, not moved (load them on `device`). `on_progress`
    gets ``(windows done, n)``.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1:] != (4, spec.input_length):
        msg = f"windows have shape {x.shape}; the models need (n, 4, {spec.input_length})"
        raise InputError(msg)
    if batch_size < 1:
        msg = f"batch_size must be >= 1, got {batch_size}"
        raise InputError(msg)
    missing = [c for c in spec.context if c not in (context or {})]
    if missing:
        msg = (
            f"this {arch.name} model also needs {', '.join(missing)} for every window; "
            "pass them as context"
        )
        raise InputError(msg)
    device = resolve_device(device)
    scale = input_scale(arch, x_encoding)
    for m in models:
        m.eval()
    n = x.shape[0]
    shape = (n, spec.n_tasks, spec.n_strands, spec.output_length)
    profile = np.zeros(shape, dtype=np.float32)
    quantity = np.zeros((n, spec.n_tasks), dtype=np.float32)
    with torch.inference_mode():
        for lo in range(0, n, batch_size):
            hi = min(lo + batch_size, n)
            xb = torch.from_numpy(np.ascontiguousarray(x[lo:hi])).to(device).float()
            ctx = {
                k: torch.from_numpy(np.ascontiguousarray(v[lo:hi])).to(device).float()
                for k, v in (context or {}).items()
            }
            p, q = forward_batch(
                models, arch, xb, context=ctx, rc_average=rc_average, bf16=bf16, scale=scale
            )
            profile[lo:hi] = p.cpu().numpy().reshape(hi - lo, *shape[1:])
            quantity[lo:hi] = q.cpu().numpy().reshape(hi - lo, -1)
            report(on_progress, hi, n)
    return Outputs(profile, quantity)


def profile_tracks(profile: np.ndarray, quantity: np.ndarray) -> np.ndarray:
    """Predicted tracks: each profile scaled to sum (over strands and positions) to its
    quantity. ``profile`` ``(n, S, L)``, ``quantity`` ``(n,)`` -> ``(n, S, L) float64``;
    a profile summing to 0 gives a zero track (not NaN)."""
    p = np.asarray(profile, dtype=np.float64)
    q = np.asarray(quantity, dtype=np.float64).reshape(-1)
    total = p.reshape(p.shape[0], -1).sum(axis=1)
    factor = np.divide(q, total, out=np.zeros_like(q), where=total > 0)
    return p * factor[:, None, None]


@dataclass
class Ensemble:
    """A loaded model directory: its members on one device, its outputs and folds.

    `fold_map` is the directory's contig -> fold table (``metadata.folds``; the
    published human table when absent) for the hold-out composite: each window is
    predicted by the member that never saw its contig (``fold_i`` for a contig of fold
    ``i >= 1``), by every member for fold 0 and contigs in no fold.
    """

    model_dir: ModelDir
    models: dict[str, nn.Module]
    fold_map: FoldMap
    device: torch.device

    @property
    def arch(self) -> Architecture:
        return self.model_dir.arch

    @property
    def spec(self) -> OutputSpec:
        return self.model_dir.outputs

    @property
    def input_length(self) -> int:
        return self.spec.input_length

    @property
    def output_length(self) -> int:
        return self.spec.output_length

    @property
    def output_start(self) -> int:
        return self.spec.output_start

    @property
    def tasks(self) -> tuple[str, ...]:
        return self.spec.tasks

    def require_single_task(self, what: str) -> None:
        """`InputError` unless the model predicts one task (`what` names the use)."""
        if self.spec.n_tasks != 1:
            msg = (
                f"{what} takes single-task models; {self.model_dir.path} predicts "
                f"{self.spec.n_tasks} tasks ({', '.join(self.tasks)})"
            )
            raise InputError(msg)

    def fold_model(self, fold: int) -> str | None:
        """Name of the member that tests on `fold` (``fold_3`` for fold 3), None if absent."""
        name = f"fold_{fold}"
        return name if fold >= 1 and name in self.models else None

    def scorer_of(self, chrom: str, *, holdout_composite: bool) -> str:
        """Which member predicts windows on `chrom`: a member name or `ENSEMBLE`.

        In composite mode a contig of fold ``i >= 1`` whose member ``fold_i`` is absent
        is an `InputError` (every other member trained on it).
        """
        if not holdout_composite:
            return ENSEMBLE
        fold = self.fold_map(chrom)
        if fold is None or fold == 0:
            return ENSEMBLE
        name = self.fold_model(fold)
        if name is None:
            msg = (
                f"{chrom} is in fold {fold} but {self.model_dir.path} has no fold_{fold} model "
                f"(it has {', '.join(self.models)}), so every model saw it in training; "
                "drop --holdout-composite or use a complete ensemble"
            )
            raise InputError(msg)
        return name

    def predict(
        self,
        x: np.ndarray,
        *,
        chroms: Sequence[str] | np.ndarray | None = None,
        holdout_composite: bool = False,
        context: Mapping[str, np.ndarray] | None = None,
        x_encoding: str = "two-hot",
        rc_average: bool = True,
        batch_size: int = 256,
        bf16: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> Outputs:
        """Predict windows ``x`` ``(n, 4, input_length)`` (two-hot unless `x_encoding`).

        With `holdout_composite`, `chroms` (``(n,)`` contig names) picks each window's
        member (`scorer_of`). Returns `Outputs` (``(n, T, S, L)``, ``(n, T)``).
        """
        kw = {
            "x_encoding": x_encoding,
            "rc_average": rc_average,
            "batch_size": batch_size,
            "device": self.device,
            "bf16": bf16,
        }
        members = list(self.models.values())
        if not holdout_composite:
            return predict_windows(
                members, self.arch, self.spec, x, context=context, on_progress=on_progress, **kw
            )
        if chroms is None or len(chroms) != len(x):
            msg = "holdout_composite needs one contig name per window (chroms)"
            raise InputError(msg)
        scorers = np.array(
            [self.scorer_of(str(c), holdout_composite=True) for c in chroms], dtype=object
        )
        spec = self.spec
        out = Outputs(
            np.zeros((len(x), spec.n_tasks, spec.n_strands, spec.output_length), np.float32),
            np.zeros((len(x), spec.n_tasks), np.float32),
        )
        done = 0
        for name in sorted(set(scorers.tolist())):
            idx = np.flatnonzero(scorers == name)
            models = members if name == ENSEMBLE else [self.models[name]]
            ctx = None if context is None else {k: v[idx] for k, v in context.items()}
            part = predict_windows(models, self.arch, spec, x[idx], context=ctx, **kw)
            out.profile[idx], out.quantity[idx] = part.profile, part.quantity
            done += idx.size
            report(on_progress, done, len(x))
        return out


def load_model(
    path: str | os.PathLike,
    *,
    device: str | torch.device = "auto",
    members: Sequence[str] | None = None,
    architecture: str | None = None,
) -> Ensemble:
    """Load a model directory's members (all, or the named `members`) on `device`.

    `device` is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``. A member listed in
    ``config.json`` whose weights are missing or unreadable is an `InputError` naming
    the file.
    """
    dev = resolve_device(device)
    model_dir = read_model_dir(path, architecture=architecture)
    names = list(members) if members is not None else list(model_dir.folds)
    models = {name: load_member(model_dir, name, device=dev) for name in names}
    table = model_dir.metadata.get("folds") or HUMAN_FOLDS
    n_folds = int(model_dir.metadata.get("n_folds", 10))
    return Ensemble(model_dir, models, FoldMap(dict(table), n_folds=n_folds), dev)


def load_ensemble(
    path: str | os.PathLike,
    *,
    folds: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
) -> Ensemble:
    """`load_model` under the previous release's name (``folds`` = ``members``)."""
    return load_model(path, device=device, members=folds)
