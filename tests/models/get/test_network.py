"""GET's network: parameter count at the published widths, hand-set weights, symmetry."""

from __future__ import annotations

import numpy as np
import torch

from varinterp.models.get.network import Get, GetConfig, expression_parameter_count


def test_parameter_count_at_default_widths():
    model = Get(GetConfig())
    expression = sum(
        p.numel()
        for k, p in model.named_parameters()
        if not k.startswith(("head_mask", "mask_token"))
    )
    # layer by layer, by hand: embedding 283*768+768, CLS 768, per block
    # 2*768 + 768*2304 + 2*768 + 768*768+768 + 2*768 + 768*3072+3072 + 3072*768+768,
    # final norm 2*768, head 768*2+2
    assert expression == 85_267_202 == expression_parameter_count(283, 768, 12)
    total = sum(p.numel() for p in model.parameters())
    assert total - expression == 768 + 768 * 283 + 283  # mask token + pretraining head


def test_hand_set_weights_give_the_hand_computed_output():
    """With every residual branch zeroed the encoder is the identity: the output is
    softplus(head(LayerNorm(W x + b)))."""
    cfg = GetConfig(n_features=3, n_regions=4, d_model=4, n_layers=1, n_heads=2, drop_path=0.0)
    model = Get(cfg).eval()
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    hw = rng.normal(size=(2, 4)).astype(np.float32)
    hb = np.array([0.1, -0.2], np.float32)
    with torch.no_grad():
        model.region_embed.weight.copy_(torch.from_numpy(w))
        model.region_embed.bias.copy_(torch.from_numpy(b))
        for name in ("attn.proj", "fc2"):
            layer = model.encoder[0].get_submodule(name)
            layer.weight.zero_()
            layer.bias.zero_()
        model.head_exp.weight.copy_(torch.from_numpy(hw))
        model.head_exp.bias.copy_(torch.from_numpy(hb))
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    got = model(torch.from_numpy(x)).detach().numpy()
    e = x @ w.T + b
    z = (e - e.mean(-1, keepdims=True)) / np.sqrt(e.var(-1, keepdims=True) + 1e-6)
    want = np.log1p(np.exp(z @ hw.T + hb))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_no_positional_encoding_means_permutation_equivariance():
    cfg = GetConfig(
        **{**GetConfig.small(n_features=5, n_regions=6).to_dict(), "head_init_scale": 1.0}
    )  # outputs far from the flat start
    x = torch.randn(2, 6, 5)
    perm = torch.tensor([3, 1, 5, 0, 2, 4])
    plain = Get(cfg).eval()
    torch.testing.assert_close(plain(x)[:, perm], plain(x[:, perm]), rtol=1e-4, atol=1e-5)
    positional = Get(GetConfig(**{**cfg.to_dict(), "positional": True})).eval()
    assert not torch.allclose(positional(x)[:, perm], positional(x[:, perm]), atol=1e-4)


def test_masked_regions_do_not_see_their_own_features():
    cfg = GetConfig.small(n_features=5, n_regions=6)
    model = Get(cfg).eval()
    x = torch.randn(1, 6, 5)
    mask = torch.tensor([[False, True, False, False, True, False]])
    y = x.clone()
    y[0, 1] += 5.0
    torch.testing.assert_close(model.pretrain(x, mask), model.pretrain(y, mask))
    assert model(x, mask=mask).shape == (1, 6, 5)
    out = model(x)
    assert out.shape == (1, 6, 2) and (out > 0).all()
    out.sum().backward()


def test_layer_wise_groups_scale_with_depth():
    model = Get(GetConfig.small(n_features=5))
    groups = model.parameter_groups(layer_decay=0.5)
    names = {id(p): n for n, p in model.named_parameters()}
    scale = {names[id(p)]: g["lr_scale"] for g in groups for p in g["params"]}
    assert scale["region_embed.weight"] == 0.5**4
    assert scale["encoder.0.fc1.weight"] == 0.5**3
    assert scale["encoder.2.fc1.weight"] == 0.5
    assert scale["head_exp.weight"] == 1.0
    nodecay = {names[id(p)] for g in groups if g.get("weight_decay") == 0.0 for p in g["params"]}
    assert "encoder.1.norm1.weight" in nodecay and "encoder.1.fc1.weight" not in nodecay
