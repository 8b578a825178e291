"""The TOML run config of ``varinterp train bpaitac``, ``train tn5-bias`` and ``evaluate``.

Relative paths are relative to the TOML's folder; unknown sections or keys are an
`InputError`. Every key, with the defaults of ``train bpaitac`` (``train tn5-bias``'s
differ where noted)::

    [data]
    fasta = "reference.fa"
    tasks = "insertions/tasks.tsv"  # task<TAB>bigwig (varinterp atac insertions writes it)
    peaks = "insertions/peaks.bed"  # OCRs (tn5-bias: closed / background regions)
    validation_chroms = ["chr12", "chr15"]  # the paper's (mouse)
    test_chroms = ["chr11", "chr16"]
    validation_fraction = 0.0    # > 0: that random share of the non-test windows
                                 # validates instead (tn5-bias: 0.1, as the public code)
    normalize = "quantile"       # per-task quantile normalisation of centre sums, or "none"
                                 # (tn5-bias: "none")
    rescale_profiles = false     # true: profiles times the normalisation factor (the
                                 # public code; the paper leaves them raw)
    min_total = 0.0              # drop windows with fewer insertions (tn5-bias: 10)
    memmap_dir = ""              # keep the arrays in memory-mapped files there

    [model]
    preset = "published"         # 300 filters, 9 blocks, 998 bp; "small": 32, 5, 500 bp
    # any BpAiTacConfig field: filters, n_blocks, input_length, output_length,
    # stem_activation ("relu" = paper, "none" = public code), scalar_pools, ...

    [training]
    loss = "ce"                  # ce | mnll | poisson (tn5-bias: jsd, or ce)
    lambda = 0.5                 # profile share of the composite loss, in [0, 1]
    lr = 1e-3                    # Adam
    batch_size = 20
    max_epochs = 200
    patience = 10                # early stopping on the validation loss
    min_delta = 0.0
    warmup_steps = 1000          # linear warm-up of the lr from warmup_start x lr
    warmup_start = 1e-3          # (the public code: 1e-6 -> 1e-3)
    replicates = 1               # members trained from seeds seed*1000 + k
    seed = 0
    device = "auto"
    bf16 = true                  # bf16 autocast on CUDA
    prefetch = 2
    max_batches_per_epoch = 0
    bias_model = ""              # a tn5-bias model directory ("" = give one on the command
                                 # line, or train --no-bias)
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from varinterp.errors import InputError
from varinterp.io.readers import read_text
from varinterp.models.bpaitac.data import NORMALIZATIONS, PUBLISHED_TEST, PUBLISHED_VALIDATION
from varinterp.models.bpaitac.loss import LOSS_KINDS
from varinterp.models.bpaitac.network import BpAiTacConfig
from varinterp.training.settings import FitSettings, OptimizerSettings

__all__ = [
    "KINDS",
    "DataConfig",
    "RunConfig",
    "TrainingConfig",
    "fit_settings",
    "load_run_config",
    "model_config_from",
]

KINDS = ("bpaitac", "tn5-bias")


@dataclass(frozen=True)
class DataConfig:
    """The ``[data]`` section."""

    fasta: Path
    tasks: Path
    peaks: Path
    validation_chroms: tuple[str, ...] = PUBLISHED_VALIDATION
    test_chroms: tuple[str, ...] = PUBLISHED_TEST
    validation_fraction: float = 0.0
    normalize: str = "quantile"
    rescale_profiles: bool = False
    min_total: float = 0.0
    memmap_dir: Path | None = None


@dataclass(frozen=True)
class TrainingConfig:
    """The ``[training]`` section (``lam`` is the TOML key ``lambda``)."""

    loss: str = "ce"
    lam: float = 0.5
    lr: float = 1e-3
    batch_size: int = 20
    max_epochs: int = 200
    patience: int = 10
    min_delta: float = 0.0
    warmup_steps: int = 1000
    warmup_start: float = 1e-3
    replicates: int = 1
    seed: int = 0
    device: str = "auto"
    bf16: bool = True
    prefetch: int = 2
    max_batches_per_epoch: int = 0
    bias_model: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["bias_model"] = None if self.bias_model is None else str(self.bias_model)
        return out


@dataclass(frozen=True)
class RunConfig:
    """A parsed run config of `kind` (``bpaitac`` or ``tn5-bias``)."""

    path: Path
    kind: str
    data: DataConfig
    training: TrainingConfig
    model: dict[str, Any] = field(default_factory=dict)


_DEFAULTS = {
    "tn5-bias": {
        "data": {"validation_fraction": 0.1, "normalize": "none", "min_total": 10.0},
        "training": {"loss": "jsd", "lam": 1.0},
    },
}
_PATHS = {"fasta", "tasks", "peaks", "memmap_dir", "bias_model"}
_REQUIRED = ("fasta", "tasks", "peaks")


def _err(path: Path, what: str) -> InputError:
    return InputError(f"run config {path}: {what}")


def _value(path: Path, section: str, key: str, value: Any, kind: Any) -> Any:
    text = str(kind)
    where = f"[{section}] {key} = {value!r}"
    if key in _PATHS:
        if not isinstance(value, str):
            raise _err(path, f"{where} must be a path (a string)")
        if value == "":
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else path.parent / p
    if text.startswith("tuple"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _err(path, f"{where} must be a list of contig names")
        return tuple(value)
    want = {"float": float, "int": int, "bool": bool, "str": str}[text]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise _err(path, f"{where} must be a {want.__name__}")
    return value


def _section(path: Path, name: str, raw: dict, cls: type, defaults: dict) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = {("lambda" if k == "lam" else k): k for k in fields}
    bad = sorted(set(raw) - set(keys))
    if bad:
        raise _err(path, f"unknown key(s) {', '.join(bad)} in [{name}]; known: "
                         f"{', '.join(sorted(keys))}")  # fmt: skip
    values = dict(defaults)
    for key, value in raw.items():
        attr = keys[key]
        values[attr] = _value(path, name, key, value, fields[attr].type)
    return values


def _check(path: Path, data: DataConfig, t: TrainingConfig) -> None:
    checks = [
        (data.normalize in NORMALIZATIONS, f"[data] normalize must be one of {NORMALIZATIONS}"),
        (0.0 <= data.validation_fraction < 1.0, "[data] validation_fraction must be in [0, 1)"),
        (data.min_total >= 0, "[data] min_total must be >= 0"),
        (t.loss in LOSS_KINDS, f"[training] loss must be one of {', '.join(LOSS_KINDS)}"),
        (0.0 <= t.lam <= 1.0, f"[training] lambda must be in [0, 1], got {t.lam:g}"),
        (t.lr > 0, "[training] lr must be > 0"),
        (t.batch_size >= 1, "[training] batch_size must be >= 1"),
        (t.max_epochs >= 1 and t.patience >= 1, "[training] max_epochs, patience must be >= 1"),
        (t.warmup_steps >= 0, "[training] warmup_steps must be >= 0"),
        (0 < t.warmup_start <= 1, "[training] warmup_start must be in (0, 1]"),
        (t.replicates >= 1, "[training] replicates must be >= 1"),
        (t.max_batches_per_epoch >= 0 and t.prefetch >= 0, "[training] counts must be >= 0"),
        (
            t.device in ("auto", "cpu", "cuda") or t.device.startswith("cuda:"),
            '[training] device must be "auto", "cpu", "cuda" or "cuda:N"',
        ),
    ]
    for ok, what in checks:
        if not ok:
            raise _err(path, what)


def load_run_config(path: str | os.PathLike, *, kind: str = "bpaitac") -> RunConfig:
    """Parse and check a run config of `kind` (module docstring)."""
    if kind not in KINDS:
        raise InputError(f"run config kind must be one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"run config {path} does not exist; check the path")
    try:
        raw = tomllib.loads(read_text(path, "run config"))
    except tomllib.TOMLDecodeError as exc:
        raise _err(path, f"not valid TOML ({exc})") from None
    bad = sorted(set(raw) - {"data", "model", "training"})
    if bad:
        raise _err(path, f"unknown section(s) {', '.join(bad)}; known: data, model, training")
    for name in ("data", "model", "training"):
        if name in raw and not isinstance(raw[name], dict):
            raise _err(path, f"{name} must be a [{name}] table")
    if "data" not in raw:
        raise _err(path, "needs a [data] section")
    missing = [k for k in _REQUIRED if k not in raw["data"]]
    if missing:
        raise _err(path, f"[data] needs {', '.join(missing)}")
    defaults = _DEFAULTS.get(kind, {})
    data = DataConfig(**_section(path, "data", raw["data"], DataConfig, defaults.get("data", {})))
    training = TrainingConfig(
        **_section(path, "training", raw.get("training", {}), TrainingConfig,
                   defaults.get("training", {}))
    )  # fmt: skip
    _check(path, data, training)
    model = dict(raw.get("model", {}))
    model_config_from(model, n_tasks=1, where=f"run config {path}")  # check early
    return RunConfig(path=path, kind=kind, data=data, training=training, model=model)


_NOT_IN_TOML = {"n_tasks", "bias", "scalar_head"}


def model_config_from(
    section: dict[str, Any] | None,
    *,
    n_tasks: int,
    bias: BpAiTacConfig | None = None,
    tn5_bias: bool = False,
    where: str = "model section",
) -> BpAiTacConfig:
    """The `BpAiTacConfig` of a ``[model]`` section (preset + field overrides) for
    `n_tasks` tasks and the frozen `bias` network (or a Tn5 bias network itself)."""
    section = dict(section or {})
    preset = section.pop("preset", "published")
    if preset not in ("published", "small"):
        raise InputError(f'{where}: [model] preset must be "published" or "small"')
    known = {f.name for f in dataclasses.fields(BpAiTacConfig)} - _NOT_IN_TOML
    bad = sorted(set(section) - known)
    if bad:
        msg = f"{where}: unknown key(s) {', '.join(bad)} in [model]; known: preset, " + ", ".join(
            sorted(known)
        )
        raise InputError(msg)
    try:
        base = BpAiTacConfig.small() if preset == "small" else BpAiTacConfig()
        fields = {**dataclasses.asdict(base), **section, "n_tasks": n_tasks, "bias": None}
        fields["scalar_pools"] = tuple(fields["scalar_pools"])
        if tn5_bias:
            return BpAiTacConfig.tn5_bias(**{k: v for k, v in fields.items() if k not in
                                             ("n_tasks", "scalar_head", "bias")})  # fmt: skip
        return BpAiTacConfig(**{**fields, "bias": bias})
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


def fit_settings(t: TrainingConfig) -> FitSettings:
    """The engine's settings: Adam at `lr` with the linear warm-up over `warmup_steps`
    optimizer steps, early stopping on ``val_loss``, bf16 on CUDA. (The public code also
    divides the lr by 10 when the training loss rises; the engine has no such rule.)"""
    return FitSettings(
        max_epochs=t.max_epochs,
        patience=t.patience,
        min_delta=t.min_delta,
        monitor="val_loss",
        optimizer=OptimizerSettings(
            name="adam", lr=t.lr, warmup_steps=t.warmup_steps, warmup_start=t.warmup_start
        ),
        bf16=t.bf16,
        max_batches_per_epoch=t.max_batches_per_epoch,
        prefetch=t.prefetch,
    )
