"""Read published CLIPNET Keras weights (``fold_*.h5``) into a `Clipnet` (no TensorFlow).

`read_keras_clipnet` converts one file; `import_clipnet_keras` (``varinterp models
import-clipnet``) converts the fold files of an ensemble into a model directory
(`varinterp.training.modeldir`) with a model card.

The public CLIPNET models are Keras ``Functional`` models saved with ``model.save(...h5)``.
The file holds a ``model_weights`` group (or, for ``save_weights`` files, the layer groups
at the root) whose ``layer_names`` attribute lists the layers in graph order; each layer
group lists its variables in a ``weight_names`` attribute (``conv1d_3/kernel:0`` with
Keras 2, ``conv1d_3/kernel`` with Keras 3). The ``model_config`` attribute (JSON), when
present, gives the input shape, dilation rates, padding and BatchNorm epsilon.

Layout conversions (Keras -> PyTorch):

- input ``(N, L, 4)`` -> ``(N, 4, L)`` (done by the caller; `Clipnet` is channel-first);
- Conv1D kernel ``(kernel_size, in, out)`` -> ``(out, in, kernel_size)``;
- Dense kernel ``(in, out)`` -> ``(out, in)``; the profile Dense's input order is
  Keras' position-major flatten, which `Clipnet` reproduces, so no reordering is needed;
- BatchNormalization ``gamma, beta, moving_mean, moving_variance`` -> ``weight, bias,
  running_mean, running_var``.

Layers with weights are matched in graph order: 12 Conv1D (3 stem + one per residual
block), 23 BatchNormalization (input, 2 stem, 2 per block, 2 heads) and 2 Dense for the
published model; the two heads are told apart by their output sizes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig, keras_param_count
from varinterp.progress import ProgressCallback
from varinterp.training.modeldir import save_model_dir

__all__ = [
    "ImportResult",
    "KerasClipnet",
    "import_clipnet_keras",
    "load_keras_clipnet",
    "read_keras_clipnet",
]

_BN_VARS = ("gamma", "beta", "moving_mean", "moving_variance")
_BN_TORCH = ("weight", "bias", "running_mean", "running_var")


@dataclass
class KerasClipnet:
    """A converted Keras file: the inferred config, a PyTorch state dict, provenance."""

    config: ClipnetConfig
    state_dict: dict[str, torch.Tensor]
    source: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Layer:
    name: str
    kind: str  # "conv" | "dense" | "bn"
    arrays: dict[str, np.ndarray]


def _decode(x: Any) -> str:
    return x.decode("utf8") if isinstance(x, bytes) else str(x)


def _read_layers(path: Path) -> tuple[list[_Layer], dict[str, Any] | None, dict[str, str]]:
    from varinterp.io.readers import open_hdf5

    with open_hdf5(path, "Keras weight file") as f:
        root = f["model_weights"] if "model_weights" in f else f
        if "layer_names" not in root.attrs:
            msg = f"{path} has no Keras layer list (attribute 'layer_names'); not a Keras h5 model"
            raise InputError(msg)
        config = None
        if "model_config" in f.attrs:
            config = json.loads(_decode(f.attrs["model_config"]))
        meta = {k: _decode(f.attrs[k]) for k in ("keras_version", "backend") if k in f.attrs} | {
            k: _decode(root.attrs[k]) for k in ("keras_version",) if k in root.attrs
        }
        layers = []
        for raw_name in root.attrs["layer_names"]:
            name = _decode(raw_name)
            group = root[name]
            weight_names = [_decode(w) for w in group.attrs.get("weight_names", [])]
            if not weight_names:
                continue
            arrays = {}
            for wname in weight_names:
                short = wname.rsplit("/", 1)[-1].split(":", 1)[0]
                arrays[short] = np.asarray(group[wname], dtype=np.float32)
            layers.append(_Layer(name, _classify(arrays, path, name), arrays))
    return layers, config, meta


def _classify(arrays: dict[str, np.ndarray], path: Path, name: str) -> str:
    if set(_BN_VARS) <= set(arrays):
        return "bn"
    kernel = arrays.get("kernel")
    if kernel is not None and "bias" in arrays:
        if kernel.ndim == 3:
            return "conv"
        if kernel.ndim == 2:
            return "dense"
    msg = (
        f"{path}: layer {name!r} has weights {sorted(arrays)} that a CLIPNET model does not "
        "have; is this a CLIPNET rnn_v10 Keras file?"
    )
    raise InputError(msg)


def _config_facts(config: dict[str, Any] | None) -> dict[str, Any]:
    """Input length, dilations, paddings and BN eps from a Keras model_config JSON."""
    if not config:
        return {}
    layers = config.get("config", {}).get("layers", [])
    facts: dict[str, Any] = {"dilations": [], "paddings": [], "eps": set()}
    for layer in layers:
        cls, cfg = layer.get("class_name"), layer.get("config", {})
        if cls == "InputLayer":
            shape = cfg.get("batch_input_shape") or cfg.get("batch_shape")
            if shape and len(shape) == 3:
                facts["input_length"] = shape[1]
        elif cls == "Conv1D":
            rate = cfg.get("dilation_rate", [1])
            facts["dilations"].append(rate[0] if isinstance(rate, list) else rate)
            facts["paddings"].append(cfg.get("padding", "valid"))
        elif cls == "BatchNormalization":
            facts["eps"].add(float(cfg.get("epsilon", 1e-3)))
    return facts


def _fail(path: Path, what: str) -> InputError:
    return InputError(
        f"{path} does not match the CLIPNET rnn_v10 architecture: {what}; "
        "only the published CLIPNET Keras models (and retrained copies) can be imported"
    )


def read_keras_clipnet(path: str | os.PathLike) -> KerasClipnet:
    """Read one CLIPNET Keras ``.h5`` file into a config and a PyTorch state dict.

    Needs only h5py. The config is inferred from the weight shapes (and the file's
    ``model_config`` when present); the state dict matches ``Clipnet(config)``.
    """
    path = Path(path)
    layers, kconfig, meta = _read_layers(path)
    convs = [x for x in layers if x.kind == "conv"]
    bns = [x for x in layers if x.kind == "bn"]
    denses = [x for x in layers if x.kind == "dense"]
    n_blocks = len(convs) - 3
    if n_blocks < 0 or len(denses) != 2 or len(bns) != 3 + 2 * n_blocks + 2:
        found = f"{len(convs)} Conv1D, {len(bns)} BatchNormalization, {len(denses)} Dense"
        raise _fail(path, f"found {found} layers with weights")
    k1, _, f1 = convs[0].arrays["kernel"].shape
    k2, _, f2 = convs[1].arrays["kernel"].shape
    _, _, nf = convs[2].arrays["kernel"].shape
    kd = convs[3].arrays["kernel"].shape[0] if n_blocks else 3
    heads = sorted(denses, key=lambda d: d.arrays["kernel"].shape[1])
    quantity_dense, profile_dense = heads
    if quantity_dense.arrays["kernel"].shape != (nf, 1):
        raise _fail(path, f"quantity Dense kernel {quantity_dense.arrays['kernel'].shape}")
    profile_size = profile_dense.arrays["kernel"].shape[1]
    head_bns = sorted(bns[-2:], key=lambda b: b.arrays["gamma"].shape[0])
    facts = _config_facts(kconfig)
    _check_facts(path, facts, n_blocks)
    if profile_size % 2:
        raise _fail(path, f"odd profile size {profile_size} (expected two strands)")
    input_length = int(facts.get("input_length") or 1000)
    trunk = profile_dense.arrays["kernel"].shape[0] // max(int(nf), 1)
    if "input_length" not in facts and _trunk_length(1000, int(k1), int(k2)) != trunk:
        raise _fail(
            path,
            "the file has no model_config and its Dense input does not fit 1000 bp input, "
            "so the input length is unknown; save the Keras model with model.save()",
        )
    eps = facts.get("eps") or {1e-3}
    try:
        cfg = ClipnetConfig(
            input_length=input_length,
            output_length=profile_size // 2,
            conv1_filters=int(f1),
            conv1_kernel=int(k1),
            conv2_filters=int(f2),
            conv2_kernel=int(k2),
            n_filters=int(nf),
            n_dilations=n_blocks,
            dilation_kernel=int(kd),
            bn_eps=float(next(iter(eps))),
        )
    except InputError as exc:
        raise _fail(path, str(exc)) from None

    sd: dict[str, torch.Tensor] = {}
    conv_targets = ["conv1", "conv2", "conv3"] + [f"blocks.{i}.conv.conv" for i in range(n_blocks)]
    for target, layer in zip(conv_targets, convs, strict=True):
        sd[f"{target}.weight"] = torch.from_numpy(layer.arrays["kernel"].transpose(2, 1, 0).copy())
        sd[f"{target}.bias"] = torch.from_numpy(layer.arrays["bias"])
    bn_targets = ["input_bn", "bn1", "bn2"]
    for i in range(n_blocks):
        bn_targets += [f"blocks.{i}.bn", f"blocks.{i}.skip_bn"]
    bn_targets += ["quantity_bn", "profile_bn"]
    for target, layer in zip(bn_targets, bns[:-2] + head_bns, strict=True):
        for kvar, tvar in zip(_BN_VARS, _BN_TORCH, strict=True):
            sd[f"{target}.{tvar}"] = torch.from_numpy(layer.arrays[kvar])
        sd[f"{target}.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    for target, layer in (("profile_dense", profile_dense), ("quantity_dense", quantity_dense)):
        sd[f"{target}.weight"] = torch.from_numpy(layer.arrays["kernel"].T.copy())
        sd[f"{target}.bias"] = torch.from_numpy(layer.arrays["bias"])

    expected = Clipnet(cfg).state_dict()
    for key, value in expected.items():
        if key not in sd or tuple(sd[key].shape) != tuple(value.shape):
            got = tuple(sd[key].shape) if key in sd else "missing"
            raise _fail(path, f"weight {key} has shape {got}, expected {tuple(value.shape)}")
    source = {"file": path.name, "format": "keras-h5", **meta}
    return KerasClipnet(config=cfg, state_dict=sd, source=source)


def _trunk_length(input_length: int, k1: int, k2: int) -> int:
    n = (input_length - k1 + 1) // 2 - k2 + 1
    return (n // 2) // 2


def _check_facts(path: Path, facts: dict[str, Any], n_blocks: int) -> None:
    dilations, paddings = facts.get("dilations"), facts.get("paddings")
    if not dilations:
        return
    want = [1, 1, 1] + [2**i for i in range(n_blocks)]
    if list(dilations) != want:
        raise _fail(path, f"Conv1D dilation rates {dilations}, expected {want}")
    want_pad = ["valid", "valid", "valid"] + ["same"] * n_blocks
    if [p.lower() for p in paddings] != want_pad:
        raise _fail(path, f"Conv1D paddings {paddings}, expected {want_pad}")
    if len(facts.get("eps", ())) > 1:
        raise _fail(path, f"mixed BatchNormalization epsilons {sorted(facts['eps'])}")


def load_keras_clipnet(path: str | os.PathLike) -> Clipnet:
    """A `Clipnet` in eval mode with the weights of a CLIPNET Keras ``.h5`` file."""
    converted = read_keras_clipnet(path)
    model = Clipnet(converted.config)
    model.load_state_dict(converted.state_dict)
    return model.eval()


_FOLD_RE = re.compile(r"^fold_[A-Za-z0-9_.-]+$")


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
    check_output(out)
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


def _import_card(
    config: ClipnetConfig, sources: Mapping[str, Mapping[str, str]], n_params: int
) -> str:
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
