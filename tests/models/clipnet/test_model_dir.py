"""CLIPNET model directories (`varinterp.training.modeldir`): safetensors round trip,
refusal of other architectures and of weights that do not fit."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from varinterp import __version__
from varinterp.errors import InputError
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.training import registry
from varinterp.training.modeldir import (
    load_member,
    load_model_dir,
    read_model_dir,
    save_model_dir,
)

CFG = ClipnetConfig.small(input_length=200, output_length=50, n_dilations=3)


def _models(n: int = 2) -> dict[str, Clipnet]:
    out = {}
    for i in range(n):
        torch.manual_seed(i)
        m = Clipnet(CFG)
        with torch.no_grad():
            m.input_bn.running_mean.normal_()  # buffers must travel too
        out[f"fold_{i + 1}"] = m.eval()
    return out


def test_round_trip_gives_identical_outputs(tmp_path):
    models = _models()
    out = save_model_dir(
        tmp_path / "m", config=CFG, folds=models, metadata={"data": "simulated"}, card="# card\n"
    )
    doc = json.loads((out / "config.json").read_text())
    assert doc["architecture"] == "clipnet" and doc["folds"] == ["fold_1", "fold_2"]
    card = (out / "README.md").read_text()
    # the card, then the run that made the directory
    assert card.startswith("# card\n\n## Provenance\n") and "python API" in card
    model_dir, loaded = load_model_dir(out, architecture="clipnet")
    assert model_dir.config == CFG
    assert model_dir.metadata == {
        "provenance": {"varinterp_version": __version__, "command": "python API", "inputs": {}},
        "data": "simulated",
    }
    x = torch.rand(3, 4, 200) * 2
    with torch.no_grad():
        for fold, model in models.items():
            a, b = model(x), loaded[fold](x)
            assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
            assert not loaded[fold].training
    assert not torch.equal(loaded["fold_1"].conv1.weight, loaded["fold_2"].conv1.weight)


def test_refuses_another_architecture(tmp_path, monkeypatch):
    @dataclass(frozen=True)
    class OtherConfig:
        width: int = 3

        def to_dict(self):
            return {"width": self.width}

        @classmethod
        def from_dict(cls, d):
            return cls(**d)

    class Other(nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.lin = nn.Linear(cfg.width, 1)

    registry.architectures()  # the entry points first, so that "other" is added to them
    monkeypatch.setitem(
        registry._REGISTRY,
        "other",
        registry.Architecture(name="other", config_cls=OtherConfig, model_cls=Other),
    )
    out = save_model_dir(
        tmp_path / "other", config=OtherConfig(), folds={"fold_1": Other(OtherConfig())}
    )
    with pytest.raises(InputError, match="holds a 'other' model but a 'clipnet' model is needed"):
        load_model_dir(out, architecture="clipnet")
    # a lone weight file of another architecture copied into a clipnet directory
    clip = save_model_dir(tmp_path / "clip", config=CFG, folds=_models(1))
    (clip / "fold_1.safetensors").write_bytes((out / "fold_1.safetensors").read_bytes())
    with pytest.raises(InputError, match="holds 'other' weights"):
        load_model_dir(clip)


def test_refuses_unknown_architecture_and_bad_config(tmp_path):
    out = save_model_dir(tmp_path / "m", config=CFG, folds=_models(1))
    doc = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**doc, "architecture": "enformer"}))
    with pytest.raises(InputError, match="unknown architecture 'enformer'"):
        read_model_dir(out)
    (out / "config.json").write_text(json.dumps({**doc, "config": {"n_heads": 2}}))
    with pytest.raises(InputError, match="unknown field"):
        read_model_dir(out)
    (out / "config.json").write_text(json.dumps({**doc, "config": [1, 2]}))
    with pytest.raises(InputError, match="must be a JSON object"):
        read_model_dir(out)
    (out / "config.json").write_text(json.dumps({**doc, "format": "something"}))
    with pytest.raises(InputError, match="not a varinterp model config"):
        read_model_dir(out)
    (out / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_model_dir(out)
    with pytest.raises(InputError, match="does not exist"):
        read_model_dir(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"config\.json is missing"):
        read_model_dir(tmp_path / "empty")


def test_refuses_weights_that_do_not_fit_the_config(tmp_path):
    out = save_model_dir(tmp_path / "m", config=CFG, folds=_models(1))
    wide = Clipnet(ClipnetConfig.small(input_length=200, output_length=50, n_dilations=4))
    save_file(
        {k: v.contiguous() for k, v in wide.state_dict().items()}, str(out / "fold_1.safetensors")
    )
    with pytest.raises(InputError, match=r"does not fit the directory's config\.json"):
        load_model_dir(out)
    (out / "fold_1.safetensors").unlink()
    with pytest.raises(InputError, match="are missing"):
        load_model_dir(out)
    model_dir = read_model_dir(out)
    with pytest.raises(InputError, match="has no model 'fold_7'"):
        load_member(model_dir, "fold_7")


def test_save_is_atomic_and_refuses_overwrite(tmp_path):
    out = save_model_dir(tmp_path / "m", config=CFG, folds=_models(1))
    with pytest.raises(InputError, match="already exists"):
        save_model_dir(out, config=CFG, folds=_models(1))
    save_model_dir(out, config=CFG, folds=_models(2), overwrite=True)
    assert read_model_dir(out).folds == ["fold_1", "fold_2"]
    with pytest.raises(InputError, match="member name"):
        save_model_dir(tmp_path / "n", config=CFG, folds={"fold 1": _models(1)["fold_1"]})
    assert not (tmp_path / "n").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp folders left


def test_saving_twice_gives_identical_bytes(tmp_path):
    models = _models()
    a = save_model_dir(tmp_path / "a", config=CFG, folds=models)
    b = save_model_dir(tmp_path / "b", config=CFG, folds=models)
    for name in ("config.json", "fold_1.safetensors", "fold_2.safetensors"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
