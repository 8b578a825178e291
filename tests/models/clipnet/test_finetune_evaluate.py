"""Fine-tuning from a trained directory, and evaluation of the fold ensemble."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tests.models.clipnet._world import write_toml
from varinterp.datasets.samplesheet import read_sample_sheet
from varinterp.errors import InputError
from varinterp.models.clipnet.evaluate import evaluate_clipnet
from varinterp.models.clipnet.finetune import finetune_clipnet
from varinterp.models.clipnet.metrics import clipnet_metrics
from varinterp.models.clipnet.runconfig import load_run_config
from varinterp.models.clipnet.train import build_data
from varinterp.training.modeldir import load_model_dir


def _target_toml(tmp_path, world, *, training=None):
    """A reference-only target whose sheet names a sample absent from the store (K562)."""
    rows = ["library\tsample\tplus\tminus"]
    for lib in read_sample_sheet(world.sheet)[:1]:
        rows.append(f"k562\tK562\t{lib.plus}\t{lib.minus}")
    sheet = tmp_path / "target.tsv"
    sheet.write_text("\n".join(rows) + "\n")
    path = write_toml(tmp_path / "target.toml", world, data={"sample_sheet": str(sheet),
                      "reference_only": True, "rc_augment": "none", "folds": "auto"},
                      training={"patience": None, **(training or {})})  # fmt: skip
    text = path.read_text()
    start = text.index("[model]")
    end = text.index("[training]")
    path.write_text(text[:start] + text[end:])  # fine-tuning configs have no [model]
    return path


def test_finetune_starts_from_source_weights_with_source_folds(trained, world, tmp_path):
    _, src, _ = trained
    cfg = _target_toml(tmp_path, world, training={"max_epochs": 1, "lr": 1e-12})
    res = finetune_clipnet(source=src, config=cfg, out=tmp_path / "ft")
    assert res.folds == ["fold_1", "fold_2"]
    md, models = load_model_dir(tmp_path / "ft", architecture="clipnet")
    smd, source = load_model_dir(src)
    assert md.metadata["folds"] == smd.metadata["folds"]  # not the target's "auto" folds
    assert md.metadata["source"] == str(src)
    assert md.metadata["training"]["patience"] == 20
    assert md.metadata["training"]["warmup_epochs"] == 1
    assert md.metadata["reference_only"] is True
    for name in ("fold_1", "fold_2"):
        a, b = models[name].state_dict(), source[name].state_dict()
        for k in a:
            if k.endswith(("weight", "bias")) and "bn" not in k:
                torch.testing.assert_close(a[k], b[k], atol=1e-8, rtol=0)
    log = [json.loads(x) for x in (tmp_path / "ft/metrics.jsonl").read_text().splitlines()]
    assert log[0]["lr"] == pytest.approx(1e-13)  # first epoch at lr / 10


def test_finetune_lr_warmup_then_full(trained, world, tmp_path):
    _, src, _ = trained
    cfg = _target_toml(tmp_path, world, training={"max_epochs": 2})
    finetune_clipnet(source=src, config=cfg, out=tmp_path / "ft2", folds=[2])
    log = [json.loads(x) for x in (tmp_path / "ft2/metrics.jsonl").read_text().splitlines()]
    assert [x["lr"] for x in log] == pytest.approx([1e-4, 1e-3])


def test_finetune_bad_input(trained, world, tmp_path):
    _, src, _ = trained
    cfg = _target_toml(tmp_path, world)
    with pytest.raises(InputError, match="no fold"):
        finetune_clipnet(source=src, config=cfg, out=tmp_path / "x", folds=[5])
    with_model = write_toml(tmp_path / "with_model.toml", world)
    with pytest.raises(InputError, match="not allowed"):
        finetune_clipnet(source=src, config=with_model, out=tmp_path / "y")
    with pytest.raises(InputError, match=r"config\.json is missing"):
        finetune_clipnet(source=tmp_path, config=cfg, out=tmp_path / "z")


def test_evaluate_matches_an_independent_ensemble(trained, tmp_path):
    cfg, src, _ = trained
    res = evaluate_clipnet(model=src, config=cfg, out=tmp_path / "ev")
    table = pd.read_csv(tmp_path / "ev/metrics.tsv", sep="\t")
    got = list(zip(table["model"], table["eval_fold"], strict=True))
    assert got == [("ensemble", 0), ("fold_1", 0), ("fold_1", 1), ("fold_2", 0), ("fold_2", 2)]
    for f in ("tracks.png", "quantity_scatter.png"):
        assert (tmp_path / "ev" / f).read_bytes()[:4] == b"\x89PNG"
    windows = pd.read_csv(tmp_path / "ev/windows_fold0.tsv", sep="\t")
    assert set(windows["chrom"]) == {"c0"} and len(windows) == 2 * 3
    # independent ensemble: mean of the two fold models on the fold-0 windows
    run = load_run_config(cfg)
    md, models = load_model_dir(src)
    data = build_data(run, md.config)
    idx = np.flatnonzero(data.peaks["chrom"].to_numpy() == "c0")
    lib = np.repeat(np.arange(data.n_libraries), idx.size)
    pk = np.tile(idx, data.n_libraries)
    # evaluation windows sit at one seeded offset per peak (seed 47), not centred
    mj = data.max_jitter
    shift = np.random.default_rng(47).integers(-mj, mj + 1, data.n_peaks)[pk]
    assert mj > 0 and np.any(shift != 0)
    b = data.batch(lib, pk, shift=shift)
    x = torch.from_numpy(b.x).float()
    with torch.no_grad():
        outs = [m(x) for m in models.values()]
    p = torch.stack([o[0] for o in outs]).mean(0).numpy()
    q = torch.stack([o[1] for o in outs]).mean(0).numpy()[:, 0]
    want = clipnet_metrics(pred_profile=p, obs_profile=b.profile, pred_quantity=q,
                           obs_quantity=b.quantity[:, 0])  # fmt: skip
    row = table.iloc[0]
    for k in ("median_profile_pearson", "log_quantity_pearson"):
        if np.isnan(want[k]):
            assert np.isnan(row[k])
        else:
            assert row[k] == pytest.approx(want[k], rel=1e-4, abs=1e-5)
    np.testing.assert_allclose(windows["pred_quantity"], q, rtol=1e-4, atol=1e-6)
    assert res.metrics.shape[0] == 5
    with pytest.raises(InputError, match="already exists"):
        evaluate_clipnet(model=src, config=cfg, out=tmp_path / "ev")
