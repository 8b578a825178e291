"""Training DeepDETAILS through the engine: resume, learning, self-check, hold-out."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.deconv.conftest import tiny_config
from varinterp.errors import InputError
from varinterp.models.deepdetails.files import load_model
from varinterp.models.deepdetails.train import TrainSettings, train_deconv


def _settings(**kw):
    return TrainSettings(**{"epochs": 2, "batch_size": 4, "lr_decay": 1.0, "patience": 5, **kw})


def test_train_resume_matches_uninterrupted(synthetic_data, tmp_path):
    cfg = tiny_config()
    full = train_deconv(synthetic_data, config=cfg, out=tmp_path / "a", settings=_settings())
    train_deconv(synthetic_data, config=cfg, out=tmp_path / "b", settings=_settings(epochs=1))
    resumed = train_deconv(synthetic_data, config=cfg, out=tmp_path / "b", settings=_settings())
    rows = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1]
    assert resumed.best_loss == pytest.approx(full.best_loss, rel=1e-6)
    a = load_model(full.model_dir).state_dict()
    b = load_model(resumed.model_dir).state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    summary = json.loads((tmp_path / "a" / "train.json").read_text())
    assert summary["qc_passed"] and summary["n_train"] == synthetic_data.n
    assert all(np.isfinite(r["train_loss"]) and r["train_penalty"] >= 0 for r in rows)


def test_training_lowers_the_loss(synthetic_data, tmp_path):
    torch.manual_seed(0)
    res = train_deconv(
        synthetic_data,
        config=tiny_config(),
        out=tmp_path / "r",
        settings=_settings(epochs=6, lr=3e-3),
    )
    rows = [json.loads(x) for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert res.best_loss == pytest.approx(min(r["train_loss"] for r in rows), rel=1e-6)


def test_collapse_self_check_retries(synthetic_data, tmp_path):
    # an impossible tolerance makes every branch "collapsed": all retries are used
    res = train_deconv(
        synthetic_data,
        config=tiny_config(),
        out=tmp_path / "c",
        settings=_settings(epochs=1, max_retry=2, collapse_tol=10.0),
    )
    assert res.attempts == 3 and not res.qc_passed
    rows = [json.loads(x) for x in (tmp_path / "c" / "metrics.jsonl").read_text().splitlines()]
    assert [r["attempt"] for r in rows] == [0, 1, 2]


def test_holdout_needs_other_contigs(synthetic_data, tmp_path):
    with pytest.raises(InputError, match="hold-out"):
        train_deconv(
            synthetic_data,
            config=tiny_config(),
            out=tmp_path / "h",
            settings=_settings(holdout=True, val_chroms=("chrX",)),
        )
    res = train_deconv(
        synthetic_data,
        config=tiny_config(),
        out=tmp_path / "h2",
        settings=_settings(epochs=1, holdout=True, val_chroms=("chrU",)),
    )
    rows = [json.loads(x) for x in (tmp_path / "h2" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["val_loss"] is not None and res.best_loss == pytest.approx(rows[0]["val_loss"])


def test_mismatched_model_is_rejected(synthetic_data, tmp_path):
    with pytest.raises(InputError, match="cell types"):
        train_deconv(synthetic_data, config=tiny_config(n_cell_types=2), out=tmp_path / "m")


def test_killed_run_resumes_to_byte_identical_weights(synthetic_data, tmp_path):
    # two GRU layers: dropout draws from torch's generator, which the checkpoint restores
    cfg = tiny_config(gru_layers=2, gru_dropout=0.1)
    settings = _settings(epochs=3, lr_decay=0.5, seed=4)
    whole = train_deconv(synthetic_data, config=cfg, out=tmp_path / "a", settings=settings)

    class Killed(Exception):
        pass

    def kill(log, history):
        if log.epoch == 0:
            raise Killed

    with pytest.raises(Killed):
        train_deconv(
            synthetic_data, config=cfg, out=tmp_path / "b", settings=settings, on_epoch=kill
        )
    assert (tmp_path / "b" / "checkpoint.pt").is_file()
    assert not (tmp_path / "b" / "model").exists()
    seen = []
    resumed = train_deconv(
        synthetic_data,
        config=cfg,
        out=tmp_path / "b",
        settings=settings,
        on_epoch=lambda log, history: seen.append(log.epoch),
    )
    assert seen == [1, 2]
    a = (whole.model_dir / "model.safetensors").read_bytes()
    b = (resumed.model_dir / "model.safetensors").read_bytes()
    assert a == b
    rows_a = [json.loads(x) for x in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    rows_b = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows_a] == [
        {k: v for k, v in r.items() if k not in drop} for r in rows_b
    ]
    # the learning rate decays after every epoch, as StepLR(step_size=1, gamma=lr_decay)
    assert [r["lr"] for r in rows_a] == [1e-3, 1e-3 * 0.5, 1e-3 * 0.5 * 0.5]


def test_model_directory_format_and_epoch_callback(synthetic_data, tmp_path):
    from varinterp.training.modeldir import read_model_dir

    logs = []
    res = train_deconv(
        synthetic_data,
        config={"filters": 8, "n_dilated": 3, "gru_layers": 1, "profile_shrinkage": 4,
                "head_layers": 1},
        out=tmp_path / "r",
        settings=_settings(epochs=2),
        on_epoch=lambda log, history: logs.append((log.epoch, log.best, len(history))),
    )  # fmt: skip
    assert logs == [(0, True, 1), (1, logs[1][1], 2)]
    md = read_model_dir(res.model_dir)
    assert not md.legacy and md.architecture == "deepdetails" and md.folds == ["model"]
    assert md.metadata["cell_types"] == md.metadata["tasks"] == list(synthetic_data.cell_types)
    assert md.metadata["n_windows"] == synthetic_data.n
    assert md.metadata["training"]["epochs"] == 2 and md.metadata["qc_passed"] is True
    assert md.config.input_length == synthetic_data.seq.shape[-1]
    assert md.outputs.tasks == tuple(synthetic_data.cell_types)
    card = (res.model_dir / "README.md").read_text()
    assert card.startswith("# DeepDETAILS") and "A, B, C" in card
    summary = json.loads((tmp_path / "r" / "train.json").read_text())
    assert summary["model_dir"] == "model" and summary["best_epoch"] == res.best_epoch


def test_a_data_file_and_bad_architecture_fields(synthetic_data, tmp_path):
    from varinterp.deconv.prep import save_data

    path = save_data(synthetic_data, tmp_path / "d.h5")
    small = {"filters": 4, "n_dilated": 3, "gru_layers": 1, "head_layers": 1}
    res = train_deconv(path, config=small, out=tmp_path / "r", settings=_settings(epochs=1))
    assert load_model(res.model_dir).config.n_cell_types == 3
    with pytest.raises(InputError, match="scale_placement"):
        train_deconv(path, config={**small, "scale_placement": "sideways"}, out=tmp_path / "x")


def test_a_previous_release_checkpoint_is_not_resumed(synthetic_data, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    old = {"attempt": 0, "epoch": 0, "best": 1.0, "bad": 0, "model": {}, "optimizer": {}}
    torch.save(old, out / "checkpoint.pt")
    with pytest.raises(InputError, match="earlier varinterp"):
        train_deconv(synthetic_data, config=tiny_config(), out=out, settings=_settings())
    res = train_deconv(
        synthetic_data, config=tiny_config(), out=out, settings=_settings(epochs=1), resume=False
    )
    assert res.epochs == 1
