"""ABC candidate regions: against the ABC pipeline's own bedtools pipe, run on the same files."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.regulatory.abc_candidates import candidate_regions, merge_intervals, read_peaks

SIZES = {"chr1": 400_000, "chr2": 150_000}


def _inputs(tmp_path, n_peaks: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_peaks):
        chrom = "chr1" if rng.random() < 0.7 else "chr2"
        start = int(rng.integers(0, SIZES[chrom] - 2000))
        width = int(rng.integers(150, 1500))
        summit = int(rng.integers(0, width))
        rows.append((chrom, start, start + width, ".", 0, ".", 1.0, 1.0, 1.0, summit))
    peaks = pd.DataFrame(rows)
    peaks.loc[::17, 9] = -1  # no summit: the midpoint
    peaks.to_csv(tmp_path / "peaks.narrowPeak", sep="\t", header=False, index=False)
    counts = peaks[[0, 1, 2]].assign(c=rng.permutation(len(peaks)) + 0.5)
    counts.to_csv(tmp_path / "counts.bedgraph", sep="\t", header=False, index=False)
    pd.DataFrame(list(SIZES.items())).to_csv(
        tmp_path / "sizes", sep="\t", header=False, index=False
    )
    pd.DataFrame(list((c, 0, n) for c, n in SIZES.items())).to_csv(
        tmp_path / "sizes.bed", sep="\t", header=False, index=False
    )
    block = pd.DataFrame([("chr1", 50_000, 60_000), ("chr2", 10_000, 12_000)])
    block.to_csv(tmp_path / "block.bed", sep="\t", header=False, index=False)
    genes = pd.DataFrame(
        [("chr1", 1_000, 5_000, "g1", 0, "+"), ("chr1", 100_000, 120_000, "g2", 0, "-"),
         ("chr2", 140_000, 149_000, "g3", 0, "-"), ("chr3", 1_000, 5_000, "g4", 0, "+")]
    )  # fmt: skip
    genes.to_csv(tmp_path / "genes.bed", sep="\t", header=False, index=False)
    # the includelist as ABC ships it: TSS +- 250 (TSS = start on +, end on -)
    tss = np.where(genes[5] == "-", genes[2], genes[1])
    incl = pd.DataFrame({0: genes[0], 1: tss - 250, 2: tss + 250})
    incl.to_csv(tmp_path / "incl.bed", sep="\t", header=False, index=False)
    return tmp_path


def _abc_pipe(d, n: int) -> pd.DataFrame:
    """The ABC pipeline's candidate step, as its bedtools pipe (makeCandidateRegions)."""
    cmd = (
        f"bedtools sort -i {d}/counts.bedgraph -faidx {d}/sizes | bedtools merge -i stdin -c 4 "
        f"-o max | sort -nr -k 4 | head -n {n} | bedtools intersect -b stdin -a "
        f"{d}/peaks.narrowPeak -wa | awk '{{s = ($10 == -1) ? int(($2 + $3) / 2) : $2 + $10; "
        f'print $1 "\\t" s "\\t" s}}\' | bedtools slop -i stdin -b 250 -g {d}/sizes | '
        f"bedtools sort -i stdin -faidx {d}/sizes | bedtools merge -i stdin | bedtools "
        f"intersect -v -wa -a stdin -b {d}/block.bed | cut -f 1-3 | (bedtools intersect -a "
        f"{d}/incl.bed -b {d}/sizes.bed -wa | cut -f 1-3 && cat) | bedtools sort -i stdin "
        f"-faidx {d}/sizes | bedtools merge -i stdin"
    )
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, check=True).stdout
    rows = [ln.split("\t") for ln in out.strip().splitlines()]
    return pd.DataFrame(rows, columns=["chrom", "start", "end"]).astype({"start": int, "end": int})


@pytest.mark.skipif(shutil.which("bedtools") is None, reason="bedtools not installed")
@pytest.mark.parametrize("n_strongest", [400, 120])
def test_matches_the_abc_bedtools_pipe(tmp_path, n_strongest):
    d = _inputs(tmp_path)
    got = candidate_regions(
        peaks=d / "peaks.narrowPeak", accessibility=d / "counts.bedgraph",
        chrom_sizes=d / "sizes", genes=d / "genes.bed", blocklist=d / "block.bed",
        n_strongest=n_strongest,
    )  # fmt: skip
    want = _abc_pipe(d, n_strongest)
    pd.testing.assert_frame_equal(got.regions.astype({"start": int, "end": int}), want)
    assert got.counts["candidates"] == len(want)


def test_merge_intervals_joins_touching_and_keeps_max():
    t = pd.DataFrame(
        {"chrom": ["a", "a", "a", "b", "a"], "start": [0, 10, 25, 0, 5],
         "end": [10, 20, 30, 5, 8], "v": [1, 5, 2, 7, 9]}
    )  # fmt: skip
    m = merge_intervals(t, order=["b", "a"], value="v")
    assert m.values.tolist() == [["b", 0, 5, 7], ["a", 0, 20, 9], ["a", 25, 30, 2]]


def test_read_peaks_summits_and_bad_input(tmp_path):
    (tmp_path / "p.bed").write_text("chr1\t100\t200\nchr1\t300\t301\n")
    assert read_peaks(tmp_path / "p.bed")["summit"].tolist() == [150, 300]
    (tmp_path / "bad.bed").write_text("chr1\t100\t50\n")
    with pytest.raises(InputError, match="end <= start"):
        read_peaks(tmp_path / "bad.bed")
    with pytest.raises(InputError, match="does not exist"):
        read_peaks(tmp_path / "nope.bed")


def test_cli_link_candidates(tmp_path, cli):
    from typer.testing import CliRunner

    d = _inputs(tmp_path)
    args = ["link", "candidates", "--peaks", str(d / "peaks.narrowPeak"), "--accessibility",
            str(d / "counts.bedgraph"), "--chrom-sizes", str(d / "sizes"), "--genes",
            str(d / "genes.bed"), "--blocklist", str(d / "block.bed"), "--out",
            str(d / "cand.bed")]  # fmt: skip
    ok = CliRunner().invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    bed = pd.read_csv(d / "cand.bed", sep="\t", header=None)
    want = candidate_regions(
        peaks=d / "peaks.narrowPeak", accessibility=d / "counts.bedgraph",
        chrom_sizes=d / "sizes", genes=d / "genes.bed", blocklist=d / "block.bed",
    ).regions  # fmt: skip
    assert bed.values.tolist() == want.values.tolist()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    bad = CliRunner().invoke(cli, [*args[:-1], str(d / "c2.bed"), "--n-strongest", "0"])
    assert bad.exit_code == 2
