"""The bpAI-TAC network: the published size, its geometry, and the Tn5 bias path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig, count_parameters


def _published_layer_list(n_tasks=90, filters=300, blocks=9, length=998) -> int:
    """Parameters of the public code's layer list, layer by layer (its modules.py):
    Conv1d(4, 300, 25); 9 x [Conv1d(300, 300, 3) + BatchNorm1d(300)]; profile
    Conv1d(300, 90, 25); scalar head 3 x [MaxPool1d(5), Conv1d(300, 300, 3),
    BatchNorm1d(300)] and Linear(300 * 7, 90)."""
    conv = [(4, filters, 25)] + [(filters, filters, 3)] * blocks
    conv += [(filters, n_tasks, 25)] + [(filters, filters, 3)] * 3
    weights = sum(i * o * k + o for i, o, k in conv)
    batchnorms = (blocks + 3) * 2 * filters
    flat = filters * (length // 5 // 5 // 5)
    return weights + batchnorms + flat * n_tasks + n_tasks


def test_default_size_is_the_published_models():
    model = BpAiTac(BpAiTacConfig())
    assert count_parameters(model) == _published_layer_list() == 4_145_280
    assert model.counts.in_features == 300 * 7  # 998 -> 199 -> 39 -> 7


def test_input_of_1000_bp_by_config():
    cfg = BpAiTacConfig(input_length=1000)
    model = BpAiTac(cfg)
    assert model.counts.in_features == 300 * 8
    assert count_parameters(model) == _published_layer_list(length=1000)
    assert cfg.output_start == 375  # the central 250 bp of 1000


def _small(**kw) -> BpAiTacConfig:
    return BpAiTacConfig(**{"n_tasks": 3, "filters": 8, "n_blocks": 3, "input_length": 200,
                            "output_length": 50, **kw})  # fmt: skip


def test_outputs_and_the_cropped_profile_head():
    torch.manual_seed(0)
    model = BpAiTac(_small()).eval()
    x = F.one_hot(torch.randint(0, 4, (5, 200)), 4).permute(0, 2, 1).float()
    out = model(x)
    assert out.log_profile.shape == (5, 3, 50) and out.counts.shape == (5, 3)
    np.testing.assert_allclose(out.log_profile.exp().sum(-1).detach(), 1.0, rtol=1e-5)
    assert (out.counts >= 0).all()
    # the head computed on the window equals a "same" convolution over the input, cropped
    h = model.body(x)
    same = F.conv1d(h, model.profile.weight, model.profile.bias, padding=12)
    start = model.config.output_start
    torch.testing.assert_close(model.profile_logits(h), same[..., start : start + 50])


def test_profile_window_can_touch_the_input_edges():
    model = BpAiTac(_small(input_length=60, output_length=60, scalar_pools=(2,))).eval()
    x = torch.rand(2, 4, 60)
    h = model.body(x)
    same = F.conv1d(h, model.profile.weight, model.profile.bias, padding=12)
    torch.testing.assert_close(model.profile_logits(h), same)


def test_stem_activation_paper_vs_code():
    x = torch.randn(2, 4, 200)
    relu = BpAiTac(_small())
    plain = BpAiTac(_small(stem_activation="none"))
    plain.load_state_dict(relu.state_dict())
    assert (relu.stem_act(relu.stem(x)) >= 0).all()
    assert (plain.stem_act(plain.stem(x)) < 0).any()


def test_hand_set_model_profile_is_softmax_of_its_bias():
    """With every profile weight zero, the profile is softmax(bias logits): the bias
    network's on the input when given none, the given ones, or uniform with_bias=False."""
    bias_cfg = BpAiTacConfig.tn5_bias(filters=4, n_blocks=1, input_length=200, output_length=50)
    model = BpAiTac(_small(bias=bias_cfg)).eval()
    with torch.no_grad():
        model.profile.weight.zero_()
        model.profile.bias.zero_()
    x = F.one_hot(torch.randint(0, 4, (3, 200)), 4).permute(0, 2, 1).float()
    expect = torch.log_softmax(model.bias_logits(x), dim=-1)
    out = model(x)
    for t in range(3):
        torch.testing.assert_close(out.log_profile[:, t], expect)
    given = torch.randn(3, 50)
    torch.testing.assert_close(model(x, bias_logits=given).log_profile[:, 1],
                               torch.log_softmax(given, -1))  # fmt: skip
    flat = model(x, with_bias=False).log_profile.exp()
    torch.testing.assert_close(flat, torch.full_like(flat, 1 / 50))
    # another sequence, another bias
    x2 = x.clone()
    x2[:, :, 100] = torch.tensor([0.0, 0.0, 0.0, 1.0])
    assert not torch.allclose(model.bias_logits(x2), model.bias_logits(x))


def test_the_bias_network_stays_frozen_in_training():
    bias_cfg = BpAiTacConfig.tn5_bias(filters=4, n_blocks=1, input_length=200, output_length=50)
    model = BpAiTac(_small(bias=bias_cfg)).train()
    assert model.bias is not None and not model.bias.training
    assert all(not p.requires_grad for p in model.bias.parameters())
    before = {k: v.clone() for k, v in model.bias.state_dict().items()}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad])
    for _ in range(2):
        out = model(torch.rand(4, 4, 200))
        (out.counts.sum() + out.log_profile.sum()).backward()
        opt.step()
    for k, v in model.bias.state_dict().items():
        torch.testing.assert_close(v, before[k])  # weights and BatchNorm statistics


def test_config_round_trip_and_checks():
    cfg = _small(bias=BpAiTacConfig.tn5_bias(filters=4, n_blocks=1, input_length=200,
                                             output_length=50))  # fmt: skip
    again = BpAiTacConfig.from_dict(cfg.to_dict())
    assert again == cfg and isinstance(again.bias, BpAiTacConfig)
    with pytest.raises(ValueError, match="input length"):
        _small(bias=BpAiTacConfig.tn5_bias(filters=4, n_blocks=1, input_length=300,
                                           output_length=50))  # fmt: skip
    with pytest.raises(ValueError, match="one task"):
        _small(bias=_small())
    with pytest.raises(ValueError, match="too short"):
        _small(input_length=100, output_length=50, scalar_pools=(5, 5, 5))
    with pytest.raises(ValueError, match="unknown"):
        BpAiTacConfig.from_dict({"n_tasks": 2, "widths": 3})
    assert dataclasses.replace(cfg, stem_activation="none").stem_activation == "none"
