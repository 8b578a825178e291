"""Model directories: the one on-disk format of every model family.

A model directory holds one architecture, one config and one weight file per member of
an ensemble (a fold model of a chromosome-fold ensemble, or a replicate run)::

    models/clipnet-lcl/
      config.json            {"format": "varinterp-model", "format_version": 1,
                              "architecture": "clipnet", "config": {...},
                              "folds": ["fold_1", ...], "metadata": {...}}
      fold_1.safetensors     the member's state dict; the header metadata repeats
      ...                    the architecture and member name
      README.md              model card

``folds`` lists the members (the key keeps its first name: fold models were the first
members); a member is named like ``fold_3``, ``replicate_2`` or ``model`` (letters,
digits, ``_ . -``). ``metadata`` is free JSON; ``metadata.folds`` (contig -> fold) and
``metadata.tasks`` (task names) are read by scoring.

Loading never executes code from the directory: the config is JSON, the weights are
safetensors, and the architecture name picks a class from the fixed registry of
`varinterp.training.registry`. A directory of an unexpected architecture, or weights that
do not fit the config, is an `InputError`.

Directories of the previous release's DeepDETAILS layout (``config.json`` without
``format`` + ``model.safetensors``) still load as a one-member directory; `upgrade_model_dir`
(``varinterp models upgrade``) rewrites them in this format.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.readers import require_readable
from varinterp.training.registry import (
    Architecture,
    OutputSpec,
    architecture_of,
    config_fields,
    get_architecture,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LEGACY_WEIGHTS",
    "ModelDir",
    "UpgradeResult",
    "load_fold",
    "load_member",
    "load_model_dir",
    "read_model_dir",
    "save_model_dir",
    "upgrade_model_dir",
]

FORMAT = "varinterp-model"
FORMAT_VERSION = 1
#: The single weight file of the previous release's DeepDETAILS model folders.
LEGACY_WEIGHTS = "model.safetensors"
_MEMBER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class ModelDir:
    """What a model directory's ``config.json`` says (no weights loaded).

    `folds` lists the members in file order; `legacy` is True for a directory in the
    previous release's DeepDETAILS layout.
    """

    path: Path
    architecture: str
    config: Any
    folds: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)
    legacy: bool = False

    @property
    def members(self) -> list[str]:
        return self.folds

    @property
    def arch(self) -> Architecture:
        return get_architecture(self.architecture, where=str(self.path))

    @property
    def outputs(self) -> OutputSpec:
        """What the models of this directory predict (`OutputSpec`)."""
        return self.arch.outputs(self.config, self.metadata)


def _check_members(names: Sequence[str], where: Path) -> None:
    if not names:
        msg = f"no models to write to {where}"
        raise InputError(msg)
    for name in names:
        if not isinstance(name, str) or not _MEMBER_RE.match(name):
            msg = f"model member name {name!r} must look like fold_1 (letters, digits, _ . -)"
            raise InputError(msg)


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

    `folds` maps member names (``fold_1``, ``replicate_1``, ``model``) to modules or
    state dicts of the config's architecture. `metadata` (JSON-serialisable) goes into
    ``config.json``; `card` (Markdown) into ``README.md``. Both also record the run that
    made the directory: varinterp version, command line and inputs
    (`varinterp.provenance.run_record`, metadata key ``provenance``). Saving the same
    weights twice in the same run gives byte-identical files.
    """
    from safetensors.torch import save_file

    from varinterp.provenance import card_section, run_record

    out = Path(out)
    metadata = {"provenance": run_record(), **dict(metadata or {})}
    if card is not None:
        card = card.rstrip("\n") + "\n\n" + card_section(metadata["provenance"])
    name = architecture_of(config).name
    _check_members(list(folds), out)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": name,
        "config": config_fields(config),
        "folds": list(folds),
        "metadata": dict(metadata or {}),
    }
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "config.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        for member, weights in folds.items():
            sd = weights.state_dict() if isinstance(weights, nn.Module) else weights
            tensors = {k: v.detach().cpu().contiguous() for k, v in sd.items()}
            save_file(
                tensors,
                str(tmp / f"{member}.safetensors"),
                # one key: safetensors orders several header keys at random, and a
                # model file should be byte-identical when saved twice
                metadata={
                    "varinterp": json.dumps(
                        {"architecture": name, "fold": member, "format": FORMAT}, sort_keys=True
                    )
                },
            )
        if card is not None:
            (tmp / "README.md").write_text(card, encoding="utf-8")
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid JSON ({exc}); restore it from the model's source"
        raise InputError(msg) from None


def _is_legacy(doc: Any, path: Path) -> bool:
    return (
        isinstance(doc, dict)
        and "format" not in doc
        and isinstance(doc.get("architecture"), str)
        and (path / LEGACY_WEIGHTS).is_file()
    )


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
    doc = _read_json(cfg_path)
    legacy = _is_legacy(doc, path)
    if legacy:
        warnings.warn(
            f"{path} is in the previous release's model layout; convert it with "
            f"`varinterp models upgrade {path}`",
            DeprecationWarning,
            stacklevel=2,
        )
    elif not isinstance(doc, dict) or doc.get("format") != FORMAT:
        msg = f"{cfg_path} is not a varinterp model config (missing 'format': '{FORMAT}')"
        raise InputError(msg)
    if not legacy and doc.get("format_version", 0) > FORMAT_VERSION:
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
    arch = get_architecture(str(name), where=str(path))
    if not isinstance(doc.get("config"), dict):
        msg = f"{cfg_path}: 'config' must be a JSON object of {name} config fields"
        raise InputError(msg)
    config = arch.config_from_dict(doc["config"], where=str(cfg_path))
    members = [Path(LEGACY_WEIGHTS).stem] if legacy else (doc.get("folds") or [])
    if not members or not all(isinstance(f, str) and _MEMBER_RE.match(f) for f in members):
        msg = f"{cfg_path}: 'folds' must list fold names (members) like fold_1, got {members!r}"
        raise InputError(msg)
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        msg = f"{cfg_path}: 'metadata' must be a JSON object"
        raise InputError(msg)
    return ModelDir(path, str(name), config, list(members), dict(metadata), legacy)


def load_member(
    model_dir: ModelDir, member: str, *, device: str | torch.device = "cpu"
) -> nn.Module:
    """Build one member's module from its safetensors weights, in eval mode, on `device`."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    if member not in model_dir.folds:
        msg = f"{model_dir.path} has no model {member!r}; it has {', '.join(model_dir.folds)}"
        raise InputError(msg)
    file = model_dir.path / f"{member}.safetensors"
    if not file.is_file():
        msg = f"weights {file} are missing; re-import or re-download the model"
        raise InputError(msg)
    require_readable(file, "weights")
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
    model = model_dir.arch.build(model_dir.config)
    _check_state(model, state, file)
    model.load_state_dict(state)
    return model.to(device).eval()


#: The previous release's name of `load_member`.
load_fold = load_member


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
    """Read a model directory and build its members (all, or the named `folds`)."""
    model_dir = read_model_dir(path, architecture=architecture)
    names = list(folds) if folds is not None else model_dir.folds
    return model_dir, {f: load_member(model_dir, f, device=device) for f in names}


@dataclass
class UpgradeResult:
    """What `upgrade_model_dir` did: the directory written, and whether it changed."""

    out: Path
    upgraded: bool
    members: list[str]


_UPGRADE_CARD = """# {arch} model (upgraded)

Converted by `varinterp models upgrade` from the previous release's layout
(`config.json` without a format field + `{weights}`). Weights and config are unchanged;
the metadata below is what the old folder carried.

- Architecture: {arch}
- Members: {members}
- Metadata: `{metadata}`
"""


def upgrade_model_dir(
    path: str | os.PathLike, *, out: str | os.PathLike | None = None, overwrite: bool = False
) -> UpgradeResult:
    """Rewrite a model directory of the previous release in the current format.

    In place when `out` is None (the folder is replaced atomically), else into `out`.
    A directory already in the current format is left as it is (``upgraded`` False).
    """
    if out is not None:
        check_output(out)
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model_dir, models = load_model_dir(path)
    target = Path(out) if out is not None else path
    if not model_dir.legacy:
        if out is None:
            return UpgradeResult(path, upgraded=False, members=model_dir.folds)
        msg = f"{path} is already in the current format; copy it instead of upgrading"
        raise InputError(msg)
    metadata = dict(model_dir.metadata)
    if "tasks" not in metadata and "cell_types" in metadata:
        metadata["tasks"] = list(metadata["cell_types"])
    card = _UPGRADE_CARD.format(
        arch=model_dir.architecture,
        weights=LEGACY_WEIGHTS,
        members=", ".join(models),
        metadata=json.dumps(model_dir.metadata, sort_keys=True),
    )
    old_card = path / "README.md"
    if old_card.is_file():
        card = old_card.read_text(encoding="utf-8") + "\n" + card
    save_model_dir(
        target,
        config=model_dir.config,
        folds=models,
        metadata=metadata,
        card=card,
        overwrite=overwrite or out is None,
    )
    return UpgradeResult(target, upgraded=True, members=list(models))
