"""Personal haplotypes with indels against ``bcftools consensus -H 1/-H 2 -c`` (the oracle).

Random references and sorted VCFs whose records pile up on a few positions: SNVs, MNPs,
insertions (also at the last base), deletions (also running to the contig end, and
spanning window edges), complex replacements and multi-allelic mixes of them, with
phased, hom-alt and half-missing calls. For each haplotype:

- the whole contig equals bcftools' consensus;
- windows anchored at the start, the end and the centre equal the consensus cut at the
  haplotype coordinate that bcftools' chain file gives for the anchor;
- every base inside a chain block reports the chain's reference coordinate;
- the two-hot window is the sum of the two fitted haplotypes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from varinterp.genome.build import build_store
from varinterp.genome.encoding import codes_from_sequence, sequence_from_codes, two_hot
from varinterp.genome.store import GenomeStore

pytestmark = pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools")

BASES = "ACGT"


def _other(draw, base: str) -> str:
    return draw(st.sampled_from([b for b in BASES if b != base]))


def _random_bases(draw, n: int) -> str:
    return "".join(draw(st.lists(st.sampled_from(BASES), min_size=n, max_size=n)))


@st.composite
def alleles(draw, seq: str, pos: int):
    """REF and 1-2 ALTs at `pos` of `seq` (upper case)."""
    room = len(seq) - pos
    rlen = draw(st.integers(1, min(4, room)))
    ref = seq[pos : pos + rlen]
    kinds = ["snv", "ins", "del", "mnp", "complex"]
    alts: list[str] = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(kinds))
        if kind == "snv":
            alt = _other(draw, ref[0]) + ref[1:]
        elif kind == "ins":
            alt = ref + _random_bases(draw, draw(st.integers(1, 4)))
        elif kind == "del":
            alt = ref[0] if rlen > 1 else ref + _random_bases(draw, 2)
        elif kind == "mnp":
            alt = "".join(_other(draw, b) for b in ref)
        else:
            alt = _other(draw, ref[0]) + _random_bases(draw, draw(st.integers(0, 3)))
        if alt != ref and alt not in alts:
            alts.append(alt)
    return ref, alts


@st.composite
def worlds(draw):
    length = draw(st.integers(12, 60))
    seq = _random_bases(draw, length)
    n_samples = draw(st.integers(1, 2))
    pool = sorted({0, 1, length // 3, length // 2, length // 2 + 1, length - 2, length - 1})
    extra = draw(st.lists(st.integers(0, length - 1), max_size=8))
    positions = sorted(draw(st.lists(st.sampled_from(pool), max_size=6)) + extra)
    records = []
    for pos in positions:
        ref, alts = draw(alleles(seq, pos))
        if not alts:
            continue
        codes = ["0", *[str(k + 1) for k in range(len(alts))], "."]
        gts = [
            f"{draw(st.sampled_from(codes))}|{draw(st.sampled_from(codes))}"
            for _ in range(n_samples)
        ]
        records.append((pos, ref, alts, gts))
    return seq, n_samples, records


def _write(tmp: Path, seq: str, n_samples: int, records) -> tuple[Path, Path]:
    fasta = tmp / "ref.fa"
    fasta.write_text(f">chr1\n{seq}\n")
    samples = [f"S{i}" for i in range(n_samples)]
    lines = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID=chr1,length={len(seq)}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "\t"
        + "\t".join(samples),
    ]
    for pos, ref, alts, gts in records:
        lines.append("\t".join(["chr1", str(pos + 1), ".", ref, ",".join(alts), ".", ".", "."])
                     + "\tGT\t" + "\t".join(gts))  # fmt: skip
    plain = tmp / "in.vcf"
    plain.write_text("\n".join(lines) + "\n")
    vcf = tmp / "in.vcf.gz"
    subprocess.run(["bcftools", "view", "-Oz", "-o", str(vcf), str(plain)], check=True)
    subprocess.run(["bcftools", "index", "-t", str(vcf)], check=True)
    return fasta, vcf


def _consensus(tmp: Path, fasta: Path, vcf: Path, sample: str, hap: int):
    """bcftools' haplotype and its chain as ``(ref_start, alt_start, size)`` blocks."""
    chain = tmp / f"{sample}_{hap}.chain"
    out = subprocess.run(
        ["bcftools", "consensus", "-f", str(fasta), "-s", sample, "-H", str(hap),
         "-c", str(chain), str(vcf)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    seq = "".join(line.strip() for line in out.splitlines() if not line.startswith(">"))
    blocks = []
    lines = [line.split() for line in chain.read_text().splitlines() if line.strip()]
    r, a = int(lines[0][5]), int(lines[0][10])
    for fields in lines[1:]:
        size = int(fields[0])
        blocks.append((r, a, size))
        if len(fields) == 3:
            r += size + int(fields[1])
            a += size + int(fields[2])
    return seq.upper(), blocks


def _alt_coordinate(blocks, x: int) -> int | None:
    """Haplotype coordinate of reference position `x` when it lies in an aligned block."""
    for r, a, size in blocks:
        if r <= x < r + size:
            return a + x - r
    return None


def _cut(seq: str, lo: int, n: int) -> str:
    padded = "N" * max(-lo, 0) + seq[max(lo, 0) :] + "N" * n
    return padded[:n]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds(), data=st.data())
def test_haplotypes_match_bcftools_consensus_and_chain(tmp_path_factory, world, data):
    seq, n_samples, records = world
    assume(records)
    tmp = tmp_path_factory.mktemp("indel_oracle")
    fasta, vcf = _write(tmp, seq, n_samples, records)
    build_store(vcf=vcf, fasta=fasta, out=tmp / "s.vgs")
    store = GenomeStore.open(tmp / "s.vgs")
    length = data.draw(st.integers(3, 12), label="window")
    for s, sample in enumerate(store.samples):
        whole = []
        for h in (1, 2):
            expected, blocks = _consensus(tmp, fasta, vcf, sample, h)
            whole.append(expected)
            codes, coords = store.haplotype_codes(
                s, "chr1", 0, len(expected) + 3, return_coordinates=True
            )
            assert sequence_from_codes(codes[0, h - 1]) == expected + "NNN"
            for r, a, size in blocks:
                got = coords[0, h - 1, a : a + size]
                np.testing.assert_array_equal(got, np.arange(r, r + size))
            for x in range(-2, len(seq) + 2):
                q = _alt_coordinate(blocks, x) if 0 <= x < len(seq) else None
                if q is None:
                    continue
                for anchor, start, lo in (
                    ("start", x, q),
                    ("end", x - length, q - length),
                    ("centre", x - length // 2, q - length // 2),
                ):
                    got = store.haplotype_codes(s, "chr1", start, length, anchor=anchor)[0, h - 1]
                    assert sequence_from_codes(got) == _cut(expected, lo, length), (anchor, x)
        starts = np.arange(-2, len(seq), 3)
        haps = store.haplotype_codes(s, "chr1", starts, length, anchor="centre")
        np.testing.assert_array_equal(
            store.windows(s, "chr1", starts, length, anchor="centre"), two_hot(haps)
        )
        assert len(whole) == 2


def test_store_keeps_indels_and_snv_only_mode(tmp_path):
    seq = "ACGTACGTACGTACGTACGT"
    records = [(2, "GT", ["G"], ["1|0"]), (6, "G", ["GAA"], ["0|1"]), (10, "G", ["T"], ["1|1"])]
    fasta, vcf = _write(tmp_path, seq, 1, records)
    full = build_store(vcf=vcf, fasta=fasta, out=tmp_path / "all.vgs")
    snvs = build_store(vcf=vcf, fasta=fasta, out=tmp_path / "snv.vgs", snvs_only=True)
    assert (full.n_variants, snvs.n_variants) == (3, 1)
    assert full.counts["indels"] == 2 and snvs.counts["skipped_indel"] == 2
    store = GenomeStore.open(tmp_path / "all.vgs")
    assert store.variants()["ilen"].tolist() == [-1, 2, 0]
    hap0, hap1 = (sequence_from_codes(c) for c in store.haplotype_codes(0, "chr1", 0, 12)[0])
    assert hap0 == "ACGACGTACTTA"  # T at 3 deleted, G>T at 10; filled from the right
    assert hap1 == "ACGTACGAATAC"  # AA inserted after the G at 6
    no_indels = store.haplotype_codes(0, "chr1", 0, 12, indels=False)[0]
    assert sequence_from_codes(no_indels[0]) == "ACGTACGTACTT"
    assert no_indels[1].tolist() == codes_from_sequence("ACGTACGTACTT").tolist()
