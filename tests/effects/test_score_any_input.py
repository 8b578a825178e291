"""`score` on variants in any common form, and its outputs in any common format.

One toy model (hand-set weights, `_scoring_toys`) scores the same SNVs given as an
indexed VCF, an unindexed VCF, a 1-based TSV list, a 0-based BED list, a REF-less list
and chrom:pos:ref:alt strings: every form must give the indexed VCF's table. The VCF and
Parquet outputs must hold the TSV's numbers; progress must move per batch with the
total known from the start.
"""

from __future__ import annotations

import gzip

import numpy as np
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

N_SNVS = 2500
SCORES = ["log2fc", "profile_l2", "profile_jsd"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("any")
    seq = random_seq(6000, 5)
    fasta = write_fasta(tmp / "ref.fa", {"chr1": seq})
    rng = np.random.default_rng(3)
    positions = np.sort(rng.choice(np.arange(30, 5970), N_SNVS, replace=False)) + 1
    rows = [
        ("chr1", int(p), f"v{k}", seq[p - 1], "ACGT".replace(seq[p - 1], "")[k % 3])
        for k, p in enumerate(positions)
    ]
    plain = write_vcf(tmp / "v.vcf", rows, contigs={"chr1": 6000})
    indexed = bgzip_index(write_vcf(tmp / "i.vcf", rows, contigs={"chr1": 6000}))
    model = save_toy_dir(tmp / "toy", folds=("fold_1", "fold_2"))
    return {"tmp": tmp, "fasta": fasta, "rows": rows, "plain": plain, "vcf": indexed,
            "model": model}  # fmt: skip


def _score(world, variants, name, **kw):
    out = world["tmp"] / name
    score_variants(variants=variants, model=world["model"], fasta=world["fasta"], out=out,
                   device="cpu", overwrite=True, **kw)  # fmt: skip
    return out


@pytest.fixture(scope="module")
def reference_table(world):
    return pd.read_csv(_score(world, world["vcf"], "ref.tsv"), sep="\t", dtype={"id": str})


def _same(table: pd.DataFrame, expected: pd.DataFrame, *, ids: bool = True) -> None:
    cols = ["chrom", "pos", "ref", "alt", *SCORES] + (["id"] if ids else [])
    pd.testing.assert_frame_equal(table[cols], expected[cols])


def test_unindexed_vcf_is_read_in_order(world, reference_table):
    t = pd.read_csv(_score(world, world["plain"], "plain.tsv"), sep="\t", dtype={"id": str})
    _same(t, reference_table)


def test_tsv_bed_and_strings(world, reference_table):
    rows = world["rows"]
    tsv = world["tmp"] / "list.tsv"
    tsv.write_text("".join(f"{c}\t{p}\t{r}\t{a}\t{i}\n" for c, p, i, r, a in rows))
    _same(pd.read_csv(_score(world, tsv, "tsv.tsv"), sep="\t", dtype={"id": str}),
          reference_table)  # fmt: skip
    bed = world["tmp"] / "list.bed"
    bed.write_text("".join(f"{c}\t{p - 1}\t{p}\t{r}\t{a}\t{i}\n" for c, p, i, r, a in rows))
    t = pd.read_csv(_score(world, bed, "bed.tsv", schema="bed"), sep="\t", dtype={"id": str})
    _same(t, reference_table)
    with pytest.raises(InputError, match="pass --schema bed"):
        _score(world, bed, "bad.tsv")
    # 0-based positions given as 1-based shift every variant: REF mismatches stop the run
    shifted = world["tmp"] / "shifted.tsv"
    shifted.write_text("".join(f"{c}\t{p - 1}\t{r}\t{a}\n" for c, p, _, r, a in rows))
    with pytest.raises(InputError, match=r"REF alleles \(\d+%\) disagree .* --force"):
        _score(world, shifted, "bad.tsv")
    assert not (world["tmp"] / "bad.tsv").exists()
    forced = _score(world, shifted, "forced.tsv", force=True)
    assert 0 < len(pd.read_csv(forced, sep="\t")) < N_SNVS
    strings = [f"{c}:{p}:{r}:{a}" for c, p, _, r, a in rows[:40]]
    t = pd.read_csv(_score(world, strings, "str.tsv"), sep="\t")
    _same(t, reference_table.iloc[:40], ids=False)


def test_a_ref_less_list_is_completed_from_the_fasta(world, reference_table):
    rows = world["rows"]
    header = "chrom\tpos\talt\tvariant_id\n"
    lst = world["tmp"] / "noref.tsv"
    lst.write_text(header + "".join(f"{c}\t{p}\t{a}\t{i}\n" for c, p, i, _, a in rows))
    out = world["tmp"] / "noref.out.tsv"
    res = score_variants(variants=lst, model=world["model"], fasta=world["fasta"], out=out,
                         device="cpu")  # fmt: skip
    assert res.counts.ref_filled == N_SNVS
    _same(pd.read_csv(out, sep="\t", dtype={"id": str}), reference_table)


def test_vcf_and_parquet_outputs_hold_the_tsv_numbers(world, reference_table):
    pytest.importorskip("pyarrow")
    tsv = world["tmp"] / "list2.tsv"
    tsv.write_text("".join(f"{c}\t{p}\t{r}\t{a}\t{i}\n" for c, p, i, r, a in world["rows"]))
    vcf = _score(world, tsv, "out.vcf.gz")
    assert (world["tmp"] / "out.vcf.gz.tbi").is_file()
    lines = gzip.decompress(vcf.read_bytes()).decode().splitlines()
    header = [x for x in lines if x.startswith("##")]
    assert any(x.startswith("##varinterp_version=") for x in header)
    assert any(x.startswith("##varinterp_command=") for x in header)
    assert "##reference=ref.fa" in header
    assert any(x.startswith("##varinterp_model=<ID=toy,config_sha256=") for x in header)
    body = [x.split("\t") for x in lines if not x.startswith("#")]
    assert len(body) == N_SNVS
    log2fc = [float(dict(kv.split("=") for kv in f[7].split(";"))["VI_log2fc"]) for f in body]
    np.testing.assert_allclose(log2fc, reference_table["log2fc"], rtol=1e-5, atol=1e-6)
    assert [f[2] for f in body] == reference_table["id"].tolist()
    parquet = _score(world, world["vcf"], "out.parquet")
    _same(pd.read_parquet(parquet), reference_table)
    # the locus report reads any of score's outputs as its --effects
    from varinterp.report.inputs import read_effects

    from_tsv = read_effects(world["tmp"] / "ref.tsv").sort_values(["chrom", "pos", "alt"])
    for other in (vcf, parquet):
        got = read_effects(other).sort_values(["chrom", "pos", "alt"])
        np.testing.assert_array_equal(got["pos"], from_tsv["pos"])
        np.testing.assert_allclose(got["log2fc"], from_tsv["log2fc"], rtol=1e-5, atol=1e-6)


def test_progress_moves_per_batch_with_the_total_known_up_front(world):
    calls = []
    _score(world, world["vcf"], "p.tsv", on_progress=lambda d, t: calls.append((d, t)))
    assert {t for _, t in calls} == {N_SNVS}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == N_SNVS
    # one 4,096-variant chunk, yet progress moved several times inside it
    assert len([d for d in done if 0 < d < N_SNVS]) >= 2


def _app() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.command("score")(score_cli.score_command)
    root.command("noop")(lambda: None)
    return root


def test_cli_takes_strings_and_reports_the_build_check(world):
    c, p, _, r, a = world["rows"][0]
    out = world["tmp"] / "cli.tsv"
    res = CliRunner().invoke(_app(), [
        "score", "--variants", f"{c}:{p}:{r}:{a}", "-m", str(world["model"]), "--fasta",
        str(world["fasta"]), "-o", str(out), "--device", "cpu",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "scored 1 variants (1 SNVs" in res.stdout
    assert "REF alleles disagreeing with the FASTA: 0.00%" in res.stdout
    assert len(pd.read_csv(out, sep="\t")) == 1
