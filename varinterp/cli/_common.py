"""Helpers every command module uses: errors to exit codes, progress bars, threads."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from typer.core import TyperGroup
from typer.exceptions import TyperException

try:  # typer >= 0.16 carries its own click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover
    from click.exceptions import ClickException

from varinterp.cli import _state
from varinterp.errors import InputError
from varinterp.progress import ProgressCallback

__all__ = [
    "ErrorHandlingGroup",
    "console",
    "err_console",
    "file_system_error",
    "milestone",
    "progress_bar",
    "require_file",
    "set_threads",
]


class _LoggedConsole(Console):
    """The stdout console; what it prints also goes to the ``--log-file`` (plain text)."""

    def print(self, *objects, **kwargs) -> None:  # type: ignore[override]
        super().print(*objects, **kwargs)
        if _state.log_file is not None:
            from rich.text import Text

            parts = []
            for o in objects:
                try:
                    parts.append(Text.from_markup(o).plain if isinstance(o, str) else str(o))
                except Exception:  # not rich markup after all: log it as written
                    parts.append(str(o))
            _state.log_line(" ".join(parts))


console = _LoggedConsole(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class ErrorHandlingGroup(TyperGroup):
    """Top-level group: the exit-code contract of every command (docs/errors.md).

    Bad usage or bad input -> one line on stderr and exit 2: an `InputError`, a usage
    error of the command line, or a file-system error that names its path (permission
    denied, no space left, a missing file). A failure -> one line and exit 1. The
    traceback is shown only with --verbose.
    """

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # that one printed the help
                _usage_line(exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("varinterp: aborted\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except InputError as exc:
            _report(exc, prefix="error")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            _report(None, prefix="interrupted")
            raise typer.Exit(130) from None
        except BrokenPipeError:  # output piped into head & co.: stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as exc:
            error = file_system_error(exc)
            if error is None:
                _report(exc, prefix=f"failed ({type(exc).__name__})")
                raise typer.Exit(1) from None
            _report(error, prefix="error", cause=exc)
            raise typer.Exit(2) from None
        except Exception as exc:
            _report(exc, prefix=f"failed ({type(exc).__name__})")
            raise typer.Exit(1) from None


#: ``.NAME.<tag>.<random>.tmp...`` (`varinterp.io.atomic`) and ``.NAME.parts`` work folders
_TEMPORARY = re.compile(
    r"^\.(?P<name>.+?)\.(?:[^./]+-\d+\.)?[a-z0-9_]{8}\.tmp.*$|^\.(?P<work>.+)\.parts$"
)


def _user_path(filename: str | os.PathLike | None) -> str:
    """The path a user gave for a file name in an error: a temporary or work file of an
    output is shown as that output."""
    if filename is None:
        return "?"
    shown: list[str] = []
    for part in Path(os.fsdecode(filename)).parts:
        match = _TEMPORARY.match(part)
        if match and match.group("work"):  # inside a work folder: the output it makes
            return str(Path(*shown, match.group("work")))
        shown.append(match.group("name") if match else part)
    return str(Path(*shown))


def file_system_error(exc: OSError) -> InputError | None:
    """An `InputError` for an `OSError` that is about a file the user named (a missing
    or unreadable input, an output location that cannot be written); None otherwise."""
    if exc.filename is None and exc.errno not in (errno.ENOSPC, errno.EDQUOT):
        return None
    path = _user_path(exc.filename)
    if isinstance(exc, PermissionError) or exc.errno == errno.EACCES:
        return InputError(
            f"permission denied: {path}; check its permissions with: ls -l (or choose "
            "another location)"
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {path}" if exc.filename is not None else ""
        return InputError(
            f"no space left on the device{where}; free some space or choose another --out"
        )
    if exc.errno == errno.EROFS:
        return InputError(f"read-only file system: {path}; choose another output location")
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path} does not exist; check the path")
    if isinstance(exc, NotADirectoryError):
        return InputError(f"{path}: part of this path is a file, not a folder; check the path")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path} is a folder where a file is needed; check the path")
    if isinstance(exc, FileExistsError):
        return InputError(f"{path} already exists (as a file or folder); choose another path")
    return None


def _usage_line(exc: ClickException) -> None:
    """A command-line usage error as one line, pointing at the command's --help."""
    ctx = getattr(exc, "ctx", None)
    message = " ".join(exc.format_message().split())
    hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    sys.stderr.write(f"varinterp: error: {message}{hint}\n")


def _report(exc: BaseException | None, *, prefix: str, cause: BaseException | None = None) -> None:
    if _state.verbose and exc is not None:
        traceback.print_exception(cause or exc, file=sys.stderr)
    message = "" if exc is None else str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    hint = "" if _state.verbose or exc is None else " (rerun with --verbose for details)"
    if isinstance(exc, InputError):
        hint = ""
    text = f": {message}" if message else ""
    sys.stderr.write(f"varinterp: {prefix}{text}{hint}\n")


def require_file(path: Path, what: str) -> Path:
    """Raise `InputError` unless `path` is an existing file."""
    if not path.exists():
        msg = f"{what} {path} does not exist; check the path"
        raise InputError(msg)
    if not path.is_file():
        msg = f"{what} {path} is not a file"
        raise InputError(msg)
    if not os.access(path, os.R_OK):
        msg = f"{what} {path} cannot be read (permission denied); check its permissions: ls -l"
        raise InputError(msg)
    return path


def set_threads(threads: int) -> None:
    """Use `threads` CPU threads in numba kernels and torch."""
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


#: Seconds between plain progress lines when stderr is not a terminal (cluster logs).
LOG_INTERVAL_S = float(os.environ.get("VARINTERP_PROGRESS_INTERVAL", "30"))


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _rate(per_second: float, unit: str) -> str:
    per = f" {unit}/s" if unit else "/s"
    if per_second >= 10:
        return f"{per_second:,.0f}{per}"
    return f"{per_second:.2g}{per}"


class _LogLines:
    """Plain progress lines (counts, rate, elapsed, ETA) for a log: on stderr when `echo`,
    and in the ``--log-file``. At most one per `interval` seconds (the first after
    `interval`), and a last one at the end of the work (`finish`)."""

    def __init__(self, description: str, interval: float, *, unit: str, echo: bool) -> None:
        self.description = description
        self.interval = interval
        self.unit = unit
        self.echo = echo
        self.start = self.last = time.monotonic()
        self.state: tuple[int, int | None] | None = None
        self.printed: tuple[int, int | None] | None = None

    def line(self, done: int, total: int | None, *, final: bool = False) -> str:
        elapsed = time.monotonic() - self.start
        unit = f" {self.unit}" if self.unit else ""
        rate = f", {_rate(done / elapsed, self.unit)}" if done and elapsed > 0 else ""
        if final:
            count = f"{done:,}/{total:,}" if total else f"{done:,}"
            return f"{self.description}: {count}{unit} done in {_clock(elapsed)}{rate}"
        if total:
            eta = elapsed / done * (total - done) if done else float("nan")
            eta_text = _clock(eta) if eta == eta else "?"
            return (
                f"{self.description}: {done:,}/{total:,}{unit} ({100 * done / total:.0f}%)"
                f"{rate}, {_clock(elapsed)} elapsed, about {eta_text} left"
            )
        return f"{self.description}: {done:,}{unit} done{rate}, {_clock(elapsed)} elapsed"

    def _write(self, text: str) -> None:
        if self.echo:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        _state.log_line(text)

    def __call__(self, done: int, total: int | None) -> None:
        self.state = (done, total)
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self.printed = self.state
            self._write(self.line(done, total))

    def finish(self) -> None:
        """The milestone line at the end of the work: counts, time and rate."""
        if self.state is not None and self.state[0] > 0:
            self._write(self.line(*self.state, final=True))


def milestone(text: str, *, quiet: bool) -> None:
    """A line marking a step of the work (an epoch, a demo step): on stdout unless
    `quiet`, and in the ``--log-file``."""
    if not quiet:
        console.print(text, highlight=False)
    elif _state.log_file is not None:
        _state.log_line(text)


@contextlib.contextmanager
def progress_bar(description: str, *, quiet: bool, unit: str = "") -> Iterator[ProgressCallback]:
    """Yield a progress callback ``(done, total)`` counting `unit` (variants, windows...).

    On a terminal's stderr: a rich bar with the count, elapsed time and ETA. Otherwise (a
    cluster log, a pipe): a plain line at most every `LOG_INTERVAL_S` seconds and one
    when the work is done. `quiet` silences both; the ``--log-file`` gets the plain lines
    either way. Nothing is printed for work that fails.
    """
    terminal = err_console.is_terminal
    lines = _LogLines(description, LOG_INTERVAL_S, unit=unit, echo=not quiet and not terminal)
    if quiet or not terminal:
        yield lines
        lines.finish()
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)
            lines(done, total)

        yield update
    lines.finish()
