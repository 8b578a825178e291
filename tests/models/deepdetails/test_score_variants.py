"""`varinterp score` on a DeepDETAILS model: one row per variant and cell type, checked
against the network run by hand on one-hot windows and the accessibility bigWigs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from tests.deconv.conftest import CELL_TYPES, CHROM_SIZES, tiny_config
from tests.effects._scoring_toys import bgzip_index, random_seq, write_fasta, write_vcf
from varinterp.cli.main import app
from varinterp.deconv.baselines import accessibility_load, scale_weights
from varinterp.genome.encoding import one_hot
from varinterp.models.deepdetails.network import build_model
from varinterp.training.modeldir import save_model_dir


@pytest.fixture(scope="module")
def scored(tmp_path_factory, synthetic_tracks):
    tmp = tmp_path_factory.mktemp("dd_score")
    torch.manual_seed(3)
    cfg = tiny_config(count_scale=10.0)
    model = build_model(cfg).eval()
    mdir = save_model_dir(
        tmp / "model", config=cfg, folds={"model": model},
        metadata={"cell_types": list(CELL_TYPES), "tasks": list(CELL_TYPES)},
    )  # fmt: skip
    seqs = {c: random_seq(n, i + 5) for i, (c, n) in enumerate(CHROM_SIZES.items())}
    fasta = write_fasta(tmp / "ref.fa", seqs)
    rows = []
    for chrom, pos in (("chrT", 700), ("chrT", 1650), ("chrU", 2900)):
        ref = seqs[chrom][pos - 1]
        rows.append((chrom, pos, f"v{pos}", ref, "ACGT"[("ACGT".index(ref) + 1) % 4]))
    vcf = bgzip_index(write_vcf(tmp / "v.vcf", rows, contigs=CHROM_SIZES))
    table = tmp / "context.tsv"
    lines = ["cell_type\tbigwig\tlibrary_size"]
    for k, ct in enumerate(CELL_TYPES):
        lines.append(f"{ct}\t{synthetic_tracks['acc'][ct]}\t{1e5 * (k + 1):g}")
    table.write_text("\n".join(lines) + "\n")
    out = tmp / "effects.tsv"
    args = ["score", "--vcf", str(vcf), "-m", str(mdir), "--fasta", str(fasta), "-o", str(out),
            "--context-tracks", str(table), "--no-rc", "--device", "cpu", "--quiet"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    return {"tmp": tmp, "model": model, "seqs": seqs, "rows": rows, "out": out, "args": args}


def _by_hand(model, seqs, chrom, pos1, ref, alt, synthetic_tracks, sizes):
    length = model.config.input_length
    start = pos1 - 1 - length // 2
    seq = seqs[chrom]
    text = "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(start, start + length))
    acc = np.zeros((1, len(CELL_TYPES), length), np.float32)
    for k, ct in enumerate(CELL_TYPES):
        track = synthetic_tracks["arrays"]["acc"][ct][chrom]
        for j in range(length):
            if 0 <= start + j < len(track):
                acc[0, k, j] = track[start + j]
    norm = 1e6 / np.asarray(sizes, dtype=np.float64)
    scale = scale_weights(
        torch.from_numpy(accessibility_load(acc, norm, center=model.config.output_length))
    ).float()
    totals = []
    for allele in (ref, alt):
        w = text[: length // 2] + allele + text[length // 2 + 1 :]
        x = torch.from_numpy(one_hot(w)[None]).float()
        with torch.no_grad():
            pred = model(x, torch.from_numpy(acc), scale).prediction
        totals.append(pred.sum(dim=(2, 3))[0].numpy().astype(np.float64))
    return np.log2(totals[1] + 1e-3) - np.log2(totals[0] + 1e-3)


def test_one_row_per_variant_and_cell_type(scored, synthetic_tracks):
    t = pd.read_csv(scored["out"], sep="\t")
    assert list(t.columns[:7]) == ["chrom", "pos", "id", "ref", "alt", "scorer", "task"]
    assert list(t["task"]) == list(CELL_TYPES) * 3
    assert len(t) == 9 and np.isfinite(t["log2fc"]).all()
    sizes = [1e5 * (k + 1) for k in range(len(CELL_TYPES))]
    for i, (chrom, pos, _, ref, alt) in enumerate(scored["rows"]):
        want = _by_hand(
            scored["model"], scored["seqs"], chrom, pos, ref, alt, synthetic_tracks, sizes
        )
        np.testing.assert_allclose(t["log2fc"].iloc[3 * i : 3 * i + 3], want, rtol=1e-4, atol=1e-6)


def test_tasks_and_missing_context(scored):
    out = scored["tmp"] / "b.tsv"
    args = [a if a != str(scored["out"]) else str(out) for a in scored["args"]]
    res = CliRunner().invoke(app, [*args, "--tasks", "C,A"])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out, sep="\t")
    assert list(t["task"]) == ["C", "A"] * 3
    full = pd.read_csv(scored["out"], sep="\t")
    np.testing.assert_allclose(
        t.loc[t["task"] == "C", "log2fc"], full.loc[full["task"] == "C", "log2fc"]
    )
    i = args.index("--context-tracks")
    res = CliRunner().invoke(app, [*args[:i], *args[i + 2 :], "--overwrite"])
    assert res.exit_code == 2 and "--context-tracks" in res.output
