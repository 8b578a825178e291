"""A tiny world end to end: train, per-cell activity, variant scoring through the house's
scoring entry points, against recomputations from the model's parts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import varinterp as vi
from varinterp.cre.store import ActivityStore
from varinterp.errors import InputError
from varinterp.io.fasta import Reference
from varinterp.models.crescendo.activity import cre_activity
from varinterp.models.crescendo.attribution import deeplift_gene
from varinterp.models.crescendo.data import one_hot_windows
from varinterp.models.crescendo.evaluate import predict_expression
from varinterp.training.inference import load_model


@pytest.fixture(scope="module")
def model(tiny_run):
    return load_model(tiny_run.model, device="cpu")


def test_training_wrote_a_loadable_model_and_logs(tiny_run, model):
    assert (tiny_run.train / "metrics_encoder.jsonl").read_text().count("\n") == 2
    assert (tiny_run.train / "metrics_gene.jsonl").read_text().count("\n") == 2
    m = model.models["model"]
    meta = model.model_dir.metadata
    assert model.tasks == ("alpha", "beta", "gamma")
    assert len(meta["genes"]) == m.config.n_genes and len(meta["barcodes"]) == m.config.n_cells
    assert "cREscENDO model" in (tiny_run.model / "README.md").read_text()
    x = torch.from_numpy(one_hot_windows(np.zeros((2, 1344), np.uint8)))
    out = model.predict(x.numpy(), x_encoding="one-hot", rc_average=False)
    assert out.quantity.shape == (2, 3) and ((out.quantity > 0) & (out.quantity < 1)).all()


def test_activity_store_holds_deeplift_of_every_gene(tiny_run, model, tmp_path):
    res = cre_activity(tiny_run.model, out=tmp_path / "act", chunk_cells=50)
    m = model.models["model"]
    assert res.max_delta < 1e-5
    tokens = m.token_peaks.numpy()
    assert res.n_pairs == int((tokens >= 0).sum())
    with ActivityStore(tmp_path / "act") as s:
        peaks, values = s.gene(3)
        assert peaks.tolist() == tokens[3][tokens[3] >= 0].tolist()
        direct = deeplift_gene(m, 3, chunk_cells=50)
        assert np.allclose(values, direct.activity, atol=1e-6)
        assert s.cell_types == ["alpha", "beta", "gamma"]
    pairs = pd.read_csv(tmp_path / "act" / "pairs.tsv", sep="\t")
    assert len(pairs) == res.n_pairs
    assert set(pairs["label"]) <= {"promoter", "active", "cre", "none"}
    assert (pairs.loc[pairs["role"] == "promoter", "label"] == "promoter").all()
    celltypes = pd.read_csv(tmp_path / "act" / "celltypes.tsv", sep="\t")
    assert len(celltypes) == 3 * res.n_pairs
    with pytest.raises(InputError, match="not in the model"):
        cre_activity(tiny_run.model, out=tmp_path / "x", genes=["NOPE"])


def _variant_in(tiny_run, model, peak: int, offset: int = 10):
    m = model.models["model"]
    chrom = model.model_dir.metadata["chroms"][int(m.peak_coords[peak, 0])]
    start = int(m.peak_coords[peak, 1])
    ref = Reference(tiny_run.world / "genome.fa").base(chrom, start + offset)
    alt = "A" if ref != "A" else "C"
    return pd.DataFrame(
        {"chrom": [chrom], "pos": [start + offset + 1], "ref": [ref], "alt": [alt], "id": ["v1"]}
    )


def test_variant_effect_equals_a_recomputation_from_the_model_parts(tiny_run, model):
    m = model.models["model"]
    tokens = m.token_peaks.numpy()
    peak = int(tokens[2, 1])  # a distal token of gene 2
    v = _variant_in(tiny_run, model, peak, offset=450)
    table = vi.score_frame(model, v, fasta=tiny_run.world / "genome.fa")
    genes = [model.model_dir.metadata["genes"][g] for g in np.flatnonzero((tokens == peak).any(1))]
    assert table["gene"].drop_duplicates().tolist() == genes
    assert table["task"].tolist() == ["alpha", "beta", "gamma"] * len(genes)
    assert (table["flags"] == ".").all()
    # recompute gene 2 by hand: ALT window -> embedding -> the model's own prediction
    cfg = m.config
    s, e = int(m.peak_coords[peak, 1]), int(m.peak_coords[peak, 2])
    w0 = (s + e) // 2 - 672
    chrom = v["chrom"].iloc[0]
    codes = Reference(tiny_run.world / "genome.fa").codes(chrom, w0, w0 + cfg.input_length)
    alt = codes.copy()
    alt[int(v["pos"].iloc[0]) - 1 - w0] = "ACGT".index(v["alt"].iloc[0])
    means = []
    with torch.no_grad():
        emb = m.encoder.embedding(torch.from_numpy(one_hot_windows(np.stack([codes, alt]))))
        saved = (m.peak_embedding.clone(), m.peak_norm.clone())
        for k in range(2):
            m.peak_embedding[peak] = emb[k]
            m.peak_norm[peak] = m.accessibility(emb[k : k + 1]).norm()
            z = predict_expression(m, 2)
            log1p = m.gene_mean[2].item() + m.gene_sd[2].item() * z
            ct = m.cell_type.numpy()
            means.append([log1p[ct == t].mean() for t in range(3)])
        m.peak_embedding.copy_(saved[0])
        m.peak_norm.copy_(saved[1])
    rows = table[table["gene"] == model.model_dir.metadata["genes"][2]]
    assert np.allclose(rows["quantity_ref"], np.expm1(means[0]), rtol=1e-4)
    expected = (np.array(means[1]) - means[0]) / np.log(2)
    assert np.abs(expected).max() > 1e-6  # the SNV moves the prediction
    assert np.allclose(rows["log2fc"], expected, rtol=2e-2, atol=2e-6)  # float32 sums


def test_variant_flags_and_tasks(tiny_run, model):
    far = pd.DataFrame({"chrom": ["chr1"], "pos": [2], "ref": ["A"], "alt": ["C"]})
    t = vi.score_frame(model, far, fasta=tiny_run.world / "genome.fa", tasks=["beta"])
    assert t[["task", "gene", "flags"]].values.tolist() == [["beta", ".", "no_peak"]]
    m = model.models["model"]
    v = _variant_in(tiny_run, model, int(m.token_peaks[0, 0]))
    wrong = v.assign(ref=v["alt"], alt=v["ref"])
    t = vi.score_frame(model, wrong, fasta=tiny_run.world / "genome.fa")
    assert (t["flags"] == "ref_mismatch").all()
    with pytest.raises(InputError, match="cell types"):
        vi.score_frame(model, v, fasta=tiny_run.world / "genome.fa", tasks=["delta"])
    with pytest.raises(InputError, match="shuffled"):
        vi.score_frame(model, v, fasta=tiny_run.world / "genome.fa", null_shuffles=3)
