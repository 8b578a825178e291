from __future__ import annotations

import json

import numpy as np
import pytest

from tests.genome._cohort import CHR1, write_cohort
from varinterp.errors import InputError
from varinterp.genome.build import build_store
from varinterp.genome.encoding import reverse_complement, two_hot_to_iupac
from varinterp.genome.store import GenomeStore


@pytest.fixture
def store(cohort, tmp_path):
    fasta, vcf = cohort
    summary = build_store(vcf=vcf, fasta=fasta, out=tmp_path / "c.vgs")
    return summary, GenomeStore.open(tmp_path / "c.vgs")


def test_counts_and_metadata(store):
    summary, gs = store
    assert summary.n_variants == 6  # rs1, rs2 split in two, rs3 (an insertion), rs4, rs5
    assert summary.counts["indels"] == 1 and summary.counts["skipped_indel"] == 0
    assert summary.counts["multiallelic_records"] == 1
    assert summary.counts["missing_calls"] == 1
    meta = json.loads((gs.path / "meta.json").read_text())
    assert meta["samples"] == ["s1", "s2"]
    assert len(meta["inputs"]["vcf"]["sha256"]) == 64
    assert gs.is_phased()


def test_windows_two_hot_by_hand(store):
    _, gs = store
    w = gs.windows(["s1", "s2"], "chr1", 0, 6, indels=False)
    assert w.shape == (2, 4, 6) and w.dtype == np.uint8
    # s1: rs1 0|1 (C/T at 1), rs2 1|2 (G/A at 3); the insertion at 4 left out
    assert two_hot_to_iupac(w[0]) == "AYGKAC".replace("K", "R")
    # with it, haplotype 2 reads A T G A A [T] C..., cut at 6 bases: C/T at the end
    assert two_hot_to_iupac(gs.windows("s1", "chr1", 0, 6)[0]) == "AYGRAY"
    # s2: rs1 1|1, rs2 missing -> reference
    assert two_hot_to_iupac(w[1]) == "ATGTAC"


def test_edges_are_padded_with_n(store):
    _, gs = store
    w = gs.windows("s1", "chr1", -3, 6)[0]
    assert (w[:, :3] == 0).all() and w[:, 3:].sum(axis=0).tolist() == [2, 2, 2]
    end = gs.windows("s1", "chr1", len(CHR1) - 2, 5)[0]
    assert (end[:, 2:] == 0).all()
    assert two_hot_to_iupac(end[:, :2]) == "AS"  # rs4 (C>G, 1|0) at the last base


def test_rc_is_both_axes_flipped(store):
    _, gs = store
    fwd = gs.windows(["s1", "s2"], ["chr1", "chr2"], [0, 0], 10)
    np.testing.assert_array_equal(
        gs.windows(["s1", "s2"], ["chr1", "chr2"], [0, 0], 10, rc=True), reverse_complement(fwd)
    )


def test_reference_only_ignores_genotypes(store, tmp_path):
    _, gs = store
    ref = GenomeStore.open(gs.path, reference_only=True).windows("s1", "chr1", 0, 8)[0]
    assert two_hot_to_iupac(ref) == CHR1[:8]
    assert two_hot_to_iupac(gs.windows("s1", "chr1", 0, 8, reference_only=True)[0]) == CHR1[:8]


def test_haplotypes_and_contig_spelling(store):
    _, gs = store
    h = gs.haplotypes("s1", "2", 0, 3)  # "2" is harmonised to "chr2"
    assert h.shape == (1, 2, 4, 3)
    assert h[0, 0, :, 0].tolist() == [0, 0, 1, 0] and h[0, 1, :, 0].tolist() == [0, 1, 0, 0]


def test_dosages_and_variant_table(store):
    _, gs = store
    table = gs.variants("chr1")
    assert table["pos0"].tolist() == [1, 3, 3, 4, 39]
    assert table["id"].tolist() == ["rs1", "rs2", "rs2", "rs3", "rs4"]
    assert table["ilen"].tolist() == [0, 0, 0, 1, 0]
    assert gs.dosages(0).tolist() == [1, 2]


def test_unknown_sample_and_contig(store):
    _, gs = store
    with pytest.raises(InputError, match="not in store"):
        gs.windows("nobody", "chr1", 0, 5)
    with pytest.raises(InputError, match="chrX"):
        gs.windows("s1", "chrX", 0, 5)


def test_unphased_haplotypes_refused(tmp_path):
    fasta, vcf = write_cohort(tmp_path, ["chr1\t2\t.\tC\tT\t.\t.\t.\tGT\t0/1\t0|0"])
    build_store(vcf=vcf, fasta=fasta, out=tmp_path / "u.vgs")
    gs = GenomeStore.open(tmp_path / "u.vgs")
    assert not gs.is_phased()
    with pytest.raises(InputError, match="unphased"):
        gs.haplotypes("s1", "chr1", 0, 4)
    assert gs.haplotypes("s2", "chr1", 0, 4).shape == (1, 2, 4, 4)


def test_windows_match_naive_python(store):
    _, gs = store
    rng = np.random.default_rng(1)
    starts = rng.integers(-5, 40, size=50)  # windows overlapping chr1 (40 bp), edges N
    samples = rng.integers(0, 2, size=50)
    fast = gs.windows(samples, "chr1", starts, 7, indels=False)
    table = gs.variants("chr1")
    table = table[table["ilen"] == 0]
    for i, (s, start) in enumerate(zip(samples, starts, strict=True)):
        haps = [
            list((("N" * max(-start, 0)) + CHR1[max(start, 0) :] + "N" * 10)[:7]) for _ in range(2)
        ]
        for _v, row in table.iterrows():
            j = row["pos0"] - start
            if 0 <= j < 7:
                bits = gs.carriers(row["index"])
                for h in range(2):
                    if bits[h, s] and haps[h][j] == row["ref"]:
                        haps[h][j] = row["alt"]
        naive = np.zeros((4, 7), dtype=np.uint8)
        for h in range(2):
            for j, c in enumerate(haps[h]):
                if c in "ACGT":
                    naive["ACGT".index(c), j] += 1
        np.testing.assert_array_equal(fast[i], naive)


def test_a_window_outside_its_contig_names_the_length_and_the_build(store):
    _, gs = store
    with pytest.raises(InputError, match=r"chr1:57 is past the end of chr1 \(40 bp"):
        gs.windows(0, "chr1", 50, 7)
    with pytest.raises(InputError, match="another genome build"):
        gs.haplotypes(0, "chr1", -10, 7, allow_unphased=True)
    # a window over the edge is still N-padded, not an error
    assert gs.windows(0, "chr1", 37, 7)[0, :, 3:].sum() == 0
