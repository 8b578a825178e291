"""The TOML run config of ``varinterp train clipnet`` / ``finetune`` / ``evaluate``.

`fit_settings` turns its ``[training]`` section into the engine's `FitSettings`.

Relative paths are relative to the TOML file's folder. Unknown sections or keys are an
`InputError` (a typo must not silently fall back to a default). Every key::

    [data]
    store = "cohort.vgs"         # genome store folder (varinterp genome build)
    sample_sheet = "samples.tsv" # library -> sample -> bigWigs (docs/training.md)
    peaks = "peaks.bed"          # peak BED; windows are centred on peak midpoints
    reference_only = false       # ablation: the reference sequence for every library
    indel_aware = false          # windows with the person's indels applied (centred on
                                 # the peak) and targets re-aligned to them
    normalize = "rpm"            # "rpm" (per-library reads per million) or "none"
    max_jitter = 249             # +-bp shift per example (<= output_length/2 - 1)
    eval_jitter = true           # validation/test windows at a fixed seeded shift in
                                 # +-max_jitter (false: centred on the peak)
    rc_augment = "both"          # "both" (each example also reverse complemented),
                                 # "random" (coin per example) or "none"
    folds = "human"              # "human" (published table), "auto" (balanced by
                                 # contig length) or a table: [data.folds] chr1 = 4 ...
    track_cache = ""             # optional .npy file to memory-map the track cache

    [model]                      # train only (fine-tuning keeps the source's)
    preset = "published"         # "published" (8M parameters) or "small" (CPU demos)
    # any ClipnetConfig field overrides the preset, e.g. n_dilations = 9

    [training]
    lr = 1e-3                    # Adam (beta 0.9/0.999, eps 1e-7)
    optimizer = "adam"           # "adam" (published) or "adamw"
    weight_decay = 0.0           # AdamW's decoupled decay (Adam: L2 in the gradient)
    lr_decay = 1.0               # multiply lr by this every decay_every epochs
    decay_every = 0              # 0 = no step decay
    grad_accumulation = 1        # optimizer step every this many batches
    grad_clip = 0.0              # > 0: clip the gradient norm to this
    batch_size = 256
    max_epochs = 200
    patience = 10                # early stopping on validation loss (finetune: 20)
    min_delta = 0.0              # improvement needed to reset patience
    warmup_epochs = 0            # first epochs at lr * warmup_factor (finetune: 1)
    warmup_factor = 0.1
    quantity_weight = 0.002      # 1/500, the published loss weight
    seed = 0
    device = "auto"              # "auto", "cpu", "cuda" or "cuda:1"
    bf16 = true                  # bf16 autocast on CUDA (ignored on CPU)
    prefetch = 2                 # batches built ahead in a background thread
    max_batches_per_epoch = 0    # 0 = all; else cap the batches of each epoch
    bn_recalibration_batches = 0 # > 0: before each validation, recompute BatchNorm
                                 # statistics over this many training batches
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from varinterp.datasets.tracks import NORMALIZATIONS
from varinterp.errors import InputError
from varinterp.io.readers import read_text
from varinterp.models.clipnet.data import RC_MODES
from varinterp.models.clipnet.network import ClipnetConfig
from varinterp.training.settings import FitSettings, OptimizerSettings

__all__ = [
    "DataConfig",
    "RunConfig",
    "TrainingConfig",
    "fit_settings",
    "load_run_config",
    "model_config_from",
]


@dataclass(frozen=True)
class DataConfig:
    """The ``[data]`` section (paths resolved against the TOML's folder)."""

    store: Path
    sample_sheet: Path
    peaks: Path
    reference_only: bool = False
    indel_aware: bool = False
    normalize: str = "rpm"
    max_jitter: int | None = None
    eval_jitter: bool = True
    rc_augment: str = "both"
    folds: str | dict[str, int] = "human"
    track_cache: Path | None = None


@dataclass(frozen=True)
class TrainingConfig:
    """The ``[training]`` section."""

    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_decay: float = 1.0
    decay_every: int = 0
    grad_accumulation: int = 1
    grad_clip: float = 0.0
    batch_size: int = 256
    max_epochs: int = 200
    patience: int = 10
    min_delta: float = 0.0
    warmup_epochs: int = 0
    warmup_factor: float = 0.1
    quantity_weight: float = 1.0 / 500.0
    seed: int = 0
    device: str = "auto"
    bf16: bool = True
    prefetch: int = 2
    max_batches_per_epoch: int = 0
    bn_recalibration_batches: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunConfig:
    """A parsed run config; `model` is None when the TOML has no ``[model]`` section."""

    path: Path
    data: DataConfig
    training: TrainingConfig
    model: dict[str, Any] | None = field(default=None)


_SECTIONS = ("data", "model", "training")
_DATA_REQUIRED = ("store", "sample_sheet", "peaks")


def _err(path: Path, what: str) -> InputError:
    return InputError(f"run config {path}: {what}")


def _unknown(path: Path, section: str, given: dict, known: set[str]) -> None:
    bad = sorted(set(given) - known)
    if bad:
        raise _err(
            path,
            f"unknown key(s) {', '.join(bad)} in [{section}]; known: {', '.join(sorted(known))}",
        )


def _typed(path: Path, section: str, key: str, value: Any, want: type) -> Any:
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise _err(path, f"[{section}] {key} = {value!r} must be a {want.__name__}")
    return value


def _data(path: Path, raw: dict) -> DataConfig:
    fields = {f.name for f in dataclasses.fields(DataConfig)}
    _unknown(path, "data", raw, fields)
    missing = [k for k in _DATA_REQUIRED if k not in raw]
    if missing:
        raise _err(path, f"[data] needs {', '.join(missing)}")
    base = path.parent
    out: dict[str, Any] = {}
    for key in ("store", "sample_sheet", "peaks", "track_cache"):
        if key in raw and raw[key] != "":
            p = Path(_typed(path, "data", key, raw[key], str)).expanduser()
            out[key] = p if p.is_absolute() else base / p
    for key in ("reference_only", "eval_jitter", "indel_aware"):
        if key in raw:
            out[key] = _typed(path, "data", key, raw[key], bool)
    if "normalize" in raw:
        if raw["normalize"] not in NORMALIZATIONS:
            raise _err(path, f"[data] normalize must be one of {', '.join(NORMALIZATIONS)}")
        out["normalize"] = raw["normalize"]
    if "rc_augment" in raw:
        if raw["rc_augment"] not in RC_MODES:
            raise _err(path, f"[data] rc_augment must be one of {', '.join(RC_MODES)}")
        out["rc_augment"] = raw["rc_augment"]
    if "max_jitter" in raw:
        out["max_jitter"] = _typed(path, "data", "max_jitter", raw["max_jitter"], int)
    if "folds" in raw:
        folds = raw["folds"]
        if isinstance(folds, dict):
            for k, v in folds.items():
                _typed(path, "data.folds", k, v, int)
            out["folds"] = dict(folds)
        elif folds in ("human", "auto"):
            out["folds"] = folds
        else:
            raise _err(path, '[data] folds must be "human", "auto" or a table contig = fold')
    return DataConfig(**out)


def _training(path: Path, raw: dict, defaults: dict[str, Any] | None) -> TrainingConfig:
    fields = {f.name: f for f in dataclasses.fields(TrainingConfig)}
    _unknown(path, "training", raw, set(fields))
    values = dict(defaults or {})
    for key, value in raw.items():
        want = {"float": float, "int": int, "bool": bool, "str": str}[str(fields[key].type)]
        values[key] = _typed(path, "training", key, value, want)
    cfg = TrainingConfig(**values)
    checks = [
        (cfg.lr > 0, "lr must be > 0"),
        (cfg.optimizer in ("adam", "adamw"), 'optimizer must be "adam" or "adamw"'),
        (cfg.weight_decay >= 0, "weight_decay must be >= 0"),
        (cfg.lr_decay > 0, "lr_decay must be > 0"),
        (cfg.decay_every >= 0, "decay_every must be >= 0"),
        (cfg.grad_accumulation >= 1, "grad_accumulation must be >= 1"),
        (cfg.grad_clip >= 0, "grad_clip must be >= 0"),
        (cfg.batch_size >= 1, "batch_size must be >= 1"),
        (cfg.max_epochs >= 1, "max_epochs must be >= 1"),
        (cfg.patience >= 1, "patience must be >= 1"),
        (cfg.min_delta >= 0, "min_delta must be >= 0"),
        (cfg.warmup_epochs >= 0, "warmup_epochs must be >= 0"),
        (cfg.warmup_factor > 0, "warmup_factor must be > 0"),
        (cfg.quantity_weight >= 0, "quantity_weight must be >= 0"),
        (cfg.prefetch >= 0, "prefetch must be >= 0"),
        (cfg.max_batches_per_epoch >= 0, "max_batches_per_epoch must be >= 0"),
        (cfg.bn_recalibration_batches >= 0, "bn_recalibration_batches must be >= 0"),
    ]
    for ok, what in checks:
        if not ok:
            raise _err(path, f"[training] {what}")
    if not (cfg.device in ("auto", "cpu", "cuda") or cfg.device.startswith("cuda:")):
        raise _err(path, '[training] device must be "auto", "cpu", "cuda" or "cuda:N"')
    return cfg


def load_run_config(
    path: str | os.PathLike,
    *,
    training_defaults: dict[str, Any] | None = None,
    allow_model: bool = True,
) -> RunConfig:
    """Parse and check a run config (see the module docstring).

    `training_defaults` replaces the defaults of ``[training]`` keys the file leaves out
    (fine-tuning: patience 20, one warm-up epoch). With ``allow_model=False`` a
    ``[model]`` section is an error (fine-tuning keeps the source model's).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"run config {path} does not exist; check the path"
        raise InputError(msg)
    try:
        raw = tomllib.loads(read_text(path, "run config"))
    except tomllib.TOMLDecodeError as exc:
        raise _err(path, f"not valid TOML ({exc})") from None
    _unknown(path, "top level", raw, set(_SECTIONS))
    for section in _SECTIONS:
        if section in raw and not isinstance(raw[section], dict):
            raise _err(path, f"{section} must be a [{section}] table")
    if "data" not in raw:
        raise _err(path, "needs a [data] section")
    model = raw.get("model")
    if model is not None and not allow_model:
        raise _err(path, "[model] is not allowed here: fine-tuning keeps the source's model")
    if model is not None:
        model_config_from(model, path=path)  # check early
    return RunConfig(
        path=path,
        data=_data(path, raw["data"]),
        training=_training(path, raw.get("training", {}), training_defaults),
        model=dict(model) if model is not None else None,
    )


def model_config_from(section: dict[str, Any] | None, *, path: Path | None = None) -> ClipnetConfig:
    """The `ClipnetConfig` of a ``[model]`` section (preset + field overrides)."""
    section = dict(section or {})
    preset = section.pop("preset", "published")
    where = f"run config {path}" if path else "model section"
    if preset not in ("published", "small"):
        msg = f'{where}: [model] preset must be "published" or "small", got {preset!r}'
        raise InputError(msg)
    known = {f.name for f in dataclasses.fields(ClipnetConfig)}
    bad = sorted(set(section) - known)
    if bad:
        msg = (
            f"{where}: unknown key(s) {', '.join(bad)} in [model]; known: preset, "
            f"{', '.join(sorted(known))}"
        )
        raise InputError(msg)
    return ClipnetConfig.small(**section) if preset == "small" else ClipnetConfig(**section)


def fit_settings(training: TrainingConfig) -> FitSettings:
    """The engine settings of a ``[training]`` section: Adam as in the published recipe
    (beta 0.9 / 0.999, eps 1e-7; or AdamW) at `lr`, the first `warmup_epochs` epochs at
    lr x `warmup_factor`, step decay, early stopping on the validation loss, bf16 on
    CUDA."""
    return FitSettings(
        max_epochs=training.max_epochs,
        patience=training.patience,
        min_delta=training.min_delta,
        monitor="val_loss",
        optimizer=OptimizerSettings(
            name=training.optimizer,
            lr=training.lr,
            betas=(0.9, 0.999),
            eps=1e-7,
            weight_decay=training.weight_decay,
            warmup_epochs=training.warmup_epochs,
            warmup_factor=training.warmup_factor,
            decay_every=training.decay_every,
            decay_gamma=training.lr_decay,
        ),
        grad_accumulation=training.grad_accumulation,
        grad_clip=training.grad_clip,
        bf16=training.bf16,
        max_batches_per_epoch=training.max_batches_per_epoch,
        prefetch=training.prefetch,
    )
