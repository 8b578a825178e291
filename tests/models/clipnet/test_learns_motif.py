"""A small CLIPNET learns a planted TATA-like motif on simulated data in seconds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from varinterp.models.clipnet.loss import clipnet_loss
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig

MOTIF = np.array([3, 0, 3, 0, 0, 0])  # TATAAA
L, OUT = 200, 50
START = (L - OUT) // 2  # output window [75, 125)
TSS_OFFSET = 30


def _simulate(n: int, rng: np.random.Generator):
    """Homozygous two-hot sequences; half carry TATAAA with a plus-strand TSS 30 bp downstream."""
    codes = rng.integers(0, 4, (n, L))
    has = rng.random(n) < 0.5
    tss = np.full(n, -1)
    profile = np.full((n, 2 * OUT), 0.02, dtype=np.float32)
    for i in np.flatnonzero(has):
        p = int(rng.integers(50, 80))
        codes[i, p : p + len(MOTIF)] = MOTIF
        tss[i] = p + TSS_OFFSET - START
        for d, v in ((-1, 0.5), (0, 1.0), (1, 0.5)):
            profile[i, tss[i] + d] += v
    x = np.zeros((n, 4, L), dtype=np.float32)
    x[np.arange(n)[:, None], codes, np.arange(L)[None, :]] = 2.0
    quantity = np.where(has, 50.0, 1.0).astype(np.float32)[:, None]
    return torch.from_numpy(x), torch.from_numpy(profile), torch.from_numpy(quantity), has, tss


@pytest.mark.parametrize("seed", [0, 1])
def test_small_clipnet_learns_planted_motif(seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cfg = ClipnetConfig(
        input_length=L,
        output_length=OUT,
        conv1_filters=32,
        conv2_filters=16,
        n_filters=16,
        n_dilations=3,
        dropout=0.0,
        bn_momentum=0.1,
    )
    model = Clipnet(cfg)
    x, prof, q, _, _ = _simulate(1024, rng)
    model.init_quantity_scale(q.mean().item(), q.std().item())
    xt, _, _, has_t, tss_t = _simulate(256, rng)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _epoch in range(6):
        order = torch.randperm(len(x))
        for b in range(0, len(x), 64):
            idx = order[b : b + 64]
            p_hat, q_hat = model(x[idx])
            loss = clipnet_loss(p_hat, q_hat, prof[idx], q[idx], quantity_weight=1.0)
            opt.zero_grad()
            loss.total.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        p_hat, q_hat = model(xt)
    # the quantity separates motif carriers (chance TATAAA in negatives caps the AUC)
    score = torch.log1p(q_hat[:, 0]).numpy()
    assert roc_auc_score(has_t, score) > 0.9
    # the plus-strand profile peaks at the planted TSS
    plus = p_hat[:, :OUT].numpy()
    hit = np.abs(plus[has_t].argmax(axis=1) - tss_t[has_t]) <= 2
    assert hit.mean() > 0.8
