"""Inputs shared by the genome benchmarks: a synthetic chr22 and a fixed window set.

The 1000 Genomes fixture (``1000g_chr22/test_1000G_hg38.vcf.gz``) has no matching
reference offline, so the benchmarks use a seeded random ``chr22`` whose bases under every
VCF record's REF allele (POS .. POS + len(REF) - 1) are that REF allele. Windows are 1 kb,
placed at seeded random starts inside the fixture's two variant-dense blocks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

__all__ = [
    "CHROM",
    "DENSE_BLOCKS",
    "REF_LENGTH",
    "fixture_vcf",
    "make_windows",
    "read_fasta_contig",
    "write_synthetic_reference",
    "write_windows_bed",
]

CHROM = "chr22"
REF_LENGTH = 11_100_000  # a little past the last record (chr22:10,966,478)
# 0-based half-open; they hold 2,952 of the 3,042 records.
DENSE_BLOCKS = ((10_660_000, 10_786_000), (10_912_000, 10_967_000))
_LINE = 80


def fixture_vcf(fixtures: Path) -> Path:
    return fixtures / "1000g_chr22" / "test_1000G_hg38.vcf.gz"


def _ref_alleles(vcf: Path) -> list[tuple[int, str]]:
    query = subprocess.run(
        ["bcftools", "query", "-f", "%POS\t%REF\n", str(vcf)],
        check=True,
        capture_output=True,
        text=True,
    )
    out = []
    for line in query.stdout.splitlines():
        pos, ref = line.split("\t")
        out.append((int(pos) - 1, ref.upper()))
    return out


def write_synthetic_reference(
    vcf: Path, out: Path, *, length: int = REF_LENGTH, seed: int = 22
) -> Path:
    """Write a one-contig FASTA (``chr22``, `length` bp) agreeing with every REF allele of `vcf`.

    Two records whose REF alleles disagree at a base would make this impossible; that is
    a `ValueError` (the fixture has none).
    """
    rng = np.random.default_rng(seed)
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, size=length)]
    fixed: dict[int, int] = {}
    for pos0, ref in _ref_alleles(vcf):
        for k, base in enumerate(ref.encode()):
            p = pos0 + k
            if p >= length:
                raise ValueError(f"record at {p + 1} lies past the synthetic length {length}")
            if fixed.setdefault(p, base) != base:
                raise ValueError(f"REF alleles disagree at {CHROM}:{p + 1}")
            seq[p] = base
    n_full = length // _LINE
    body = np.full((n_full, _LINE + 1), ord("\n"), dtype=np.uint8)
    body[:, :_LINE] = seq[: n_full * _LINE].reshape(n_full, _LINE)
    tail = seq[n_full * _LINE :].tobytes()
    with out.open("wb") as fh:
        fh.write(f">{CHROM}\n".encode())
        fh.write(body.tobytes())
        if tail:
            fh.write(tail + b"\n")
    return out


def make_windows(n: int, *, length: int = 1000, seed: int = 0) -> np.ndarray:
    """Seeded window starts inside the dense blocks -> ``(n,) int64``, 0-based, sorted.

    Blocks are drawn in proportion to their length; a window lies wholly inside its block.
    """
    rng = np.random.default_rng(seed)
    spans = np.array([hi - lo - length for lo, hi in DENSE_BLOCKS], dtype=np.int64)
    block = rng.choice(len(DENSE_BLOCKS), size=n, p=spans / spans.sum())
    lows = np.array([lo for lo, _ in DENSE_BLOCKS], dtype=np.int64)
    starts = lows[block] + (rng.random(n) * spans[block]).astype(np.int64)
    return np.sort(starts)


def write_windows_bed(starts: np.ndarray, out: Path, *, length: int = 1000) -> Path:
    """The windows as a BED file (chr22, start, start + length), in the given order."""
    out.write_text("".join(f"{CHROM}\t{s}\t{s + length}\n" for s in starts))
    return out


def read_fasta_contig(fasta: Path) -> str:
    """The (single) contig of a FASTA written by `write_synthetic_reference`, upper case."""
    lines = Path(fasta).read_text().splitlines()
    return "".join(line.strip() for line in lines[1:] if not line.startswith(">")).upper()
