"""`score_variants` on real 1000 Genomes records (conformance, bcftools as the oracle).

Fixture ``1000g_chr22/test_1000G_hg38.vcf.gz`` (3,042 records, 2,548 samples). No
matching reference exists offline, so a seeded random ``chr22`` carries every record's
REF allele. The hand-set toy model's log2fc is known in closed form (+1 for a
weak-to-strong base change at the centre, -1 for the reverse, 0 otherwise), so every
real SNV has a known answer; bcftools gives the counts and reads the annotated VCF back.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.effects._scoring_toys import save_toy_dir
from varinterp.effects.score import score_variants

pytestmark = pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools")

LENGTH = 11_100_000


def _bcftools(*args: str) -> str:
    return subprocess.run(["bcftools", *args], check=True, capture_output=True, text=True).stdout


def _reference(vcf: Path, out: Path) -> None:
    seq = np.frombuffer(b"ACGT", np.uint8)[np.random.default_rng(7).integers(0, 4, LENGTH)]
    for line in _bcftools("query", "-f", "%POS\t%REF\n", str(vcf)).splitlines():
        pos, ref = line.split("\t")
        for k, base in enumerate(ref.upper().encode()):
            seq[int(pos) - 1 + k] = base
    lines = [seq[i : i + 60].tobytes() for i in range(0, LENGTH, 60)]
    out.write_bytes(b">chr22\n" + b"\n".join(lines) + b"\n")


def test_real_records_counts_closed_form_and_vcf_out(shared_fixtures, tmp_path):
    src = shared_fixtures / "1000g_chr22" / "test_1000G_hg38.vcf.gz"
    if not src.is_file():
        pytest.skip(f"{src} not present")
    vcf = tmp_path / "kg.vcf.gz"
    shutil.copy(src, vcf)
    _bcftools("index", "-t", str(vcf))
    fasta = tmp_path / "chr22.fa"
    _reference(vcf, fasta)
    model = save_toy_dir(tmp_path / "toy")
    out, vout = tmp_path / "e.tsv", tmp_path / "e.vcf.gz"
    res = score_variants(
        vcf=vcf, model=model, fasta=fasta, out=out, vcf_out=vout, pseudocount=0.0,
        chunk_size=1000, device="cpu",
    )  # fmt: skip
    n_snv = _bcftools("view", "-H", "-G", "-v", "snps", str(vcf)).count("\n")
    n_indel = _bcftools("view", "-H", "-G", "-v", "indels", str(vcf)).count("\n")
    n_all = _bcftools("view", "-H", "-G", str(vcf)).count("\n")
    assert res.counts.records == n_all and res.n_scored == n_snv + n_indel  # all <= 25 bp
    assert res.counts.indels == n_indel and res.counts.skipped_ref_mismatch == 0
    table = pd.read_csv(out, sep="\t")
    assert (table["ilen"] != 0).sum() == n_indel
    t = table[table["ilen"] == 0]
    strong = t["alt"].isin(["C", "G"]).astype(int) - t["ref"].isin(["C", "G"]).astype(int)
    np.testing.assert_allclose(t["log2fc"], strong, atol=1e-6)
    # bcftools reads the annotated VCF: every record kept, every SNV annotated
    assert _bcftools("view", "-H", str(vout)).count("\n") == n_all
    annotated = _bcftools("query", "-i", "INFO/VI_log2fc!=\".\"", "-f", "%POS\t%INFO/VI_log2fc\n",
                          str(vout))  # fmt: skip
    rows = [line.split("\t") for line in annotated.splitlines()]
    assert len(rows) == n_snv + n_indel
    np.testing.assert_allclose([float(v) for _, v in rows], table["log2fc"], atol=1e-5)
