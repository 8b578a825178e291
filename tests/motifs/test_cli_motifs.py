"""`varinterp motifs scan` on a toy genome, and its bad inputs (exit 2, one line, nothing
written)."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from tests.motifs._toys import planted_sequences, write_fasta, write_toy_meme
from varinterp.cli.main import app
from varinterp.motifs.files import read_features


def _inputs(tmp_path):
    seqs, _ = planted_sequences(6, 300, seed=2)
    fasta = write_fasta(tmp_path / "g.fa", {f"chr{i + 1}": s for i, s in enumerate(seqs)})
    peaks = tmp_path / "peaks.bed"
    peaks.write_text("".join(f"chr{i + 1}\t20\t220\n" for i in range(6)))
    meme = write_toy_meme(tmp_path / "toy.meme")
    clusters = tmp_path / "clusters.tsv"
    clusters.write_text("motif\tcluster\nAP1\tap1\nAP1b\tap1\nCTCFish\tctcf\nGATA\tgata\n")
    counts = tmp_path / "counts.tsv"
    counts.write_text(
        "chrom\tstart\tend\tA\tB\n"
        + "".join(f"chr{i + 1}\t20\t220\t{10 + i}\t{3 * i}\n" for i in range(6))
    )
    return fasta, peaks, meme, clusters, counts


def _run(*args):
    return CliRunner().invoke(app, ["motifs", "scan", *map(str, args), "--quiet"])


def test_scan_writes_the_matrix(tmp_path):
    fasta, peaks, meme, clusters, counts = _inputs(tmp_path)
    for ext in ("h5", "npz"):
        out = tmp_path / f"f.{ext}"
        res = _run(
            "--peaks",
            peaks,
            "--fasta",
            fasta,
            "--motifs",
            meme,
            "--clusters",
            clusters,
            "--counts",
            counts,
            "--out",
            out,
        )
        assert res.exit_code == 0, res.output
        f = read_features(out)
        assert f.clusters == ("ap1", "ctcf", "gata") and f.features.shape == (6, 3)
        assert f.features.max() == 1.0 and f.cell_types == ("A", "B")
        c = np.array([[10 + i, 3 * i] for i in range(6)], float)
        np.testing.assert_allclose(f.acpm, np.log10(c / c.sum(0) * 1e5 + 1), rtol=1e-6)


def test_bad_inputs(tmp_path):
    fasta, peaks, meme, _clusters, _counts = _inputs(tmp_path)
    out = tmp_path / "x.h5"
    logodds = tmp_path / "lo.meme"
    logodds.write_text("MEME version 4\n\nMOTIF X\nlog-odds matrix: alength= 4 w= 1\n1 -1 -1 -1\n")
    unknown = tmp_path / "unknown.tsv"
    unknown.write_text("motif\tcluster\nAP1\tap1\nNOPE\tx\n")
    elsewhere = tmp_path / "elsewhere.bed"
    elsewhere.write_text("chrZ\t0\t100\n")
    cases = [
        (("--motifs", logodds), "log-odds"),
        (("--motifs", meme, "--clusters", unknown), "not in the motif file"),
        (("--motifs", meme, "--peaks", elsewhere), "chrZ"),
    ]
    for extra, message in cases:
        args = dict(zip(["--peaks", "--fasta", "--out"], [peaks, fasta, out], strict=True))
        args.update(dict(zip(extra[::2], extra[1::2], strict=True)))
        res = _run(*[v for kv in args.items() for v in kv])
        assert res.exit_code == 2, res.output
        assert message in res.output and len(res.output.strip().splitlines()) == 1, res.output
        assert not out.exists()
