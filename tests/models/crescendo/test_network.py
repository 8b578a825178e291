"""The cREscENDO networks: sizes against the published layer list, the per-gene model
against a plain numpy reading of the paper's formula, DeepLIFT's completeness and a
hand-set toy whose attributions are known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from varinterp.models.crescendo.attribution import GeneFunction, deeplift_gene
from varinterp.models.crescendo.network import (
    Crescendo,
    CrescendoConfig,
    GeneModel,
    PeakEncoder,
    describe_sizes,
    masked_score_norm,
)


def _published_counts(n_cells: int) -> tuple[int, int]:
    """Parameters of the published encoder (tower + embedding, BN affine included) and
    gene model, counted from the layer list of the public code by hand."""
    tower = [4, 288, 288, 323, 363, 407, 456, 512]
    convs = 4 * 288 * 17 + sum(a * b * 5 for a, b in itertools.pairwise(tower[1:]))
    convs += 512 * 256  # the 1x1 convolution, no bias
    bn = 2 * (sum(tower[1:]) + 256 + 32)
    embed = 256 * 7 * 32  # no bias
    encoder = convs + bn + embed
    head = 32 * n_cells + n_cells
    gene = (32 * 16384 + 16384) + (33 * 16384 + 16384) + (32 + 1)
    gene += (512 * 128 + 128) + (128 * 64 + 64) + (64 * 5120 + 5120) + (5120 * 50 + 50)
    return encoder, head, gene


def test_sizes_match_the_published_layer_list():
    cfg = CrescendoConfig(n_cells=11_830, n_genes=3, n_peaks=3, max_tokens=4)
    encoder, head, gene = _published_counts(11_830)
    assert describe_sizes(cfg) == {"encoder": encoder, "encoder_head": head, "gene_model": gene}
    x = torch.zeros(2, 4, 1344)
    assert PeakEncoder(cfg).eval()(x).shape == (2, 11_830)


def test_masked_score_norm_equals_a_per_row_loop():
    rng = np.random.default_rng(0)
    scores = torch.from_numpy(rng.normal(size=(3, 4, 6)))
    mask = torch.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 1, 0]]).bool()
    got = masked_score_norm(scores, mask, eps=0.0).numpy()
    for b in range(3):
        on = mask[b].numpy()
        for h in range(4):
            v = scores[b, h].numpy()[on]
            expect = np.zeros(6)
            expect[on] = (v - v.mean()) / v.std()
            assert np.allclose(got[b, h], expect)


def _tiny_config(**kw) -> CrescendoConfig:
    base = dict(
        n_cells=7,
        n_genes=2,
        n_peaks=5,
        max_tokens=4,
        n_pcs=3,
        tower=(4,) * 7,
        bottleneck=4,
        n_scores=3,
        hidden=(5, 4),
        decoder_width=6,
        n_cell_types=2,
    )
    base.update(kw)
    return CrescendoConfig(**base)


def _filled(seed: int = 0) -> Crescendo:
    torch.manual_seed(seed)
    cfg = _tiny_config()
    m = Crescendo(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        m.peak_embedding.copy_(torch.rand(cfg.n_peaks, cfg.embed_dim, generator=g))
        acc = torch.sigmoid(m.encoder.head(m.peak_embedding))
        m.peak_norm.copy_(acc.norm(dim=1))
        m.token_peaks.copy_(torch.tensor([[2, 0, 1, 4], [3, 1, -1, -1]]))
        m.token_distance.copy_(torch.tensor([[0.0, -0.5, -0.2, 0.4], [0.001, -0.3, 0, 0]]))
        m.pca_loadings.copy_(torch.rand(cfg.n_genes, cfg.n_pcs, generator=g) - 0.5)
        m.cell_type.copy_(torch.tensor([0, 1, 0, 1, 0, 1, 1]))
    return m


def test_gene_expression_equals_the_formula_in_numpy():
    m = _filled()
    gm = m.gene_model
    gene = 0
    idx = [2, 0, 1, 4]
    e = m.peak_embedding.numpy().astype(np.float64)
    dist = m.token_distance[gene].numpy().astype(np.float64)
    W = {k: v.detach().numpy().astype(np.float64) for k, v in gm.state_dict().items()}
    H, E = gm.config.n_scores, gm.config.embed_dim
    q = (W["prom_q.weight"] @ e[idx[0]] + W["prom_q.bias"]).reshape(H, E)
    scores = np.zeros((H, len(idx)))
    for j, p in enumerate(idx):
        k = (W["key.weight"] @ np.append(e[p], dist[j]) + W["key.bias"]).reshape(H, E)
        scores[:, j] = (q * k).sum(1)
    distal = scores[:, 1:]
    distal = (distal - distal.mean(1, keepdims=True)) / np.sqrt(distal.var(1, keepdims=True) + 1e-5)
    prom_w = q @ W["prom_w.weight"][0] + W["prom_w.bias"][0]
    head_w = m.encoder.head.weight.detach().numpy().astype(np.float64)
    head_b = m.encoder.head.bias.detach().numpy().astype(np.float64)
    acc = 1 / (1 + np.exp(-(e[idx] @ head_w.T + head_b)))  # (L, C)
    acc = acc / np.linalg.norm(acc, axis=1, keepdims=True)
    relu = lambda x: np.maximum(x, 0)  # noqa: E731
    expected = []
    for c in range(acc.shape[1]):
        z = distal @ acc[1:, c] + prom_w * acc[0, c]
        h = W["mlp.3.weight"] @ relu(W["mlp.0.weight"] @ z + W["mlp.0.bias"]) + W["mlp.3.bias"]
        d = W["decoder.3.weight"] @ relu(W["decoder.0.weight"] @ h + W["decoder.0.bias"])
        d = d + W["decoder.3.bias"]
        expected.append(d @ m.pca_loadings[gene].numpy())
    with torch.no_grad():
        tokens, mask, a = m.gene_inputs(gene)
        got = m.gene_expression(gene, a, gm.weights(tokens, mask)[0]).numpy()
        f = GeneFunction(m, gene)(a).numpy()
    assert np.allclose(got, expected, atol=1e-5)
    assert np.allclose(f, got, atol=1e-5)


def test_deeplift_sums_to_the_difference_from_the_baseline_cell():
    m = _filled(1)
    res = deeplift_gene(m, 0, chunk_cells=3)
    f = GeneFunction(m, 0).double()
    acc = torch.from_numpy(res.accessibility).double()
    with torch.no_grad():
        fx = f(acc).numpy()
    assert res.baseline_cell == int(np.argmin(fx))
    expect = fx - fx[res.baseline_cell]
    assert np.allclose(res.activity.sum(axis=1), expect, atol=1e-5)
    assert res.max_delta < 1e-5
    assert np.allclose(res.activity[res.baseline_cell], 0)


def test_deeplift_of_a_linear_toy_is_weight_times_difference():
    """Hand-set weights that keep every ReLU on the positive side: the function is linear,
    and DeepLIFT (like any complete method there) gives w_l (a_l - b_l)."""
    m = _filled(2)
    gm = m.gene_model
    with torch.no_grad():
        for layer in (gm.mlp[0], gm.mlp[3], gm.decoder[0], gm.decoder[3]):
            layer.weight.copy_(torch.full_like(layer.weight, 0.1))
            layer.bias.fill_(10.0)
        gm.prom_q.weight.zero_()
        gm.prom_q.bias.fill_(0.2)
        gm.key.weight.zero_()
        gm.key.bias.copy_(torch.linspace(-1, 1, gm.key.bias.numel()))
    f = GeneFunction(m, 0)
    res = deeplift_gene(m, 0)
    lin = f.mix.weight.detach().double()  # (H, L)
    w = (
        (
            f.out.weight.double()
            @ f.fc3.weight.double()
            @ f.fc2.weight.double()
            @ f.fc1.weight.double()
            @ lin
        )
        .detach()
        .numpy()[0]
    )
    acc = res.accessibility.astype(np.float64)
    expect = (acc - acc[res.baseline_cell]) * w
    assert np.allclose(res.activity, expect, atol=1e-6)


@pytest.mark.parametrize("n_cells", [1, 5])
def test_encoder_and_gene_model_shapes(n_cells):
    cfg = _tiny_config(n_cells=n_cells)
    enc = PeakEncoder(cfg).eval()
    assert enc(torch.rand(3, 4, 1344)).shape == (3, n_cells)
    gm = GeneModel(cfg).eval()
    tokens = torch.rand(2, 4, 33)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]]).bool()
    out = gm(tokens, mask, torch.rand(2, n_cells, 4))
    assert out.shape == (2, n_cells, cfg.n_pcs)
    assert torch.all(gm.weights(tokens, mask)[0, :, 3] == 0)
