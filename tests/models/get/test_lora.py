"""LoRA on parametrize: merged equals unmerged, the adapter is small, adapters round-trip."""

from __future__ import annotations

import pytest
import torch

from varinterp.errors import InputError
from varinterp.models.get.lora import (
    adapter_state,
    add_lora,
    freeze_base,
    load_adapter_state,
    merge_lora,
    unmerge_lora,
)
from varinterp.models.get.network import Get, GetConfig


def _adapted(cfg, seed=0):
    torch.manual_seed(seed)
    model = Get(cfg).eval()
    base = {k: v.clone() for k, v in model.state_dict().items()}
    add_lora(model, rank=4)
    with torch.no_grad():  # B starts at 0: give the adapters something to do
        for name, p in model.named_parameters():
            if name.endswith("lora_B"):
                p.normal_(0, 0.05)
    return model, base


def test_merged_outputs_equal_unmerged_and_unmerge_restores_the_base():
    cfg = GetConfig.small(n_features=7, n_regions=10)
    model, base = _adapted(cfg)
    x = torch.randn(3, 10, 7)
    live = model(x)
    state = adapter_state(model)
    plain = Get(cfg).eval()
    plain.load_state_dict(base)
    assert not torch.allclose(plain(x), live, atol=1e-4)
    merge_lora(model)
    assert not any("parametrizations" in k for k in model.state_dict())
    torch.testing.assert_close(model(x), live, rtol=1e-5, atol=1e-6)
    heads = {k: v for k, v in base.items() if k.startswith("head_exp.")}
    unmerge_lora(model, state, rank=4, base_heads=heads)
    torch.testing.assert_close(model(x), live, rtol=1e-5, atol=1e-6)  # live adapters again
    merge_lora(model)
    load = Get(cfg).eval()
    load.load_state_dict(model.state_dict())
    torch.testing.assert_close(load(x), live, rtol=1e-5, atol=1e-6)


def test_adapter_is_at_most_two_percent_at_default_widths():
    model = Get(GetConfig())
    total = sum(p.numel() for p in model.parameters())
    add_lora(model, rank=8)
    trainable = freeze_base(model)
    # rank 8 on region_embed (283 -> 768) and 4 linears x 12 blocks, plus the head (1,538)
    assert (
        trainable == 8 * (283 + 768) + 12 * 8 * ((768 + 2304) + 2 * 768 + 2 * (768 + 3072)) + 1538
    )
    assert trainable / total <= 0.02
    assert all(
        ("lora_" in n or n.startswith("head_exp")) == p.requires_grad
        for n, p in model.named_parameters()
    )


def test_adapter_state_round_trip_and_mismatch():
    cfg = GetConfig.small(n_features=7, n_regions=10)
    model, _ = _adapted(cfg)
    state = adapter_state(model)
    other, _ = _adapted(cfg, seed=1)
    load_adapter_state(other, state)
    x = torch.randn(2, 10, 7)
    other.load_state_dict({k: v for k, v in model.state_dict().items()})
    torch.testing.assert_close(other(x), model(x))
    wide = Get(GetConfig.small(n_features=9, n_regions=10))
    add_lora(wide, rank=4)
    with pytest.raises(InputError, match="shape"):
        load_adapter_state(wide, state)
