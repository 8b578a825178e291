"""Reads -> per-cell-type Tn5 insertion bigWigs: against naive counts, every input kind,
and every bad input."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from typer.testing import CliRunner

from varinterp.atac.insertions import count_insertions
from varinterp.cli.main import app
from varinterp.errors import InputError
from varinterp.io.bigwig import BigWig

SIZES = {"chr1": 5000, "chr2": 3000}


def _frag_lines(rng, n=400):
    rows = []
    for chrom, length in SIZES.items():
        starts = np.sort(rng.integers(0, length - 300, n))
        for s in starts:
            bc = rng.choice(
                ["AAA-1", "CCC-1", "GGG-1", "TTT-1", "NOPE-1"], p=[0.3, 0.3, 0.2, 0.15, 0.05]
            )
            rows.append((chrom, int(s), int(s + rng.integers(20, 300)), str(bc), 1))
    return rows


def _write(path: Path, rows, gz=True) -> Path:
    text = "".join("\t".join(map(str, r)) + "\n" for r in rows)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture()
def inputs(tmp_path):
    rng = np.random.default_rng(0)
    rows = _frag_lines(rng)
    frag = _write(tmp_path / "frags.tsv.gz", rows)
    (tmp_path / "bc.tsv").write_text("barcode\tcell_type\nAAA-1\tmyeloid\nCCC-1\tmyeloid\n"
                                     "GGG-1\tB\nTTT-1\tT\n")  # fmt: skip
    (tmp_path / "sizes").write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    return tmp_path, rows, frag


def _naive(rows, shift: int) -> dict[str, Counter]:
    owner = {"AAA-1": "myeloid", "CCC-1": "myeloid", "GGG-1": "B", "TTT-1": "T"}
    out: dict[str, Counter] = {ct: Counter() for ct in ("myeloid", "B", "T")}
    for chrom, s, e, bc, _ in rows:
        if bc in owner:
            out[owner[bc]][(chrom, s + shift)] += 1
            out[owner[bc]][(chrom, e - 1 - shift)] += 1
    return out


def _read(bw_path: Path) -> Counter:
    got = Counter()
    with BigWig(bw_path) as bw:
        for chrom, n in SIZES.items():
            v = bw.values(chrom, 0, n)
            for p in np.flatnonzero(v):
                got[(chrom, int(p))] = int(v[p])
    return got


@pytest.mark.parametrize("shift", [True, False])
def test_bigwigs_equal_the_naive_count(inputs, shift):
    root, rows, frag = inputs
    res = count_insertions(out=root / "o", chrom_sizes=root / "sizes", fragments=frag,
                           barcodes=root / "bc.tsv", shift=shift, min_fragments=10)  # fmt: skip
    want = _naive(rows, 4 if shift else 0)
    for ct in ("myeloid", "B", "T"):
        assert _read(root / "o" / "insertions" / f"{ct}.bw") == want[ct], ct
    t = res.table.set_index("task")
    assert t.loc["myeloid", "insertions"] == sum(want["myeloid"].values())
    assert t.loc["myeloid", "cells"] == 2
    src = res.summary["sources"][0]
    assert src["unknown_barcode_records"] == sum(r[3] == "NOPE-1" for r in rows)
    assert src["unknown_barcodes"] == 1
    assert (root / "o" / "peaks.bed").is_file() and not (root / "o" / ".spill").exists()


def test_one_file_per_cell_type_adds_up(inputs):
    root, rows, _frag = inputs
    owner = {"AAA-1": "myeloid", "CCC-1": "myeloid", "GGG-1": "B", "TTT-1": "T"}
    table = []
    for bc in ("AAA-1", "CCC-1", "GGG-1", "TTT-1"):  # myeloid comes as two files
        path = _write(root / f"{bc}.tsv", [r for r in rows if r[3] == bc], gz=False)
        table.append(f"{owner[bc]}\t{path.name}\n")
    (root / "samples.tsv").write_text("cell_type\tpath\n" + "".join(table))
    res = count_insertions(out=root / "s", chrom_sizes=root / "sizes",
                           samples=root / "samples.tsv", min_fragments=10)  # fmt: skip
    want = _naive(rows, 4)
    assert res.cell_types == ["myeloid", "B", "T"]
    for ct in res.cell_types:
        assert _read(root / "s" / "insertions" / f"{ct}.bw") == want[ct]


def _bam(path: Path, reads, *, sort_order="coordinate") -> Path:
    header = {"HD": {"VN": "1.6", "SO": sort_order},
              "SQ": [{"SN": c, "LN": n} for c, n in SIZES.items()]}  # fmt: skip
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for i, (chrom, start, length, reverse, flag_extra, mapq, cb) in enumerate(reads):
            a = pysam.AlignedSegment()
            a.query_name = f"r{i}"
            a.query_sequence = "A" * length
            a.flag = (16 if reverse else 0) | flag_extra
            a.reference_id = list(SIZES).index(chrom)
            a.reference_start = start
            a.mapping_quality = mapq
            a.cigar = ((0, length),)
            a.query_qualities = pysam.qualitystring_to_array("I" * length)
            if cb:
                a.set_tag("CB", cb)
            out.write(a)
    return path


def test_bam_reads_give_their_shifted_five_prime_ends(inputs):
    root, _, _ = inputs
    reads = [
        ("chr1", 100, 50, False, 0, 60, "AAA-1"),   # + : 100 + 4
        ("chr1", 120, 50, True, 0, 60, "GGG-1"),    # - : 169 - 4
        ("chr1", 130, 50, False, 0x400, 60, "AAA-1"),  # duplicate: dropped
        ("chr1", 140, 50, False, 0x100, 60, "AAA-1"),  # secondary: dropped
        ("chr1", 150, 50, False, 0, 5, "AAA-1"),    # low MAPQ: dropped
        ("chr1", 160, 50, False, 0x1, 60, "AAA-1"),  # paired, not proper: dropped
        ("chr2", 10, 30, True, 0x1 | 0x2, 60, "TTT-1"),  # proper pair, minus: 39 - 4
        ("chr2", 20, 30, False, 0, 60, "ZZZ-1"),    # unknown barcode
    ]  # fmt: skip
    bam = _bam(root / "r.bam", reads)
    res = count_insertions(out=root / "b", chrom_sizes=root / "sizes", bam=bam,
                           barcodes=root / "bc.tsv", min_fragments=0, call_peaks=False)  # fmt: skip
    assert _read(root / "b" / "insertions" / "myeloid.bw") == Counter({("chr1", 104): 1})
    assert _read(root / "b" / "insertions" / "B.bw") == Counter({("chr1", 165): 1})
    assert _read(root / "b" / "insertions" / "T.bw") == Counter({("chr2", 35): 1})
    assert res.summary["sources"][0]["unknown_barcode_records"] == 1
    unsorted = _bam(root / "u.bam", [reads[1], reads[0]], sort_order="unknown")
    with pytest.raises(InputError, match="not coordinate-sorted"):
        count_insertions(out=root / "u", chrom_sizes=root / "sizes", bam=unsorted,
                         barcodes=root / "bc.tsv", min_fragments=0)  # fmt: skip
    queryname = _bam(root / "q.bam", reads[:1], sort_order="queryname")
    with pytest.raises(InputError, match="sorted by queryname"):
        count_insertions(out=root / "q", chrom_sizes=root / "sizes", bam=queryname,
                         barcodes=root / "bc.tsv", min_fragments=0)  # fmt: skip


def _run(root, frag, **kw):
    opts = {"out": root / "bad", "chrom_sizes": root / "sizes", "fragments": frag,
            "barcodes": root / "bc.tsv", "min_fragments": 10, **kw}  # fmt: skip
    return count_insertions(**opts)


def test_unsorted_and_garbled_fragments(inputs):
    root, rows, _ = inputs
    swapped = [rows[1], rows[0], *rows[2:]]
    with pytest.raises(InputError, match=r"not sorted by position \(line 2: chr1:\d+ comes"):
        _run(root, _write(root / "u.tsv.gz", swapped))
    back = [*rows[:5], *[r for r in rows if r[0] == "chr2"][:3], *rows[5:10]]
    with pytest.raises(InputError, match="chr1 appears again after other contigs"):
        _run(root, _write(root / "u2.tsv.gz", back))
    empty = [rows[0], ("chr1", 500, 500, "AAA-1", 1)]
    with pytest.raises(InputError, match="line 2: fragment chr1:500-500 has end <= start"):
        _run(root, _write(root / "g.tsv.gz", empty))
    (root / "g2.tsv").write_text("chr1\tten\t20\tAAA-1\n")
    with pytest.raises(InputError, match="is not chrom, start, end, barcode"):
        _run(root, root / "g2.tsv")
    assert not (root / "bad").exists()


def test_unknown_barcodes_and_thin_cell_types(inputs):
    root, rows, frag = inputs
    with pytest.raises(InputError, match=r"barcode 'NOPE-1' is not in the barcode table"):
        _run(root, frag, unknown_barcodes="error")
    (root / "other.tsv").write_text("XXX-1\tmyeloid\n")
    with pytest.raises(InputError, match=r"none of the barcodes .* is in the barcode table"):
        _run(root, frag, barcodes=root / "other.tsv")
    n_t = sum(r[3] == "TTT-1" for r in rows)
    with pytest.raises(InputError, match=rf"fewer than 1000 fragments: .*T \({n_t}\)"):
        _run(root, frag, min_fragments=1000)
    assert not (root / "bad").exists()


def test_contigs_off_the_chrom_sizes(inputs):
    root, rows, _ = inputs
    renamed = [(c.removeprefix("chr"), *r) for c, *r in rows] + [("chrM", 5, 50, "AAA-1", 1)]
    frag = _write(root / "n.tsv.gz", renamed)
    res = _run(root, frag)
    assert res.summary["sources"][0]["off_contig"] == {"chrM": 1}  # 1 -> chr1 kept
    assert res.table["insertions"].sum() > 0
    (root / "mouse").write_text("chr19\t1000\n")
    with pytest.raises(InputError, match=r"no contig of .* is in the chrom sizes"):
        _run(root, frag, chrom_sizes=root / "mouse", out=root / "m")


def test_given_peaks_are_kept(inputs):
    root, _, frag = inputs
    (root / "p.bed").write_text("1\t100\t300\tmine\n2\t50\t250\n")
    res = _run(root, frag, peaks=root / "p.bed", out=root / "p")
    table = pd.read_csv(res.peaks, sep="\t", header=None)
    assert table[0].tolist() == ["chr1", "chr2"] and table[3].tolist() == ["mine", "peak2"]


def test_cli_and_its_bad_input(inputs):
    root, _, frag = inputs
    runner = CliRunner()
    args = [
        "atac",
        "insertions",
        "-o",
        str(root / "c"),
        "--chrom-sizes",
        str(root / "sizes"),
        "--fragments",
        str(frag),
        "--barcodes",
        str(root / "bc.tsv"),
        "--min-fragments",
        "10",
    ]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "3 cell types" in ok.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already exists" in again.output
    both = runner.invoke(app, [*args[:-2], "--samples", str(root / "bc.tsv"), "--overwrite"])
    assert both.exit_code == 2 and "exactly one input" in both.output
