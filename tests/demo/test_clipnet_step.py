"""The demo's CLIPNET step on a small simulated world (a few tiny epochs)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyBigWig
import pytest

from tests.demo._tiny_demo import tiny_clipnet_demo
from varinterp.demo import clipnet as clipnet_demo
from varinterp.demo.clipnet import (
    chain_folds,
    demo_sample_sheet,
    held_out_metrics,
)
from varinterp.errors import InputError

TINY = {"max_epochs": 2, "max_batches_per_epoch": 3, "batch_size": 16}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return tiny_clipnet_demo(out, seed=3, n_individuals=12, training=TINY, individuals=6)


def test_step_trains_two_held_out_fold_models_and_reports_their_metrics(demo):
    ctx, lines = demo
    model = ctx.files["clipnet"]
    meta = json.loads((model / "config.json").read_text())
    assert sorted(p.name for p in model.glob("fold_*.safetensors")) == [
        "fold_1.safetensors",
        "fold_2.safetensors",
    ]
    assert meta["metadata"]["folds"] == {"chr1": 1, "chr2": 2, "chr3": 3}
    assert meta["metadata"]["reference_only"] is False
    assert len(meta["metadata"]["individuals"]) == 6
    # the reported numbers are the evaluation table's fold-k-on-fold-k rows
    metrics = pd.read_csv(ctx.files["clipnet_eval"] / "metrics.tsv", sep="\t")
    for k, chrom in ((1, "chr1"), (2, "chr2")):
        row = metrics[(metrics["model"] == f"fold_{k}") & (metrics["eval_fold"] == k)].iloc[0]
        line = next(x for x in lines if x.startswith(f"fold_{k} on held-out {chrom}"))
        got = [float(v) for v in re.findall(r"Pearson (-?\d+\.\d+)", line)]
        assert got[:2] == pytest.approx(
            [row["median_profile_pearson"], row["log_quantity_pearson"]], abs=6e-4
        )
    assert (ctx.files["procap"] / "variant_effects.tsv").is_file()
    # no contig is fold 0: the evaluation figures show a fold model on its own held-out
    # fold, not an empty "no fold-0 windows" panel
    assert ctx.objects["clipnet_figures_of"] == "fold_1 on its held-out fold 1"
    assert (ctx.files["clipnet_eval"] / "tracks.png").stat().st_size > 10_000


def test_quantity_head_starts_at_the_training_quantities(demo, monkeypatch):
    """Training from scratch starts the quantity BN bias/weight at the mean/std of the
    training windows' summed RPM, computed here from the bigWigs."""
    ctx, _ = demo
    captured = {}

    class Stop(Exception):
        pass

    def capture_then_stop(model, dist, dev):
        captured.update({k: v.detach().clone() for k, v in model.state_dict().items()})
        raise Stop

    monkeypatch.setattr("varinterp.training.engine.wrap_model", capture_then_stop)
    with pytest.raises(Stop):
        clipnet_demo.train_small(config=ctx.files["clipnet_config"], out=ctx.out / "x", folds=[1])
    state = captured
    sheet = pd.read_csv(ctx.out / "clipnet_samples.tsv", sep="\t")
    peaks = pd.read_csv(ctx.files["procap"] / "peaks.bed", sep="\t", header=None)
    lengths = ctx.objects["world"].reference.lengths
    length = lengths["chr3"]
    mids = (peaks[1] + peaks[2]) // 2
    # edge peaks are dropped; the rest get one seeded offset each, in BED order
    kept = peaks[(mids - 600 >= 0) & (mids + 600 <= peaks[0].map(lengths))].copy()
    kept["mid"] = (kept[1] + kept[2]) // 2
    kept["shift"] = np.random.default_rng(47).integers(-100, 101, len(kept))
    # fold 1 tests chr1, validates on chr2, trains on chr3
    chr3 = kept[kept[0] == "chr3"]
    train = (chr3["mid"] + chr3["shift"]).to_numpy()
    assert len(train) > 0
    values = []
    for _, lib in sheet.iterrows():
        tracks, total = [], 0.0
        for col in ("plus", "minus"):
            with pyBigWig.open(str(ctx.out / lib[col])) as bw:
                for c in bw.chroms():
                    total += sum(abs(v) for _, _, v in (bw.intervals(c) or []))
                tracks.append(np.abs(np.nan_to_num(np.array(bw.values("chr3", 0, length)))))
        values.append(
            [sum(t[m - 250 : m + 250].sum() for t in tracks) * 1e6 / total for m in train]
        )
    values = np.array(values)
    bias = float(state["quantity_bn.bias"])
    assert bias == pytest.approx(values.mean(), rel=0.02)
    # the spread starts at most a third of the mean, so the ReLU clips (almost) nothing
    spread = min(values.std(), values.mean() / 3)
    assert float(state["quantity_bn.weight"]) == pytest.approx(spread, rel=0.05)


def _windows(ctx, chrom, jitter):
    """Per-library RPM profiles (plus then minus) of the peaks on `chrom`, from the bigWigs,
    each window at its peak's seeded evaluation offset (seed 47, one per kept peak)."""
    sheet = pd.read_csv(ctx.out / "clipnet_samples.tsv", sep="\t")
    peaks = pd.read_csv(ctx.files["procap"] / "peaks.bed", sep="\t", header=None)
    lengths = ctx.objects["world"].reference.lengths
    length = lengths[chrom]
    mids = (peaks[1] + peaks[2]) // 2
    kept = (mids - 500 - jitter >= 0) & (mids + 500 + jitter <= peaks[0].map(lengths))
    shifts = np.random.default_rng(47).integers(-jitter, jitter + 1, int(kept.sum()))
    mids = (mids[kept] + shifts)[peaks[0][kept] == chrom]
    rows = []
    for _, lib in sheet.iterrows():
        tracks, total = [], 0.0
        for col in ("plus", "minus"):
            with pyBigWig.open(str(ctx.out / lib[col])) as bw:
                for c in bw.chroms():
                    total += sum(abs(v) for _, _, v in (bw.intervals(c) or []))
                tracks.append(np.abs(np.nan_to_num(np.array(bw.values(chrom, 0, length)))))
        rows += [np.concatenate([t[m - 250 : m + 250] for t in tracks]) * 1e6 / total for m in mids]
    return np.array(rows)


def test_mean_shape_baseline_matches_a_naive_computation(demo):
    ctx, lines = demo
    jitter = clipnet_demo.DEMO_DATA["max_jitter"]
    train = _windows(ctx, "chr3", jitter)  # fold 1 trains on chr3 and tests on chr1
    train = train[train.sum(axis=1) > 0]
    shape = (train / train.sum(axis=1, keepdims=True)).mean(axis=0).reshape(2, 500)
    shape = 0.5 * (shape + shape[::-1, ::-1])  # training sees both orientations
    test = _windows(ctx, "chr1", jitter)
    r = [np.corrcoef(shape.reshape(-1), w)[0, 1] for w in test if w.std() > 0]
    got = clipnet_demo.mean_shape_baseline(
        ctx.files["clipnet_config"], [1], fold_table=chain_folds(["chr1", "chr2", "chr3"])
    )
    assert got[1] == pytest.approx(np.median(r), abs=1e-4)
    line = next(x for x in lines if x.startswith("fold_1 on held-out chr1"))
    assert f"baseline profile Pearson {got[1]:.3f}" in line


def test_chain_folds():
    assert chain_folds(["a", "b", "c"]) == {"a": 1, "b": 2, "c": 3}
    with pytest.raises(InputError, match="2-9 contigs"):
        chain_folds(["a"])
    with pytest.raises(InputError, match="2-9 contigs"):
        chain_folds([f"c{i}" for i in range(10)])


def test_held_out_metrics_keeps_own_fold_rows():
    m = pd.DataFrame(
        {
            "model": ["ensemble", "fold_1", "fold_1", "fold_2", "fold_2", "fold_12"],
            "eval_fold": [0, 0, 1, 0, 2, 1],
            "n_windows": [0, 0, 10, 0, 0, 5],
        }
    )
    got = held_out_metrics(m)
    assert got[["model", "eval_fold"]].values.tolist() == [["fold_1", 1]]


def test_demo_sample_sheet_keeps_one_library_per_individual(tmp_path):
    (tmp_path / "p").mkdir()
    sheet = tmp_path / "p" / "samples.tsv"
    sheet.write_text(
        "library\tsample\tplus\tminus\n"
        "a1\tA\tbw/a1.p.bw\tbw/a1.m.bw\n"
        "a2\tA\tbw/a2.p.bw\tbw/a2.m.bw\n"
        "b1\tB\tbw/b1.p.bw\tbw/b1.m.bw\n"
        "c1\tC\tbw/c1.p.bw\tbw/c1.m.bw\n"
    )
    out = demo_sample_sheet(sheet, tmp_path / "s.tsv", n_individuals=2)
    t = pd.read_csv(out, sep="\t")
    assert t["library"].tolist() == ["a1", "b1"]
    assert t["plus"].tolist() == ["p/bw/a1.p.bw", "p/bw/b1.p.bw"]
