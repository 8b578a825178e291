from __future__ import annotations

import pytest
import torch

from tests.deconv.conftest import tiny_config
from varinterp.deconv.baselines import scale_weights
from varinterp.models.deepdetails.files import load_model, save_model
from varinterp.models.deepdetails.network import (
    DeepDetailsConfig,
    DeepDetailsFused,
    DeepDetailsSeqOnly,
    build_model,
    count_parameters,
)


def _inputs(cfg, n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    seq = torch.nn.functional.one_hot(torch.randint(0, 4, (n, cfg.input_length), generator=g), 4)
    acc = torch.rand(n, cfg.n_cell_types, cfg.input_length, generator=g) * 3
    scale = scale_weights(torch.rand(n, cfg.n_cell_types, generator=g))
    return seq.transpose(1, 2).float(), acc, scale


def test_parameter_counts_match_spec_at_default_widths():
    # spec: fused 25.1 M (trunk 11.85 M, GRU 0.10 M, 3.29 M per cell type);
    # seq-only 44.2 M (11.03 M per cell type), both for 4 cell types
    fused = count_parameters(build_model(DeepDetailsConfig(n_cell_types=4)))
    seq_only = count_parameters(build_model(DeepDetailsConfig(n_cell_types=4, seq_only=True)))
    assert round(fused / 1e6, 1) == 25.1
    assert round(seq_only / 1e6, 1) == 44.2
    one = count_parameters(build_model(DeepDetailsConfig(n_cell_types=1)))
    assert round((fused - one) / 3 / 1e6, 2) == 3.29
    one_s = count_parameters(build_model(DeepDetailsConfig(n_cell_types=1, seq_only=True)))
    assert round((seq_only - one_s) / 3 / 1e6, 2) == 11.03


def test_length_arithmetic_defaults():
    cfg = DeepDetailsConfig(n_cell_types=2)
    assert cfg.trunk_length == 1008
    assert cfg.output_length == 1000
    assert cfg.gru_hidden == 64
    # conv1 k21 then k3 then 9 dilated k4 layers with d = 2..512
    assert 4096 - 20 - 2 - 3 * sum(2**i for i in range(1, 10)) - 8 == 1000


@pytest.mark.parametrize("seq_only", [False, True])
def test_default_stack_maps_4096_to_1000(seq_only):
    cfg = DeepDetailsConfig(
        n_cell_types=2,
        filters=4,
        profile_shrinkage=4,
        gru_layers=1,
        head_layers=1,
        seq_only=seq_only,
    )
    out = build_model(cfg)(*_inputs(cfg, n=1))
    assert out.prediction.shape == (1, 2, 2, 1000)


@pytest.mark.parametrize("seq_only", [False, True])
def test_outputs_shapes_softmax_softplus(seq_only):
    cfg = tiny_config(seq_only=seq_only, scale_placement="disable")
    torch.manual_seed(0)
    out = build_model(cfg)(*_inputs(cfg, n=3))
    assert out.profile.shape == (3, 3, 2, cfg.output_length)
    assert out.counts.shape == (3, 3, 2)
    torch.testing.assert_close(out.profile.sum(-1), torch.ones(3, 3, 2))
    assert (out.counts > 0).all()
    torch.testing.assert_close(out.bulk, (out.profile * out.counts[..., None]).sum(1))


@pytest.mark.parametrize("seq_only", [False, True])
def test_scale_placements(seq_only):
    torch.manual_seed(1)
    base = build_model(tiny_config(seq_only=seq_only, scale_placement="disable"))
    state = base.state_dict()
    seq, acc, scale = _inputs(base.config, n=2)
    ref = base(seq, acc, torch.ones_like(scale))
    outs = {}
    for placement in ("late-ch", "late", "early", "disable"):
        m = build_model(tiny_config(seq_only=seq_only, scale_placement=placement))
        m.load_state_dict(state)
        outs[placement] = m(seq, acc, scale)
    # late-ch (default): only the counts are multiplied by s(k, r)
    torch.testing.assert_close(outs["late-ch"].profile, ref.profile)
    torch.testing.assert_close(outs["late-ch"].counts, ref.counts * scale[..., None])
    # late: profile and counts
    torch.testing.assert_close(outs["late"].profile, ref.profile * scale[..., None, None])
    torch.testing.assert_close(outs["late"].counts, ref.counts * scale[..., None])
    torch.testing.assert_close(outs["disable"].prediction, ref.prediction)
    assert not torch.allclose(outs["early"].prediction, ref.prediction)


def test_default_placement_is_late_ch():
    assert DeepDetailsConfig(n_cell_types=1).scale_placement == "late-ch"


def test_seq_only_ignores_accessibility_fused_uses_it():
    torch.manual_seed(2)
    seq, acc, scale = _inputs(tiny_config(), n=2)
    for seq_only, same in ((True, True), (False, False)):
        m = build_model(tiny_config(seq_only=seq_only)).eval()
        a = m(seq, acc, scale).prediction
        b = m(seq, acc.flip(-1) * 2, scale).prediction
        assert torch.allclose(a, b) is same


def test_fused_gates_are_per_cell_type():
    torch.manual_seed(3)
    m = build_model(tiny_config())
    assert isinstance(m, DeepDetailsFused)
    assert len(m.gates) == 3 and len(m.heads) == 3
    assert m.gru.bidirectional and m.gru.input_size == 1
    assert isinstance(build_model(tiny_config(seq_only=True)), DeepDetailsSeqOnly)


def test_backward_reaches_all_parameters():
    torch.manual_seed(4)
    m = build_model(tiny_config(gru_dropout=0.0))
    out = m(*_inputs(m.config))
    out.prediction.sum().backward()
    missing = [n for n, p in m.named_parameters() if p.grad is None]
    assert missing == []


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(5)
    m = build_model(tiny_config()).eval()
    save_model(m, tmp_path / "model")
    m2 = load_model(tmp_path / "model")
    assert m2.config == m.config
    x = _inputs(m.config)
    torch.testing.assert_close(m(*x).prediction, m2(*x).prediction)


def test_bad_configs():
    with pytest.raises(ValueError, match="scale_placement"):
        DeepDetailsConfig(n_cell_types=2, scale_placement="sideways")
    with pytest.raises(ValueError, match="too short"):
        DeepDetailsConfig(n_cell_types=2, input_length=1000)
    with pytest.raises(ValueError, match="n_strands"):
        DeepDetailsConfig(n_cell_types=2, n_strands=3)
    with pytest.raises(ValueError, match="unknown"):
        DeepDetailsConfig.from_dict({"n_cell_types": 2, "width": 3})
