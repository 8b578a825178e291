"""The readers that moved below the stages: base codes, contig lengths, fragments' tables."""

from __future__ import annotations

import numpy as np
import pytest

from varinterp import bases
from varinterp.errors import InputError
from varinterp.genome import encoding
from varinterp.io.bigwig import write_bigwig
from varinterp.io.chrom_sizes import read_chrom_sizes, resolve_chrom_sizes
from varinterp.io.fragments import read_barcodes, safe_name
from varinterp.io.intervals import read_peaks


def test_base_codes_are_defined_once_and_reexported_by_genome():
    for name in bases.__all__:
        assert getattr(encoding, name) is getattr(bases, name)
    codes = bases.codes_from_sequence("ACGTNacgtRy")
    np.testing.assert_array_equal(codes, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4])
    assert codes.dtype == np.uint8
    assert bases.sequence_from_codes(codes) == "ACGTNACGTNN"
    with pytest.raises(InputError, match=r"'-' at offset 2"):
        bases.codes_from_sequence("AC-T", where="read")


def test_chrom_sizes_from_a_file_a_mapping_or_a_bigwig(tmp_path):
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("chr2\t300\nchr1\t100\n")
    assert read_chrom_sizes(sizes) == {"chr2": 300, "chr1": 100}
    assert resolve_chrom_sizes({"chrX": 5}, None) == {"chrX": 5}
    assert resolve_chrom_sizes(sizes, None) == {"chr2": 300, "chr1": 100}
    bw = tmp_path / "t.bw"
    write_bigwig(bw, chrom_sizes={"chr7": 50}, tracks=[("chr7", 0, np.ones(50))])
    assert resolve_chrom_sizes(None, bw) == {"chr7": 50}
    with pytest.raises(InputError, match="--chrom-sizes"):
        resolve_chrom_sizes(None, None)
    (tmp_path / "empty").write_text("")
    with pytest.raises(InputError, match="chrom sizes"):
        read_chrom_sizes(tmp_path / "empty")


def test_barcodes_safe_names_and_peaks(tmp_path):
    table = tmp_path / "bc.tsv"
    table.write_text("barcode\tcell_type\nAAA-1\tT cell\nCCC-1\tB/plasma\nAAA-1\tT cell\n")
    got = read_barcodes(table)
    assert got.values.tolist() == [["AAA-1", "T cell"], ["CCC-1", "B/plasma"]]
    assert [safe_name(c) for c in got["cell_type"]] == ["T_cell", "B_plasma"]
    assert safe_name("..") == "cell_type"
    peaks = tmp_path / "p.bed"
    peaks.write_text("chr1\t10\t20\tx\nchr2\t5\t9\ty\n")
    p = read_peaks(peaks)
    assert list(p.columns) == ["chrom", "start", "end"] and p["start"].dtype == np.int64
    assert p.values.tolist() == [["chr1", 10, 20], ["chr2", 5, 9]]
