"""Tiny hand-made cohorts for store tests (imported by the tests of this folder)."""

from __future__ import annotations

import subprocess
from pathlib import Path

# chr1 (0-based):  0 A, 1 C, 2 G, 3 T, ...
CHR1 = "ACGTACGTAC" * 4
CHR2 = "GGGGCCCCAA"


def write_cohort(
    folder: Path,
    records: list[str],
    *,
    samples=("s1", "s2"),
    fasta_text: str | None = None,
    index: bool = True,
) -> tuple[Path, Path]:
    """Write ref.fa and cohort.vcf.gz (bgzipped, indexed) from VCF body lines."""
    fasta = folder / "ref.fa"
    fasta.write_text(fasta_text or f">chr1\n{CHR1}\n>chr2\n{CHR2}\n")
    header = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID=chr1,length={len(CHR1)}>",
        f"##contig=<ID=chr2,length={len(CHR2)}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(
            ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]
        ),
    ]
    plain = folder / "cohort.vcf"
    plain.write_text("\n".join(header + records) + "\n")
    vcf = folder / "cohort.vcf.gz"
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    if index:
        subprocess.run(["tabix", "-f", "-p", "vcf", str(vcf)], check=True)
    return fasta, vcf
