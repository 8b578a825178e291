"""The exit-code contract of `ErrorHandlingGroup` (docs/errors.md), on a small app whose
commands raise what a library might."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup, file_system_error
from varinterp.cli._options import Verbose
from varinterp.errors import InputError


def _app() -> typer.Typer:
    app = typer.Typer(cls=ErrorHandlingGroup, no_args_is_help=True)

    @app.command()
    def run(
        what: str,
        count: int = typer.Option(1, "--count", min=1),
        verbose: Verbose = False,
    ) -> None:
        """Raise what `what` names."""
        if what == "input":
            raise InputError("table x.tsv lacks column z; add it")
        if what == "permission":
            raise PermissionError(
                errno.EACCES, "Permission denied", "/data/ro/.out.tsv.h-1.abcdefgh.tmp"
            )
        if what == "full":
            raise OSError(
                errno.ENOSPC,
                "No space left on device",
                "/data/full/model/.fold.json.h-2.k2k2k2k2.tmp",
            )
        if what == "missing":
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/data/x.bed")
        if what == "bug":
            raise ZeroDivisionError("division by zero")
        if what == "oserror":
            raise OSError("no file involved")
        typer.echo(f"ok {count}")

    @app.command()
    def other() -> None:
        """A second command, so that `run` is a subcommand."""

    return app


runner = CliRunner()


@pytest.mark.parametrize(
    ("what", "code", "line"),
    [
        ("input", 2, "varinterp: error: table x.tsv lacks column z; add it"),
        ("permission", 2, "varinterp: error: permission denied: /data/ro/out.tsv;"),
        (
            "full",
            2,
            "varinterp: error: no space left on the device writing /data/full/model/fold.json;",
        ),
        ("missing", 2, "varinterp: error: /data/x.bed does not exist; check the path"),
        ("bug", 1, "varinterp: failed (ZeroDivisionError): division by zero"),
        ("oserror", 1, "varinterp: failed (OSError): no file involved"),
    ],
)
def test_one_line_and_the_exit_code(what, code, line):
    result = runner.invoke(_app(), ["run", what])
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), result.stderr
    assert "Traceback" not in result.stderr


def test_verbose_adds_the_traceback_of_the_cause():
    result = runner.invoke(_app(), ["run", "permission", "--verbose"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "PermissionError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("varinterp: error: permission denied")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "ok", "--count", "zero"], ["'--count'", "integer"]),
        (["run", "ok", "--count", "0"], ["'--count'", "greater than or equal to 1"]),
        (["run", "ok", "--colour", "red"], ["--colour"]),
        (["run"], ["Missing argument"]),
        (["nosuch"], ["No such command"]),
    ],
)
def test_usage_errors_are_one_line_too(args, words):
    result = runner.invoke(_app(), args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("varinterp: error: "), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert "--help" in lines[0]


def test_help_and_success_are_untouched():
    result = runner.invoke(_app(), [])
    assert result.exit_code == 2 and "run" in result.stdout  # no arguments: the help
    assert runner.invoke(_app(), ["run", "--help"]).exit_code == 0
    ok = runner.invoke(_app(), ["run", "ok", "--count", "3"])
    assert ok.exit_code == 0 and ok.stdout == "ok 3\n" and ok.stderr == ""


def test_file_system_errors_name_what_the_user_gave():
    tmp = "/w/.effects.tsv.parts/.part_000001.tsv.node7-311.q1w2e3r4.tmp.tsv"
    error = file_system_error(PermissionError(errno.EACCES, "Permission denied", tmp))
    assert str(error).startswith("permission denied: /w/effects.tsv;")
    assert file_system_error(OSError(errno.EIO, "I/O error", "/x")) is None
    assert file_system_error(OSError("no errno")) is None
    path = Path("/data/deep/file.txt")
    assert "part of this path is a file" in str(
        file_system_error(NotADirectoryError(errno.ENOTDIR, "Not a directory", str(path)))
    )
