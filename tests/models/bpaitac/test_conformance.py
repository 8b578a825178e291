"""Real data: three cell types' accessibility (K562, GM12878, MCF7, chr22) as three
bpAI-TAC tasks over the 16 regions of the DeepDETAILS fixture, with their real sequence."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pyBigWig
import pytest
import torch

from varinterp.bases import CODE_N
from varinterp.io.chrom_sizes import read_chrom_sizes
from varinterp.models.bpaitac.data import build_atac_data
from varinterp.models.bpaitac.loss import AtacLoss
from varinterp.models.bpaitac.metrics import summarize
from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig
from varinterp.models.bpaitac.task import AtacTask
from varinterp.models.bpaitac.train import predict_data
from varinterp.training.engine import evaluate_task, fit
from varinterp.training.settings import FitSettings

CTS = ("K562", "GM12878", "MCF7")


class _H5Sequence:
    """The fixture's region sequences as a reference (N elsewhere on chr22)."""

    def __init__(self, path, sizes):
        with h5py.File(path) as h5:
            self.regions = h5["regions"][:]
            self.seq = h5["dec/seq"][:].argmax(1).astype(np.uint8)
        self.lengths = {"chr22": sizes["chr22"]}

    def codes(self, chrom, start, end):
        out = np.full(end - start, CODE_N, dtype=np.uint8)
        for (_, s, e, _), seq in zip(self.regions, self.seq, strict=True):
            lo, hi = max(start, s), min(end, e)
            if hi > lo:
                out[lo - start : hi - start] = seq[lo - s : hi - s]
        return out


@pytest.fixture(scope="module")
def fx(shared_fixtures):
    root = shared_fixtures / "deepdetails_chr22"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    sizes = read_chrom_sizes(root / "hg38.chrom.sizes")
    ref = _H5Sequence(root / "data.h5", sizes)
    peaks = pd.DataFrame({"chrom": "chr22", "start": ref.regions[:, 1],
                          "end": ref.regions[:, 2]})  # fmt: skip
    tracks = {c: root / f"acc.{c}.chr22.bw" for c in CTS}
    return root, ref, peaks, tracks


def test_centre_sums_equal_the_bigwig_sums(fx):
    _root, ref, peaks, tracks = fx
    d = build_atac_data(fasta=ref, tracks=tracks, peaks=peaks, normalize="none",
                        validation_chroms=[], test_chroms=[])  # fmt: skip
    assert d.n == 16 and d.tasks == CTS and d.seq.shape == (16, 4, 998)
    for i, row in d.regions.iterrows():
        c = int(row["centre"])
        for k, ct in enumerate(CTS):
            with pyBigWig.open(str(tracks[ct])) as bw:
                want = bw.stats("chr22", c - 125, c + 125, type="sum", exact=True)[0] or 0.0
            assert d.totals_raw[i, k] == want
        s = int(row["start"]) - int(ref.regions[i, 1])
        np.testing.assert_array_equal(d.seq[i].argmax(0), ref.seq[i, s : s + 998])
    assert d.totals_raw.sum() > 0 and np.all(d.seq.sum(1) == 1)


def test_a_train_and_evaluation_step_runs(fx):
    _, ref, peaks, tracks = fx
    d = build_atac_data(fasta=ref, tracks=tracks, peaks=peaks, validation_chroms=[],
                        test_chroms=[])  # fmt: skip
    cfg = BpAiTacConfig(n_tasks=3, filters=8, n_blocks=2)  # the published 998-bp geometry
    task = AtacTask(d, train_index=np.arange(12), val_index=np.arange(12, 16), batch_size=4,
                    loss=AtacLoss("ce", 0.5))  # fmt: skip
    res = fit(make_model=lambda _a: BpAiTac(cfg), task=task,
              settings=FitSettings(max_epochs=1, bf16=False), device=torch.device("cpu"),
              seed=0)  # fmt: skip
    assert res.epochs_run == 1 and np.isfinite(res.history[0].metrics["val_loss"])
    model = BpAiTac(cfg)
    model.load_state_dict(res.best_state)
    val = evaluate_task(model, task, device=torch.device("cpu"))
    assert set(val) == {"loss", "profile", "counts"} and all(np.isfinite(list(val.values())))
    prof, counts = predict_data([model], d, np.arange(16), device=torch.device("cpu"))
    m = summarize(counts, d.totals, prof, d.profile)
    assert m["n_ocrs"] == 16 and np.isfinite(m["profile_jsd_median"])
