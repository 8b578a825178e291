"""Scoring a bpAI-TAC model: one row per variant and cell type, the Tn5 bias recomputed
on the ALT sequence by the model's own bias network (no second model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from tests.effects._scoring_toys import write_fasta
from varinterp.effects.frame import score_frame
from varinterp.effects.scores import jsd_distance
from varinterp.genome.encoding import one_hot
from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig
from varinterp.training.inference import load_model
from varinterp.training.modeldir import save_model_dir

L, LOUT = 60, 20


def _bias_only_model(tmp_path):
    """Hand-set: the main profile head is zero (the profile is the softmax of the bias)
    and the count head is constant; the bias network is random."""
    torch.manual_seed(0)
    bias = BpAiTacConfig.tn5_bias(filters=4, n_blocks=1, input_length=L, output_length=LOUT,
                                  scalar_pools=(3,))  # fmt: skip
    cfg = BpAiTacConfig(n_tasks=2, input_length=L, output_length=LOUT, filters=4, n_blocks=1,
                        scalar_pools=(3,), bias=bias)  # fmt: skip
    model = BpAiTac(cfg)
    with torch.no_grad():
        for p in (model.profile.weight, model.profile.bias, model.counts.weight):
            p.zero_()
        model.counts.bias.copy_(torch.tensor([5.0, 9.0]))
    path = save_model_dir(tmp_path / "m", config=cfg, folds={"replicate_1": model},
                          metadata={"tasks": ["myeloid", "lymphoid"]})  # fmt: skip
    return path, model.eval()


def test_alt_profile_uses_the_alt_sequences_bias(tmp_path):
    path, model = _bias_only_model(tmp_path)
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 400))
    fasta = write_fasta(tmp_path / "ref.fa", {"chr1": seq})
    pos0 = 200
    alt = "A" if seq[pos0] != "A" else "C"
    variants = pd.DataFrame(
        {"chrom": ["chr1"], "pos": [pos0 + 1], "ref": [seq[pos0]], "alt": [alt]}
    )
    ens = load_model(path, device="cpu")
    table = score_frame(ens, variants, fasta=fasta, rc_average=False, pseudocount=1.0)
    assert list(table["task"]) == ["myeloid", "lymphoid"]  # long format, one row per task
    start = pos0 - L // 2
    ref_codes = np.array(["ACGT".index(b) for b in seq[start : start + L]], dtype=np.uint8)
    alt_codes = ref_codes.copy()
    alt_codes[L // 2] = "ACGT".index(alt)
    with torch.no_grad():
        x = torch.from_numpy(one_hot(np.stack([ref_codes, alt_codes]))).float()
        p = torch.softmax(model.bias_logits(x), -1).numpy()
    want = jsd_distance(p[:1], p[1:])[0]
    assert want > 0  # the SNP changes Tn5's preference ...
    np.testing.assert_allclose(table["profile_jsd"], [want, want], rtol=1e-4)
    np.testing.assert_allclose(table["quantity_ref"], [5.0, 9.0], rtol=1e-5)
    np.testing.assert_allclose(table["log2fc"], 0.0, atol=1e-6)  # ... but not the counts


def test_attributions_run_on_the_bias_zeroed_twin():
    import warnings

    import varinterp.models.bpaitac as family
    from varinterp.effects.attribute import attribute_windows
    from varinterp.models.bpaitac.scoring import NoBias, explainable

    torch.manual_seed(0)
    bias = BpAiTacConfig.tn5_bias(filters=4, n_blocks=1, input_length=200, output_length=50)
    model = BpAiTac(BpAiTacConfig(n_tasks=3, filters=8, n_blocks=2, input_length=200,
                                  output_length=50, bias=bias)).eval()  # fmt: skip
    with torch.no_grad():
        model.counts.bias.fill_(5.0)
    twin = explainable(model)
    assert isinstance(twin, NoBias)
    x = torch.from_numpy(one_hot(np.random.default_rng(0).integers(0, 4, (3, 200)))).float()
    torch.testing.assert_close(twin(x).log_profile, model(x, with_bias=False).log_profile)
    assert not torch.allclose(twin(x).log_profile, model(x).log_profile)
    codes = np.random.default_rng(1).integers(0, 4, (2, 200))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tangermeme warns when DeepLIFT does not converge
        res = attribute_windows([model], one_hot(codes), method="deepshap", n_shuffles=4,
                                arch=family.ARCHITECTURE, task=2, seed=1)  # fmt: skip
    assert res.attributions.shape == (2, 4, 200) and np.abs(res.attributions).sum() > 0
