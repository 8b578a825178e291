"""The prediction core: ensemble mean, reverse-complement averaging, composite, loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.effects._scoring_toys import ToyConfig, ToyModel
from varinterp.effects.predict import predict_windows, tracks
from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.training.inference import ENSEMBLE, load_ensemble
from varinterp.training.modeldir import save_model_dir


def _small_models(n: int, seed: int = 0) -> dict[str, Clipnet]:
    cfg = ClipnetConfig.small(input_length=200, output_length=100)
    out = {}
    for i in range(n):
        torch.manual_seed(seed + i)
        m = Clipnet(cfg)
        with torch.no_grad():  # non-trivial BN statistics so folds differ
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm1d):
                    mod.running_mean.uniform_(-0.2, 0.2)
                    mod.running_var.uniform_(0.5, 1.5)
                    mod.bias.uniform_(0.0, 0.5)
        out[f"fold_{i + 1}"] = m.eval()
    return out


def _windows(n: int, length: int, seed: int = 0) -> np.ndarray:
    codes = np.random.default_rng(seed).integers(0, 4, (n, length)).astype(np.uint8)
    return 2 * one_hot(codes)


def test_toy_model_known_outputs():
    cfg = ToyConfig()
    x = _windows(3, cfg.input_length)
    prof, q = predict_windows([ToyModel(cfg)], x, rc_average=False)
    s = (cfg.input_length - cfg.output_length) // 2
    assert prof.shape == (3, 2, cfg.output_length) and prof.dtype == np.float32
    np.testing.assert_allclose(prof[:, 0], 1 + x[:, 2, s : s + cfg.output_length])
    np.testing.assert_allclose(prof[:, 1], 1 + x[:, 1, s : s + cfg.output_length])
    mid = cfg.input_length // 2 - cfg.core // 2
    gc = (x[:, 1:3, mid : mid + cfg.core].sum(axis=(1, 2)) / 2).astype(float)
    np.testing.assert_allclose(q, 2.0**gc, rtol=1e-6)
    # the toy model is RC-equivariant, so RC averaging changes nothing
    prof2, q2 = predict_windows([ToyModel(cfg)], x, rc_average=True)
    np.testing.assert_allclose(prof2, prof, rtol=1e-6)
    np.testing.assert_allclose(q2, q, rtol=1e-6)


def test_ensemble_mean_and_rc_average_by_hand():
    models = list(_small_models(3).values())
    x = _windows(5, 200, seed=1)
    prof, q = predict_windows(models, x, rc_average=True, batch_size=2)
    with torch.no_grad():
        xt = torch.from_numpy(x).float()
        fw = [m(xt) for m in models]
        rc = [m(xt.flip(1, 2)) for m in models]
    p_f = torch.stack([p for p, _ in fw]).mean(0).reshape(5, 2, 100)
    p_r = torch.stack([p for p, _ in rc]).mean(0).reshape(5, 2, 100).flip(1, 2)
    q_f = torch.stack([q for _, q in fw]).mean(0)[:, 0]
    q_r = torch.stack([q for _, q in rc]).mean(0)[:, 0]
    np.testing.assert_allclose(prof, (0.5 * (p_f + p_r)).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(q, (0.5 * (q_f + q_r)).numpy(), rtol=1e-5, atol=1e-6)


def test_rc_symmetry_of_averaged_predictions():
    models = list(_small_models(2).values())
    x = _windows(4, 200, seed=2)
    prof, q = predict_windows(models, x)
    prof_rc, q_rc = predict_windows(models, np.ascontiguousarray(x[:, ::-1, ::-1]))
    np.testing.assert_allclose(q_rc, q, rtol=1e-5)
    np.testing.assert_allclose(prof_rc[:, ::-1, ::-1], prof, rtol=1e-5, atol=1e-6)
    # without averaging the untrained network is not symmetric (the test can fail)
    p1, _ = predict_windows(models, x, rc_average=False)
    p2, _ = predict_windows(models, np.ascontiguousarray(x[:, ::-1, ::-1]), rc_average=False)
    assert not np.allclose(p2[:, ::-1, ::-1], p1, rtol=1e-3)


def test_tracks_sum_to_quantity():
    prof = np.abs(np.random.default_rng(0).normal(size=(3, 2, 7))).astype(np.float32)
    prof[2] = 0
    q = np.array([2.0, 5.0, 3.0], dtype=np.float32)
    t = tracks(prof, q)
    np.testing.assert_allclose(t.sum(axis=(1, 2)), [2.0, 5.0, 0.0], rtol=1e-6)


def test_bad_window_shape():
    with pytest.raises(InputError, match=r"\(n, 4, 40\)"):
        predict_windows([ToyModel()], np.zeros((2, 4, 39), np.uint8))


def _save(tmp_path, names, metadata=None):
    models = _small_models(len(names))
    folds = dict(zip(names, models.values(), strict=True))
    cfg = next(iter(models.values())).config
    return save_model_dir(tmp_path / "m", config=cfg, folds=folds, metadata=metadata or {})


def test_composite_picks_the_held_out_fold(tmp_path):
    table = {"c1": 1, "c2": 2, "c0": 0, "c3": 3}
    path = _save(tmp_path, ["fold_1", "fold_2", "fold_3"], {"folds": table, "n_folds": 4})
    ens = load_ensemble(path)
    assert ens.scorer_of("c2", holdout_composite=True) == "fold_2"
    assert ens.scorer_of("c0", holdout_composite=True) == ENSEMBLE
    assert ens.scorer_of("chrX", holdout_composite=True) == ENSEMBLE
    assert ens.scorer_of("c2", holdout_composite=False) == ENSEMBLE
    x = _windows(4, 200, seed=3)
    chroms = ["c1", "c2", "c0", "c3"]
    prof, q = ens.predict(x, chroms=chroms, holdout_composite=True).task(0)
    for i, c in enumerate(chroms):
        ms = list(ens.models.values()) if c == "c0" else [ens.models[f"fold_{c[1]}"]]
        p_i, q_i = predict_windows(ms, x[i : i + 1])
        np.testing.assert_allclose(prof[i], p_i[0], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(q[i], q_i[0], rtol=1e-5)
    # and it is not the plain ensemble
    _, q_ens = ens.predict(x).task(0)
    assert not np.allclose(q_ens[:2], q[:2], rtol=1e-4)


def test_composite_missing_fold_model(tmp_path):
    path = _save(tmp_path, ["fold_1"], {"folds": {"c1": 1, "c2": 2}, "n_folds": 4})
    ens = load_ensemble(path)
    with pytest.raises(InputError, match="no fold_2 model"):
        ens.scorer_of("c2", holdout_composite=True)


def test_model_dir_missing_fold_weights(tmp_path):
    path = _save(tmp_path, ["fold_1", "fold_2"])
    (path / "fold_2.safetensors").unlink()
    with pytest.raises(InputError, match=r"fold_2\.safetensors are missing"):
        load_ensemble(path)
    doc = json.loads((path / "config.json").read_text())
    doc["folds"] = []
    (path / "config.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="fold names"):
        load_ensemble(path)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_close_to_cpu_fp32():
    models = list(_small_models(2).values())
    x = _windows(64, 200, seed=5)
    p_cpu, q_cpu = predict_windows(models, x, device="cpu")
    gpu_models = [m.to("cuda") for m in models]
    p_gpu, q_gpu = predict_windows(gpu_models, x, device="cuda", batch_size=16)
    assert p_gpu.dtype == np.float32 and q_gpu.dtype == np.float32
    np.testing.assert_allclose(q_gpu, q_cpu, rtol=0.05, atol=0.02)
    np.testing.assert_allclose(p_gpu, p_cpu, rtol=0.05, atol=0.05)
