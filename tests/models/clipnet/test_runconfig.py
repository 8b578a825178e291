"""The TOML run config: documented keys parse, unknown keys and bad values are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from varinterp.errors import InputError
from varinterp.models.clipnet.network import ClipnetConfig
from varinterp.models.clipnet.runconfig import load_run_config, model_config_from

BASE = """
[data]
store = "s.vgs"
sample_sheet = "sheet.tsv"
peaks = "/abs/peaks.bed"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "run.toml"
    p.write_text(text)
    return p


def test_defaults_and_relative_paths(tmp_path):
    run = load_run_config(_write(tmp_path, BASE))
    assert run.data.store == tmp_path / "s.vgs"
    assert run.data.peaks == Path("/abs/peaks.bed")
    t = run.training
    assert (t.lr, t.batch_size, t.patience, t.max_epochs) == (1e-3, 256, 10, 200)
    assert t.quantity_weight == pytest.approx(1 / 500)
    assert run.data.folds == "human" and run.data.rc_augment == "both"
    assert run.model is None
    assert model_config_from(None) == ClipnetConfig()


def test_full_config(tmp_path):
    text = (
        BASE
        + """folds = "auto"
rc_augment = "random"
max_jitter = 100
[model]
preset = "small"
n_dilations = 4
[training]
lr = 1
patience = 3
device = "cuda:1"
"""
    )
    run = load_run_config(_write(tmp_path, text))
    assert run.data.folds == "auto" and run.data.max_jitter == 100
    assert run.training.lr == 1.0 and run.training.patience == 3
    assert model_config_from(run.model) == ClipnetConfig.small(n_dilations=4)


def test_fold_table(tmp_path):
    run = load_run_config(_write(tmp_path, BASE + "[data.folds]\nc1 = 0\nc2 = 3\n"))
    assert run.data.folds == {"c1": 0, "c2": 3}


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ("storee = 'x'\n", r"unknown key\(s\) storee in \[data\]"),
        ("[training]\nlearning_rate = 0.1\n", r"unknown key\(s\) learning_rate in \[training\]"),
        ("[model]\nfilters = 3\n", r"unknown key\(s\) filters in \[model\]"),
        ("[optim]\nlr = 1\n", r"unknown key\(s\) optim in \[top level\]"),
        ("[training]\nbatch_size = 'big'\n", "must be a int"),
        ("[training]\npatience = 0\n", "patience must be >= 1"),
        ("rc_augment = 'sometimes'\n", "rc_augment must be one of"),
        ("folds = 'mouse'\n", "folds must be"),
        ("[model]\npreset = 'huge'\n", "preset must be"),
        ("[training]\ndevice = 'tpu'\n", "device must be"),
    ],
)
def test_bad_configs(tmp_path, extra, match):
    with pytest.raises(InputError, match=match):
        load_run_config(_write(tmp_path, BASE + extra))


def test_missing_data_keys_and_bad_toml(tmp_path):
    with pytest.raises(InputError, match="needs peaks"):
        load_run_config(_write(tmp_path, "[data]\nstore='a'\nsample_sheet='b'\n"))
    with pytest.raises(InputError, match="not valid TOML"):
        load_run_config(_write(tmp_path, "[data\n"))
    with pytest.raises(InputError, match="does not exist"):
        load_run_config(tmp_path / "none.toml")


def test_finetune_defaults_and_no_model_section(tmp_path):
    p = _write(tmp_path, BASE)
    run = load_run_config(p, training_defaults={"patience": 20, "warmup_epochs": 1})
    assert run.training.patience == 20 and run.training.warmup_epochs == 1
    run = load_run_config(_write(tmp_path, BASE + "[training]\npatience = 5\n"),
                          training_defaults={"patience": 20})  # fmt: skip
    assert run.training.patience == 5
    with pytest.raises(InputError, match="not allowed"):
        load_run_config(_write(tmp_path, BASE + "[model]\npreset='small'\n"), allow_model=False)
