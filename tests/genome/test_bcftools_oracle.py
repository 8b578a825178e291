"""Personal sequences from the store against `bcftools consensus` (the independent oracle).

Random small references and VCFs: hets, hom-alt, missing and half-missing calls,
multi-allelic records, adjacent SNPs, variants at contig edges, lower-case reference,
unphased genotypes. Each haplotype is compared with ``-H 1`` / ``-H 2`` and the
two-hot encoding with the IUPAC output of ``-I``.
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
from varinterp.genome.encoding import iupac_to_two_hot, sequence_from_codes
from varinterp.genome.store import GenomeStore

pytestmark = pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools")

GENOTYPES = ["0|0", "0|1", "1|0", "1|1", "./.", ".|1", "1|.", "0/1", "1/1", "1", "0"]
MULTI_GENOTYPES = ["1|2", "2|1", "2|2", "0|2", "1/2", "./."]


@st.composite
def worlds(draw):
    n_contigs = draw(st.integers(1, 2))
    contigs = {}
    for k in range(n_contigs):
        length = draw(st.integers(8, 80))
        seq = "".join(draw(st.lists(st.sampled_from("ACGT"), min_size=length, max_size=length)))
        lo = draw(st.integers(0, length))
        hi = draw(st.integers(lo, length))
        seq = seq[:lo] + seq[lo:hi].lower() + seq[hi:]  # a soft-masked stretch
        contigs[f"chr{k + 1}"] = seq
    n_samples = draw(st.integers(1, 3))
    records = []
    for chrom, seq in contigs.items():
        # Edges and adjacent pairs are likely: draw positions from a small pool.
        candidates = sorted({0, len(seq) - 1, 1, len(seq) - 2, len(seq) // 2, len(seq) // 2 + 1})
        extra = draw(st.lists(st.integers(0, len(seq) - 1), max_size=6))
        positions = sorted(
            set(draw(st.lists(st.sampled_from(candidates), max_size=4))) | set(extra)
        )
        for pos in positions:
            ref = seq[pos].upper()
            others = [b for b in "ACGT" if b != ref]
            multi = draw(st.booleans()) and draw(st.booleans())
            if multi:
                alts = draw(st.permutations(others))[:2]
                pool = GENOTYPES + MULTI_GENOTYPES
            else:
                alts = [draw(st.sampled_from(others))]
                pool = GENOTYPES
            gts = [draw(st.sampled_from(pool)) for _ in range(n_samples)]
            records.append((chrom, pos, ref, alts, gts))
    return contigs, n_samples, records


def _write_inputs(tmp: Path, contigs: dict[str, str], n_samples: int, records) -> tuple[Path, Path]:
    fasta = tmp / "ref.fa"
    fasta.write_text("".join(f">{c}\n{s}\n" for c, s in contigs.items()))
    samples = [f"S{i}" for i in range(n_samples)]
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={c},length={len(s)}>" for c, s in contigs.items()]
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append(
        "\t".join(
            ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]
        )
    )
    for chrom, pos, ref, alts, gts in records:
        lines.append(
            "\t".join([chrom, str(pos + 1), ".", ref, ",".join(alts), ".", ".", ".", "GT", *gts])
        )
    plain = tmp / "in.vcf"
    plain.write_text("\n".join(lines) + "\n")
    vcf = tmp / "in.vcf.gz"
    subprocess.run(["bcftools", "view", "-Oz", "-o", str(vcf), str(plain)], check=True)
    subprocess.run(["bcftools", "index", "-t", str(vcf)], check=True)
    return fasta, vcf


def _consensus(fasta: Path, vcf: Path, sample: str, *flags: str) -> dict[str, str]:
    result = subprocess.run(
        ["bcftools", "consensus", "-f", str(fasta), "-s", sample, *flags, str(vcf)],
        check=True,
        capture_output=True,
        text=True,
    )
    out, name = {}, None
    for line in result.stdout.splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            out[name] = ""
        else:
            out[name] += line.strip()
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_store_matches_bcftools_consensus(tmp_path_factory, world):
    contigs, n_samples, records = world
    assume(records)
    tmp = tmp_path_factory.mktemp("oracle")
    fasta, vcf = _write_inputs(tmp, contigs, n_samples, records)
    build_store(vcf=vcf, fasta=fasta, out=tmp / "s.vgs")
    store = GenomeStore.open(tmp / "s.vgs")
    for s, sample in enumerate(store.samples):
        expected = {
            1: _consensus(fasta, vcf, sample, "-H", "1"),
            2: _consensus(fasta, vcf, sample, "-H", "2"),
            "I": _consensus(fasta, vcf, sample, "-I"),
        }
        for chrom, seq in contigs.items():
            if store.contigs and chrom not in store.contig_lengths:
                assert not any(r[0] == chrom for r in records)
                continue
            codes = store.haplotype_codes(s, chrom, 0, len(seq))[0]
            assert sequence_from_codes(codes[0]) == expected[1][chrom].upper(), chrom
            # A haploid call fills both haplotypes in varinterp; bcftools -H 2 leaves REF.
            haploid = [p for c, p, _, _, g in records if c == chrom and len(g[s]) == 1]
            hap2 = np.frombuffer(expected[2][chrom].upper().encode(), np.uint8).copy()
            hap2[haploid] = np.frombuffer(sequence_from_codes(codes[1]).encode(), np.uint8)[haploid]
            assert sequence_from_codes(codes[1]) == hap2.tobytes().decode(), chrom
            # bcftools -I writes the called allele alone for a half-missing call (".|1");
            # varinterp reads each missing allele as REF (a het). Compare elsewhere.
            keep = np.ones(len(seq), dtype=bool)
            for r_chrom, pos, _, _, gts in records:
                if r_chrom == chrom and "." in gts[s] and gts[s] not in ("./.", "."):
                    keep[pos] = False
            two_hot = store.windows(s, chrom, 0, len(seq))[0]
            expected_two_hot = iupac_to_two_hot(expected["I"][chrom])
            np.testing.assert_array_equal(two_hot[:, keep], expected_two_hot[:, keep])
