"""In-silico footprints with a hand-set model whose profile dips over one motif."""

from __future__ import annotations

import numpy as np
import torch

from varinterp.models.bpaitac.footprint import footprint_motif
from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig
from varinterp.training.inference import load_model
from varinterp.training.modeldir import save_model_dir

MOTIF = "TGACTCA"


def _dip_model(tmp_path):
    """Task 0: the profile logits drop by 20 within 3 bp of a TGACTCA's centre; task 1
    ignores it. A random Tn5 bias network is attached (footprints zero it)."""
    torch.manual_seed(0)
    bias = BpAiTacConfig.tn5_bias(filters=2, n_blocks=0, input_length=120, output_length=60,
                                  scalar_pools=(2,))  # fmt: skip
    cfg = BpAiTacConfig(n_tasks=2, input_length=120, output_length=60, filters=1, n_blocks=0,
                        scalar_pools=(2,), bias=bias)  # fmt: skip
    model = BpAiTac(cfg)
    with torch.no_grad():
        w = torch.zeros(1, 4, 25)
        for k, base in enumerate(MOTIF):
            w[0, "ACGT".index(base), 9 + k] = 1.0
        model.stem.weight.copy_(w)
        model.stem.bias.fill_(-6.5)  # only an exact match (score 7) passes the ReLU
        model.profile.weight.zero_()
        model.profile.bias.zero_()
        model.profile.weight[0, 0, 9:16] = -40.0
    path = save_model_dir(tmp_path / "m", config=cfg, folds={"replicate_1": model},
                          metadata={"tasks": ["bound", "unbound"]})  # fmt: skip
    return load_model(path, device="cpu")


def test_the_dip_is_found_at_the_motif_centre(tmp_path):
    ens = _dip_model(tmp_path)
    fp = footprint_motif(ens, MOTIF, n=30, seed=1)
    assert fp.tasks == ("bound", "unbound")
    assert abs(fp.dip_offset(0)) <= 0.5
    assert fp.dip_depth(0) < -3
    np.testing.assert_allclose(fp.with_motif[1], fp.without[1], rtol=1e-6)
    assert np.isnan(fp.dip_offset(1))
    shifted = footprint_motif(ens, MOTIF, n=30, seed=1, offset=10)
    assert shifted.motif_start == 10 and abs(shifted.dip_offset(0)) <= 0.5
    table = fp.table()
    assert set(table["task"]) == {"bound", "unbound"} and len(table) == 2 * 60
