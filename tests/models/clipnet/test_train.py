"""Training a small CLIPNET end to end: model directory, metrics, resume, ablations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tests.models.clipnet._world import write_toml
from varinterp.errors import InputError
from varinterp.models.clipnet.train import train_clipnet
from varinterp.training.modeldir import load_model_dir, save_model_dir


def test_model_directory_contents(trained, world):
    _, out, result = trained
    assert result.folds == ["fold_1", "fold_2"] and result.trained == [1, 2]
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "fold_1.safetensors", "fold_2.safetensors", "README.md",
            "metrics.jsonl"} <= names  # fmt: skip
    md, models = load_model_dir(out, architecture="clipnet")
    assert md.config.input_length == 240 and md.folds == ["fold_1", "fold_2"]
    assert md.metadata["folds"] == {f"c{i}": i for i in range(10)}
    assert md.metadata["individuals"] == ["s1", "s2"]
    p, q = models["fold_1"](torch.zeros(2, 4, 240))
    assert p.shape == (2, 200) and q.shape == (2, 1)
    card = (out / "README.md").read_text()
    assert "| fold_1 |" in card and "Intended use" in card
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(x["fold"], x["epoch"]) for x in lines] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert all(np.isfinite(x["val_loss"]) for x in lines)
    s1 = result.summaries[1]
    assert s1["train_folds"] == [3, 4, 5, 6, 7, 8, 9] and s1["validation_fold"] == 2
    assert s1["test_fold"] == 1
    # 2 peaks per contig x 3 libraries x 7 folds x 2 orientations
    assert s1["n_train_examples"] == 2 * 3 * 7 * 2
    # the saved weights are the best epoch's, not the last one's
    best = s1["best_epoch"]
    assert best == int(np.argmin([x["val_loss"] for x in lines if x["fold"] == 1]))


def test_resume_after_kill_gives_the_same_weights(world, tmp_path):
    training = {"max_epochs": 3, "patience": 5}
    cfg = write_toml(tmp_path / "run.toml", world, training=training, data={"rc_augment": "none"})
    train_clipnet(config=cfg, out=tmp_path / "whole", folds=[1])

    class Killed(Exception):
        pass

    def kill(log):
        if log.epoch == 1:
            raise Killed

    with pytest.raises(Killed):
        train_clipnet(config=cfg, out=tmp_path / "resumed", folds=[1], on_epoch=kill)
    assert (tmp_path / "resumed/.train/fold_1.state.pt").is_file()
    assert not (tmp_path / "resumed/config.json").exists()
    seen = []
    train_clipnet(
        config=cfg, out=tmp_path / "resumed", folds=[1], on_epoch=lambda log: seen.append(log.epoch)
    )
    assert seen == [2]  # only the missing epoch ran
    a = load_file(str(tmp_path / "whole/fold_1.safetensors"))
    b = load_file(str(tmp_path / "resumed/fold_1.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    la = [json.loads(x) for x in (tmp_path / "whole/metrics.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "resumed/metrics.jsonl").read_text().splitlines()]
    assert [x["val_loss"] for x in la] == [x["val_loss"] for x in lb]


def test_rerun_keeps_finished_folds_and_refuses_other_settings(trained, world, tmp_path):
    cfg, out, _ = trained
    before = load_file(str(out / "fold_1.safetensors"))
    res = train_clipnet(config=cfg, out=out, folds=[1])
    assert res.trained == [] and res.folds == ["fold_1", "fold_2"]
    after = load_file(str(out / "fold_1.safetensors"))
    assert all(torch.equal(before[k], after[k]) for k in before)
    other = write_toml(tmp_path / "other.toml", world, training={"max_epochs": 2, "lr": 0.01})
    with pytest.raises(InputError, match="other settings"):
        train_clipnet(config=other, out=out, folds=[1])
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.txt").write_text("x")
    with pytest.raises(InputError, match="not a training run"):
        train_clipnet(config=cfg, out=tmp_path / "junk", folds=[1])


def test_ablations_reference_only_and_subsample(world, tmp_path):
    cfg = write_toml(tmp_path / "run.toml", world, training={"max_epochs": 1},
                     data={"rc_augment": "none"})  # fmt: skip
    res = train_clipnet(config=cfg, out=tmp_path / "sub", folds=[3], subsample_individuals=1,
                        replicate=2, reference_only=True)  # fmt: skip
    md, _ = load_model_dir(tmp_path / "sub")
    assert md.metadata["reference_only"] is True
    assert md.metadata["subsample_individuals"] == 1 and md.metadata["replicate"] == 2
    assert len(md.metadata["individuals"]) == 1 and res.n_individuals == 1


def test_bad_fold_requests(world, tmp_path):
    cfg = write_toml(tmp_path / "run.toml", world)
    with pytest.raises(InputError, match=r"model folds are 1\.\.9"):
        train_clipnet(config=cfg, out=tmp_path / "m", folds=[0])
    # a fold table leaving the validation fold empty
    table = {f"c{i}": (i if i != 2 else 1) for i in range(10)}
    cfg = write_toml(tmp_path / "run2.toml", world, data={"folds": table})
    with pytest.raises(InputError, match="no peak lies on the validation fold"):
        train_clipnet(config=cfg, out=tmp_path / "m2", folds=[1])


def test_checkpoint_of_another_architecture_is_refused(trained, tmp_path):
    _, out, _ = trained
    other = tmp_path / "other"
    other.mkdir()
    doc = json.loads((out / "config.json").read_text())
    doc["architecture"] = "deepdetails"
    (other / "config.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="'deepdetails' model but a 'clipnet' model is needed"):
        load_model_dir(other, architecture="clipnet")
    # weights of a differently sized CLIPNET under this config
    from varinterp.models.clipnet.network import Clipnet, ClipnetConfig

    big = ClipnetConfig.small(input_length=240, output_length=100)
    save_model_dir(tmp_path / "big", config=big, folds={"fold_1": Clipnet(big)})
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "config.json").write_text((out / "config.json").read_text())
    (mixed / "fold_1.safetensors").write_bytes((tmp_path / "big/fold_1.safetensors").read_bytes())
    doc = json.loads((mixed / "config.json").read_text())
    doc["folds"] = ["fold_1"]
    (mixed / "config.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="does not fit"):
        load_model_dir(mixed, architecture="clipnet")


def test_overwrite_replaces_a_foreign_folder(world, tmp_path):
    cfg = write_toml(tmp_path / "run.toml", world, training={"max_epochs": 1},
                     data={"rc_augment": "none"})  # fmt: skip
    out = tmp_path / "junk"
    out.mkdir()
    (out / "x.txt").write_text("x")
    res = train_clipnet(config=cfg, out=out, folds=[4], overwrite=True)
    assert res.folds == ["fold_4"] and not (out / "x.txt").exists()


def test_resolve_fold_map(world):
    from varinterp.genome.store import GenomeStore
    from varinterp.models.clipnet.train import resolve_fold_map

    store = GenomeStore.open(world.store)
    auto = resolve_fold_map("auto", store)
    assert sorted(auto.to_dict().values()) == list(range(10))  # 10 equal contigs, one each
    assert resolve_fold_map("human", store)("1") == 4
    assert resolve_fold_map({"c0": 3}, store)("c0") == 3
