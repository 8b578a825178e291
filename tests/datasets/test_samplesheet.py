"""Sample sheets: parsing, bad input, subsampling individuals."""

from __future__ import annotations

import pytest

from varinterp.datasets.samplesheet import Library, read_sample_sheet, subsample_individuals
from varinterp.errors import InputError


def _sheet(tmp_path, text):
    (tmp_path / "a.bw").write_bytes(b"")
    p = tmp_path / "s.tsv"
    p.write_text(text)
    return p


def test_reads_rows_and_resolves_paths(tmp_path):
    p = _sheet(tmp_path, "library\tsample\tplus\tminus\tnote\nL1\tS1\ta.bw\ta.bw\tx\n")
    (lib,) = read_sample_sheet(p)
    assert lib == Library("L1", "S1", tmp_path / "a.bw", tmp_path / "a.bw")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("library\tsample\tplus\nL1\tS1\ta.bw\n", "lacks column"),
        ("library\tsample\tplus\tminus\nL1\tS1\ta.bw\ta.bw\nL1\tS2\ta.bw\ta.bw\n", "twice"),
        ("library\tsample\tplus\tminus\nL1\tS1\ta.bw\tnope.bw\n", "does not exist"),
        ("library\tsample\tplus\tminus\nL1\t\ta.bw\ta.bw\n", "empty sample"),
        ("library\tsample\tplus\tminus\n", "no rows"),
    ],
)
def test_bad_sheets(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        read_sample_sheet(_sheet(tmp_path, text))


def test_subsample_keeps_all_replicates_of_drawn_individuals():
    libs = [Library(f"L{i}", f"S{i % 4}", None, None) for i in range(8)]  # type: ignore[arg-type]
    got = subsample_individuals(libs, 2, replicate=3, seed=1)
    samples = {lib.sample for lib in got}
    assert len(samples) == 2
    assert got == [lib for lib in libs if lib.sample in samples]  # both replicates each
    assert got == subsample_individuals(libs, 2, replicate=3, seed=1)
    draws = {
        frozenset(x.sample for x in subsample_individuals(libs, 2, replicate=r)) for r in range(8)
    }
    assert len(draws) > 1
    with pytest.raises(InputError, match=r"choose 1\.\.4"):
        subsample_individuals(libs, 5)
