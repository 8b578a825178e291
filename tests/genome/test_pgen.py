"""PGEN input: the same records as PGEN (written with pgenlib) and as VCF give the same store."""

from __future__ import annotations

import numpy as np
import pytest

from tests.genome._cohort import CHR1, write_cohort
from varinterp.genome.build import build_store
from varinterp.genome.store import GenomeStore

pgenlib = pytest.importorskip("pgenlib")

# (pos1, ref, alts, genotypes of s1, s2, s3): SNVs, an MNP, indels, a multi-allelic mix
RECORDS = [
    (2, "C", ["T"], ["0|1", "1|1", "0|0"]),
    (4, "T", ["G", "TAA"], ["1|2", "0|0", "2|2"]),
    (6, "CG", ["C"], ["0|1", "1|0", "1|1"]),
    (9, "AC", ["GT"], ["1|1", "0|1", "0|0"]),
    (15, "A", ["G"], ["1|0", "0|0", "0|1"]),
]


def _write_pgen(folder, samples):
    pgen = folder / "cohort.pgen"
    writer = pgenlib.PgenWriter(
        bytes(pgen), len(samples), variant_ct=len(RECORDS), nonref_flags=False,
        allele_ct_limit=3, hardcall_phase_present=True,
    )  # fmt: skip
    for _, _, alts, gts in RECORDS:
        codes = np.array([int(a) for gt in gts for a in gt.split("|")], dtype=np.int32)
        writer.append_alleles(codes, all_phased=True, allele_ct=len(alts) + 1)
    writer.close()
    lines = ["#CHROM\tPOS\tID\tREF\tALT"]
    lines += [f"chr1\t{p}\tv{p}\t{r}\t{','.join(a)}" for p, r, a, _ in RECORDS]
    (folder / "cohort.pvar").write_text("\n".join(lines) + "\n")
    (folder / "cohort.psam").write_text("#IID\n" + "\n".join(samples) + "\n")
    return pgen


def test_pgen_and_vcf_give_the_same_store(tmp_path):
    samples = ("s1", "s2", "s3")
    for p, r, _, _ in RECORDS:
        assert CHR1[p - 1 : p - 1 + len(r)] == r
    lines = [
        f"chr1\t{p}\tv{p}\t{r}\t{','.join(a)}\t.\t.\t.\tGT\t" + "\t".join(g)
        for p, r, a, g in RECORDS
    ]
    fasta, vcf = write_cohort(tmp_path, lines, samples=samples)
    pgen = _write_pgen(tmp_path, samples)
    build_store(vcf=vcf, fasta=fasta, out=tmp_path / "v.vgs")
    from_pgen = build_store(vcf=pgen, fasta=fasta, out=tmp_path / "p.vgs", samples=["s3", "s1"])
    assert from_pgen.counts["indels"] == 2 and from_pgen.counts["mnps"] == 1
    a, b = GenomeStore.open(tmp_path / "v.vgs"), GenomeStore.open(tmp_path / "p.vgs")
    assert b.samples == ["s3", "s1"]
    cols = ["chrom", "pos0", "ref", "alt", "id", "ilen"]
    assert a.variants()[cols].equals(b.variants()[cols])
    starts = np.arange(-2, 30)
    for name in ("s3", "s1"):
        for anchor in ("start", "centre"):
            np.testing.assert_array_equal(
                a.haplotype_codes(name, "chr1", starts, 9, anchor=anchor),
                b.haplotype_codes(name, "chr1", starts, 9, anchor=anchor),
            )
