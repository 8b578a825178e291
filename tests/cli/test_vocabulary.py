"""One CLI vocabulary: every command's options follow the conventions of docs/cli.md.

The typer app is walked through click introspection (as `test_thin_commands` does); each
rule of docs/cli.md is checked on every command, so a new command is held to them the
day it lands. Old spellings are checked to be hidden, documented and warned about.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._conventions import old_spellings
from varinterp.cli._options import OUT_KINDS, SAMPLES_METAVAR, THREADS_DEFAULT
from varinterp.cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"

#: Commands that only list, fetch, convert or describe files: no --threads.
NO_COMPUTE = {
    "data list",
    "data fetch",
    "data verify",
    "data path",
    "models list",
    "models fetch",
    "models import-clipnet",
    "models upgrade",
    "genome info",
    "genome upgrade",
    "crescendo h5ad",
}
#: Commands that run a model besides those with a --model option.
TRAINING = {"train clipnet", "finetune", "deconvolve train", "demo"}


def _walk() -> list[tuple[str, object]]:
    found = []

    def walk(cmd, path: str) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found.append((path, cmd))

    walk(typer.main.get_command(app), "")
    return found


COMMANDS = _walk()
IDS = [p for p, _ in COMMANDS]


def _options(cmd) -> dict[str, object]:
    """Visible long name -> option (old spellings left out)."""
    out = {}
    for p in cmd.params:
        if p.param_type_name != "option":
            continue
        old = old_spellings(p)
        for name in p.opts:
            if name.startswith("--") and name not in old:
                out[name] = p
    return out


def _ctx(cmd):
    return typer.Context(cmd)


def test_the_walk_sees_every_command():
    assert {"score", "genome export", "elements enrich", "report locus"} <= set(IDS)
    assert len(COMMANDS) > 35


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_out_says_file_dir_or_prefix_and_writers_refuse_without_overwrite(path, cmd):
    opts = _options(cmd)
    if "--out" not in opts:
        return
    out = opts["--out"]
    assert out.metavar in OUT_KINDS, f"{path}: --out metavar {out.metavar!r}"
    assert "-o" in out.opts, path
    assert "--overwrite" in opts, f"{path} writes --out but has no --overwrite"


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_threads_on_every_computing_command_with_one_default(path, cmd):
    opts = _options(cmd)
    if path in NO_COMPUTE:
        assert "--threads" not in opts, f"{path} is listed as not computing"
        return
    assert "--threads" in opts, f"{path} computes but has no --threads"
    threads = opts["--threads"]
    assert threads.default == THREADS_DEFAULT, f"{path}: --threads default {threads.default}"
    assert "-t" in threads.opts


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_device_on_every_command_that_runs_a_model(path, cmd):
    opts = _options(cmd)
    runs_model = "--model" in opts or path in TRAINING or path.startswith("train ")
    if path.startswith("models "):  # model-directory housekeeping runs no model
        runs_model = False
    if runs_model:
        assert "--device" in opts, f"{path} runs a model but has no --device"
    if "--device" in opts:
        assert opts["--device"].metavar == "auto|cpu|cuda|cuda:N", path


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_shared_names_are_spelled_the_same_everywhere(path, cmd):
    opts = _options(cmd)
    expected = {
        "--model": ("-m", "DIR"),
        "--store": ("-s", "DIR"),
        "--fasta": (None, "FILE"),
        "--regions": (None, "BED"),
        "--samples": (None, SAMPLES_METAVAR),
        "--tracks": (None, "TSV"),
    }
    for name, (short, metavar) in expected.items():
        if name not in opts:
            continue
        p = opts[name]
        assert metavar in (p.metavar or ""), f"{path}: {name} metavar {p.metavar!r}"
        if short:
            assert short in p.opts, f"{path}: {name} lacks {short}"
    # one name per idea: the LD panel, an FDR cut-off, a BED of regions
    assert "--plink" not in opts, f"{path}: the LD panel is --ld-plink"
    assert "--bed" not in opts, f"{path}: a BED of regions is --regions"
    for name, p in opts.items():
        text = (p.help or "").lower()
        if re.search(r"\b(fdr|q-value|benjamini|bh)\b", text) and "cut" in text:
            assert name == "--fdr", f"{path}: the FDR cut-off is --fdr, not {name}"


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=IDS)
def test_no_bool_or_bare_str_placeholders(path, cmd):
    ctx = _ctx(cmd)
    for p in cmd.get_params(ctx):
        if p.param_type_name != "option":
            continue
        shown = p.display_type_rich(ctx) or ""
        assert "<bool>" not in shown, f"{path}: {p.opts[0]} shows <bool>"
        assert shown != "<str>", f"{path}: {p.opts[0]} is a bare <str>: give choices or a metavar"
        assert shown != "<list[str]>", f"{path}: {p.opts[0]}: give a metavar"


@pytest.mark.parametrize("path", ["score", "genome export", "finemap", "report locus"])
def test_rendered_help_has_no_type_placeholders(path):
    result = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "<str>" not in result.output
    assert "--log-file" in result.output


def _old_spellings() -> list[tuple[str, str, str]]:
    rows = []
    for path, cmd in COMMANDS:
        for p in cmd.params:
            rows += [(path, old, new) for old, new in old_spellings(p).items()]
    return rows


OLD = _old_spellings()


def test_old_spellings_are_documented_and_hidden():
    doc = DOC.read_text(encoding="utf-8")
    assert len(OLD) >= 5
    for path, old, new in OLD:
        assert f"| `{path}` | `{old}` | `{new}` |" in doc, (path, old, new)
        help_text = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "200"})
        assert not re.search(rf"{re.escape(old)}\b(?!-)", help_text.output), (path, old)


def test_an_old_spelling_works_with_one_deprecation_line_on_stderr():
    runner = CliRunner()
    old = runner.invoke(app, ["finemap", "--plink", "panel", "--help"])
    assert old.exit_code == 0
    assert "varinterp: --plink is deprecated" in old.stderr
    assert "use --ld-plink" in old.stderr
    new = runner.invoke(app, ["finemap", "--ld-plink", "panel", "--help"])
    assert new.stderr == ""


def test_the_doc_states_the_conventions():
    doc = DOC.read_text(encoding="utf-8")
    for phrase in (
        "--out",
        "FILE",
        "DIR",
        "PREFIX",
        "--overwrite",
        "auto|cpu|cuda|cuda:N",
        f"--threads` (`-t`) defaults to {THREADS_DEFAULT}",
        "-m/--model",
        "-s/--store",
        "--fasta",
        "--regions",
        "--samples",
        "--fdr",
        "--ld-plink",
        "--log-file",
        "--quiet",
    ):
        assert phrase in doc, phrase
    for path in NO_COMPUTE:
        assert f"`{path}`" in doc, path
