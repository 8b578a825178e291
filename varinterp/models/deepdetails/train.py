"""Training a DeepDETAILS model on one bulk sample (self-supervised deconvolution).

The model sees every window (peaks and any background) and learns to reproduce the
bulk; by default there is no validation set and early stopping watches the training
loss ``RMSLE + alpha x penalty`` (the penalty's value counts also when its gradient is
off or weighted down), as in the reference. ``holdout=True`` holds out validation
contigs (chr22) for early stopping and test contigs (chr19) entirely.

Training runs through the one engine (`varinterp.training.engine.fit`, the task adapter
`varinterp.models.deepdetails.task.DeconvTask`): Adam (lr 1e-3, betas 0.9/0.999, eps
1e-8), batch 32, the learning rate multiplied by `lr_decay` after each epoch (0.1, the
reference's StepLR), early stopping with patience 2 and min_delta 1e-4, at most 50
epochs. bf16 autocast on CUDA, fp32 on the CPU. Attempt ``a`` seeds torch with
``seed + a`` and orders the windows of epoch ``e`` with a generator seeded
``(seed + a, e)``.

Outputs in `out`: ``model/`` (a model directory, `varinterp.training.modeldir`: member
``model`` with the best epoch's weights, metadata with the cell types, the settings and
the self-check, a ``README.md`` card), ``metrics.jsonl`` (one line per epoch),
``checkpoint.pt`` (the engine's state after the last finished epoch: a killed run
resumes from it, ending with the same weights), ``train.json`` (summary).

Two settings depart from a literal port (see ``docs/deconvolution.md``):

- ``redundancy`` (default True): the redundancy penalty's gradient trains the model, as
  the paper's loss says; the reference packs the penalty into a new tensor, so there it
  is logged but never trains, which ``redundancy=False`` (the ablation) reproduces.
  ``penalty_sample_weight="counts"`` (default) multiplies each window's penalty by the
  share of its bulk the prediction accounts for (capped at 1; see
  `varinterp.models.deepdetails.loss`), and ``redundancy_ramp`` (default 1 epoch) raises
  its weight linearly from 0 to alpha, after ``redundancy_warmup`` epochs of plain RMSLE
  (default 0; both count optimizer steps, fractions allowed). The penalty's gradient
  does not shrink with the predicted counts; unweighted and from the first step it pulls
  the profiles apart before the fit has shaped them. Numbers on the benchmarks page.
- ``count_scale`` (default None = from the data): the counts heads start at
  `initial_count_scale` (a tenth of the typical bulk window count) instead of
  softplus(0) ~ 0.7 reads, so the counts do not have to climb several orders of
  magnitude through an additive softplus. 1.0 gives the reference's plain softplus.
- ``split_anchor`` (default None: `default_split_anchor`, 10 for windows without
  sequence, 0 with it): the weight of `varinterp.models.deepdetails.loss.split_anchor`,
  which keeps the counts dividing as the scale function unless the bulk pays for more.
- ``counts_start`` (default ``"split"``): the counts heads' last weights start at zero
  (`start_at_scale_split`), so the untrained model's counts are the scale function's
  split of the bulk and every cell type starts at the same count scale; ``"random"`` is
  the reference's initialisation, under which the heads start at random, different
  scales and a short run keeps whichever cell type its seed favoured.

Self-check: after training, a cell type whose predicted total (per strand, over the
training windows) is below ``collapse_tol`` x the mean total is a collapsed branch; the
run is retried with the next seed, up to `max_retry` more times.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from varinterp.deconv.prep import DeconvData, load_data
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text, check_output
from varinterp.io.readers import load_checkpoint
from varinterp.models.deepdetails.card import model_card
from varinterp.models.deepdetails.files import MEMBER
from varinterp.models.deepdetails.loss import DeconvLoss
from varinterp.models.deepdetails.network import (
    DeepDetailsConfig,
    build_model,
    start_at_scale_split,
)
from varinterp.models.deepdetails.task import DeconvTask, branch_totals, penalty_weight
from varinterp.progress import ProgressCallback
from varinterp.training.devices import resolve_device
from varinterp.training.engine import EpochLog, fit
from varinterp.training.modeldir import save_model_dir
from varinterp.training.settings import FitSettings, OptimizerSettings

__all__ = [
    "COUNTS_STARTS",
    "SPLIT_ANCHOR",
    "TrainResult",
    "TrainSettings",
    "branch_totals",
    "default_split_anchor",
    "initial_count_scale",
    "model_config",
    "penalty_weight",
    "split_windows",
    "train_deconv",
]

COUNTS_STARTS = ("split", "random")
SPLIT_ANCHOR = 10.0
EpochCallback = Callable[[EpochLog, list[EpochLog]], None]
_FRESH = "delete it (or train with --no-resume) to start the run afresh"


@dataclass(frozen=True)
class TrainSettings:
    """How `train_deconv` trains (module docstring); `fit_settings` gives the engine's."""

    epochs: int = 50
    batch_size: int = 32
    lr: float = 1e-3
    lr_decay: float = 0.1
    alpha: float = 1.0
    redundancy: bool = True
    redundancy_warmup: float = 0.0
    redundancy_ramp: float = 1.0
    penalty_sample_weight: str = "counts"
    count_scale: float | None = None
    counts_start: str = "split"
    split_anchor: float | None = None
    patience: int = 2
    min_delta: float = 1e-4
    seed: int = 0
    max_retry: int = 3
    collapse_tol: float = 1e-3
    holdout: bool = False
    val_chroms: tuple[str, ...] = ("chr22",)
    test_chroms: tuple[str, ...] = ("chr19",)

    def fit_settings(self) -> FitSettings:
        """The engine's settings: Adam, StepLR-like decay every epoch, early stopping on
        ``val_loss`` with the hold-out, else on ``train_loss``."""
        optimizer = OptimizerSettings(
            name="adam",
            lr=self.lr,
            betas=(0.9, 0.999),
            eps=1e-8,
            decay_every=1,
            decay_gamma=self.lr_decay,
        )
        return FitSettings(
            max_epochs=self.epochs,
            patience=self.patience,
            min_delta=self.min_delta,
            monitor="val_loss" if self.holdout else "train_loss",
            optimizer=optimizer,
            max_retry=self.max_retry,
        )


@dataclass
class TrainResult:
    """What `train_deconv` did: the model directory, the attempts, the epochs of the
    last attempt, its best monitored loss and epoch, and the self-check (whether it
    passed and the predicted totals ``(K, S)`` it was decided on)."""

    model_dir: Path
    attempts: int
    epochs: int
    best_loss: float
    qc_passed: bool
    branch_totals: list[list[float]] = field(default_factory=list)
    best_epoch: int = -1


def initial_count_scale(data: DeconvData, index: np.ndarray | None = None) -> float:
    """A tenth of the typical bulk count of a window and strand (at least 1.0).

    "Typical" is the geometric mean, ``expm1(mean(log1p(total)))``, over the windows at
    `index` (all by default), matching the log scale of the loss.
    """
    target = data.target_bulk() if index is None else data.target_bulk()[index]
    totals = np.abs(target).sum(axis=-1, dtype=np.float64)
    if totals.size == 0:
        return 1.0
    return float(max(1.0, 0.1 * np.expm1(np.log1p(totals).mean())))


def split_windows(data: DeconvData, settings: TrainSettings) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation window indices (``(m,) int64`` each): all windows and
    none, or with ``holdout`` the windows off the validation and test contigs and the
    windows on the validation contigs."""
    if not settings.holdout:
        return np.arange(data.n), np.array([], dtype=np.int64)
    chroms = data.regions["chrom"].astype(str).to_numpy()
    val = np.isin(chroms, settings.val_chroms)
    test = np.isin(chroms, settings.test_chroms)
    train = ~(val | test)
    if not train.any() or not val.any():
        msg = (
            f"chromosome hold-out needs windows outside and inside the validation contigs "
            f"{list(settings.val_chroms)}; got {int(train.sum())} training and "
            f"{int(val.sum())} validation windows (drop --holdout for a single-contig run)"
        )
        raise InputError(msg)
    return np.flatnonzero(train), np.flatnonzero(val)


def model_config(data: DeconvData, **architecture: Any) -> DeepDetailsConfig:
    """A `DeepDetailsConfig` for `data` (its cell types, strands and window length) with
    the `architecture` fields (``seq_only``, ``filters``, ...); bad values are an
    `InputError`."""
    fields = {
        "n_cell_types": len(data.cell_types),
        "n_strands": data.n_strands,
        "input_length": int(data.seq.shape[-1]),
        **architecture,
    }
    try:
        return DeepDetailsConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise InputError(f"DeepDETAILS model: {exc}") from None


def _check(data: DeconvData, config: DeepDetailsConfig, s: TrainSettings) -> None:
    if config.n_cell_types != len(data.cell_types) or config.n_strands != data.n_strands:
        msg = (
            f"model expects {config.n_cell_types} cell types x {config.n_strands} strands; "
            f"data has {len(data.cell_types)} x {data.n_strands}"
        )
        raise InputError(msg)
    if config.input_length != data.seq.shape[-1] or config.output_length != data.target_length:
        msg = (
            f"model maps {config.input_length} bp to {config.output_length} bp; data windows "
            f"are {data.seq.shape[-1]} bp with a {data.target_length}-bp target"
        )
        raise InputError(msg)
    if s.penalty_sample_weight not in ("none", "counts"):
        msg = f"penalty weighting must be 'counts' or 'none', got {s.penalty_sample_weight!r}"
        raise InputError(msg)
    if s.redundancy_warmup < 0 or s.redundancy_ramp < 0:
        raise InputError("the redundancy warm-up and ramp must be >= 0 epochs")
    if s.counts_start not in COUNTS_STARTS:
        msg = f"counts start must be one of {', '.join(COUNTS_STARTS)}, got {s.counts_start!r}"
        raise InputError(msg)


def default_split_anchor(data: DeconvData) -> float:
    """The split anchor's weight when none is given: `SPLIT_ANCHOR` for windows without
    sequence (all N: nothing but the accessibility can tell the cell types apart, and
    the bulk's division among them is not identified), 0 with sequence."""
    return 0.0 if data.seq.any() else SPLIT_ANCHOR


def _new_model(config: DeepDetailsConfig, counts_start: str) -> torch.nn.Module:
    model = build_model(config)
    return start_at_scale_split(model) if counts_start == "split" else model


def _log_row(log: EpochLog, with_validation: bool) -> dict[str, Any]:
    m = log.metrics
    row = {
        "attempt": log.attempt,
        "epoch": log.epoch,
        "lr": log.lr,
        "train_loss": m["train_loss"],
        "train_rmsle": m["train_rmsle"],
        "train_penalty": m["train_penalty"],
        "penalty_weight": m["penalty_weight"],
        "val_loss": m.get("val_loss"),
    }
    if "train_anchor" in m:
        row["train_anchor"] = m["train_anchor"]
    if with_validation:
        row.update(val_rmsle=m["val_rmsle"], val_penalty=m["val_penalty"])
    row.update(best=log.best, seconds=log.seconds)
    return row


@dataclass
class _MetricsLog:
    """``metrics.jsonl``, rewritten atomically after every epoch from the engine's log
    (earlier attempts' lines kept), so a resumed run never repeats or loses a line."""

    path: Path
    with_validation: bool
    then: EpochCallback | None = None

    def __call__(self, log: EpochLog, history: list[EpochLog]) -> None:
        rows = []
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line) if line.strip() else None
                if row is not None and int(row.get("attempt", 0)) < log.attempt:
                    rows.append(row)
        rows += [_log_row(h, self.with_validation) for h in history]
        text = "".join(json.dumps(r) + "\n" for r in rows)
        atomic_write_text(self.path, text)
        if self.then is not None:
            self.then(log, history)


def _prepare_resume(state_path: Path) -> None:
    """A checkpoint of the previous release's trainer cannot be resumed: an `InputError`
    saying so (the engine resumes its own checkpoints, also with more epochs)."""
    state = load_checkpoint(state_path, "training checkpoint", fix=_FRESH)
    if not isinstance(state, dict) or "early_stopping" not in state:
        msg = f"{state_path} was written by an earlier varinterp and cannot be resumed; {_FRESH}"
        raise InputError(msg)


def train_deconv(
    data: DeconvData | str | os.PathLike,
    *,
    config: DeepDetailsConfig | Mapping[str, Any] | None = None,
    out: str | os.PathLike,
    settings: TrainSettings | None = None,
    device: str | torch.device = "cpu",
    resume: bool = True,
    on_progress: ProgressCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train on `data` (a `DeconvData` or a ``data.h5``) and write ``out/model``.

    `config` is a `DeepDetailsConfig`, or the architecture fields of one (the data's
    cell types, strands and window length are filled in, `model_config`). With `resume`
    a ``checkpoint.pt`` in `out` is continued; without it the run starts afresh.
    `on_progress(done, total)` counts the batches of each epoch; `on_epoch(log,
    history)` gets the engine's `EpochLog` after every epoch. See the module docstring.
    """
    check_output(out)
    s = settings or TrainSettings()
    if not isinstance(data, DeconvData):
        data = load_data(data)
    if not isinstance(config, DeepDetailsConfig):
        config = model_config(data, **dict(config or {}))
    _check(data, config, s)
    if s.split_anchor is None:
        s = dataclasses.replace(s, split_anchor=default_split_anchor(data))
    fit_settings = s.fit_settings()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    train_idx, val_idx = split_windows(data, s)
    count_scale = s.count_scale or initial_count_scale(data, train_idx)
    config = dataclasses.replace(config, count_scale=float(count_scale))
    loss = DeconvLoss(
        alpha=s.alpha,
        redundancy=s.redundancy,
        sample_weight=s.penalty_sample_weight,
        anchor=s.split_anchor,
    )
    steps_per_epoch = math.ceil(train_idx.size / s.batch_size)
    task = DeconvTask(
        data,
        train_index=train_idx,
        val_index=val_idx,
        batch_size=s.batch_size,
        loss=loss,
        warmup_steps=round(s.redundancy_warmup * steps_per_epoch),
        ramp_steps=round(s.redundancy_ramp * steps_per_epoch),
        collapse_tol=s.collapse_tol,
    )
    state_path, log_path = out / "checkpoint.pt", out / "metrics.jsonl"
    if resume and state_path.is_file():
        _prepare_resume(state_path)
    else:
        state_path.unlink(missing_ok=True)
        log_path.unlink(missing_ok=True)
    fitted = fit(
        make_model=lambda attempt: _new_model(config, s.counts_start),
        task=task,
        settings=fit_settings,
        device=dev,
        seed=s.seed,
        order_seed=(s.seed,),
        state_path=state_path,
        on_epoch=_MetricsLog(log_path, task.has_validation(), on_epoch),
        on_progress=on_progress,
    )
    totals = task.last_totals if task.last_totals is not None else np.zeros((0, 0))
    result = TrainResult(
        model_dir=out / "model",
        attempts=fitted.attempts,
        epochs=fitted.epochs_run,
        best_loss=float(fitted.best_value),
        qc_passed=bool(fitted.accepted),
        branch_totals=totals.tolist(),
        best_epoch=int(fitted.best_epoch),
    )
    metadata = {
        "cell_types": list(data.cell_types),
        "tasks": list(data.cell_types),
        "n_windows": data.n,
        "n_train": int(train_idx.size),
        "n_validation": int(val_idx.size),
        "contributions": None
        if data.contributions is None
        else list(map(float, data.contributions)),
        "exponent": float(data.exponent),
        "training": asdict(s),
        "best_epoch": result.best_epoch,
        "best_loss": result.best_loss,
        "epochs": result.epochs,
        "attempts": result.attempts,
        "qc_passed": result.qc_passed,
        "branch_totals": result.branch_totals,
    }
    save_model_dir(
        result.model_dir,
        config=config,
        folds={MEMBER: fitted.best_state},
        metadata=metadata,
        card=model_card(
            config=config,
            metadata=metadata,
            history=fitted.history,
            n_parameters=sum(v.numel() for v in fitted.best_state.values()),
        ),
        overwrite=True,
    )
    summary = {
        **asdict(result),
        "model_dir": result.model_dir.name,
        "settings": asdict(s),
        "n_windows": data.n,
        "n_train": int(train_idx.size),
    }
    atomic_write_text(out / "train.json", json.dumps(summary, indent=2) + "\n")
    return result
