from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from tests.deconv.conftest import CELL_TYPES
from varinterp.cli import deconvolve
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.models.deepdetails.train import TrainSettings


@pytest.fixture(scope="module")
def cli():
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(deconvolve.app, name="deconvolve")

    @root.callback()
    def _cb() -> None:
        """test root"""

    runner = CliRunner()
    return lambda *args: runner.invoke(root, ["deconvolve", *map(str, args)])


def _prep_args(f, out):
    args = ["prep", "--bulk-pl", f["bulk_pl"], "--bulk-mn", f["bulk_mn"], "--out", out, "-q"]
    for ct in CELL_TYPES:
        args += ["--acc", f"{ct}={f['acc'][ct]}"]
        pl, mn = f["truth"][ct]
        args += ["--truth", f"{ct}={pl},{mn}"]
    return args


def test_help(cli):
    res = cli("--help")
    assert res.exit_code == 0
    for cmd in ("prep", "train", "predict", "eval"):
        assert cmd in res.output


def test_prep_train_predict_eval(cli, synthetic_tracks, tmp_path):
    f = synthetic_tracks
    bed = tmp_path / "regions.bed"
    bed.write_text("chrT\t1000\t1100\nchrT\t2800\t2900\nchrU\t1500\t1600\nchrU\t2300\t2400\n")
    data = tmp_path / "data.h5"
    res = cli(*_prep_args(f, data), "--regions", bed)
    assert res.exit_code == 0, res.output
    # a two-contig toy genome has too few bins open in one cell type only: said, not fatal
    assert "scale left unweighted: only" in res.output
    bad = cli(*_prep_args(f, tmp_path / "bad.h5"), "--regions", bed, "--contributions", "yes")
    assert bad.exit_code == 2 and "contributions must be 'auto' or 'none'" in bad.output
    assert not (tmp_path / "bad.h5").exists()
    # the default 4096-bp window with tiny widths: 2 epochs keeps this in seconds
    res = cli(
        "train",
        "--data",
        data,
        "--out",
        tmp_path / "run",
        "--filters",
        "4",
        "--gru-layers",
        "1",
        "--profile-shrinkage",
        "4",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "-q",
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "model" / "model.safetensors").is_file()
    used = json.loads((tmp_path / "run" / "train.json").read_text())["settings"]
    assert used["redundancy"] is True and used["penalty_sample_weight"] == "counts"
    defaults = TrainSettings()  # the CLI's defaults are the library's
    for key in ("redundancy_warmup", "redundancy_ramp", "penalty_sample_weight", "alpha"):
        assert used[key] == getattr(defaults, key), key
    res = cli(
        "predict",
        "--data",
        data,
        "--model",
        tmp_path / "run" / "model",
        "--out",
        tmp_path / "pred",
        "--device",
        "cpu",
        "-q",
    )
    assert res.exit_code == 0, res.output
    counts = pd.read_csv(tmp_path / "pred" / "counts.tsv", sep="\t")
    assert len(counts) == 4 and "A.mn" in counts.columns
    # predict writes the track table of its bigWigs; prep reads the same table
    from varinterp.deconv.prep import load_data
    from varinterp.io.tracks import read_track_table

    written = read_track_table(tmp_path / "pred" / "tracks.tsv")
    assert written["cell_type"].tolist() == list(CELL_TYPES)
    assert all(Path(p).is_file() for p in [*written["plus"], *written["minus"]])
    table = tmp_path / "tracks.tsv"
    table.write_text("cell_type\taccessibility\tplus\tminus\n" + "".join(
        f"{ct}\t{f['acc'][ct]}\t{f['truth'][ct][0]}\t{f['truth'][ct][1]}\n" for ct in CELL_TYPES
    ))  # fmt: skip
    res = cli("prep", "--bulk-pl", f["bulk_pl"], "--bulk-mn", f["bulk_mn"], "--tracks", table,
              "--regions", bed, "--out", tmp_path / "data2.h5", "-q")  # fmt: skip
    assert res.exit_code == 0, res.output
    a, b = load_data(data), load_data(tmp_path / "data2.h5")
    assert a.cell_types == b.cell_types
    np.testing.assert_array_equal(a.acc, b.acc)
    np.testing.assert_array_equal(a.truth, b.truth)
    res = cli(
        "predict",
        "--data",
        data,
        "--model",
        tmp_path / "run" / "model",
        "--out",
        tmp_path / "pred",
        "--device",
        "cpu",
        "-q",
    )
    assert res.exit_code == 2 and "--overwrite" in res.output
    res = cli(
        "eval",
        "--data",
        data,
        "--predictions",
        tmp_path / "pred" / "predictions.h5",
        "--out",
        tmp_path / "eval.tsv",
    )
    assert res.exit_code == 0, res.output
    summary = pd.read_csv(tmp_path / "eval.summary.tsv", sep="\t", index_col=0)
    assert list(summary.index) == ["deepdetails", "proportional", "nnls"]
    assert np.isfinite(summary["rmse"]).all()


def test_train_penalty_switches(cli, synthetic_tracks, tmp_path):
    bed = tmp_path / "regions.bed"
    bed.write_text("chrT\t1000\t1100\nchrU\t1500\t1600\n")
    data = tmp_path / "data.h5"
    res = cli(*_prep_args(synthetic_tracks, data), "--regions", bed)
    assert res.exit_code == 0, res.output
    tiny = ["--filters", "4", "--gru-layers", "1", "--profile-shrinkage", "4", "--epochs", "1"]
    tiny += ["--batch-size", "4", "--device", "cpu", "-q", "--data", data]
    res = cli(
        "train",
        *tiny,
        "--out",
        tmp_path / "off",
        "--no-redundancy-gradient",
        "--redundancy-warmup",
        "0.5",
        "--redundancy-ramp",
        "0.25",
        "--penalty-weighting",
        "none",
    )
    assert res.exit_code == 0, res.output
    used = json.loads((tmp_path / "off" / "train.json").read_text())["settings"]
    assert used["redundancy"] is False and used["penalty_sample_weight"] == "none"
    assert used["redundancy_warmup"] == 0.5 and used["redundancy_ramp"] == 0.25
    res = cli("train", *tiny, "--out", tmp_path / "bad", "--penalty-weighting", "magic")
    assert res.exit_code == 2 and "--penalty-weighting" in res.output
    assert "Traceback" not in res.output


def test_bad_inputs_exit_2_with_one_line(cli, synthetic_tracks, tmp_path):
    f = synthetic_tracks
    res = cli(
        "prep", "--bulk-pl", tmp_path / "missing.bw", "--acc", "A=x.bw", "--out", tmp_path / "d.h5"
    )
    assert res.exit_code == 2
    assert "does not exist" in res.output and "Traceback" not in res.output
    res = cli(
        "prep", "--bulk-pl", f["bulk_pl"], "--acc", "no-equals-sign", "--out", tmp_path / "d.h5"
    )
    assert res.exit_code == 2 and "NAME=VALUE" in res.output
    res = cli("train", "--data", tmp_path / "nope.h5", "--out", tmp_path / "r")
    assert res.exit_code == 2
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    res = cli("eval", "--data", bad, "--out", tmp_path / "e.tsv")
    assert res.exit_code == 2 and "HDF5" in res.output
    res = cli("predict", "--data", bad, "--model", tmp_path, "--out", tmp_path / "p")
    assert res.exit_code == 2


def _reference_h5(path, n=3, k=2, length=64, types=None, norm=None):
    import h5py

    rng = np.random.default_rng(0)
    seq = np.zeros((n, 4, length), dtype=np.float32)
    seq[:, 0, :] = 1.0
    seq[0, :, 5] = [0.5, 0.0, 0.5, 0.0]  # IUPAC R -> N
    with h5py.File(path, "w") as h5:
        h5.create_dataset("dec/seq", data=seq)
        h5.create_dataset("dec/acc", data=rng.random((n, k, length), dtype=np.float32))
        h5.create_dataset("dec/bulk", data=-rng.random((n, 2, length), dtype=np.float32))
        types = [1] * n if types is None else types
        reg = h5.create_dataset(
            "regions",
            data=np.array([[0, 100 * i, 100 * i + length, types[i]] for i in range(n)]),
        )
        reg.attrs["chr_0"] = "chrQ"
        if norm is not None:
            h5.create_dataset("scatac_norm", data=norm)
    return path


def test_import_h5(cli, tmp_path):
    from varinterp.deconv.prep import load_data

    src = _reference_h5(tmp_path / "ref.h5")
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("chrQ\t1000\n")
    out = tmp_path / "ours.h5"
    res = cli(
        "import-h5",
        "--h5",
        src,
        "--cell-type",
        "X",
        "--cell-type",
        "Y",
        "--chrom-sizes",
        sizes,
        "--out",
        out,
        "-q",
    )
    assert res.exit_code == 0, res.output
    d = load_data(out)
    assert d.cell_types == ["X", "Y"] and d.chrom_sizes == {"chrQ": 1000}
    assert d.seq[0, :, 5].sum() == 0 and d.seq[0, 0, 4] == 1
    assert (d.bulk >= 0).all() and list(d.regions["start"]) == [0, 100, 200]
    assert not d.regions["background"].any() and d.peaks_only().n == 3
    res = cli("import-h5", "--h5", src, "--cell-type", "X", "--chrom-sizes", sizes, "--out", out)
    assert res.exit_code == 2 and "already exists" in res.output
    res = cli("import-h5", "--h5", src, "--cell-type", "X", "--chrom-sizes", sizes, "--out", out,
              "--overwrite")  # fmt: skip
    assert res.exit_code == 2 and "2 cell types" in res.output


def test_import_h5_marks_background_and_reads_norm_pairs(cli, tmp_path):
    from varinterp.deconv.prep import load_data

    # the tool's region type: 1 = region (peak) window, 0 = GC-matched background
    norm = np.array([[0.0, 2.5], [1.0, 4.0]])  # (K, 2): label index, 1e6 / fragments
    src = _reference_h5(tmp_path / "ref.h5", n=4, types=[1, 0, 1, 0], norm=norm)
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("chrQ\t1000\n")
    out = tmp_path / "ours.h5"
    args = ["import-h5", "--h5", src, "--cell-type", "X", "--cell-type", "Y"]
    res = cli(*args, "--chrom-sizes", sizes, "--out", out, "-q")
    assert res.exit_code == 0, res.output
    d = load_data(out)
    assert d.regions["background"].tolist() == [False, True, False, True]
    peaks = d.peaks_only()
    assert peaks.n == 2 and list(peaks.regions["start"]) == [0, 200]
    np.testing.assert_allclose(d.norm, [2.5, 4.0])
    bad = _reference_h5(tmp_path / "bad.h5", n=2, norm=np.array([1.0, 2.0, 3.0]))
    res = cli("import-h5", "--h5", bad, *args[3:], "--chrom-sizes", sizes, "--out", out,
              "--overwrite")  # fmt: skip
    assert res.exit_code == 2 and "scatac_norm" in res.output


def test_prep_library_sizes_and_background(cli, synthetic_tracks, tmp_path):
    from varinterp.deconv.prep import load_data

    f = synthetic_tracks
    fasta = tmp_path / "genome.fa"
    fasta.write_text(">chrT\n" + "GCAT" * 1500 + "\n>chrU\n" + "GCAT" * 750 + "\n")
    bed = tmp_path / "regions.bed"
    bed.write_text("chrU\t1000\t1100\nchrU\t1004\t1100\n")  # both windows: all of chrU
    sizes = tmp_path / "library_sizes.tsv"
    sizes.write_text(
        "cell_type\tn_cells\tn_fragments\tnorm\n"
        + "".join(
            f"{ct}\t25\t{2000 * (i + 1)}\t{1e6 / (2000 * (i + 1))}\n"
            for i, ct in enumerate(CELL_TYPES)
        )
    )
    data = tmp_path / "data.h5"
    base = [*_prep_args(f, data), "--regions", bed]
    res = cli(*base, "--background-ratio", "1")
    assert res.exit_code == 2 and "--fasta" in res.output and "Traceback" not in res.output
    res = cli(*base, "--library-sizes", sizes, "--library-size", "A=3")
    assert res.exit_code == 2 and "not both" in res.output
    res = cli(*base, "--library-sizes", sizes, "--fasta", fasta, "--background-ratio", "1")
    assert res.exit_code == 0, res.output
    d = load_data(data)
    np.testing.assert_allclose(d.norm, [1e6 / 2000, 1e6 / 4000, 1e6 / 6000])
    # chrT holds the only two 4096-bp candidates (starts 0 and 1000); GC 0.5 everywhere
    assert d.regions["background"].tolist() == [False, False, True, True]
    assert d.regions.loc[d.regions["background"], "start"].tolist() == [0, 1000]
    assert d.peaks_only().n == 2
    res = cli(
        "train",
        "--data",
        data,
        "--out",
        tmp_path / "run",
        "--filters",
        "4",
        "--gru-layers",
        "1",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        "-q",
    )
    assert res.exit_code == 0, res.output
    res = cli(
        "predict",
        "--data",
        data,
        "--model",
        tmp_path / "run" / "model",
        "--out",
        tmp_path / "pred",
        "--device",
        "cpu",
        "-q",
    )
    assert res.exit_code == 0, res.output
    counts = pd.read_csv(tmp_path / "pred" / "counts.tsv", sep="\t")
    assert counts["chrom"].tolist() == ["chrU", "chrU"]


def test_train_prints_one_line_per_epoch(cli, synthetic_tracks, tmp_path):
    bed = tmp_path / "regions.bed"
    bed.write_text("chrT\t1000\t1100\nchrU\t1500\t1600\n")
    data = tmp_path / "data.h5"
    assert cli(*_prep_args(synthetic_tracks, data), "--regions", bed).exit_code == 0
    res = cli(
        "train", "--data", data, "--out", tmp_path / "run", "--filters", "4", "--gru-layers",
        "1", "--profile-shrinkage", "4", "--epochs", "2", "--batch-size", "4", "--device",
        "cpu", "--lr-decay", "0.5",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if x.startswith("epoch ")]
    assert len(lines) == 2
    assert lines[0].startswith("epoch 0  lr 0.001  train loss ") and lines[0].endswith("*best")
    assert lines[1].startswith("epoch 1  lr 0.0005  train loss ")
    assert "self-check passed" in res.output
