"""Training from scratch starts the profile head at the training windows' mean shape.

Regression: the published head (Dense -> BatchNorm -> ReLU) starts at ``bias=0,
weight=1``, i.e. ReLU of unit noise at every output position. A short (demo-sized) run
never unlearnt that, so the demo's fold models scored *below* a constant mean-profile
predictor on held-out windows (median profile Pearson 0.03-0.11 vs about 0.4).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.models.clipnet._world import rpm_scale, write_toml
from varinterp.datasets.folds import FoldMap
from varinterp.datasets.samplesheet import read_sample_sheet
from varinterp.genome.store import GenomeStore
from varinterp.models.clipnet import train as train_mod
from varinterp.models.clipnet.data import ClipnetData
from varinterp.models.clipnet.heads import mean_profile, start_profile_head
from varinterp.models.clipnet.loss import profile_cosine_loss
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.training import engine

L_IN, L_OUT, JITTER = 240, 100, 10


@pytest.fixture(scope="module")
def data(world):
    return ClipnetData.build(
        store=GenomeStore.open(world.store),
        libraries=read_sample_sheet(world.sheet),
        peaks=world.peaks,
        input_length=L_IN,
        output_length=L_OUT,
        max_jitter=JITTER,
    )


def _naive_mean(world, data, peaks, rc):
    """Per-window normalised mean profile straight from the world's raw signal arrays."""
    rows = []
    for lib in read_sample_sheet(world.sheet):
        plus, minus = world.signal[lib.name]
        s = rpm_scale(world, lib.name)
        for p in peaks:
            chrom = data.peaks["chrom"][p]
            start = int(data.anchor[p]) - L_IN // 2 + (L_IN - L_OUT) // 2
            prof = np.stack(
                [plus[chrom][start : start + L_OUT], minus[chrom][start : start + L_OUT]]
            )
            prof = prof * s
            if prof.sum() > 0:
                rows.append(prof / prof.sum())
    mean = np.mean(rows, axis=0)
    if rc:
        mean = 0.5 * (mean + mean[::-1, ::-1])
    return mean.reshape(-1)


@pytest.mark.parametrize("rc", [False, True])
def test_mean_profile_matches_naive_average(world, data, rc):
    peaks = data.peaks_in_folds(FoldMap({c: i for i, c in enumerate(world.reference)}), [2, 3, 4])
    assert peaks.size > 1
    got = mean_profile(data, peaks, rc=rc)
    want = _naive_mean(world, data, peaks, rc)
    assert got.shape == (2 * L_OUT,)
    assert got.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)
    if rc:  # symmetric under reverse complement: flip positions, swap strands
        np.testing.assert_allclose(got, got.reshape(2, L_OUT)[::-1, ::-1].reshape(-1))
    else:  # this world's peaks are not symmetric, so the rc average must differ
        assert not np.allclose(got, mean_profile(data, peaks, rc=True))


def test_started_head_outputs_the_mean_shape():
    cfg = ClipnetConfig.small(input_length=L_IN, output_length=L_OUT, n_dilations=2, dropout=0.0)
    torch.manual_seed(0)
    shape = np.zeros(2 * L_OUT)
    shape[[30, 31, 150]] = [0.5, 0.2, 0.3]
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (16, L_IN)), 4).transpose(1, 2) * 2.0
    fresh = Clipnet(cfg).train()
    target = torch.as_tensor(shape, dtype=torch.float32).expand(16, -1)
    # Keras' start: noise, far from the mean shape
    assert float(-profile_cosine_loss(fresh(x)[0].detach(), target)) < 0.3
    model = Clipnet(cfg).train()
    start_profile_head(model, shape, spread=0.0)
    prof, _ = model(x)
    np.testing.assert_allclose(prof.detach().numpy(), np.broadcast_to(shape / 0.5, prof.shape),
                               atol=1e-6)  # fmt: skip
    start_profile_head(model, shape)  # default spread keeps some sequence signal
    assert float(-profile_cosine_loss(model(x)[0].detach(), target)) > 0.6
    before = {k: v.clone() for k, v in model.state_dict().items()}
    start_profile_head(model, np.zeros(2 * L_OUT))  # no signal: unchanged
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_training_from_scratch_starts_the_head(world, tmp_path, monkeypatch):
    captured = {}

    class Stop(Exception):
        pass

    def capture(model, dist, dev):
        captured.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        raise Stop

    monkeypatch.setattr(engine, "wrap_model", capture)  # the model the engine trains
    cfg = write_toml(
        tmp_path / "run.toml", world, data={"max_jitter": JITTER, "rc_augment": "none"}
    )
    with pytest.raises(Stop):
        train_mod.train_clipnet(config=cfg, out=tmp_path / "m", folds=[1])
    bias = captured["profile_bn.bias"].numpy()
    assert bias.max() == pytest.approx(1.0)
    assert bias.argmax() == int(np.argmax(bias))
    assert np.all(captured["profile_bn.weight"].numpy() == pytest.approx(0.1))


def test_batchnorm_recalibration_gives_the_training_batches_statistics(world, data):
    """After recalibration each BatchNorm's running mean/var are the averages of the
    per-batch statistics its input had over the same batches (checked with hooks)."""
    from varinterp.models.clipnet.task import recalibrate_batchnorm

    cfg = ClipnetConfig.small(input_length=L_IN, output_length=L_OUT, n_dilations=2)
    torch.manual_seed(1)
    model = Clipnet(cfg)
    peaks = data.peaks_in_folds(FoldMap({c: i for i, c in enumerate(world.reference)}), [2, 3])
    examples = data.examples(peaks)
    seen: dict[str, list] = {}

    def hook(name):
        def record(_mod, args):
            x = args[0].detach().double()
            dims = [0, 2] if x.ndim == 3 else [0]
            # BatchNorm's running variance uses the unbiased batch variance
            seen.setdefault(name, []).append((x.mean(dims), x.var(dims, correction=1)))

        return record

    norms = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm1d)}
    handles = [m.register_forward_pre_hook(hook(n)) for n, m in norms.items()]
    used = recalibrate_batchnorm(
        model, data, examples, n_batches=3, batch_size=4, rng=np.random.default_rng(0),
        device=torch.device("cpu"),
    )  # fmt: skip
    for h in handles:
        h.remove()
    assert used == 3
    for name, m in norms.items():
        means = torch.stack([s[0] for s in seen[name]]).mean(0)
        variances = torch.stack([s[1] for s in seen[name]]).mean(0)
        np.testing.assert_allclose(m.running_mean.double(), means, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(m.running_var.double(), variances, rtol=1e-4, atol=1e-5)
        assert m.momentum == cfg.bn_momentum  # restored
        assert int(m.num_batches_tracked) == 3
