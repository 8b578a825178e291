from __future__ import annotations

import numpy as np
import pytest

from tests.deconv.conftest import tiny_config
from varinterp.deconv.predict import predict_tracks
from varinterp.models.deepdetails.files import load_model
from varinterp.models.deepdetails.train import TrainSettings, train_deconv


@pytest.mark.gpu
def test_bf16_training_on_cuda_matches_cpu_shapes(synthetic_data, tmp_path):
    settings = TrainSettings(epochs=2, batch_size=4, lr_decay=1.0)
    res = train_deconv(
        synthetic_data, config=tiny_config(), out=tmp_path / "gpu", settings=settings, device="cuda"
    )
    pred = predict_tracks(load_model(res.model_dir), synthetic_data, device="cuda")
    cpu = predict_tracks(load_model(res.model_dir), synthetic_data, device="cpu")
    assert pred.shape == cpu.shape and np.isfinite(pred).all()
    # bf16 autocast: close to the fp32 CPU forward pass, not equal
    np.testing.assert_allclose(pred.sum(axis=(2, 3)), cpu.sum(axis=(2, 3)), rtol=0.05, atol=0.5)
