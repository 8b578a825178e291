"""The bpAI-TAC run config: defaults per kind, paths, the published split, bad keys."""

from __future__ import annotations

import pytest

from varinterp.errors import InputError
from varinterp.models.bpaitac.runconfig import fit_settings, load_run_config, model_config_from


def _write(tmp_path, text):
    (tmp_path / "run.toml").write_text(text)
    return tmp_path / "run.toml"


DATA = '[data]\nfasta = "g.fa"\ntasks = "ins/tasks.tsv"\npeaks = "/abs/peaks.bed"\n'


def test_defaults_of_each_kind(tmp_path):
    path = _write(tmp_path, DATA)
    run = load_run_config(path)
    assert run.data.fasta == tmp_path / "g.fa" and str(run.data.peaks) == "/abs/peaks.bed"
    assert run.data.validation_chroms == ("chr12", "chr15")
    assert run.data.test_chroms == ("chr11", "chr16")
    assert (run.training.loss, run.training.lam, run.data.normalize) == ("ce", 0.5, "quantile")
    assert run.training.batch_size == 20 and run.training.warmup_steps == 1000
    bias = load_run_config(path, kind="tn5-bias")
    assert (bias.training.loss, bias.data.normalize) == ("jsd", "none")
    assert bias.data.validation_fraction == 0.1 and bias.data.min_total == 10.0
    s = fit_settings(run.training)
    assert s.monitor == "val_loss" and s.optimizer.warmup_steps == 1000
    assert s.optimizer.lr * s.optimizer.warmup_start == pytest.approx(1e-6)


def test_model_section(tmp_path):
    path = _write(tmp_path, DATA + '[model]\npreset = "small"\nfilters = 12\n'
                  'stem_activation = "none"\n')  # fmt: skip
    run = load_run_config(path)
    cfg = model_config_from(run.model, n_tasks=5)
    assert (cfg.filters, cfg.n_blocks, cfg.input_length, cfg.n_tasks) == (12, 5, 500, 5)
    assert cfg.stem_activation == "none"
    bias = model_config_from(run.model, n_tasks=5, tn5_bias=True)
    assert bias.n_tasks == 1 and not bias.scalar_head
    assert model_config_from({}, n_tasks=90).filters == 300


@pytest.mark.parametrize(
    "extra, message",
    [
        ("[training]\nlambda = 1.5\n", r"lambda must be in \[0, 1\]"),
        ("[training]\nloss = 'mse'\n", "loss must be one of"),
        ("[training]\nbatch_size = 'x'\n", "must be a int"),
        ("[data.extra]\nx = 1\n", "unknown key"),
        ("[model]\nwidth = 3\n", "unknown key"),
        ("[model]\nstem_activation = 'gelu'\n", "stem_activation"),
        ("[training]\ndevice = 'tpu'\n", "device must be"),
        ("[other]\n", "unknown section"),
    ],
)
def test_bad_configs(tmp_path, extra, message):
    with pytest.raises(InputError, match=message):
        load_run_config(_write(tmp_path, DATA + extra))


def test_missing_data_keys(tmp_path):
    with pytest.raises(InputError, match="needs peaks"):
        load_run_config(_write(tmp_path, '[data]\nfasta = "g.fa"\ntasks = "t.tsv"\n'))
