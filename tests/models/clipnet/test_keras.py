"""Importing CLIPNET Keras h5 files (no TensorFlow needed at test time).

`data/clipnet_keras_small/` was written by TensorFlow/Keras 2.21 (tf_keras) with
``benchmarks/clipnet/keras_reference.py --small --n 8``: a reduced CLIPNET (200 bp in,
2 x 50 out, 4 residual blocks) with random weights and BN statistics, and Keras' own
inference outputs. The other tests write h5 files in the Keras naming and layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.models import app as models_app
from varinterp.errors import InputError
from varinterp.models.clipnet.keras import load_keras_clipnet, read_keras_clipnet
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.training.modeldir import load_model_dir

DATA = Path(__file__).parent / "data" / "clipnet_keras_small"


def _keras_layers(model: Clipnet) -> list[tuple[str, dict[str, np.ndarray]]]:
    """Our weights as Keras layers, in Keras graph order and naming."""
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    conv_i, bn_i = iter(range(100)), iter(range(100))

    def name(base, it):
        i = next(it)
        return base if i == 0 else f"{base}_{i}"

    def conv(prefix):
        w = sd[f"{prefix}.weight"].transpose(2, 1, 0)
        return name("conv1d", conv_i), {"kernel": w, "bias": sd[f"{prefix}.bias"]}

    def bn(prefix):
        v = [sd[f"{prefix}.{t}"] for t in ("weight", "bias", "running_mean", "running_var")]
        return name("batch_normalization", bn_i), dict(
            zip(("gamma", "beta", "moving_mean", "moving_variance"), v, strict=True)
        )

    layers = [("input_1", {}), bn("input_bn"), conv("conv1"), bn("bn1"), ("activation", {})]
    layers += [("max_pooling1d", {}), conv("conv2"), bn("bn2"), conv("conv3")]
    for i in range(model.config.n_dilations):
        layers += [conv(f"blocks.{i}.conv.conv"), bn(f"blocks.{i}.bn"), (f"add_{i}", {})]
        layers.append(bn(f"blocks.{i}.skip_bn"))
    pd_ = {"kernel": sd["profile_dense.weight"].T, "bias": sd["profile_dense.bias"]}
    qd = {"kernel": sd["quantity_dense.weight"].T, "bias": sd["quantity_dense.bias"]}
    layers += [("flatten", {}), ("dense", pd_), ("dense_1", qd)]
    layers += [bn("profile_bn"), bn("quantity_bn"), ("shape", {}), ("sum", {})]
    return layers


def write_keras_h5(model: Clipnet, path: Path, *, keras3: bool = False, config=True) -> None:
    """Write `model` as Keras' ``model.save(...h5)`` would lay it out."""
    suffix = "" if keras3 else ":0"
    cfg = model.config
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights")
        layers = _keras_layers(model)
        root.attrs["layer_names"] = [n.encode() for n, _ in layers]
        root.attrs["keras_version"] = b"2.14.0"
        for lname, arrays in layers:
            g = root.create_group(lname)
            names = [f"{lname}/{k}{suffix}" for k in arrays]
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, v in zip(names, arrays.values(), strict=True):
                g.create_dataset(n, data=v.astype(np.float32))
        if config:
            convs = [{"class_name": "Conv1D", "config": {"dilation_rate": [1]}}] * 3
            convs += [
                {"class_name": "Conv1D", "config": {"dilation_rate": [2**i], "padding": "same"}}
                for i in range(cfg.n_dilations)
            ]
            for c in convs[:3]:
                c["config"]["padding"] = "valid"
            inp = {
                "class_name": "InputLayer",
                "config": {"batch_input_shape": [None, cfg.input_length, 4]},
            }
            bn = {"class_name": "BatchNormalization", "config": {"epsilon": cfg.bn_eps}}
            doc = {"class_name": "Functional", "config": {"layers": [inp, *convs, bn]}}
            f.attrs["model_config"] = json.dumps(doc)


def _seeded(cfg: ClipnetConfig, seed: int = 0) -> Clipnet:
    torch.manual_seed(seed)
    model = Clipnet(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
    return model.eval()


def test_matches_tensorflow_outputs_on_keras_written_file():
    ref = np.load(DATA / "reference.npz")
    model = load_keras_clipnet(DATA / "fold_1.h5")
    cfg = model.config
    assert (cfg.input_length, cfg.output_length, cfg.n_filters, cfg.n_dilations) == (200, 50, 8, 4)
    x = torch.from_numpy(ref["x"]).permute(0, 2, 1)  # (N, L, 4) -> (N, 4, L)
    with torch.no_grad():
        profile, quantity = model(x)
    assert np.count_nonzero(ref["profile"]) > 100 and np.count_nonzero(ref["quantity"]) >= 2
    np.testing.assert_allclose(profile.numpy(), ref["profile"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(quantity.numpy(), ref["quantity"], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("keras3", [False, True])
def test_round_trip_through_keras_layout(tmp_path, keras3):
    # weights carry no dropout rate: an import gets the published 0.3
    cfg = ClipnetConfig.small(
        input_length=300, output_length=100, profile_bottleneck=0, dropout=0.3
    )
    model = _seeded(cfg)
    path = tmp_path / "fold_2.h5"
    write_keras_h5(model, path, keras3=keras3)
    converted = read_keras_clipnet(path)
    assert converted.config == cfg
    back = load_keras_clipnet(path)
    x = torch.rand(3, 4, 300) * 2
    with torch.no_grad():
        a, b = model(x), back(x)
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[1], b[1])


def test_kernel_layouts_land_where_expected(tmp_path):
    cfg = ClipnetConfig.small(input_length=300, output_length=100, profile_bottleneck=0)
    model = _seeded(cfg, seed=1)
    path = tmp_path / "m.h5"
    write_keras_h5(model, path)
    with h5py.File(path, "r+") as f:
        f["model_weights/conv1d/conv1d/kernel:0"][5, 2, 7] = 42.0  # (k, in, out)
        f["model_weights/dense/dense/kernel:0"][30, 11] = -7.0  # (in, out)
    sd = read_keras_clipnet(path).state_dict
    assert sd["conv1.weight"][7, 2, 5] == 42.0  # (out, in, k)
    assert sd["profile_dense.weight"][11, 30] == -7.0  # (out, in)


def test_unknown_input_length_without_model_config(tmp_path):
    cfg = ClipnetConfig.small(input_length=300, output_length=100, profile_bottleneck=0)
    model = _seeded(cfg)
    path = tmp_path / "weights_only.h5"
    write_keras_h5(model, path, config=False)
    with pytest.raises(InputError, match="input length is unknown"):
        read_keras_clipnet(path)


def test_not_clipnet_h5_is_refused(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights")
        root.attrs["layer_names"] = [b"dense"]
        g = root.create_group("dense")
        g.attrs["weight_names"] = [b"dense/kernel:0", b"dense/bias:0"]
        g.create_dataset("dense/kernel:0", data=np.zeros((3, 2), np.float32))
        g.create_dataset("dense/bias:0", data=np.zeros(2, np.float32))
    with pytest.raises(InputError, match="does not match the CLIPNET"):
        read_keras_clipnet(path)
    bad = tmp_path / "x.h5"
    bad.write_text("not hdf5")
    with pytest.raises(InputError, match="not a readable HDF5"):
        read_keras_clipnet(bad)


def test_import_several_files_names_and_mismatch(tmp_path):
    from varinterp.models.clipnet.keras import import_clipnet_keras

    cfg = ClipnetConfig.small(input_length=300, output_length=100, profile_bottleneck=0)
    for i, name in enumerate(["a.h5", "b.h5"]):
        write_keras_h5(_seeded(cfg, seed=i), tmp_path / name)
    calls = []
    result = import_clipnet_keras(
        [tmp_path / "a.h5", tmp_path / "b.h5"],
        out=tmp_path / "ens",
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert result.folds == {"fold_1": "a.h5", "fold_2": "b.h5"}
    assert calls[-1] == (2, 2)
    _, models = load_model_dir(tmp_path / "ens")
    assert not torch.equal(models["fold_1"].conv1.weight, models["fold_2"].conv1.weight)
    other = ClipnetConfig.small(
        input_length=300, output_length=100, profile_bottleneck=0, n_dilations=2
    )
    write_keras_h5(_seeded(other), tmp_path / "c.h5")
    with pytest.raises(InputError, match="different architectures"):
        import_clipnet_keras([tmp_path / "a.h5", tmp_path / "c.h5"], out=tmp_path / "mixed")
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    for d in ("d1", "d2"):
        (tmp_path / d / "fold_1.h5").write_bytes((tmp_path / "a.h5").read_bytes())
    with pytest.raises(InputError, match="duplicate fold names"):
        import_clipnet_keras(
            [tmp_path / "d1" / "fold_1.h5", tmp_path / "d2" / "fold_1.h5"], out=tmp_path / "dup"
        )
    assert not (tmp_path / "mixed").exists() and not (tmp_path / "dup").exists()


def _cli():
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(models_app, name="models")

    @root.callback()
    def _cb() -> None:
        """root"""

    return root


def test_cli_import_clipnet(tmp_path):
    out = tmp_path / "clipnet-small"
    runner = CliRunner()
    result = runner.invoke(
        _cli(), ["models", "import-clipnet", str(DATA / "fold_1.h5"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # (provenance.json: the record varinterp's CLI adds to every output folder)
    assert sorted(p.name for p in out.iterdir() if p.name != "provenance.json") == [
        "README.md",
        "config.json",
        "fold_1.safetensors",
    ]
    _, models = load_model_dir(out, architecture="clipnet")
    ref = np.load(DATA / "reference.npz")
    with torch.no_grad():
        profile, _ = models["fold_1"](torch.from_numpy(ref["x"]).permute(0, 2, 1))
    np.testing.assert_allclose(profile.numpy(), ref["profile"], rtol=1e-4, atol=1e-4)
    assert "fold_1.h5" in (out / "README.md").read_text()
    # existing output without --overwrite: exit 2, one line
    again = runner.invoke(
        _cli(), ["models", "import-clipnet", str(DATA / "fold_1.h5"), "--out", str(out)]
    )
    assert again.exit_code == 2
    assert "already exists" in again.output


def test_cli_import_bad_inputs(tmp_path):
    runner = CliRunner()
    missing = runner.invoke(
        _cli(), ["models", "import-clipnet", str(tmp_path / "nope.h5"), "-o", str(tmp_path / "o")]
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output
    junk = tmp_path / "fold_1.h5"
    junk.write_text("junk")
    bad = runner.invoke(_cli(), ["models", "import-clipnet", str(junk), "-o", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "not a readable HDF5" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
