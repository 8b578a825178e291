"""DeepDETAILS model directories: the one format, and folders of the previous release.

The previous release wrote ``config.json`` (architecture, config, metadata; no format
field) and ``model.safetensors`` (no header metadata). Such a folder still loads
everywhere a model is read, and ``varinterp models upgrade`` rewrites it.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
import typer
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from tests.deconv.conftest import CELL_TYPES, tiny_config
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.models import app as models_app
from varinterp.deconv.predict import predict_tracks
from varinterp.deconv.prep import save_data
from varinterp.deconv.run import predict_run
from varinterp.errors import InputError
from varinterp.models.deepdetails.files import load_model, save_model
from varinterp.models.deepdetails.network import build_model
from varinterp.training import inference
from varinterp.training.modeldir import read_model_dir, save_model_dir, upgrade_model_dir


def _legacy_dir(path, model, cell_types=CELL_TYPES):
    """A model folder exactly as the previous release's ``save_model`` wrote it."""
    path.mkdir(parents=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / "model.safetensors"))
    payload = {
        "architecture": "deepdetails",
        "config": model.config.to_dict(),
        "metadata": {"cell_types": list(cell_types)},
    }
    (path / "config.json").write_text(json.dumps(payload, indent=2) + "\n")
    return path


@pytest.fixture
def tiny_model():
    torch.manual_seed(0)
    return build_model(tiny_config(count_scale=20.0)).eval()


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_save_load_round_trip_in_the_one_format(tiny_model, tmp_path):
    out = save_model(tiny_model, tmp_path / "m", extra={"cell_types": list(CELL_TYPES)})
    md = read_model_dir(out)
    assert not md.legacy and md.folds == ["model"] and md.metadata["tasks"] == list(CELL_TYPES)
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors"]
    _same_weights(load_model(out), tiny_model)
    assert load_model(out).config == tiny_model.config


def test_a_previous_release_directory_loads_everywhere(tiny_model, synthetic_data, tmp_path):
    old = _legacy_dir(tmp_path / "old", tiny_model)
    with pytest.warns(DeprecationWarning, match="models upgrade"):
        md = read_model_dir(old)
    assert md.legacy and md.folds == ["model"] and md.outputs.tasks == CELL_TYPES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = load_model(old)
        ensemble = inference.load_model(old, device="cpu", architecture="deepdetails")
    _same_weights(module, tiny_model)
    want = predict_tracks(tiny_model, synthetic_data, rescale="none")
    np.testing.assert_array_equal(predict_tracks(module, synthetic_data, rescale="none"), want)
    np.testing.assert_array_equal(predict_tracks(ensemble, synthetic_data, rescale="none"), want)
    # the deconvolve predict step reads it too
    data = save_data(synthetic_data, tmp_path / "d.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        res = predict_run(data=data, models=[old], out=tmp_path / "pred", device="cpu")
    assert res.n_models == 1 and (tmp_path / "pred" / "predictions.h5").is_file()


def test_upgrade_rewrites_the_old_layout(tiny_model, tmp_path):
    old = _legacy_dir(tmp_path / "old", tiny_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        res = upgrade_model_dir(old, out=tmp_path / "new")
    assert res.upgraded and res.members == ["model"]
    md = read_model_dir(tmp_path / "new")
    assert not md.legacy and md.config == tiny_model.config
    assert md.metadata["cell_types"] == md.metadata["tasks"] == list(CELL_TYPES)
    assert (tmp_path / "new" / "README.md").is_file()
    for k, v in load_file(str(old / "model.safetensors")).items():
        assert torch.equal(load_file(str(tmp_path / "new" / "model.safetensors"))[k], v)
    _same_weights(load_model(tmp_path / "new"), tiny_model)


def test_models_upgrade_command_in_place(tiny_model, tmp_path):
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(models_app, name="models")

    @root.callback()
    def _cb() -> None:
        """test root"""

    old = _legacy_dir(tmp_path / "old", tiny_model)
    runner = CliRunner()
    res = runner.invoke(root, ["models", "upgrade", str(old)])
    assert res.exit_code == 0, res.output
    assert "upgraded" in res.output
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # no longer the old layout
        md = read_model_dir(old)
    assert not md.legacy and md.folds == ["model"]
    _same_weights(load_model(old), tiny_model)
    res = runner.invoke(root, ["models", "upgrade", str(old)])
    assert res.exit_code == 0 and "nothing to do" in res.output


def test_a_directory_of_replicates_needs_the_ensemble_loader(tiny_model, tmp_path):
    torch.manual_seed(1)
    other = build_model(tiny_model.config)
    out = save_model_dir(
        tmp_path / "reps",
        config=tiny_model.config,
        folds={"replicate_1": tiny_model, "replicate_2": other},
        metadata={"cell_types": list(CELL_TYPES)},
    )
    with pytest.raises(InputError, match="2 models"):
        load_model(out)
    _same_weights(load_model(out, member="replicate_2"), other)
    assert len(inference.load_model(out, device="cpu").models) == 2
