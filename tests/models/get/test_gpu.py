"""GET on CUDA: bf16 training through the engine, predictions and enhancer scores close to
the CPU's."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from varinterp.models.get.interpret import enhancer_scores
from varinterp.models.get.network import Get, GetConfig
from varinterp.models.get.predict import gene_predictions
from varinterp.models.get.train import GetRecipe, train_get


@pytest.mark.gpu
def test_bf16_training_on_cuda(get_world):
    _, _, data = get_world
    cfg = GetConfig.small(data.n_features, 16)
    run = train_get(
        data, config=cfg, recipe=GetRecipe(epochs=2, held_out_chroms=("chr3",)), device="cuda"
    )
    assert np.isfinite([h.train_loss for h in run.result.history]).all()
    genes = list(range(10))
    cpu = gene_predictions([run.model.cpu()], data, 0, genes, n_regions=16, device="cpu")
    gpu = gene_predictions([run.model.cuda()], data, 0, genes, n_regions=16, device="cuda")
    np.testing.assert_allclose(gpu, cpu, rtol=0.05, atol=0.05)


@pytest.mark.gpu
def test_enhancer_scores_on_cuda_match_the_cpu(get_world):
    _, _, data = get_world
    torch.manual_seed(0)
    model = Get(GetConfig.small(data.n_features, 16))
    gene = str(data.genes["gene"].iloc[2])
    kwargs = {"cell_type": "type1", "genes": [gene], "n_regions": 16}
    cpu = enhancer_scores(model, data, **kwargs)
    gpu = enhancer_scores(copy.deepcopy(model).cuda(), data, **kwargs)
    assert len(cpu) > 0
    np.testing.assert_allclose(gpu["jacobian"], cpu["jacobian"], rtol=1e-3, atol=1e-6)
