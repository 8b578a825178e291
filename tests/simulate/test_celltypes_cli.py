from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.simulate_celltypes import celltypes
from varinterp.simulate import make_world, write_world


def _app() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    group = typer.Typer()

    @root.callback()
    def _root() -> None:
        """test root"""

    @group.callback()
    def _group() -> None:
        """simulate"""

    group.command("celltypes")(celltypes)
    root.add_typer(group, name="simulate")
    return root


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("ctcli") / "world"
    write_world(make_world(seed=2, n_individuals=4, genome_size=60_000, n_chromosomes=2), out)
    return out


SMALL = ["--cells", "hepatocyte=30", "--cells", "kupffer=10", "--cells", "endothelial=20"]


def test_celltypes_writes_folder_and_summary(world_dir, tmp_path):
    out = tmp_path / "ct"
    args = ["simulate", "celltypes", "-w", str(world_dir), "-o", str(out), "--seed", "3"]
    args += [*SMALL, "--fragments-per-cell", "100", "--proportion", "kupffer=0.2"]
    args += ["--proportion", "hepatocyte=0.5", "--proportion", "endothelial=0.3"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "3 cell types" in result.output and "kupffer 20%" in result.output
    manifest = json.loads((out / "celltypes.json").read_text())
    assert manifest["n_cells"] == {"hepatocyte": 30, "kupffer": 10, "endothelial": 20}
    assert manifest["proportions"]["kupffer"] == pytest.approx(0.2)
    assert (out / "fragments.tsv.gz.tbi").is_file()


def test_custom_cell_types_from_factor_lists(world_dir, tmp_path):
    out = tmp_path / "ct"
    args = ["simulate", "celltypes", "-w", str(world_dir), "-o", str(out), "-q"]
    args += ["--cell-type", "liver=AP1,HNF4A,SP1", "--cell-type", "blood=AP1,SPI1,SP1"]
    args += ["--cells", "liver=20", "--cells", "blood=20", "--fragments-per-cell", "50"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    manifest = json.loads((out / "celltypes.json").read_text())
    assert manifest["tf_table"] == {
        "liver": ["AP1", "HNF4A", "SP1"],
        "blood": ["AP1", "SP1", "SPI1"],
    }
    assert manifest["proportions"] == {"liver": 0.5, "blood": 0.5}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--cell-type", "neuron", "--cell-type", "kupffer"], "unknown cell type"),
        (["--proportion", "kupffer=abc"], "not a number"),
        (["--proportion", "kupffer"], "not NAME=VALUE"),
        (["--depth", "100000000"], "lower --depth"),
    ],
)
def test_bad_options_are_exit_2(world_dir, tmp_path, extra, message):
    args = ["simulate", "celltypes", "-w", str(world_dir), "-o", str(tmp_path / "o"), *extra]
    result = CliRunner().invoke(_app(), [*args, *SMALL, "--fragments-per-cell", "20"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_missing_world_is_exit_2(tmp_path):
    args = ["simulate", "celltypes", "-w", str(tmp_path / "nowhere"), "-o", str(tmp_path / "o")]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 2
    assert "does not exist" in result.output and "simulate world" in result.output
    assert "Traceback" not in result.output
