from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, atomic_path, atomic_write_text
from varinterp.io.bigwig import BigWig, write_bigwig
from varinterp.io.contigs import ContigMap, harmonize_contig
from varinterp.io.fasta import Reference


def test_contig_spellings():
    assert harmonize_contig("chr1", ["1", "2"]) == "1"
    assert harmonize_contig("1", ["chr1"]) == "chr1"
    assert harmonize_contig("MT", ["chrM"]) == "chrM"
    assert harmonize_contig("chrM", ["MT"]) == "MT"
    with pytest.raises(InputError, match=r"'chrUn_x'.*'Un_x'"):
        harmonize_contig("chrUn_x", ["chr1"], source="peaks.bed")
    names = ContigMap(["chr2"])
    assert names.get("2") == "chr2" and names.get("3") is None


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    atomic_write_text(target, "whole\n")
    assert target.read_text() == "whole\n"


def test_atomic_dir_replaces_only_when_complete(tmp_path):
    out = tmp_path / "d"
    with atomic_dir(out) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(InputError, match="already exists"), atomic_dir(out):
        pass
    with pytest.raises(ValueError), atomic_dir(out, overwrite=True) as tmp:
        (tmp / "b").write_text("2")
        raise ValueError
    assert [p.name for p in tmp_path.iterdir()] == ["d"]
    assert (out / "a").read_text() == "1"


def test_bigwig_round_trip_exact_total_and_negative_minus(tmp_path):
    values = np.array([0.5, 1.25, 2.0, 0.0, 3.3], dtype=np.float32)
    plus, minus = tmp_path / "p.bw", tmp_path / "m.bw"
    write_bigwig(plus, chrom_sizes={"chr1": 50}, tracks=[("chr1", 10, values)])
    write_bigwig(minus, chrom_sizes={"chr1": 50}, tracks=[("chr1", 10, -values)])
    with BigWig(plus) as bw:
        got = bw.values("1", 8, 17)  # "1" is harmonised to "chr1"; 8, 9 and 15, 16 are empty
        np.testing.assert_allclose(got, [0, 0, *values, 0, 0])
        assert bw.total() == pytest.approx(float(values.sum()), rel=1e-6)
        assert (bw.values("chr1", 45, 55)[5:] == 0).all()  # past the contig end
    with BigWig(minus, absolute=True) as bw:
        np.testing.assert_allclose(bw.values("chr1", 10, 15), values)
        assert bw.total() == pytest.approx(float(values.sum()), rel=1e-6)
    raw = pyBigWig.open(str(minus))
    assert raw.values("chr1", 10, 11)[0] == pytest.approx(-0.5)
    with pytest.raises(InputError, match="chr9"), BigWig(plus) as bw:
        bw.values("chr9", 0, 5)


def test_reference_codes_pad_with_n(tmp_path):
    fasta = tmp_path / "r.fa"
    fasta.write_text(">chr1\nACGTacgtNR\n")
    ref = Reference(fasta)
    assert ref.codes("chr1", -2, 3).tolist() == [4, 4, 0, 1, 2]
    assert ref.codes("chr1", 8, 12).tolist() == [4, 4, 4, 4]
    assert ref.base("chr1", 4) == "A"


def test_not_a_fasta(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        Reference(tmp_path / "none.fa")


def test_bigwig_contig_without_entries_reads_zeros(tmp_path):
    path = tmp_path / "e.bw"
    write_bigwig(path, chrom_sizes={"chr1": 20, "chr2": 20}, tracks=[("chr1", 0, np.ones(3))])
    with BigWig(path) as bw:
        assert (bw.values("chr2", 0, 10) == 0).all()


def test_atomic_outputs_get_the_usual_modes(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "a").write_text("1")
    finally:
        os.umask(mask)
    assert (tmp_path / "f.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_read_table_checks_columns_and_rows(tmp_path):
    from varinterp.io.tables import read_table, resolve_path

    path = tmp_path / "t.tsv"
    path.write_text("# comment\n a \tb\n1\t\n")
    table = read_table(path, required=("a", "b"), what="track table")
    assert table.to_dict("list") == {"a": ["1"], "b": [""]}
    with pytest.raises(InputError, match=r"track table .* lacks column\(s\) c \(has a, b\)"):
        read_table(path, required=("a", "c"), what="track table")
    path.write_text("a\tb\n")
    with pytest.raises(InputError, match="no rows"):
        read_table(path, required=("a",), what="track table")
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "none.tsv", required=("a",), what="track table")
    assert resolve_path("x.bw", path) == tmp_path / "x.bw"
    assert resolve_path("/abs/x.bw", path) == Path("/abs/x.bw")
