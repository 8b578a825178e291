"""Tab-separated tables with a header: reading with checks, paths relative to a table.

Sample sheets, track lists, oligo tables and the like are TSVs whose first line names the
columns (``#`` lines skipped). Cells come back as ``str`` (empty cells as ``""``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from varinterp.errors import InputError
from varinterp.io.readers import reading

__all__ = ["read_table", "resolve_path"]


def read_table(path: str | os.PathLike, *, required: Sequence[str], what: str) -> pd.DataFrame:
    """Read a TSV with a header and check it has the `required` columns and rows.

    `what` names the table in errors (e.g. ``"sample sheet"``). A missing file, a file
    that is not a table, missing columns (the message lists the columns found) or no rows
    is an `InputError`. Column names are stripped of surrounding spaces.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{what} {path} does not exist; check the path"
        raise InputError(msg)
    with reading(path, what):
        try:
            table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
        except pd.errors.EmptyDataError:
            msg = f"{what} {path} is empty; it needs a header line with {', '.join(required)}"
            raise InputError(msg) from None
        except pd.errors.ParserError as exc:
            msg = f"{what} {path} is not a tab-separated table with a header ({exc})"
            raise InputError(msg.splitlines()[0]) from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        msg = (
            f"{what} {path} lacks column(s) {', '.join(missing)} (has "
            f"{', '.join(table.columns)}); its tab-separated header needs "
            f"{', '.join(required)}"
        )
        raise InputError(msg)
    if table.empty:
        msg = f"{what} {path} has a header but no rows"
        raise InputError(msg)
    return table


def resolve_path(value: str, table_path: str | os.PathLike) -> Path:
    """`value` as a path; a relative path is taken from the table's own folder."""
    p = Path(value)
    return p if p.is_absolute() else Path(table_path).parent / p
