"""Training through the engine, model and adapter directories, and the variant scorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.io.fasta import Reference
from varinterp.models.get.files import (
    attach_adapter,
    load_get_data,
    merge_adapter,
    save_adapter,
    save_get_model,
)
from varinterp.models.get.interpret import (
    enhancer_scores,
    knockout_effects,
    motif_attributions,
    motif_knockout_effect,
)
from varinterp.models.get.network import Get, GetConfig
from varinterp.models.get.train import GetRecipe, lora_get, pretrain_get, train_get
from varinterp.motifs.features import score_regions

N = 16


@pytest.fixture(scope="module")
def trained(get_world, tmp_path_factory):
    _folder, _world, data = get_world
    cfg = GetConfig(
        n_features=data.n_features, n_regions=N, d_model=16, n_layers=1, n_heads=2, drop_path=0.0
    )
    recipe = GetRecipe(
        epochs=4,
        patience=4,
        batch_size=8,
        lr=3e-3,
        held_out_chroms=("chr3",),
        held_out_cell_types=("heldout",),
    )
    run = train_get(data, config=cfg, recipe=recipe)
    tmp = tmp_path_factory.mktemp("get_models")
    mdir = save_get_model(tmp / "base", models={"model": run.model}, data=data, n_regions=N)
    return tmp, mdir, run, recipe


def test_engine_trains_expression_and_pretraining(get_world, trained):
    _, _, data = get_world
    _, _, run, recipe = trained
    losses = [h.train_loss for h in run.result.history]
    assert losses[-1] < losses[0]
    assert "val_tss_loss" in run.result.history[0].metrics
    pre = pretrain_get(data, config=run.model.config, recipe=recipe)
    assert pre.result.history[-1].train_loss < pre.result.history[0].train_loss


def test_model_directory_round_trip(get_world, trained):
    from varinterp.training.inference import load_model

    _, _, data = get_world
    _, mdir, run, _ = trained
    ens = load_model(mdir, device="cpu")
    assert ens.arch.name == "get" and ens.tasks == data.cell_types
    x = torch.randn(2, N, data.n_features)
    torch.testing.assert_close(ens.models["model"](x), run.model.eval()(x))
    back = load_get_data(mdir)
    np.testing.assert_allclose(back.labels, data.labels)


def test_adapter_directory_attach_merge_and_wrong_base(get_world, trained):
    _, _, data = get_world
    tmp, mdir, run, _recipe = trained
    lora = lora_get(
        data,
        base=run.model,
        cell_types=["heldout"],
        rank=2,
        recipe=GetRecipe(epochs=2, batch_size=8, held_out_chroms=("chr3",)),
    )
    adir = save_adapter(
        tmp / "adapter",
        model=lora.model,
        base_state=run.model.state_dict(),
        data=data,
        rank=2,
        alpha=2.0,
        n_regions=N,
    )
    files = {p.name for p in adir.iterdir()}
    assert {"config.json", "adapter.safetensors", "inputs.h5"} <= files
    assert (adir / "adapter.safetensors").stat().st_size < (
        mdir / "model.safetensors"
    ).stat().st_size
    attached = attach_adapter(run.model, adir).eval()
    x = torch.randn(2, N, data.n_features)
    torch.testing.assert_close(attached(x), lora.model.eval()(x))
    merged = merge_adapter(base=mdir, adapter=adir, out=tmp / "merged")
    from varinterp.training.modeldir import load_model_dir

    _, members = load_model_dir(merged, architecture="get")
    torch.testing.assert_close(members["model"](x), attached(x), rtol=1e-5, atol=1e-6)
    other = Get(run.model.config)
    with pytest.raises(InputError, match="another base model"):
        attach_adapter(other, adir)


def test_interpretation_tables(get_world, trained):
    _, _, data = get_world
    _, _, run, _ = trained
    gene = str(data.genes["gene"].iloc[2])
    table = enhancer_scores(run.model, data, cell_type="type1", genes=[gene], n_regions=N)
    assert len(table) == N and table["rank"].min() == 1
    np.testing.assert_allclose(table["score"], table["jacobian"] * table["accessibility"])
    attr = motif_attributions(run.model, data, cell_type="type1", gene=gene, n_regions=N)
    assert len(attr) == N * data.n_features
    assert attr["attribution"].abs().is_monotonic_decreasing
    ko = knockout_effects([run.model], data, cell_type="type1", gene=gene, n_regions=N)
    assert len(ko) == N and np.isfinite(ko["delta"]).all()
    d = motif_knockout_effect(
        [run.model], data, cell_type="type1", gene=gene, cluster=data.clusters[0], n_regions=N
    )
    assert np.isfinite(d)


def test_variant_scorer_rescans_the_peak(get_world, trained):
    """The scorer's alt row equals an independent scan of the edited peak sequence."""
    from varinterp.effects.frame import score_frame
    from varinterp.models.get.scoring import GET_COLUMNS, _allele_rows

    folder, _world, data = get_world
    _, mdir, _, _ = trained
    truth = pd.read_csv(folder / "truth" / "snps.tsv", sep="\t")
    snp = truth.iloc[0]
    ref = Reference(folder / "genome.fa")
    region = int(
        np.flatnonzero(
            (data.regions["chrom"] == snp.chrom)
            & (data.regions["start"] < snp.pos)
            & (data.regions["end"] >= snp.pos)
        )[0]
    )
    start, end = int(data.regions["start"].iloc[region]), int(data.regions["end"].iloc[region])
    codes = ref.codes(snp.chrom, start, end)
    codes[snp.pos - 1 - start] = "ACGT".index(snp.alt)
    feats = data.features
    raw, _ = score_regions(
        one_hot(codes[None]).astype(np.float32),
        np.array([end - start]),
        motifs=feats.motifs,
        cluster_of=feats.cluster_of,
        n_clusters=len(feats.clusters),
        settings=feats.settings,
    )
    rows, ref_base = _allele_rows(data, region, snp.pos - 1, snp.alt, ref, None, None)
    assert ref_base == snp.ref
    np.testing.assert_allclose(rows[1], feats.normalise(raw)[0])
    np.testing.assert_allclose(rows[0], data.motif[region], atol=1e-6)
    assert (rows[1] <= rows[0] + 1e-6).all() and (rows[1] < rows[0] - 1e-3).any()
    variants = truth[["chrom", "pos", "id", "ref", "alt"]].iloc[:3]
    outside = pd.DataFrame(
        {
            "chrom": ["chr1"],
            "pos": [1],
            "id": ["far"],
            "ref": [ref.base("chr1", 0)],
            "alt": ["A" if ref.base("chr1", 0) != "A" else "C"],
        }
    )
    table = score_frame(
        str(mdir),
        pd.concat([variants, outside]),
        fasta=folder / "genome.fa",
        tasks=["type1"],
        device="cpu",
    )
    assert list(table.columns) == list(GET_COLUMNS)
    assert (table.loc[table["id"] == "far", "flags"] == "outside_peaks").all()
    scored = table[table["gene"] != "."]
    assert len(scored) and np.allclose(
        scored["expression_delta"], scored["expression_alt"] - scored["expression_ref"]
    )
