"""Contributions to the bulk per unit of accessibility, and the model starting at the split.

Checks against a planted world (known contributions), a naive read of the bigWigs, and
the proportional split the untrained model must reproduce.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from varinterp.deconv.baselines import proportional_split, window_scale
from varinterp.deconv.contributions import bin_signals, response_from_bins
from varinterp.deconv.predict import rescale_to_bulk
from varinterp.deconv.prep import DeconvData, load_data, save_data
from varinterp.errors import InputError
from varinterp.io.bigwig import write_bigwig
from varinterp.models.deepdetails.network import (
    DeepDetailsConfig,
    build_model,
    start_at_scale_split,
)


def _planted(contributions, *, exponent=1.0, m=6000, seed=0):
    """Bins whose bulk is Poisson(sum_k c_k x load_k^e x lognormal noise)."""
    rng = np.random.default_rng(seed)
    k = len(contributions)
    mix = rng.dirichlet(np.full(k, 0.3), size=m)  # many bins open in mostly one type
    depth = rng.gamma(2.0, 20.0, size=m)
    load = mix * depth[:, None]
    noise = rng.lognormal(0.0, 0.5, size=(m, k))
    signal = (load**exponent * noise * np.asarray(contributions)[None, :]).sum(axis=1)
    return load, rng.poisson(signal).astype(float)


@pytest.mark.parametrize("planted", [(1.0, 1.0, 1.0), (6.0, 3.0, 1.0), (0.5, 1.5, 4.0)])
def test_recovers_planted_contributions(planted):
    load, bulk = _planted(planted)
    got = response_from_bins(load, bulk, exponent=1.0)
    want = np.asarray(planted) / np.mean(planted)
    assert got.exponent == 1.0
    assert got.contributions.shape == (3,) and got.contributions.dtype == np.float64
    assert np.mean(got.contributions) == pytest.approx(1.0)
    # lognormal(0, 0.5) noise has mean exp(0.125) for every type, so ratios are exact
    np.testing.assert_allclose(got.contributions, want, rtol=0.08)


@pytest.mark.parametrize("exponent", [0.7, 1.0, 1.6])
def test_fits_a_planted_exponent(exponent):
    planted = (4.0, 1.0, 2.0)
    load, bulk = _planted(planted, exponent=exponent, m=20_000, seed=1)
    got = response_from_bins(load, bulk)
    assert got.exponent == pytest.approx(exponent, abs=0.06)
    np.testing.assert_allclose(got.contributions, np.asarray(planted) / np.mean(planted), rtol=0.1)
    # choosing the bins by the bulk instead biases the exponent down: the fit must not
    top_bulk = np.argsort(-bulk)[:2000]
    biased = response_from_bins(load[top_bulk], bulk[top_bulk], n_fit=2000, min_bins=5)
    assert biased.exponent < got.exponent


@pytest.mark.parametrize("exponent", [1.0, 1.5])
def test_solves_the_sums_over_the_strongest_specific_bins(exponent):
    load, bulk = _planted((2.0, 1.0, 1.0), m=800, seed=3)
    got = response_from_bins(load, bulk, exponent=exponent, min_share=0.7, n_bins=50)
    a, y = np.zeros((3, 3)), np.zeros(3)
    for k in range(3):
        rows = [i for i in range(len(bulk)) if load[i, k] / load[i].sum() >= 0.7]
        rows = sorted(rows, key=lambda i: -load[i, k])[:50]
        for i in rows:
            a[k] += load[i] ** exponent
            y[k] += bulk[i]
    want = np.linalg.solve(a, y)
    np.testing.assert_allclose(got.contributions, want / want.mean(), rtol=1e-9)


def test_too_few_specific_bins_is_a_clear_error():
    load = np.array([[1.0, 1.0]] * 50 + [[5.0, 0.1]] * 30)
    bulk = load.sum(axis=1)
    with pytest.raises(InputError, match="only 0 bins are at least 80% B's"):
        response_from_bins(load, bulk, cell_types=["A", "B"])


def test_absent_cell_type_is_a_clear_error():
    load = np.array([[5.0, 0.1]] * 30 + [[0.1, 5.0]] * 30)
    bulk = np.r_[np.full(30, 10.0), np.zeros(30)]
    with pytest.raises(InputError, match="no signal where only B is accessible"):
        response_from_bins(load, bulk, cell_types=["A", "B"])


def test_bin_signals_matches_a_naive_read(tmp_path):
    rng = np.random.default_rng(1)
    sizes = {"chr1": 25_300, "chr2": 12_000}
    tracks = {}
    for name in ("pl", "mn", "a", "b"):
        sign = -1.0 if name == "mn" else 1.0
        values = {c: sign * rng.poisson(0.3, n).astype(float) for c, n in sizes.items()}
        tracks[name] = values
        write_bigwig(
            tmp_path / f"{name}.bw",
            chrom_sizes=sizes,
            tracks=[(c, 0, v) for c, v in values.items()],
        )
    norm = np.array([2.0, 0.5])
    load, bulk = bin_signals(
        bulk_pl=tmp_path / "pl.bw",
        bulk_mn=tmp_path / "mn.bw",
        accessibility=[tmp_path / "a.bw", tmp_path / "b.bw"],
        norm=norm,
        bin_size=1000,
        chunk=7000,  # pieces that do not divide the contigs
    )
    want_load, want_bulk = [], []
    for c, n in sizes.items():
        for start in range(0, n // 1000 * 1000, 1000):
            sl = slice(start, start + 1000)
            want_bulk.append(np.abs(tracks["pl"][c][sl]).sum() + np.abs(tracks["mn"][c][sl]).sum())
            want_load.append([tracks["a"][c][sl].mean() * 2.0, tracks["b"][c][sl].mean() * 0.5])
    assert load.shape == (25 + 12, 2) and bulk.shape == (37,)
    np.testing.assert_allclose(bulk, want_bulk)
    np.testing.assert_allclose(load, want_load)


def _data(rng, n=6, k=3, s=2, length=256, target=128, contributions=None, exponent=1.0):
    return DeconvData(
        seq=np.zeros((n, 4, length), np.uint8),
        acc=rng.gamma(1.0, 1.0, size=(n, k, length)).astype(np.float32),
        bulk=rng.poisson(3.0, size=(n, s, length)).astype(np.float32),
        norm=np.array([1.0, 2.0, 0.5])[:k],
        regions=pd.DataFrame(
            {
                "chrom": ["chr1"] * n,
                "start": np.arange(n) * 1000,
                "end": np.arange(n) * 1000 + length,
            }
        ),
        cell_types=["A", "B", "C"][:k],
        chrom_sizes={"chr1": 100_000},
        target_length=target,
        contributions=contributions,
        exponent=exponent,
    )


def test_scale_weighs_accessibility_and_round_trips(tmp_path):
    rng = np.random.default_rng(2)
    c = np.array([1.5, 0.5, 1.0])
    data = _data(rng, contributions=c)
    np.testing.assert_array_equal(
        data.scale(), window_scale(data.acc, data.norm * c, center=data.target_length)
    )
    plain = dataclasses.replace(data, contributions=None)
    assert not np.allclose(data.scale(), plain.scale())
    load = data.load() ** 1.5 * c
    powered = dataclasses.replace(data, exponent=1.5)
    np.testing.assert_allclose(powered.scale(), load / load.sum(1, keepdims=True), rtol=1e-6)
    back = load_data(save_data(powered, tmp_path / "d.h5"))
    assert back.exponent == 1.5
    np.testing.assert_array_equal(back.contributions, c)
    np.testing.assert_array_equal(back.subset([0, 2]).contributions, c)
    plain_back = load_data(save_data(plain, tmp_path / "p.h5"))
    assert plain_back.contributions is None and plain_back.exponent == 1.0


@pytest.mark.parametrize(("seq_only", "exponent"), [(False, 1.0), (True, 1.0), (False, 1.4)])
def test_untrained_model_starts_at_the_weighted_split(seq_only, exponent):
    rng = np.random.default_rng(4)
    torch.manual_seed(0)
    config = DeepDetailsConfig(n_cell_types=3, filters=8, profile_shrinkage=4, gru_layers=1,
                               seq_only=seq_only, count_scale=7.0)  # fmt: skip
    data = _data(rng, length=config.input_length, target=config.output_length,
                 contributions=np.array([2.0, 0.5, 0.5]), exponent=exponent)  # fmt: skip
    model = start_at_scale_split(build_model(config)).eval()
    with torch.no_grad():
        out = model(
            torch.from_numpy(data.seq).float(),
            torch.from_numpy(data.acc),
            torch.from_numpy(data.scale()),
        )
    counts = out.counts.numpy()  # (n, K, S)
    np.testing.assert_allclose(counts, 7.0 * data.scale()[:, :, None].repeat(2, 2), rtol=1e-5)
    pred = (out.profile * out.counts[..., None]).numpy()
    exported = rescale_to_bulk(pred, data.target_bulk(), mode="counts")
    split = proportional_split(data.target_bulk(), data.load() ** exponent * data.contributions)
    np.testing.assert_allclose(exported.sum(-1), split.sum(-1), rtol=1e-4)
    # a model left at its random start does not
    random = build_model(config).eval()
    with torch.no_grad():
        other = random(
            torch.from_numpy(data.seq).float(), torch.from_numpy(data.acc),
            torch.from_numpy(data.scale()),
        ).counts.numpy()  # fmt: skip
    assert not np.allclose(other, counts, rtol=1e-2)


def test_split_anchor_is_the_variance_of_log_totals_over_scale():
    from varinterp.models.deepdetails.loss import DeconvLoss, split_anchor

    rng = np.random.default_rng(5)
    pred = torch.from_numpy(rng.gamma(1.0, 1.0, size=(4, 3, 2, 50)).astype(np.float32))
    scale = torch.from_numpy(rng.dirichlet(np.ones(3), size=4).astype(np.float32))
    scale[1, 2] = 0.0  # nothing accessible: left out of that window
    want = []
    for b in range(4):
        for s in range(2):
            keep = [k for k in range(3) if scale[b, k] > 1e-6]
            r = [np.log(pred[b, k, s].sum().item() / scale[b, k].item()) for k in keep]
            want.append(np.var(r))
    assert split_anchor(pred, scale).item() == pytest.approx(np.mean(want), rel=1e-5)
    # counts that divide exactly as the scale cost nothing, whatever their profiles
    profile = torch.softmax(pred, dim=-1)
    exact = profile * (scale[:, :, None, None] * 40.0)
    assert split_anchor(exact, scale).item() == pytest.approx(0.0, abs=1e-8)
    loss = DeconvLoss(anchor=2.0, redundancy=False)
    bulk = pred.sum(dim=1)
    parts = loss(pred.requires_grad_(), bulk, scale=scale)
    assert parts.total.item() == pytest.approx(
        parts.rmsle.item() + 2.0 * parts.anchor.item(), rel=1e-6
    )
    parts.total.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    with pytest.raises(ValueError, match="needs the batch's scale"):
        loss(pred, bulk)
