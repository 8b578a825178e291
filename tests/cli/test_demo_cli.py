from __future__ import annotations

import re

import numpy as np
from typer.testing import CliRunner

from tests.demo._tiny_demo import patch_demo_training
from varinterp.cli.main import app
from varinterp.genome.store import GenomeStore


def test_demo_runs_end_to_end(tmp_path, monkeypatch):
    # the plumbing, not the learning: a few tiny epochs (make demo trains the real thing)
    patch_demo_training(
        monkeypatch, {"max_epochs": 2, "max_batches_per_epoch": 3, "batch_size": 16}
    )
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--threads", "1"])
    assert result.exit_code == 0, result.output
    for step in ("simulate a world", "build the personal-genome store", "export personal"):
        assert step in result.output
    # each step reports its own time and the running total
    assert re.search(r"simulate a world \(\d+\.\d s; \d+ s in all\)", result.output)
    summary = (out / "SUMMARY.md").read_text()
    assert "SNVs x 60 samples" in summary
    store = GenomeStore.open(out / "cohort.vgs")
    npz = np.load(out / "promoter_windows.npz")
    # the exported windows are the store's windows
    first = store.windows(0, str(npz["chrom"][0]), int(npz["start"][0]), 1000)[0]
    np.testing.assert_array_equal(npz["two_hot"][0, 0], first)
    assert (out / "promoter_windows.iupac.fa").read_text().count(">") == 15
