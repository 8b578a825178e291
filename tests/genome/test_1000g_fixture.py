"""The genome store on real 1000 Genomes genotypes, against bcftools (conformance).

Fixture: ``1000g_chr22/test_1000G_hg38.vcf.gz`` (2,548 samples x 3,042 records, all
phased biallelic). No matching reference is available offline, so the test writes a
seeded random ``chr22`` whose bases under every record's REF allele are that allele.
Oracles, all from bcftools: record counts (``bcftools view -v snps`` / ``-v indels``),
the full phased genotype matrix (``bcftools query``), and personal sequences from
``bcftools consensus`` (``-H 1``, ``-H 2``, ``-I``): on the SNV-only VCF for a store built
with ``snvs_only``, and on the whole VCF, indels included, for the default store.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from varinterp.genome.build import build_store
from varinterp.genome.encoding import iupac_to_two_hot, sequence_from_codes
from varinterp.genome.store import GenomeStore

pytestmark = pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools")

CHROM = "chr22"
LENGTH = 11_100_000  # past the last record, chr22:10,966,478
DENSE_BLOCKS = ((10_660_000, 10_786_000), (10_912_000, 10_967_000))  # 0-based
WINDOW = 1000
# First, middle and last sample, HG03097 (250 het SNVs of 2,861) and NA18486 (Yoruba).
SAMPLES = ["HG00096", "HG03267", "NA21144", "HG03097", "NA18486"]
WHOLE_CONTIG_SAMPLES = ("HG00096", "HG03097", "NA21144")  # both haplotypes, every base


def _bcftools(*args: str) -> str:
    result = subprocess.run(["bcftools", *args], check=True, capture_output=True, text=True)
    return result.stdout


def _n_records(vcf: Path, *flags: str) -> int:
    return _bcftools("view", "-H", "-G", *flags, str(vcf)).count("\n")


def _write_reference(vcf: Path, out: Path) -> None:
    rng = np.random.default_rng(2026)
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, size=LENGTH)]
    seen: dict[int, int] = {}
    for line in _bcftools("query", "-f", "%POS\t%REF\n", str(vcf)).splitlines():
        pos, ref = line.split("\t")
        for k, base in enumerate(ref.upper().encode()):
            p = int(pos) - 1 + k
            assert seen.setdefault(p, base) == base, f"REF alleles disagree at {p + 1}"
            seq[p] = base
    width = 60
    lines = [seq[i : i + width].tobytes() for i in range(0, LENGTH, width)]
    out.write_bytes(b">" + CHROM.encode() + b"\n" + b"\n".join(lines) + b"\n")


def _window_starts(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    starts = [rng.integers(lo, hi - WINDOW, size=n // 2) for lo, hi in DENSE_BLOCKS]
    return np.sort(np.concatenate(starts)).astype(np.int64)


def _consensus(fasta: Path, vcf: Path, sample: str, *flags: str) -> str:
    text = _bcftools("consensus", "-f", str(fasta), "-s", sample, *flags, str(vcf))
    lines = text.splitlines()
    assert lines[0].split()[0] == ">" + CHROM
    return "".join(lines[1:]).upper()


@pytest.fixture(scope="module")
def world(shared_fixtures: Path, tmp_path_factory):
    source = shared_fixtures / "1000g_chr22" / "test_1000G_hg38.vcf.gz"
    if not source.is_file():
        pytest.skip(f"1000 Genomes fixture not found at {source}")
    tmp = tmp_path_factory.mktemp("g1000")
    vcf = tmp / "all.vcf.gz"
    shutil.copyfile(source, vcf)
    _bcftools("index", "-t", str(vcf))
    snv_vcf = tmp / "snv.vcf.gz"
    _bcftools("view", "-v", "snps", "-Oz", "-o", str(snv_vcf), str(vcf))
    _bcftools("index", "-t", str(snv_vcf))
    fasta = tmp / "chr22.fa"
    _write_reference(vcf, fasta)
    summary = build_store(vcf=vcf, fasta=fasta, out=tmp / "all.vgs", snvs_only=True)
    indel_summary = build_store(vcf=vcf, fasta=fasta, out=tmp / "indels.vgs")
    return {
        "indel_summary": indel_summary,
        "indel_store": GenomeStore.open(tmp / "indels.vgs"),
        "tmp": tmp,
        "vcf": vcf,
        "snv_vcf": snv_vcf,
        "fasta": fasta,
        "summary": summary,
        "store": GenomeStore.open(tmp / "all.vgs"),
    }


def test_counts_match_bcftools(world):
    vcf, counts, store = world["vcf"], world["summary"].counts, world["store"]
    n_snps = _n_records(vcf, "-v", "snps")
    n_indels = _n_records(vcf, "-v", "indels")
    assert (n_snps, n_indels) == (2861, 181)  # the fixture README's numbers
    assert counts["records"] == _n_records(vcf) == 3042
    assert counts["snvs"] == n_snps
    assert counts["skipped_indel"] == n_indels
    assert counts["multiallelic_records"] == _n_records(vcf, "-m", "3")
    assert counts["skipped_ref_mismatch"] == 0
    assert counts["missing_calls"] == 0
    assert store.n_variants == n_snps
    assert store.samples == _bcftools("query", "-l", str(vcf)).split()
    assert len(store.samples) == 2548
    full = world["indel_summary"].counts
    assert (full["snvs"], full["indels"], full["skipped_indel"]) == (n_snps, n_indels, 0)
    assert world["indel_store"].n_variants == 3042


def test_indel_store_matches_bcftools_consensus(world):
    """Every base of both haplotypes of 3 samples, and windows anchored at chain blocks."""
    store, fasta, vcf, tmp = world["indel_store"], world["fasta"], world["vcf"], world["tmp"]
    for sample in WHOLE_CONTIG_SAMPLES:
        for h in (1, 2):
            chain = tmp / f"{sample}_{h}.chain"
            expected = _consensus(fasta, vcf, sample, "-H", str(h), "-c", str(chain))
            codes = store.haplotype_codes(sample, CHROM, 0, len(expected))
            got = sequence_from_codes(codes[0, h - 1])
            if got != expected:
                diff = np.flatnonzero(
                    np.frombuffer(got.encode(), np.uint8)
                    != np.frombuffer(expected.encode(), np.uint8)
                )
                pytest.fail(f"{sample} haplotype {h} differs at {diff.size} bases, first {diff[0]}")
            # windows that start inside a chain block start at the chain's coordinate
            lines = [ln.split() for ln in chain.read_text().splitlines() if ln.strip()][1:]
            r = a = 0
            starts, expected_starts = [], []
            for fields in lines:
                size = int(fields[0])
                if size > 2:
                    starts.append(r + size // 2)
                    expected_starts.append(a + size // 2)
                if len(fields) == 3:
                    r, a = r + size + int(fields[1]), a + size + int(fields[2])
            codes = store.haplotype_codes(sample, CHROM, np.array(starts[:200]), WINDOW)
            for k, q in enumerate(expected_starts[:200]):
                assert sequence_from_codes(codes[k, h - 1]) == expected[q : q + WINDOW]


def test_variants_and_genotypes_match_bcftools_query(world):
    """Every SNV's position and alleles, and all 2,548 x 2 haplotypes at it."""
    store, snv_vcf = world["store"], world["snv_vcf"]
    sites = [
        line.split("\t")
        for line in _bcftools("query", "-f", "%POS\t%REF\t%ALT\n", str(snv_vcf)).splitlines()
    ]
    table = store.variants()
    assert table["pos0"].tolist() == [int(p) - 1 for p, _, _ in sites]
    assert table["ref"].tolist() == [r for _, r, _ in sites]
    assert table["alt"].tolist() == [a for _, _, a in sites]

    # Every call in this fixture is one of 0|0, 0|1, 1|0, 1|1: fixed-width text.
    n_samples = len(store.samples)
    raw = _bcftools("query", "-f", "[%GT\t]\n", str(snv_vcf)).encode()
    calls = np.frombuffer(raw, np.uint8).reshape(len(sites), 4 * n_samples + 1)
    calls = calls[:, :-1].reshape(len(sites), n_samples, 4)
    assert (calls[:, :, 1] == ord("|")).all()
    carries_alt = calls[:, :, [0, 2]] == ord("1")  # (variants, samples, haplotype)

    codes = {b: i for i, b in enumerate("ACGT")}
    ref_code = np.array([codes[r] for _, r, _ in sites], dtype=np.uint8)
    alt_code = np.array([codes[a] for _, _, a in sites], dtype=np.uint8)
    everyone = np.arange(n_samples)
    for lo in range(0, len(sites), 400):
        hi = min(lo + 400, len(sites))
        pos0 = table["pos0"].to_numpy()[lo:hi]
        got = store.haplotype_codes(
            np.tile(everyone, hi - lo), CHROM, np.repeat(pos0, n_samples), 1
        ).reshape(hi - lo, n_samples, 2)
        expected = np.where(
            carries_alt[lo:hi], alt_code[lo:hi, None, None], ref_code[lo:hi, None, None]
        )
        np.testing.assert_array_equal(got, expected)
        dosage = store.dosages(lo)
        np.testing.assert_array_equal(dosage, carries_alt[lo].sum(axis=1))


def test_personal_sequences_match_bcftools_consensus(world):
    store, fasta, snv_vcf = world["store"], world["fasta"], world["snv_vcf"]
    starts = _window_starts(40)
    n_het_columns = n_alt_columns = 0
    for sample in SAMPLES:
        haplotypes = store.haplotype_codes(sample, CHROM, 0, LENGTH)[0]
        for h in (1, 2) if sample in WHOLE_CONTIG_SAMPLES else ():
            expected = _consensus(fasta, snv_vcf, sample, "-H", str(h))
            assert len(expected) == LENGTH
            got = sequence_from_codes(haplotypes[h - 1])
            if got != expected:
                diff = np.flatnonzero(
                    np.frombuffer(got.encode(), np.uint8)
                    != np.frombuffer(expected.encode(), np.uint8)
                )
                pytest.fail(f"{sample} haplotype {h} differs at {diff.size} bases, first {diff[0]}")
        iupac = _consensus(fasta, snv_vcf, sample, "-I")
        windows = store.windows(sample, CHROM, starts, WINDOW)
        reverse = store.windows(sample, CHROM, starts, WINDOW, rc=True)
        for k, start in enumerate(starts):
            expected = iupac_to_two_hot(iupac[start : start + WINDOW])
            np.testing.assert_array_equal(windows[k], expected, err_msg=f"{sample} {start}")
            np.testing.assert_array_equal(reverse[k], expected[::-1, ::-1])
        n_het_columns += int((windows == 1).any(axis=1).sum())
        n_alt_columns += int((windows.max(axis=1) == 2).sum())
    # The comparison covered heterozygous and homozygous sites, not just the reference.
    assert n_het_columns > 100
    assert n_alt_columns > 0


def test_regions_and_sample_subset_agree_with_full_store(world):
    """A store built for the dense blocks and 6 samples (reordered) gives the same windows."""
    tmp, vcf, full = world["tmp"], world["vcf"], world["store"]
    bed = tmp / "blocks.bed"
    bed.write_text("".join(f"{CHROM}\t{lo}\t{hi}\n" for lo, hi in DENSE_BLOCKS))
    subset = [*SAMPLES[::-1], "HG00097"]
    summary = build_store(
        vcf=vcf, fasta=world["fasta"], out=tmp / "blocks.vgs", regions=bed, samples=subset,
        snvs_only=True,
    )  # fmt: skip
    region_text = ",".join(f"{CHROM}:{lo + 1}-{hi}" for lo, hi in DENSE_BLOCKS)
    in_blocks = _n_records(vcf, "-r", region_text)
    snps_in_blocks = _n_records(vcf, "-r", region_text, "-v", "snps")
    assert in_blocks == 2952  # the fixture README's number
    assert summary.counts["records"] == in_blocks
    assert summary.counts["snvs"] == summary.n_variants == snps_in_blocks
    assert summary.counts["skipped_indel"] == _n_records(vcf, "-r", region_text, "-v", "indels")

    store = GenomeStore.open(tmp / "blocks.vgs")
    assert store.samples == subset
    starts = _window_starts(60)
    for sample in subset:
        np.testing.assert_array_equal(
            store.windows(sample, CHROM, starts, WINDOW),
            full.windows(sample, CHROM, starts, WINDOW),
        )


def test_sample_subset_keeps_requested_order(world):
    subset = ["NA21144", "HG00096", "HG03097"]
    out = world["tmp"] / "order.vgs"
    build_store(
        vcf=world["vcf"], fasta=world["fasta"], out=out, samples=subset, overwrite=True, threads=2
    )
    assert GenomeStore.open(out).samples == subset


def test_haplotype_one_hot_and_reverse_complement(world):
    """`haplotypes` (one-hot per haplotype, plain and reverse complement) vs the base codes."""
    store = world["store"]
    starts = _window_starts(40)
    samples = np.repeat(store.sample_indices(SAMPLES), starts.size)
    starts = np.tile(starts, len(SAMPLES))
    codes = store.haplotype_codes(samples, CHROM, starts, WINDOW)
    expected = (codes[:, :, None, :] == np.arange(4)[None, None, :, None]).astype(np.uint8)
    np.testing.assert_array_equal(store.haplotypes(samples, CHROM, starts, WINDOW), expected)
    np.testing.assert_array_equal(
        store.haplotypes(samples, CHROM, starts, WINDOW, rc=True), expected[..., ::-1, ::-1]
    )
    assert (codes[:, 0] != codes[:, 1]).any()  # some windows hold heterozygous sites
