"""Run `varinterp` in this process with the real file descriptors 1 and 2 captured.

Libraries that print from C (htslib, libBigWig) write to descriptor 2 directly, so the
sweep captures descriptors, not only ``sys.stderr``, to see every line a user would see.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CliResult", "command_paths", "run_cli", "tree"]


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


@contextlib.contextmanager
def _captured_fds() -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix="varinterp-cli-") as folder:
        out, err = Path(folder) / "out", Path(folder) / "err"
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        with out.open("wb") as fo, err.open("wb") as fe:
            os.dup2(fo.fileno(), 1)
            os.dup2(fe.fileno(), 2)
            old_streams = sys.stdout, sys.stderr
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
            try:
                yield out, err
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                sys.stdout, sys.stderr = old_streams
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])


def run_cli(args: Sequence[str]) -> CliResult:
    """Run ``varinterp ARGS`` in this process; return the exit code, stdout and stderr."""
    from varinterp.cli import _state
    from varinterp.cli.main import app

    code = 0
    with _captured_fds() as (out, err):
        try:
            app(args=[str(a) for a in args], prog_name="varinterp", standalone_mode=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            _state.verbose = False
            sys.stdout.flush()
            sys.stderr.flush()
        stdout = out.read_text(encoding="utf-8", errors="replace")
        stderr = err.read_text(encoding="utf-8", errors="replace")
    return CliResult(code, stdout, stderr)


def command_paths() -> list[str]:
    """Every leaf command of the `varinterp` app, as ``"genome build"``-style strings."""
    import typer

    from varinterp.cli.main import app

    def walk(command, path: tuple[str, ...]) -> Iterator[str]:
        subs = getattr(command, "commands", None)
        if subs is None:
            yield " ".join(path)
            return
        for name, sub in sorted(subs.items()):
            yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_command(app), ()))


def tree(folder: Path) -> set[str]:
    """Every path under `folder` (hidden ones too), relative, folders with a trailing /."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(folder):
        rel = Path(dirpath).relative_to(folder)
        found.update(f"{rel / d}/" for d in dirnames)
        found.update(str(rel / f) for f in filenames)
    return found
