"""Training through the one engine: both recipes, resume after a kill, the bias in the
model directory, and the bad inputs of training."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tests.models.bpaitac._world import write_config
from varinterp.errors import InputError
from varinterp.models.bpaitac.train import train_bpaitac
from varinterp.training.inference import load_model
from varinterp.training.modeldir import read_model_dir


def test_bias_model_directory(tiny_bias):
    md = read_model_dir(tiny_bias, architecture="bpaitac")
    assert md.metadata["role"] == "tn5-bias"
    assert md.config.n_tasks == 1 and not md.config.scalar_head
    assert md.metadata["test_metrics"]["replicate_1"]["profile_jsd_median"] is not None
    assert (tiny_bias / "README.md").read_text().startswith("# Tn5 bias model")


def test_model_carries_its_frozen_bias_network(tmp_path, tiny_atac, tiny_bias):
    cfg = write_config(tmp_path / "run.toml", tiny_atac)
    res = train_bpaitac(config=cfg, out=tmp_path / "m", bias_model=tiny_bias, device="cpu")
    assert res.members == ["replicate_1"] and res.n_windows["test"] > 0
    ens = load_model(tmp_path / "m", device="cpu")
    assert ens.tasks == tuple(tiny_atac.world.cell_types)
    assert ens.model_dir.config.bias == read_model_dir(tiny_bias).config
    main = load_file(str(tmp_path / "m" / "replicate_1.safetensors"))
    bias = load_file(str(tiny_bias / "replicate_1.safetensors"))
    for k, v in bias.items():  # the bias weights, BatchNorm statistics included, unchanged
        assert torch.equal(main[f"bias.{k}"], v), k
    meta = ens.model_dir.metadata
    assert meta["role"] == "bpaitac" and meta["loss"] == {"kind": "ce", "lambda": 0.5}
    assert meta["bias_model"]["path"] == str(tiny_bias)
    assert (tmp_path / "m" / "metrics.jsonl").read_text().count("\n") == 2


class _Killed(Exception):
    pass


def test_a_killed_run_resumes_to_the_same_weights(tmp_path, tiny_atac):
    cfg = write_config(tmp_path / "run.toml", tiny_atac, training={"max_epochs": 3})
    straight = train_bpaitac(config=cfg, out=tmp_path / "a", no_bias=True, device="cpu")
    assert straight.trained == [1]

    def kill(log):
        if log.epoch == 1:
            raise _Killed

    with pytest.raises(_Killed):
        train_bpaitac(config=cfg, out=tmp_path / "b", no_bias=True, device="cpu", on_epoch=kill)
    again = train_bpaitac(config=cfg, out=tmp_path / "b", no_bias=True, device="cpu")
    assert again.trained == [1]
    a = load_file(str(tmp_path / "a" / "replicate_1.safetensors"))
    b = load_file(str(tmp_path / "b" / "replicate_1.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not any(k.startswith("bias.") for k in a)  # --no-bias: no bias network


def test_bad_training_inputs(tmp_path, tiny_atac, tiny_bias):
    cfg = write_config(tmp_path / "run.toml", tiny_atac)
    with pytest.raises(InputError, match="needs a Tn5 bias model"):
        train_bpaitac(config=cfg, out=tmp_path / "x")
    with pytest.raises(InputError, match=r"lambda .* \[0, 1\]"):
        train_bpaitac(config=cfg, out=tmp_path / "x", no_bias=True, lam=1.2)
    bad = write_config(tmp_path / "bad.toml", tiny_atac, training={"lambda": -1.0})
    with pytest.raises(InputError, match=r"lambda must be in \[0, 1\]"):
        train_bpaitac(config=bad, out=tmp_path / "x", no_bias=True)
    longer = write_config(tmp_path / "long.toml", tiny_atac, model={"input_length": 500})
    with pytest.raises(InputError, match="maps 400 -> 250 bp but this model takes 500 bp"):
        train_bpaitac(config=longer, out=tmp_path / "x", bias_model=tiny_bias)
    with pytest.raises(InputError, match="give --bias-model or --no-bias"):
        train_bpaitac(config=cfg, out=tmp_path / "x", bias_model=tiny_bias, no_bias=True)


def test_a_bpaitac_model_is_not_a_bias_model(tmp_path, tiny_atac, tiny_bias):
    cfg = write_config(tmp_path / "run.toml", tiny_atac, training={"max_epochs": 1})
    train_bpaitac(config=cfg, out=tmp_path / "m", no_bias=True, device="cpu")
    with pytest.raises(InputError, match="is not a Tn5 bias model"):
        train_bpaitac(config=cfg, out=tmp_path / "y", bias_model=tmp_path / "m")


def test_count_head_starts_at_the_data_scale(tmp_path, tiny_atac):
    cfg = write_config(tmp_path / "run.toml", tiny_atac, training={"max_epochs": 1, "lr": 1e-9,
                                                                   "warmup_steps": 0})  # fmt: skip
    train_bpaitac(config=cfg, out=tmp_path / "m", no_bias=True, device="cpu")
    ens = load_model(tmp_path / "m", device="cpu")
    bias = next(iter(ens.models.values())).counts.bias.detach().numpy()
    from varinterp.models.bpaitac.data import build_atac_data

    d = build_atac_data(fasta=tiny_atac.files.fasta, tracks=tiny_atac.tasks,
                        peaks=tiny_atac.files.ocrs_bed, input_length=400, output_length=250,
                        validation_chroms=["chr2"], test_chroms=["chr3"])  # fmt: skip
    typical = np.expm1(np.log1p(d.totals[d.index("train")]).mean(0))
    np.testing.assert_allclose(bias, typical, rtol=1e-3)
    assert dataclasses.is_dataclass(ens.model_dir.config)


@pytest.mark.slow
def test_two_processes_under_torchrun_write_one_model(tmp_path, tiny_atac):
    import json
    import os
    import subprocess
    import sys

    cfg = write_config(tmp_path / "run.toml", tiny_atac)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
           "2", "-m", "varinterp", "train", "bpaitac", "--config", str(cfg), "--no-bias",
           "--out", str(tmp_path / "m")]  # fmt: skip
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("wrote ") == 1  # rank 0 alone reports and writes
    ens = load_model(tmp_path / "m", device="cpu")
    assert ens.tasks == tuple(tiny_atac.world.cell_types)
    lines = (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [0, 1]
