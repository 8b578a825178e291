"""bpAI-TAC data: windows, counts straight from the bigWigs, quantile normalisation."""

from __future__ import annotations

import numpy as np
import pyBigWig
import pytest

from varinterp.errors import InputError
from varinterp.io.bigwig import write_bigwig
from varinterp.models.bpaitac.data import build_atac_data, quantile_normalize, read_task_table


def _naive_quantile(x: np.ndarray) -> np.ndarray:
    n, t = x.shape
    ref = np.mean([sorted(x[:, j]) for j in range(t)], axis=0)
    out = np.zeros_like(x, dtype=float)
    for j in range(t):
        for i in range(n):
            ties = [r for r in range(n) if sorted(x[:, j])[r] == x[i, j]]
            out[i, j] = np.mean([ref[r] for r in ties])
    return out


def test_quantile_normalisation_is_the_naive_one_with_ties():
    rng = np.random.default_rng(0)
    x = rng.poisson(3.0, size=(40, 4)).astype(float) * rng.uniform(0.5, 3, size=4)
    got = quantile_normalize(x)
    np.testing.assert_allclose(got, _naive_quantile(x), rtol=1e-12)
    y = rng.exponential(size=(50, 3))  # no ties: every column gets the same sorted values
    z = quantile_normalize(y)
    np.testing.assert_allclose(np.sort(z, 0), np.sort(z, 0)[:, :1].repeat(3, 1))
    np.testing.assert_array_equal(np.argsort(z, 0), np.argsort(y, 0))


def _genome(tmp_path, rng):
    seqs = {"chr1": 3000, "chr2": 2000, "chrX": 1500}
    with (tmp_path / "g.fa").open("w") as fh:
        for name, n in seqs.items():
            fh.write(f">{name}\n{''.join(rng.choice(list('ACGT'), n))}\n")
    return tmp_path / "g.fa", seqs


def _track(path, sizes, rng, skip=()):
    tracks = []
    for c, n in sizes.items():
        if c not in skip:
            tracks.append((c, 0, rng.poisson(0.7, n).astype(float)))
    keep = {c: n for c, n in sizes.items() if c not in skip}
    write_bigwig(path, chrom_sizes=keep, tracks=tracks)
    return path


def test_windows_and_centre_sums_come_from_the_bigwigs(tmp_path):
    rng = np.random.default_rng(1)
    fasta, sizes = _genome(tmp_path, rng)
    tracks = {t: _track(tmp_path / f"{t}.bw", sizes, rng) for t in ("a", "b")}
    (tmp_path / "peaks.bed").write_text("chr1\t1000\t1100\tp1\nchr2\t900\t1000\tp2\n"
                                        "chrX\t700\t760\tp3\nchr1\t20\t40\tedge\n")  # fmt: skip
    d = build_atac_data(fasta=fasta, tracks=tracks, peaks=tmp_path / "peaks.bed",
                        input_length=200, output_length=50, validation_chroms=["chr2"],
                        test_chroms=["chrX"])  # fmt: skip
    assert d.n == 3 and d.n_dropped_edge == 1
    assert list(d.regions["split"]) == ["train", "validation", "test"]
    fa = {
        n: s
        for n, s in zip(
            ("chr1", "chr2", "chrX"),
            [line.strip() for line in fasta.read_text().splitlines()[1::2]],
            strict=True,
        )
    }
    for i, row in d.regions.iterrows():
        c = row["centre"]
        seq = fa[row["chrom"]][c - 100 : c + 100]
        np.testing.assert_array_equal(d.seq[i].argmax(0), ["ACGT".index(b) for b in seq])
        for k, t in enumerate(d.tasks):
            with pyBigWig.open(str(tracks[t])) as bw:
                want = bw.stats(row["chrom"], int(c - 25), int(c + 25), type="sum", exact=True)[0]
            assert d.totals_raw[i, k] == want
    # three OCRs, two tasks: quantile normalised, profiles left raw
    np.testing.assert_allclose(d.totals, quantile_normalize(d.totals_raw), rtol=1e-6)
    np.testing.assert_allclose(d.profile.sum(-1), d.totals_raw, rtol=1e-6)
    scaled = build_atac_data(fasta=fasta, tracks=tracks, peaks=tmp_path / "peaks.bed",
                             input_length=200, output_length=50, rescale_profiles=True)  # fmt: skip
    np.testing.assert_allclose(scaled.profile.sum(-1), scaled.totals, rtol=1e-5)
    summed = build_atac_data(fasta=fasta, tracks=tracks, peaks=tmp_path / "peaks.bed",
                             input_length=200, output_length=50, sum_tasks="tn5",
                             normalize="none")  # fmt: skip
    assert summed.tasks == ("tn5",)
    np.testing.assert_allclose(summed.totals[:, 0], d.totals_raw.sum(1), rtol=1e-6)


def test_a_task_without_a_contig_is_named(tmp_path):
    rng = np.random.default_rng(2)
    fasta, sizes = _genome(tmp_path, rng)
    tracks = {"good": _track(tmp_path / "good.bw", sizes, rng),
              "noX": _track(tmp_path / "nox.bw", sizes, rng, skip=("chrX",))}  # fmt: skip
    (tmp_path / "peaks.bed").write_text("chr1\t1000\t1100\nchrX\t700\t760\n")
    with pytest.raises(InputError, match=r"task noX: bigWig .*nox\.bw has no contig chrX"):
        build_atac_data(fasta=fasta, tracks=tracks, peaks=tmp_path / "peaks.bed",
                        input_length=200, output_length=50)  # fmt: skip


def test_task_table(tmp_path):
    (tmp_path / "t.tsv").write_text("task\tbigwig\tinsertions\nA\tx/a.bw\t3\nB\t/abs/b.bw\t4\n")
    got = read_task_table(tmp_path / "t.tsv")
    assert list(got) == ["A", "B"] and got["A"] == tmp_path / "x" / "a.bw"
    (tmp_path / "dup.tsv").write_text("A\ta.bw\nA\tb.bw\n")
    with pytest.raises(InputError, match="twice"):
        read_task_table(tmp_path / "dup.tsv")
    (tmp_path / "order.tsv").write_text("task\tinsertions\tbigwig\nA\t3\ta.bw\n")
    assert read_task_table(tmp_path / "order.tsv") == {"A": tmp_path / "a.bw"}
    (tmp_path / "nobw.tsv").write_text("task\tinsertions\nA\t3\n")
    with pytest.raises(InputError, match=r"nobw\.tsv has no bigwig column"):
        read_task_table(tmp_path / "nobw.tsv")
    (tmp_path / "bin.tsv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match=r"task table .*bin\.tsv"):
        read_task_table(tmp_path / "bin.tsv")
