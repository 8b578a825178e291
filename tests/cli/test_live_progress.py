"""`varinterp train clipnet` and `varinterp score` with stderr redirected to a file, as on
a cluster: the file shows live progress lines (counts, rate, time left) while the work
runs, and a line when it is done; the model card records the command it was made with."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.models.clipnet._world import make_world, write_toml


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("live"), n_contigs=4)


def _varinterp(args: list[str], cwd: Path, stderr: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VARINTERP_PROGRESS_INTERVAL": "0", "COLUMNS": "200"}
    with stderr.open("w") as err:
        return subprocess.run(
            [sys.executable, "-m", "varinterp", *args],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, check=False,
        )  # fmt: skip


def test_train_then_score_show_progress_in_a_redirected_log(world, tmp_path):
    cfg = write_toml(tmp_path / "run.toml", world, training={"max_epochs": 1, "batch_size": 4},
                     data={"rc_augment": "none"})  # fmt: skip
    log = tmp_path / "train.err"
    res = _varinterp(["train", "clipnet", "-c", str(cfg), "-o", "model", "--folds", "1"],
                     tmp_path, log)  # fmt: skip
    assert res.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    live = [x for x in lines if re.match(r"training \(this epoch\): \d+/\d+ batches \(\d+%\)", x)]
    assert len(live) >= 2, lines
    assert re.search(r"batches/s, \d:\d\d:\d\d elapsed, about \d:\d\d:\d\d left", live[0])
    assert any(re.match(r"training \(this epoch\): .* batches done in", x) for x in lines)
    assert "fold 1 epoch 0" in res.stdout  # the epoch milestone
    # the model directory records the command and the run config it was trained with
    meta = json.loads((tmp_path / "model" / "config.json").read_text())["metadata"]
    assert meta["provenance"]["command"].startswith("varinterp train clipnet -c ")
    assert meta["provenance"]["inputs"]["--config"]["name"] == "run.toml"
    card = (tmp_path / "model" / "README.md").read_text()
    assert "## Provenance" in card and "varinterp train clipnet" in card

    seqs = world.reference
    rows = []
    for chrom, seq in seqs.items():
        for pos in range(150, 1850, 17):
            ref = seq[pos - 1]
            rows.append(f"{chrom}\t{pos}\t{ref}\t{'ACGT'.replace(ref, '')[0]}\n")
    variants = tmp_path / "variants.tsv"
    variants.write_text("".join(rows))
    log = tmp_path / "score.err"
    res = _varinterp(
        ["score", "--variants", str(variants), "-m", "model", "--fasta", str(world.fasta),
         "-o", "effects.tsv", "--chunk-size", "100", "--device", "cpu"],
        tmp_path, log,
    )  # fmt: skip
    assert res.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    n = len(rows)
    live = [x for x in lines if re.match(rf"scoring: [\d,]+/{n:,} variants \(\d+%\)", x)]
    assert len(live) >= n // 100, lines  # at least one line per chunk, total known up front
    assert live[0].split(":")[1].split("/")[0].strip() != f"{n:,}"  # it started partial
    assert re.search(rf"scoring: {n:,}/{n:,} variants done in \d:\d\d:\d\d", lines[-1])
