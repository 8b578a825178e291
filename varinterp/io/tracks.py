"""The one track table: per-cell-type (or per-library) signal files, one row per library.

Every command that takes tracks per cell type or per library reads this table
(``docs/tracks.md``), and every command that writes such tracks writes it:

=====================  ===================================================================
column                 meaning
=====================  ===================================================================
``cell_type``          the cell type (or condition); rows sharing one are replicates
``library``            optional: the library's own name (default: the cell type,
                       numbered ``_2``, ``_3`` ... when a cell type has several rows)
``sample``             optional: the genome-store sample the library was measured in
``plus``               signal bigWig: plus strand, or unstranded (PRO-cap initiation, or
                       any signal)
``minus``              optional: minus-strand bigWig (values may be negative)
``depth``              optional: the library's total count (CPM / RPM); default: the
                       tracks' total absolute signal
``accessibility``      optional: the cell type's accessibility (ATAC/DNase) bigWig, or a
                       per-element count bedGraph
``accessibility_depth`` optional: its total (fragments); needed for a count bedGraph
``h3k27ac``            optional: H3K27ac bigWig or count bedGraph
``h3k27ac_depth``      optional: its total
``reads``              optional: the library's read count, for the count test of
                       ``elements call`` on tracks not in read counts (e.g. RPM)
``accessibility_tss``  optional: a count bedGraph of the accessibility over the genes'
                       TSS +- 500 bp (ABC's promoter activity, for count files)
``h3k27ac_tss``        optional: the same for H3K27ac
``expression``         optional: a TSV (gene, expression) of the cell type's genes (ABC)
``color``              optional: a display colour
=====================  ===================================================================

Paths may be relative to the table's folder. Other columns are kept. Tables written by
earlier releases are read too, for one release: ``path``, ``plus_bigwig`` and
``initiation`` are read as ``plus``; ``minus_bigwig`` and ``initiation_minus`` as
``minus``; ``total`` as ``depth``; ``accessibility_total`` and ``h3k27ac_total`` as
``*_depth``; ``task`` as ``cell_type``; ``bigwig`` and ``library_size`` (the former
context-track table) as ``accessibility`` and ``accessibility_depth``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from varinterp.errors import InputError
from varinterp.io.tables import resolve_path

__all__ = [
    "COLUMNS",
    "FILE_COLUMNS",
    "context_tracks",
    "read_track_table",
    "write_track_table",
]

#: The columns of the track table, in the order they are written.
COLUMNS = (
    "cell_type",
    "library",
    "sample",
    "plus",
    "minus",
    "depth",
    "accessibility",
    "accessibility_depth",
    "h3k27ac",
    "h3k27ac_depth",
    "reads",
    "accessibility_tss",
    "h3k27ac_tss",
    "expression",
    "color",
)
#: Columns holding file paths (resolved against the table's folder when read).
FILE_COLUMNS = (
    "plus",
    "minus",
    "accessibility",
    "h3k27ac",
    "accessibility_tss",
    "h3k27ac_tss",
    "expression",
)
_NUMBER_COLUMNS = ("depth", "accessibility_depth", "h3k27ac_depth", "reads")
_FORMER = {
    "path": "plus",
    "plus_bigwig": "plus",
    "initiation": "plus",
    "minus_bigwig": "minus",
    "initiation_minus": "minus",
    "total": "depth",
    "accessibility_total": "accessibility_depth",
    "h3k27ac_total": "h3k27ac_depth",
    "task": "cell_type",
    "bigwig": "accessibility",
    "library_size": "accessibility_depth",
}


def read_track_table(
    path: str | os.PathLike,
    *,
    require: Sequence[str] = ("cell_type", "plus"),
    what: str = "track table",
) -> pd.DataFrame:
    """The track table at `path` with the columns of `COLUMNS` (module docstring).

    Every column of `require` must be present and filled in on every row. File columns
    come back as absolute paths (``""`` when empty) and must exist; number columns as
    floats (NaN when empty); ``library`` is filled in. Former column names are renamed.
    """
    path = Path(path)
    raw = _read(path, what)
    renamed = {c: _FORMER[c] for c in raw.columns if c in _FORMER and _FORMER[c] not in raw}
    table = raw.rename(columns=renamed)
    if "cell_type" not in table and "library" in table:
        table["cell_type"] = table["library"]
    missing = [c for c in require if c not in table.columns]
    if missing:
        msg = (
            f"{what} {path} lacks column(s) {', '.join(missing)} (has "
            f"{', '.join(raw.columns)}); the track table's columns are in docs/tracks.md"
        )
        raise InputError(msg)
    for column in COLUMNS:
        if column not in table:
            table[column] = ""
    for i, row in table.iterrows():
        line = int(i) + 2
        for column in require:
            if not str(row[column]).strip():
                msg = f"{what} {path}, line {line}: {column} is empty"
                raise InputError(msg)
        for column in FILE_COLUMNS:
            value = str(row[column]).strip()
            if not value:
                continue
            file = resolve_path(value, path).absolute()
            if not file.is_file():
                msg = f"{what} {path}, line {line}: {column} {file} does not exist"
                raise InputError(msg)
            table.at[i, column] = str(file)
    for column in _NUMBER_COLUMNS:
        numbers = pd.to_numeric(table[column].replace("", None), errors="coerce")
        bad = table[column].ne("") & numbers.isna()
        if bad.any():
            line = int(bad.to_numpy().nonzero()[0][0]) + 2
            msg = f"{what} {path}, line {line}: {column} is not a number"
            raise InputError(msg)
        table[column] = numbers.astype(float)
    table["cell_type"] = table["cell_type"].astype(str).str.strip()
    if not table["library"].astype(bool).all():
        table["library"] = _library_names(table)
    return table


def _read(path: Path, what: str) -> pd.DataFrame:
    """The table's cells as text; ``#`` starts a comment only at the start of a line (a
    colour like ``#ff0000`` is a value)."""
    import io

    if not path.is_file():
        msg = f"{what} {path} does not exist; check the path"
        raise InputError(msg)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"{what} {path} is not a text table (tab-separated, with a header)"
        raise InputError(msg) from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) < 2:
        msg = f"{what} {path} has no rows; it needs a header line and one row per library"
        raise InputError(msg)
    try:
        table = pd.read_csv(io.StringIO("\n".join(lines)), sep="\t", dtype=str,
                            keep_default_na=False)  # fmt: skip
    except pd.errors.ParserError as exc:
        msg = f"{what} {path} is not a tab-separated table with a header ({exc})"
        raise InputError(msg.splitlines()[0]) from None
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _library_names(table: pd.DataFrame) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for given, cell_type in zip(table["library"], table["cell_type"], strict=True):
        if given:
            names.append(given)
            continue
        seen[cell_type] = seen.get(cell_type, 0) + 1
        names.append(cell_type if seen[cell_type] == 1 else f"{cell_type}_{seen[cell_type]}")
    return names


def write_track_table(rows: Sequence[dict[str, Any]], path: str | os.PathLike) -> Path:
    """Write `rows` (dicts keyed by `COLUMNS`, plus any extra columns) as a track table.

    Only the columns some row fills are written, in `COLUMNS` order, then the extras.
    File paths are written as given (relative ones are read from the table's folder).
    """
    from varinterp.io.atomic import atomic_write_text

    extras = [k for row in rows for k in row if k not in COLUMNS]
    used = [c for c in COLUMNS if any(row.get(c) not in (None, "") for row in rows)]
    columns = used + list(dict.fromkeys(extras))
    lines = ["\t".join(columns)]
    for row in rows:
        lines.append("\t".join(_cell(row.get(c)) for c in columns))
    return atomic_write_text(Path(path), "\n".join(lines) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def context_tracks(path: str | os.PathLike) -> tuple[dict[str, Path], dict[str, Any]]:
    """``(cell type -> accessibility bigWig, options)`` for a model that reads tracks.

    ``options["library_sizes"]`` (cell type -> float) is set from
    ``accessibility_depth`` when the table has it (for every row).
    """
    table = read_track_table(path, require=("cell_type", "accessibility"), what="context tracks")
    if table["cell_type"].duplicated().any():
        name = table.loc[table["cell_type"].duplicated(), "cell_type"].iloc[0]
        msg = f"context tracks {path}: cell type {name!r} has several rows; give one each"
        raise InputError(msg)
    tracks = {ct: Path(p) for ct, p in zip(table["cell_type"], table["accessibility"], strict=True)}
    options: dict[str, Any] = {}
    depth = table["accessibility_depth"]
    if depth.notna().any():
        if depth.isna().any():
            missing = ", ".join(table.loc[depth.isna(), "cell_type"])
            msg = f"context tracks {path}: accessibility_depth is empty for {missing}"
            raise InputError(msg)
        options["library_sizes"] = dict(zip(table["cell_type"], depth.astype(float), strict=True))
    return tracks, options
