"""The genome build is checked, not assumed: known assemblies are named from contig
lengths, a REF-mismatch rate that no correct build gives stops the run (unless --force),
and `genome info` reports the rate."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from tests.effects._scoring_toys import bgzip_index, random_seq, write_fasta, write_vcf
from varinterp.cli.main import app
from varinterp.errors import InputError
from varinterp.genome.assembly import (
    ASSEMBLIES,
    MIN_CHECKED,
    check_ref_agreement,
    guess_assembly,
)


def test_assemblies_are_named_from_any_contig_spelling():
    grch38 = ASSEMBLIES["GRCh38"]
    assert guess_assembly({"chr1": grch38["1"], "chr22": grch38["22"], "chrM": 16569}) == "GRCh38"
    assert guess_assembly({"21": ASSEMBLIES["GRCh37"]["21"]}) == "GRCh37"
    assert guess_assembly({"chrX": ASSEMBLIES["T2T-CHM13"]["X"]}) == "T2T-CHM13"
    assert guess_assembly({"chr19": ASSEMBLIES["mm39"]["19"]}) == "mm39"
    assert guess_assembly({"chr1": ASSEMBLIES["mm10"]["1"]}) == "mm10"
    # one chromosome of each build is no build; unknown contigs only, neither
    assert guess_assembly({"chr1": grch38["1"], "chr2": ASSEMBLIES["GRCh37"]["2"]}) is None
    assert guess_assembly({"chr1": 1_500_000, "scaffold_9": 1000}) is None
    # every table has 21-24 distinct primary chromosomes and no two builds share chr1
    assert len({t["1"] for t in ASSEMBLIES.values()}) == len(ASSEMBLIES)


def test_a_high_mismatch_rate_stops_and_names_the_fastas_build():
    grch38 = {f"chr{k}": v for k, v in ASSEMBLIES["GRCh38"].items()}
    with pytest.raises(InputError, match=r"750 of 1,000 REF alleles \(75%\).*the FASTA is GRCh38"):
        check_ref_agreement(checked=1000, mismatched=750, lengths=grch38, source="VCF x")
    assert check_ref_agreement(checked=1000, mismatched=750, lengths=grch38, source="x",
                               force=True) == 0.75  # fmt: skip
    assert check_ref_agreement(checked=1000, mismatched=50, lengths=grch38, source="x") == 0.05
    # a handful of typos in a tiny file is not a build mismatch
    assert check_ref_agreement(checked=MIN_CHECKED - 1, mismatched=10, lengths={}, source="x")


def test_genome_build_stops_unless_forced_and_info_reports_the_rate(tmp_path):
    seq = random_seq(4000, 2)
    fasta = write_fasta(tmp_path / "ref.fa", {"chr1": seq})
    rows = []
    for k in range(40):
        pos = 50 + 90 * k
        ref = seq[pos - 1]
        if k % 4 == 0:  # a quarter on "another build": REF disagrees with the FASTA
            ref = "ACGT".replace(ref, "")[0]
        alt = "ACGT".replace(ref, "").replace(seq[pos - 1], "")[0]
        rows.append(("chr1", pos, f"v{k}", ref, alt, "0|1"))
    vcf = bgzip_index(write_vcf(tmp_path / "v.vcf", rows, contigs={"chr1": 4000}, samples=["s"]))
    runner = CliRunner()
    args = ["genome", "build", "--vcf", str(vcf), "--fasta", str(fasta), "-o", str(tmp_path / "s")]
    stopped = runner.invoke(app, args)
    assert stopped.exit_code == 2
    assert "10 of 40 REF alleles (25%) disagree" in stopped.output and "--force" in stopped.output
    assert not (tmp_path / "s").exists()
    assert runner.invoke(app, [*args, "--force", "-q"]).exit_code == 0
    info = runner.invoke(app, ["genome", "info", "-s", str(tmp_path / "s")])
    assert info.exit_code == 0
    line = next(x for x in info.output.splitlines() if x.startswith("REF alleles"))
    assert re.fullmatch(
        r"REF alleles disagreeing with the FASTA: 25\.00% \(10 of 40\); genome build: no "
        r"assembly varinterp knows \(by contig lengths\)",
        line,
    ), line
