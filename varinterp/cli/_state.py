"""Process-wide CLI state set by option callbacks: --verbose and --log-file."""

from __future__ import annotations

from pathlib import Path

verbose = False
#: Where progress and summary lines are appended (``--log-file``), or None.
log_file: Path | None = None


def set_verbose(value: bool) -> bool:
    global verbose
    verbose = bool(value)
    return value


def set_log_file(path: Path | None) -> None:
    global log_file
    log_file = None if path is None else Path(path)


def log_line(text: str) -> None:
    """Append `text` (one line) to the ``--log-file``, when one was given."""
    if log_file is not None:
        with log_file.open("a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")
