"""DeepDETAILS in the registry: its outputs, its forward pass, the scoring context, and
the ensemble mean of the one inference loop against the old replicate merge."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from tests.deconv.conftest import CELL_TYPES, CHROM_SIZES, tiny_config
from varinterp.deconv.predict import predict_tracks
from varinterp.deconv.tiles import merge_runs
from varinterp.errors import InputError
from varinterp.models.deepdetails import ARCHITECTURE
from varinterp.models.deepdetails.network import build_model
from varinterp.models.deepdetails.scoring import read_context
from varinterp.training.inference import load_model, predict_windows
from varinterp.training.modeldir import save_model_dir
from varinterp.training.registry import get_architecture


def _models(n: int, **kw) -> list[torch.nn.Module]:
    out = []
    for seed in range(n):
        torch.manual_seed(seed)
        out.append(build_model(tiny_config(count_scale=10.0, **kw)).eval())
    return out


def test_registered_by_entry_point():
    arch = get_architecture("deepdetails")
    assert arch is ARCHITECTURE
    assert arch.input_encoding == "one-hot" and arch.family == "deepdetails"
    assert type(arch.build(tiny_config())).__name__ == "DeepDetailsFused"
    assert type(arch.build(tiny_config(seq_only=True))).__name__ == "DeepDetailsSeqOnly"


def test_outputs_name_the_cell_types():
    cfg = tiny_config()
    spec = ARCHITECTURE.outputs(cfg, {"cell_types": ["x", "y", "z"]})
    assert spec.tasks == ("x", "y", "z") and spec.n_strands == 2
    assert (spec.input_length, spec.output_length) == (256, cfg.output_length)
    assert spec.profile_is_track and spec.quantity == "counts"
    assert spec.context == ("acc", "scale")
    assert ARCHITECTURE.outputs(cfg, {"tasks": ["p", "q", "r"], "cell_types": ["x"]}).tasks == (
        "p",
        "q",
        "r",
    )
    assert ARCHITECTURE.outputs(cfg, {}).tasks == ("ct0", "ct1", "ct2")


def test_predict_returns_tracks_and_their_totals():
    (model,) = _models(1)
    g = torch.Generator().manual_seed(0)
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 256), generator=g), 4)
    x = x.transpose(1, 2).float()
    ctx = {"acc": torch.rand(2, 3, 256, generator=g), "scale": torch.rand(2, 3, generator=g)}
    profile, quantity = ARCHITECTURE.predict(model, x, ctx)
    want = model(x, ctx["acc"], ctx["scale"]).prediction
    torch.testing.assert_close(profile, want)
    torch.testing.assert_close(quantity, want.sum(dim=(2, 3)))


def test_read_context_equals_the_prepared_windows(synthetic_data, synthetic_tracks):
    d = synthetic_data
    spec = ARCHITECTURE.outputs(tiny_config(), {"cell_types": list(CELL_TYPES)})
    chroms = d.regions["chrom"].to_numpy()
    starts = d.regions["start"].to_numpy()
    ctx = read_context(
        tracks=synthetic_tracks["acc"], options={}, chroms=chroms, starts=starts, spec=spec
    )
    assert ctx["acc"].dtype == np.float32 and ctx["acc"].shape == d.acc.shape
    np.testing.assert_array_equal(ctx["acc"], d.acc)
    np.testing.assert_array_equal(ctx["scale"], d.scale())
    assert ctx["scale"].dtype == np.float32 and ctx["scale"].shape == (d.n, 3)
    # the bulk's response the model was trained with shapes the scale as in prep
    response = {"contributions": [2.0, 0.5, 0.5], "exponent": 1.6}
    ctx = read_context(
        tracks=synthetic_tracks["acc"], options=response, chroms=chroms, starts=starts, spec=spec
    )
    shaped = dataclasses.replace(d, contributions=np.array([2.0, 0.5, 0.5]), exponent=1.6)
    np.testing.assert_allclose(ctx["scale"], shaped.scale(), rtol=1e-6)
    assert not np.allclose(ctx["scale"], d.scale())
    # library sizes given: the scale follows them; a window past the contig end reads 0
    sizes = {"A": 1.0, "B": 2.0, "C": 4.0}
    end = CHROM_SIZES["chrU"] - 100
    ctx = read_context(
        tracks=synthetic_tracks["acc"],
        options={"library_sizes": sizes},
        chroms=["chrU"],
        starts=[end],
        spec=spec,
    )
    assert (ctx["acc"][0, :, 100:] == 0).all()
    arrays = synthetic_tracks["arrays"]["acc"]
    for k, ct in enumerate(CELL_TYPES):
        np.testing.assert_array_equal(ctx["acc"][0, k, :100], arrays[ct]["chrU"][end:])
    with pytest.raises(InputError, match="missing C"):
        read_context(
            tracks={c: synthetic_tracks["acc"][c] for c in "AB"},
            chroms=chroms,
            starts=starts,
            spec=spec,
        )


def test_scoring_context_predicts_like_deconvolve_predict(synthetic_data, synthetic_tracks):
    (model,) = _models(1)
    d = synthetic_data
    spec = ARCHITECTURE.outputs(model.config, {"cell_types": list(CELL_TYPES)})
    ctx = read_context(
        tracks=synthetic_tracks["acc"],
        chroms=d.regions["chrom"].to_numpy(),
        starts=d.regions["start"].to_numpy(),
        spec=spec,
    )
    # scoring hands two-hot sequence to the loop; one-hot models see half of it
    out = predict_windows(
        [model], ARCHITECTURE, spec, d.seq * 2, context=ctx, rc_average=False, batch_size=5
    )
    want = predict_tracks(model, d, rescale="none")
    np.testing.assert_array_equal(out.profile, want)
    np.testing.assert_allclose(out.quantity, want.sum(axis=(2, 3)), rtol=1e-5)


def test_ensemble_mean_equals_the_old_replicate_merge(synthetic_data, tmp_path):
    d = synthetic_data
    models = _models(3)
    runs = [predict_tracks(m, d, rescale="none") for m in models]
    merged = merge_runs(runs)
    np.testing.assert_array_equal(predict_tracks(models, d, rescale="none"), merged)
    # replicates as members of one directory, and as several directories
    out = save_model_dir(
        tmp_path / "reps",
        config=models[0].config,
        folds={f"replicate_{i + 1}": m for i, m in enumerate(models)},
        metadata={"cell_types": list(CELL_TYPES)},
    )
    ensemble = load_model(out, device="cpu")
    np.testing.assert_array_equal(predict_tracks(ensemble, d, rescale="none"), merged)
    singles = []
    for i, m in enumerate(models):
        singles.append(
            load_model(
                save_model_dir(tmp_path / f"r{i}", config=m.config, folds={"model": m}),
                device="cpu",
            )
        )
    np.testing.assert_array_equal(predict_tracks(singles, d, rescale="none"), merged)
    # the mean is rescaled once: each strand's total over the cell types is the bulk's
    counts = predict_tracks(ensemble, d, rescale="counts")
    np.testing.assert_allclose(
        counts.sum(axis=(1, 3)), d.target_bulk().sum(-1), rtol=1e-4, atol=1e-3
    )


def test_models_of_other_shapes_are_refused(synthetic_data):
    (two,) = _models(1, n_cell_types=2)
    with pytest.raises(InputError, match="2 cell types"):
        predict_tracks(two, synthetic_data)
    (a,) = _models(1)
    b = build_model(tiny_config(n_dilated=2))
    with pytest.raises(InputError):
        predict_tracks([a, b], synthetic_data)


def test_a_directory_trained_on_another_cell_type_order_is_refused(synthetic_data, tmp_path):
    (model,) = _models(1)
    out = save_model_dir(
        tmp_path / "m", config=model.config, folds={"model": model},
        metadata={"cell_types": ["C", "B", "A"]},
    )  # fmt: skip
    with pytest.raises(InputError, match="same order"):
        predict_tracks(load_model(out, device="cpu"), synthetic_data)
    renamed = save_model_dir(
        tmp_path / "r", config=model.config, folds={"model": model},
        metadata={"cell_types": ["x", "y", "z"]},
    )  # fmt: skip
    assert predict_tracks(load_model(renamed, device="cpu"), synthetic_data).shape[1] == 3
