"""Model directories: ``config.json`` + ``fold_*.safetensors`` (+ ``README.md`` card).

A model directory holds one architecture and one config, and one weight file per fold
model (a chromosome-fold ensemble has ``fold_1`` ... ``fold_9``)::

    models/clipnet-lcl/
      config.json            {"format": "varinterp-model", "format_version": 1,
                              "architecture": "clipnet", "config": {...},
                              "folds": ["fold_1", ...], "metadata": {...}}
      fold_1.safetensors     the fold's state dict; header metadata repeats the
      ...                    architecture and fold name
      README.md              model card (optional)

Loading never executes code from the directory: the config is JSON, the weights are
safetensors, and the architecture name picks a class from a fixed registry in this
module (`register_architecture`). A directory of another architecture, or weights that
do not fit the config, is refused with an `InputError`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir
from varinterp.progress import ProgressCallback

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ImportResult",
    "ModelDir",
    "import_clipnet_keras",
    "load_fold",
    "load_model_dir",
    "read_model_dir",
    "register_architecture",
    "save_model_dir",
]

FORMAT = "varinterp-model"
FORMAT_VERSION = 1
_FOLD_RE = re.compile(r"^fold_[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class _Arch:
    config_cls: type
    model_cls: type[nn.Module]


_REGISTRY: dict[str, _Arch] = {}


def register_architecture(name: str, config_cls: type, model_cls: type[nn.Module]) -> None:
    """Make `name` loadable: `config_cls.from_dict(d)` and `model_cls(config)` must exist."""
    _REGISTRY[name] = _Arch(config_cls, model_cls)


def _builtin() -> None:
    if "clipnet" not in _REGISTRY:
        from varinterp.nets.clipnet import Clipnet, ClipnetConfig

        register_architecture("clipnet", ClipnetConfig, Clipnet)


def _arch(name: str, where: Path) -> _Arch:
    _builtin()
    if name not in _REGISTRY:
        msg = (
            f"{where}: unknown architecture {name!r}; this varinterp knows "
            f"{', '.join(sorted(_REGISTRY))}"
        )
        raise InputError(msg)
    return _REGISTRY[name]


def _architecture_of(config: Any) -> str:
    _builtin()
    for name, arch in _REGISTRY.items():
        if type(config) is arch.config_cls:
            return name
    msg = f"no architecture registered for config type {type(config).__name__}"
    raise InputError(msg)


@dataclass
class ModelDir:
    """What a model directory's ``config.json`` says."""

    path: Path
    architecture: str
    config: Any
    folds: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)


def save_model_dir(
    out: str | os.PathLike,
    *,
    config: Any,
    folds: Mapping[str, nn.Module | Mapping[str, torch.Tensor]],
    metadata: Mapping[str, Any] | None = None,
    card: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a model directory atomically and return its path.

    `folds` maps fold names (``fold_1``, ...) to modules or state dicts of
    ``model_cls(config)``. `metadata` (JSON-serialisable) goes into ``config.json``;
    `card` (Markdown) into ``README.md``.
    """
    from safetensors.torch import save_file

    out = Path(out)
    name = _architecture_of(config)
    if not folds:
        msg = f"no fold models to write to {out}"
        raise InputError(msg)
    for fold in folds:
        if not _FOLD_RE.match(fold):
            msg = f"fold name {fold!r} must look like fold_1 (letters, digits, _ . -)"
            raise InputError(msg)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": name,
        "config": config.to_dict(),
        "folds": list(folds),
        "metadata": dict(metadata or {}),
    }
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "config.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        for fold, weights in folds.items():
            sd = weights.state_dict() if isinstance(weights, nn.Module) else weights
            tensors = {k: v.detach().cpu().contiguous() for k, v in sd.items()}
            save_file(
                tensors,
                str(tmp / f"{fold}.safetensors"),
                # one key: safetensors orders several header keys at random, and a
                # model file should be byte-identical when saved twice
                metadata={
                    "varinterp": json.dumps(
                        {"architecture": name, "fold": fold, "format": FORMAT}, sort_keys=True
                    )
                },
            )
        if card is not None:
            (tmp / "README.md").write_text(card, encoding="utf-8")
    return out


def read_model_dir(path: str | os.PathLike, *, architecture: str | None = None) -> ModelDir:
    """Read and check ``config.json`` of a model directory (no weights are loaded).

    With `architecture`, a directory holding another architecture is an `InputError`.
    """
    path = Path(path)
    cfg_path = path / "config.json"
    if not path.is_dir():
        msg = f"model directory {path} does not exist; pass a folder with config.json"
        raise InputError(msg)
    if not cfg_path.is_file():
        msg = f"{path} is not a model directory: config.json is missing"
        raise InputError(msg)
    try:
        doc = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{cfg_path} is not valid JSON ({exc}); restore it from the model's source"
        raise InputError(msg) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        msg = f"{cfg_path} is not a varinterp model config (missing 'format': '{FORMAT}')"
        raise InputError(msg)
    if doc.get("format_version", 0) > FORMAT_VERSION:
        msg = (
            f"{cfg_path} has format_version {doc.get('format_version')}; this varinterp "
            f"reads up to {FORMAT_VERSION}: upgrade varinterp"
        )
        raise InputError(msg)
    name = doc.get("architecture")
    if architecture is not None and name != architecture:
        msg = (
            f"{path} holds a {name!r} model but a {architecture!r} model is needed; "
            f"pass a {architecture} model directory"
        )
        raise InputError(msg)
    arch = _arch(str(name), path)
    if not isinstance(doc.get("config"), dict):
        msg = f"{cfg_path}: 'config' must be a JSON object of {name} config fields"
        raise InputError(msg)
    config = arch.config_cls.from_dict(doc["config"])
    folds = doc.get("folds") or []
    if not folds or not all(isinstance(f, str) and _FOLD_RE.match(f) for f in folds):
        msg = f"{cfg_path}: 'folds' must list fold names like fold_1, got {folds!r}"
        raise InputError(msg)
    return ModelDir(path, str(name), config, list(folds), dict(doc.get("metadata") or {}))


def load_fold(model_dir: ModelDir, fold: str, *, device: str | torch.device = "cpu") -> nn.Module:
    """Build the fold's module from safetensors weights, in eval mode, on `device`."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    if fold not in model_dir.folds:
        msg = f"{model_dir.path} has no fold {fold!r}; it has {', '.join(model_dir.folds)}"
        raise InputError(msg)
    file = model_dir.path / f"{fold}.safetensors"
    if not file.is_file():
        msg = f"weights {file} are missing; re-import or re-download the model"
        raise InputError(msg)
    try:
        with safe_open(str(file), framework="pt") as f:
            raw = f.metadata() or {}
        state = load_file(str(file), device="cpu")
    except (SafetensorError, OSError) as exc:
        msg = f"{file} is not a readable safetensors file ({exc})"
        raise InputError(msg) from None
    try:
        meta = json.loads(raw["varinterp"]) if "varinterp" in raw else dict(raw)
    except ValueError:
        msg = f"{file} has unreadable varinterp metadata; re-save the model"
        raise InputError(msg) from None
    if meta.get("architecture", model_dir.architecture) != model_dir.architecture:
        msg = (
            f"{file} holds {meta['architecture']!r} weights but {model_dir.path} is a "
            f"{model_dir.architecture!r} model; the file belongs to another model"
        )
        raise InputError(msg)
    arch = _arch(model_dir.architecture, model_dir.path)
    model = arch.model_cls(model_dir.config)
    _check_state(model, state, file)
    model.load_state_dict(state)
    return model.to(device).eval()


def _check_state(model: nn.Module, state: Mapping[str, torch.Tensor], file: Path) -> None:
    want = model.state_dict()
    missing = sorted(set(want) - set(state))
    extra = sorted(set(state) - set(want))
    bad = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or extra or bad:
        detail = f"missing {missing[:3]}" if missing else f"unexpected {extra[:3]}" if extra else ""
        if not detail:
            k = bad[0]
            detail = f"{k} has shape {tuple(state[k].shape)}, config needs {tuple(want[k].shape)}"
        msg = f"{file} does not fit the directory's config.json ({detail}); is it another model?"
        raise InputError(msg)


def load_model_dir(
    path: str | os.PathLike,
    *,
    architecture: str | None = None,
    folds: Sequence[str] | None = None,
    device: str | torch.device = "cpu",
) -> tuple[ModelDir, dict[str, nn.Module]]:
    """Read a model directory and build its fold models (all, or the named `folds`)."""
    model_dir = read_model_dir(path, architecture=architecture)
    names = list(folds) if folds is not None else model_dir.folds
    return model_dir, {f: load_fold(model_dir, f, device=device) for f in names}


@dataclass
class ImportResult:
    """What `import_clipnet_keras` wrote."""

    out: Path
    folds: dict[str, str]  # fold name -> source file name
    n_params: int


def _fold_names(paths: Sequence[Path]) -> list[str]:
    names = [p.stem if _FOLD_RE.match(p.stem) else f"fold_{i + 1}" for i, p in enumerate(paths)]
    if len(set(names)) != len(names):
        msg = f"Keras files give duplicate fold names {names}; name them fold_1.h5, fold_2.h5, ..."
        raise InputError(msg)
    return names


def import_clipnet_keras(
    h5_paths: Sequence[str | os.PathLike],
    *,
    out: str | os.PathLike,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    extra_card: str = "",
) -> ImportResult:
    """Convert published CLIPNET Keras ``fold_*.h5`` files into a model directory.

    Fold names come from the file names (``fold_3.h5`` -> ``fold_3``), else from the
    order given. All files must share one architecture. Writes ``config.json``,
    ``fold_*.safetensors`` and a ``README.md`` model card to `out`.
    """
    from varinterp.nets.clipnet import keras_param_count
    from varinterp.nets.clipnet_keras import read_keras_clipnet

    paths = [Path(p) for p in h5_paths]
    if not paths:
        msg = "no Keras .h5 files given; pass fold_*.h5 files"
        raise InputError(msg)
    names = _fold_names(paths)
    converted = {}
    for i, (name, p) in enumerate(zip(names, paths, strict=True)):
        converted[name] = read_keras_clipnet(p)
        if on_progress is not None:
            on_progress(i + 1, len(paths))
    configs = {c.config for c in converted.values()}
    if len(configs) > 1:
        msg = "the Keras files have different architectures; import each model separately"
        raise InputError(msg)
    config = configs.pop()
    from varinterp.nets.clipnet import Clipnet

    n_params = keras_param_count(Clipnet(config))
    sources = {name: c.source for name, c in converted.items()}
    card = _import_card(config, sources, n_params) + extra_card
    save_model_dir(
        out,
        config=config,
        folds={name: c.state_dict for name, c in converted.items()},
        metadata={"imported_from": sources, "output": "profile+quantity"},
        card=card,
        overwrite=overwrite,
    )
    return ImportResult(Path(out), {n: s["file"] for n, s in sources.items()}, n_params)


_CARD = """# CLIPNET (imported from Keras)

Converted by `varinterp models import-clipnet` from the Keras files below; the
architecture is CLIPNET (published layout; sizes in `config.json`, see `docs/models.md`).

- Folds: {folds}
- Source files: {files}
- Keras version that wrote them: {keras}
- Parameters (Keras count, incl. BatchNorm moving statistics): {n_params:,}
- Input: `(batch, 4, {L})` two-hot (A, C, G, T; homozygous = 2, het = 1 + 1, N = 0).
- Outputs: profile `(batch, {P})` (plus strand, then minus strand, input positions
  {start}-{end}; non-negative, shape only) and quantity `(batch, 1)` (linear RPM).
- Ensemble: average the folds' profile and quantity outputs.

Conversion: Conv1D kernels `(k, in, out)` -> `(out, in, k)`, Dense kernels transposed,
BatchNorm gamma/beta/moving mean/moving variance -> weight/bias/running mean/running
variance (eps {eps}). Checked numerically against TensorFlow/Keras on a model written by
Keras with the same layer layout (see `docs/models.md`); the imported files themselves
were not re-run in TensorFlow by this command.

Intended use, training data and metrics: see the CLIPNET paper and the source record
of the weights.
"""


def _import_card(config: Any, sources: Mapping[str, Mapping[str, str]], n_params: int) -> str:
    kv = sorted({s.get("keras_version", "unknown") for s in sources.values()})
    return _CARD.format(
        folds=", ".join(sources),
        files=", ".join(s["file"] for s in sources.values()),
        keras=", ".join(kv),
        n_params=n_params,
        L=config.input_length,
        P=config.profile_size,
        start=config.output_start,
        end=config.output_start + config.output_length - 1,
        eps=config.bn_eps,
    )
