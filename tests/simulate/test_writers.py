from __future__ import annotations

import gzip
import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pysam
import pytest
from cyvcf2 import VCF
from pyfaidx import Fasta

from varinterp.errors import InputError
from varinterp.simulate import load_world, write_world

FILES = {
    "reference.fa",
    "reference.fa.fai",
    "cohort.vcf.gz",
    "cohort.vcf.gz.tbi",
    "elements.bed",
    "elements.tsv",
    "genes.bed",
    "motifs.bed",
    "tss.bed",
    "truth.tsv",
    "world.json",
}


def test_folder_holds_the_documented_files(written):
    assert {p.name for p in written.iterdir()} == FILES


def test_same_world_gives_byte_identical_files(tmp_path, small_world):
    a = write_world(small_world, tmp_path / "a").out_dir
    b = write_world(small_world, tmp_path / "b").out_dir
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_fasta_is_pyfaidx_readable_and_equals_the_reference(written, world):
    fai = pd.read_csv(written / "reference.fa.fai", sep="\t", header=None)
    assert list(fai[0]) == list(world.reference.names)
    assert list(fai[1]) == list(world.reference.lengths.values())
    assert set(fai[3]) == {60}
    fasta = Fasta(str(written / "reference.fa"))
    for name in world.reference.names:
        assert str(fasta[name][1000:1200]) == world.reference.fetch(name, 1000, 1200)
    fasta.close()


def test_vcf_ref_alleles_match_the_fasta(written, world):
    fasta = Fasta(str(written / "reference.fa"))
    vcf = VCF(str(written / "cohort.vcf.gz"))
    assert list(vcf.samples) == list(world.cohort.samples)
    n = 0
    for rec in vcf:
        assert str(fasta[rec.CHROM][rec.POS - 1]) == rec.REF  # VCF is 1-based
        n += 1
    assert n == world.cohort.n_variants
    fasta.close()


def test_vcf_genotypes_are_phased_and_equal_the_haplotypes(written, world):
    vcf = VCF(str(written / "cohort.vcf.gz"))
    for i, rec in enumerate(vcf):
        gt = np.array(rec.genotypes)  # (n_samples, 3): allele1, allele2, phased
        assert gt[:, 2].all()
        np.testing.assert_array_equal(gt[:, :2], world.cohort.haplotypes[i])
        if i == 200:
            break


def test_vcf_header_declares_contigs_with_lengths(written, world):
    with gzip.open(written / "cohort.vcf.gz", "rt") as fh:
        header = [line for line in fh if line.startswith("##")]
    assert header[0] == "##fileformat=VCFv4.2\n"
    for name, length in world.reference.lengths.items():
        assert f"##contig=<ID={name},length={length}>\n" in header


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_bcftools_reads_the_vcf_through_its_index(written, world):
    vcf = written / "cohort.vcf.gz"
    full = subprocess.run(
        ["bcftools", "view", "-H", str(vcf)], capture_output=True, text=True, check=True
    )
    assert len(full.stdout.splitlines()) == world.cohort.n_variants
    region = subprocess.run(
        ["bcftools", "view", "-H", "-r", "chr2:10001-60000", str(vcf)],
        capture_output=True,
        text=True,
        check=True,
    )
    c = world.cohort
    expect = int(((c.chrom == "chr2") & (c.pos >= 10_000) & (c.pos < 60_000)).sum())
    assert expect > 50
    assert len(region.stdout.splitlines()) == expect


def test_tabix_index_answers_region_queries(written, world):
    tbx = pysam.TabixFile(str(written / "cohort.vcf.gz"))
    assert list(tbx.contigs) == list(world.reference.names)
    rows = list(tbx.fetch("chr3", 0, 20_000))  # 0-based half-open
    c = world.cohort
    assert len(rows) == int(((c.chrom == "chr3") & (c.pos < 20_000)).sum())


def test_bed_files_are_bed6_zero_based(written, world):
    bed = pd.read_csv(written / "elements.bed", sep="\t", header=None)
    assert bed.shape == (len(world.elements), 6)
    first = world.elements[0]
    assert tuple(bed.iloc[0, :4]) == (first.chrom, first.start, first.end, first.element_id)
    assert bed[4].between(0, 1000).all()
    assert set(bed[5]) == {"+", "-", "."}
    motifs = pd.read_csv(written / "motifs.bed", sep="\t", header=None)
    assert len(motifs) == len(world.sites)
    assert (motifs[4] == 0).sum() == sum(not s.intact for s in world.sites)
    tss = pd.read_csv(written / "tss.bed", sep="\t", header=None)
    assert ((tss[2] - tss[1]) == 1).all()


def test_truth_tsv_round_trips(written, world):
    truth = pd.read_csv(written / "truth.tsv", sep="\t", dtype={"causal": str})
    assert list(truth.columns) == list(world.truth.columns)
    assert len(truth) == world.cohort.n_variants
    assert (truth["pos"] == world.cohort.pos + 1).all()
    assert (truth["causal"] == world.truth["causal"]).all()


def test_manifest_checksums_and_load_world(written, world):
    data = json.loads((written / "world.json").read_text())
    assert data["params"]["seed"] == 7
    assert set(data["files"]) == FILES - {"world.json"}
    again = load_world(written)
    assert again.truth.equals(world.truth)


def test_load_world_rejects_a_foreign_folder(tmp_path):
    with pytest.raises(InputError, match=r"world\.json"):
        load_world(tmp_path)
    (tmp_path / "world.json").write_text("{not json")
    with pytest.raises(InputError, match="not a valid world manifest"):
        load_world(tmp_path)


def test_existing_output_needs_overwrite(tmp_path, small_world):
    out = tmp_path / "w"
    write_world(small_world, out)
    with pytest.raises(InputError, match="--overwrite"):
        write_world(small_world, out)
    write_world(small_world, out, overwrite=True)
    assert {p.name for p in out.iterdir()} == FILES
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools not installed")
def test_bcftools_norm_finds_no_ref_mismatch(written):
    # `-c e`: exit with an error on the first REF allele that disagrees with the FASTA
    done = subprocess.run(
        [
            "bcftools",
            "norm",
            "-c",
            "e",
            "-f",
            str(written / "reference.fa"),
            "-Ou",
            "-o",
            "/dev/null",
            str(written / "cohort.vcf.gz"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_genes_are_the_promoters_at_their_sense_tss(tmp_path, small_world):
    """genes.bed (for link abc --genes): one BED6 row per planted promoter, 1 bp at its
    sense TSS, named by element id, on its strand."""
    write_world(small_world, tmp_path / "w")
    rows = [line.split("\t") for line in (tmp_path / "w" / "genes.bed").read_text().splitlines()]
    promoters = [e for e in small_world.elements if e.kind == "promoter"]
    assert len(rows) == len(promoters) > 0
    for row, e in zip(rows, promoters, strict=True):
        sense = next(t for t in e.tss if t.role == "sense")
        assert row == [e.chrom, str(sense.pos), str(sense.pos + 1), e.element_id, "0", e.strand]
