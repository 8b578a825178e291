"""`varinterp score` on bad input: one clear line, exit 2; and the happy path via the CLI."""

from __future__ import annotations

import gzip
import shutil

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from tests.effects._scoring_toys import (
    bgzip_index,
    random_seq,
    save_toy_dir,
    write_fasta,
    write_vcf,
)
from varinterp.cli import score as score_cli
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.effects.score import score_variants
from varinterp.errors import InputError


def _app() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.command("score")(score_cli.score_command)

    @root.command("noop")
    def _noop() -> None:  # a second command keeps "score" a subcommand
        pass

    return root


@pytest.fixture
def world(tmp_path):
    seq = random_seq(300, 3)
    fasta = write_fasta(tmp_path / "ref.fa", {"chr1": seq})
    rows = [("chr1", 100, "a", seq[99], "ACGT".replace(seq[99], "")[0]),
            ("chr1", 150, "b", seq[149], "ACGT".replace(seq[149], "")[1])]  # fmt: skip
    vcf = bgzip_index(write_vcf(tmp_path / "v.vcf", rows, contigs={"chr1": 300}))
    model = save_toy_dir(tmp_path / "toy", folds=("fold_1", "fold_2"))
    return {"seq": seq, "fasta": fasta, "vcf": vcf, "model": model, "tmp": tmp_path}


def _run(world, *extra, vcf=None, out="e.tsv"):
    args = ["score", "--vcf", str(vcf or world["vcf"]), "--model", str(world["model"])]
    args += ["--fasta", str(world["fasta"]), "--out", str(world["tmp"] / out), "--device", "cpu"]
    return CliRunner().invoke(_app(), [*args, *extra])


def _one_line_error(result, pattern):
    assert result.exit_code == 2, result.output
    text = result.output.strip()
    assert len(text.splitlines()) == 1, text
    assert pattern in text, text


def test_cli_happy_path(world):
    r = _run(world, "--vcf-out", str(world["tmp"] / "a.vcf.gz"), "--null-shuffles", "2")
    assert r.exit_code == 0, r.output
    t = pd.read_csv(world["tmp"] / "e.tsv", sep="\t")
    assert len(t) == 2 and "pval_profile_l2" in t.columns
    assert "scored 2 variants (2 SNVs, 0 MNPs, 0 indels)" in r.output
    assert "null-shuffles 2: each variant is also scored in 2 shuffled contexts" in r.stderr
    assert "3x that of plain scoring" in r.stderr
    # the output exists now: refusing to overwrite is a bad-input error
    _one_line_error(_run(world), "already exists")
    assert _run(world, "--overwrite").exit_code == 0


def test_unindexed_vcf_is_read_in_order(world):
    seq = world["seq"]
    plain = write_vcf(world["tmp"] / "p.vcf", [("chr1", 5, ".", seq[4], "N"),
                      ("chr1", 9, ".", seq[8], "ACGT".replace(seq[8], "")[0])],
                      contigs={"chr1": 300})  # fmt: skip
    r = _run(world, vcf=plain)
    assert r.exit_code == 0, r.output
    assert "scored 1 variants (1 SNVs, 0 MNPs, 0 indels) from 2 records" in r.stdout


def test_unsorted_vcf(world):
    seq = world["seq"]
    rows = [("chr1", p, ".", seq[p - 1], "ACGT".replace(seq[p - 1], "")[0]) for p in (50, 20)]
    sorted_rows = sorted(rows, key=lambda r: r[1])
    vcf = bgzip_index(write_vcf(world["tmp"] / "u.vcf", sorted_rows, contigs={"chr1": 300}))
    # same index, but the records out of order (tabix itself refuses to index this)
    text = write_vcf(world["tmp"] / "u2.vcf", rows, contigs={"chr1": 300}).read_bytes()
    import pysam

    pysam.tabix_compress(str(world["tmp"] / "u2.vcf"), str(vcf), force=True)
    assert gzip.decompress(vcf.read_bytes()) == text
    # the annotated VCF copies the input in order: it must be sorted
    annotated = str(world["tmp"] / "uu.vcf.gz")
    _one_line_error(_run(world, "--vcf-out", annotated, vcf=vcf), "is not sorted at chr1:20")
    # a plain table keeps the file's order
    assert _run(world, vcf=vcf).exit_code == 0
    assert pd.read_csv(world["tmp"] / "e.tsv", sep="\t")["pos"].tolist() == [50, 20]


def test_contig_mismatch(world):
    rows = [("chrZ", 5, ".", "A", "G")]
    vcf = bgzip_index(write_vcf(world["tmp"] / "z.vcf", rows, contigs={"chrZ": 300}))
    _one_line_error(_run(world, vcf=vcf), "chrZ")


def test_empty_and_all_symbolic_vcf(world):
    empty = bgzip_index(write_vcf(world["tmp"] / "e0.vcf", [], contigs={"chr1": 300}))
    _one_line_error(_run(world, vcf=empty), "no variants to score (0 records")
    rows = [("chr1", 10, ".", world["seq"][9], "<DEL>"), ("chr1", 12, ".", world["seq"][11], "*")]
    sym = bgzip_index(write_vcf(world["tmp"] / "s.vcf", rows, contigs={"chr1": 300}))
    _one_line_error(_run(world, vcf=sym), "2 symbolic/other")
    assert not (world["tmp"] / "e.tsv").exists()


def test_ref_mismatch_counted_or_fatal(world):
    seq = world["seq"]
    wrong = "ACGT".replace(seq[49], "")[0]
    rows = [("chr1", 50, ".", wrong, seq[49]), ("chr1", 60, ".", seq[59], wrong)]
    rows[1] = ("chr1", 60, ".", seq[59], "ACGT".replace(seq[59], "")[0])
    vcf = bgzip_index(write_vcf(world["tmp"] / "m.vcf", rows, contigs={"chr1": 300}))
    res = score_variants(vcf=vcf, model=world["model"], fasta=world["fasta"],
                         out=world["tmp"] / "m.tsv", device="cpu")  # fmt: skip
    assert res.n_scored == 1 and res.counts.skipped_ref_mismatch == 1
    _one_line_error(_run(world, "--strict", vcf=vcf), "REF mismatch at chr1:50")


def test_model_dir_missing_folds(world):
    (world["model"] / "fold_2.safetensors").unlink()
    _one_line_error(_run(world), "fold_2.safetensors are missing")
    shutil.rmtree(world["model"])
    _one_line_error(_run(world), "does not exist")


def test_composite_with_missing_fold_model(world, tmp_path):
    model = save_toy_dir(tmp_path / "toy1", folds=("fold_1",), metadata={"folds": {"chr1": 3}})
    with pytest.raises(InputError, match="no fold_3 model"):
        score_variants(vcf=world["vcf"], model=model, fasta=world["fasta"],
                       out=tmp_path / "c.tsv", holdout_composite=True, device="cpu")  # fmt: skip


def test_bad_vcf_out_name_fails_before_scoring(world):
    _one_line_error(_run(world, "--vcf-out", str(world["tmp"] / "a.vcf")), "must end in .vcf.gz")
    assert not (world["tmp"] / "e.tsv").exists()


def test_store_without_sample(world):
    _one_line_error(_run(world, "--store", str(world["tmp"])), "needs both")
