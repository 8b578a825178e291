"""CLIPNET architecture: layer shapes, parameter count, TF "same" padding, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from varinterp.errors import InputError
from varinterp.models.clipnet.layers import TFSameConv1d, tf_same_padding
from varinterp.models.clipnet.network import (
    Clipnet,
    ClipnetConfig,
    keras_param_count,
    profile_to_track,
    split_strands,
)


def _two_hot(n: int, length: int, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    a1 = rng.integers(0, 4, (n, length))
    a2 = np.where(rng.random((n, length)) < 0.2, rng.integers(0, 4, (n, length)), a1)
    x = np.zeros((n, 4, length), dtype=np.float32)
    for i in range(n):
        x[i, a1[i], np.arange(length)] += 1
        x[i, a2[i], np.arange(length)] += 1
    return torch.from_numpy(x)


def _naive_tf_same(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int) -> np.ndarray:
    """TF 'same': out[o, i] = b[o] + sum_{c,k} w[o,c,k] * x[c, i + k*d - total//2]."""
    c_out, c_in, k = w.shape
    length = x.shape[1]
    left = (k - 1) * dilation // 2
    out = np.zeros((c_out, length))
    for o in range(c_out):
        for i in range(length):
            s = b[o]
            for c in range(c_in):
                for j in range(k):
                    p = i + j * dilation - left
                    if 0 <= p < length:
                        s += w[o, c, j] * x[c, p]
            out[o, i] = s
    return out


def test_published_parameter_count_matches_keras():
    model = Clipnet()
    # Keras: 8,036,893 total = 8,032,195 trainable + 4,698 BN moving mean/variance.
    assert sum(p.numel() for p in model.parameters()) == 8_032_195
    assert keras_param_count(model) == 8_036_893
    assert model.profile_dense.weight.shape == (1000, 7872)


def test_published_layer_shapes():
    model = Clipnet().eval()
    shapes: dict[str, tuple[int, ...]] = {}
    for name in ["conv1", "conv2", "conv3", "blocks.0", "blocks.8", "profile_dense"]:
        module = model.get_submodule(name)
        module.register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape))
        )
    x = _two_hot(2, 1000)
    with torch.no_grad():
        profile, quantity = model(x)
        trunk = model.trunk(x)
    assert shapes["conv1"] == (2, 64, 993)
    assert shapes["conv2"] == (2, 128, 493)
    assert shapes["conv3"] == (2, 64, 246)
    assert shapes["blocks.0"] == shapes["blocks.8"] == (2, 64, 246)
    assert trunk.shape == (2, 64, 123)
    assert shapes["profile_dense"] == (2, 1000)
    assert profile.shape == (2, 1000) and quantity.shape == (2, 1)
    assert (profile >= 0).all() and (quantity >= 0).all()
    cfg = model.config
    assert (cfg.output_start, cfg.output_length, cfg.flatten_features) == (250, 500, 7872)
    assert model.input_bn.eps == 1e-3 and model.dropout.p == 0.3
    assert [b.conv.conv.dilation[0] for b in model.blocks] == [2**i for i in range(9)]


@pytest.mark.parametrize(("kernel", "dilation"), [(3, 1), (3, 8), (4, 3), (2, 1), (5, 2)])
def test_tf_same_conv_matches_naive(kernel, dilation):
    torch.manual_seed(kernel * 10 + dilation)
    conv = TFSameConv1d(3, 2, kernel, dilation)
    x = torch.randn(1, 3, 23)
    with torch.no_grad():
        got = conv(x)[0].numpy()
    want = _naive_tf_same(
        x[0].numpy(), conv.conv.weight.detach().numpy(), conv.conv.bias.detach().numpy(), dilation
    )
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert got.shape == (2, 23)


def test_tf_same_padding_is_asymmetric_for_even_total():
    assert tf_same_padding(3, 4) == (4, 4)
    assert tf_same_padding(4, 1) == (1, 2)  # TF puts the extra zero on the right
    assert tf_same_padding(4, 3) == (4, 5)
    assert tf_same_padding(1, 1) == (0, 0)


def test_dilated_block_conv_of_model_matches_naive():
    torch.manual_seed(3)
    model = Clipnet(ClipnetConfig.small())
    conv = model.blocks[4].conv  # dilation 16, kernel 3
    x = torch.randn(1, 16, 40)
    with torch.no_grad():
        got = conv(x)[0].numpy()
    want = _naive_tf_same(
        x[0].numpy(), conv.conv.weight.detach().numpy(), conv.conv.bias.detach().numpy(), 16
    )
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_forward_backward_small():
    torch.manual_seed(0)
    cfg = ClipnetConfig.small()
    model = Clipnet(cfg)
    assert 100_000 < keras_param_count(model) < 200_000
    x = _two_hot(4, 1000)
    profile, quantity = model(x)
    assert profile.shape == (4, 1000) and quantity.shape == (4, 1)
    (profile.sum() + quantity.sum()).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.conv1.weight.grad.abs().sum() > 0


def test_eval_is_deterministic_and_dropout_only_in_training():
    torch.manual_seed(1)
    model = Clipnet(ClipnetConfig.small()).eval()
    x = _two_hot(3, 1000)
    with torch.no_grad():
        a = model(x)
        b = model(x)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_bad_input_shape_is_input_error():
    model = Clipnet(ClipnetConfig.small())
    with pytest.raises(InputError, match=r"expected \(batch, 4, 1000\)"):
        model(torch.zeros(2, 1000, 4))


@pytest.mark.parametrize(
    "fields",
    [
        {"n_filters": 0},
        {"input_length": 30},
        {"output_length": 1001},
        {"output_length": 499},
        {"dropout": 1.0},
        {"conv1_kernel": 2.5},
        {"n_filters": "64"},
        {"bn_eps": "0.001"},
    ],
)
def test_bad_config_is_input_error(fields):
    with pytest.raises(InputError, match="CLIPNET config"):
        ClipnetConfig(**fields)


def test_config_dict_round_trip_and_unknown_key():
    cfg = ClipnetConfig.small(input_length=400, output_length=200)
    assert ClipnetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(InputError, match="unknown field"):
        ClipnetConfig.from_dict({**cfg.to_dict(), "n_heads": 4})


def test_profile_to_track_and_split_strands():
    profile = torch.tensor([[1.0, 3.0, 0.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    quantity = torch.tensor([[16.0], [5.0]])
    track = profile_to_track(profile, quantity)
    torch.testing.assert_close(track[0], torch.tensor([2.0, 6.0, 0.0, 8.0]))
    assert torch.equal(track[1], torch.zeros(4))
    s = split_strands(profile)
    assert s.shape == (2, 2, 2) and torch.equal(s[0, 1], torch.tensor([0.0, 4.0]))


@pytest.mark.gpu
def test_cuda_matches_cpu_and_bf16_is_close():
    torch.manual_seed(0)
    model = Clipnet().eval()
    x = _two_hot(8, 1000)
    with torch.no_grad():
        cpu_p, cpu_q = model(x)
        gpu = model.to("cuda")
        p, q = gpu(x.to("cuda"))
        with torch.autocast("cuda", dtype=torch.bfloat16):
            bp, bq = gpu(x.to("cuda"))
    torch.testing.assert_close(p.cpu(), cpu_p, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(q.cpu(), cpu_q, rtol=1e-3, atol=1e-3)
    r = np.corrcoef(bp.float().cpu().numpy().ravel(), cpu_p.numpy().ravel())[0, 1]
    assert r > 0.99 and torch.isfinite(bq).all()
