"""A tiny model must actually learn the bulk on a toy whose answer is known.

Toy: random sequence with one TATAAA per window; both cell types initiate 30 bp
downstream of it, with reads proportional to their accessibility (cell type b makes 4x
more per unit). The bulk is the sum. A model that learns the motif -> peak mapping drives
the RMSLE far below that of predicting nothing and puts its peak on the right base.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from varinterp.deconv.predict import predict_tracks
from varinterp.deconv.prep import DeconvData
from varinterp.models.deepdetails.files import load_model
from varinterp.models.deepdetails.loss import rmsle
from varinterp.models.deepdetails.network import DeepDetailsConfig
from varinterp.models.deepdetails.train import TrainSettings, initial_count_scale, train_deconv

# 128 -> conv1 108 -> k3 106 -> dilated k4 d=2,4: 88 -> profile k9: 80
SMALL = {
    "input_length": 128,
    "filters": 8,
    "n_dilated": 2,
    "gru_layers": 1,
    "profile_shrinkage": 4,
    "head_layers": 1,
}
MOTIF = np.array([3, 0, 3, 0, 0, 0])  # TATAAA
SHIFT = 20


def toy_data(
    n: int = 32, seed: int = 0, config: DeepDetailsConfig | None = None
) -> tuple[DeconvData, np.ndarray]:
    cfg = config or DeepDetailsConfig(n_cell_types=2, n_strands=1, **SMALL)
    length, target = cfg.input_length, cfg.output_length
    off = (length - target) // 2
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, length))
    acc = np.zeros((n, 2, length), np.float32)
    bulk = np.zeros((n, 1, length), np.float32)
    truth = np.zeros((n, 2, 1, target), np.float32)
    peaks = np.zeros(n, dtype=np.int64)
    for i in range(n):
        pos = int(rng.integers(off, off + target - SHIFT - 6))
        codes[i, pos : pos + 6] = MOTIF
        level = rng.gamma(2.0, 1.0, 2)
        acc[i, :, max(0, pos - 30) : pos + 30] = level[:, None]
        reads = rng.poisson(np.array([30.0, 120.0]) * level)
        truth[i, :, 0, pos + SHIFT - off] = reads
        bulk[i, 0, pos + SHIFT] = reads.sum()
        peaks[i] = pos + SHIFT - off
    seq = np.zeros((n, 4, length), np.uint8)
    seq[np.arange(n)[:, None], codes, np.arange(length)[None, :]] = 1
    starts = np.arange(n) * 1000
    data = DeconvData(
        seq=seq,
        acc=acc,
        bulk=bulk,
        norm=np.ones(2),
        regions=pd.DataFrame({"chrom": "chrT", "start": starts, "end": starts + length}),
        cell_types=["a", "b"],
        chrom_sizes={"chrT": n * 1000 + length},
        target_length=target,
        truth=truth,
    )
    return data, peaks


@pytest.mark.parametrize("seed", [0, 1])
def test_tiny_model_learns_toy_bulk(tmp_path, seed):
    data, peaks = toy_data()
    cfg = DeepDetailsConfig(n_cell_types=2, n_strands=1, **SMALL)
    settings = TrainSettings(
        epochs=25, batch_size=8, lr=1e-2, lr_decay=1.0, patience=25, seed=seed, max_retry=0
    )
    result = train_deconv(data, config=cfg, out=tmp_path, settings=settings, resume=False)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    first, best = rows[0]["train_rmsle"], min(r["train_rmsle"] for r in rows)
    assert best < 0.25 * first, [round(r["train_rmsle"], 3) for r in rows]

    model = load_model(result.model_dir)
    assert model.config.count_scale == pytest.approx(initial_count_scale(data))
    pred = predict_tracks(model, data, rescale="none")
    bulk = torch.from_numpy(np.ascontiguousarray(data.target_bulk()))
    got = float(rmsle(torch.from_numpy(pred.sum(axis=1)), bulk))
    # trivial baselines: predict nothing; spread each window's true total evenly
    zero = float(rmsle(torch.zeros_like(bulk), bulk))
    flat = float(rmsle(bulk.sum(-1, keepdim=True).expand_as(bulk) / bulk.shape[-1], bulk))
    assert got < 0.7 * min(zero, flat)
    # the predicted bulk peaks on the true initiation base (within 2 bp) in most windows
    hit = np.abs(pred.sum(axis=(1, 2)).argmax(axis=-1) - peaks) <= 2
    assert hit.mean() >= 0.5
    # and the raw counts are on the bulk's scale, not orders of magnitude below
    ratio = pred.sum() / data.target_bulk().sum()
    assert 0.1 < ratio < 3.0


def test_initial_count_scale_is_a_tenth_of_the_geometric_mean():
    data, _ = toy_data(n=8)
    totals = data.target_bulk().sum(axis=-1).astype(np.float64)
    want = 0.1 * np.expm1(np.log1p(totals).mean())
    assert initial_count_scale(data) == pytest.approx(max(1.0, want))
    data.bulk[:] = 0
    assert initial_count_scale(data) == 1.0


def test_count_scale_multiplies_the_counts():
    torch.manual_seed(0)
    from varinterp.models.deepdetails.network import build_model

    cfg = DeepDetailsConfig(n_cell_types=2, n_strands=1, **SMALL)
    one = build_model(cfg)
    ten = build_model(DeepDetailsConfig(n_cell_types=2, n_strands=1, count_scale=10.0, **SMALL))
    ten.load_state_dict(one.state_dict())
    seq = torch.zeros(2, 4, 128)
    acc = torch.rand(2, 2, 128)
    scale = torch.full((2, 2), 0.5)
    a, b = one(seq, acc, scale), ten(seq, acc, scale)
    torch.testing.assert_close(b.counts, 10 * a.counts)
    torch.testing.assert_close(b.profile, a.profile)
    # the counts head starts at softplus(bias) == 1 when its input is zero
    head = one.heads[0].counts
    assert float(torch.nn.functional.softplus(head[-1].bias[0].detach())) == pytest.approx(1.0)
