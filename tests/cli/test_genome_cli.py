"""`varinterp genome` through the CLI, including every bad-input path of the foundation."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.genome._cohort import CHR1, CHR2, write_cohort
from varinterp.cli.main import app

runner = CliRunner()

GOOD = [
    "chr1\t2\trs1\tC\tT\t.\t.\t.\tGT\t0|1\t1|1",
    "chr1\t6\trs2\tC\tG\t.\t.\t.\tGT\t1|0\t0|0",
    "chr2\t1\trs3\tG\tC\t.\t.\t.\tGT\t0|1\t1|0",
]


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("varinterp: error:")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def assert_nothing_left(out: Path):
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_help_says_what_goes_in_and_out():
    for args in (
        ["--help"],
        ["genome", "--help"],
        ["genome", "build", "--help"],
        ["genome", "export", "--help"],
        ["genome", "info", "--help"],
    ):
        result = invoke(*args)
        assert result.exit_code == 0
    text = invoke("genome", "build", "--help").output
    for word in ("--vcf", "--fasta", "--regions", "--flank", "--samples", "--strict", "store"):
        assert word in text
    assert "fasta-iupac" in invoke("genome", "export", "--help").output
    assert invoke("--version").output.startswith("varinterp ")


def test_build_info_export_round_trip(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    out = tmp_path / "c.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "--out", out)
    assert result.exit_code == 0, result.output
    assert "3 variants (3 SNVs, 0 MNPs, 0 indels) x 2 samples" in result.output
    info = invoke("genome", "info", "--store", out)
    assert info.exit_code == 0 and "sha256" in info.output and "s1" in info.output
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t0\t8\nchr2\t0\t4\n")
    fa = tmp_path / "x.fa"
    result = invoke("genome", "export", "-s", out, "--regions", bed, "-o", fa, "--samples", "s1")
    assert result.exit_code == 0, result.output
    assert fa.read_text().split() == [">s1::chr1:0-8", "AYGTASGT", ">s1::chr2:0-4", "SGGG"]
    haps = tmp_path / "h.fa"
    assert (
        invoke(
            "genome",
            "export",
            "-s",
            out,
            "--regions",
            bed,
            "-o",
            haps,
            "--format",
            "fasta-haplotypes",
            "--samples",
            "s1,s2",
        ).exit_code
        == 0
    )
    assert haps.read_text().count(">") == 8
    npz = tmp_path / "x.npz"
    assert (
        invoke(
            "genome", "export", "-s", out, "--regions", bed, "-o", npz, "--format", "npz"
        ).exit_code
        == 0
    )
    data = np.load(npz)
    assert data["two_hot"].shape == (2, 2, 4, 8)
    assert (data["two_hot"][:, 1, :, 4:] == 0).all()


def test_regions_and_flank_keep_nearby_variants(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t6\t7\n")
    out = tmp_path / "r.vgs"
    result = invoke(
        "genome",
        "build",
        "--vcf",
        vcf,
        "--fasta",
        fasta,
        "--out",
        out,
        "--regions",
        bed,
        "--flank",
        "1",
    )
    assert result.exit_code == 0, result.output
    assert "1 SNVs" in result.output  # rs2 at pos0 5 only


def test_garbled_vcf(tmp_path):
    fasta, _ = write_cohort(tmp_path, GOOD)
    bad = tmp_path / "bad.vcf"
    bad.write_text("this is not\na vcf\n")
    out = tmp_path / "o.vgs"
    assert_one_line_error(
        invoke("genome", "build", "--vcf", bad, "--fasta", fasta, "-o", out), "not a readable VCF"
    )
    assert_nothing_left(out)


def test_truncated_vcf(tmp_path, shared_fixtures):
    real = shared_fixtures / "1000g_chr22" / "test_1000G_hg38.vcf.gz"
    truncated = tmp_path / "trunc.vcf.gz"
    truncated.write_bytes(real.read_bytes()[:400_000])
    fasta = tmp_path / "chr22.fa"
    rng = np.random.default_rng(0)
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, 11_100_000)]
    fasta.write_bytes(b">chr22\n" + seq.tobytes() + b"\n")
    out = tmp_path / "t.vgs"
    result = invoke("genome", "build", "--vcf", truncated, "--fasta", fasta, "-o", out)
    assert_one_line_error(result, "truncated or corrupt")
    assert_nothing_left(out)


def test_missing_index_with_regions(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD, index=False)
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t0\t10\n")
    out = tmp_path / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--regions", bed)
    assert_one_line_error(result, "no index", "bcftools index")
    assert_nothing_left(out)


def test_sample_not_in_vcf(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    listing = tmp_path / "samples.txt"
    listing.write_text("s1\nghost\n")
    out = tmp_path / "o.vgs"
    result = invoke(
        "genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--samples", listing
    )
    assert_one_line_error(result, "ghost", "bcftools query -l")
    assert_nothing_left(out)


def test_contig_not_in_fasta_names_both_spellings(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD, fasta_text=f">1\n{CHR1}\n>3\n{CHR2}\n")
    out = tmp_path / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out)
    assert_one_line_error(result, "'chr2'", "'2'")
    assert_nothing_left(out)


def test_chr_prefix_harmonised(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD, fasta_text=f">1\n{CHR1}\n>2\n{CHR2}\n")
    out = tmp_path / "o.vgs"
    assert invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out).exit_code == 0


def test_ref_mismatch_counted_or_fatal(tmp_path):
    records = [GOOD[0], "chr1\t3\trsX\tT\tA\t.\t.\t.\tGT\t0|1\t0|0", *GOOD[1:]]  # FASTA: G
    fasta, vcf = write_cohort(tmp_path, records)
    out = tmp_path / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out)
    assert result.exit_code == 0
    assert "REF mismatch 1" in result.output and "chr1:3 REF T but FASTA has G" in result.output
    strict = tmp_path / "s.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", strict, "--strict")
    assert_one_line_error(result, "REF mismatch at chr1:3")
    assert_nothing_left(strict)


@pytest.mark.parametrize(
    ("bed_text", "fragment"),
    [
        ("", "no regions"),
        ("chr1\t5\t2\n", "not after start"),
        ("chr1\tx\t9\n", "not a non-negative"),
    ],
)
def test_bad_regions(tmp_path, bed_text, fragment):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    bed = tmp_path / "r.bed"
    bed.write_text(bed_text)
    out = tmp_path / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--regions", bed)
    assert_one_line_error(result, fragment)
    assert_nothing_left(out)


def test_unsorted_and_past_end_regions_are_handled(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    bed = tmp_path / "r.bed"
    bed.write_text("chr2\t0\t100\nchr1\t5\t7\nchr1\t0\t3\n")  # unsorted; chr2 is 10 bp
    out = tmp_path / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--regions", bed)
    assert result.exit_code == 0, result.output
    assert "3 SNVs" in result.output and "1 region(s) clipped" in result.output
    bed.write_text("chr2\t50\t100\n")
    past = tmp_path / "p.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", past, "--regions", bed)
    assert_one_line_error(result, "past the end")
    assert_nothing_left(past)


def test_non_acgtn_fasta(tmp_path):
    iupac = CHR1[:10] + "RYKM" + CHR1[14:]
    fasta, vcf = write_cohort(tmp_path, GOOD, fasta_text=f">chr1\n{iupac}\n>chr2\n{CHR2}\n")
    out = tmp_path / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out)
    assert result.exit_code == 0 and "4 IUPAC reference bases read as N" in result.output
    garbage = CHR1[:10] + "12-*" + CHR1[14:]
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    fasta, vcf = write_cohort(bad_dir, GOOD, fasta_text=f">chr1\n{garbage}\n>chr2\n{CHR2}\n")
    out = bad_dir / "o.vgs"
    result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out)
    assert_one_line_error(result, "not bases", "'1' at offset")
    assert_nothing_left(out)


def test_existing_output_and_verbose_traceback(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    out = tmp_path / "o.vgs"
    assert invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out).exit_code == 0
    assert_one_line_error(
        invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out), "already exists"
    )
    verbose = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--verbose")
    assert verbose.exit_code == 2 and "Traceback" in verbose.stderr
    assert (
        invoke(
            "genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--overwrite"
        ).exit_code
        == 0
    )


def test_missing_file_and_not_a_store(tmp_path):
    assert_one_line_error(
        invoke(
            "genome",
            "build",
            "--vcf",
            tmp_path / "none.vcf.gz",
            "--fasta",
            tmp_path / "none.fa",
            "-o",
            tmp_path / "o",
        ),
        "does not exist",
    )
    assert_one_line_error(invoke("genome", "info", "--store", tmp_path), "not a genome store")


def test_gzip_bed_is_read(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    bed = tmp_path / "r.bed.gz"
    with gzip.open(bed, "wt") as fh:
        fh.write("track name=x\nchr1\t0\t4\n")
    out = tmp_path / "o.vgs"
    assert (
        invoke(
            "genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out, "--regions", bed
        ).exit_code
        == 0
    )
    assert shutil.which("bcftools")


def test_samples_take_a_comma_list_or_a_file_everywhere(tmp_path):
    fasta, vcf = write_cohort(tmp_path, GOOD)
    listing = tmp_path / "samples.txt"
    listing.write_text("s2\n")
    for spec, name in ((listing, "file.vgs"), ("s2", "list.vgs")):
        out = tmp_path / name
        result = invoke("genome", "build", "--vcf", vcf, "--fasta", fasta, "-o", out,
                        "--samples", spec)  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "3 SNVs, 0 MNPs, 0 indels) x 1 samples" in result.output
        info = invoke("genome", "info", "-s", out)
        assert "samples: 1 (s2)" in info.output


def test_upgrade_rewrites_a_previous_release_store(tmp_path):
    from pathlib import Path

    old = Path(__file__).resolve().parents[1] / "data" / "genome_store_v1" / "v1.vgs"
    out = tmp_path / "new.vgs"
    result = invoke("genome", "upgrade", "--store", old, "--out", out)
    assert result.exit_code == 0, result.output
    info = invoke("genome", "info", "--store", out)
    assert "v2" in info.output and "variants: 6" in info.output
    again = invoke("genome", "upgrade", "--store", out, "--out", tmp_path / "x.vgs")
    assert_one_line_error(again, "already format version 2")
