from __future__ import annotations

import typer
from typer.testing import CliRunner

from varinterp.cli import simulate
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli._conventions import apply_conventions


def _app() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)

    @root.callback()
    def _root() -> None:
        """test root"""

    root.add_typer(simulate.app, name="simulate")
    apply_conventions(root)
    return root


SMALL = ["--genome-size", "60000", "--n-chromosomes", "2", "--n-individuals", "40"]


def test_world_writes_a_folder_and_summary(tmp_path):
    out = tmp_path / "w"
    result = CliRunner().invoke(_app(), ["simulate", "world", "--out", str(out), *SMALL])
    assert result.exit_code == 0, result.output
    assert "40 individuals" in result.output
    assert (out / "cohort.vcf.gz.tbi").is_file()
    assert (out / "reference.fa.fai").is_file()


def test_world_is_reproducible_through_the_cli(tmp_path):
    runner = CliRunner()
    for name in ("a", "b"):
        args = ["simulate", "world", "-o", str(tmp_path / name), "--seed", "11", "-q", *SMALL]
        assert runner.invoke(_app(), args).exit_code == 0
    for f in ("reference.fa", "truth.tsv", "elements.bed"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    # the VCFs differ only in the command line each records (-o a, -o b)
    import gzip

    a, b = (
        gzip.decompress((tmp_path / n / "cohort.vcf.gz").read_bytes()).decode().splitlines()
        for n in ("a", "b")
    )
    assert [x for x in a if x.startswith("##varinterp_command=")] == [
        f"##varinterp_command=varinterp simulate world -o {tmp_path / 'a'} --seed 11 -q "
        + " ".join(SMALL)
    ]
    assert [x for x in a if not x.startswith("##varinterp_command")] == [
        x for x in b if not x.startswith("##varinterp_command")
    ]


def test_existing_out_without_overwrite_is_exit_2(tmp_path):
    out = tmp_path / "w"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = CliRunner().invoke(_app(), ["simulate", "world", "--out", str(out), *SMALL])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--overwrite" in result.output
    assert "Traceback" not in result.output
    assert (out / "keep.txt").read_text() == "mine"
    ok = CliRunner().invoke(
        _app(), ["simulate", "world", "--out", str(out), "--overwrite", "-q", *SMALL]
    )
    assert ok.exit_code == 0
    assert not (out / "keep.txt").exists()


def test_out_of_range_individuals_is_exit_2(tmp_path):
    result = CliRunner().invoke(
        _app(), ["simulate", "world", "--out", str(tmp_path / "w"), "--n-individuals", "0"]
    )
    assert result.exit_code == 2
    assert "--n-individuals must be between 2 and 2000" in result.output
    assert not (tmp_path / "w").exists()


def test_too_small_genome_is_exit_2(tmp_path):
    result = CliRunner().invoke(
        _app(), ["simulate", "world", "--out", str(tmp_path / "w"), "--genome-size", "100"]
    )
    assert result.exit_code == 2
    assert "--genome-size" in result.output


def test_help_names_the_files():
    result = CliRunner().invoke(_app(), ["simulate", "world", "--help"])
    assert result.exit_code == 0
    assert "truth.tsv" in result.output and "cohort.vcf.gz" in result.output
