"""`varinterp train clipnet`, `varinterp finetune`, `varinterp evaluate` through typer."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from tests.models.clipnet._world import write_toml
from varinterp.cli import modeling, train
from varinterp.cli._common import ErrorHandlingGroup

runner = CliRunner()


def _root() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(train.app, name="train")
    root.command("finetune")(modeling.finetune)
    root.command("evaluate")(modeling.evaluate)
    return root


def _one_line_error(result, text):
    assert result.exit_code == 2, result.output
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and text in err[0], result.stderr


def test_train_finetune_evaluate_commands(world, tmp_path):
    cfg = write_toml(tmp_path / "run.toml", world,
                     training={"max_epochs": 1}, data={"rc_augment": "none"})  # fmt: skip
    app = _root()
    r = runner.invoke(app, ["train", "clipnet", "--config", str(cfg), "--out",
                            str(tmp_path / "m"), "--folds", "1-2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "wrote 2 fold model(s) (fold_1, fold_2)" in r.stdout
    assert "fold 1 epoch 0" in r.stdout
    ft_cfg = tmp_path / "ft.toml"
    text = cfg.read_text()
    ft_cfg.write_text(text[: text.index("[model]")] + text[text.index("[training]") :])
    r = runner.invoke(app, ["finetune", "--from", str(tmp_path / "m"), "--config", str(ft_cfg),
                            "--out", str(tmp_path / "ft"), "--folds", "2", "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (tmp_path / "ft/fold_2.safetensors").is_file()
    r = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "m"), "--config", str(cfg),
                            "--out", str(tmp_path / "ev")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "ensemble on fold 0" in r.stdout
    assert (tmp_path / "ev/metrics.tsv").is_file()


def test_bad_input_exits_2_with_one_line(world, tmp_path):
    app = _root()
    bad = tmp_path / "bad.toml"
    bad.write_text(write_toml(tmp_path / "ok.toml", world).read_text() + "epochs = 3\n")
    r = runner.invoke(app, ["train", "clipnet", "--config", str(bad), "--out", str(tmp_path / "o")])
    _one_line_error(r, "unknown key(s) epochs in [training]")
    r = runner.invoke(app, ["train", "clipnet", "--config", str(tmp_path / "ok.toml"),
                            "--out", str(tmp_path / "o"), "--folds", "x"])  # fmt: skip
    _one_line_error(r, "--folds 'x'")
    r = runner.invoke(app, ["train", "clipnet", "--config", str(tmp_path / "none.toml"),
                            "--out", str(tmp_path / "o")])  # fmt: skip
    _one_line_error(r, "does not exist")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(world.sheet.read_text().replace("\ts2\t", "\tNA00000\t"))
    for name in ("libA", "libB", "libC"):
        sheet.write_text(sheet.read_text().replace(f"bw/{name}", str(world.folder / f"bw/{name}")))
    cfg = write_toml(tmp_path / "absent.toml", world, data={"sample_sheet": str(sheet)})
    r = runner.invoke(app, ["train", "clipnet", "--config", str(cfg), "--out", str(tmp_path / "o")])
    _one_line_error(r, "absent from genome store")
    r = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "nomodel"), "--config",
                            str(cfg), "--out", str(tmp_path / "e")])  # fmt: skip
    _one_line_error(r, "does not exist")
    r = runner.invoke(app, ["finetune", "--from", str(tmp_path), "--config", str(cfg),
                            "--out", str(tmp_path / "f")])  # fmt: skip
    _one_line_error(r, "config.json is missing")
