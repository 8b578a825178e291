"""A genome store read like a FASTA (`StoreSequence`): its reference equals the FASTA,
and a person's sequence equals ``bcftools consensus -H R`` (homozygous SNVs and MNPs
applied, heterozygous sites left as the reference) on random cohorts."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from varinterp.genome.build import build_store
from varinterp.genome.encoding import codes_from_sequence
from varinterp.genome.sequence import StoreSequence
from varinterp.io.fasta import Reference

pytestmark = pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools")

_GT = ("0|0", "0|1", "1|0", "1|1", "0/1", "1/1", "0/0")


def _world(tmp, seed: int):
    rng = np.random.default_rng(seed)
    contigs = {"chr1": 300, "chr2": 180}
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in contigs.items()}
    fasta = tmp / "ref.fa"
    fasta.write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    samples = ["a", "b", "c"]
    lines = [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c},length={n}>" for c, n in contigs.items()),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    for c, s in seqs.items():
        pos = 0
        while True:
            pos += int(rng.integers(2, 12))
            size = int(rng.choice([1, 1, 1, 2, 3]))  # SNVs and MNPs, never overlapping
            if pos + size >= len(s):
                break
            ref = s[pos : pos + size]
            alt = "".join(rng.choice([b for b in "ACGT" if b != r]) for r in ref)
            gts = "\t".join(rng.choice(_GT) for _ in samples)
            lines.append(f"{c}\t{pos + 1}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t{gts}")
            pos += size
    vcf = tmp / "cohort.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    subprocess.run(["bgzip", "-f", str(vcf)], check=True)
    subprocess.run(["tabix", "-f", f"{vcf}.gz"], check=True)
    store = tmp / "cohort.vgs"
    build_store(vcf=f"{vcf}.gz", fasta=fasta, out=store)
    return fasta, f"{vcf}.gz", store, samples, contigs


def _consensus_h_r(fasta, vcf, sample: str) -> dict[str, str]:
    out = subprocess.run(
        ["bcftools", "consensus", "-f", str(fasta), "-s", sample, "-H", "R", str(vcf)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    seqs: dict[str, str] = {}
    name = ""
    for line in out.splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            seqs[name] = ""
        else:
            seqs[name] += line.strip().upper()
    return seqs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_person_is_bcftools_consensus_h_r_and_no_sample_the_reference(tmp_path, seed):
    fasta, vcf, store, samples, contigs = _world(tmp_path, seed)
    reference = Reference(fasta)
    plain = StoreSequence(store)
    assert plain.names == reference.names and plain.lengths == reference.lengths
    for c in contigs:
        np.testing.assert_array_equal(plain.codes(c), reference.codes(c))
        np.testing.assert_array_equal(plain.codes(c, -5, 40), reference.codes(c, -5, 40))
    for sample in samples:
        expected = _consensus_h_r(fasta, vcf, sample)
        person = StoreSequence(store, sample=sample)
        for c, n in contigs.items():
            whole = codes_from_sequence(expected[c])
            np.testing.assert_array_equal(person.codes(c), whole)
            # a window over the contig end is N-padded, the rest the same bases
            window = person.codes(c, n - 10, n + 5)
            np.testing.assert_array_equal(window[:10], whole[-10:])
            assert (window[10:] == 4).all()
