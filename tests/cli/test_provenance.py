"""Provenance and trust in outputs: every output carries who made it, how and from what,
and the same command on the same inputs gives the same bytes but for the date line."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from varinterp import __version__
from varinterp.cli.main import app

SMALL = ["--genome-size", "60000", "--n-chromosomes", "2", "--n-individuals", "20", "-q"]


def _invoke(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _without_date(data: bytes) -> list[str]:
    lines = data.decode().splitlines()
    dated = [x for x in lines if x.strip().startswith('"date":')]
    assert len(dated) == 1
    return [x for x in lines if x not in dated]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prov") / "world"
    _invoke("simulate", "world", "-o", out, "--seed", "3", "--overwrite", *SMALL)
    return out


def test_a_folder_output_records_version_command_outputs_and_date(world):
    record = json.loads((world / "provenance.json").read_text())
    assert list(record) == ["varinterp_version", "command", "inputs", "outputs", "date"]
    assert record["varinterp_version"] == __version__
    assert record["command"] == f"varinterp simulate world -o {world} --seed 3 --overwrite " + (
        " ".join(SMALL)
    )
    assert record["outputs"]["cohort.vcf.gz"] == (world / "cohort.vcf.gz").stat().st_size
    assert "provenance.json" not in record["outputs"]
    vcf = gzip.decompress((world / "cohort.vcf.gz").read_bytes()).decode().splitlines()
    assert f"##varinterp_version={__version__}" in vcf
    assert f"##varinterp_command={record['command']}" in vcf


def test_rerunning_gives_identical_bytes_apart_from_the_date_line(world):
    before = _files(world)
    _invoke("simulate", "world", "-o", world, "--seed", "3", "--overwrite", *SMALL)
    after = _files(world)
    assert set(before) == set(after)
    for name, data in before.items():
        if name == "provenance.json":
            assert _without_date(data) == _without_date(after[name])
        else:
            assert data == after[name], name


def test_a_file_output_gets_a_sidecar_describing_its_inputs(world, tmp_path):
    store = tmp_path / "cohort.vgs"
    _invoke("genome", "build", "--vcf", world / "cohort.vcf.gz", "--fasta",
            world / "reference.fa", "-o", store, "-q")  # fmt: skip
    built = json.loads((store / "provenance.json").read_text())
    fasta = built["inputs"]["--fasta"]
    assert fasta["kind"] == "fasta" and fasta["name"] == "reference.fa"
    lengths = "".join(
        f"{line.split()[0]}\t{line.split()[1]}\n"
        for line in (world / "reference.fa.fai").read_text().splitlines()
    )
    assert fasta["lengths_sha256"] == hashlib.sha256(lengths.encode()).hexdigest()
    fai = [line.split("\t") for line in (world / "reference.fa.fai").read_text().splitlines()]
    assert fasta["contigs"] == {name: int(n) for name, n, *_ in fai}
    assert built["inputs"]["--vcf"] == {
        "name": "cohort.vcf.gz",
        "bytes": (world / "cohort.vcf.gz").stat().st_size,
        "kind": "vcf",
    }
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t200\n")
    args = ["genome", "export", "-s", store, "--regions", bed, "-o", tmp_path / "x.fa", "-q"]
    _invoke(*args)
    side = tmp_path / "x.fa.provenance.json"
    record = json.loads(side.read_text())
    assert record["inputs"]["--regions"]["sha256"] == hashlib.sha256(bed.read_bytes()).hexdigest()
    meta = hashlib.sha256((store / "meta.json").read_bytes()).hexdigest()
    assert record["inputs"]["--store"]["meta_sha256"] == meta
    assert record["outputs"] == {"x.fa": (tmp_path / "x.fa").stat().st_size}
    first = (tmp_path / "x.fa").read_bytes(), side.read_bytes()
    _invoke(*args, "--overwrite")
    assert (tmp_path / "x.fa").read_bytes() == first[0]
    # the command differs by --overwrite; the rest but the date is the same
    again = json.loads(side.read_text())
    assert {k: v for k, v in again.items() if k not in ("date", "command")} == {
        k: v for k, v in record.items() if k not in ("date", "command")
    }


def test_a_writer_refuses_an_existing_output_without_overwrite(world, tmp_path):
    out = tmp_path / "x.tsv"
    out.write_text("mine")
    args = ["--variants", out, "--peaks", out, "--elements", out, "-o", out]
    enrich = CliRunner().invoke(app, ["elements", "enrich", *map(str, args)])
    assert enrich.exit_code == 2 and "already exists" in enrich.output
    assert out.read_text() == "mine"
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t200\n")
    export = CliRunner().invoke(app, ["genome", "export", "-s", str(world), "--regions", str(bed),
                                      "-o", str(out)])  # fmt: skip
    assert export.exit_code == 2 and "already exists" in export.output
    assert out.read_text() == "mine"
