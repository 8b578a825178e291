"""`varinterp demo`: by default the zoo's shipped demo weights, end to end; it says what
each step is doing while it runs, names every step in --help, and its folder can be
moved (relative paths in what it writes). `--full` trains every model."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from varinterp.cli.main import app
from varinterp.demo import STEPS
from varinterp.effects.frame import frame_columns
from varinterp.genome.store import GenomeStore


def test_help_names_every_step_and_both_modes():
    result = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for step in STEPS:
        assert step.name in text, step.name
    assert "--full" in text and "--quick" in text


def test_the_default_needs_the_seed_of_the_shipped_weights(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "d"), "--seed", "1"])
    assert result.exit_code == 2 and "add --full" in result.output


def test_demo_runs_end_to_end_and_its_folder_can_be_moved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--out", "demo", "--threads", "1"])
    assert result.exit_code == 0, result.output
    out = result.output
    for step in STEPS:  # announced before it runs, then what it found
        assert out.index(f"▸ {step.name} ...") < out.index(f"✓ {step.name} (")
    assert re.search(r"simulate a world \(\d+\.\d s; \d+ s in all\)", out)
    assert "shipped weights of the zoo's clipnet-demo" in out
    assert "skipped: it trains a reference-only model (run varinterp demo --full)" in out
    summary = (tmp_path / "demo" / "SUMMARY.md").read_text()
    assert "SNVs x 60 samples" in summary and "shipped demo weights" in summary
    # effects.tsv has the columns of varinterp score; the truth is in a file of its own
    effects = pd.read_csv(tmp_path / "demo" / "effects.tsv", sep="\t")
    truth = pd.read_csv(tmp_path / "demo" / "effects_truth.tsv", sep="\t")
    assert list(effects.columns) == frame_columns()
    assert effects["id"].tolist() == truth["id"].tolist() and "causal" in truth
    # the folder records its command; again into it only with --overwrite
    assert (tmp_path / "demo" / "provenance.json").is_file()
    again = CliRunner().invoke(app, ["demo", "--out", "demo"])
    assert again.exit_code == 2 and "already exists" in again.output

    moved = tmp_path / "elsewhere" / "moved"
    shutil.move(tmp_path / "demo", moved)
    for path in moved.rglob("*"):  # no text file names the old place
        if path.is_file() and path.suffix in {".tsv", ".toml", ".json", ".md", ".bed", ".html"}:
            assert str(tmp_path / "demo") not in path.read_text(errors="replace"), path
    from varinterp.models.clipnet.runconfig import load_run_config

    run = load_run_config(moved / "clipnet_run.toml")
    assert run.data.store == moved / "cohort.vgs" and run.data.store.is_dir()
    store = GenomeStore.open(run.data.store)
    npz = np.load(moved / "promoter_windows.npz")
    first = store.windows(0, str(npz["chrom"][0]), int(npz["start"][0]), 1000)[0]
    np.testing.assert_array_equal(npz["two_hot"][0, 0], first)
    assert (moved / "promoter_windows.iupac.fa").read_text().count(">") == 15
